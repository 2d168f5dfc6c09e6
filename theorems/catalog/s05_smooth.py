"""Section 5: smooth losses, the descent lemma and non-convex gradient descent."""
from __future__ import annotations

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import (H, L_next, L_t, L_w, L_wv, Delta, Lstar, T, c, eta, grad_sq_t,
                              inner_grad_v, sum_grad_norm, sum_grad_sq, v_sq)

L5_6 = Spec(
    id="L5.6",
    title="Descent lemma (quadratic upper bound of a smooth function)",
    source=Source(section="5", line=879),
    statement="Suppose L is H-smooth. Then for any w and v, L(w + v) <= L(w) + <grad L(w), v> + H/2 ||v||^2.",
    assumptions=frozenset({"smooth"}),
    settings=(Setting("points", "pointwise"),),
    claims=(
        Claim("quadratic-upper-bound", "sure", L_wv - Lstar, L_w - Lstar + inner_grad_v + H / 2 * v_sq, "points",
              "L(w + v) - L* <= L(w) - L* + <grad L(w), v> + H/2 ||v||^2 (both sides shifted by L* = inf L)"),
    ),
)

L5_7 = Spec(
    id="L5.7",
    title="One step of gradient descent on a smooth function",
    source=Source(section="5", line=895),
    statement=("Suppose L is H-smooth. Every step of gradient descent satisfies L(w_{t+1}) <= L(w_t) - "
               "(1 - H eta/2) eta ||grad L(w_t)||^2; if 0 <= eta <= 1/H, L(w_{t+1}) <= L(w_t) - eta/2 ||grad L(w_t)||^2."),
    assumptions=frozenset({"smooth", "lb"}),
    settings=(Setting("any-eta", "GD", hyper={"eta": c / H}, free={"c": (0.0, 3.0)}),),
    claims=(
        Claim("one-step", "sure", L_next - Lstar, L_t - Lstar - (1 - H * eta / 2) * eta * grad_sq_t, "any-eta",
              "L(w_{t+1}) <= L(w_t) - (1 - H eta/2) eta ||grad L(w_t)||^2 for every eta >= 0"),
        Claim("one-step-small-eta", "sure", L_next - Lstar, L_t - Lstar - eta / 2 * grad_sq_t, "any-eta",
              "L(w_{t+1}) <= L(w_t) - eta/2 ||grad L(w_t)||^2 when 0 <= eta <= 1/H", when=sp.Le(c, 1)),
    ),
)

T5_8 = Spec(
    id="T5.8",
    title="Gradient descent finds approximate critical points of smooth functions",
    source=Source(section="5", line=917),
    statement=("Suppose L is H-smooth and eta <= 1/H; Delta = L(w1) - inf L. Then sum_{t=1}^T ||grad L(w_t)||^2 "
               "<= 2 Delta / eta; with eta = 1/H and w_hat uniform on w_1..w_T, "
               "E||grad L(w_hat)|| <= sqrt(2 H Delta) / sqrt(T)."),
    assumptions=frozenset({"smooth", "lb"}),
    settings=(
        Setting("eta-at-most-1/H", "GD", hyper={"eta": c / H}, free={"c": (0.0, 1.0)}),
        Setting("eta-1/H", "GD", hyper={"eta": 1 / H}),
    ),
    claims=(
        Claim("sum-grad-sq", "sure", sum_grad_sq, 2 * Delta / eta, "eta-at-most-1/H",
              "sum_{t=1}^T ||grad L(w_t)||^2 <= 2 Delta / eta for eta <= 1/H"),
        Claim("random-iterate-grad-norm", "sure", sum_grad_norm / T, sp.sqrt(2 * H * Delta) / sp.sqrt(T), "eta-1/H",
              "E||grad L(w_hat)|| <= sqrt(2 H Delta)/sqrt(T) with eta = 1/H (expectation over w_hat is the average)"),
    ),
    proof_steps=(
        ProofStep("with eta = 1/H, 2 Delta/(eta T) = 2 H Delta / T", 2 * Delta / (eta * T), 2 * H * Delta / T,
                  {eta: 1 / H}),
    ),
)

_x, _y, _g, _Lx = sp.symbols("x y g L_x", real=True)
_U = _Lx + _g * (_y - _x) + H / 2 * (_x - _y) ** 2

P5_9 = Spec(
    id="P5.9",
    title="The quadratic upper model of a smooth function and its minimiser",
    source=Source(section="5", line=972),
    statement=("Suppose L is H-smooth and U_x(y) = L(x) + <grad L(x), y - x> + H/2 ||x - y||^2. Then "
               "L(x) = U_x(x), L(y) <= U_x(y) for all x, y, and argmin_y U_x(y) = x - grad L(x)/H."),
    assumptions=frozenset({"smooth", "lb"}),
    settings=(Setting("points", "pointwise"),),
    claims=(
        Claim("upper-model", "sure", L_wv - Lstar, L_w - Lstar + inner_grad_v + H / 2 * v_sq, "points",
              "L(y) <= U_x(y) with x = w and y = w + v (shifted by L* = inf L)"),
    ),
    proof_steps=(
        ProofStep("U_x(x) = L(x)", _U.subs(_y, _x), _Lx),
        ProofStep("the derivative of U_x vanishes at y = x - grad L(x)/H (per coordinate; U_x is separable)",
                  sp.diff(_U, _y).subs(_y, _x - _g / H), 0),
        ProofStep("U_x has curvature H > 0, so the stationary point is the minimiser", sp.diff(_U, _y, 2), H),
    ),
)

SPECS = (L5_6, L5_7, T5_8, P5_9)
