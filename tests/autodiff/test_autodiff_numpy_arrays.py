"""Issue 16, part 2: shape, cumulative and sorting functions on traced values (prod, cumsum,
cumprod, diff, sort, partition, roll, repeat, tile, kron, cross, pad, tril, triu, diag,
diagonal, rot90, flipud, fliplr, linspace, select, atleast_*d, column_stack, row_stack, append).
Each case: value vs numpy, gradient vs central differences in random directions, and the
reverse-over-reverse HVP vs differences of gradients, at several shapes; a sample vs torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import autodiff as ad
import autodiff.numpy as anp
from _autodiff_helpers import assert_close, directional_checks
from test_autodiff_elementwise import check_all

CASES = [
    ("prod", lambda xp, a: xp.prod(a), [[(4,)], [(2, 3)]], (-2, 2)),
    ("prod-axis-keepdims", lambda xp, a: xp.prod(a, axis=1, keepdims=True), [[(2, 5)], [(3, 1, 2)]], (-2, 2)),
    ("prod-with-a-zero", lambda xp, a: xp.prod(a * np.array([1.0, 0.0, 1.0]), axis=-1), [[(3,)], [(2, 3)]], (-2, 2)),
    ("prod-method", lambda xp, a: a.prod(axis=0), [[(3, 2)]], (-2, 2)),
    ("cumsum", lambda xp, a: xp.cumsum(a), [[(4,)], [(2, 3)]], (-2, 2)),
    ("cumsum-axis", lambda xp, a: xp.cumsum(a, axis=1), [[(2, 4)], [(2, 3, 2)]], (-2, 2)),
    ("cumprod", lambda xp, a: xp.cumprod(a, axis=0), [[(5,)], [(3, 2)]], (-2, 2)),
    ("cumprod-with-a-zero", lambda xp, a: xp.cumprod(a * np.array([1.0, 0.0, 1.0, 1.0])), [[(4,)]], (-2, 2)),
    ("diff", lambda xp, a: xp.diff(a), [[(4,)], [(2, 3)]], (-2, 2)),
    ("diff-n2-axis0-prepend", lambda xp, a: xp.diff(a, n=2, axis=0, prepend=1.0), [[(4,)], [(3, 2)]], (-2, 2)),
    ("sort", lambda xp, a: xp.sort(a) * np.arange(a.shape[-1]), [[(5,)], [(2, 4)]], (-2, 2)),
    ("sort-axis0", lambda xp, a: xp.sort(a, axis=0) * np.arange(a.shape[0])[:, None], [[(4, 3)]], (-2, 2)),
    ("sort-axis-none", lambda xp, a: xp.sort(a, axis=None) * np.arange(a.size), [[(2, 3)]], (-2, 2)),
    ("partition", lambda xp, a: xp.partition(a, 2)[..., 2], [[(5,)], [(3, 4)]], (-2, 2)),
    ("roll", lambda xp, a: xp.roll(a, 2) * np.arange(a.size).reshape(a.shape), [[(5,)], [(2, 3)]], (-2, 2)),
    ("roll-axis", lambda xp, a: xp.roll(a, (1, -1), axis=(0, 1)), [[(3, 4)]], (-2, 2)),
    ("repeat", lambda xp, a: xp.repeat(a, 2), [[(3,)], [(2, 2)]], (-2, 2)),
    ("repeat-axis", lambda xp, a: xp.repeat(a, [1, 3], axis=1), [[(3, 2)]], (-2, 2)),
    ("tile", lambda xp, a: xp.tile(a, (2, 3)), [[(3,)], [(2, 2)]], (-2, 2)),
    ("kron", lambda xp, a, b: xp.kron(a, b), [[(2, 3), (3, 2)], [(3,), (2,)], [(2, 2), (3,)]], (-2, 2)),
    ("cross", lambda xp, a, b: xp.cross(a, b), [[(3,), (3,)], [(4, 3), (3,)]], (-2, 2)),
    ("cross-axis", lambda xp, a, b: xp.cross(a, b, axis=0), [[(3, 2), (3, 2)]], (-2, 2)),
    ("pad-constant", lambda xp, a: xp.pad(a, 1, constant_values=0.5), [[(3,)], [(2, 3)]], (-2, 2)),
    ("pad-modes", lambda xp, a: xp.pad(a, ((1, 2), (2, 0)), "reflect") + xp.pad(a, ((1, 2), (2, 0)), "edge") * xp.pad(a, ((1, 2), (2, 0)), "wrap"), [[(3, 3)], [(4, 3)]], (-2, 2)),
    ("tril", lambda xp, a: xp.tril(a), [[(3, 3)], [(2, 3, 4)]], (-2, 2)),
    ("triu-k", lambda xp, a: xp.triu(a, 1) + xp.tril(a, -1) * 2.0, [[(3, 3)], [(4, 2)]], (-2, 2)),
    ("diag-build", lambda xp, a: xp.diag(a) + xp.diag(a, 0) * 0.5, [[(3,)], [(1,)]], (-2, 2)),
    ("diag-offset", lambda xp, a: xp.diag(a, -2), [[(3,)]], (-2, 2)),
    ("diag-extract", lambda xp, a: xp.diag(a, 1), [[(3, 3)], [(2, 4)]], (-2, 2)),
    ("diagonal", lambda xp, a: xp.diagonal(a, 1, 2, 0), [[(3, 2, 3)], [(2, 2, 4)]], (-2, 2)),
    ("diagonal-method", lambda xp, a: a.diagonal() + a.trace(), [[(3, 3)]], (-2, 2)),
    ("rot90", lambda xp, a: xp.rot90(a) + xp.rot90(a, 3) * 2.0 + xp.rot90(a, 2) * 3.0, [[(3, 3)], [(2, 2, 1)]], (-2, 2)),
    ("rot90-nonsquare", lambda xp, a: xp.rot90(a, 1, (1, 2)), [[(2, 3, 4)]], (-2, 2)),
    ("flipud-fliplr", lambda xp, a: xp.flipud(a) * xp.fliplr(a), [[(3, 3)], [(2, 2, 3)]], (-2, 2)),
    ("linspace", lambda xp, a, b: xp.linspace(a[0], b[0], 5), [[(1,), (1,)]], (-2, 2)),
    ("linspace-arrays", lambda xp, a, b: xp.linspace(a, b, 4, endpoint=False, axis=1), [[(3,), (3,)], [(2, 2), (2,)]], (-2, 2)),
    ("select", lambda xp, a, b: xp.select([a < 0, b > 0.5], [a * b, b], default=a), [[(5,), (5,)], [(3, 2), (2,)]], (-2, 2)),
    ("atleast", lambda xp, a: xp.atleast_3d(a) * 2.0 + xp.sum(xp.atleast_2d(a)) + xp.sum(xp.atleast_1d(a[..., 0])), [[(3,)], [(2, 2)], [(1, 2, 2)]], (-2, 2)),
    ("atleast-scalar", lambda xp, a: xp.atleast_2d(xp.sum(a)) * xp.atleast_1d(a[0]), [[(3,)]], (-2, 2)),
    ("column_stack", lambda xp, a, b: xp.column_stack([a, b, np.ones(a.shape[0])]), [[(3,), (3,)]], (-2, 2)),
    ("column_stack-2d", lambda xp, a, b: xp.column_stack((a, b)), [[(3, 2), (3,)]], (-2, 2)),
    ("row_stack", lambda xp, a, b: xp.vstack([a, b]) if xp is np else xp.row_stack([a, b]), [[(3,), (3,)], [(2, 2), (2,)]], (-2, 2)),
    ("append", lambda xp, a, b: xp.append(a, b), [[(3,), (2, 2)]], (-2, 2)),
    ("take", lambda xp, a: xp.take(a, [2, 0, 2]) + xp.take(a, [1, 1], axis=0).sum(), [[(3,)], [(3, 2)]], (-2, 2)),
    ("take_along_axis", lambda xp, a: xp.take_along_axis(a, np.array([[0, 0], [1, 0]]), axis=1), [[(2, 3)]], (-2, 2)),
    ("dstack", lambda xp, a, b: xp.dstack([a, b]), [[(3,), (3,)], [(2, 2), (2, 2)]], (-2, 2)),
    ("methods", lambda xp, a: a.cumsum(axis=0) * a.cumprod() [: a.shape[0]].reshape((-1,) + (1,) * (a.ndim - 1)) + a.repeat(2, axis=0)[::2], [[(3,)], [(3, 2)]], (-2, 2)),
    ("sum-prod-max-of-list", lambda xp, a, b: xp.sum([a, b]) + xp.prod([a[0], b[0], 2.0]) + xp.max([a[1], b[1]]), [[(2,), (2,)]], (-2, 2)),
    ("append-axis", lambda xp, a, b: xp.append(a, b, axis=1), [[(2, 2), (2, 3)]], (-2, 2)),
]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name,fn,shape_sets,domain", CASES, ids=[c[0] for c in CASES])
def test_array_functions(name, fn, shape_sets, domain, seed):
    rng = np.random.default_rng(seed)
    lo, hi = domain
    for shapes in shape_sets:
        arrays = [rng.uniform(lo, hi, s) for s in shapes]
        directional_checks(lambda *xs: fn(np, *xs), lambda *xs: fn(anp, *xs), arrays, seed)


def test_sample_vs_torch():
    rng = np.random.default_rng(7)
    x = rng.uniform(-2, 2, (3, 4))
    check_all(lambda a: anp.cumprod(a, axis=1), lambda a: torch.cumprod(a, dim=1), [x], 7)
    check_all(lambda a: anp.prod(a, axis=0), lambda a: torch.prod(a, dim=0), [x], 8)
    check_all(lambda a: anp.sort(a, axis=-1), lambda a: torch.sort(a, dim=-1).values, [x], 9)
    check_all(lambda a: anp.kron(a, a[:2, :2]), lambda a: torch.kron(a, a[:2, :2]), [x], 10)
    check_all(lambda a: anp.roll(a, 1, axis=0), lambda a: torch.roll(a, 1, dims=0), [x], 11)


def test_prod_gradient_with_zeros_matches_torch():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.5], [1.0, 2.0, 3.0]])
    g = ad.grad(lambda a: anp.sum(anp.prod(a, axis=1)))(x)
    t = torch.tensor(x, requires_grad=True)
    torch.prod(t, dim=1).sum().backward()
    assert_close(g, t.grad.numpy())
    h = ad.hessian(lambda a: anp.prod(a))(np.array([2.0, 0.0, 3.0]))
    assert_close(h, np.array([[0.0, 3.0, 0.0], [3.0, 0.0, 2.0], [0.0, 2.0, 0.0]]))


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda a: anp.pad(a, 1, mode="mean"), "mode 'mean'"),
        (lambda a: anp.r_["0,2", a, a], "string directives"),
        (lambda a: anp.cross(a[:2], a[1:]), "3-vectors"),
        (lambda a: anp.linalg.pinv(anp.outer(a, a)), "full-rank"),
        (lambda a: anp.cumsum(a, dtype=int), "floating dtype"),
    ],
    ids=["pad-mode", "r_-directive", "cross-2-vectors", "pinv-rank-deficient", "cumsum-int-dtype"],
)
def test_unsupported_forms_on_traced_values_say_so(call, match):
    with pytest.raises((NotImplementedError, TypeError, ValueError), match=match):
        ad.grad(lambda a: anp.sum(call(a)))(np.array([1.0, 2.0, 3.0]))


def test_dtype_arguments_of_running_totals():
    x = np.array([1.0, 2.0, 3.0])
    assert_close(ad.grad(lambda a: anp.sum(anp.cumsum(a, dtype=np.float64)) + anp.prod(a, dtype=float))(x), np.array([3.0, 2.0, 1.0]) + np.array([6.0, 3.0, 2.0]))
    assert_close(anp.cumprod(x, dtype=float), np.cumprod(x))
