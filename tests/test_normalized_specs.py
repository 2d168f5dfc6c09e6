"""The specs of sections 23 and 24: each claim holds on a round and is violated there once its bound
is made smaller; every statement is checked by scaling arguments (a bound must scale like its left
side when the loss, or the parameter, is rescaled) and at T = 1; the as-written T24.3 and T24.5
bounds are the ones that do not scale (the findings in theorems/catalog/s24_normalized.py)."""
from __future__ import annotations

import dataclasses
import itertools

import pytest
import sympy as sp
import torch

from theorems.catalog import CATALOG
from theorems.language.evaluate import evaluate
from theorems.engine.profiles import PROFILES
from theorems.engine.claims import evaluate_claim
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round
from theorems.language.symbols import D, Delta, H, H_ell, T, eta, sigma

QUICK = PROFILES["quick"]
alpha = sp.Symbol("alpha", positive=True)

#: (result, claim, family, oracle, T, dimension, a factor below the round's worst tightness)
ROUNDS = [
    ("L24.1", "momentum-error", "quadratic-sc", "sphere", 64, 2, 0.9),
    ("L24.2", "normalized-step", "quadratic-sc", "heavy-tailed", 16, 2, 0.99),
    ("T24.3", "sum-grad-norm", "quadratic-sc", "sphere", 64, 2, 0.05),
    ("T24.3", "sum-grad-norm-proof", "quadratic-sc", "sphere", 64, 2, 0.05),
    ("T24.3", "before-tuning", "quadratic-sc", "sphere", 64, 2, 0.1),
    ("L24.4", "momentum-error", "quadratic-sc", "sphere", 64, 2, 0.9),
    ("L24.4", "momentum-error", "logistic", "finite-sum", 64, 2, 0.25),
    ("T24.5", "sum-grad-norm-corrected", "quadratic-sc", "sphere", 64, 2, 0.08),
    ("T24.5", "careful-alpha-one", "quadratic-sc", "sphere", 64, 2, 0.04),
    ("T24.5", "careful-alpha-below-one", "quadratic-sc", "sphere", 64, 2, 0.08),
    ("T24.5", "before-tuning", "quadratic-sc", "sphere", 64, 2, 0.1),
]


def _round(spec_id: str, name: str, family: str, oracle: str, horizon: int, dim: int):
    spec = CATALOG[spec_id]
    claim = spec.claim(name)
    key = RoundKey(spec_id, claim.setting, family, oracle, 0, horizon, dim, QUICK.batch_size, QUICK.replicas, "cpu",
                   None)
    return claim, build_round(spec, key)


@pytest.mark.parametrize("spec_id, name, family, oracle, horizon, dim, factor", ROUNDS,
                         ids=[f"{r[0]}:{r[1]}:{r[2]}" for r in ROUNDS])
def test_claim_holds_but_fails_with_a_smaller_bound(spec_id, name, family, oracle, horizon, dim, factor) -> None:
    claim, data = _round(spec_id, name, family, oracle, horizon, dim)
    held = evaluate_claim(claim, data, QUICK.level, QUICK.rtol, QUICK.atol)
    assert held.applicable > 0 and held.violation is None
    assert held.worst.tightness > factor
    shrunk = dataclasses.replace(claim, bound=claim.bound * factor / 2)
    assert evaluate_claim(shrunk, data, QUICK.level, QUICK.rtol, QUICK.atol).violation is not None


def test_t24_5_as_written_is_violated_where_the_corrected_claim_holds() -> None:
    claim, data = _round("T24.5", "sum-grad-norm", "quadratic-sc", "sphere", 64, 2)
    assert evaluate_claim(claim, data, QUICK.level, QUICK.rtol, QUICK.atol).violation is not None
    corrected = CATALOG["T24.5"].claim(claim.corrected_by)
    assert evaluate_claim(corrected, data, QUICK.level, QUICK.rtol, QUICK.atol).violation is None


# ---------------------------------------------------------------------------------------------
# scaling: L -> s L multiplies Delta, H, H_ell, sigma, L and every gradient by s (eta of SVRG, a
# step on the gradient, by 1/s; eta of the normalized methods, a distance, not at all);
# w -> lam w multiplies D by lam, H and H_ell by 1/lam^2, sigma and gradients by 1/lam, SVRG's eta
# by lam^2 and a normalized eta by lam.

_s, _lam = sp.symbols("s lam", positive=True)
_L_SIDE = {"sum_grad_norm": 1, "est_err_t": 1, "L_next": 1, "L_t": 1, "sum_subopt": 1, "est_sq_t": 2,
           "anchor_subopt_t": 1, "grad_sq_t": 2, "Lstar": 1}
_W_SIDE = {"sum_grad_norm": -1, "est_err_t": -1, "L_next": 0, "L_t": 0, "sum_subopt": 0, "est_sq_t": -2,
           "anchor_subopt_t": 0, "grad_sq_t": -2, "Lstar": 0}


def _scaled(expr: sp.Expr, loss: bool, eta_power: int) -> sp.Expr:
    k = _s if loss else _lam
    table = _L_SIDE if loss else _W_SIDE
    subs = {Delta: _s * Delta if loss else Delta, D: D if loss else _lam * D,
            H: _s * H if loss else H / _lam ** 2, H_ell: _s * H_ell if loss else H_ell / _lam ** 2,
            sigma: _s * sigma if loss else sigma / _lam, eta: k ** eta_power * eta}
    for symbol in sp.sympify(expr).free_symbols:
        if symbol.name in table:
            subs[symbol] = k ** table[symbol.name] * symbol
    return sp.sympify(expr).subs(subs, simultaneous=True)


def consistent(spec_id: str, name: str, loss: bool) -> bool:
    """Whether measured - bound of the claim scales by one power of the scale factor."""
    claim = CATALOG[spec_id].claim(name)
    svrg = spec_id.startswith(("L23", "T23"))
    eta_power = (-1 if svrg else 0) if loss else (2 if svrg else 1)
    side = claim.measured - claim.bound
    ratio = sp.simplify(_scaled(side, loss, eta_power) / side)
    return not ratio.free_symbols - {_s, _lam}


SCALE_CONSISTENT = [("L23.1", "second-moment"), ("T23.2", "average-suboptimality"), ("L24.1", "momentum-error"),
                    ("L24.2", "normalized-step"), ("T24.3", "sum-grad-norm-proof"), ("T24.3", "before-tuning"),
                    ("L24.4", "momentum-error"), ("T24.5", "sum-grad-norm-corrected"),
                    ("T24.5", "careful-alpha-one"), ("T24.5", "careful-alpha-below-one"),
                    ("T24.5", "before-tuning")]


@pytest.mark.parametrize("loss", [True, False], ids=["loss-scale", "parameter-scale"])
@pytest.mark.parametrize("spec_id, name", SCALE_CONSISTENT, ids=[f"{s}:{c}" for s, c in SCALE_CONSISTENT])
def test_claims_scale_like_their_left_side(spec_id: str, name: str, loss: bool) -> None:
    assert consistent(spec_id, name, loss)


@pytest.mark.parametrize("spec_id, name", [("T24.3", "sum-grad-norm"), ("T24.5", "sum-grad-norm")])
def test_the_as_written_bounds_do_not_scale_with_the_loss(spec_id: str, name: str) -> None:
    assert not consistent(spec_id, name, loss=True)


def test_every_claim_of_sections_23_and_24_has_a_scaling_verdict() -> None:
    claims = {(s.id, c.name) for s in CATALOG.values() if s.source.section.startswith(("23", "24")) for c in s.claims}
    assert claims == set(SCALE_CONSISTENT) | {("T24.3", "sum-grad-norm"), ("T24.5", "sum-grad-norm")}


# ---------------------------------------------------------------------------------------------
# T = 1: the sum is ||grad L(w_1)||, at most sqrt(2 H Delta) on an H-smooth L (Lemma 13.2's bound)

_GRID = [10.0 ** k for k in (-3, -1, 0, 2, 4, 6)]


def _at_t1(spec_id: str, name: str) -> torch.Tensor:
    claim = CATALOG[spec_id].claim(name)
    points = torch.tensor(list(itertools.product(_GRID, _GRID, _GRID)), dtype=torch.float64)
    values = {"Delta": points[:, 0], "H": points[:, 1], "H_ell": points[:, 1], "sigma": points[:, 2],
              "T": torch.ones(len(points), dtype=torch.float64)}
    like = points[:, 0]
    bound = evaluate(claim.bound, values, like)
    applies = evaluate(claim.when, values, like) if claim.when is not None else torch.ones_like(like, dtype=torch.bool)
    return torch.where(applies, bound / torch.sqrt(2 * points[:, 0] * points[:, 1]), torch.full_like(like, torch.inf))


@pytest.mark.parametrize("spec_id, name", [("T24.3", "sum-grad-norm"), ("T24.3", "sum-grad-norm-proof"),
                                           ("T24.5", "sum-grad-norm-corrected"), ("T24.5", "careful-alpha-one"),
                                           ("T24.5", "careful-alpha-below-one")])
def test_at_t_equal_one_the_bounds_cover_the_largest_first_gradient(spec_id: str, name: str) -> None:
    assert bool((_at_t1(spec_id, name) >= 1).all())


def test_at_t_equal_one_the_printed_t24_5_bound_is_below_the_first_gradient() -> None:
    assert bool((_at_t1("T24.5", "sum-grad-norm") < 1).any())
