"""The cubic subproblem solver (algorithms/cubic_subproblem.py, section 25's delta_t^*): hand-computed
minimisers, the global optimality conditions on random batches (easy, hard and near-hard cases, tiny
and huge scales), global minimality against many local solves by scipy, the certificate rejecting a
local minimiser that is not global, and the scipy fallback path giving the same steps."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import optimize

import algorithms.cubic_subproblem as cs
from algorithms.cubic_subproblem import CubicCertificateError, certificate, cubic_model, solve_cubic

F64 = torch.float64


def t(x) -> torch.Tensor:
    return torch.tensor(x, dtype=F64)


def random_batch(seed: int, n: int, d: int, g_scale: tuple[float, float] = (-3, 3)) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(seed)
    A = torch.randn(n, d, d, generator=gen, dtype=F64)
    hess = (A + A.transpose(-1, -2)) / 2 * 10 ** (torch.rand(n, 1, 1, generator=gen, dtype=F64) * 4 - 2)
    g = torch.randn(n, d, generator=gen, dtype=F64) * 10 ** (torch.rand(n, 1, generator=gen, dtype=F64)
                                                              * (g_scale[1] - g_scale[0]) + g_scale[0])
    J = 10 ** (torch.rand(n, generator=gen, dtype=F64) * 4 - 2)
    return g, hess, J


@pytest.mark.parametrize("g, h, J", [(2.0, -1.0, 0.5), (-3.0, 4.0, 2.0), (0.1, -5.0, 10.0), (1e-6, 1e3, 1e-3)])
def test_one_dimensional_minimiser_by_hand(g: float, h: float, J: float) -> None:
    """In 1-d the minimiser has the sign of -g and solves g + h s - J s^2 / 2 = 0 for g > 0:
    s = (h - sqrt(h^2 + 2 J g)) / J = -2 g / (h + sqrt(h^2 + 2 J g)) (mirrored for g < 0)."""
    expected = -math.copysign(1.0, g) * 2 * abs(g) / (h + math.sqrt(h * h + 2 * J * abs(g)))
    s = solve_cubic(t([[g]]), t([[[h]]]), J).step
    assert float(s) == pytest.approx(expected, rel=1e-12)


def test_hard_case_by_hand() -> None:
    """H = diag(-1, 2), g = (0, 1), J = 1: r = ||s|| = r_min = 2, the second coordinate is -1/(2 + 1),
    the first +-sqrt(4 - 1/9); the model value is the same for both signs."""
    sol = solve_cubic(t([[0.0, 1.0]]), t([[[-1.0, 0.0], [0.0, 2.0]]]), 1.0)
    s = sol.step[0]
    assert float(s[1]) == pytest.approx(-1 / 3, rel=1e-12)
    assert abs(float(s[0])) == pytest.approx(math.sqrt(4 - 1 / 9), rel=1e-12)
    assert float(sol.norm) == pytest.approx(2.0, rel=1e-12)
    expected = -1 / 3 + (-(4 - 1 / 9) + 2 / 9) / 2 + 8 / 6
    assert float(sol.model) == pytest.approx(expected, rel=1e-12)


def test_zero_gradient_and_positive_definite_hessian_gives_zero_step() -> None:
    assert torch.equal(solve_cubic(torch.zeros(1, 3, dtype=F64), torch.eye(3, dtype=F64)[None], 2.0).step,
                       torch.zeros(1, 3, dtype=F64))


@pytest.mark.parametrize("seed, d, g_scale", [(0, 1, (-3, 3)), (1, 3, (-3, 3)), (2, 8, (-3, 3)),
                                              (3, 5, (-12, -6)), (4, 2, (4, 8))])
def test_random_batches_satisfy_the_optimality_conditions(seed: int, d: int, g_scale: tuple[float, float]) -> None:
    g, hess, J = random_batch(seed, 256, d, g_scale)
    sol = solve_cubic(g, hess, J)
    assert bool(sol.certified.all())
    independent = certificate(g, hess, J, sol.step)
    assert bool((independent.residual <= 1e-8 * independent.residual_scale).all())
    assert bool((independent.shifted_min >= -1e-8 * independent.eigen_scale).all())


def test_near_hard_case_is_solved_to_the_certificate() -> None:
    """g nearly orthogonal to the bottom eigenvector (component 1e-9 .. 1e-15 of ||g||)."""
    lam = t([-2.0, 0.5, 3.0])
    rows = [[10.0 ** -k, 1.0, -0.5] for k in range(9, 16)]
    g = t(rows)
    hess = torch.diag(lam).expand(len(rows), 3, 3)
    sol = solve_cubic(g, hess, 0.7)
    assert bool(sol.certified.all())
    assert bool((sol.norm >= 2 * 2.0 / 0.7 * (1 - 1e-12)).all())


def test_global_minimum_beats_many_local_solves() -> None:
    """m(s*) is below the best of 40 BFGS runs from random starts on each instance."""
    g, hess, J = random_batch(7, 12, 3)
    sol = solve_cubic(g, hess, J)
    rng = np.random.default_rng(0)
    for i in range(12):
        gi, hi, ji = g[i].numpy(), hess[i].numpy(), float(J[i])

        def m(s: np.ndarray) -> float:
            return float(gi @ s + s @ hi @ s / 2 + ji * np.linalg.norm(s) ** 3 / 6)

        radius = 3 * float(sol.norm[i]) + 1
        best = min(optimize.minimize(m, rng.normal(size=3) * radius, method="BFGS").fun for _ in range(40))
        assert float(sol.model[i]) <= best + 1e-9 * (abs(best) + 1)


def test_certificate_rejects_a_local_minimiser_that_is_not_global() -> None:
    """m(s) = 0.1 s - 2 s^2 / 2 + |s|^3 / 6 has local minima on both sides; the one on the side of +g
    solves the first condition (H + J|s|/2) s = -g but H + J|s|/2 < 0 there."""
    g, h, J = 0.1, -2.0, 1.0
    local = (-h + math.sqrt(h * h - 2 * J * g)) / J  # the larger root of g + h s + J s^2 / 2 = 0, s > 0
    assert g + h * local + J * local * abs(local) / 2 == pytest.approx(0.0, abs=1e-12)
    assert h + J * local > 0  # a local minimum: m'' = h + J |s| > 0
    wrong = certificate(t([[g]]), t([[[h]]]), J, t([[local]]))
    assert not bool(wrong.certified.all())
    right = solve_cubic(t([[g]]), t([[[h]]]), J)
    assert float(right.step) < 0 and float(right.model) < float(cubic_model(t([[g]]), t([[[h]]]), J, t([[local]])))


def test_certificate_failure_raises() -> None:
    """A solve whose step is replaced by a wrong one is refused, not returned."""
    g, hess, J = random_batch(3, 4, 3)
    original = cs._solve_flat
    try:
        cs._solve_flat = lambda *args: original(*args) * 1.01
        with pytest.raises(CubicCertificateError, match="not certified"):
            solve_cubic(g, hess, J)
    finally:
        cs._solve_flat = original


def test_scipy_fallback_gives_the_same_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no Newton step allowed every root comes from scipy's elementwise find_root."""
    g, hess, J = random_batch(11, 64, 4)
    newton = solve_cubic(g, hess, J)
    original = cs._newton
    monkeypatch.setattr(cs, "_newton", lambda *args: original(*args, iterations=0))
    fallback = solve_cubic(g, hess, J)
    assert bool(fallback.certified.all())
    torch.testing.assert_close(fallback.step, newton.step, rtol=1e-9, atol=1e-12)


def test_zero_J_is_newton_or_minimum_norm_and_refuses_an_indefinite_hessian() -> None:
    hess = t([[[2.0, 0.0], [0.0, 4.0]], [[1.0, 0.0], [0.0, 0.0]]])
    g = t([[2.0, -4.0], [3.0, 0.0]])
    s = solve_cubic(g, hess, 0.0).step
    torch.testing.assert_close(s, t([[-1.0, 1.0], [-3.0, 0.0]]))
    with pytest.raises(CubicCertificateError):
        solve_cubic(t([[1.0, 1.0]]), t([[[1.0, 0.0], [0.0, -1.0]]]), 0.0)
