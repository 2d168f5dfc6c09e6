"""Appendix B: convexity of twice-differentiable functions (Proposition B.1)."""
from __future__ import annotations

from theorems.language.spec import Claim, Setting, Source, Spec
from theorems.language.symbols import L_w, L_wv, Lstar, curv_v, inner_grad_v

PB_1 = Spec(
    id="PB.1",
    title="A twice-differentiable function is convex iff its Hessian is positive semi-definite",
    source=Source(section="B", line=4089),
    statement=("Suppose L is twice differentiable. Then L is convex if and only if Hess L(w) >= 0 for all w. On the "
               "convex smooth families (twice differentiable almost everywhere; the non-smooth "
               "convex families have no Hessian) both characterisations are checked at sampled w and v: <v, Hess L(w) v> >= 0 and the "
               "first-order condition of Definition 2.1, L(w + v) >= L(w) + <grad L(w), v>. Nothing is claimed for "
               "non-convex families; tests/test_function_class_specs.py shows that both claims fail on cosine wells."),
    assumptions=frozenset({"cvx", "smooth"}),
    settings=(Setting("points", "pointwise"),),
    claims=(
        Claim("hessian-psd", "sure", -curv_v, 0, "points",
              "<v, Hess L(w) v> >= 0 at every sampled w and direction v"),
        Claim("first-order", "sure", L_w - Lstar + inner_grad_v, L_wv - Lstar, "points",
              "L(w) + <grad L(w), v> <= L(w + v) at every sampled w and v (both sides shifted by L* = inf L)"),
    ),
)

SPECS = (PB_1,)
