"""Issue 16, part 1: the numpy forms users write most (einsum sublists and ellipses, trace with
offset/axes, mod/remainder/fmod, statistics of lists of traced values, np.r_/np.c_, .astype and
.real). Each case: value vs numpy, gradient vs central differences in random directions, and the
reverse-over-reverse HVP vs differences of gradients, at several shapes; a sample vs torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import autodiff as ad
import autodiff.numpy as anp
from _autodiff_helpers import assert_close, directional_checks
from test_autodiff_elementwise import check_all

# id, f(xp, *arrays) written once for numpy and the engine, shape sets, (lo, hi) of the entries
CASES = [
    ("einsum-sublist-matmul", lambda xp, a, b: xp.einsum(a, [0, 1], b, [1, 2]), [[(2, 3), (3, 4)], [(1, 1), (1, 3)]], (-2, 2)),
    ("einsum-sublist-out", lambda xp, a, b: xp.einsum(a, [0, 1], b, [1, 2], [2, 0]), [[(2, 3), (3, 4)], [(3, 2), (2, 1)]], (-2, 2)),
    ("einsum-sublist-ellipsis", lambda xp, a, b: xp.einsum(a, [Ellipsis, 0, 1], b, [1, 2], [Ellipsis, 0, 2]), [[(4, 2, 3), (3, 2)], [(2, 2, 3, 3), (3, 1)]], (-2, 2)),
    ("einsum-ellipsis-broadcast", lambda xp, a, b: xp.einsum("...ij,...jk->...ik", a, b), [[(2, 1, 3, 3), (4, 3, 2)], [(1, 2, 2), (3, 2, 2)]], (-2, 2)),
    ("einsum-ellipsis-implicit", lambda xp, a, b: xp.einsum("i...,i...", a, b), [[(3, 2), (3, 1)], [(2, 2, 3), (2, 1, 3)]], (-2, 2)),
    ("einsum-four-operands", lambda xp, a, b, c, d: xp.einsum("ij,jk,kl,l->i", a, b, c, d), [[(2, 3), (3, 3), (3, 2), (2,)], [(1, 2), (2, 1), (1, 4), (4,)]], (-2, 2)),
    ("trace-offset", lambda xp, a: xp.trace(a, offset=1), [[(3, 3)], [(2, 4)], [(4, 2)]], (-2, 2)),
    ("trace-negative-offset", lambda xp, a: xp.trace(a, -1), [[(3, 3)], [(4, 2)]], (-2, 2)),
    ("trace-axes", lambda xp, a: xp.trace(a, 0, 1, 2), [[(2, 3, 3)], [(2, 3, 4)]], (-2, 2)),
    ("trace-axes-offset", lambda xp, a: xp.trace(a, offset=-1, axis1=2, axis2=0), [[(3, 2, 3)], [(4, 1, 2)]], (-2, 2)),
    ("mod-operator", lambda xp, a, b: a % b, [[(3,), (3,)], [(2, 3), (3,)], [(2, 1), (1, 3)]], (0.3, 3)),
    ("mod-scalar", lambda xp, a: a % 0.7 + 2.0 % (a + 3.0), [[(4,)], [(2, 3)]], (-3, 3)),
    ("mod-function", lambda xp, a, b: xp.mod(a, -b), [[(3,), (3,)], [(2, 3), (1,)]], (0.3, 3)),
    ("remainder", lambda xp, a, b: xp.remainder(-a, b), [[(3,), (3,)], [(2, 3), (3,)]], (0.3, 3)),
    ("fmod", lambda xp, a, b: xp.fmod(a - 1.5, b), [[(3,), (3,)], [(2, 3), (3,)]], (0.3, 3)),
    ("mean-of-list", lambda xp, a, b: xp.mean([a[0], b[1], a[1] * b[0]]), [[(2,), (2,)], [(3,), (4,)]], (-2, 2)),
    ("std-of-list", lambda xp, a, b: xp.std([a[0], b[1], a[1] * b[0]]), [[(2,), (2,)], [(3,), (4,)]], (-2, 2)),
    ("var-of-list-axis", lambda xp, a, b: xp.var([a, b], axis=0, ddof=1), [[(2,), (2,)], [(2, 3), (2, 3)]], (-2, 2)),
    ("mean-of-list-of-arrays", lambda xp, a, b: xp.mean([a, b, a * b], axis=1), [[(2,), (2,)], [(3,), (3,)]], (-2, 2)),
    ("r_", lambda xp, a, b: xp.r_[a, b, 2.0, a[0]], [[(2,), (3,)], [(1,), (1,)]], (-2, 2)),
    ("r_-matrices", lambda xp, a, b: xp.r_[a, b], [[(2, 3), (1, 3)]], (-2, 2)),
    ("c_", lambda xp, a, b: xp.c_[a, b, np.ones(a.shape[0])], [[(2,), (2,)], [(3,), (3,)]], (-2, 2)),
    ("c_-matrices", lambda xp, a, b: xp.c_[a, b], [[(2, 3), (2, 1)]], (-2, 2)),
    ("astype-float", lambda xp, a: a.astype(float) * a.astype(np.float64), [[(3,)], [(2, 2)]], (-2, 2)),
    ("real", lambda xp, a: a.real * xp.real(a) + a.conj() * 0.5, [[(3,)], [(2, 2)]], (-2, 2)),
]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name,fn,shape_sets,domain", CASES, ids=[c[0] for c in CASES])
def test_common_numpy_forms(name, fn, shape_sets, domain, seed):
    rng = np.random.default_rng(seed)
    lo, hi = domain
    for shapes in shape_sets:
        arrays = [rng.uniform(lo, hi, s) for s in shapes]
        directional_checks(lambda *xs: fn(np, *xs), lambda *xs: fn(anp, *xs), arrays, seed)


def test_einsum_sublist_and_trace_offset_vs_torch():
    rng = np.random.default_rng(3)
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    check_all(lambda x, y, z: anp.einsum(x, [0, 1], y, [1, 2], z, [2, 3], [0, 3]), lambda x, y, z: torch.einsum("ij,jk,kl->il", x, y, z), [a, b, c], 3)
    m = rng.standard_normal((2, 4, 4))
    check_all(lambda x: anp.trace(x, 1, 1, 2), lambda x: torch.diagonal(x, 1, 1, 2).sum(-1), [m], 4)


def test_mod_vs_torch():
    rng = np.random.default_rng(5)
    x, y = rng.uniform(-3, 3, (2, 3)), rng.uniform(0.5, 2, (3,))
    check_all(lambda a, b: anp.mod(a, b), torch.remainder, [x, y], 5)
    check_all(lambda a, b: anp.fmod(a, b), torch.fmod, [x, y], 6)


def test_std_gradient_at_zero_variance_is_zero_like_torch():
    x = np.array([[1.5, 1.5, 1.5], [0.0, 1.0, 2.0]])
    g = ad.grad(lambda a: anp.sum(anp.std(a, axis=1)))(x)
    t = torch.tensor(x, requires_grad=True)
    torch.std(t, dim=1, correction=0).sum().backward()
    assert np.all(np.isfinite(g))
    assert_close(g, t.grad.numpy())
    assert_close(g[0], np.zeros(3))
    # a zero-variance list of traced values, and the method form
    assert_close(ad.grad(lambda a: anp.std([a, a, a]))(2.0), 0.0)
    assert_close(ad.grad(lambda a: a.std())(np.full(4, 3.0)), np.zeros(4))


def test_astype_to_integer_and_imag_are_not_differentiable():
    x = ad.Variable(np.array([1.7, -2.2]))
    assert_close(x.astype(int), np.array([1, -2]))
    assert not isinstance(x.astype(int), ad.Variable)
    assert_close(anp.imag(x), np.zeros(2))


def test_complex_input_keeps_its_clear_error():
    with pytest.raises(TypeError, match="real floating point"):
        ad.grad(lambda a: anp.sum(a.real))(np.array([1.0 + 2.0j]))
