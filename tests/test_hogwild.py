"""Simpler Hogwild! (Algorithm 15, algorithms/hogwild.py) against hand computations, and the spec of
Theorem 19.1: each claim holds on a round and fails there once its bound is made smaller, and the
statement is checked by scaling (the printed bound does not scale like its left side)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp
import torch
from scipy import stats

from algorithms.hogwild import Hogwild
from algorithms.run import run
from problems import FAMILIES, ORACLES
from theorems.catalog import CATALOG
from theorems.engine.claims import evaluate_claim
from theorems.engine.profiles import PROFILES
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round
from theorems.language.symbols import Delta, G, H, T, dim, eta, sum_grad_sq

QUICK = PROFILES["quick"]


def _quadratic(d: int, batch: int = 4, seed: int = 0):
    problem = FAMILIES["quadratic-sc"].sample(batch, d, torch.Generator().manual_seed(seed), "cpu")
    return problem, ORACLES["exact"].bind(problem, torch.Generator().manual_seed(1))


class _Recording:
    """The exact oracle, remembering the points it was asked about."""

    def __init__(self, oracle) -> None:
        self.oracle, self.points = oracle, []

    def __call__(self, w: torch.Tensor, m: int = 1) -> torch.Tensor:
        self.points.append(w.clone())
        return self.oracle.sample(w, m)


def test_in_one_dimension_with_the_stalest_delays_it_is_gradient_descent_on_old_iterates() -> None:
    problem, oracle = _quadratic(1)
    tau, steps, step_size = 2, 9, 0.3
    H_ = problem.constants["H"].reshape(-1, 1, 1)
    algorithm = Hogwild(step_size / H_, tau=tau, delays="stalest")
    w = problem.w1[:, None, :].clone()
    state = algorithm.init(w)
    history = [w.numpy().copy()]
    for t in range(1, steps + 1):
        w, state = algorithm.step(w, state, oracle.sample, t)
        history.append(w.numpy().copy())
    hand = [problem.w1[:, None, :].numpy().copy()]
    for t in range(1, steps + 1):
        k = max(1, t - tau)
        g = oracle.sample(torch.from_numpy(hand[k - 1])).numpy()
        hand.append(hand[t - 1] - (step_size / H_.numpy()) * g)
    np.testing.assert_allclose(np.stack(history), np.stack(hand), rtol=1e-13, atol=0)


@pytest.mark.parametrize("delays", ["farthest", "random", "stalest"])
def test_each_step_moves_one_coordinate_by_eta_d_times_a_stale_gradient(delays: str) -> None:
    problem, oracle = _quadratic(3)
    tau, replicas = 2, 5
    algorithm = Hogwild(0.2, tau=tau, delays=delays, seed=3)
    recording = _Recording(oracle)
    w = problem.w1[:, None, :].expand(-1, replicas, -1).clone()
    state = algorithm.init(w)
    iterates = [w.clone()]
    for t in range(1, 12):
        w, state = algorithm.step(w, state, recording, t)
        iterates.append(w.clone())
    for t in range(1, 12):
        before, after, asked = iterates[t - 1], iterates[t], recording.points[t - 1]
        window = torch.stack(iterates[max(0, t - 1 - tau):t], 2)  # w_{max(1,t-tau)} .. w_t
        distances = (window - asked[:, :, None]).abs().amax(-1)
        assert bool((distances.min(-1).values == 0).all()), "the gradient was asked at an iterate outside the window"
        if delays == "farthest":
            assert torch.equal((before - asked).square().sum(-1),
                               (window - before[:, :, None]).square().sum(-1).amax(-1))
        if delays == "stalest":
            assert torch.equal(asked, iterates[max(0, t - 1 - tau)])
        moved = after != before
        assert bool((moved.sum(-1) <= 1).all())
        expected = before - 0.2 * 3 * oracle.sample(asked)
        assert torch.equal(torch.where(moved, after, expected), expected)


def test_the_coordinates_are_uniform() -> None:
    problem, oracle = _quadratic(5, batch=8)
    algorithm = Hogwild(1e-3, tau=0, seed=11)
    w = problem.w1[:, None, :].expand(-1, 500, -1).clone()
    state = algorithm.init(w)
    after, _ = algorithm.step(w, state, oracle.sample, 1)
    counts = (after != w).sum((0, 1)).numpy()
    assert counts.sum() == 8 * 500
    assert stats.chisquare(counts).pvalue > 1e-6


def test_bad_staleness_and_delays_are_refused() -> None:
    with pytest.raises(ValueError, match="tau"):
        Hogwild(0.1, tau=1.5)
    with pytest.raises(ValueError, match="delays"):
        Hogwild(0.1, delays="latest")


def _round(name: str, family: str, horizon: int, d: int):
    spec = CATALOG["T19.1"]
    claim = spec.claim(name)
    key = RoundKey("T19.1", claim.setting, family, "sphere", 0, horizon, d, QUICK.batch_size, QUICK.replicas, "cpu",
                   None)
    return claim, build_round(spec, key)


@pytest.mark.parametrize("name, family, d, factor", [
    ("sum-grad-sq", "huber", 1, 0.6), ("sum-grad-sq", "cosine-wells", 2, 0.3),
    ("tuned-rate", "huber", 1, 0.45), ("tuned-rate", "log-cosh", 8, 0.25),
])
def test_claim_holds_but_fails_with_a_smaller_bound(name: str, family: str, d: int, factor: float) -> None:
    claim, data = _round(name, family, 64, d)
    held = evaluate_claim(claim, data, QUICK.level, QUICK.rtol, QUICK.atol)
    assert held.applicable > 0 and held.violation is None and held.worst.tightness > factor
    shrunk = dataclasses.replace(claim, bound=claim.bound * factor / 2)
    assert evaluate_claim(shrunk, data, QUICK.level, QUICK.rtol, QUICK.atol).violation is not None


@pytest.mark.parametrize("name", ["sum-grad-sq-as-written", "tuned-rate-as-written"])
def test_the_printed_bounds_fail_where_the_corrected_ones_hold(name: str) -> None:
    claim, data = _round(name, "huber", 64, 2)
    assert evaluate_claim(claim, data, QUICK.level, QUICK.rtol, QUICK.atol).violation is not None
    corrected = CATALOG["T19.1"].claim(claim.corrected_by)
    assert evaluate_claim(corrected, data, QUICK.level, QUICK.rtol, QUICK.atol).violation is None


_s, _lam, _c = sp.symbols("s lam c", positive=True)
_tau = sp.Symbol("tau", nonnegative=True, integer=True)


@pytest.mark.parametrize("name, scales", [("sum-grad-sq", True), ("sum-grad-sq-as-written", False)])
def test_scaling_the_loss_scales_the_bound_like_the_squared_gradients(name: str, scales: bool) -> None:
    """L -> s L multiplies Delta, H, G by s and sum ||grad||^2 by s^2; eta = c/H becomes eta/s."""
    bound = CATALOG["T19.1"].claim(name).bound.subs(eta, _c / H)
    scaled = bound.subs({Delta: _s * Delta, H: _s * H, G: _s * G}, simultaneous=True)
    assert (sp.simplify(scaled / bound - _s ** 2) == 0) is scales
    moved = bound.subs({H: H / _lam ** 2, G: G / _lam}, simultaneous=True)  # w -> lam w: Delta unchanged
    assert (sp.simplify(moved / bound - _lam ** -2) == 0) is scales


def test_at_one_step_the_corrected_bound_is_the_one_step_inequality() -> None:
    """T = 1, tau = 0: ||grad L(w1)||^2 <= Delta/eta + eta d H G^2/2 (the descent lemma with the
    second moment d ||g||^2 <= d G^2 of the coordinate step)."""
    bound = CATALOG["T19.1"].claim("sum-grad-sq").bound.subs({T: 1, _tau: 0})
    assert sp.simplify(bound - (Delta / eta + eta * dim * H * G ** 2 / 2)) == 0
    assert sum_grad_sq in CATALOG["T19.1"].claim("sum-grad-sq").measured.free_symbols
