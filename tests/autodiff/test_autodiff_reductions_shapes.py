"""Reductions (axis/keepdims), norms and shape ops: values and gradients vs torch and
central differences, second derivatives vs torch."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings

import autodiff.numpy as anp
from _autodiff_helpers import arrays_in, small_shapes
from test_autodiff_elementwise import check_all


@st.composite
def shape_and_axis(draw, min_dims=1, max_dims=3):
    shape = draw(small_shapes(min_dims=min_dims, max_dims=max_dims))
    nd = len(shape)
    axis = draw(
        st.one_of(
            st.none(),
            st.integers(-nd, nd - 1),
            st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple),
        )
    )
    return shape, axis


def _dims(shape, axis):
    if axis is None:
        return tuple(range(len(shape)))
    return (axis,) if isinstance(axis, int) else axis


REDUCTIONS = [
    ("sum", lambda x, a, k: anp.sum(x, axis=a, keepdims=k), lambda x, d, k: torch.sum(x, dim=d, keepdim=k)),
    ("mean", lambda x, a, k: anp.mean(x, axis=a, keepdims=k), lambda x, d, k: torch.mean(x, dim=d, keepdim=k)),
    ("max", lambda x, a, k: anp.max(x, axis=a, keepdims=k), lambda x, d, k: torch.amax(x, dim=d, keepdim=k)),
    ("min", lambda x, a, k: anp.min(x, axis=a, keepdims=k), lambda x, d, k: torch.amin(x, dim=d, keepdim=k)),
    ("logsumexp", lambda x, a, k: anp.logsumexp(x, axis=a, keepdims=k), lambda x, d, k: torch.logsumexp(x, dim=d, keepdim=k)),
    ("var", lambda x, a, k: anp.var(x, axis=a, keepdims=k), lambda x, d, k: torch.var(x, dim=d, keepdim=k, correction=0)),
    ("std-ddof1", lambda x, a, k: anp.std(x, axis=a, ddof=1, keepdims=k), lambda x, d, k: torch.std(x, dim=d, keepdim=k, correction=1)),
    ("method-sum", lambda x, a, k: x.sum(axis=a, keepdims=k), lambda x, d, k: torch.sum(x, dim=d, keepdim=k)),
    ("method-max", lambda x, a, k: x.max(axis=a, keepdims=k), lambda x, d, k: torch.amax(x, dim=d, keepdim=k)),
    ("method-mean", lambda x, a, k: x.mean(axis=a, keepdims=k), lambda x, d, k: torch.mean(x, dim=d, keepdim=k)),
]


@pytest.mark.parametrize("name,fn,tfn", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
@settings(max_examples=30, deadline=None)
@given(data=st.data(), sa=shape_and_axis(), keepdims=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_reduction(name, fn, tfn, data, sa, keepdims, seed):
    shape, axis = sa
    dims = _dims(shape, axis)
    if name.startswith("std"):
        assume(int(np.prod([shape[d] for d in dims])) > 1)
    # distinct entries: no ties for max/min and no zero variance for std
    x = data.draw(arrays_in(shape, -3, 3, unique=True))
    assume(x.size < 2 or np.min(np.diff(np.sort(x.ravel()))) > 1e-4)
    check_all(lambda a: fn(a, axis, keepdims), lambda a: tfn(a, dims, keepdims), [x], seed)


@pytest.mark.parametrize("ord", [None, 1, 2, 3, np.inf, -np.inf])
@settings(max_examples=25, deadline=None)
@given(data=st.data(), sa=shape_and_axis(max_dims=3), keepdims=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_vector_norm(ord, data, sa, keepdims, seed):
    shape, axis = sa
    axis = axis if isinstance(axis, int) else -1
    x = data.draw(arrays_in(shape, 0.05, 3, signed=True, unique=True))
    assume(x.size < 2 or np.min(np.diff(np.sort(np.abs(x).ravel()))) > 1e-4)
    torch_ord = 2 if ord is None else ord
    check_all(
        lambda a: anp.linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims),
        lambda a: torch.linalg.vector_norm(a, ord=torch_ord, dim=axis, keepdim=keepdims),
        [x],
        seed,
    )


@pytest.mark.parametrize("ord", [None, "fro", 1, -1, np.inf, -np.inf])
@settings(max_examples=25, deadline=None)
@given(data=st.data(), shape=small_shapes(min_dims=2, max_dims=3), keepdims=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_matrix_norm(ord, data, shape, keepdims, seed):
    x = data.draw(arrays_in(shape, 0.05, 3, signed=True, unique=True))
    torch_ord = "fro" if ord is None else ord
    axes = (-2, -1)
    # ties between row/column sums would make max non-differentiable: require a gap
    if ord in (1, -1):
        sums = np.sort(np.abs(x).sum(axis=-2), axis=-1)
        assume(np.all(np.diff(sums, axis=-1) > 1e-3))
    if ord in (np.inf, -np.inf):
        sums = np.sort(np.abs(x).sum(axis=-1), axis=-1)
        assume(np.all(np.diff(sums, axis=-1) > 1e-3))
    check_all(
        lambda a: anp.linalg.norm(a, ord=ord, axis=axes, keepdims=keepdims),
        lambda a: torch.linalg.matrix_norm(a, ord=torch_ord, dim=axes, keepdim=keepdims),
        [x],
        seed,
    )


def test_norm_without_axis_matches_numpy_and_frobenius():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    import autodiff as ad

    assert np.isclose(anp.linalg.norm(ad.Variable(x)).value, np.linalg.norm(x))
    assert np.allclose(ad.grad(anp.linalg.norm)(x), x / np.linalg.norm(x))


# Shape ops ---------------------------------------------------------------------------


@st.composite
def permuted(draw):
    shape = draw(small_shapes(min_dims=1))
    perm = tuple(draw(st.permutations(range(len(shape)))))
    return shape, perm


@settings(max_examples=30, deadline=None)
@given(data=st.data(), sp=permuted(), seed=st.integers(0, 2**32 - 1))
def test_transpose_and_method_forms(data, sp, seed):
    shape, perm = sp
    x = data.draw(arrays_in(shape, -3, 3))
    check_all(lambda a: anp.transpose(a, perm), lambda a: a.permute(*perm), [x], seed)
    check_all(lambda a: a.transpose(*perm), lambda a: a.permute(*perm), [x], seed, fd=False)
    check_all(lambda a: a.T, lambda a: a.permute(*reversed(range(a.ndim))), [x], seed, fd=False)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), shape=small_shapes(min_dims=1), seed=st.integers(0, 2**32 - 1))
def test_reshape_ravel_expand_squeeze(data, shape, seed):
    x = data.draw(arrays_in(shape, -3, 3))
    target = tuple(reversed(shape))
    check_all(lambda a: anp.reshape(a, target), lambda a: a.reshape(target), [x], seed)
    check_all(lambda a: a.reshape(-1, 1), lambda a: a.reshape(-1, 1), [x], seed, fd=False)
    check_all(lambda a: anp.ravel(a), lambda a: a.reshape(-1), [x], seed, fd=False)
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    check_all(lambda a: anp.expand_dims(a, axis), lambda a: a.unsqueeze(axis), [x], seed, fd=False)
    ones = tuple(i for i, n in enumerate(shape) if n == 1)
    check_all(lambda a: anp.squeeze(a), lambda a: a.reshape(tuple(n for n in shape if n != 1)), [x], seed, fd=False)
    if ones:
        check_all(lambda a: anp.squeeze(a, ones[0]), lambda a: a.squeeze(ones[0]), [x], seed, fd=False)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), shape=small_shapes(min_dims=2), seed=st.integers(0, 2**32 - 1))
def test_swapaxes_moveaxis_flip(data, shape, seed):
    x = data.draw(arrays_in(shape, -3, 3))
    nd = len(shape)
    a1, a2 = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
    check_all(lambda a: anp.swapaxes(a, a1, a2), lambda a: a.transpose(a1, a2), [x], seed)
    src = data.draw(st.integers(0, nd - 1))
    dst = data.draw(st.integers(-nd, nd - 1))
    check_all(lambda a: anp.moveaxis(a, src, dst), lambda a: torch.movedim(a, src, dst), [x], seed, fd=False)
    fa = data.draw(st.integers(0, nd - 1))
    check_all(lambda a: anp.flip(a, fa), lambda a: torch.flip(a, (fa,)), [x], seed, fd=False)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), shape=small_shapes(min_dims=0, max_dims=2), seed=st.integers(0, 2**32 - 1))
def test_broadcast_to(data, shape, seed):
    other = data.draw(hnp.broadcastable_shapes(shape, max_dims=3, max_side=3))
    target = np.broadcast_shapes(shape, other)
    x = data.draw(arrays_in(shape, -3, 3))
    check_all(lambda a: anp.broadcast_to(a, target), lambda a: a.expand(*target) if target else a, [x], seed)


@settings(max_examples=50, deadline=None)
@given(data=st.data(), shape=small_shapes(min_dims=1), seed=st.integers(0, 2**32 - 1))
def test_basic_indexing(data, shape, seed):
    """ints, slices (negative steps included), Ellipsis and None; reference: central differences."""
    x = data.draw(arrays_in(shape, -3, 3))
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    _check_index_against_fd(x, index, seed)


def _check_index_against_fd(x, index, seed):
    from _autodiff_helpers import FD_ATOL, FD_RTOL, assert_close, numerical_grads

    import autodiff as ad

    rng = np.random.default_rng(seed)
    w = rng.standard_normal(np.shape(x[index]))
    value = ad.Variable(x)[index].value
    assert_close(value, x[index])
    g = ad.grad(lambda a: anp.sum(a[index] * a[index] * w))(x)
    num = numerical_grads(lambda a: np.sum(a[index] * a[index] * w), [x])[0]
    assert_close(g, num, rtol=FD_RTOL, atol=FD_ATOL)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), shape=small_shapes(min_dims=1), seed=st.integers(0, 2**32 - 1))
def test_integer_array_indexing_with_repeats(data, shape, seed):
    x = data.draw(arrays_in(shape, -3, 3))
    index = data.draw(hnp.integer_array_indices(shape, result_shape=small_shapes(min_dims=1, max_dims=2)))
    _check_index_against_fd(x, index, seed)
    tindex = tuple(torch.as_tensor(i) for i in index)
    check_all(lambda a: a[index], lambda a: a[tindex], [x], seed, fd=False)
    as_lists = tuple(i.tolist() for i in index)
    check_all(lambda a: a[as_lists], lambda a: a[tindex], [x], seed, fd=False)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), shape=small_shapes(min_dims=1), seed=st.integers(0, 2**32 - 1))
def test_boolean_mask_indexing(data, shape, seed):
    x = data.draw(arrays_in(shape, -3, 3))
    mask = data.draw(hnp.arrays(np.bool_, shape))
    check_all(lambda a: a[mask], lambda a: a[torch.as_tensor(mask)], [x], seed)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), shape=small_shapes(min_dims=1, max_dims=3), n=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_concatenate_and_stack(data, shape, n, seed):
    nd = len(shape)
    axis = data.draw(st.integers(-nd, nd - 1))
    shapes = []
    for _ in range(n):
        s = list(shape)
        s[axis] = data.draw(st.integers(1, 3))
        shapes.append(tuple(s))
    xs = [data.draw(arrays_in(s, -3, 3)) for s in shapes]
    check_all(lambda *a: anp.concatenate(a, axis=axis), lambda *a: torch.cat(a, dim=axis), xs, seed)
    ys = [data.draw(arrays_in(shape, -3, 3)) for _ in range(n)]
    saxis = data.draw(st.integers(-nd - 1, nd))
    check_all(lambda *a: anp.stack(a, axis=saxis), lambda *a: torch.stack(a, dim=saxis), ys, seed)
    # mixing traced and constant arrays
    const = ys[0]
    check_all(lambda a: anp.stack([a, const], axis=saxis), lambda a: torch.stack([a, torch.as_tensor(const)], dim=saxis), [ys[-1]], seed, fd=False)
