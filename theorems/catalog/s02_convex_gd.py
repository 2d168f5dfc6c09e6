"""Section 2: gradient descent on convex Lipschitz losses."""
from __future__ import annotations

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import D, G, L_w, L_wv, T, eta, grad_sq_w, sum_subopt, v_sq

P2_3 = Spec(
    id="P2.3",
    title="A differentiable function is G-Lipschitz iff its gradient is bounded by G",
    source=Source(section="2", line=184),
    statement="If L is differentiable, then L is G-Lipschitz if and only if ||grad L(x)|| <= G for all x.",
    assumptions=frozenset({"lip"}),
    settings=(Setting("points", "pointwise"),),
    claims=(
        Claim("gradient-bounded", "sure", grad_sq_w, G ** 2, "points",
              "||grad L(w)||^2 <= G^2 at every sampled w (the certified G bounds the gradient)"),
        Claim("lipschitz", "sure", sp.Abs(L_wv - L_w), G * sp.sqrt(v_sq), "points",
              "|L(w + v) - L(w)| <= G ||v|| for every sampled w and v (bounded gradient implies Lipschitz)"),
    ),
)

T2_4 = Spec(
    id="T2.4",
    title="Gradient descent on convex G-Lipschitz losses",
    source=Source(section="2", line=206),
    statement=("Suppose L is G-Lipschitz and convex, ||w* - w1|| <= D, eta = D/(G sqrt(T)). Then "
               "sum_{t=1}^T L(w_t) - L(w*) <= G D sqrt(T); for w_hat uniform on w_1..w_T, "
               "E[L(w_hat) - L(w*)] <= G D / sqrt(T)."),
    assumptions=frozenset({"cvx", "lip", "minimizer"}),
    settings=(Setting("tuned", "GD", hyper={"eta": D / (G * sp.sqrt(T))}),),
    claims=(
        Claim("sum-suboptimality", "sure", sum_subopt, G * D * sp.sqrt(T), "tuned",
              "sum_{t=1}^T L(w_t) - L(w*) <= G D sqrt(T)"),
        Claim("random-iterate", "sure", sum_subopt / T, G * D / sp.sqrt(T), "tuned",
              "E_{w_hat ~ U(w_1..w_T)}[L(w_hat) - L(w*)] <= G D / sqrt(T) (the expectation over w_hat is the average)"),
    ),
    proof_steps=(
        ProofStep("eta = D/(G sqrt T) turns D^2/(2 eta) + eta T G^2/2 into G D sqrt(T)",
                  D ** 2 / (2 * eta) + eta * T * G ** 2 / 2, G * D * sp.sqrt(T), {eta: D / (G * sp.sqrt(T))}),
    ),
)

SPECS = (P2_3, T2_4)
