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
    ("T10.3", "mean-grad-norm-corrected", "cosine-wells", "sphere", 64, 2, 0.5),
    ("T10.3", "root-sum-grad-sq-explicit", "cosine-wells", "sphere", 64, 2, 0.6),
    ("T11.1", "mean-norm-below-rms", "cosine-wells", "time-varying", 64, 2, 0.99),
    ("T11.1", "rms-grad-corrected", "cosine-wells", "time-varying", 64, 2, 0.6),
    ("S11.1", "rms-grad-corrected", "cosine-wells", "state-dependent", 64, 2, 0.5),
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


ERRATA = [("T10.3", "mean-grad-norm"), ("T11.1", "rms-grad"), ("S11.1", "mean-grad-sq")]


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
_POWER = {"sum_grad_norm": 1, "sum_grad_sq": 2, "sum_noise_var": 2, "L1": 0, "last_subopt": 0}


def _scaled(expr: sp.Expr, loss: bool) -> sp.Expr:
    k = _s if loss else 1 / _lam
    subs = {Delta: (_s if loss else 1) * Delta, H: (_s if loss else 1 / _lam ** 2) * H, sigma: k * sigma,
            G: k * G, eps: k * eps, eta: (1 if loss else _lam) * eta, D_sdn: D_sdn}
    for symbol in sp.sympify(expr).free_symbols:
        if symbol.name in _POWER:
            power = _POWER[symbol.name]
            subs[symbol] = (k ** power if symbol.name.startswith(("sum_grad", "sum_noise")) else
                            (_s if loss else 1) ** power) * symbol
    return sp.sympify(expr).subs(subs, simultaneous=True)


def consistent(spec_id: str, name: str, loss: bool) -> bool:
    """Whether measured - bound of the claim scales by one power of the scale factor."""
    claim = CATALOG[spec_id].claim(name)
    side = claim.measured - claim.bound
    ratio = sp.simplify(_scaled(side, loss) / side)
    return not ratio.free_symbols - {_s, _lam}


SCALE_CONSISTENT = [("T10.3", "mean-grad-norm-corrected"), ("T10.3", "root-sum-grad-sq-explicit"),
                    ("T11.1", "mean-norm-below-rms"), ("T11.1", "rms-grad"), ("T11.1", "rms-grad-corrected"),
                    ("S11.1", "rms-grad-corrected")]
SCALE_INCONSISTENT = [("T10.3", "mean-grad-norm"), ("S11.1", "mean-grad-sq")]


@pytest.mark.parametrize("loss", [True, False], ids=["loss-scale", "parameter-scale"])
@pytest.mark.parametrize("spec_id, name", SCALE_CONSISTENT, ids=[f"{s}:{c}" for s, c in SCALE_CONSISTENT])
def test_claims_scale_like_their_left_side(spec_id: str, name: str, loss: bool) -> None:
    assert consistent(spec_id, name, loss)


@pytest.mark.parametrize("spec_id, name", SCALE_INCONSISTENT, ids=[f"{s}:{c}" for s, c in SCALE_INCONSISTENT])
def test_the_as_written_bounds_do_not_scale_with_the_loss(spec_id: str, name: str) -> None:
    assert not consistent(spec_id, name, loss=True)


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


def _at_t1(spec_id: str, name: str) -> torch.Tensor:
    """bound / G at T = 1 over the grid of (Delta, H, G, sigma, eta, eps, D_sdn), with the one step's
    noise variance sigma_1^2 = sigma^2 (the largest the class allows)."""
    claim = CATALOG[spec_id].claim(name)
    points = torch.tensor(list(itertools.product(_GRID, repeat=len(_NAMES))), dtype=torch.float64)
    values = {n: points[:, i] for i, n in enumerate(_NAMES)}
    values["T"] = torch.ones(len(points), dtype=torch.float64)
    values["sum_noise_var"] = values["sigma"] ** 2
    bound = evaluate(claim.bound, values, points[:, 0])
    return bound / values["G"]


@pytest.mark.parametrize("spec_id, name", [("T10.3", "mean-grad-norm-corrected"), ("T11.1", "rms-grad-corrected"),
                                           ("S11.1", "rms-grad-corrected")])
def test_at_t_equal_one_the_bounds_cover_the_largest_first_gradient(spec_id: str, name: str) -> None:
    """At T = 1 each side is ||grad L(w_1)|| <= G: the corrected bounds are at least G everywhere
    (sqrt(K eps) >= sqrt(G^2) since K >= G^2/eps)."""
    ratio = _at_t1(spec_id, name)
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
