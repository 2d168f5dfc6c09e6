"""Projected SGD (Theorem 22.1, algorithms/projected_sgd.py) against hand computations."""
from __future__ import annotations

import pytest
import torch

from algorithms import ALGORITHMS
from algorithms.projected_sgd import ProjectedSGD, project_ball

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
