"""Section 17: Adam (Algorithm 12), its bias correction (S17.1), the variance of the
bias-corrected momentum (S17.2) and sign descent moving uphill (S17.3).

The identities are about i.i.d. ("stationary") gradients: each replica of an online round draws
its own sequence from a per-instance law with exact moments (problems/online.py: Gaussian,
symmetric two-point, skewed two-point), Adam runs on it and the first coordinate of its m_hat_t,
v_hat_t is recorded at every step t. Each identity E[X_t] = x_t is checked as two expectation
claims, E[X_t] <= x_t and E[x_t - X_t] <= 0, with the engine's one-sided test at every step; the
closed forms are derived by sympy in the proof steps, and tests/test_adam_moments.py computes
them exactly by enumerating every sign sequence of a two-point law.
"""
from __future__ import annotations

from pathlib import Path

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import T, drift, eta, g_mean, g_sq_mean, g_var, mhat_t, sign_mean, t, vhat_t

_ERRATA = Path(__file__).parent / "errata"
s, b1, b2 = sp.symbols("s b1 b2", real=True)
a, alpha, p, k, scale = sp.symbols("a alpha p k scale", positive=True)
tau = sp.Symbol("tau", integer=True, nonnegative=True)
beta = sp.exp(-a)  # beta in (0, 1) for the derivations
#: The laws of the identities: Gaussian and symmetric two-point. The skewed law of S17.3 is left
#: out here: its g^2 takes a value up to 3000 times its mean with probability 1/20, and a t-test
#: on a few hundred replicas of so skewed a quantity is not reliable at the Bonferroni level.
STATIONARY = ("stationary-gaussian", "stationary-two-point")
#: Replicas per instance: the identities are attained exactly and (m_hat - E g)^2 is a scaled
#: chi-square under the Gaussian law, so its mean needs many replicas for a calibrated test.
REPLICAS = 2048


def _generic(expr: sp.Expr) -> sp.Expr:
    """The branch of a geometric sum for a ratio != 1 (sympy returns a Piecewise)."""
    expr = sp.piecewise_fold(expr)
    return expr.args[-1][0] if isinstance(expr, sp.Piecewise) else expr


def _weights_sq_over_sum_sq() -> sp.Expr:
    return (_generic(sp.Sum(beta ** (2 * tau), (tau, 0, t - 1)).doit())
            / _generic(sp.Sum(beta ** tau, (tau, 0, t - 1)).doit()) ** 2)


def variance_factor(b: sp.Expr) -> sp.Expr:
    """Var(m_hat_t)/sigma^2 = sum_tau b^(2 tau) / (sum_tau b^tau)^2 in closed form."""
    return (1 - b) ** 2 * (1 - b ** (2 * t)) / ((1 - b ** 2) * (1 - b ** t) ** 2)


def displayed_factor(b: sp.Expr) -> sp.Expr:
    """The notes' display: (1 - b)(1 - b^(2t-1)) / ((1 - b^2)(1 - b^t)^2)."""
    return (1 - b) * (1 - b ** (2 * t - 1)) / ((1 - b ** 2) * (1 - b ** t) ** 2)


def _adam_setting(name: str, adversaries: tuple[str, ...], hyper: dict, replicas: int = REPLICAS) -> Setting:
    return Setting(name, "Adam", hyper=hyper, free={"s": (-3.0, 1.0), "b1": (0.0, 0.99), "b2": (0.0, 0.999)},
                   online="free", noise=("resample",), adversaries=adversaries, min_replicas=replicas)


A12 = Spec(
    id="A12",
    title="Adam (Algorithm 12): v_hat_t = g^2 when every gradient has magnitude g",
    source=Source(section="17", line=2448),
    statement=("Algorithm 12 (m_t, v_t exponential moving averages of g_t and g_t^2, divided by 1 - beta^t; "
               "w_{t+1} = w_t - eta_t m_hat_t / sqrt(v_hat_t)). v_t is essentially an average of previous gradients: "
               "if previous gradients always have |g_t| = 1, regardless of the true gradient, then v_hat_t will always "
               "be 1. (Checked with |g_t| = sigma: the symmetric two-point law with mean 0; tests/test_adam.py runs "
               "Algorithm 12 iterate for iterate against torch.optim.Adam.)"),
    assumptions=frozenset(),
    settings=(_adam_setting("constant-magnitude", ("stationary-two-point",),
                            {"eta": 10 ** s, "beta1": b1, "beta2": b2}, 1),),
    claims=(
        Claim("v-hat-upper", "sure", vhat_t, g_sq_mean, "constant-magnitude",
              "v_hat_t <= g^2 at every step when |g_t| = g always", when=sp.Eq(g_mean, 0)),
        Claim("v-hat-lower", "sure", g_sq_mean, vhat_t, "constant-magnitude",
              "v_hat_t >= g^2 at every step when |g_t| = g always", when=sp.Eq(g_mean, 0)),
    ),
    proof_steps=(
        ProofStep("(1 - beta2) sum_{tau<t} beta2^tau / (1 - beta2^t) = 1",
                  lambda: (1 - beta) * _generic(sp.Sum(beta ** tau, (tau, 0, t - 1)).doit()) / (1 - beta ** t), 1),
    ),
)

STATIONARY_ADAM = _adam_setting("stationary", STATIONARY, {"eta": 10 ** s, "beta1": b1, "beta2": b2})
#: The same runs with the profile's replicas, for the display's erratum: at t = 1 it is off by the
#: factor 1/(1 - beta1^2), which a few replicas show (and hypothesis shrinks a failing round cheaply).
DISPLAYED = _adam_setting("stationary-displayed", STATIONARY, {"eta": 10 ** s, "beta1": b1, "beta2": b2}, 1)

S17_1 = Spec(
    id="S17.1",
    title="Bias correction: E[v_hat_t] = g^2 under stationary gradients",
    source=Source(section="17", line=2490),
    statement=("v_t = beta2 v_{t-1} + (1 - beta2) g_t^2 with v_0 = 0; if E[g_t^2] = g^2 for every t then "
               "E[v_t] = (1 - beta2^t) g^2, so v_hat_t = v_t/(1 - beta2^t) has E[v_hat_t] = g^2. (The text expands "
               "with v_0 = eps^2 and drops beta2^t eps^2; after the division that term is beta2^t eps^2/(1 - beta2^t), "
               "999 eps^2 at t = 1 for beta2 = 0.999; Algorithm 12 starts from v_0 = 0, where the identity is exact.)"),
    assumptions=frozenset(),
    settings=(STATIONARY_ADAM,),
    claims=(
        Claim("unbiased-upper", "expect", vhat_t, g_sq_mean, "stationary", "E[v_hat_t] <= g^2 at every step t"),
        Claim("unbiased-lower", "expect", g_sq_mean - vhat_t, 0, "stationary",
              "E[v_hat_t] >= g^2 at every step t (as E[g^2 - v_hat_t] <= 0)"),
    ),
    proof_steps=(
        ProofStep("(1 - beta2) sum_{tau<t} beta2^tau g^2 / (1 - beta2^t) = g^2",
                  lambda: (1 - beta) * _generic(sp.Sum(beta ** tau * g_sq_mean, (tau, 0, t - 1)).doit()) / (1 - beta ** t),
                  g_sq_mean),
    ),
)

S17_2 = Spec(
    id="S17.2",
    title="Variance of the bias-corrected momentum m_hat_t",
    source=Source(section="17.1", line=2514),
    statement=("With g_t = grad L + r_t, r_t independent of variance sigma^2: Var(m_hat_t) = sum_tau beta1^(2 tau) "
               "E[r^2] / (sum_tau beta1^tau)^2 = sigma^2 (1 - beta1)(1 - beta1^(2t-1)) / ((1 - beta1^2)(1 - beta1^t)^2); "
               "for large t about sigma^2 (1 - beta1)/(1 + beta1), and at most 4 (1 - beta1) sigma^2 once "
               "beta1^t <= 1/2."),
    assumptions=frozenset(),
    settings=(STATIONARY_ADAM, DISPLAYED),
    claims=(
        Claim("variance-as-displayed", "expect", g_var * displayed_factor(b1) - (mhat_t - g_mean) ** 2, 0,
              "stationary-displayed",
              "E[(m_hat_t - E g)^2] >= the displayed sigma^2 (1 - b)(1 - b^(2t-1))/((1 - b^2)(1 - b^t)^2)",
              erratum=("the display has (1 - beta1) for (1 - beta1)^2 and beta1^(2t-1) for beta1^(2t): at t = 1 "
                       "it gives sigma^2/(1 - beta1^2), but m_hat_1 = g_1 has variance sigma^2"),
              corrected_by="variance-lower", witness=str(_ERRATA / "S17.2-variance-as-displayed.json")),
        Claim("variance-below-displayed", "expect", (mhat_t - g_mean) ** 2, g_var * displayed_factor(b1),
              "stationary", "E[(m_hat_t - E g)^2] <= the displayed formula (it overstates the variance)"),
        Claim("variance", "expect", (mhat_t - g_mean) ** 2, g_var * variance_factor(b1), "stationary",
              "E[(m_hat_t - E g)^2] <= sigma^2 (1 - b)^2 (1 - b^(2t)) / ((1 - b^2)(1 - b^t)^2)"),
        Claim("variance-lower", "expect", g_var * variance_factor(b1) - (mhat_t - g_mean) ** 2, 0, "stationary",
              "E[(m_hat_t - E g)^2] >= sigma^2 (1 - b)^2 (1 - b^(2t)) / ((1 - b^2)(1 - b^t)^2): the corrected identity"),
        Claim("four-alpha", "expect", (mhat_t - g_mean) ** 2,
              sp.Piecewise((4 * (1 - b1) * g_var, b1 ** t <= sp.Rational(1, 2)), (sp.oo, True)), "stationary",
              "E[(m_hat_t - E g)^2] <= 4 (1 - beta1) sigma^2 at the steps with beta1^t <= 1/2"),
    ),
    proof_steps=(
        ProofStep("sum_tau beta^(2 tau) / (sum_tau beta^tau)^2 = (1 - b)^2 (1 - b^(2t)) / ((1 - b^2)(1 - b^t)^2)",
                  _weights_sq_over_sum_sq, variance_factor(beta)),
        ProofStep("large t: (1 - b)^2 (1 - b^(2t)) / ((1 - b^2)(1 - b^t)^2) -> (1 - b)/(1 + b)",
                  lambda: sp.limit(variance_factor(beta), t, sp.oo), (1 - beta) / (1 + beta)),
        ProofStep("beta1 -> 1 at fixed t: the plain average of t gradients, variance sigma^2 / t",
                  lambda: sp.limit(variance_factor(b2), b2, 1), 1 / t),
        ProofStep("beta1 -> 0: m_hat_t = g_t, variance sigma^2", lambda: sp.limit(variance_factor(b2), b2, 0), 1),
        ProofStep("with beta = 1 - alpha: (1 - beta)^2 / (1 - beta^2) = alpha / (2 - alpha)",
                  ((1 - b2) ** 2 / (1 - b2 ** 2)).subs(b2, 1 - alpha), alpha / (2 - alpha)),
        ProofStep("first order in alpha = 1 - beta, (1 - beta)/(1 + beta) is alpha/2 (the notes say sigma^2 (1 - beta))",
                  lambda: sp.series(alpha / (2 - alpha), alpha, 0, 2).removeO(), alpha / 2),
    ),
)

SIGN_DESCENT = _adam_setting("sign-descent", ("skewed",), {"eta": 10 ** s, "beta1": 0, "beta2": 0}, 1024)

S17_3 = Spec(
    id="S17.3",
    title="Adam with beta1 = beta2 = 0 (sign descent) can move in the wrong direction",
    source=Source(section="17.2", line=2544),
    statement=("With beta2 = beta1 = 0 the update is w_{t+1}[i] = w_t[i] - eta_t g_t[i]/|g_t[i]|: the sign of the "
               "gradient. For a distribution of g_t whose sign is, on average, different from the sign of E[g_t], the "
               "update makes negative progress in expectation. Witness: g = s with probability p > 1/2, -a s otherwise, "
               "a > p/(1 - p): E g = s (p - a (1 - p)) < 0 but E sign(g) = 2p - 1 > 0, so on L(w) = E[g] sum_i w[i] "
               "the expected change of the loss after T steps is -eta T E[g] E[sign g] d > 0."),
    assumptions=frozenset(),
    settings=(SIGN_DESCENT,),
    claims=(
        Claim("uphill", "expect", -g_mean * drift, 0, "sign-descent",
              "E[L(w_{T+1}) - L(w_1)] >= 0 per coordinate (as E[-(L(w_{T+1}) - L(w_1))/d] <= 0)"),
        Claim("uphill-rate", "expect", g_mean * drift, -eta * T * g_mean * sign_mean, "sign-descent",
              "E[L(w_{T+1}) - L(w_1)]/d <= -eta T E[g] E[sign g] (= eta T |E g| (2p - 1) > 0)"),
        Claim("uphill-rate-attained", "expect", -eta * T * g_mean * sign_mean - g_mean * drift, 0, "sign-descent",
              "E[L(w_{T+1}) - L(w_1)]/d >= -eta T E[g] E[sign g]: the rate is exact"),
    ),
    proof_steps=(
        ProofStep("E[sign g] = p - (1 - p) = 2p - 1", p * 1 + (1 - p) * (-1), 2 * p - 1),
        ProofStep("E g = s p - a s (1 - p) = s p (1 - k) at a = k p/(1 - p): negative for k > 1",
                  scale * p - a * scale * (1 - p), scale * p * (1 - k), {a: k * p / (1 - p)}),
    ),
)

SPECS = (A12, S17_1, S17_2, S17_3)
