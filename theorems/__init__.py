"""theorycheck's spec language, checker and catalog (DESIGN.md, theorems/).

The Python API for notebooks and your own test suites::

    import theorems
    result = theorems.check(theorems.lookup("T5.8"), algorithm="torch.optim.SGD", options={"momentum": 0.9})
    [(c.name, c.verdict, c.tightness) for c in result.claims]

Register your own result with ``theorems.register(Spec(...))`` (see README, "Adding a theorem").
"""
from theorems.catalog import CATALOG, UnknownResultError, lookup, register
from theorems.checker import CheckResult, ClaimResult, check
from theorems.profiles import PROFILES, Profile
from theorems.spec import Claim, ProofStep, Setting, Source, Spec, SpecError

__all__ = [
    "CATALOG", "PROFILES", "CheckResult", "Claim", "ClaimResult", "Profile", "ProofStep", "Setting", "Source",
    "Spec", "SpecError", "UnknownResultError", "check", "lookup", "register",
]
