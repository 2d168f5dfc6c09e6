"""Section 22: stochastic strongly convex optimisation (T22.1) and the proximal scheme for
gamma-almost-convex losses (S22.1).

T22.1 projects onto ||w|| <= D with ||w*|| <= D; the algorithm (algorithms/projected_sgd.py) projects
onto the ball of radius D around w_1 (the same, in coordinates centred at w_1; D >= ||w_1 - w*|| is
certified). Its G bounds E||grad l(w, z)||^2 on that ball: under the Gaussian and sphere oracles
E||g||^2 = ||grad L(w)||^2 + sigma^2 exactly, and ||grad L(w)|| <= H ||w - w*|| <= 2 H D on the ball,
so G^2 = sigma^2 + 4 H^2 D^2 (attained when the Hessian is H I).

Findings:
- T22.1 states (1/T) sum_t E[L(w_t) - L*] <= G^2 (log T + 1)/(2 mu), but its proof bounds the sum
  itself by G^2 (log T + 1)/(2 mu) (the O(log T/(mu T)) average announced before it). The statement
  as written holds (it is T times weaker); the proof's claim is encoded next to it and holds too.
"""
from __future__ import annotations

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import D, H, T, mu, sigma, sum_subopt, t

_G2 = sigma ** 2 + 4 * H ** 2 * D ** 2  # the certified G^2 on the ball (module docstring)
_RATE = _G2 * (sp.log(T) + 1) / (2 * mu)
_f = sp.Function("f")

T22_1 = Spec(
    id="T22.1",
    title="Projected SGD with eta_t = 1/(mu t) on strongly convex losses",
    source=Source(section="22", line=3136),
    statement=("Suppose L = E l(., z) is mu-strongly convex, ||w*|| <= D and E||grad l(w, z)||^2 <= G^2 for all "
               "||w|| <= D. Projected SGD w_{t+1} = Pi_{||w|| <= D}[w_t - eta_t grad l(w_t, z_t)] with eta_t = "
               "1/(mu t) satisfies (1/T) sum_{t=1}^T E[L(w_t) - L(w*)] <= G^2 (log T + 1)/(2 mu). Encoded with the "
               "ball centred at w_1 (radius D = ||w_1 - w*||, certified) and G^2 = sigma^2 + 4 H^2 D^2."),
    assumptions=frozenset({"sc", "smooth", "minimizer", "var"}),
    settings=(Setting("eta-1/(mu t)", "ProjectedSGD", hyper={"eta": 1 / (mu * t), "radius": D},
                      noise=("gaussian",)),),
    claims=(
        Claim("average-as-written", "expect", sum_subopt / T, _RATE, "eta-1/(mu t)",
              "(1/T) sum_{t=1}^T E[L(w_t) - L(w*)] <= G^2 (log T + 1)/(2 mu)"),
        Claim("sum", "expect", sum_subopt, _RATE, "eta-1/(mu t)",
              "the proof's result: sum_{t=1}^T E[L(w_t) - L(w*)] <= G^2 (log T + 1)/(2 mu)"),
    ),
    proof_steps=(
        ProofStep("with eta_t = 1/(mu t): 1/(2 eta_t) - mu/2 = (t - 1) mu/2", 1 / (2 * (1 / (mu * t))) - mu / 2,
                  (t - 1) * mu / 2),
        ProofStep("the terms (t - 1) mu/2 d_t - t mu/2 d_{t+1} telescope to -T mu/2 d_{T+1} (T = 6)",
                  sum((k - 1) * _f(k) - k * _f(k + 1) for k in range(1, 7)), -6 * _f(7)),
    ),
)

SPECS = (T22_1,)
