"""matmul (batched, broadcast, 1-D), einsum, tensordot and friends (section 4.7):
values and gradients vs torch and central differences, second derivatives vs torch."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given, settings

import autodiff.numpy as anp
from _autodiff_helpers import arrays_in, assert_close, engine_value_and_grads, numerical_grads, FD_ATOL, FD_RTOL
from test_autodiff_elementwise import check_all


@settings(max_examples=50, deadline=None)
@given(
    data=st.data(),
    shapes=hnp.mutually_broadcastable_shapes(signature="(m?,n),(n,p?)->(m?,p?)", max_dims=4, max_side=3),
    seed=st.integers(0, 2**32 - 1),
)
def test_matmul_batched_broadcast_and_vectors(data, shapes, seed):
    sa, sb = shapes.input_shapes
    a = data.draw(arrays_in(sa, -2, 2))
    b = data.draw(arrays_in(sb, -2, 2))
    check_all(lambda x, y: x @ y, torch.matmul, [a, b], seed)
    check_all(lambda x: x @ b, lambda x: torch.matmul(x, torch.as_tensor(b)), [a], seed, fd=False)
    check_all(lambda y: a @ y, lambda y: torch.matmul(torch.as_tensor(a), y), [b], seed, fd=False)


EINSUM_SPECS = [
    ("ij,jk->ik", "ij,jk->ik"),
    ("ij,jk", "ij,jk"),
    ("ii->", "ii->"),
    ("ii->i", "ii->i"),
    ("ii", "ii"),
    ("ij->", "ij->"),
    ("ij->ji", "ij->ji"),
    ("i,i->", "i,i->"),
    ("i,j->ij", "i,j->ij"),
    ("ij,ij->ij", "ij,ij->ij"),
    ("bij,bjk->bik", "bij,bjk->bik"),
    ("...ij,...jk->...ik", "...ij,...jk->...ik"),
    ("ijk,kl->ijl", "ijk,kl->ijl"),
    ("ijk->kji", "ijk->kji"),
    ("ij,jk,kl->il", "ij,jk,kl->il"),
    ("iij,j->i", "iij,j->i"),
    ("ij,k->ik", "ij,k->ik"),
    ("bxyc,xycd->bd", "bxyc,xycd->bd"),
]


def _shapes_for(spec, sizes, batch):
    lhs = spec.split("->")[0]
    shapes = []
    for term in lhs.split(","):
        shape = []
        if term.startswith("..."):
            shape.extend(batch)
            term = term[3:]
        shape.extend(sizes[c] for c in term)
        shapes.append(tuple(shape))
    return shapes


@pytest.mark.parametrize("spec,tspec", EINSUM_SPECS, ids=[s[0] for s in EINSUM_SPECS])
@settings(max_examples=20, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_einsum(spec, tspec, data, seed):
    letters = sorted({c for c in spec if c.isalpha()})
    sizes = {c: data.draw(st.integers(1, 3)) for c in letters}
    batch = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=2))
    arrays = [data.draw(arrays_in(s, -2, 2)) for s in _shapes_for(spec, sizes, batch)]
    assert_close(anp.einsum(spec, *arrays), np.einsum(spec, *arrays))
    check_all(lambda *xs: anp.einsum(spec, *xs), lambda *xs: torch.einsum(tspec, *xs), arrays, seed)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1), k=st.integers(0, 2))
def test_tensordot(data, seed, k):
    free_a = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    free_b = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    shared = data.draw(hnp.array_shapes(min_dims=k, max_dims=k, min_side=1, max_side=3))
    a = data.draw(arrays_in(free_a + shared, -2, 2))
    b = data.draw(arrays_in(shared + free_b, -2, 2))
    check_all(lambda x, y: anp.tensordot(x, y, k), lambda x, y: torch.tensordot(x, y, dims=k), [a, b], seed)
    # explicit axis pairs, contracting in a permuted order
    if k == 2:
        b2 = np.swapaxes(b, 0, 1)
        na = a.ndim
        axes = ([na - 2, na - 1], [1, 0])
        check_all(lambda x, y: anp.tensordot(x, y, axes), lambda x, y: torch.tensordot(x, y, dims=axes), [a, b2], seed)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1), na=st.integers(0, 3), nb=st.integers(0, 3))
def test_dot_inner_outer_vdot_against_numpy_and_differences(data, seed, na, nb):
    n = data.draw(st.integers(1, 3))
    sa = data.draw(hnp.array_shapes(min_dims=na, max_dims=na, min_side=1, max_side=3))
    sb = list(data.draw(hnp.array_shapes(min_dims=nb, max_dims=nb, min_side=1, max_side=3)))
    if na >= 1:
        sa = sa[:-1] + (n,)
    if nb >= 1:
        sb[-2 if nb >= 2 else -1] = n
    a = data.draw(arrays_in(tuple(sa), -2, 2))
    b = data.draw(arrays_in(tuple(sb), -2, 2))
    for name, fn in [("dot", anp.dot), ("method dot", lambda x, y: x.dot(y))]:
        _check_against_numpy(fn, np.dot, a, b, seed, name)
    if na >= 1 and nb >= 1:
        b_inner = np.moveaxis(b, -2, -1) if nb >= 2 else b
        _check_against_numpy(anp.inner, np.inner, a, b_inner, seed, "inner")
    _check_against_numpy(anp.outer, np.outer, a, b, seed, "outer")
    if a.size == b.size:
        _check_against_numpy(anp.vdot, np.vdot, a, b.reshape(a.shape), seed, "vdot")


def _check_against_numpy(fn, np_fn, a, b, seed, what):
    import autodiff as ad

    expected = np_fn(a, b)
    assert_close(fn(ad.Variable(a), ad.Variable(b)).value, expected, what=what)
    w = np.random.default_rng(seed).standard_normal(np.shape(expected))
    _, grads = engine_value_and_grads(fn, [a, b], w)
    num = numerical_grads(lambda x, y: np.sum(np_fn(x, y) * w), [a, b])
    for g, ng in zip(grads, num):
        assert_close(g, ng, rtol=FD_RTOL, atol=FD_ATOL, what=what)


@settings(max_examples=25, deadline=None)
@given(data=st.data(), n=st.integers(1, 4), m=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_trace(data, n, m, seed):
    x = data.draw(arrays_in((n, m), -2, 2))
    check_all(anp.trace, lambda t: torch.trace(t), [x], seed)
