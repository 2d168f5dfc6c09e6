"""Section 21: strong convexity."""
from __future__ import annotations

import sympy as sp

from theorems.language.spec import Claim, Setting, Source, Spec
from theorems.language.symbols import H, L1, L_next, L_w, Lstar, dist_sq_w, grad_sq_w, mu, t

L21_5 = Spec(
    id="L21.5",
    title="Strong convexity: suboptimality is bounded by the squared gradient",
    source=Source(section="21", line=3018),
    statement="Suppose L is mu-strongly convex. Then for all w, L(w) - L(w*) <= ||grad L(w)||^2 / (2 mu).",
    assumptions=frozenset({"sc", "minimizer"}),
    settings=(Setting("points", "pointwise"),),
    claims=(
        Claim("suboptimality-bound", "sure", L_w - Lstar, grad_sq_w / (2 * mu), "points",
              "L(w) - L(w*) <= ||grad L(w)||^2 / (2 mu)"),
    ),
)

T21_6 = Spec(
    id="T21.6",
    title="Gradient descent on strongly convex smooth losses converges linearly",
    source=Source(section="21", line=3042),
    statement=("Suppose L is mu-strongly convex and H-smooth. Then gradient descent with eta = 1/H guarantees "
               "L(w_{t+1}) - L(w*) <= exp(-mu t / H) (L(w_1) - L(w*))."),
    assumptions=frozenset({"sc", "smooth", "minimizer"}),
    settings=(Setting("eta-1/H", "GD", hyper={"eta": 1 / H}),),
    claims=(
        Claim("linear-rate", "sure", L_next - Lstar, sp.exp(-mu * t / H) * (L1 - Lstar), "eta-1/H",
              "L(w_{t+1}) - L(w*) <= exp(-mu t/H) (L(w_1) - L(w*)) for every t = 1..T"),
    ),
)

L21_8 = Spec(
    id="L21.8",
    title="Strong convexity: suboptimality controls the distance to the minimiser",
    source=Source(section="21", line=3062),
    statement="Suppose L is mu-strongly convex. Then for all w, L(w) - L(w*) >= mu/2 ||w - w*||^2.",
    assumptions=frozenset({"sc", "minimizer"}),
    settings=(Setting("points", "pointwise"),),
    claims=(
        Claim("quadratic-growth", "sure", mu / 2 * dist_sq_w, L_w - Lstar, "points",
              "mu/2 ||w - w*||^2 <= L(w) - L(w*)"),
    ),
)

SPECS = (L21_5, T21_6, L21_8)
