"""Load a user's algorithm (``module:object`` or a dotted path) with its options, and parse
hyper-parameter overrides given on the command line."""
from __future__ import annotations

import ast
import functools
import importlib
import os
import sys
from typing import Any, Callable, Iterable, Mapping

import sympy as sp
import torch

from algorithms import ALGORITHMS, ProtocolError, torch_optimizer
from theorems.language.expressions import ExpressionError, parse_expression


class AlgorithmLoadError(ValueError):
    """``module:object`` does not import or does not give an algorithm factory."""


def load_algorithm(reference: str, options: Mapping[str, Any] | None = None) -> Callable[..., Any]:
    """The algorithm factory named by ``reference``: a built-in name (e.g. ``GD``),
    ``module:object`` or a dotted path ``package.module.object``, where object is a factory
    (class or function called with the theorem's hyper-parameters, e.g. ``eta``) or a
    ``torch.optim.Optimizer`` subclass. ``options`` are fixed keyword arguments: passed to the
    optimizer's constructor (e.g. ``momentum``) or to the factory with the hyper-parameters."""
    options = dict(options or {})
    if reference in ALGORITHMS:
        factory = ALGORITHMS[reference]
        return functools.partial(factory, **options) if options else factory
    module_name, sep, attribute = reference.partition(":")
    if not sep:
        module_name, _, attribute = reference.rpartition(".")
    if not module_name or not attribute:
        raise AlgorithmLoadError(f"algorithm {reference!r} is not 'module:object', a dotted path nor a built-in "
                                 f"({', '.join(sorted(ALGORITHMS))})")
    obj: Any = load_module(module_name)
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise AlgorithmLoadError(f"module {module_name!r} has no attribute {attribute!r}")
        obj = getattr(obj, part)
    if isinstance(obj, type) and issubclass(obj, torch.optim.Optimizer):
        if "lr" in options:
            raise AlgorithmLoadError(f"--option lr: {reference}'s learning rate is the theorem's step size eta, set "
                                     "per instance; change it with --hyper 'eta=EXPR' instead")
        return torch_optimizer(obj, **options)
    if not callable(obj):
        raise AlgorithmLoadError(f"{reference} is a {type(obj).__name__}, not an algorithm factory "
                                 "(a class or function taking hyper-parameters such as eta)")
    return functools.partial(obj, **options) if options else obj


def imports_code(reference: str) -> bool:
    """Whether loading ``reference`` would import a module that is neither built in nor torch:
    true for anything but a built-in name (``algorithms.ALGORITHMS``) and a public
    ``torch.optim`` optimizer class (``torch.optim.SGD`` or ``torch.optim:SGD``)."""
    if reference in ALGORITHMS:
        return False
    module_name, sep, attribute = reference.partition(":")
    if not sep:
        module_name, _, attribute = reference.rpartition(".")
    if module_name != "torch.optim" or not attribute.isidentifier() or attribute.startswith("_"):
        return True
    obj = getattr(torch.optim, attribute, None)
    return not (isinstance(obj, type) and issubclass(obj, torch.optim.Optimizer))


def load_module(name: str) -> Any:
    """Import a user's module; modules in the working directory import, as with ``python -m``."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(name)
    except (Exception, SystemExit) as exc:  # any import-time failure of user code is a usage error
        raise AlgorithmLoadError(f"cannot import module {name!r}: {type(exc).__name__}: {exc}") from None


def parse_assignments(items: Iterable[str], what: str) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``, with a clear error for a malformed item."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier() or not value.strip():
            raise AlgorithmLoadError(f"{what} {item!r} is not NAME=VALUE")
        out[name.strip()] = value.strip()
    return out


#: Spellings of booleans and None on a command line (``--option nesterov=true``), case-insensitive.
_WORDS = {"true": True, "false": False, "none": None}


def parse_options(items: Iterable[str]) -> dict[str, Any]:
    """``--option momentum=0.9 --option betas=(0.9,0.99) --option nesterov=true``: Python literals,
    true/false/none in any case, strings otherwise (a string "false" would be truthy)."""
    options: dict[str, Any] = {}
    for name, text in parse_assignments(items, "--option").items():
        if text.lower() in _WORDS:
            options[name] = _WORDS[text.lower()]
            continue
        try:
            options[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            options[name] = text
    return options


def parse_hyper(text: str, allowed: Iterable[str], context: str) -> sp.Expr:
    """A hyper-parameter override such as ``1/(3*H)``: an expression of ``allowed`` symbols,
    parsed as data (theorems/language/expressions.py), never evaluated as Python."""
    try:
        return parse_expression(text, sorted(set(allowed)))
    except ExpressionError as exc:
        raise AlgorithmLoadError(f"{context}: {exc}") from None


def build_algorithm(reference: str, options: Mapping[str, Any], hyper: Mapping[str, Any], variant: bool,
                    context: str) -> Any:
    """``load_algorithm(reference, options)(**hyper)``, checked to follow the protocol. A variant's
    failures (``variant``: the user named the algorithm) are ProtocolErrors (exit 2) naming
    ``context`` (e.g. "the hyper-parameters of T5.8"); a built-in's propagate."""
    factory = load_algorithm(reference, options)
    try:
        algorithm = factory(**hyper)
    except TypeError as exc:
        raise ProtocolError(f"algorithm factory {reference} cannot be called with {context} "
                            f"({', '.join(sorted(hyper))}): {exc}") from None
    except (Exception, SystemExit) as exc:
        if not variant:
            raise
        raise ProtocolError(f"algorithm factory {reference} raised {type(exc).__name__} when called with {context} "
                            f"({', '.join(sorted(hyper))}; each a tensor with one value per instance, or a schedule "
                            f"t -> tensor): {exc}") from None
    if not (hasattr(algorithm, "init") and hasattr(algorithm, "step")):
        raise ProtocolError(f"{reference}(...) returned a {type(algorithm).__name__}, which has no init/step methods "
                            "(see algorithms/protocol.py)")
    return algorithm
