"""Section 13: faster rates for smooth convex losses."""
from __future__ import annotations

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import D, H, L_w, Lstar, T, avg_iterate_subopt, eta, grad_sq_w, sum_subopt

L13_2 = Spec(
    id="L13.2",
    title="Small suboptimality implies a small gradient for smooth functions",
    source=Source(section="13", line=1925),
    statement="Suppose L: R^d -> R is H-smooth. Then for any w, ||grad L(w)||^2 / (2H) <= L(w) - L(w*).",
    assumptions=frozenset({"smooth", "lb"}),
    settings=(Setting("points", "pointwise"),),
    claims=(
        Claim("gradient-bound", "sure", grad_sq_w / (2 * H), L_w - Lstar, "points",
              "||grad L(w)||^2/(2H) <= L(w) - L(w*), with L(w*) = inf L"),
    ),
)

T13_3 = Spec(
    id="T13.3",
    title="Gradient descent on smooth convex losses: O(1/T)",
    source=Source(section="13", line=1945),
    statement=("Suppose L is H-smooth and convex, eta = 1/(2H). Then sum_{t=1}^T L(w_t) - L(w*) <= "
               "2H ||w* - w1||^2; with w_hat = (1/T) sum_t w_t, L(w_hat) - L(w*) <= 2H ||w* - w1||^2 / T."),
    assumptions=frozenset({"cvx", "smooth", "minimizer"}),
    settings=(Setting("eta-1/(2H)", "GD", hyper={"eta": 1 / (2 * H)}),),
    claims=(
        Claim("sum-suboptimality", "sure", sum_subopt, 2 * H * D ** 2, "eta-1/(2H)",
              "sum_{t=1}^T L(w_t) - L(w*) <= 2H ||w* - w1||^2"),
        Claim("averaged-iterate", "sure", avg_iterate_subopt, 2 * H * D ** 2 / T, "eta-1/(2H)",
              "L((1/T) sum_t w_t) - L(w*) <= 2H ||w* - w1||^2 / T"),
    ),
    proof_steps=(
        ProofStep("eta = 1/(2H) turns ||w* - w1||^2/(2 eta) into H ||w* - w1||^2", D ** 2 / (2 * eta), H * D ** 2,
                  {eta: 1 / (2 * H)}),
        ProofStep("eta = 1/(2H) turns (eta/2) 2H into 1/2", eta / 2 * 2 * H, 0.5, {eta: 1 / (2 * H)}),
    ),
)

SPECS = (L13_2, T13_3)
