"""`import autodiff.numpy as anp`: numpy code runs unchanged on traced values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import autodiff as ad
import autodiff.numpy as anp
from _autodiff_helpers import assert_close, numerical_grads


def model(xp, params, X, y):
    """Plain numpy-style code, parameterised by the namespace."""
    W, b = params
    h = xp.tanh(xp.dot(X, W) + b)
    logits = h.sum(axis=1, keepdims=True) - xp.max(h, axis=1, keepdims=True)
    probs = 1.0 / (1.0 + xp.exp(-logits))
    eps = 1e-9
    nll = -xp.mean(y * xp.log(probs + eps) + (1 - y) * xp.log(1 - probs + eps))
    penalty = 0.01 * (W**2).sum() + 0.01 * xp.linalg.norm(b) ** 2
    stats = xp.var(h, axis=0).mean() + xp.std(h.T[0])
    return nll + penalty + 0.1 * stats


def test_same_numpy_code_runs_with_numpy_and_anp_and_differentiates():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8, 3)), (rng.random((8, 1)) > 0.5).astype(float)
    W, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    plain = model(np, (W, b), X, y)
    traced = model(anp, (ad.Variable(W), ad.Variable(b)), X, y)
    assert_close(traced.value, plain)
    gW, gb = ad.grad(lambda p: model(anp, p, X, y))((W, b))
    nW, nb = numerical_grads(lambda W_, b_: model(np, (W_, b_), X, y), [W, b])
    assert_close(gW, nW, rtol=1e-5, atol=1e-7)
    assert_close(gb, nb, rtol=1e-5, atol=1e-7)


def test_anp_functions_return_plain_numpy_results_on_plain_inputs():
    x = np.arange(6.0).reshape(2, 3)
    assert type(anp.sum(x, axis=0)) is np.ndarray
    np.testing.assert_array_equal(anp.exp(x), np.exp(x))
    np.testing.assert_array_equal(anp.einsum("ij->j", x), x.sum(0))
    np.testing.assert_array_equal(anp.concatenate([x, x], axis=1), np.concatenate([x, x], axis=1))
    assert anp.pi == np.pi and anp.zeros(2).tolist() == [0.0, 0.0] and anp.float64 is np.float64


def test_traced_value_attributes_and_methods():
    v = ad.Variable(np.arange(24.0).reshape(2, 3, 4))
    assert v.shape == (2, 3, 4) and v.ndim == 3 and v.size == 24 and v.dtype == np.float64 and len(v) == 2
    assert v.T.shape == (4, 3, 2)
    assert v.reshape(6, 4).shape == (6, 4) and v.reshape((4, 6)).shape == (4, 6)
    assert v.transpose(1, 0, 2).shape == (3, 2, 4) and v.swapaxes(0, 2).shape == (4, 3, 2)
    assert v.flatten().shape == (24,) and v.ravel().shape == (24,)
    assert v[0].dot(np.ones(4)).shape == (3,)
    np.testing.assert_array_equal(v[..., 1].value, np.arange(24.0).reshape(2, 3, 4)[..., 1])
    np.testing.assert_array_equal(v[1, [0, 2], 1:3].value, np.arange(24.0).reshape(2, 3, 4)[1, [0, 2], 1:3])
    np.testing.assert_array_equal(v[:, None, -1, ::-2].value, np.arange(24.0).reshape(2, 3, 4)[:, None, -1, ::-2])
    assert [row.shape for row in v] == [(3, 4), (3, 4)]
    assert float(v[1, 2, 3]) == 23.0 and v[1, 2, 3].item() == 23.0


def test_comparisons_give_plain_booleans_and_allow_control_flow():
    def piecewise(x):
        if x > 0:
            return x * x
        return -x

    assert ad.grad(piecewise)(3.0) == 6.0
    assert ad.grad(piecewise)(-3.0) == -1.0
    v = ad.Variable(np.array([1.0, -2.0, 3.0]))
    mask = v > 0
    assert isinstance(mask, np.ndarray) and mask.dtype == bool
    assert (v == np.array([1.0, 0.0, 3.0])).tolist() == [True, False, True]
    g = ad.grad(lambda x: anp.sum(anp.where(x > 0, x, 0.0) ** 2))(np.array([1.0, -2.0, 3.0]))
    np.testing.assert_array_equal(g, [2.0, 0.0, 6.0])


def test_array_built_from_traced_values():
    def f(x):
        M = anp.array([[x[0], 1.0], [2.0, x[1] * x[0]]])
        return anp.sum(M @ M)

    x = np.array([1.5, -0.5])
    xt = torch.tensor(x, requires_grad=True)
    M = torch.stack([torch.stack([xt[0], torch.tensor(1.0, dtype=torch.float64)]), torch.stack([torch.tensor(2.0, dtype=torch.float64), xt[1] * xt[0]])])
    torch.sum(M @ M).backward()
    assert_close(ad.grad(f)(x), xt.grad.numpy())
    assert anp.asarray([ad.Variable(1.0), 2.0]).shape == (2,)


def test_non_differentiable_helpers_act_on_values():
    v = ad.Variable(np.array([3.0, -1.0, 2.0]))
    assert anp.argmax(v) == 0 and anp.argsort(v).tolist() == [1, 2, 0]
    assert anp.sign(v).tolist() == [1.0, -1.0, 1.0] and anp.floor(v * 0.5).tolist() == [1.0, -1.0, 1.0]
    assert anp.zeros_like(v).tolist() == [0.0, 0.0, 0.0] and anp.shape(v) == (3,)
    assert anp.allclose(v, np.array([3.0, -1.0, 2.0]))
    assert anp.where(v > 0)[0].tolist() == [0, 2]


def test_unwrapped_numpy_functions_refuse_traced_values_clearly():
    with pytest.raises(TypeError, match="autodiff.numpy"):
        anp.convolve(ad.Variable(np.ones(3)), np.ones(2))
    with pytest.raises(AttributeError):
        anp.definitely_not_a_numpy_function  # noqa: B018


def test_hstack_vstack_and_broadcasting_with_python_scalars():
    x = np.array([1.0, 2.0])
    g = ad.grad(lambda v: anp.sum(anp.vstack([v, 2 * v]) ** 2) + anp.sum(anp.hstack([v, 3.0 - v])))(x)
    np.testing.assert_allclose(g, 2 * x + 8 * x + 1 - 1)
