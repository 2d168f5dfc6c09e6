"""Issue 16, parts 3-4: the other elementwise functions (hypot, arctan2, logaddexp2, exp2, sinc,
fmax, fmin, nan_to_num, deg2rad, rad2deg, cbrt, ...) and numpy.linalg (solve, inv, det, slogdet,
cholesky, eigh, svd, pinv) on traced values. Each case: value vs numpy, gradient vs central
differences in random directions, reverse-over-reverse HVP vs differences of gradients, at
several shapes; a sample vs torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import autodiff as ad
import autodiff.numpy as anp
from _autodiff_helpers import assert_close, directional_checks
from test_autodiff_elementwise import check_all


def _spd(xp, a):
    """A symmetric positive definite matrix from any square a (batched)."""
    n = a.shape[-1]
    return xp.matmul(a, xp.swapaxes(a, -1, -2)) + n * np.eye(n)


def _sym(xp, a):
    return (a + xp.swapaxes(a, -1, -2)) * 0.5


def _well_conditioned(xp, a):
    n = a.shape[-1]
    return a + 3.0 * n * np.eye(n)


ELEMENTWISE = [
    ("hypot", lambda xp, a, b: xp.hypot(a, b), [[(3,), (3,)], [(2, 3), (3,)]], (-2, 2)),
    ("arctan2", lambda xp, a, b: xp.arctan2(a, b), [[(3,), (3,)], [(2, 1), (1, 3)]], (-2, 2)),
    ("logaddexp2", lambda xp, a, b: xp.logaddexp2(a, b), [[(3,), (3,)], [(2, 3), (3,)]], (-2, 2)),
    ("exp2", lambda xp, a: xp.exp2(a), [[(3,)], [(2, 2)]], (-2, 2)),
    ("sinc", lambda xp, a: xp.sinc(a), [[(4,)], [(2, 3)]], (-2, 2)),
    ("fmax-fmin", lambda xp, a, b: xp.fmax(a, b) * xp.fmin(a, b * 2.0), [[(3,), (3,)], [(2, 3), (3,)]], (-2, 2)),
    ("nan_to_num", lambda xp, a: xp.nan_to_num(xp.log(a)), [[(4,)], [(2, 3)]], (-2, 2)),
    ("deg-rad", lambda xp, a: xp.deg2rad(a) * xp.rad2deg(a) + xp.radians(a) - xp.degrees(a), [[(3,)], [(2, 2)]], (-2, 2)),
    ("cbrt", lambda xp, a: xp.cbrt(a), [[(3,)], [(2, 2)]], (0.2, 3)),
    ("arccosh", lambda xp, a: xp.arccosh(a + 1.5), [[(3,)], [(2, 2)]], (0.2, 3)),
    ("fabs-positive", lambda xp, a: xp.fabs(a) * xp.positive(a), [[(3,)], [(2, 2)]], (0.2, 3)),
    ("heaviside-sign", lambda xp, a: xp.heaviside(a, 0.5) * a + xp.sign(a) * a * a, [[(4,)], [(2, 3)]], (-2, 2)),
]

LINALG = [
    ("solve-matrix", lambda xp, a, b: xp.linalg.solve(_well_conditioned(xp, a), b), [[(3, 3), (3, 2)], [(2, 2, 2), (2, 2, 1)]], (-1, 1)),
    ("solve-vector", lambda xp, a, b: xp.linalg.solve(_well_conditioned(xp, a), b), [[(3, 3), (3,)]], (-1, 1)),
    ("inv", lambda xp, a: xp.linalg.inv(_well_conditioned(xp, a)), [[(3, 3)], [(2, 2, 2)]], (-1, 1)),
    ("det", lambda xp, a: xp.linalg.det(a), [[(3, 3)], [(2, 2, 2)], [(1, 1)]], (-1, 1)),
    ("slogdet", lambda xp, a: xp.linalg.slogdet(a)[1] * xp.linalg.slogdet(a)[0], [[(3, 3)], [(2, 2, 2)]], (-1, 1)),
    ("cholesky", lambda xp, a: xp.linalg.cholesky(_spd(xp, a)), [[(3, 3)], [(2, 2, 2)]], (-1, 1)),
    ("cholesky-lower-triangle", lambda xp, a: xp.linalg.cholesky(a + 4.0 * np.eye(3)), [[(3, 3)]], (-1, 1)),
    ("eigh-values", lambda xp, a: xp.linalg.eigh(_sym(xp, a))[0], [[(3, 3)], [(2, 2, 2)]], (-2, 2)),
    ("eigh-vectors", lambda xp, a: xp.abs(xp.linalg.eigh(_sym(xp, a))[1]), [[(3, 3)], [(2, 2, 2)]], (-2, 2)),
    ("eigh-lower-triangle", lambda xp, a: xp.linalg.eigh(a)[0] + xp.linalg.eigvalsh(a), [[(3, 3)]], (-2, 2)),
    ("svd-values", lambda xp, a: xp.linalg.svd(a, compute_uv=False), [[(3, 3)], [(4, 2)], [(2, 2, 3)]], (-2, 2)),
    ("svd-reduced", lambda xp, a: (lambda usv: xp.abs(usv[0]) * usv[1][..., None, :] + xp.abs(usv[2]).sum())(xp.linalg.svd(a, full_matrices=False)), [[(3, 3)], [(4, 2)], [(2, 3)]], (-2, 2)),
    ("pinv", lambda xp, a: xp.linalg.pinv(a), [[(3, 2)], [(2, 3)], [(2, 2, 2)]], (-2, 2)),
]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name,fn,shape_sets,domain", ELEMENTWISE + LINALG, ids=[c[0] for c in ELEMENTWISE + LINALG])
def test_elementwise_and_linalg(name, fn, shape_sets, domain, seed):
    rng = np.random.default_rng(seed)
    lo, hi = domain
    for shapes in shape_sets:
        arrays = [rng.uniform(lo, hi, s) for s in shapes]
        with np.errstate(divide="ignore", invalid="ignore"):
            directional_checks(lambda *xs: fn(np, *xs), lambda *xs: fn(anp, *xs), arrays, seed)


def test_sample_vs_torch():
    rng = np.random.default_rng(12)
    a, b = rng.uniform(-2, 2, (2, 3)), rng.uniform(-2, 2, (2, 3))
    check_all(lambda x, y: anp.arctan2(x, y), torch.atan2, [a, b], 12)
    check_all(lambda x, y: anp.hypot(x, y), torch.hypot, [a, b], 13)
    check_all(lambda x: anp.sinc(x), torch.sinc, [a], 14)
    m = rng.uniform(-1, 1, (3, 3))
    spd = lambda t: t @ t.T + 3.0 * torch.eye(3, dtype=torch.float64)  # noqa: E731
    check_all(lambda x: anp.linalg.inv(_spd(anp, x)), lambda x: torch.linalg.inv(spd(x)), [m], 15)
    check_all(lambda x: anp.linalg.det(x), torch.linalg.det, [m], 16)
    check_all(lambda x: anp.linalg.cholesky(_spd(anp, x)), lambda x: torch.linalg.cholesky(spd(x)), [m], 17)
    check_all(lambda x: anp.linalg.eigh(_spd(anp, x))[0], lambda x: torch.linalg.eigh(spd(x))[0], [m], 18)
    check_all(lambda x: anp.linalg.svd(x, compute_uv=False), lambda x: torch.linalg.svdvals(x), [m], 19)


def test_sinc_second_derivative_at_zero():
    assert_close(ad.grad(ad.grad(lambda x: anp.sinc(x)))(0.0), -np.pi ** 2 / 3.0)


def test_svd_full_matrices_of_a_rectangular_traced_matrix_says_what_to_do():
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        ad.grad(lambda a: anp.sum(anp.linalg.svd(a)[0]))(np.ones((3, 2)))


def test_linalg_keeps_the_clear_error_for_complex_input():
    with pytest.raises(TypeError, match="real floating point"):
        ad.grad(lambda a: anp.linalg.det(a))(np.eye(2) * 1j)


def test_decompositions_have_numpys_field_names():
    a = np.array([[2.0, 0.5], [0.5, 1.0]])

    def f(x):
        e = anp.linalg.eigh(x)
        u = anp.linalg.svd(x)
        d = anp.linalg.slogdet(x)
        return anp.sum(e.eigenvalues) + anp.sum(u.S) + d.logabsdet * d.sign + anp.sum(e.eigenvectors * 0.0) + anp.sum(u.U * 0.0 + u.Vh * 0.0)

    expected = np.trace(a) + np.sum(np.linalg.svd(a, compute_uv=False)) + np.linalg.slogdet(a)[1]
    assert_close(ad.value_and_grad(f)(a)[0], expected)
