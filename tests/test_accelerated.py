"""Algorithms 10 and 11 and the section-22 accelerated method (algorithms/accelerated.py) against
hand computations, against each other (S15.1's rewriting, iterate for iterate) and against
torch.optim.SGD's heavy-ball and Nesterov updates under the stated change of variables."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from algorithms import ALGORITHMS, GD, run, torch_optimizer
from algorithms.accelerated import (AcceleratedGD, Momentum, algorithm11_beta, algorithm11_momentum, alpha_sequence,
                                    alpha_sums, strongly_convex_agd, strongly_convex_beta)
from problems import FAMILIES, Exact

F64 = torch.float64


def iterates(algorithm, w1: torch.Tensor, oracle, T: int) -> list[torch.Tensor]:
    """w_1 .. w_{T+1} through the protocol."""
    w, state = w1.clone(), algorithm.init(w1.clone())
    out = [w]
    for t in range(1, T + 1):
        w, state = algorithm.step(w, state, oracle, t)
        out.append(w)
    return out


def scalar(w: float) -> torch.Tensor:
    return torch.full((1, 1, 1), w, dtype=F64)


def test_alpha_sequence_by_hand() -> None:
    """alpha_2^2 - alpha_2 = 1 gives the golden ratio; alpha_3^2 - alpha_3 = 1 + alpha_2."""
    phi = (1 + math.sqrt(5)) / 2
    a = alpha_sequence(3)
    assert a[:3] == (0.0, 1.0, pytest.approx(phi, rel=1e-15))
    assert a[3] == pytest.approx((1 + math.sqrt(1 + 4 * (1 + phi))) / 2, rel=1e-15)
    assert alpha_sums(3) == pytest.approx((0, 1, 1 + phi, 1 + phi + a[3]), rel=1e-15)
    assert algorithm11_beta(1) == algorithm11_beta(2) == 0.0
    assert algorithm11_beta(3) == pytest.approx(1 / (a[3] * phi), rel=1e-15)


def test_algorithm11_by_hand() -> None:
    """L(w) = 2 w^2 (grad 4w), eta = 0.1, w_1 = y_1 = 1, three steps written out."""
    grad = lambda w, m=1: 4 * w  # noqa: E731
    a = alpha_sequence(3)
    w, y, total = 1.0, 1.0, 0.0
    expected = [w]
    for t in (1, 2, 3):
        total += a[t]
        tau = a[t] / total
        x = (1 - tau) * w + tau * y
        y = y - 0.1 * a[t] * 4 * x
        w = x - 0.1 * 4 * x
        expected.append(w)
    assert expected[1] == pytest.approx(0.6)  # tau_1 = 1: x_1 = w_1, one gradient step
    got = [float(v) for v in iterates(AcceleratedGD(eta=0.1), scalar(1.0), grad, 3)]
    assert got == pytest.approx(expected, rel=1e-15)


def test_momentum_by_hand() -> None:
    """L(w) = w^2/2 (grad w), eta = 0.5, beta = 0.5, w_1 = 2: Euler, two-step and the printed signs."""
    grad = lambda w, m=1: w  # noqa: E731
    # Euler: v_1 = -1, w_2 = 1; v_2 = -0.5 - 0.5 = -1, w_3 = 0
    assert [float(v) for v in iterates(Momentum(0.5, 0.5, "euler"), scalar(2.0), grad, 2)] == [2, 1, 0]
    # two-step: x_1 = 2, v_1 = -1, w_2 = 1; x_2 = 1 - 0.5 = 0.5, v_2 = -0.5 - 0.25, w_3 = 0.25
    assert [float(v) for v in iterates(Momentum(0.5, 0.5, "two-step"), scalar(2.0), grad, 2)] == [2, 1, 0.25]
    # as printed: v_1 = -1, w_2 = w_1 - v_1 = 3 (uphill); v_2 = -0.5 - 1.5 = -2, w_3 = 5
    printed = Momentum(0.5, 0.5, "euler", "as-printed")
    assert [float(v) for v in iterates(printed, scalar(2.0), grad, 2)] == [2, 3, 5]
    # two-step as printed: w_{3/2} = w_2 - beta v_1 = 3.5, v_2 = -0.5 - 1.75, w_3 = 3 + 2.25
    printed = Momentum(0.5, 0.5, "two-step", "as-printed")
    assert [float(v) for v in iterates(printed, scalar(2.0), grad, 2)] == [2, 3, 5.25]


def quadratic(seed: int, d: int, B: int = 4):
    p = FAMILIES["quadratic-sc"].sample(B, d, torch.Generator().manual_seed(seed))
    return p, Exact().bind(p, torch.Generator().manual_seed(seed))


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2 ** 31), d=st.integers(1, 5), c=st.floats(0.05, 1.0))
def test_algorithm11_is_its_momentum_form(seed: int, d: int, c: float) -> None:
    """S15.1: the corrected two-step integrator with beta_t = alpha_{t-2}^2/(alpha_t alpha_{t-1})
    takes Algorithm 11's iterates w_t, t = 1..41."""
    p, oracle = quadratic(seed, d)
    eta = c / p.constants["H"][:, None, None]
    w1 = p.w1[:, None, :].clone()
    for a, b in zip(iterates(AcceleratedGD(eta), w1, oracle.sample, 40),
                    iterates(algorithm11_momentum(eta), w1, oracle.sample, 40)):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2 ** 31), d=st.integers(1, 5), beta=st.floats(0.01, 0.99))  # nesterov needs momentum > 0
def test_torch_heavy_ball_is_euler_and_nesterov_is_two_step(seed: int, d: int, beta: float) -> None:
    """torch.optim.SGD(momentum=beta) keeps b_t = beta b_{t-1} + g_t and steps -eta b_t: Euler with
    v = -eta b. With nesterov=True it steps -eta (g_t + beta b_t) from p_t, which is the two-step
    integrator's look-ahead point x_t = w_t + beta v_{t-1} (x_{t+1} = x_t + beta^2 v_{t-1} - (1 + beta) eta g_t)."""
    p, oracle = quadratic(seed, d)
    eta = 0.5 / p.constants["H"][:, None, None]
    w1 = p.w1[:, None, :].clone()
    heavy = iterates(torch_optimizer(torch.optim.SGD, momentum=beta)(eta=eta), w1, oracle.sample, 15)
    for a, b in zip(iterates(Momentum(eta, beta, "euler"), w1, oracle.sample, 15), heavy):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)
    nesterov = iterates(torch_optimizer(torch.optim.SGD, momentum=beta, nesterov=True)(eta=eta), w1, oracle.sample, 15)
    ours, w, v = Momentum(eta, beta, "two-step"), w1.clone(), torch.zeros_like(w1)
    for t in range(1, 16):
        torch.testing.assert_close(nesterov[t - 1], w + beta * v, rtol=1e-10, atol=1e-12)
        w, v = ours.step(w, v, oracle.sample, t)


def test_beta_zero_is_gradient_descent_and_the_printed_signs_ascend() -> None:
    """A10: with beta = 0 the corrected integrators are gradient descent; the printed ones are
    gradient ascent, w_{t+1} = w_t + eta grad L(w_t)."""
    p, oracle = quadratic(3, 3)
    eta = 0.5 / p.constants["H"][:, None, None]
    w1 = p.w1[:, None, :].clone()
    gd = iterates(GD(eta), w1, oracle.sample, 10)
    for integrator in ("euler", "two-step"):
        for a, b in zip(gd, iterates(Momentum(eta, 0.0, integrator), w1, oracle.sample, 10)):
            torch.testing.assert_close(b, a, rtol=0, atol=0)
        printed = iterates(Momentum(eta, 0.0, integrator, "as-printed"), w1, oracle.sample, 10)
        for w, w_next in zip(printed, printed[1:]):
            torch.testing.assert_close(w_next, w + eta * oracle.sample(w), rtol=1e-14, atol=0)


def test_strongly_convex_method_meets_nesterovs_guarantee() -> None:
    """Section 22: on mu-strongly convex quadratics L(w_{t+1}) - L* <= (1 - sqrt(mu/H))^t (L(w_1) - L* + mu D^2/2),
    every t <= 200, with the momentum (sqrt(H) - sqrt(mu))/(sqrt(H) + sqrt(mu))."""
    assert float(strongly_convex_beta(4.0, 1.0)) == pytest.approx(1 / 3, rel=1e-15)  # (2 - 1)/(2 + 1)
    p, oracle = quadratic(11, 6, B=32)
    H, mu = p.constants["H"], p.constants["mu"]
    algorithm = strongly_convex_agd(eta=1 / H[:, None, None], beta=strongly_convex_beta(H, mu)[:, None, None])
    trace = run(algorithm, p, oracle, 200, record=("loss",))
    gap = trace.loss[:, 0, :] - p.constants["Lstar"][:, None]
    t = torch.arange(0, 201, dtype=F64)
    start = gap[:, :1] + mu[:, None] * p.constants["D"][:, None] ** 2 / 2
    bound = (1 - torch.sqrt(mu / H))[:, None] ** t * start
    assert bool((gap <= bound + 1e-9 * start + 1e-12).all())
    assert float((gap / bound).amax()) > 0.1  # not a vacuous comparison


def test_registered_names() -> None:
    for name in ("Momentum-Euler", "Momentum-two-step", "Momentum-Euler-as-printed", "Momentum-two-step-as-printed",
                 "AcceleratedGD", "Algorithm11-momentum", "Algorithm11-as-Algorithm10", "AGD-strongly-convex"):
        assert name in ALGORITHMS
    with pytest.raises(ValueError, match="integrator"):
        Momentum(0.1, 0.5, "leapfrog")
