"""Section 15: accelerated gradient descent (Algorithm 11), its momentum form (S15.1), the growth
of its weights alpha_t (Proposition 15.3) and its 1/T^2 rate (Theorem 15.2).

Algorithm 11's sequences alpha_t and S_t = sum_{i<=t} alpha_i enter the bounds as the sympy
functions ``alpha_t`` and ``S_alpha`` of algorithms/accelerated.py, evaluated exactly as the
algorithm computes them."""
from __future__ import annotations

from pathlib import Path

import sympy as sp

from theorems.language.sequences import S_alpha, alpha_t
from theorems.language.spec import Claim, Coupled, ProofStep, Setting, Source, Spec
from theorems.language.symbols import D, H, T, c, coupled_dist, coupled_scale, eta, last_subopt, t

_ERRATA = Path(__file__).parent / "errata"
_EQUAL = coupled_dist + coupled_scale
_STEP = {"eta": c / H}
_FREE = {"c": (0.01, 1.0)}

# alpha_t, alpha_{t-1}, alpha_{t-2} and the vectors of one step as scalars (every relation is linear in them)
_a, _a1, _a2 = sp.symbols("alpha_t alpha_tm1 alpha_tm2", positive=True)
_w, _y, _g, _vp = sp.symbols("w_t y_t g_t v_tm1", real=True)
_DEFINITION = {_a1: sp.sqrt(_a ** 2 - _a)}  # alpha_t^2 - alpha_t = S_{t-1} = alpha_{t-1}^2
_TAU = 1 / _a                                # tau_t = alpha_t / S_t = alpha_t / alpha_t^2
_X = (1 - _TAU) * _w + _TAU * _y
_V = (_y - _w) / _a - eta * _g              # the notes' v_t = (y_t - w_t)/alpha_t - eta grad L(x_t)
_GAP = _a2 ** 2 / _a1 * _vp                  # (7): y_t - w_t = alpha_{t-2}^2/alpha_{t-1} v_{t-1}

S15_1 = Spec(
    id="S15.1",
    title="Algorithm 11 is the two-step momentum integrator with beta_t = alpha_{t-2}^2/(alpha_t alpha_{t-1})",
    source=Source(section="15", line=2149),
    statement=("With v_t = (y_t - w_t)/alpha_t - eta grad L(x_t), beta_1 = 0 and beta_t = alpha_{t-2}^2/(alpha_t "
               "alpha_{t-1}) (t >= 2), Algorithm 11's iterates satisfy x_t = w_t + beta_t v_{t-1}, v_t = beta_t "
               "v_{t-1} - eta grad L(x_t), w_{t+1} = w_t + v_t, 'which is exactly the form of the two-step "
               "momentum integrator used in Algorithm 10'. Algorithm 10 as printed steps w_{t+1} = w_t - v_t from "
               "the look-ahead w_t - beta_t v_{t-1}, so only the form derived here (signs as in Section 15) is "
               "Algorithm 11; both are run next to Algorithm 11 from the same w_1 (eta = c/H, c in [0.01, 1])."),
    assumptions=frozenset({"cvx", "smooth", "minimizer"}),
    settings=(
        Setting("momentum-form", "AcceleratedGD", hyper=_STEP, free=_FREE,
                coupled=Coupled("Algorithm11-momentum", hyper={"eta": eta}, horizon=T)),
        Setting("algorithm-10-as-printed", "AcceleratedGD", hyper=_STEP, free=_FREE,
                coupled=Coupled("Algorithm11-as-Algorithm10", hyper={"eta": eta}, horizon=T)),
    ),
    claims=(
        Claim("momentum-form", "sure", _EQUAL, coupled_scale, "momentum-form",
              "x_t = w_t + beta_t v_{t-1}, v_t = beta_t v_{t-1} - eta grad L(x_t), w_{t+1} = w_t + v_t ends where "
              "Algorithm 11 ends: ||w_{T+1} - w'_{T+1}|| = 0"),
        Claim("algorithm-10-as-printed", "sure", _EQUAL, coupled_scale, "algorithm-10-as-printed",
              "Algorithm 10 as printed (two-step integrator) with beta_t = alpha_{t-2}^2/(alpha_t alpha_{t-1}) ends "
              "where Algorithm 11 ends",
              erratum=("Algorithm 10 and equations (5)-(6) print w_{t+1} = w_t - v_t and the look-ahead "
                       "w_t - beta_t v_{t-1}, with v_t = beta_t v_{t-1} - eta g_t: that climbs the gradient (for "
                       "beta = 0 it is w_{t+1} = w_t + eta grad L(w_t)); Section 15's derivation has w_{t+1} = "
                       "w_t + v_t, so 'exactly the form of Algorithm 10' holds only with Algorithm 10's signs "
                       "corrected"),
              corrected_by="momentum-form", witness=str(_ERRATA / "S15.1-algorithm-10-as-printed.json")),
    ),
    proof_steps=(
        ProofStep("alpha_t - 1 = alpha_{t-1}^2/alpha_t when alpha_t^2 - alpha_t = alpha_{t-1}^2", _a - 1,
                  _a1 ** 2 / _a, _DEFINITION),
        ProofStep("1 - tau_t = alpha_{t-1}^2/alpha_t^2 (tau_t = 1/alpha_t)", 1 - _TAU, _a1 ** 2 / _a ** 2, _DEFINITION),
        ProofStep("w_{t+1} = x_t - eta grad L(x_t) = w_t + v_t", _X - eta * _g, _w + _V),
        ProofStep("y_{t+1} - w_{t+1} = (alpha_{t-1}^2/alpha_t) v_t",
                  (_y - eta * _a * _g) - (_X - eta * _g), _a1 ** 2 / _a * _V, _DEFINITION),
        ProofStep("with (7), v_t = alpha_{t-2}^2/(alpha_t alpha_{t-1}) v_{t-1} - eta grad L(x_t)",
                  _V.subs(_y, _w + _GAP), _a2 ** 2 / (_a * _a1) * _vp - eta * _g),
        ProofStep("with (7), x_t = w_t + beta_t v_{t-1}", _X.subs(_y, _w + _GAP), _w + _a2 ** 2 / (_a * _a1) * _vp),
    ),
)

P15_3 = Spec(
    id="P15.3",
    title="The weights of Algorithm 11 grow quadratically: t^2/9 <= sum_{i<=t} alpha_i <= t^2",
    source=Source(section="15", line=2167),
    statement=("For all t >= 1, t^2/9 <= sum_{i=1}^t alpha_i <= t^2. Further, alpha_t = sum_{i=1}^t alpha_i. "
               "Checked at every step t of Algorithm 11's runs (the sequence does not depend on the loss)."),
    assumptions=frozenset({"smooth"}),  # eta = 1/H; the sequence itself does not depend on the loss
    settings=(Setting("steps", "AcceleratedGD", hyper={"eta": 1 / H}),),
    claims=(
        Claim("lower", "sure", t ** 2 / 9, S_alpha(t), "steps", "t^2/9 <= sum_{i<=t} alpha_i"),
        Claim("upper", "sure", S_alpha(t), t ** 2, "steps", "sum_{i<=t} alpha_i <= t^2"),
        Claim("alpha-equals-sum", "sure", S_alpha(t), alpha_t(t), "steps",
              "alpha_t = sum_{i<=t} alpha_i (alpha_t <= S_t always; this is the other direction)",
              erratum=("Algorithm 11 defines alpha_{t+1}^2 - alpha_{t+1} = sum_{i<=t} alpha_i, i.e. alpha_t^2 = "
                       "sum_{i<=t} alpha_i, which the proof of Theorem 15.2 uses; alpha_t = sum already fails at t = 2 "
                       "(alpha_2 = (1 + sqrt 5)/2 < 1 + alpha_2)"),
              corrected_by="alpha-squared-equals-sum", witness=str(_ERRATA / "P15.3-alpha-equals-sum.json")),
        Claim("alpha-squared-equals-sum", "sure", S_alpha(t), alpha_t(t) ** 2, "steps",
              "alpha_t^2 = sum_{i<=t} alpha_i: S_t <= alpha_t^2 ..."),
        Claim("sum-at-most-alpha-squared", "sure", alpha_t(t) ** 2, S_alpha(t), "steps",
              "... and alpha_t^2 <= S_t"),
    ),
    proof_steps=(
        ProofStep("alpha_{t+1} = (1 + sqrt(1 + 4 S_t))/2 solves a^2 - a = S_t (the proof prints S_{t-1})",
                  ((1 + sp.sqrt(1 + 4 * _y)) / 2) ** 2 - (1 + sp.sqrt(1 + 4 * _y)) / 2, _y),
        ProofStep("upper induction: t^2 + 1 + t <= (t+1)^2 with slack t", (t + 1) ** 2 - (t ** 2 + 1 + t), t),
        ProofStep("lower induction: t^2/9 + t/3 = (t+1)^2/9 + (t - 1)/9", t ** 2 / 9 + t / 3,
                  (t + 1) ** 2 / 9 + (t - 1) / 9),
    ),
)

T15_2 = Spec(
    id="T15.2",
    title="Accelerated gradient descent (Algorithm 11): L(w_{T+1}) - L* <= 9 ||w* - w_1||^2 / (2 T^2 eta)",
    source=Source(section="15.1", line=2157),
    statement=("Suppose L is H-smooth and convex, eta <= 1/H. Then Algorithm 11 guarantees L(w_{T+1}) - L(w*) <= "
               "9 ||w* - w_0||^2/(2 T^2 eta); with eta = 1/H, O(H ||w* - w_0||^2/T^2). The algorithm has no w_0: "
               "the proof ends with ||w* - y_1||^2 = ||w* - w_1||^2, so w_0 is read as w_1 (D). The proof shows "
               "more, S_T (L(w_{T+1}) - L*) <= D^2/(2 eta) with S_T = sum_{t<=T} alpha_t, encoded as "
               "'proof-bound' (its last display writes L(x_T) for L(w_{T+1}))."),
    assumptions=frozenset({"cvx", "smooth", "minimizer"}),
    settings=(
        Setting("eta-at-most-1/H", "AcceleratedGD", hyper=_STEP, free=_FREE),
        Setting("eta-1/H", "AcceleratedGD", hyper={"eta": 1 / H}),
    ),
    claims=(
        Claim("last-iterate", "sure", last_subopt, 9 * D ** 2 / (2 * T ** 2 * eta), "eta-at-most-1/H",
              "L(w_{T+1}) - L(w*) <= 9 ||w* - w_1||^2/(2 T^2 eta) for eta <= 1/H"),
        Claim("proof-bound", "sure", last_subopt, D ** 2 / (2 * eta * S_alpha(T)), "eta-at-most-1/H",
              "L(w_{T+1}) - L(w*) <= ||w* - w_1||^2/(2 eta sum_{t<=T} alpha_t) (the proof's inequality)"),
        Claim("last-iterate-eta-one-over-H", "sure", last_subopt, 9 * H * D ** 2 / (2 * T ** 2), "eta-1/H",
              "with eta = 1/H: L(w_{T+1}) - L(w*) <= 9 H ||w* - w_1||^2/(2 T^2)"),
    ),
    proof_steps=(
        ProofStep("alpha_t^2 = S_t cancels the gradient terms: (eta/2) alpha_t^2 ||g||^2 - S_t (eta/2) ||g||^2 = 0",
                  eta / 2 * _a ** 2 * _g ** 2 - _y * eta / 2 * _g ** 2, 0, {_y: _a ** 2}),
        ProofStep("S_T = T^2/9 turns D^2/(2 eta S_T) into 9 D^2/(2 T^2 eta)", D ** 2 / (2 * eta * _y),
                  9 * D ** 2 / (2 * T ** 2 * eta), {_y: T ** 2 / 9}),
        ProofStep("eta = 1/H turns 9 D^2/(2 T^2 eta) into 9 H D^2/(2 T^2)", 9 * D ** 2 / (2 * T ** 2 * eta),
                  9 * H * D ** 2 / (2 * T ** 2), {eta: 1 / H}),
    ),
)

SPECS = (S15_1, P15_3, T15_2)
