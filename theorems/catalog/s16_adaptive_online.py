"""Section 16: per-coordinate learning rates (Theorems 16.2 and 16.3, the rare-feature example).

The theorems are stated in expectation over stochastic gradients of a convex L; their proofs
bound sum_t <g_t, w_t - w*> for *every* sequence g_t and every w* of the feasible set, which is
what the ``regret`` claims check against adversarial sequences (problems/online.py) with the worst
comparator of the set. The ``expected-suboptimality`` claims check the statements as written on
linear expected losses L_t(w) = <a_t, w> with Gaussian gradient noise: E[sum_t L_t(w_t) - L_t(w*)]
<= 2 sqrt(2) D E[...], as E[X - Y] <= 0 with the engine's one-sided test.

The proof of Theorem 16.3 as printed has two slips that cancel: it bounds (w_t[i] - w*[i])^2 by
D_inf^2 (both lie in [-D_inf, D_inf], so the bound is (2 D_inf)^2) and evaluates
int_0^S x^(-1/2) dx as sqrt(2 S) (it is 2 sqrt(S)). With both corrected the terms are
(2 D)^2 sqrt(S)/(2c) + c sqrt(S) = 2 sqrt(2) D sqrt(S) at c = sqrt(2) D: the stated bound, and c is
the minimiser (proof steps below; tests/test_online_specs.py checks the printed values differ).

Two errata of the statements, each with a stored witness: the displayed update projects w_t alone,
w_{t+1} = Pi(w_t) - c g_t/..., so the point played can leave the set, and an adaptive adversary
(``escape``) charges it there (tightness 1.21 against the bound; ``regret-as-printed``); and the
statements leave w_1 free, while the proof needs it in the set (``regret-any-start``: tightness up
to 240 from a w_1 outside). The corrected claims (``regret``: the proof's update from w_1 in the
set) hold with worst tightness 1/sqrt(2), attained at T = 1 by w_1 on the boundary.
"""
from __future__ import annotations

from pathlib import Path

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import (D_2, D_inf, T, dim, g_max, sum_au, sum_aw, sum_coord_root, sum_g_sq,
                                       sum_gu, sum_gw)

_ERRATA = Path(__file__).parent / "errata"
i = sp.Symbol("i", positive=True, integer=True)
Dv, S, c, xv = sp.symbols("D S c x", positive=True)

T16_2 = Spec(
    id="T16.2",
    title="Projected adaptive gradient descent on an l2 ball",
    source=Source(section="16", line=2339),
    statement=("Suppose L is convex with ||w*||_2 <= D_2. Then with c = sqrt(2) D_2, the algorithm "
               "g_t = grad l(w_t, z_t), w_{t+1} = Pi_{||w||_2 <= D_2} w_t - c g_t / sqrt(||g||^2_{1:t}) satisfies "
               "E[sum_t L(w_t) - L(w*)] <= 2 sqrt(2) D_2 E[sqrt(sum_t ||g_t||^2)]."),
    assumptions=frozenset(),
    settings=(
        Setting("adversarial", "ProjectedAdaptiveGD", hyper={"eta": sp.sqrt(2) * D_2, "radius": D_2},
                online="l2-ball"),
        Setting("stochastic", "ProjectedAdaptiveGD", hyper={"eta": sp.sqrt(2) * D_2, "radius": D_2},
                online="l2-ball", noise=("gaussian",), adversaries=("gaussian", "two-phase", "one-hot")),
        Setting("as-printed", "ProjectedAdaptiveGD-as-printed", hyper={"eta": sp.sqrt(2) * D_2, "radius": D_2},
                online="l2-ball"),
        Setting("any-start", "ProjectedAdaptiveGD", hyper={"eta": sp.sqrt(2) * D_2, "radius": D_2},
                online="l2-ball", start_anywhere=True),
    ),
    claims=(
        Claim("regret", "sure", sum_gw - sum_gu, 2 * sp.sqrt(2) * D_2 * sp.sqrt(sum_g_sq), "adversarial",
              "sum_t <g_t, w_t - w*> <= 2 sqrt(2) D_2 sqrt(sum_t ||g_t||^2) for every sequence and every "
              "||w*||_2 <= D_2 (the worst one), w_1 in the ball"),
        Claim("expected-suboptimality", "expect", sum_aw - sum_au - 2 * sp.sqrt(2) * D_2 * sp.sqrt(sum_g_sq), 0,
              "stochastic",
              "E[sum_t L_t(w_t) - L_t(w*)] <= 2 sqrt(2) D_2 E[sqrt(sum_t ||g_t||^2)] (as E[difference] <= 0), "
              "L_t(w) = <a_t, w>, g_t = a_t + Gaussian noise"),
        Claim("regret-as-printed", "sure", sum_gw - sum_gu, 2 * sp.sqrt(2) * D_2 * sp.sqrt(sum_g_sq), "as-printed",
              "the same bound for the update as displayed, w_{t+1} = Pi(w_t) - c g_t / sqrt(||g||^2_{1:t})",
              erratum=("the display projects w_t, not the step: the iterate played can leave the ball by up to c, "
                       "and an adversary that pushes it out and then charges it there beats the bound"),
              corrected_by="regret", witness=str(_ERRATA / "T16.2-regret-as-printed.json")),
        Claim("regret-any-start", "sure", sum_gw - sum_gu, 2 * sp.sqrt(2) * D_2 * sp.sqrt(sum_g_sq), "any-start",
              "the same bound from any w_1 (the statement does not restrict it)",
              erratum=("the statement leaves w_1 free, but the proof bounds ||w_1 - w*|| by the ball's diameter: from "
                       "a w_1 outside the ball the first loss alone, <g_1, w_1 - w*>, exceeds the bound"),
              corrected_by="regret", witness=str(_ERRATA / "T16.2-regret-any-start.json")),
    ),
    proof_steps=(
        ProofStep("with the diameter 2D: (2D)^2 sqrt(S)/(2c) + c sqrt(S) = 2 sqrt(2) D sqrt(S) at c = sqrt(2) D",
                  (2 * Dv) ** 2 * sp.sqrt(S) / (2 * c) + c * sp.sqrt(S), 2 * sp.sqrt(2) * Dv * sp.sqrt(S),
                  {c: sp.sqrt(2) * Dv}),
        ProofStep("c = sqrt(2) D minimises 2 D^2/c + c", sp.diff(2 * Dv ** 2 / c + c, c), 0, {c: sp.sqrt(2) * Dv}),
        ProofStep("sum-to-integral: int_0^S x^(-1/2) dx = 2 sqrt(S)",
                  lambda: sp.integrate(1 / sp.sqrt(xv), (xv, 0, S)), 2 * sp.sqrt(S)),
    ),
)

T16_3 = Spec(
    id="T16.3",
    title="Diagonal AdaGrad on an l_inf box",
    source=Source(section="16", line=2351),
    statement=("Suppose L is convex with ||w*||_inf <= D_inf. Then with c = sqrt(2) D_inf, the algorithm "
               "g_t = grad l(w_t, z_t), w_{t+1}[i] = Pi_{|w[i]| <= D_inf} w_t[i] - c g_t[i] / sqrt(g^2_{1:t}[i]) "
               "satisfies E[sum_t L(w_t) - L(w*)] <= 2 sqrt(2) D_inf E[sum_i sqrt(sum_t g_t[i]^2)]."),
    assumptions=frozenset(),
    settings=(
        Setting("adversarial", "DiagonalAdaGrad", hyper={"eta": sp.sqrt(2) * D_inf, "radius": D_inf},
                online="linf-box"),
        Setting("stochastic", "DiagonalAdaGrad", hyper={"eta": sp.sqrt(2) * D_inf, "radius": D_inf},
                online="linf-box", noise=("gaussian",), adversaries=("gaussian", "two-phase", "one-hot")),
        Setting("as-printed", "DiagonalAdaGrad-as-printed", hyper={"eta": sp.sqrt(2) * D_inf, "radius": D_inf},
                online="linf-box"),
        Setting("any-start", "DiagonalAdaGrad", hyper={"eta": sp.sqrt(2) * D_inf, "radius": D_inf},
                online="linf-box", start_anywhere=True),
    ),
    claims=(
        Claim("regret", "sure", sum_gw - sum_gu, 2 * sp.sqrt(2) * D_inf * sum_coord_root, "adversarial",
              "sum_t <g_t, w_t - w*> <= 2 sqrt(2) D_inf sum_i sqrt(sum_t g_t[i]^2) for every sequence and every "
              "||w*||_inf <= D_inf (the worst one), w_1 in the box"),
        Claim("expected-suboptimality", "expect", sum_aw - sum_au - 2 * sp.sqrt(2) * D_inf * sum_coord_root, 0,
              "stochastic",
              "E[sum_t L_t(w_t) - L_t(w*)] <= 2 sqrt(2) D_inf E[sum_i sqrt(sum_t g_t[i]^2)] (as E[difference] <= 0)"),
        Claim("regret-as-printed", "sure", sum_gw - sum_gu, 2 * sp.sqrt(2) * D_inf * sum_coord_root, "as-printed",
              "the same bound for the update as displayed, w_{t+1}[i] = Pi(w_t[i]) - c g_t[i] / sqrt(g^2_{1:t}[i])",
              erratum=("the display projects w_t, not the step: a coordinate played can leave the box by up to c, "
                       "and an adversary that pushes it out and then charges it there beats the bound"),
              corrected_by="regret", witness=str(_ERRATA / "T16.3-regret-as-printed.json")),
        Claim("regret-any-start", "sure", sum_gw - sum_gu, 2 * sp.sqrt(2) * D_inf * sum_coord_root, "any-start",
              "the same bound from any w_1 (the statement does not restrict it)",
              erratum=("the statement leaves w_1 free, but the proof bounds (w_1[i] - w*[i])^2 by the box's diameter: "
                       "from a w_1 outside the box the first loss alone, <g_1, w_1 - w*>, exceeds the bound"),
              corrected_by="regret", witness=str(_ERRATA / "T16.3-regret-any-start.json")),
    ),
    proof_steps=(
        ProofStep("per coordinate, with the diameter 2 D_inf: (2D)^2 sqrt(S)/(2c) + c sqrt(S) = 2 sqrt(2) D sqrt(S)",
                  (2 * Dv) ** 2 * sp.sqrt(S) / (2 * c) + c * sp.sqrt(S), 2 * sp.sqrt(2) * Dv * sp.sqrt(S),
                  {c: sp.sqrt(2) * Dv}),
        ProofStep("sum-to-integral: int_0^S x^(-1/2) dx = 2 sqrt(S) (the notes print sqrt(2 S))",
                  lambda: sp.integrate(1 / sp.sqrt(xv), (xv, 0, S)), 2 * sp.sqrt(S)),
    ),
)

HARMONIC = sp.Sum(1 / i, (i, 1, dim))

S16_1 = Spec(
    id="S16.1",
    title="The rare-feature example: AdaGrad's D_inf log(d) sqrt(T) against D_2 sqrt(T)",
    source=Source(section="16", line=2387),
    statement=("Suppose g_t is always a 1-hot vector whose i-th coordinate is +-1 with probability proportional "
               "to 1/i^2. Then E[D_inf sum_i sqrt(g^2_{1:T}[i])] <= D_inf sum_i sqrt(T/i^2) = D_inf sqrt(T) sum_i 1/i "
               "= O(D_inf log(d) sqrt(T)), while E[D_2 sqrt(||g||^2_{1:T})] = D_2 sqrt(T)."),
    assumptions=frozenset(),
    settings=(Setting("one-hot", "DiagonalAdaGrad", hyper={"eta": sp.sqrt(2) * D_inf, "radius": D_inf},
                      online="linf-box", noise=("resample",), adversaries=("one-hot",)),),
    claims=(
        Claim("coordinate-sum", "expect", D_inf * sum_coord_root, D_inf * g_max * sp.sqrt(T) * HARMONIC, "one-hot",
              "E[D_inf sum_i sqrt(g^2_{1:T}[i])] <= D_inf sqrt(T) sum_{i<=d} 1/i (gradients +-G e_i: times G)"),
        Claim("harmonic-log", "sure", HARMONIC, 1 + sp.log(dim), "one-hot",
              "sum_{i<=d} 1/i <= 1 + log d: the O(log d)"),
        Claim("l2-sum", "sure", D_2 * sp.sqrt(sum_g_sq), D_2 * g_max * sp.sqrt(T), "one-hot",
              "D_2 sqrt(||g||^2_{1:T}) <= D_2 sqrt(T) (times G); equality, with l2-sum-attained"),
        Claim("l2-sum-attained", "sure", D_2 * g_max * sp.sqrt(T), D_2 * sp.sqrt(sum_g_sq), "one-hot",
              "D_2 sqrt(T) <= D_2 sqrt(||g||^2_{1:T}) (times G): every g_t has norm G"),
        Claim("adagrad-regret", "expect", sum_gw - sum_gu, 2 * sp.sqrt(2) * D_inf * g_max * sp.sqrt(T) * HARMONIC,
              "one-hot",
              "Theorem 16.3 on the example: E[regret of AdaGrad] <= 2 sqrt(2) D_inf sqrt(T) sum_{i<=d} 1/i (times G)"),
        Claim("bounds-compared", "sure", D_inf * sum_coord_root, D_2 * sp.sqrt(sum_g_sq), "one-hot",
              "D_inf sum_i sqrt(g^2_{1:T}[i]) <= D_2 sqrt(||g||^2_{1:T}) on the box (D_2 = sqrt(d) D_inf, "
              "Cauchy-Schwarz); tests/test_online_specs.py measures the ratio as d grows"),
    ),
    proof_steps=(
        ProofStep("sum_i sqrt(T/i^2) = sqrt(T) sum_i 1/i", sp.Sum(sp.sqrt(T / i ** 2), (i, 1, dim)),
                  sp.sqrt(T) * HARMONIC),
    ),
)

SPECS = (T16_2, T16_3, S16_1)
