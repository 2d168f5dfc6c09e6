"""Load a user's algorithm from ``module:object`` and check it follows the protocol."""
from __future__ import annotations

import importlib
import os
import sys
from typing import Any, Callable

import torch

from algorithms import ALGORITHMS, torch_optimizer


class AlgorithmLoadError(ValueError):
    """``module:object`` does not import or does not give an algorithm factory."""


def load_algorithm(reference: str) -> Callable[..., Any]:
    """The algorithm factory named by ``reference``: a built-in name (e.g. ``GD``) or
    ``module:object`` where object is a factory (class or function called with the theorem's
    hyper-parameters, e.g. ``eta``) or a ``torch.optim.Optimizer`` subclass."""
    if reference in ALGORITHMS:
        return ALGORITHMS[reference]
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise AlgorithmLoadError(f"algorithm {reference!r} is not 'module:object' nor a built-in "
                                 f"({', '.join(sorted(ALGORITHMS))})")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # like `python -m`: modules in the working directory import
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any import-time failure of user code is a usage error
        raise AlgorithmLoadError(f"cannot import module {module_name!r}: {type(exc).__name__}: {exc}") from None
    obj: Any = module
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise AlgorithmLoadError(f"module {module_name!r} has no attribute {attribute!r}")
        obj = getattr(obj, part)
    if isinstance(obj, type) and issubclass(obj, torch.optim.Optimizer):
        return torch_optimizer(obj)
    if not callable(obj):
        raise AlgorithmLoadError(f"{reference} is a {type(obj).__name__}, not an algorithm factory "
                                 "(a class or function taking hyper-parameters such as eta)")
    return obj
