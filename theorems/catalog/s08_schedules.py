"""Section 8: tuning learning rates; section 8.2's argument for warm-up."""
from __future__ import annotations

import sympy as sp

from theorems.language.spec import Claim, Coupled, ProofStep, Setting, Source, Spec
from theorems.language.symbols import H, T, c, coupled_dist, eta, grad_sq_1, sigma

_x = sp.Symbol("x", positive=True)
_g = sp.Symbol("g", nonnegative=True)   # ||grad L(w1)||
_BOUND = 2 * sigma / (H * sp.sqrt(T)) + eta * T / 2 * sp.sqrt(grad_sq_1)
_SMALL_STEPS = {"eta": c / (2 * H * T)}   # eta <= 1/(2 H B), c in [0, 1]
_BIG_STEP = {"eta": T * eta}               # eta^(B) = B eta


def _setting(name: str, shared: bool) -> Setting:
    return Setting(name, "SGD", hyper=_SMALL_STEPS, free={"c": (0.0, 1.0)}, noise=("gaussian", "sphere", "finite-sum"),
                   coupled=Coupled("MinibatchSGD", hyper=_BIG_STEP, horizon=sp.Integer(1), batch_size=T,
                                   shared_samples=shared))


S8_2 = Spec(
    id="S8.2",
    title="Warm-up intuition: B small steps of SGD stay close to one large-batch step",
    source=Source(section="8.2", line=1233),
    statement=("Suppose L is H-smooth and the stochastic gradients have variance at most sigma^2. From the same w1, "
               "run B steps of SGD with batch size 1 and step eta, reaching w^(1)_{B+1}, and one step of batch-B SGD "
               "with step eta^(B) = B eta on the same samples z_1..z_B, reaching w^(B)_2. If eta <= 1/(2 H B), "
               "E||w^(1)_{B+1} - w^(B)_2|| <= 2 sigma/(H sqrt(B)) + eta B/2 ||grad L(w1)||. Encoded with B = T, the "
               "horizon of the small-step run (the coupled run is one MinibatchSGD step of batch T), eta = c/(2 H T), "
               "c in [0, 1]. The notes' coupling shares the samples (common random numbers); the proof bounds "
               "E||p_t||^2 <= 4 sigma^2 by the triangle inequality, which holds for independent samples too, so both "
               "couplings are checked. With the oracles' l(w, z) = L(w) + <z, w> shared samples cancel the noise "
               "(p_t = 0) and only the drift of the small steps remains; under the finite-sum oracle (logistic) a "
               "sample is a term l_i whose gradient depends on w, so p_t != 0 and the coupling matters. The proof prints "
               "E[||sum_t p_t||^2] <= sqrt(E||sum_t p_t||^4) <= 2 sigma sqrt(B) where it uses E||sum_t p_t|| <= "
               "sqrt(E||sum_t p_t||^2) <= 2 sigma sqrt(B) (a typo in an intermediate step; the statement is "
               "unaffected), and bounds E||sum_{t'<t} r_t'|| by 2 sigma sqrt(t) where 4 eta sigma B^(3/2) needs "
               "sigma sqrt(t), which also holds (the sum has variance at most (t-1) sigma^2)."),
    assumptions=frozenset({"smooth", "var"}),
    settings=(_setting("shared-samples", True), _setting("independent-samples", False)),
    claims=(
        Claim("gap-shared-samples", "expect", coupled_dist, _BOUND, "shared-samples",
              "E||w^(1)_{B+1} - w^(B)_2|| <= 2 sigma/(H sqrt B) + eta B/2 ||grad L(w1)|| for eta <= 1/(2 H B), "
              "both runs on the same samples z_1..z_B"),
        Claim("gap-independent-samples", "expect", coupled_dist, _BOUND, "independent-samples",
              "the same bound when the large-batch step draws its own independent samples"),
    ),
    proof_steps=(
        ProofStep("uncorrelated p_t with E||p_t||^2 <= 4 sigma^2: sqrt(E||sum_t p_t||^2) <= sqrt(4 sigma^2 B) = 2 sigma sqrt(B)",
                  sp.sqrt(4 * sigma ** 2 * T), 2 * sigma * sp.sqrt(T)),
        ProofStep("sum_t sqrt(t) <= int_1^{B+1} sqrt(x) dx = 2/3 (B+1)^(3/2) - 2/3",
                  lambda: sp.integrate(sp.sqrt(_x), (_x, 1, T + 1)), sp.Rational(2, 3) * (T + 1) ** sp.Rational(3, 2) - sp.Rational(2, 3)),
        ProofStep("at eta = 1/(2 H B): eta^2 H B^2 ||grad L(w1)|| = eta B/2 ||grad L(w1)||",
                  eta ** 2 * H * T ** 2 * _g, eta * T / 2 * _g, {eta: 1 / (2 * H * T)}),
        ProofStep("at eta = 1/(2 H B): 2 sigma eta sqrt(B) + 4 eta^2 H sigma B^(3/2) = 4 sigma eta sqrt(B)",
                  2 * sigma * eta * sp.sqrt(T) + 4 * eta ** 2 * H * sigma * T ** sp.Rational(3, 2),
                  4 * sigma * eta * sp.sqrt(T), {eta: 1 / (2 * H * T)}),
        ProofStep("at eta = 1/(2 H B): 4 sigma eta sqrt(B) = 2 sigma/(H sqrt(B))", 4 * sigma * eta * sp.sqrt(T),
                  2 * sigma / (H * sp.sqrt(T)), {eta: 1 / (2 * H * T)}),
    ),
)

SPECS = (S8_2,)
