"""The regularised and proximal algorithms of sections 21-22 (algorithms/proximal_point.py)
against hand computations and closed forms on quadratics, and the spec of S22.1: its claims fail
once their bounds are made smaller, scale like their left sides, and every inner solve of a run
carries its certificate. (gamma of the two gamma-almost-convex families is certified by
tests/test_piecewise_quadratic.py and tests/test_second_order_constants.py.)"""
from __future__ import annotations

import dataclasses

import pytest
import sympy as sp
import torch

from problems import FAMILIES, ORACLES
from theorems.catalog import CATALOG
from theorems.engine.claims import evaluate_claim
from theorems.engine.profiles import PROFILES
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round
from theorems.language.symbols import Delta, H, gamma

from algorithms.proximal_point import (GAMMA_FLOOR, ProximalPoint, ProximalSolve, RegularizedGD, SolveError,
                                       solve_regularized)

F64 = torch.float64


def quadratic(a: torch.Tensor, w_star: torch.Tensor):
    """The oracle of L(w) = 1/2 sum_i a_i (w_i - w*_i)^2 (a may hold negative curvatures)."""
    return lambda w, m=1: a * (w - w_star)


def test_regularized_gd_by_hand() -> None:
    """L(w) = w^2/2, w_1 = 2, lam = 1, eta = 1/2: g + lam (w - w_1) at w_1 is 2, so w_2 = 1;
    at w_2 it is 1 + (1 - 2) = 0, so w_3 = w_2 = 1 (the minimiser of w^2/2 + (w - 2)^2/2)."""
    oracle = lambda w, m=1: w  # noqa: E731
    alg = RegularizedGD(eta=0.5, lam=1.0)
    w = torch.full((1, 1, 1), 2.0, dtype=F64)
    state = alg.init(w)
    w, state = alg.step(w, state, oracle, 1)
    assert float(w) == 1.0
    w, state = alg.step(w, state, oracle, 2)
    assert float(w) == 1.0


def test_solve_matches_the_closed_form_and_its_certificate() -> None:
    """On a diagonal quadratic argmin L(w) + lam/2 ||w - c||^2 = (a w* + lam c)/(a + lam) coordinate-wise;
    the solve stops below its target and is within target/lam of it (the certificate)."""
    g = torch.Generator().manual_seed(3)
    a = torch.rand(4, 1, 5, generator=g, dtype=F64) * 10
    w_star = torch.randn(4, 1, 5, generator=g, dtype=F64) * 100
    c = torch.randn(4, 2, 5, generator=g, dtype=F64)
    lam = torch.full((4, 1, 1), 0.05, dtype=F64)
    target = torch.full((4, 2, 1), 1e-9, dtype=F64)
    y = solve_regularized(quadratic(a, w_star), c, lam, lam, 10 + lam, target)
    exact = (a * w_star + lam * c) / (a + lam)
    residual = a * (y - w_star) + lam * (y - c)
    assert bool((residual.norm(dim=-1, keepdim=True) <= target).all())
    assert bool(((y - exact).norm(dim=-1, keepdim=True) <= target / lam * (1 + 1e-6)).all())


def test_solve_gives_up_below_the_rounding_floor() -> None:
    """A target of 0 cannot be certified in floating point: the solve raises instead of guessing."""
    a = torch.full((1, 1, 2), 1.0, dtype=F64)
    w_star = torch.full((1, 1, 2), 1e3 / 3, dtype=F64)
    lam = torch.full((1, 1, 1), 1e-3, dtype=F64)
    with pytest.raises(SolveError):
        solve_regularized(quadratic(a, w_star), torch.zeros(1, 1, 2, dtype=F64), lam, lam, 1 + lam,
                          torch.zeros(1, 1, 1, dtype=F64))


def test_proximal_solve_reaches_w_star_lambda_and_stays() -> None:
    """One step lands on (a w* + lam w_1)/(a + lam) to the certified accuracy; the next step keeps it."""
    a = torch.tensor([[[1.0, 4.0]]], dtype=F64)
    w_star = torch.tensor([[[3.0, -2.0]]], dtype=F64)
    oracle = quadratic(a, w_star)
    w1 = torch.tensor([[[1.0, 1.0]]], dtype=F64)
    alg = ProximalSolve(lam=torch.tensor(2.0, dtype=F64), H=torch.tensor(4.0, dtype=F64))
    state = alg.init(w1)
    w2, state = alg.step(w1, state, oracle, 1)
    assert w2.flatten().tolist() == pytest.approx([(3 + 2) / 3, (-8 + 2) / 6], abs=1e-11)
    w3, _ = alg.step(w2, state, oracle, 2)
    assert torch.equal(w3, w2)


def test_proximal_point_step_by_hand() -> None:
    """L(w) = -w^2/2 + ... locally (curvature a = -1 = -gamma): F_t(delta) = -(w + delta - w*)^2/2 + delta^2
    has its minimiser at delta = (w - w*)... : grad F_t = -(w_t + delta - w*) + 2 delta = 0 gives
    delta = w_t - w*, so w_{t+1} = 2 w_t - w*: the step moves away from the maximiser w*.
    With curvature a = 3 (convex): delta = -3 (w_t - w*)/(3 + 2), w_{t+1} = w_t - 0.6 (w_t - w*)."""
    for a_value, expected in ((-1.0, 2 * 1.0 - 0.5), (3.0, 1.0 - 0.6 * 0.5)):
        oracle = quadratic(torch.full((1, 1, 1), a_value, dtype=F64), torch.full((1, 1, 1), 0.5, dtype=F64))
        alg = ProximalPoint(gamma=torch.full((1, 1, 1), 1.0, dtype=F64), H=torch.full((1, 1, 1), 3.0, dtype=F64),
                            eps=torch.full((1, 1, 1), 1e-10, dtype=F64))
        w, _ = alg.step(torch.ones(1, 1, 1, dtype=F64), alg.init(None), oracle, 1)
        assert float(w) == pytest.approx(expected, abs=1e-10)


def test_proximal_point_certificate_and_convex_instances() -> None:
    """Every step's ||grad F_t(delta_t)|| is at most eps sqrt(gamma/(3H)); a gamma = 0 instance does not move."""
    g = torch.Generator().manual_seed(5)
    a = torch.rand(3, 1, 4, generator=g, dtype=F64) * 4 - 1  # curvatures in [-1, 3]
    w_star = torch.randn(3, 1, 4, generator=g, dtype=F64)
    oracle = quadratic(a, w_star)
    gamma = torch.tensor([1.0, 1.0, 0.0], dtype=F64).reshape(3, 1, 1)
    H, eps = torch.full((3, 1, 1), 3.0, dtype=F64), torch.full((3, 1, 1), 1e-3, dtype=F64)
    w = torch.randn(3, 2, 4, generator=g, dtype=F64)
    w_next, _ = ProximalPoint(gamma, H, eps).step(w, None, oracle, 1)
    grad_F = oracle(w_next) + 2 * gamma * (w_next - w)
    bound = eps * torch.sqrt(gamma / (3 * H))
    assert bool((grad_F[:2].norm(dim=-1, keepdim=True) <= bound[:2]).all())
    assert torch.equal(w_next[2], w[2])


# ---------------------------------------------------------------------------------------------
# S22.1's spec (theorems/catalog/s22_strongly_convex_sgd.py)

QUICK = PROFILES["quick"]
#: (claim, family, T, dimension, a factor between half the round's tightness and its tightness)
S22_ROUNDS = [("mean-grad-sq", "cosine-wells", 16, 2, 0.4), ("mean-grad-sq", "piecewise-quadratic", 16, 1, 0.4),
              ("mean-grad-sq-proof", "cosine-wells", 4, 1, 0.12)]


@pytest.mark.parametrize("name, family, horizon, dim, factor", S22_ROUNDS, ids=[f"{r[0]}:{r[1]}" for r in S22_ROUNDS])
def test_s22_1_holds_but_fails_with_a_smaller_bound(name: str, family: str, horizon: int, dim: int,
                                                    factor: float) -> None:
    spec = CATALOG["S22.1"]
    claim = spec.claim(name)
    key = RoundKey("S22.1", claim.setting, family, "exact", 0, horizon, dim, QUICK.batch_size, QUICK.replicas, "cpu",
                   None)
    data = build_round(spec, key)
    held = evaluate_claim(claim, data, QUICK.level, QUICK.rtol, QUICK.atol)
    assert held.applicable > 0 and held.violation is None and held.worst.tightness > factor
    shrunk = dataclasses.replace(claim, bound=claim.bound * factor / 2)
    assert evaluate_claim(shrunk, data, QUICK.level, QUICK.rtol, QUICK.atol).violation is not None


def test_s22_1_claims_scale_like_their_left_side() -> None:
    """L -> s L: gamma, H, Delta by s and ||grad L||^2 by s^2, as gamma Delta; w -> r w: gamma, H and
    ||grad L||^2 by 1/r^2, Delta unchanged, as gamma Delta. The hyper-parameter eps = sqrt(gamma Delta/T)
    is a gradient norm: it scales like ||grad L|| (s, then 1/r)."""
    s, r = sp.symbols("s r", positive=True)
    for name in ("mean-grad-sq", "mean-grad-sq-proof"):
        bound = CATALOG["S22.1"].claim(name).bound
        assert sp.simplify(bound.subs({gamma: s * gamma, H: s * H, Delta: s * Delta}, simultaneous=True) / bound) == s ** 2
        assert sp.simplify(bound.subs({gamma: gamma / r ** 2, H: H / r ** 2}, simultaneous=True) / bound) == r ** -2
    eps = CATALOG["S22.1"].setting("eps-tuned").hyper["eps"]
    assert sp.simplify(eps.subs({gamma: s * gamma, Delta: s * Delta}, simultaneous=True) / eps) == s


@pytest.mark.parametrize("family", ["piecewise-quadratic", "cosine-wells"])
def test_every_inner_solve_carries_its_certificate(family: str) -> None:
    """Replaying a run step by step: each w_{t+1} = w_t + delta_t has ||grad L(w_{t+1}) + 2 gamma delta_t||
    (= ||grad F_t(delta_t)||) <= eps sqrt(gamma/(3H)), hence <= eps and F_t(delta_t) - min F_t <= eps^2/(6H)."""
    problem = FAMILIES[family].sample(16, 3, torch.Generator().manual_seed(9))
    oracle = ORACLES["exact"].bind(problem, torch.Generator().manual_seed(10)).sample
    gamma_, H_, Delta_ = (problem.constants[k].reshape(-1, 1, 1) for k in ("gamma", "H", "Delta"))
    eps = torch.sqrt(gamma_ * Delta_ / 8)
    alg = ProximalPoint(gamma_, H_, eps)
    active = (gamma_ >= GAMMA_FLOOR * H_)[:, 0, 0]
    assert bool(active.any())
    w = problem.w1[:, None, :].clone()
    for t in range(1, 9):
        w_next, _ = alg.step(w, None, oracle, t)
        grad_F = problem.grad(w_next) + 2 * gamma_ * (w_next - w)
        target = eps * torch.sqrt(gamma_ / (3 * H_))
        assert bool((grad_F.norm(dim=-1, keepdim=True)[active] <= target[active]).all())
        w = w_next
