"""Section 22: stochastic strongly convex optimisation and almost convexity (T22.1, S22.1)."""
from __future__ import annotations

SPECS = ()
