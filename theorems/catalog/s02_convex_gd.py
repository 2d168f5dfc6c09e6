"""Section 2: gradient descent on convex Lipschitz losses."""
from __future__ import annotations

import sympy as sp

from theorems.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.symbols import D, G, T, eta, sum_subopt

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

SPECS = (T2_4,)
