"""Section 24: normalized SGD with momentum and with variance-reduced momentum.

The momentum error ||m_t - grad L(w_t)|| is a probe of the run (``est_err_t``, algorithms.run), so
Lemmas 24.1 and 24.4 are checked at every step; Lemma 24.2 (which holds for any m_t) surely at
every step of runs whose m_t is as bad as the oracles make it (heavy-tailed noise included). The
theorems are checked at the tuned alpha and eta, and their explicit bounds before the tuning
(``any-alpha-eta``) at alpha = T^(-a) and eta = c times the tuned scale, a and c drawn per instance.

Section 24.1's H bounds the smoothness of every sampled loss l(., z): ``H_ell`` (max_i H_i for the
finite-sum oracle, H for the additive-noise oracles, whose gradient differences carry no noise).

Findings (scaling: multiplying the loss by s multiplies Delta, H, sigma and every gradient norm by
s and leaves eta and alpha unchanged, so each bound must scale by s; tests/test_normalized_specs.py):
- Lemma 24.2 holds as stated, but its first case is argued wrongly: from ||eps|| >= ||grad||/2 the
  proof writes 2||eps|| <= -||grad||/3 + 13||eps||/6, which needs ||grad|| <= ||eps||/2. The
  statement survives: for ||eps|| >= ||grad|| the step direction is arbitrary and ||grad|| <=
  -||grad||/3 + 13||eps||/6 holds since ||eps|| >= 8||grad||/13; for ||grad||/2 <= ||eps|| < ||grad||
  the angle between grad and m is below 90 degrees, so -<grad, m/||m||> <= 0 <= -||grad||/3 +
  13||eps||/6.
- Theorem 24.3's last term, 13 sqrt(T)/(2 sqrt(Delta H)), does not scale like a sum of gradient
  norms (it scales by 1/s): the proof's 13 sigma/(2 alpha) at alpha = sqrt(Delta H)/(sigma sqrt T)
  is 13 sigma^2 sqrt(T)/(2 sqrt(Delta H)). The claim is kept as written (no run can violate it: the
  term only matters when sigma^2 >> Delta H T^(1/3), where the other terms dominate what a run
  reaches) next to the proof's bound.
- Theorem 24.5 prints 11 sqrt(Delta H T)^(2/3) = 11 (Delta H T)^(1/3); the proof's algebra gives
  11 sqrt(Delta H) T^(2/3) (erratum with a witness; the corrected claim holds).
"""
from __future__ import annotations

from pathlib import Path

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import (Delta, H, H_ell, L_next, L_t, T, c, est_err_t, eta, grad_sq_t, sigma,
                              sum_grad_norm, t)

alpha = sp.Symbol("alpha", positive=True)
_a = sp.Symbol("a", nonnegative=True)  # alpha = T^(-a): from 1 down to 1/T
_q = sp.Symbol("q", positive=True)  # (1 - alpha)^(t-1) in Lemma 24.1's proof
_ERRATA = Path(__file__).parent / "errata"
# The sphere oracle attains E||g - grad L|| = sigma; the finite-sum sampler's noise depends on w (the
# only one under which Lemma 24.4's s_t is not 0; admissible on the Lipschitz finite sum ``logistic``).
# Fewer oracles keep the quick profile fast: its budget is per (family, oracle) pair (and a finite-sum
# round on ``logistic`` costs more than ten sphere rounds), so only Lemma 24.4 runs on both.
_NOISE = ("sphere", "finite-sum")
_ANY_ALPHA = T ** (-_a)

# Theorem 24.3's tuning and bound
_ALPHA_3 = sp.Min(1, sp.sqrt(Delta * H) / (sigma * sp.sqrt(T)))
_ETA_3 = sp.sqrt(Delta * _ALPHA_3) / sp.sqrt(H * T)
_PRE_3 = 3 * Delta / eta + 8 * H * T * eta / alpha + 13 * T * sigma * sp.sqrt(alpha) / 2 + 13 * sigma / (2 * alpha)
_AS_WRITTEN_3 = (24 * sp.sqrt(Delta * H * T) + sp.Rational(35, 2) * (Delta * H * T ** 3 * sigma ** 2) ** sp.Rational(1, 4)
                 + 13 * sp.sqrt(T) / (2 * sp.sqrt(Delta * H)))
_PROOF_3 = (24 * sp.sqrt(Delta * H * T) + sp.Rational(35, 2) * (Delta * H * T ** 3 * sigma ** 2) ** sp.Rational(1, 4)
            + 13 * sigma ** 2 * sp.sqrt(T) / (2 * sp.sqrt(Delta * H)))

# Theorem 24.5's tuning and bounds (H is H_ell: every sampled loss is H-smooth)
_ALPHA_5 = T ** sp.Rational(-2, 3)
_ETA_5 = sp.sqrt(Delta * sp.sqrt(_ALPHA_5)) / sp.sqrt(H_ell * T)
_CAREFUL_ALPHA_5 = sp.Min(1, (Delta * H_ell) ** sp.Rational(2, 3) / (sigma ** sp.Rational(4, 3) * T ** sp.Rational(2, 3)))
_PRE_5 = (3 * Delta / eta + 8 * H_ell * T * eta / sp.sqrt(alpha) + 13 * T * sigma * sp.sqrt(alpha) / 2
          + 13 * sigma / (2 * alpha))
_T23 = T ** sp.Rational(2, 3)

L24_1 = Spec(
    id="L24.1",
    title="Normalized SGD with momentum: the momentum error",
    source=Source(section="24", line=3448),
    statement=("Suppose L is H-smooth and E||grad l(w, z) - grad L(w)||^2 <= sigma^2 for all w. Then normalized "
               "gradient descent with momentum gives E||m_t - grad L(w_t)|| <= (1 - alpha)^t sigma + sigma sqrt(alpha) "
               "+ H eta/alpha."),
    assumptions=frozenset({"smooth", "var", "lb"}),
    settings=(Setting("any-alpha-eta", "NormalizedSGDMomentum",
                      hyper={"alpha": _ANY_ALPHA, "eta": c * sp.sqrt(Delta * _ANY_ALPHA / (H * T))},
                      free={"a": (0.0, 1.0), "c": (0.05, 20.0)}, noise=("sphere",)),),
    claims=(Claim("momentum-error", "expect", est_err_t,
                  (1 - alpha) ** t * sigma + sigma * sp.sqrt(alpha) + H * eta / alpha, "any-alpha-eta",
                  "at every step t: E||m_t - grad L(w_t)|| <= (1 - alpha)^t sigma + sigma sqrt(alpha) + H eta/alpha"),),
    proof_steps=(
        ProofStep("the r_1 split: with q = (1 - alpha)^(t-1), q = (1 - alpha) q + alpha q = (1 - alpha)^t + "
                  "alpha (1 - alpha)^(t-1)", _q, (1 - alpha) * _q + alpha * _q),
        ProofStep("sum_{tau>=0} (1 - alpha)^tau H eta = H eta/(1 - (1 - alpha)) = H eta/alpha",
                  H * eta / (1 - (1 - alpha)), H * eta / alpha),
        ProofStep("alpha sigma sqrt(sum_{tau>=0} (1 - alpha)^tau) = sigma sqrt(alpha)",
                  alpha * sigma * sp.sqrt(1 / alpha), sigma * sp.sqrt(alpha)),
    ),
)

L24_2 = Spec(
    id="L24.2",
    title="One normalized step with any estimate m_t",
    source=Source(section="24", line=3522),
    statement=("Define eps_t = m_t - grad L(w_t). Then L(w_{t+1}) <= L(w_t) - (eta/3)||grad L(w_t)|| + (13 eta/6)||eps_t|| "
               "+ H eta^2/2 (for w_{t+1} = w_t - eta m_t/||m_t||, L H-smooth, m_t arbitrary)."),
    assumptions=frozenset({"smooth", "lb"}),
    settings=(Setting("any-estimate", "NormalizedSGDMomentum",
                      hyper={"alpha": _ANY_ALPHA, "eta": c * sp.sqrt(Delta / H)},
                      free={"a": (0.0, 1.0), "c": (0.001, 3.0)},
                      noise=("heavy-tailed",)),),
    claims=(Claim("normalized-step", "sure", L_next,
                  L_t - eta / 3 * sp.sqrt(grad_sq_t) + 13 * eta / 6 * est_err_t + H * eta ** 2 / 2, "any-estimate",
                  "at every step t: L(w_{t+1}) <= L(w_t) - (eta/3)||grad L(w_t)|| + (13 eta/6)||eps_t|| + H eta^2/2"),),
    proof_steps=(
        ProofStep("case ||eps|| <= ||grad||/2: (||grad||^2/2)/(3||grad||/2) = ||grad||/3",
                  (sp.Symbol("g", positive=True) ** 2 / 2) / (3 * sp.Symbol("g", positive=True) / 2),
                  sp.Symbol("g", positive=True) / 3),
        ProofStep("case ||eps|| >= 8||grad||/13: -||grad||/3 + 13||eps||/6 - ||grad|| = 13(||eps|| - 8||grad||/13)/6 >= 0",
                  -sp.Symbol("g") / 3 + 13 * sp.Symbol("e") / 6 - sp.Symbol("g"),
                  13 * (sp.Symbol("e") - 8 * sp.Symbol("g") / 13) / 6),
    ),
)

T24_3 = Spec(
    id="T24.3",
    title="Normalized SGD with momentum on smooth non-convex losses: O(T^(3/4)) sum of gradient norms",
    source=Source(section="24", line=3546),
    statement=("Define Delta = L(w_1) - L(w*). Suppose L is H-smooth and g_t has variance at most sigma^2. Then with "
               "alpha = min(1, sqrt(Delta H)/(sigma sqrt(T))) and eta = sqrt(Delta alpha)/sqrt(H T), "
               "E[sum_{t=1}^T ||grad L(w_t)||] <= 24 sqrt(Delta H T) + 35 (Delta H T^3 sigma^2)^(1/4)/2 + "
               "13 sqrt(T)/(2 sqrt(Delta H)) <= O(T^(3/4))."),
    assumptions=frozenset({"smooth", "var", "lb"}),
    settings=(
        Setting("tuned", "NormalizedSGDMomentum", hyper={"alpha": _ALPHA_3, "eta": _ETA_3}, noise=("sphere",)),
        Setting("any-alpha-eta", "NormalizedSGDMomentum",
                hyper={"alpha": _ANY_ALPHA, "eta": c * sp.sqrt(Delta * _ANY_ALPHA / (H * T))},
                free={"a": (0.0, 1.0), "c": (0.05, 20.0)}, noise=("sphere",)),
    ),
    claims=(
        Claim("sum-grad-norm", "expect", sum_grad_norm, _AS_WRITTEN_3, "tuned",
              "E[sum_t ||grad L(w_t)||] <= 24 sqrt(Delta H T) + 35 (Delta H T^3 sigma^2)^(1/4)/2 + 13 sqrt(T)/(2 sqrt(Delta H)) "
              "(as written; the last term does not scale like the left side)"),
        Claim("sum-grad-norm-proof", "expect", sum_grad_norm, _PROOF_3, "tuned",
              "the proof's bound: the last term is 13 sigma/(2 alpha) = 13 sigma^2 sqrt(T)/(2 sqrt(Delta H))"),
        Claim("before-tuning", "expect", sum_grad_norm, _PRE_3, "any-alpha-eta",
              "for any alpha in (0, 1] and eta > 0: E[sum_t ||grad L(w_t)||] <= 3 Delta/eta + 8 H T eta/alpha + "
              "13 T sigma sqrt(alpha)/2 + 13 sigma/(2 alpha)"),
    ),
    proof_steps=(
        ProofStep("H T eta^2/2 + 13 H T eta^2/(6 alpha) <= 8 H T eta^2/(3 alpha) at alpha = 1 (equality)",
                  H * T * eta ** 2 / 2 + 13 * H * T * eta ** 2 / (6 * alpha), 8 * H * T * eta ** 2 / (3 * alpha),
                  {alpha: 1}),
        ProofStep("eta = sqrt(Delta alpha/(H T)): 3 Delta/eta + 8 H T eta/alpha = 11 sqrt(Delta H T)/sqrt(alpha)",
                  3 * Delta / eta + 8 * H * T * eta / alpha, 11 * sp.sqrt(Delta * H * T) / sp.sqrt(alpha),
                  {eta: sp.sqrt(Delta * alpha / (H * T))}),
        ProofStep("alpha = sqrt(Delta H)/(sigma sqrt T): 11 sqrt(Delta H T/alpha) + 13 T sigma sqrt(alpha)/2 = "
                  "35 (Delta H T^3 sigma^2)^(1/4)/2",
                  11 * sp.sqrt(Delta * H * T / alpha) + 13 * T * sigma * sp.sqrt(alpha) / 2,
                  sp.Rational(35, 2) * (Delta * H) ** sp.Rational(1, 4) * sp.sqrt(sigma) * T ** sp.Rational(3, 4),
                  {alpha: sp.sqrt(Delta * H) / (sigma * sp.sqrt(T))}),
        ProofStep("and there 13 sigma/(2 alpha) = 13 sigma^2 sqrt(T)/(2 sqrt(Delta H)) (the statement drops sigma^2)",
                  13 * sigma / (2 * alpha), 13 * sigma ** 2 * sp.sqrt(T) / (2 * sp.sqrt(Delta * H)),
                  {alpha: sp.sqrt(Delta * H) / (sigma * sp.sqrt(T))}),
    ),
)

L24_4 = Spec(
    id="L24.4",
    title="Normalized SGD with variance-reduced momentum: the momentum error",
    source=Source(section="24.1", line=3608),
    statement=("Suppose l(w, z) is H-smooth for all z and E||grad l(w, z) - grad L(w)||^2 <= sigma^2 for all w. Then "
               "normalized gradient descent with variance-reduced momentum gives E||m_t - grad L(w_t)|| <= "
               "(1 - alpha)^t sigma + sigma sqrt(alpha) + H eta/sqrt(alpha)."),
    assumptions=frozenset({"smooth", "var", "lb"}),
    settings=(Setting("any-alpha-eta", "NormalizedSGDVR",
                      hyper={"alpha": _ANY_ALPHA, "eta": c * sp.sqrt(Delta * sp.sqrt(_ANY_ALPHA) / (H_ell * T))},
                      free={"a": (0.0, 1.0), "c": (0.05, 20.0)}, noise=_NOISE),),
    claims=(Claim("momentum-error", "expect", est_err_t,
                  (1 - alpha) ** t * sigma + sigma * sp.sqrt(alpha) + H_ell * eta / sp.sqrt(alpha), "any-alpha-eta",
                  "at every step t: E||m_t - grad L(w_t)|| <= (1 - alpha)^t sigma + sigma sqrt(alpha) + H eta/sqrt(alpha)"),),
    proof_steps=(
        ProofStep("H eta sqrt(sum_{tau>=0} (1 - alpha)^(2 tau)) <= H eta sqrt(1/alpha): the geometric sum is "
                  "1/(alpha (2 - alpha))",
                  1 / (1 - (1 - alpha) ** 2), 1 / (alpha * (2 - alpha))),
    ),
)

T24_5 = Spec(
    id="T24.5",
    title="Normalized SGD with variance-reduced momentum: O(T^(2/3)) sum of gradient norms",
    source=Source(section="24.1", line=3666),
    statement=("Define Delta = L(w_1) - L(w*). Suppose l(w, z) is H-smooth for all z and grad l(w, z) has variance at "
               "most sigma^2. Then with alpha = 1/T^(2/3) and eta = sqrt(Delta sqrt(alpha))/sqrt(H T), "
               "E[sum_{t=1}^T ||grad L(w_t)||] <= 11 sqrt(Delta H T)^(2/3) + 13 sigma T^(2/3) <= O(T^(2/3)). With "
               "alpha = min(1, (Delta H)^(2/3)/(sigma^(4/3) T^(2/3))): <= 34 sqrt(Delta H T) if alpha = 1, otherwise "
               "<= 35 (Delta H sigma)^(1/3) T^(2/3)/2 + 13 sigma^(7/3) T^(2/3)/(2 (Delta H)^(2/3))."),
    assumptions=frozenset({"smooth", "var", "lb"}),
    settings=(
        Setting("tuned", "NormalizedSGDVR", hyper={"alpha": _ALPHA_5, "eta": _ETA_5}, noise=("sphere",)),
        Setting("careful", "NormalizedSGDVR",
                hyper={"alpha": _CAREFUL_ALPHA_5,
                       "eta": sp.sqrt(Delta * sp.sqrt(_CAREFUL_ALPHA_5)) / sp.sqrt(H_ell * T)},
                noise=("sphere",)),
        Setting("any-alpha-eta", "NormalizedSGDVR",
                hyper={"alpha": _ANY_ALPHA, "eta": c * sp.sqrt(Delta * sp.sqrt(_ANY_ALPHA) / (H_ell * T))},
                free={"a": (0.0, 1.0), "c": (0.05, 20.0)}, noise=("sphere",)),
    ),
    claims=(
        Claim("sum-grad-norm", "expect", sum_grad_norm,
              11 * sp.sqrt(Delta * H_ell * T) ** sp.Rational(2, 3) + 13 * sigma * _T23, "tuned",
              "E[sum_t ||grad L(w_t)||] <= 11 sqrt(Delta H T)^(2/3) + 13 sigma T^(2/3), as written",
              erratum=("sqrt(Delta H T)^(2/3) = (Delta H T)^(1/3) does not scale like the left side; the proof's "
                       "11 sqrt(Delta H T)/alpha^(1/4) at alpha = T^(-2/3) is 11 sqrt(Delta H) T^(2/3)"),
              corrected_by="sum-grad-norm-corrected",
              witness=str(_ERRATA / "T24.5-sum-grad-norm.json")),
        Claim("sum-grad-norm-corrected", "expect", sum_grad_norm,
              11 * sp.sqrt(Delta * H_ell) * _T23 + 13 * sigma * _T23, "tuned",
              "corrected: E[sum_t ||grad L(w_t)||] <= 11 sqrt(Delta H) T^(2/3) + 13 sigma T^(2/3)"),
        Claim("careful-alpha-one", "expect", sum_grad_norm, 34 * sp.sqrt(Delta * H_ell * T), "careful",
              "when alpha = min(1, (Delta H)^(2/3)/(sigma^(4/3) T^(2/3))) is 1: E[sum_t ||grad L(w_t)||] <= 34 sqrt(Delta H T)",
              when=sigma ** sp.Rational(4, 3) * _T23 <= (Delta * H_ell) ** sp.Rational(2, 3)),
        Claim("careful-alpha-below-one", "expect", sum_grad_norm,
              sp.Rational(35, 2) * (Delta * H_ell * sigma) ** sp.Rational(1, 3) * _T23
              + 13 * sigma ** sp.Rational(7, 3) * _T23 / (2 * (Delta * H_ell) ** sp.Rational(2, 3)), "careful",
              "when that alpha is below 1: E[sum_t ||grad L(w_t)||] <= 35 (Delta H sigma)^(1/3) T^(2/3)/2 + "
              "13 sigma^(7/3) T^(2/3)/(2 (Delta H)^(2/3))",
              when=sigma ** sp.Rational(4, 3) * _T23 > (Delta * H_ell) ** sp.Rational(2, 3)),
        Claim("before-tuning", "expect", sum_grad_norm, _PRE_5, "any-alpha-eta",
              "for any alpha in (0, 1] and eta > 0: E[sum_t ||grad L(w_t)||] <= 3 Delta/eta + 8 H T eta/sqrt(alpha) + "
              "13 T sigma sqrt(alpha)/2 + 13 sigma/(2 alpha)"),
    ),
    proof_steps=(
        ProofStep("eta = sqrt(Delta sqrt(alpha)/(H T)): 3 Delta/eta + 8 H T eta/sqrt(alpha) = 11 sqrt(Delta H T)/alpha^(1/4)",
                  3 * Delta / eta + 8 * H_ell * T * eta / sp.sqrt(alpha),
                  11 * sp.sqrt(Delta * H_ell * T) / alpha ** sp.Rational(1, 4),
                  {eta: sp.sqrt(Delta * sp.sqrt(alpha) / (H_ell * T))}),
        ProofStep("alpha = T^(-2/3): 11 sqrt(Delta H T)/alpha^(1/4) + 13 T sigma sqrt(alpha)/2 + 13 sigma/(2 alpha) = "
                  "11 sqrt(Delta H) T^(2/3) + 13 sigma T^(2/3)",
                  11 * sp.sqrt(Delta * H_ell * T) / alpha ** sp.Rational(1, 4) + 13 * T * sigma * sp.sqrt(alpha) / 2
                  + 13 * sigma / (2 * alpha),
                  11 * sp.sqrt(Delta * H_ell) * _T23 + 13 * sigma * _T23, {alpha: _ALPHA_5}),
        ProofStep("alpha = (Delta H)^(2/3)/(sigma^(4/3) T^(2/3)): the same sum is 35 (Delta H sigma)^(1/3) T^(2/3)/2 + "
                  "13 sigma^(7/3) T^(2/3)/(2 (Delta H)^(2/3))",
                  11 * sp.sqrt(Delta * H_ell * T) / alpha ** sp.Rational(1, 4) + 13 * T * sigma * sp.sqrt(alpha) / 2
                  + 13 * sigma / (2 * alpha),
                  sp.Rational(35, 2) * (Delta * H_ell * sigma) ** sp.Rational(1, 3) * _T23
                  + 13 * sigma ** sp.Rational(7, 3) * _T23 / (2 * (Delta * H_ell) ** sp.Rational(2, 3)),
                  {alpha: (Delta * H_ell) ** sp.Rational(2, 3) / (sigma ** sp.Rational(4, 3) * _T23)}),
    ),
)

SPECS = (L24_1, L24_2, T24_3, L24_4, T24_5)
