"""Section 12: the exponential-moving-average step (Algorithm 8) and its non-increasing correction
(Algorithm 9): S12.1 and Theorem 12.1.

The notes' c is the hyper-parameter ``eta``; eta = 10^u sqrt(Delta/H), eps = 10^v G and
beta = 1 - 10^(-b) are drawn per instance (u in [-2, 2], v in [-3, 2], b in [0.3, 3]: beta from 0.5
to 0.999). eta_0 = c/eps: B_1 >= B_0 = eps^2, so eta_0 >= eta_1 and it is deterministic.

Findings (tests/test_adaptive_specs.py):
- Theorem 12.1's proof bounds sum_t eta_t^2 ||g_t||^2 by sum_t 1/t: eta_t^2 = c^2/B_t, so the bound is
  c^2 (1 + log T), and the last step drops c from min_t eta_t >= c sqrt(1 - beta)/(eps + G sqrt T).
  As printed, H(1 + log T)/2 is not a loss value (it scales like H, a loss over a squared distance)
  and the second claim's bound does not scale like a squared gradient: erratum with a witness; the
  corrected claim (c^2 in the log term, 1/c in front) holds. The first claim needs
  sum_t eta_{t-1} ||grad L(w_t)||^2, which the engine does not record (left out).
- S12.1: Algorithm 8 on L(w) = H w^2/2 (d = 1, exact gradients) has the 2-cycle w -> -w with
  w^2 = (1 - beta)(c^2/4 - eps^2/H^2) (A_t = H^2 w^2/(1 - beta) is then stationary and eta H = 2), and
  its minimiser is unstable: if w_t -> 0 then A_t -> 0 and eta_t -> c/eps, and |1 - c H/eps| > 1 when
  c H > 2 eps. The proof steps check this algebra; tests/test_adaptive_specs.py runs the witness
  (Algorithm 8 settles on the cycle, Algorithm 9 converges on the same instance). The claims run
  Algorithm 9 on the same exact-gradient instances: min_t ||grad L(w_t)||^2 <= (Theorem 12.1's
  corrected bound)/T, so Algorithm 9 converges; `check S12.1 --algorithm EMAAdaptive` shows which
  of these Algorithm 8 breaks.
"""
from __future__ import annotations

from pathlib import Path

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import Delta, G, H, T, eta, min_grad_sq, sum_grad_sq

eps = sp.Symbol("eps", positive=True)
beta = sp.Symbol("beta", positive=True)
_u, _v, _b = sp.Symbol("u", real=True), sp.Symbol("v", real=True), sp.Symbol("b", real=True)
_ERRATA = Path(__file__).parent / "errata"

_HYPER = {"eta": 10 ** _u * sp.sqrt(Delta / H), "eps": 10 ** _v * G, "beta": 1 - 10 ** (-_b)}
_FREE = {"u": (-2.0, 2.0), "v": (-3.0, 2.0), "b": (0.3, 3.0)}
_ETA0 = eta / eps

#: Theorem 12.1's second claim: as printed (line 1849) and with the proof's c^2 and 1/c
PRINTED = (Delta + H * (1 + sp.log(T)) / 2 + _ETA0 * G ** 2) * (eps + G * sp.sqrt(T)) / sp.sqrt(1 - beta)
CORRECTED = ((Delta + H * eta ** 2 * (1 + sp.log(T)) / 2 + _ETA0 * G ** 2) * (eps + G * sp.sqrt(T))
             / (eta * sp.sqrt(1 - beta)))

_c, _h, _w, _A, _t = sp.symbols("c h w A t", positive=True)
_CYCLE_SQ = (1 - beta) * (_c ** 2 / 4 - eps ** 2 / _h ** 2)

T12_1 = Spec(
    id="T12.1",
    title="Algorithm 9 (the corrected EMA step) on smooth non-convex losses",
    source=Source(section="12", line=1845),
    statement=("Suppose L is H-smooth and G_L Lipschitz, Delta = L(w_1) - L(w_*), E[max_t ||g_t||] <= G_ell. Then "
               "Algorithm 9 guarantees E[L(w_{T+1})] <= E[L(w_1) - sum_t eta_{t-1} ||grad L(w_t)||^2] + H(1 + log T)/2 "
               "+ eta_0 G_L G_ell, and E[sum_t ||grad L(w_t)||^2] <= (Delta + H(1 + log T)/2 + eta_0 G_L G_ell)"
               "(eps + G sqrt T)/sqrt(1 - beta). Checked (second claim) with ||g_t|| <= G surely (the proof's "
               "A_t <= G^2/(1 - beta)), G_L = G_ell = G and eta_0 = c/eps."),
    assumptions=frozenset({"smooth", "lip", "bdd", "lb"}),
    settings=(Setting("alg9", "CorrectedEMAAdaptive", hyper=_HYPER, free=_FREE, noise=("sphere",)),),
    claims=(
        Claim("sum-grad-sq", "expect", sum_grad_sq, PRINTED, "alg9",
              "E sum_t ||grad L(w_t)||^2 <= (Delta + H(1 + log T)/2 + eta_0 G^2)(eps + G sqrt T)/sqrt(1 - beta), "
              "as written",
              erratum=("the proof's sum_t eta_t^2 ||g_t||^2 <= sum_t 1/t forgets eta_t^2 = c^2/B_t, and "
                       "min_t eta_t >= sqrt(1 - beta)/(eps + G sqrt T) forgets c"),
              corrected_by="sum-grad-sq-corrected", witness=str(_ERRATA / "T12.1-sum-grad-sq.json")),
        Claim("sum-grad-sq-corrected", "expect", sum_grad_sq, CORRECTED, "alg9",
              "E sum_t ||grad L(w_t)||^2 <= (Delta + H c^2 (1 + log T)/2 + eta_0 G^2)(eps + G sqrt T)/(c sqrt(1 - beta))"),
    ),
    proof_steps=(
        ProofStep("B_t >= t A_t >= t ||g_t||^2, so eta_t^2 ||g_t||^2 = c^2 ||g_t||^2/B_t <= c^2/t (equality at B_t = t ||g_t||^2)",
                  _c ** 2 * _A / (_t * _A), _c ** 2 / _t),
        ProofStep("A_t = sum_{i<t} beta^i ||g_{t-i}||^2 <= G^2 (1 - beta^t)/(1 - beta) <= G^2/(1 - beta) (t = 5)",
                  G ** 2 * sum(beta ** i for i in range(5)), G ** 2 * (1 - beta ** 5) / (1 - beta)),
        ProofStep("eta_T = c/sqrt(B_T) with sqrt(B_T) <= eps + G sqrt(T/(1 - beta)) <= (eps + G sqrt T)/sqrt(1 - beta): "
                  "dividing the bound on E[eta_T sum ||grad||^2] by c sqrt(1 - beta)/(eps + G sqrt T)",
                  (Delta + H * eta ** 2 * (1 + sp.log(T)) / 2 + _ETA0 * G ** 2)
                  / (eta * sp.sqrt(1 - beta) / (eps + G * sp.sqrt(T))), CORRECTED),
    ),
)

S12_1 = Spec(
    id="S12.1",
    title="Algorithm 8 (the EMA step) can fail to converge; Algorithm 9 converges",
    source=Source(section="12", line=1821),
    statement=("'Unfortunately, the algorithm as described here [Algorithm 8] does not actually converge. The problem is "
               "that the learning rates eta_t may increase quite rapidly during the training.' Algorithm 9 makes them "
               "non-increasing. Encoded: the 2-cycle and the unstable minimiser of Algorithm 8 on L = H w^2/2 (proof "
               "steps; the witness run is in tests/test_adaptive_specs.py), and Algorithm 9's convergence on "
               "exact-gradient instances: min_{t<=T+1} ||grad L(w_t)||^2 <= (Theorem 12.1's corrected bound)/T."),
    assumptions=frozenset({"smooth", "lip", "bdd", "lb"}),
    settings=(Setting("alg9-exact", "CorrectedEMAAdaptive", hyper=_HYPER, free=_FREE, noise=("exact",)),),
    claims=(
        Claim("alg9-min-grad-sq", "sure", min_grad_sq, CORRECTED / T, "alg9-exact",
              "Algorithm 9 with exact gradients: min_t ||grad L(w_t)||^2 <= (Delta + H c^2 (1 + log T)/2 + c G^2/eps)"
              "(eps + G sqrt T)/(c sqrt(1 - beta) T) -> 0"),
    ),
    proof_steps=(
        ProofStep("Algorithm 8's 2-cycle: A = H^2 w^2/(1 - beta) is stationary, beta A + H^2 w^2 = A",
                  beta * _h ** 2 * _w ** 2 / (1 - beta) + _h ** 2 * _w ** 2, _h ** 2 * _w ** 2 / (1 - beta)),
        ProofStep("on the cycle w^2 = (1 - beta)(c^2/4 - eps^2/H^2): (eta H)^2 = c^2 H^2/(eps^2 + A) = 4, so w -> -w",
                  _c ** 2 * _h ** 2 / (eps ** 2 + _h ** 2 * _w ** 2 / (1 - beta)), 4, {_w: sp.sqrt(_CYCLE_SQ)}),
        ProofStep("at the minimiser A_t -> 0 and eta_t -> c/eps: 1 - c H/eps = -(c H - 2 eps)/eps - 1 < -1 when c H > 2 eps",
                  1 - _c * _h / eps, -(_c * _h - 2 * eps) / eps - 1),
    ),
)

SPECS = (S12_1, T12_1)
