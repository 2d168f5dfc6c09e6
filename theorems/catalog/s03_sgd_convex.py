"""Section 3: stochastic gradient descent on convex losses."""
from __future__ import annotations

import sympy as sp

from theorems.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.symbols import D, G, T, eta, sum_subopt

T3_2 = Spec(
    id="T3.2",
    title="SGD on convex losses with G-Lipschitz stochastic losses",
    source=Source(section="3", line=305),
    statement=("Suppose L is convex and l(w, z) is G-Lipschitz, ||w1 - w*|| <= D, eta = D/(G sqrt(T)). "
               "Then E[sum_{t=1}^T L(w_t) - L(w*)] <= D G sqrt(T), and for w_hat uniform on w_1..w_T, "
               "E[L(w_hat) - L(w*)] <= D G / sqrt(T)."),
    assumptions=frozenset({"cvx", "bdd", "minimizer"}),
    settings=(Setting("tuned", "SGD", hyper={"eta": D / (G * sp.sqrt(T))}, noise=("sphere",)),),
    claims=(
        Claim("expected-sum-suboptimality", "expect", sum_subopt, D * G * sp.sqrt(T), "tuned",
              "E[sum_{t=1}^T L(w_t) - L(w*)] <= D G sqrt(T)"),
        Claim("random-iterate", "expect", sum_subopt / T, D * G / sp.sqrt(T), "tuned",
              "E[L(w_hat) - L(w*)] <= D G / sqrt(T), w_hat uniform on w_1..w_T"),
    ),
    proof_steps=(
        ProofStep("eta = D/(G sqrt T) turns D^2/(2 eta) + eta T G^2/2 into D G sqrt(T)",
                  D ** 2 / (2 * eta) + eta * T * G ** 2 / 2, D * G * sp.sqrt(T), {eta: D / (G * sp.sqrt(T))}),
    ),
)

SPECS = (T3_2,)
