"""Section 6: non-convex stochastic gradient descent."""
from __future__ import annotations

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import Delta, G, H, T, c, eta, sigma, sum_grad_norm, sum_grad_sq, t

_TUNED = sp.Min(1 / H, sp.sqrt(Delta) / (sigma * sp.sqrt(H * T)))

T6_1 = Spec(
    id="T6.1",
    title="SGD with a fixed learning rate on smooth non-convex losses",
    source=Source(section="6", line=1009),
    statement=("Suppose L is H-smooth and the stochastic gradients have variance at most sigma^2. With a fixed "
               "eta <= 1/H, sum_{t=1}^T E||grad L(w_t)||^2 <= 2 Delta/eta + H T eta sigma^2. With "
               "eta = min(1/H, sqrt(Delta)/(sigma sqrt(H T))), the sum is <= 2 Delta H + 3 sigma sqrt(Delta H T), "
               "and E||grad L(w_hat)|| <= sqrt(2 Delta H)/sqrt(T) + sqrt(3 sigma sqrt(Delta H))/T^(1/4)."),
    assumptions=frozenset({"smooth", "var", "lb"}),
    settings=(
        Setting("eta-at-most-1/H", "SGD", hyper={"eta": c / H}, free={"c": (0.0, 1.0)}, noise=("gaussian", "sphere")),
        Setting("tuned", "SGD", hyper={"eta": _TUNED}, noise=("gaussian", "sphere")),
    ),
    claims=(
        Claim("sum-grad-sq", "expect", sum_grad_sq, 2 * Delta / eta + H * T * eta * sigma ** 2, "eta-at-most-1/H",
              "sum_t E||grad L(w_t)||^2 <= 2 Delta/eta + H T eta sigma^2 for eta <= 1/H"),
        Claim("tuned-sum-grad-sq", "expect", sum_grad_sq, 2 * Delta * H + 3 * sigma * sp.sqrt(Delta * H * T), "tuned",
              "sum_t E||grad L(w_t)||^2 <= 2 Delta H + 3 sigma sqrt(Delta H T) with the tuned eta"),
        Claim("tuned-random-iterate", "expect", sum_grad_norm / T,
              sp.sqrt(2 * Delta * H) / sp.sqrt(T) + sp.sqrt(3 * sigma * sp.sqrt(Delta * H)) / T ** sp.Rational(1, 4),
              "tuned", "E||grad L(w_hat)|| <= sqrt(2 Delta H)/sqrt(T) + sqrt(3 sigma sqrt(Delta H))/T^(1/4)"),
    ),
    proof_steps=(
        ProofStep("eta = sqrt(Delta)/(sigma sqrt(H T)) gives 2 Delta/eta + H T eta sigma^2 = 3 sigma sqrt(Delta H T)",
                  2 * Delta / eta + H * T * eta * sigma ** 2, 3 * sigma * sp.sqrt(Delta * H * T),
                  {eta: sp.sqrt(Delta) / (sigma * sp.sqrt(H * T))}),
        ProofStep("eta = 1/H gives 2 Delta/eta = 2 Delta H", 2 * Delta / eta, 2 * Delta * H, {eta: 1 / H}),
    ),
)

_p = sp.Symbol("p", nonnegative=True)
_DECREASING = c / (H * t ** _p)   # a decreasing schedule: eta_t = c / (H t^p), 0 <= p <= 1
_SQRT = c / (H * sp.sqrt(t))      # eta_t = c'/sqrt(t) with c' = c/H, so c' ranges over scales of 1/H

T6_2 = Spec(
    id="T6.2",
    title="SGD with decreasing learning rates on smooth non-convex losses",
    source=Source(section="6", line=1080),
    statement=("Suppose L is H-smooth and E||grad l(w, z)||^2 <= G^2 for all w (the notes print "
               "E||grad l|| <= G^2; the proof uses the second moment, which is the reading encoded). For any "
               "deterministic decreasing eta_1 >= ... >= eta_T: (1/T) sum_t E||grad L(w_t)||^2 <= Delta/(T eta_T) + "
               "H G^2/(2 T eta_T) sum_t eta_t^2. With eta_t = c/sqrt(t): (1/T) sum_t E||grad L(w_t)||^2 <= "
               "Delta/(c sqrt(T)) + H G^2 c (1 + log T)/(2 sqrt(T)), and E||grad L(w_hat)|| <= "
               "sqrt(Delta/c + G^2 c H (1 + log(T)/2)) / T^(1/4)."),
    assumptions=frozenset({"smooth", "m2", "lb"}),
    settings=(
        Setting("decreasing", "SGD", hyper={"eta": _DECREASING}, free={"c": (0.05, 3.0), "p": (0.0, 1.0)},
                noise=("gaussian", "sphere")),
        Setting("c/sqrt(t)", "SGD", hyper={"eta": _SQRT}, free={"c": (0.05, 3.0)}, noise=("gaussian", "sphere")),
    ),
    claims=(
        Claim("decreasing-schedule", "expect", sum_grad_sq / T,
              Delta / (T * _DECREASING.subs(t, T)) + H * G ** 2 / (2 * T * _DECREASING.subs(t, T))
              * sp.Sum(_DECREASING ** 2, (t, 1, T)),
              "decreasing", "(1/T) sum_t E||grad L(w_t)||^2 <= Delta/(T eta_T) + H G^2/(2 T eta_T) sum_t eta_t^2"),
        Claim("sqrt-schedule", "expect", sum_grad_sq / T,
              Delta / ((c / H) * sp.sqrt(T)) + H * G ** 2 * (c / H) * (1 + sp.log(T)) / (2 * sp.sqrt(T)),
              "c/sqrt(t)", "(1/T) sum_t E||grad L(w_t)||^2 <= Delta/(c sqrt T) + H G^2 c (1 + log T)/(2 sqrt T)"),
        Claim("sqrt-schedule-random-iterate", "expect", sum_grad_norm / T,
              sp.sqrt(Delta / (c / H) + G ** 2 * (c / H) * H * (1 + sp.log(T) / 2)) / T ** sp.Rational(1, 4),
              "c/sqrt(t)", "E||grad L(w_hat)|| <= sqrt(Delta/c + G^2 c H (1 + log(T)/2)) / T^(1/4)"),
    ),
    proof_steps=(
        ProofStep("eta_t = c/sqrt(t): Delta/(T eta_T) = Delta/(c sqrt(T))", Delta / (T * (c / sp.sqrt(T))),
                  Delta / (c * sp.sqrt(T))),
        ProofStep("eta_t = c/sqrt(t): H G^2/(2 T eta_T) * c^2 (1 + log T) = H G^2 c (1 + log T)/(2 sqrt T)",
                  H * G ** 2 / (2 * T * (c / sp.sqrt(T))) * c ** 2 * (1 + sp.log(T)),
                  H * G ** 2 * c * (1 + sp.log(T)) / (2 * sp.sqrt(T))),
    ),
)

SPECS = (T6_1, T6_2)
