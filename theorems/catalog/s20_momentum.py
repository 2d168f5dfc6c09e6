"""Section 20: SGD with momentum (Algorithm 16): the biased-step lemma (L20.1), the momentum error
recursion (L20.2) and the rate (T20.3).

Read against the proofs (each point is a proof step or a claim below):

- Algorithm 16 prints its first step as w_2 = w_1 - m_1, without eta; the proofs (and every later
  step) use w_{t+1} = w_t - eta m_t. ``MomentumSGD`` takes eta; ``MomentumSGD-as-printed`` runs the
  printed first step (the erratum of T20.3).
- L20.2 and T20.3 print eta = alpha/sqrt(48 H); the proof needs eta <= alpha/(4H) and uses
  3 eta/(2 alpha) = sqrt(3)/(8 H), which hold for eta = alpha/(sqrt(48) H) = alpha/(4 sqrt(3) H)
  (the end of T20.3's proof prints a third form, alpha/(H sqrt(48 alpha))). Scaling the loss by c
  (H, Delta, sigma, grad by c) leaves alpha unchanged and must scale eta by 1/c: only
  alpha/(sqrt(48) H) does (tests/test_momentum.py).
- L20.2's proof multiplies E||eps_{t+1}||^2 <= (1 - alpha/2) E||eps_t||^2 + 8 H^2 eta^2/alpha
  E||grad||^2 + alpha^2 sigma^2 by 3 eta/(2 alpha) but multiplies the last two terms by
  3 eta/(4 alpha): the printed eta/8 and 3 sqrt(3) H eta^2 sigma^2 are half of the correct eta/4 and
  6 sqrt(3) H eta^2 sigma^2. (It also prints 2 lambda H^2 eta^2 + H^2 eta^2 for 2 lambda H^2 eta^2
  + 2 H^2 eta^2, harmlessly: the next line bounds both by 4 lambda H^2 eta^2.) The corrected noise
  term is attained: at the minimiser of a quadratic, after a stretch without noise (eps_t = 0), the
  first noisy step gives exactly 6 sqrt(3) H eta^2 sigma^2 (tests/test_momentum.py computes the
  second moments exactly), so the printed 3 sqrt(3) H eta^2 sigma^2 fails by a factor of 2.
- With the corrected L20.2 the potential argument of T20.3 loses its progress: the
  ||grad L(w_t)||^2 terms are -eta/4 + eta/4 = 0, so the printed proof does not give T20.3's bound.
  The bound as stated is still checked (claim ``mean-grad-sq``); a variant with a complete proof
  (eta = alpha/(8 H): -eta/4 + 3 eta/16 = -eta/16) is claim ``mean-grad-sq-eta-alpha/(8H)``.
- T20.3's case alpha < 1/2 prints 2 sqrt(6) sigma sqrt(A)/sqrt(T) (A = 32 sqrt(3) H Delta +
  12 sigma^2), which is the value at the minimising alpha = sqrt(A/(6 T sigma^2)); at the chosen
  alpha = sqrt(A)/(sigma sqrt(T)) the bound is 7 sigma sqrt(A)/sqrt(T). Both are checked.

The momentum buffer is the algorithm's state: every claim of L20.1 and L20.2 is checked at every
step t = 1..T of runs up to the profile's longest horizon, under time-varying noise (decaying,
growing or in bursts: a quiet stretch drives eps_t down and a burst follows, the states where
L20.2 is tightest), and the sure claim of L20.1 also by the gradient adversary; T20.3 runs under
Gaussian noise.
"""
from __future__ import annotations

from pathlib import Path

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import (Delta, H, L_next, L_t, T, c, eps_sq_next, eps_sq_t, eta, grad_sq_t, sigma,
                              sum_grad_sq)

_ERRATA = Path(__file__).parent / "errata"
# One oracle per setting keeps each pytest item within the quick profile's budget (the search runs
# rounds x horizons x (family, oracle) pairs): the time-varying oracle (decaying, growing, bursts)
# reaches the momentum states where the lemmas are tightest; T20.3's rate runs under Gaussian noise.
_ORACLES = ("time-varying",)
alpha = sp.Symbol("alpha", positive=True)
a = sp.Symbol("a", positive=True)            # alpha as a free parameter
_lam = sp.Symbol("lambda", positive=True)    # Young's parameter in L20.2's proof
_g = sp.Symbol("g", nonnegative=True)        # E||grad L(w_t)||^2
_e = sp.Symbol("e", nonnegative=True)        # E||eps_t||^2
_SQRT3 = sp.sqrt(3)
_ETA = alpha / (4 * _SQRT3 * H)              # alpha/(sqrt(48) H): the step the proofs use
_ETA_PRINTED = alpha / sp.sqrt(48 * H)       # alpha/sqrt(48 H): the step the notes print

# The expectation checker compares the replica mean of ``measured`` with a bound that must not depend
# on the run (it reads the bound of the first replica), so the claims keep the random terms of the
# notes' right-hand sides on the measured side: E[X] <= E[Y] + c is checked as E[X - Y] <= c.
_PROGRESS = L_next - L_t + eta / 4 * grad_sq_t - 3 * eta / 4 * eps_sq_t
_RECURSION_LHS = _SQRT3 / (8 * H) * (eps_sq_next - eps_sq_t) + 3 * eta / 4 * eps_sq_t
_NOISE_PRINTED = 3 * _SQRT3 * H * eta ** 2 * sigma ** 2
_NOISE_TERM = 6 * _SQRT3 * H * eta ** 2 * sigma ** 2

L20_1 = Spec(
    id="L20.1",
    title="SGD with momentum: one step along a biased estimate",
    source=Source(section="20", line=2739),
    statement=("Suppose L is H-smooth. Then so long as eta_t <= 1/(4H), E[L(w_{t+1}) - L(w_t)] <= "
               "-eta/4 E||grad L(w_t)||^2 + 3 eta/4 E||eps_t||^2, eps_t = m_t - grad L(w_t), for the iterates of "
               "Algorithm 16 (w_{t+1} = w_t - eta m_t). The proof never uses how m_t was formed: the inequality "
               "holds for every realisation, which the second claim checks surely. Encoded with eta = c/(4H), "
               "c in [0, 1], and alpha in [0.01, 1]."),
    assumptions=frozenset({"smooth", "var"}),
    settings=(Setting("eta-at-most-1/(4H)", "MomentumSGD", hyper={"eta": c / (4 * H), "alpha": a},
                      free={"c": (0.0, 1.0), "a": (0.01, 1.0)}, noise=_ORACLES),),
    claims=(
        Claim("one-step-progress", "expect", _PROGRESS, sp.Integer(0), "eta-at-most-1/(4H)",
              "E[L(w_{t+1}) - L(w_t)] <= -eta/4 E||grad L(w_t)||^2 + 3 eta/4 E||eps_t||^2 "
              "at every step t, for eta <= 1/(4H)"),
        Claim("one-step-progress-surely", "sure", L_next - L_t, -eta / 4 * grad_sq_t + 3 * eta / 4 * eps_sq_t,
              "eta-at-most-1/(4H)", "the proof's pointwise inequality: L(w_{t+1}) - L(w_t) <= -eta/4 ||grad L(w_t)||^2 "
              "+ 3 eta/4 ||eps_t||^2 for every realisation, every step t, eta <= 1/(4H)"),
    ),
    proof_steps=(
        ProofStep("smoothness, Young (lambda = 1), ||a + b||^2 <= 2||a||^2 + 2||b||^2: the coefficient of "
                  "||grad L||^2 is -eta + eta/2 + H eta^2 = -eta/4 at eta = 1/(4H)",
                  -eta + eta / 2 + H * eta ** 2, -eta / 4, {eta: 1 / (4 * H)}),
        ProofStep("... and the coefficient of ||eps_t||^2 is eta/2 + H eta^2 = 3 eta/4 at eta = 1/(4H)",
                  eta / 2 + H * eta ** 2, 3 * eta / 4, {eta: 1 / (4 * H)}),
    ),
)

L20_2 = Spec(
    id="L20.2",
    title="SGD with momentum: the recursion of the momentum error",
    source=Source(section="20", line=2809),
    statement=("For any alpha <= 1/2, setting eta = alpha/sqrt(48H) guarantees sqrt(3)/(8H) E[||eps_{t+1}||^2 - "
               "||eps_t||^2] <= -3 eta/4 E||eps_t||^2 + eta/8 E||grad L(w_t)||^2 + 3 sqrt(3) H eta^2 sigma^2 "
               "(Algorithm 16, L H-smooth, E||r_t||^2 <= sigma^2). As written it fails twice: the step size "
               "alpha/sqrt(48H) is not the proof's alpha/(sqrt(48) H), and the proof halves the last two terms "
               "(see the module docstring). Corrected: with eta = alpha/(sqrt(48) H), sqrt(3)/(8H) E[||eps_{t+1}||^2 "
               "- ||eps_t||^2] <= -3 eta/4 E||eps_t||^2 + eta/4 E||grad L(w_t)||^2 + 6 sqrt(3) H eta^2 sigma^2. "
               "Encoded with alpha in [0.01, 1/2], at every step t."),
    assumptions=frozenset({"smooth", "var"}),
    settings=(
        Setting("printed-eta", "MomentumSGD", hyper={"eta": _ETA_PRINTED.subs(alpha, a), "alpha": a},
                free={"a": (0.01, 0.5)}, noise=("gaussian",)),
        Setting("eta-alpha/(sqrt(48)H)", "MomentumSGD", hyper={"eta": _ETA.subs(alpha, a), "alpha": a},
                free={"a": (0.01, 0.5)}, noise=_ORACLES),
    ),
    claims=(
        Claim("recursion-as-written", "expect", _RECURSION_LHS - eta / 8 * grad_sq_t, _NOISE_PRINTED, "printed-eta",
              "as written: eta = alpha/sqrt(48H) and sqrt(3)/(8H) E[||eps_{t+1}||^2 - ||eps_t||^2] <= -3 eta/4 "
              "E||eps_t||^2 + eta/8 E||grad L(w_t)||^2 + 3 sqrt(3) H eta^2 sigma^2",
              erratum=("the printed eta = alpha/sqrt(48H) is not the proof's alpha/(sqrt(48) H), and the proof "
                       "multiplies the gradient and noise terms by 3 eta/(4 alpha) instead of 3 eta/(2 alpha), "
                       "printing half of eta/4 and 6 sqrt(3) H eta^2 sigma^2"),
              corrected_by="recursion",
              witness=str(_ERRATA / "L20.2-recursion-as-written.json")),
        Claim("recursion-printed-constants", "expect", _RECURSION_LHS - eta / 8 * grad_sq_t, _NOISE_PRINTED,
              "eta-alpha/(sqrt(48)H)",
              "with the proof's eta = alpha/(sqrt(48) H) but the printed constants eta/8 and 3 sqrt(3) H eta^2 sigma^2",
              erratum=("the proof multiplies the gradient and noise terms by 3 eta/(4 alpha) instead of "
                       "3 eta/(2 alpha): eta/8 and 3 sqrt(3) H eta^2 sigma^2 are half of eta/4 and "
                       "6 sqrt(3) H eta^2 sigma^2 (a quiet stretch of noise followed by a burst shows it)"),
              corrected_by="recursion",
              witness=str(_ERRATA / "L20.2-recursion-printed-constants.json")),
        Claim("recursion", "expect", _RECURSION_LHS - eta / 4 * grad_sq_t, _NOISE_TERM, "eta-alpha/(sqrt(48)H)",
              "corrected: with eta = alpha/(sqrt(48) H), sqrt(3)/(8H) E[||eps_{t+1}||^2 - ||eps_t||^2] <= -3 eta/4 "
              "E||eps_t||^2 + eta/4 E||grad L(w_t)||^2 + 6 sqrt(3) H eta^2 sigma^2"),
    ),
    proof_steps=(
        ProofStep("with lambda = 2/alpha and eta = alpha/(4H): (1 - alpha)^2 + 1/lambda + 4 lambda H^2 eta^2 = "
                  "1 - alpha + alpha^2, at most 1 - alpha/2 for alpha <= 1/2",
                  (1 - alpha) ** 2 + 1 / _lam + 4 * _lam * H ** 2 * eta ** 2, 1 - alpha + alpha ** 2,
                  {_lam: 2 / alpha, eta: alpha / (4 * H)}),
        ProofStep("multiplying E||eps_{t+1}||^2 - E||eps_t||^2 <= -alpha/2 e + 8 H^2 eta^2/alpha g + alpha^2 sigma^2 "
                  "by 3 eta/(2 alpha) gives -3 eta/4 e + eta/4 g + 6 sqrt(3) H eta^2 sigma^2 at eta = alpha/(sqrt(48) H)",
                  3 * eta / (2 * alpha) * (-alpha / 2 * _e + 8 * H ** 2 * eta ** 2 / alpha * _g + alpha ** 2 * sigma ** 2),
                  -3 * eta / 4 * _e + eta / 4 * _g + 6 * _SQRT3 * H * eta ** 2 * sigma ** 2,
                  {alpha: 4 * _SQRT3 * H * eta}),
        ProofStep("3 eta/(2 alpha) = sqrt(3)/(8H) at eta = alpha/(sqrt(48) H)", 3 * eta / (2 * alpha), _SQRT3 / (8 * H),
                  {eta: _ETA}),
        ProofStep("eta = alpha/(sqrt(48) H) scales as 1/H: under H -> k H it becomes eta/k",
                  _ETA.subs(H, 7 * H), _ETA / 7),
    ),
)

_A = 32 * _SQRT3 * H * Delta + 12 * sigma ** 2
_ALPHA = sp.Min(sp.Rational(1, 2), sp.sqrt(_A) / (sigma * sp.sqrt(T)))
_BOUND = _A / (T * alpha) + 6 * sigma ** 2 * alpha
_BOUND_PROVABLE = (128 * H * Delta + 24 * sigma ** 2) / (T * alpha) + 24 * sigma ** 2 * alpha
_NOISY = ("gaussian",)

T20_3 = Spec(
    id="T20.3",
    title="SGD with momentum on smooth non-convex losses: O(H Delta/T + (sigma sqrt(H Delta) + sigma^2)/sqrt(T))",
    source=Source(section="20", line=2888),
    statement=("Algorithm 16 with eta = alpha/sqrt(48H) and alpha = min(1/2, sqrt(32 sqrt(3) H Delta + 12 sigma^2)/"
               "(sigma sqrt(T))) guarantees (1/T) sum_t E||grad L(w_t)||^2 <= O(H Delta/T + (sigma sqrt(H Delta) + "
               "sigma^2)/sqrt(T)). Checked before the O(): the proof's explicit (32 sqrt(3) H Delta + 12 sigma^2)/(T "
               "alpha) + 6 sigma^2 alpha, and for alpha < 1/2 its printed 2 sqrt(6) sigma sqrt(A)/sqrt(T). As printed "
               "(first step w_2 = w_1 - m_1, eta = alpha/sqrt(48H)) it fails; with the proof's algorithm and eta = "
               "alpha/(sqrt(48) H) the explicit bound is checked although the printed proof does not establish it "
               "(module docstring); a variant with eta = alpha/(8H) has a complete proof and bound (128 H Delta + "
               "24 sigma^2)/(T alpha) + 24 sigma^2 alpha."),
    assumptions=frozenset({"smooth", "var", "lb"}),
    settings=(
        Setting("as-printed", "MomentumSGD-as-printed", hyper={"eta": _ETA_PRINTED.subs(alpha, _ALPHA), "alpha": _ALPHA},
                noise=_NOISY),
        Setting("tuned", "MomentumSGD", hyper={"eta": _ETA.subs(alpha, _ALPHA), "alpha": _ALPHA}, noise=_NOISY),
        Setting("eta-alpha/(8H)", "MomentumSGD", hyper={"eta": _ALPHA / (8 * H), "alpha": _ALPHA}, noise=_NOISY),
    ),
    claims=(
        Claim("mean-grad-sq-as-written", "expect", sum_grad_sq / T, _BOUND, "as-printed",
              "Algorithm 16 as printed (w_2 = w_1 - m_1) with eta = alpha/sqrt(48H): (1/T) sum_t E||grad L(w_t)||^2 "
              "<= (32 sqrt(3) H Delta + 12 sigma^2)/(T alpha) + 6 sigma^2 alpha",
              erratum=("the printed first step w_2 = w_1 - m_1 has no eta, and the printed eta = alpha/sqrt(48H) does "
                       "not scale as 1/H (the proof needs eta <= alpha/(4H)): on a smooth loss with large H the "
                       "first step overshoots by a factor of about H"),
              corrected_by="mean-grad-sq",
              witness=str(_ERRATA / "T20.3-mean-grad-sq-as-written.json")),
        Claim("mean-grad-sq", "expect", sum_grad_sq / T, _BOUND, "tuned",
              "(1/T) sum_t E||grad L(w_t)||^2 <= (32 sqrt(3) H Delta + 12 sigma^2)/(T alpha) + 6 sigma^2 alpha with "
              "w_{t+1} = w_t - eta m_t from t = 1 and eta = alpha/(sqrt(48) H)"),
        Claim("mean-grad-sq-alpha-below-half", "expect", sum_grad_sq / T,
              2 * sp.sqrt(6) * sigma * sp.sqrt(_A) / sp.sqrt(T), "tuned",
              "if alpha < 1/2: (1/T) sum_t E||grad L(w_t)||^2 <= 2 sqrt(6) sigma sqrt(32 sqrt(3) H Delta + "
              "12 sigma^2)/sqrt(T), as printed", when=alpha < sp.Rational(1, 2)),
        Claim("mean-grad-sq-eta-alpha/(8H)", "expect", sum_grad_sq / T, _BOUND_PROVABLE, "eta-alpha/(8H)",
              "with eta = alpha/(8H) (complete proof, module docstring): (1/T) sum_t E||grad L(w_t)||^2 <= "
              "(128 H Delta + 24 sigma^2)/(T alpha) + 24 sigma^2 alpha"),
    ),
    proof_steps=(
        ProofStep("8/(T eta) (Delta + sqrt(3) sigma^2/(8H)) + 24 sqrt(3) sigma^2 H eta = (32 sqrt(3) H Delta + "
                  "12 sigma^2)/(T alpha) + 6 sigma^2 alpha at eta = alpha/(sqrt(48) H)",
                  8 / (T * eta) * (Delta + _SQRT3 * sigma ** 2 / (8 * H)) + 24 * _SQRT3 * sigma ** 2 * H * eta, _BOUND,
                  {eta: _ETA}),
        ProofStep("with the corrected L20.2 the potential's ||grad L(w_t)||^2 coefficient is -eta/4 + eta/4 = 0 at "
                  "eta = alpha/(sqrt(48) H): the printed proof gives no progress",
                  -eta / 4 + 3 * eta / (2 * alpha) * 8 * H ** 2 * eta ** 2 / alpha, 0, {eta: _ETA}),
        ProofStep("at eta = alpha/(8H) the coefficient is -eta/4 + 3 eta/16 = -eta/16",
                  -eta / 4 + 3 * eta / (2 * alpha) * 8 * H ** 2 * eta ** 2 / alpha, -eta / 16, {eta: alpha / (8 * H)}),
        ProofStep("so sum_t E||grad||^2 <= 16/eta (Delta + 3 sigma^2/(16 H)) + 16 T (3 alpha/2) sigma^2, i.e. T times "
                  "(128 H Delta + 24 sigma^2)/(T alpha) + 24 sigma^2 alpha at eta = alpha/(8H)",
                  16 / eta * (Delta + 3 * sigma ** 2 / (16 * H)) + 16 * T * 3 * alpha / 2 * sigma ** 2,
                  T * _BOUND_PROVABLE, {eta: alpha / (8 * H)}),
        ProofStep("at alpha = sqrt(A)/(sigma sqrt(T)) the explicit bound is 7 sigma sqrt(A)/sqrt(T)",
                  _BOUND, 7 * sigma * sp.sqrt(_A) / sp.sqrt(T), {alpha: sp.sqrt(_A) / (sigma * sp.sqrt(T))}),
        ProofStep("the printed 2 sqrt(6) sigma sqrt(A)/sqrt(T) is its value at the minimiser alpha = sqrt(A/(6 T sigma^2))",
                  _BOUND, 2 * sp.sqrt(6) * sigma * sp.sqrt(_A) / sp.sqrt(T), {alpha: sp.sqrt(_A / (6 * T * sigma ** 2))}),
    ),
)

SPECS = (L20_1, L20_2, T20_3)
