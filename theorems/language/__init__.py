"""The spec language (DESIGN.md, theorems/): what a claim *is* and how its bound is evaluated.

``spec`` (Spec, Setting, Claim, ProofStep), ``symbols`` (the names a claim may use),
``expressions`` (parsing user text without eval), ``evaluate`` (a sympy bound on torch tensors),
``function_classes`` (the pointwise quantities of the function classes). Imports nothing of the
other rooms (tests/test_layout.py).
"""
