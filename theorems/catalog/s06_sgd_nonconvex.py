"""Section 6: non-convex stochastic gradient descent."""
from __future__ import annotations

import sympy as sp

from theorems.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.symbols import Delta, H, T, c, eta, sigma, sum_grad_norm, sum_grad_sq

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

SPECS = (T6_1,)
