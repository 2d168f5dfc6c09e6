"""Projected SGD (Theorem 22.1, algorithms/projected_sgd.py) against hand computations, and the spec of
Theorem 22.1: its claims fail once their bounds are made smaller, scale like their left sides, and
its certified G bounds the oracle's second moment on the projection ball."""
from __future__ import annotations

import dataclasses

import pytest
import sympy as sp
import torch

from algorithms import ALGORITHMS, run
from algorithms.projected_sgd import ProjectedSGD, project_ball
from problems import FAMILIES, ORACLES
from theorems.catalog import CATALOG
from theorems.engine.claims import evaluate_claim
from theorems.engine.profiles import PROFILES
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round
from theorems.language.symbols import D, H, mu, sigma

F64 = torch.float64


def test_projection_by_hand() -> None:
    """Inside the ball a point stays; outside it moves along the ray to the sphere; the centre is kept."""
    center = torch.tensor([[[1.0, 1.0]]], dtype=F64)
    inside = torch.tensor([[[1.5, 1.0]]], dtype=F64)
    outside = torch.tensor([[[4.0, 5.0]]], dtype=F64)  # offset (3, 4), norm 5
    assert torch.equal(project_ball(inside, center, 2.0), inside)
    assert project_ball(outside, center, 2.0).flatten().tolist() == pytest.approx([1 + 6 / 5, 1 + 8 / 5], rel=1e-15)
    assert torch.equal(project_ball(center, center, 0.0), center)


def test_projection_is_a_projection() -> None:
    """Pi(x) minimises ||x - y|| over the ball: no point of a dense sample of the ball is closer."""
    g = torch.Generator().manual_seed(0)
    x = 5 * torch.randn(1, 1, 3, generator=g, dtype=F64)
    c = torch.zeros(1, 1, 3, dtype=F64)
    p = project_ball(x, c, 1.5)
    ys = torch.randn(20000, 3, generator=g, dtype=F64)
    ys = ys / ys.norm(dim=-1, keepdim=True) * 1.5 * torch.rand(20000, 1, generator=g, dtype=F64) ** (1 / 3)
    assert float((x[0, 0] - p[0, 0]).norm()) <= float((x[0, 0] - ys).norm(dim=-1).min()) + 1e-15


def test_projected_sgd_by_hand() -> None:
    """L(w) = w^2/2 in 1-d from w_1 = 1, noise +3, -4, ball |w - 1| <= 1.5, eta_t = 1/t:
    w_2 = Pi[1 - (1 + 3)] = Pi[-3] = -0.5; w_3 = Pi[-0.5 - (-0.5 - 4)/2] = Pi[1.75] = 1.75."""
    noise = iter([3.0, -4.0])
    oracle = lambda w, m=1: w + next(noise)  # noqa: E731
    alg = ProjectedSGD(eta=lambda t: 1.0 / t, radius=1.5)
    w = torch.ones(1, 1, 1, dtype=F64)
    state = alg.init(w)
    w, state = alg.step(w, state, oracle, 1)
    assert float(w) == pytest.approx(-0.5, rel=1e-15)
    w, state = alg.step(w, state, oracle, 2)
    assert float(w) == pytest.approx(1.75, rel=1e-15)
    assert ALGORITHMS["ProjectedSGD"] is ProjectedSGD


def test_a_large_radius_is_plain_sgd() -> None:
    """With a radius no iterate reaches, projected SGD is SGD bit for bit."""
    g = torch.Generator().manual_seed(1)
    w1 = torch.randn(2, 3, 4, generator=g, dtype=F64)
    A = torch.randn(2, 1, 4, generator=g, dtype=F64).abs()
    oracle = lambda w, m=1: A * w  # noqa: E731
    w, state = w1.clone(), ProjectedSGD(0.1, 1e6).init(w1)
    plain = w1.clone()
    for t in range(1, 6):
        w, state = ProjectedSGD(0.1, 1e6).step(w, state, oracle, t)
        plain = plain - 0.1 * A * plain
    assert torch.allclose(w, plain, rtol=1e-15, atol=0)


# ---------------------------------------------------------------------------------------------
# Theorem 22.1's spec (theorems/catalog/s22_strongly_convex_sgd.py)

QUICK = PROFILES["quick"]

#: (claim, oracle, T, a factor between half the round's tightness and its tightness)
ROUNDS = [("sum", "gaussian", 64, 0.3), ("average-as-written", "gaussian", 1, 0.24)]


@pytest.mark.parametrize("name, oracle, horizon, factor", ROUNDS, ids=[f"{r[0]}:{r[1]}:{r[2]}" for r in ROUNDS])
def test_t22_1_holds_but_fails_with_a_smaller_bound(name: str, oracle: str, horizon: int, factor: float) -> None:
    """The expectation test finds no violation of the claim, and finds one once the bound is
    multiplied by half the round's tightness."""
    spec = CATALOG["T22.1"]
    claim = spec.claim(name)
    key = RoundKey("T22.1", claim.setting, "quadratic-sc", oracle, 0, horizon, 1, QUICK.batch_size, QUICK.replicas,
                   "cpu", None)
    data = build_round(spec, key)
    held = evaluate_claim(claim, data, QUICK.level, QUICK.rtol, QUICK.atol)
    assert held.applicable > 0 and held.violation is None and held.worst.tightness > factor
    shrunk = dataclasses.replace(claim, bound=claim.bound * factor / 2)
    assert evaluate_claim(shrunk, data, QUICK.level, QUICK.rtol, QUICK.atol).violation is not None


def test_t22_1_claims_scale_like_their_left_side() -> None:
    """L -> s L: mu, H, sigma and L - L* scale by s, so G^2/mu = (sigma^2 + 4 H^2 D^2)/mu scales by s;
    w -> r w: mu, H by 1/r^2, sigma by 1/r, D by r, so G^2/mu is unchanged, as L - L* is."""
    s, r = sp.symbols("s r", positive=True)
    for name in ("sum", "average-as-written"):
        bound = CATALOG["T22.1"].claim(name).bound
        assert sp.simplify(bound.subs({mu: s * mu, H: s * H, sigma: s * sigma}, simultaneous=True) / bound) == s
        assert sp.simplify(bound.subs({mu: mu / r ** 2, H: H / r ** 2, sigma: sigma / r, D: r * D},
                                      simultaneous=True) / bound) == 1


@pytest.mark.parametrize("family", ["quadratic-sc", "logistic-l2", "log-cosh-l2"])
def test_the_certified_g_bounds_the_second_moment_on_the_ball(family: str) -> None:
    """E||g(w)||^2 = ||grad L(w)||^2 + sigma^2 <= sigma^2 + 4 H^2 D^2 on ||w - w_1|| <= D: the gradient part
    at the ball's point farthest from w* (2 w_1 - w*) and at random points of the ball, the noise part by
    Monte Carlo (20000 Gaussian draws at 2 w_1 - w*, within 5 %)."""
    problem = FAMILIES[family].sample(16, 3, torch.Generator().manual_seed(2))
    oracle = ORACLES["gaussian"].bind(problem, torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(4)
    Dc, Hc = (problem.constants[k].reshape(-1, 1) for k in ("D", "H"))
    s = oracle.constants["sigma"].reshape(-1, 1)
    u = torch.randn(16, 63, 3, generator=g, dtype=F64)
    u = u / u.norm(dim=-1, keepdim=True) * torch.rand(16, 63, 1, generator=g, dtype=F64) ** (1 / 3)
    far = (2 * problem.w1 - problem.w_star)[:, None, :]
    points = torch.cat([far, problem.w1[:, None, :] + Dc[..., None] * u], 1)
    assert bool((problem.grad(points).square().sum(-1) <= 4 * Hc ** 2 * Dc ** 2 * (1 + 1e-9)).all())
    draws = oracle.sample(far.expand(16, 20000, 3).clone()) - problem.grad(far)
    assert bool(((draws.square().sum(-1).mean(-1, keepdim=True) / s ** 2 - 1).abs() <= 0.05).all())


def test_projected_sgd_iterates_stay_in_the_ball() -> None:
    """On a T22.1 round every iterate is within D of w_1 (float rounding aside)."""
    problem = FAMILIES["quadratic-sc"].sample(8, 3, torch.Generator().manual_seed(7))
    oracle = ORACLES["sphere"].bind(problem, torch.Generator().manual_seed(8))
    Dc = problem.constants["D"].reshape(-1, 1, 1)
    mu_ = problem.constants["mu"].reshape(-1, 1, 1)
    trace = run(ProjectedSGD(lambda t: 1 / (mu_ * t), Dc), problem, oracle, 32, replicas=16)
    assert bool(((trace.last_iterate - problem.w1[:, None, :]).norm(dim=-1, keepdim=True) <= Dc * (1 + 1e-12)).all())
