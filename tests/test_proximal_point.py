"""The regularised and proximal algorithms of sections 21-22 (algorithms/proximal_point.py)
against hand computations and closed forms on quadratics."""
from __future__ import annotations

import pytest
import torch

from algorithms.proximal_point import (ProximalPoint, ProximalSolve, RegularizedGD, SolveError,
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
