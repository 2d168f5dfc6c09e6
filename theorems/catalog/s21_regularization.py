"""Section 21: regularisation (Lemmas 21.1, 21.2, 21.4, 21.7 and the trade-off S21.1).

The notes regularise towards the origin and start at w_1 = 0. A translation changes no constant of
the loss, so the algorithms (algorithms/proximal_point.py) regularise towards w_1 instead: in
coordinates centred at w_1, w*_lam's norm is ||w*_lam - w_1||, measured as ``coupled_dist`` between
the regularised solve and a run that stays at w_1 (GD with eta = 0), and ||w*|| is ||w_1 - w*|| = D.
lam is drawn per instance as c H, c uniform in the setting's range (each endpoint with probability 1/4).

Findings:
- S21.1's proof drops L(w*_lam) - L(w*) ">= 0 ... since L(w*) <= L(w*_lam) by definition": the term
  is non-negative, so it cannot be dropped. The statement survives through F(w*_lam) <= F(w*):
  L(w*_lam) - L(w*) <= lam/2 (||w*||^2 - ||w*_lam||^2), which gives the final bound's lam/2 ||w*||^2
  (ProofStep below). The proof also applies Theorem 21.6 (stated for w_{t+1} after t steps) to w_t.
  Both claims hold on every search so far.
- Lemma 21.1 is encoded for lam_2 = 0 (||w*_lam|| <= ||w*||, the case S21.1 uses): the trace vocabulary
  measures one distance between two runs' endpoints, not two norms.
"""
from __future__ import annotations

import sympy as sp

from theorems.language.spec import Claim, Coupled, ProofStep, Setting, Source, Spec
from theorems.language.symbols import (D, G, H, L_t, L_w, L_wv, Lstar, T, c, coupled_dist, curv_v, inner_grad_v,
                                       last_subopt, mu, t, v_sq)

lam = sp.Symbol("lam", positive=True)
_STAY = Coupled("GD", hyper={"eta": sp.Integer(0)}, horizon=sp.Integer(1))
_SOLVE = Setting("lam-c-H", "ProximalSolve", hyper={"lam": c * H, "H": H}, free={"c": (0.03, 100.0)}, coupled=_STAY)

# symbols of the proofs' algebra
_L1, _L2, _Lw, _Lv, _A, _B, _l1, _l2 = sp.symbols("L_a L_b L_w L_v A B lambda_1 lambda_2", real=True)
_x = sp.Symbol("x", real=True)
_k, _s = sp.symbols("k s", real=True)

L21_1 = Spec(
    id="L21.1",
    title="The regularised minimiser's norm decreases with lam",
    source=Source(section="21", line=2966),
    statement=("Suppose lam_1 >= lam_2. Then ||w*_{lam_1}|| <= ||w*_{lam_2}||, w*_lam = argmin L(w) + lam/2 ||w||^2. "
               "Encoded for convex smooth L with lam_2 = 0 (w*_0 = w*) and lam_1 = c H, c in [0.03, 100], in "
               "coordinates centred at w_1."),
    assumptions=frozenset({"cvx", "smooth", "minimizer"}),
    settings=(_SOLVE,),
    claims=(
        Claim("norm-below-unregularised", "sure", coupled_dist, D, "lam-c-H",
              "||w*_lam - w_1|| <= ||w* - w_1|| (= D) for every lam > 0"),
    ),
    proof_steps=(
        ProofStep("adding the optimality of w*_{lam_1} (a) against w*_{lam_2} (b) and of b against a leaves "
                  "(lam_1 - lam_2)/2 (||a||^2 - ||b||^2) <= 0",
                  (_L1 + _l1 / 2 * _A) - (_L2 + _l1 / 2 * _B) + (_L2 + _l2 / 2 * _B) - (_L1 + _l2 / 2 * _A),
                  (_l1 - _l2) / 2 * (_A - _B)),
    ),
)

L21_2 = Spec(
    id="L21.2",
    title="The regularised minimiser lies in the ball of radius G/lam",
    source=Source(section="21", line=2976),
    statement=("Suppose L is G-Lipschitz and differentiable. Then ||w*_lam|| <= G/lam. Encoded for convex smooth "
               "Lipschitz L, lam = c H, c in [0.03, 100], in coordinates centred at w_1."),
    assumptions=frozenset({"cvx", "smooth", "lip"}),
    settings=(_SOLVE,),
    claims=(
        Claim("ball", "sure", coupled_dist, G / lam, "lam-c-H", "||w*_lam - w_1|| <= G/lam"),
    ),
    proof_steps=(
        ProofStep("grad L(w) + lam w = 0 gives ||w|| = ||grad L(w)||/lam (one coordinate)",
                  sp.Abs(-_x / lam), sp.Abs(_x) / lam),
    ),
)

L21_4 = Spec(
    id="L21.4",
    title="Strong convexity: the Hessian bound and the quadratic lower bound",
    source=Source(section="21", line=2994),
    statement=("A twice differentiable convex L is mu-strongly convex (Hess L >= mu I) if and only if "
               "L(y) >= L(x) + <grad L(x), y - x> + mu/2 ||y - x||^2 for all x, y. Both sides of the equivalence "
               "are checked at sampled points with the family's certified mu; each fails for any larger mu "
               "(tests/test_regularization_specs.py)."),
    assumptions=frozenset({"sc", "smooth"}),
    settings=(Setting("points", "pointwise"),),
    claims=(
        Claim("quadratic-lower-bound", "sure", L_w + inner_grad_v + mu / 2 * v_sq, L_wv, "points",
              "L(w + v) >= L(w) + <grad L(w), v> + mu/2 ||v||^2"),
        Claim("hessian", "sure", mu * v_sq, curv_v, "points", "<v, Hess L(w) v> >= mu ||v||^2 (Definition 21.3)"),
    ),
    proof_steps=(
        ProofStep("the double integral of t over [0, 1]^2 is 1/2 (an unevaluated Integral: sympy evaluates it when "
                  "the step is verified)", sp.Integral(_s, (_k, 0, 1), (_s, 0, 1)), sp.Rational(1, 2)),
        ProofStep("adding f(h) >= f(0) + f'(0) h + mu/2 h^2 |d|^2 and f(0) >= f(h) - f'(h) h + mu/2 h^2 |d|^2 "
                  "gives (f'(h) - f'(0)) h >= mu h^2 |d|^2",
                  (_Lv - _Lw - _k * _x - mu / 2 * _x ** 2 * _A) + (_Lw - _Lv + _s * _x - mu / 2 * _x ** 2 * _A),
                  (_s - _k) * _x - mu * _x ** 2 * _A),
    ),
)

L21_7 = Spec(
    id="L21.7",
    title="Regularising a convex loss makes it lam-strongly convex",
    source=Source(section="21", line=3052),
    statement=("Suppose L is convex. Then F(w) = L(w) + lam/2 ||w||^2 is lam-strongly convex. Checked on convex "
               "smooth L with lam = c H, c in [0.01, 100]: F's quadratic lower bound with modulus lam and "
               "<v, Hess F(w) v> >= lam ||v||^2, F's values written through L's (the identities below)."),
    assumptions=frozenset({"cvx", "smooth"}),
    settings=(Setting("lam-c-H", "pointwise", hyper={"lam": c * H}, free={"c": (0.01, 100.0)}),),
    claims=(
        Claim("quadratic-lower-bound", "sure", lam / 2 * v_sq, L_wv - L_w - inner_grad_v + lam / 2 * v_sq, "lam-c-H",
              "F(w + v) - F(w) - <grad F(w), v> >= lam/2 ||v||^2"),
        Claim("hessian", "sure", lam * v_sq, curv_v + lam * v_sq, "lam-c-H", "<v, Hess F(w) v> >= lam ||v||^2"),
    ),
    proof_steps=(
        ProofStep("F(w + v) - F(w) - <grad F(w), v> = L(w + v) - L(w) - <grad L(w), v> + lam/2 ||v||^2 "
                  "(one coordinate)",
                  (_Lv + lam / 2 * (_x + _k) ** 2) - (_Lw + lam / 2 * _x ** 2) - (_s + lam * _x) * _k,
                  _Lv - _Lw - _s * _k + lam / 2 * _k ** 2),
        ProofStep("the Hessian of lam/2 ||w||^2 is lam I (one coordinate)", sp.diff(lam / 2 * _x ** 2, _x, 2), lam),
    ),
)

_TUNED = 2 * H * sp.log((T + 1) / 2) / (T + 1)
_D2 = D ** 2 / 2

S21_1 = Spec(
    id="S21.1",
    title="How much regularisation: gradient descent on the regularised loss",
    source=Source(section="21", line=3092),
    statement=("For convex H-smooth L, gradient descent with eta = 1/(H + lam) on L + lam/2 ||w||^2 from w_1 = 0 "
               "gives L(w_t) - L(w*) <= ||w*||^2/2 (H exp(-lam t/(H + lam)) + lam); with lam = 2H log(t/2)/t, "
               "L(w_t) - L(w*) <= ||w*||^2/2 (2H/t + 2H log(t/2)/t). Encoded centred at w_1 (||w*|| is D), "
               "lam = c H with c in [0.001, 10] at every step, and the tuned lam at t = T + 1."),
    assumptions=frozenset({"cvx", "smooth", "minimizer"}),
    settings=(
        Setting("lam-c-H", "RegularizedGD", hyper={"lam": c * H, "eta": 1 / (H + c * H)}, free={"c": (0.001, 10.0)}),
        Setting("tuned-lam", "RegularizedGD", hyper={"lam": _TUNED, "eta": 1 / (H + _TUNED)}),
    ),
    claims=(
        Claim("trade-off", "sure", L_t - Lstar, _D2 * (H * sp.exp(-lam * t / (H + lam)) + lam), "lam-c-H",
              "L(w_t) - L(w*) <= ||w*||^2/2 (H exp(-lam t/(H + lam)) + lam) at every step t = 1..T"),
        Claim("tuned", "sure", last_subopt, _D2 * (2 * H / (T + 1) + 2 * H * sp.log((T + 1) / 2) / (T + 1)),
              "tuned-lam", "with lam = 2H log(t/2)/t at t = T + 1: L(w_t) - L(w*) <= ||w*||^2/2 (2H/t + 2H log(t/2)/t)"),
    ),
    proof_steps=(
        ProofStep("L(w_t) - L* = [F(w_t) - F(w*_lam)] + [L(w*_lam) - L*] + lam/2 (||w*_lam||^2 - ||w_t||^2), "
                  "F = L + lam/2 ||.||^2",
                  _L1 - Lstar, (_L1 + lam / 2 * _A) - (_L2 + lam / 2 * _B) + (_L2 - Lstar) + lam / 2 * (_B - _A)),
        ProofStep("F(w*_lam) <= F(w*) bounds L(w*_lam) - L* by lam/2 (||w*||^2 - ||w*_lam||^2), so the last two "
                  "terms add up to at most lam/2 ||w*||^2 (the proof drops L(w*_lam) - L* >= 0 instead)",
                  lam / 2 * (D ** 2 - _B) + lam / 2 * _B, lam / 2 * D ** 2),
        ProofStep("with lam = 2H log(c)/t: H exp(-lam t/(2H)) = H/c, and c = t/2 gives 2H/t",
                  H * sp.exp(-lam * t / (2 * H)), 2 * H / t, {lam: 2 * H * sp.log(t / 2) / t}),
    ),
)

SPECS = (L21_1, L21_2, L21_4, L21_7, S21_1)
