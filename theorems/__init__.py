"""theorycheck's spec language, checker and catalog (DESIGN.md, theorems/).

The Python API for notebooks and your own test suites::

    import theorems
    result = theorems.check(theorems.lookup("T5.8"), algorithm="torch.optim.SGD", options={"momentum": 0.9})
    [(c.name, c.verdict, c.tightness) for c in result.claims]

Register your own result with ``theorems.register(Spec(...))`` (see README, "Adding a theorem").
The names below are imported on first use, so that ``import theorems`` (and the start of the
``theorycheck`` command) costs nothing until they are needed.
"""
from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "CATALOG": "theorems.catalog", "UnknownResultError": "theorems.catalog", "lookup": "theorems.catalog",
    "register": "theorems.catalog",
    "CheckResult": "theorems.engine.checker", "ClaimResult": "theorems.engine.checker",
    "check": "theorems.engine.checker",
    "PROFILES": "theorems.engine.profiles", "Profile": "theorems.engine.profiles",
    "Claim": "theorems.language.spec", "ProofStep": "theorems.language.spec", "Setting": "theorems.language.spec",
    "Source": "theorems.language.spec", "Spec": "theorems.language.spec", "SpecError": "theorems.language.spec",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    """The public name ``name``, imported from its module on first use (PEP 562)."""
    if name not in _HOMES:
        raise AttributeError(f"module 'theorems' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
