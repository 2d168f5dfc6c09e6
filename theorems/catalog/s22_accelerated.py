"""Section 22: the accelerated method for strongly convex smooth losses reaches gradient norm eps
(Theorem 22.3).

The notes leave the accelerated method to a homework: after T iterations it outputs w_hat with
L(w_hat) - L* <= exp(-C sqrt(mu/H) T) H ||w* - w1||^2/2 for an absolute constant C. The method
run here is Nesterov's constant step scheme (algorithms/accelerated.py: two-step momentum, eta =
1/H, beta = (sqrt H - sqrt mu)/(sqrt H + sqrt mu)), which guarantees L(w_{t+1}) - L* <= (1 -
q)^t (L(w_1) - L* + mu D^2/2), q = sqrt(mu/H) (Nesterov 2004, Theorem 2.2.3). With L(w_1) - L* <=
H D^2/2 that is at most (1 - q)^t (1 + q^2) H D^2/2 <= exp(-q t/2) H D^2/2 for t >= 1, because
(1 - q)(1 + q^2) = 1 - q + q^2 - q^3 <= 1 - q/2 <= exp(-q/2) and (1 - q)^(t-1) <= exp(-q (t-1)/2)
(t = 0 is smoothness itself): the homework's statement holds with C = 1/2 (checked numerically in
tests/test_accelerated_specs.py). Theorem 22.3's N = log(H^2 D^2/eps^2)/(C q) inverts to
eps_N^2 = H^2 D^2 exp(-C q N), so each step t of a run is the theorem at N = t: the suboptimality
claim compares L(w_{t+1}) with eps_t^2/(2H), the gradient claim ||grad L(w_t)|| with eps_{t-1}.
"""
from __future__ import annotations

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import D, H, L1, L_next, Lstar, grad_sq_t, mu, t

_C = sp.Rational(1, 2)
_Q = sp.sqrt(mu / H)


def _eps_sq(iterations: sp.Expr) -> sp.Expr:
    """eps^2 for which Theorem 22.3's N equals ``iterations``: H^2 D^2 exp(-C sqrt(mu/H) N)."""
    return H ** 2 * D ** 2 * sp.exp(-_C * _Q * iterations)


_eps, _N = sp.symbols("epsilon N", positive=True)
_N_OF_EPS = sp.log(H ** 2 * D ** 2 / _eps ** 2) / (_C * _Q)

T22_3 = Spec(
    id="T22.3",
    title="Accelerated gradient descent on strongly convex smooth losses reaches gradient norm eps",
    source=Source(section="22", line=3218),
    statement=("Run the accelerated gradient descent for strongly-convex functions for "
               "N = log(H^2 ||w* - w1||^2/eps^2) / (C sqrt(mu/H)) iterations starting at the origin. Then the output "
               "w_hat satisfies L(w_hat) - L(w*) <= eps^2/(2H) [and] ||grad L(w_hat)|| <= eps (the printed line runs "
               "the two together). Encoded with the method and the constant C = 1/2 of the module docstring, from any "
               "w1 (D = ||w* - w1||; the proof writes ||w*||^2, the same when w1 = 0), at every N = t of a run."),
    assumptions=frozenset({"sc", "smooth", "minimizer"}),
    settings=(Setting("nesterov-constant-step", "AGD-strongly-convex",
                      hyper={"eta": 1 / H, "beta": (sp.sqrt(H) - sp.sqrt(mu)) / (sp.sqrt(H) + sp.sqrt(mu))}),),
    claims=(
        Claim("method-guarantee", "sure", L_next - Lstar, (1 - _Q) ** t * (L1 - Lstar + mu * D ** 2 / 2),
              "nesterov-constant-step",
              "the method's own guarantee: L(w_{t+1}) - L* <= (1 - sqrt(mu/H))^t (L(w_1) - L* + mu D^2/2)"),
        Claim("suboptimality-eps", "sure", L_next - Lstar, _eps_sq(t) / (2 * H), "nesterov-constant-step",
              "after N = t iterations, L(w_{N+1}) - L* <= eps^2/(2H) with eps^2 = H^2 D^2 exp(-C sqrt(mu/H) N) "
              "(this is also the homework's rate exp(-C sqrt(mu/H) t) H D^2/2 with C = 1/2)"),
        Claim("gradient-eps", "sure", grad_sq_t, _eps_sq(t - 1), "nesterov-constant-step",
              "after N = t - 1 iterations, ||grad L(w_{N+1})||^2 <= eps^2 = H^2 D^2 exp(-C sqrt(mu/H) N)"),
    ),
    proof_steps=(
        ProofStep("N = log(H^2 D^2/eps^2)/(C sqrt(mu/H)) gives 2H exp(-C sqrt(mu/H) N) H D^2/2 = eps^2",
                  2 * H * sp.exp(-_C * _Q * _N) * H * D ** 2 / 2, _eps ** 2, {_N: _N_OF_EPS}),
        ProofStep("and exp(-C sqrt(mu/H) N) H D^2/2 = eps^2/(2H)", sp.exp(-_C * _Q * _N) * H * D ** 2 / 2,
                  _eps ** 2 / (2 * H), {_N: _N_OF_EPS}),
    ),
)

SPECS = (T22_3,)
