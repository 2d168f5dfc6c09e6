"""The specs of sections 10.1-12 (theorems/catalog/s10_adagrad.py, s11_noise.py, s12_ema.py): each
claim holds on a round and is violated there once its bound is made smaller; every statement is
checked by scaling arguments (each side must scale the same way when the loss or the parameter is
rescaled) and at T = 1 over tiny and huge constants; each erratum's as-written claim is violated
on its witness round where the corrected claim holds."""
from __future__ import annotations

import dataclasses
import itertools
import json
import math
from pathlib import Path

import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from theorems.catalog import CATALOG
from theorems.engine.claims import evaluate_claim
from theorems.engine.counterexample import replay
from theorems.engine.profiles import PROFILES
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round
from theorems.language.evaluate import evaluate
from theorems.language.symbols import D_sdn, Delta, G, H, T, eta, sigma

QUICK = PROFILES["quick"]
eps = sp.Symbol("eps", positive=True)
beta = sp.Symbol("beta", positive=True)


def _round(spec_id: str, name: str, family: str, oracle: str, horizon: int, dim: int, seed: int = 0,
           algorithm: str | None = None):
    spec = CATALOG[spec_id]
    claim = spec.claim(name)
    key = RoundKey(spec_id, claim.setting, family, oracle, seed, horizon, dim, QUICK.batch_size, QUICK.replicas,
                   "cpu", algorithm)
    return claim, build_round(spec, key)


def _judge(claim, data):
    return evaluate_claim(claim, data, QUICK.level, QUICK.rtol, QUICK.atol)


#: (result, claim, family, oracle, T, dimension, a factor below the round's worst tightness)
ROUNDS = [
    ("T10.1", "descent-inequality", "huber", "sphere", 64, 2, 0.9),
    ("T10.3", "mean-grad-norm-corrected", "cosine-wells", "sphere", 64, 2, 0.5),
    ("T10.3", "root-sum-grad-sq-explicit", "cosine-wells", "sphere", 64, 2, 0.6),
    ("T11.1", "mean-norm-below-rms", "cosine-wells", "time-varying", 64, 2, 0.99),
    ("T11.1", "rms-grad-corrected", "cosine-wells", "time-varying", 64, 2, 0.6),
    ("S11.1", "rms-grad-corrected", "cosine-wells", "state-dependent", 64, 2, 0.5),
    ("T12.1", "sum-grad-sq-corrected", "cosine-wells", "sphere", 64, 2, 0.1),
    ("S12.1", "alg9-min-grad-sq", "cosine-wells", "exact", 64, 2, 0.1),
]


@pytest.mark.parametrize("spec_id, name, family, oracle, horizon, dim, factor", ROUNDS,
                         ids=[f"{r[0]}:{r[1]}:{r[2]}" for r in ROUNDS])
def test_claim_holds_but_fails_with_a_smaller_bound(spec_id, name, family, oracle, horizon, dim, factor) -> None:
    claim, data = _round(spec_id, name, family, oracle, horizon, dim)
    held = _judge(claim, data)
    assert held.applicable > 0 and held.violation is None
    assert held.worst.tightness > factor
    shrunk = dataclasses.replace(claim, bound=claim.bound * factor / 2)
    assert _judge(shrunk, data).violation is not None


ERRATA = [("T10.3", "mean-grad-norm"), ("T11.1", "rms-grad"), ("S11.1", "mean-grad-sq"), ("T12.1", "sum-grad-sq")]


@pytest.mark.parametrize("spec_id, name", ERRATA, ids=[f"{s}:{c}" for s, c in ERRATA])
def test_as_written_is_violated_on_its_witness_where_the_corrected_claim_holds(spec_id: str, name: str) -> None:
    """The stored witness replays as a violation with a finite bound (not merely K < 0), and the
    corrected claim has no violation on the witness's whole round."""
    spec = CATALOG[spec_id]
    claim = spec.claim(name)
    document = json.loads(Path(claim.witness).read_text())
    outcome = replay(document, spec)
    assert outcome.violated and math.isfinite(outcome.bound) and outcome.measured > outcome.bound
    data = build_round(spec, RoundKey(**document["round"]))
    assert _judge(spec.claim(claim.corrected_by), data).violation is None


def test_t10_3_printed_k_is_negative_where_eps_exceeds_the_gradients() -> None:
    """K as printed: log(T(G^2 + sigma^2)/eps^2) < 0 once eps^2 > T(G^2 + sigma^2); with
    c = sqrt(Delta/H) and eps = 3 G (T = 1, sigma = 0) K = sqrt(Delta H)(1 - log 3) + G/3 < 0 for
    G small against sqrt(Delta H), so sqrt(K) is not real; the corrected K is positive."""
    from theorems.catalog.s10_adagrad import K_CORRECTED, K_PRINTED
    at = {Delta: 1, H: 1, eta: 1, eps: sp.Rational(3, 10), G: sp.Rational(1, 10), sigma: 0, T: 1}
    assert K_PRINTED.subs(at) < 0 < K_CORRECTED.subs(at)


# ---------------------------------------------------------------------------------------------
# scaling: L -> s L multiplies Delta, H, sigma, eps (a gradient scale: eps^2 is added to squared
# gradients) and every gradient by s and leaves eta (the notes' c, a distance: ||eta_t g_t|| <= c)
# and beta unchanged; w -> lam w multiplies H by 1/lam^2, sigma, eps and gradients by 1/lam, eta by lam.

_s, _lam = sp.symbols("s lam", positive=True)
#: trace symbols that scale like a power of a gradient
_GRADIENT_POWER = {"sum_grad_norm": 1, "sum_grad_sq": 2, "sum_noise_var": 2, "min_grad_sq": 2, "grad_sq_t": 2,
                   "noise_var_t": 2}
#: trace symbols and constants that are loss values
_LOSS_VALUES = {"last_subopt", "L1", "Lstar"}


def _scaled(expr: sp.Expr, loss: bool) -> sp.Expr:
    k = _s if loss else 1 / _lam
    subs = {Delta: (_s if loss else 1) * Delta, H: (_s if loss else 1 / _lam ** 2) * H, sigma: k * sigma,
            G: k * G, eps: k * eps, eta: (1 if loss else _lam) * eta, D_sdn: D_sdn, beta: beta}
    for symbol in sp.sympify(expr).free_symbols:
        if symbol.name in _GRADIENT_POWER:
            subs[symbol] = k ** _GRADIENT_POWER[symbol.name] * symbol
        elif symbol.name in _LOSS_VALUES and loss:
            subs[symbol] = _s * symbol
    return sp.sympify(expr).subs(subs, simultaneous=True)


def consistent(spec_id: str, name: str, loss: bool) -> bool:
    """Whether measured - bound of the claim scales by one power of the scale factor."""
    claim = CATALOG[spec_id].claim(name)
    side = claim.measured - claim.bound
    ratio = sp.simplify(_scaled(side, loss) / side)
    return not ratio.free_symbols - {_s, _lam}


SCALE_CONSISTENT = [("T10.1", "descent-inequality"), ("T10.3", "mean-grad-norm-corrected"), ("T10.3", "root-sum-grad-sq-explicit"),
                    ("T11.1", "mean-norm-below-rms"), ("T11.1", "rms-grad"), ("T11.1", "rms-grad-corrected"),
                    ("S11.1", "rms-grad-corrected"), ("T12.1", "sum-grad-sq-corrected"), ("S12.1", "alg9-min-grad-sq")]
SCALE_INCONSISTENT = [("T10.3", "mean-grad-norm", True), ("S11.1", "mean-grad-sq", True),
                      ("T12.1", "sum-grad-sq", False)]


@pytest.mark.parametrize("loss", [True, False], ids=["loss-scale", "parameter-scale"])
@pytest.mark.parametrize("spec_id, name", SCALE_CONSISTENT, ids=[f"{s}:{c}" for s, c in SCALE_CONSISTENT])
def test_claims_scale_like_their_left_side(spec_id: str, name: str, loss: bool) -> None:
    assert consistent(spec_id, name, loss)


@pytest.mark.parametrize("spec_id, name, loss", SCALE_INCONSISTENT, ids=[f"{s}:{c}" for s, c, _ in SCALE_INCONSISTENT])
def test_the_as_written_bounds_do_not_scale(spec_id: str, name: str, loss: bool) -> None:
    """T10.3 and S11.1 as printed fail under a loss scale; T12.1's under a parameter scale (c is a
    distance: H (1 + log T)/2 is missing c^2)."""
    assert not consistent(spec_id, name, loss)


def test_the_scaling_check_can_fail() -> None:
    """The check itself: a bound with sqrt(K) eps (as printed) fails it, one with sqrt(K eps) passes."""
    from theorems.catalog.s10_adagrad import K_CORRECTED
    good, bad = sp.sqrt(K_CORRECTED * eps), sp.sqrt(K_CORRECTED) * eps
    ratio = [sp.simplify(_scaled(b, True) / b) for b in (good, bad)]
    assert ratio[0] == _s and ratio[1] != _s


# ---------------------------------------------------------------------------------------------
# T = 1: the mean is ||grad L(w_1)|| <= G; tiny and huge constants on a grid.

_GRID = [10.0 ** k for k in (-4, -1, 0, 2, 5)]
_NAMES = ("Delta", "H", "G", "sigma", "eta", "eps", "D_sdn")


def _at_t1(spec_id: str, name: str, power: int = 1) -> torch.Tensor:
    """bound / G^power at T = 1 over the grid of (Delta, H, G, sigma, eta, eps, D_sdn) and beta in
    {0.5, 0.9, 0.999}, with the one step's noise variance sigma_1^2 = sigma^2 (the largest allowed)."""
    claim = CATALOG[spec_id].claim(name)
    grids = [_GRID] * len(_NAMES) + [[0.5, 0.9, 0.999]]
    points = torch.tensor(list(itertools.product(*grids)), dtype=torch.float64)
    values = {n: points[:, i] for i, n in enumerate((*_NAMES, "beta"))}
    values["T"] = torch.ones(len(points), dtype=torch.float64)
    values["sum_noise_var"] = values["sigma"] ** 2
    bound = evaluate(claim.bound, values, points[:, 0])
    return bound / values["G"] ** power


@pytest.mark.parametrize("spec_id, name, power", [("T10.3", "mean-grad-norm-corrected", 1),
                                                  ("T11.1", "rms-grad-corrected", 1),
                                                  ("S11.1", "rms-grad-corrected", 1),
                                                  ("T12.1", "sum-grad-sq-corrected", 2),
                                                  ("S12.1", "alg9-min-grad-sq", 2)])
def test_at_t_equal_one_the_bounds_cover_the_largest_first_gradient(spec_id: str, name: str, power: int) -> None:
    """At T = 1 each left side is at most ||grad L(w_1)||^power <= G^power (min_grad_sq too): the
    corrected bounds are at least that everywhere (sqrt(K eps) >= G since K >= G^2/eps; T12.1's
    bound is at least (G^2/eps)(eps + G) >= G^2)."""
    ratio = _at_t1(spec_id, name, power)
    assert bool(torch.isfinite(ratio).all()) and bool((ratio >= 1).all())


def test_at_t_equal_one_the_printed_t10_3_bound_fails_somewhere_on_the_grid() -> None:
    ratio = _at_t1("T10.3", "mean-grad-norm")
    assert bool((~(ratio >= 1)).any())


# ---------------------------------------------------------------------------------------------
# the user's question: does Adam keep AdaGrad-norm's guarantee? (check T10.3 --algorithm torch.optim.Adam)

def test_adam_with_lr_c_breaks_the_corrected_t10_3_bound() -> None:
    """Adam (lr = c, torch's defaults otherwise) on the round where `check` found it: the corrected
    bound, which AdaGrad-norm keeps on the same round, is violated."""
    claim, adam = _round("T10.3", "mean-grad-norm-corrected", "pseudo-huber", "sphere", 4, 3,
                         seed=1963513813070598250, algorithm="torch.optim.Adam")
    assert _judge(claim, adam).violation is not None
    _, ours = _round("T10.3", "mean-grad-norm-corrected", "pseudo-huber", "sphere", 4, 3, seed=1963513813070598250)
    assert _judge(claim, ours).violation is None


# ---------------------------------------------------------------------------------------------
# S12.1's witness: L(w) = H w^2/2 in one dimension with exact gradients.

def _ema_run(cls, w1: float, H: float, c: float, eps_: float, beta_: float, T: int) -> list[float]:
    """||grad L(w_t)||^2 for t = 1..T of Algorithm 8 or 9 on L = H w^2/2 (d = 1, exact gradients)."""
    algorithm = cls(c, eps_, beta_)
    w = torch.tensor([[[w1]]], dtype=torch.float64)
    state = algorithm.init(w)
    out = []
    for t in range(1, T + 1):
        out.append(float((H * w).square().sum()))
        w, state = algorithm.step(w, state, lambda x, m=1: H * x, t)
    return out


@pytest.mark.parametrize("H_, c, eps_, beta_, w1", [(1.0, 1.0, 1e-4, 0.9, 1.0), (4.0, 0.3, 1e-3, 0.5, -2.0),
                                                   (0.01, 50.0, 1e-2, 0.99, 30.0)])
def test_s12_1_algorithm_8_settles_on_the_cycle_where_algorithm_9_converges(H_, c, eps_, beta_, w1) -> None:
    """Algorithm 8's squared gradient ends on the 2-cycle level (1 - beta)(c^2 H^2/4 - eps^2) of the proof
    steps (c H > 2 eps: the minimiser is unstable), bounded away from 0 over the whole second half of the
    run; Algorithm 9 on the same instance converges (its last gradients far below the cycle level)."""
    from algorithms import CorrectedEMAAdaptive, EMAAdaptive
    T = 4000
    level = (1 - beta_) * (c ** 2 * H_ ** 2 / 4 - eps_ ** 2)
    ema = _ema_run(EMAAdaptive, w1, H_, c, eps_, beta_, T)
    assert min(ema[-200:]) == pytest.approx(level, rel=1e-3)
    corrected = _ema_run(CorrectedEMAAdaptive, w1, H_, c, eps_, beta_, T)
    assert max(corrected[-200:]) < 1e-3 * level
    assert min(ema[T // 2:]) > 0.99 * level


# ---------------------------------------------------------------------------------------------
# The corollary of Lemma 10.2 (line 1495), on gradient-norm sequences directly (the engine records no
# partial sums of ||g_t||^2, so it is not a catalog claim): sum_t x_t/(eps^2 + sum_{i<=t} x_i) against
# log(1 + sum_t x_t/eps^2) (corrected) and log(sum_t x_t/eps^2) (printed).

def _corollary_sides(x: list[float], eps_sq: float) -> tuple[float, float, float]:
    total, lhs = 0.0, 0.0
    for v in x:
        total += v
        lhs += v / (eps_sq + total)
    return lhs, math.log1p(total / eps_sq), math.log(total / eps_sq) if total > 0 else -math.inf


def test_corollary_as_printed_fails_on_one_gradient_where_the_corrected_one_holds() -> None:
    """One gradient with ||g_1||^2 = 1.5 eps^2: the sum is 0.6 > log 1.5 (printed) but <= log 2.5."""
    lhs, corrected, printed = _corollary_sides([1.5], 1.0)
    assert lhs == pytest.approx(0.6) and printed < lhs <= corrected


@settings(max_examples=200, deadline=None, derandomize=True)
@given(x=st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=1, max_size=64),
       eps_sq=st.floats(1e-8, 1e4), scale=st.sampled_from([1e-6, 1.0, 1e6]))
def test_corrected_corollary_holds_on_arbitrary_sequences(x: list[float], eps_sq: float, scale: float) -> None:
    """Arbitrary non-negative sequences (hypothesis shrinks towards the worst), scaled over 12 decades."""
    lhs, corrected, _ = _corollary_sides([scale * v for v in x], eps_sq)
    assert lhs <= corrected * (1 + 1e-12) + 1e-15


@pytest.mark.parametrize("growth", [1.0, 1.5, 2.0, 10.0])
def test_corrected_corollary_on_adversarial_growing_sequences(growth: float) -> None:
    """Sequences that make each term as large as possible (x_t = (growth - 1) times the running total,
    each ratio then (growth - 1)/growth): the gap to the log closes as the steps shrink (growth -> 1)."""
    eps_sq, x, total = 1.0, [], 1.0
    for _ in range(200):
        step = max(growth - 1.0, 1e-3) * total
        x.append(step)
        total += step
    lhs, corrected, _ = _corollary_sides(x, eps_sq)
    assert lhs <= corrected
    if growth == 1.0:
        assert lhs >= 0.99 * corrected
