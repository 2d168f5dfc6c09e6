"""The known hard instances: constants certified independently (autograd Hessians, linear solves,
sampled difference quotients) and the behaviour each one is known for reproduced."""
from __future__ import annotations

import math

import pytest
import torch

from algorithms import GD, SGD, run, torch_optimizer
from examples.variants import SignSGD
from problems import Exact, ProblemBatch
from problems.hard_instances import (SkewedNoise, drori_teboulle, drori_teboulle_worst_case, lessard_recht_packard,
                                     nesterov_chain, nesterov_lower_bound, reddi_kale_kumar)


def _diagonal_quadratic(diagonal: list[float], w1: list[float]) -> ProblemBatch:
    lam = torch.tensor([diagonal], dtype=torch.float64)
    zero = torch.zeros(1, dtype=torch.float64)
    return ProblemBatch("diagonal", frozenset({"cvx", "smooth"}), lambda w: 0.5 * (lam[:, None] * w * w).sum(-1),
                        lambda w: lam[:, None] * w, {"H": lam.max(-1).values, "Lstar": zero},
                        torch.tensor([w1], dtype=torch.float64), torch.zeros_like(lam), {})


def _hessian(problem, w: torch.Tensor) -> torch.Tensor:
    return torch.autograd.functional.hessian(lambda x: problem.loss(x[None, None, :])[0, 0], w)


def _autograd_grad(problem, w: torch.Tensor) -> torch.Tensor:
    w = w.clone().requires_grad_(True)
    return torch.autograd.grad(problem.loss(w).sum(), w)[0]


@pytest.mark.parametrize("k", [1, 2, 5])
def test_nesterov_chain_constants(k: int) -> None:
    p = nesterov_chain(k, L=3.0)
    n = 2 * k + 1
    Hess = _hessian(p, torch.randn(n, dtype=torch.float64))
    eig = torch.linalg.eigvalsh(Hess)
    assert float(p.constants["H"][0]) == pytest.approx(float(eig.max()), rel=1e-12)
    assert float(p.constants["mu"][0]) == pytest.approx(float(eig.min()), rel=1e-10)
    assert float(eig.max()) <= 3.0  # L-smooth, as the lower bound needs
    w_star = torch.linalg.solve(Hess, -p.grad(torch.zeros(1, 1, n, dtype=torch.float64))[0, 0])
    torch.testing.assert_close(p.w_star[0], w_star, rtol=1e-12, atol=1e-12)
    assert float(p.constants["Lstar"][0]) == pytest.approx(float(p.loss(w_star[None, None])[0, 0]), rel=1e-12)
    w = torch.randn(1, 4, n, dtype=torch.float64)
    torch.testing.assert_close(p.grad(w), _autograd_grad(p, w), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k", [1, 3, 8])
@pytest.mark.parametrize("method", ["gd", "heavy-ball"])
def test_span_methods_obey_nesterovs_lower_bound(k: int, method: str) -> None:
    """After k steps from 0 a span method has touched only the first k coordinates, so its
    suboptimality is at least 3 L ||x_1 - x*||^2 / (32 (k + 1)^2)."""
    L = 2.0
    p = nesterov_chain(k, L=L)
    eta = 1 / float(p.constants["H"][0])
    factory = GD if method == "gd" else torch_optimizer(torch.optim.SGD, momentum=0.5)
    oracle = Exact().bind(p, None)
    w, state = p.w1[:, None, :].clone(), None
    algorithm = factory(eta=eta)
    state = algorithm.init(w)
    for t in range(1, k + 1):
        w, state = algorithm.step(w, state, oracle.sample, t)
    assert torch.all(w[0, 0, k:] == 0)
    assert torch.all(w[0, 0, :k] != 0)
    gap = float(p.loss(w)[0, 0] - p.constants["Lstar"][0])
    bound = nesterov_lower_bound(k, L, float(p.constants["D"][0]) ** 2)
    assert gap >= bound


def test_drori_teboulle_constants() -> None:
    p = drori_teboulle(N=3, H=2.0, R=5.0)
    x = torch.linspace(-10, 10, 20001, dtype=torch.float64)[:, None, None].permute(1, 0, 2)
    f, g = p.loss(x)[0], p.grad(x)[0, :, 0]
    torch.testing.assert_close(g, _autograd_grad(p, x)[0, :, 0], rtol=1e-12, atol=1e-12)
    slopes = torch.diff(g) / torch.diff(x[0, :, 0])
    assert float(slopes.min()) >= -1e-9 and float(slopes.max()) <= 2.0 + 1e-9  # convex, H-smooth
    assert float(g.abs().max()) == pytest.approx(float(p.constants["G"][0]), rel=1e-12)  # G attained
    zero = torch.zeros(1, 1, 1, dtype=torch.float64)
    assert float(f.min()) >= 0.0 and float(p.loss(zero)) == 0.0 == float(p.grad(zero))
    assert float(p.constants["D"][0]) == 5.0


@pytest.mark.parametrize("N", [1, 2, 4, 8, 16])
def test_gradient_descent_attains_the_drori_teboulle_worst_case(N: int) -> None:
    H, R = 3.0, 2.0
    p = drori_teboulle(N, H=H, R=R)
    trace = run(GD(eta=1 / H), p, Exact().bind(p, None), N)
    assert float(trace.loss[0, 0, -1]) == pytest.approx(drori_teboulle_worst_case(N, H, R), rel=1e-12)
    # the Huber instance beats every quadratic: max over lam in [0, H] of lam/2 (1 - lam/H)^(2N) R^2
    lam = torch.linspace(0, H, 100001, dtype=torch.float64)
    quadratic_worst = float((lam / 2 * (1 - lam / H) ** (2 * N) * R ** 2).max())
    assert drori_teboulle_worst_case(N, H, R) > quadratic_worst


def test_lessard_recht_packard_constants() -> None:
    p = lessard_recht_packard()
    x = torch.linspace(-5, 5, 10001, dtype=torch.float64)[None, :, None]
    g = p.grad(x)[0, :, 0]
    torch.testing.assert_close(g, _autograd_grad(p, x)[0, :, 0], rtol=1e-12, atol=1e-12)
    slopes = torch.diff(g) / torch.diff(x[0, :, 0])
    assert float(slopes.min()) >= 1.0 - 1e-9 and float(slopes.max()) <= 25.0 + 1e-9
    zero = torch.zeros(1, 1, 1, dtype=torch.float64)
    assert float(p.loss(x).min()) >= 0.0 and float(p.loss(zero)) == 0.0 == float(p.grad(zero))
    # continuous at the breakpoints 1 and 2 (the pieces meet)
    for b in (1.0, 2.0):
        near = torch.tensor([[[b - 1e-9], [b]]], dtype=torch.float64)
        assert float((p.loss(near)[0, 1] - p.loss(near)[0, 0]).abs()) < 1e-6


def test_heavy_ball_tuned_for_quadratics_cycles_on_lessard_recht_packard() -> None:
    p = lessard_recht_packard(x1=3.3)
    kappa = 25.0
    eta, beta = 4 / (math.sqrt(25.0) + 1) ** 2, ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2
    heavy = run(torch_optimizer(torch.optim.SGD, momentum=beta)(eta=eta), p, Exact().bind(p, None), 600)
    tail = heavy.loss[0, 0, -30:]
    assert float(tail.min()) > 1.0  # a cycle through 0.6465, -1.8024, 2.1159: no convergence
    plain = run(GD(eta=1 / 25.0), p, Exact().bind(p, None), 600)
    assert float(plain.loss[0, 0, -1]) < 1e-12
    # the same tuning converges on the quadratic with the same mu = 1 and H = 25
    q = _diagonal_quadratic([1.0, 25.0], [3.3, 3.3])
    on_quadratic = run(torch_optimizer(torch.optim.SGD, momentum=beta)(eta=eta), q, Exact().bind(q, None), 600)
    assert float(on_quadratic.loss[0, 0, -1]) < 1e-12


def test_skewed_noise_is_unbiased_with_exact_variance_and_bounded() -> None:
    p = drori_teboulle(1)
    d = 1
    noise = SkewedNoise(sigma=2.0, p=0.1)
    oracle = noise.bind(p, torch.Generator().manual_seed(1))
    w = torch.full((1, 200000, d), 0.05, dtype=torch.float64)
    z = oracle.sample(w) - p.grad(w)
    n = z.shape[1]
    assert abs(float(z.mean())) < 4 * 2.0 / math.sqrt(n)
    var = float(z.square().sum(-1).mean())
    assert var == pytest.approx(4.0, rel=0.03)
    assert float(z.norm(dim=-1).max()) <= math.sqrt(d) * noise.amplitude(d) + 1e-12


def test_sign_descent_is_trapped_by_skewed_noise_while_sgd_converges() -> None:
    """With E sign(g) = 2p - 1 < 0 on every coordinate whose gradient is below a p/(1 - p),
    sign descent climbs to where grad L = a p/(1 - p) > 0; SGD's iterates still go to 0."""
    q = _diagonal_quadratic([1.0, 0.5, 0.25], [1.0, -1.0, 0.5])
    noise = SkewedNoise(sigma=1.0, p=0.1)
    target = noise.amplitude(3) * 0.1 / 0.9
    R, T = 64, 4000
    sign = run(SignSGD(eta=1e-3), q, noise.bind(q, torch.Generator().manual_seed(4)), T, replicas=R)
    sgd = run(SGD(eta=lambda t: 1.0 / (t + 1)), q, noise.bind(q, torch.Generator().manual_seed(5)), T, replicas=R)
    sign_grad_sq = float(sign.grad_sq[0, :, -1].mean())
    sgd_grad_sq = float(sgd.grad_sq[0, :, -1].mean())
    # sign descent ends near ||grad L||^2 = d target^2; SGD with eta_t = 1/(t + 1) near 0
    assert sign_grad_sq == pytest.approx(3 * target ** 2, rel=0.1)
    assert sgd_grad_sq < 0.05 * sign_grad_sq


class _Projected:
    """An algorithm followed by projection onto an interval (the constrained problem of RKK)."""

    def __init__(self, inner, low: float, high: float) -> None:
        self.inner, self.low, self.high = inner, low, high

    def init(self, w1):
        return self.inner.init(w1)

    def step(self, w, state, oracle, t):
        w, state = self.inner.step(w, state, oracle, t)
        return w.clamp(self.low, self.high), state


@pytest.mark.parametrize("C", [3.0, 5.0])
def test_adam_converges_to_the_worst_point_of_reddi_kale_kumar(C: float) -> None:
    low, high = reddi_kale_kumar(C)[0].params["domain"]
    eta = lambda t: 0.1 / math.sqrt(t)  # noqa: E731  (the alpha/sqrt(t) of the theorem)
    adam = torch_optimizer(torch.optim.Adam, betas=(0.0, 1 / (1 + C ** 2)), eps=1e-12)(eta=eta)
    ends = {}
    for name, algorithm in (("adam", adam), ("sgd", SGD(eta=eta))):
        p, oracle = reddi_kale_kumar(C)
        trace = run(_Projected(algorithm, low, high), p, oracle, 3000)
        ends[name] = float(trace.loss[0, 0, -1] - p.constants["Lstar"][0])
    slope = (C - 2) / 3
    assert ends["adam"] == pytest.approx(2 * slope, rel=1e-9)  # at x = +1: the largest gap on [-1, 1]
    assert ends["sgd"] < 0.01 * slope
