"""Section 13: faster rates for smooth convex losses."""
from __future__ import annotations

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import (D, H, L_w, Lstar, T, avg_iterate_subopt, c, eta, grad_sq_w, sum_grad_sq,
                                       sum_subopt)

# one step of the proof of T13.1 along a line: x = w_t - w*, g = grad L(w_t), x' = w_{t+1} - w* = x - eta g
_x, _g = sp.symbols("x_t g_t", real=True)

T13_1 = Spec(
    id="T13.1",
    title="The gradient-descent inequality for any differentiable loss, and its convex form",
    source=Source(section="13", line=1899),
    statement=("Suppose L is any differentiable function. Then gradient descent with learning rate eta guarantees "
               "sum_{t=1}^T <grad L(w_t), w_t - w*> <= ||w* - w1||^2/(2 eta) + (eta/2) sum_{t=1}^T ||grad L(w_t)||^2. "
               "If L is also convex: sum_{t=1}^T L(w_t) - L(w*) <= ||w* - w1||^2/(2 eta) + (eta/2) sum_t "
               "||grad L(w_t)||^2. No step-size condition: eta = c/H with c in [0.01, 4], so divergent runs "
               "(c > 2) are included, as far as float64 holds them: ||w_t - w*|| <= max(1, c - 1)^t D for gradient "
               "descent on a convex H-smooth loss, and instances with max(1, c - 1)^T > 1e100 are left out. The catalog checks the convex form (the trace records losses and gradient "
               "norms, not <grad L(w_t), w_t - w*>); tests/test_accelerated_specs.py checks the first form on "
               "non-convex families, with its slack ||w_{T+1} - w*||^2/(2 eta)."),
    assumptions=frozenset({"cvx", "smooth", "minimizer"}),
    settings=(Setting("any-step", "GD", hyper={"eta": c / H}, free={"c": (0.01, 4.0)}),),
    claims=(
        Claim("convex-form", "sure", sum_subopt, D ** 2 / (2 * eta) + eta / 2 * sum_grad_sq, "any-step",
              "sum_t L(w_t) - L(w*) <= ||w* - w1||^2/(2 eta) + (eta/2) sum_t ||grad L(w_t)||^2, any eta > 0",
              when=sp.Max(1, c - 1) ** T <= sp.Float(1e100)),
    ),
    proof_steps=(
        ProofStep("||w_{t+1} - w*||^2 = ||w_t - w*||^2 - 2 eta <g_t, w_t - w*> + eta^2 ||g_t||^2", (_x - eta * _g) ** 2,
                  _x ** 2 - 2 * eta * _g * _x + eta ** 2 * _g ** 2),
        ProofStep("rearranged: <g_t, w_t - w*> = (||w_t - w*||^2 - ||w_{t+1} - w*||^2)/(2 eta) + (eta/2) ||g_t||^2",
                  _g * _x, (_x ** 2 - (_x - eta * _g) ** 2) / (2 * eta) + eta / 2 * _g ** 2),
    ),
)

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

SPECS = (T13_1, L13_2, T13_3)
