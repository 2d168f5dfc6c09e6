"""Error cases and the documented conventions at non-differentiable points."""

from __future__ import annotations

import sys
import tracemalloc

import numpy as np
import pytest
import torch

import autodiff as ad
import autodiff.numpy as anp
from autodiff import ShapeError, Variable


def test_shape_error_is_raised_at_the_defining_line_and_names_op_and_shapes():
    x = Variable(np.ones(2))
    y = Variable(np.ones(3))
    with pytest.raises(ShapeError) as info:
        x + y  # the offending line
    message = str(info.value)
    assert "add" in message and "(2,)" in message and "(3,)" in message
    assert isinstance(info.value, ValueError)
    test_frames = [e for e in info.traceback if e.path == __file__ or str(e.path) == __file__]
    assert test_frames[-1].statement.lines[0].strip() == "x + y  # the offending line"


@pytest.mark.parametrize(
    "make, op_name",
    [
        (lambda a, b: a @ b, "matmul"),
        (lambda a, b: anp.multiply(a, b), "multiply"),
        (lambda a, b: anp.maximum(a, b), "maximum"),
        (lambda a, b: anp.tensordot(a, b, 1), "tensordot"),
        (lambda a, b: anp.einsum("ij,jk->ik", a, b), "einsum"),
        (lambda a, b: anp.concatenate([a, b], axis=1), "concatenate"),
        (lambda a, b: anp.stack([a, b]), "stack"),
    ],
)
def test_shape_mismatch_names_the_op(make, op_name):
    a = Variable(np.ones((2, 3)))
    b = Variable(np.ones((4, 5)))
    with pytest.raises(ShapeError, match=op_name):
        make(a, b)


def test_reshape_to_wrong_size_is_a_shape_error():
    with pytest.raises(ShapeError, match="reshape"):
        Variable(np.ones(6)).reshape(4, 2)


def test_backward_on_non_scalar_needs_a_seed():
    x = Variable(np.arange(3.0))
    y = x * x
    with pytest.raises(ShapeError, match="seed"):
        y.backward()
    with pytest.raises(ShapeError, match="seed"):
        y.backward(np.ones(2))
    y.backward(np.array([1.0, 10.0, 100.0]))  # seed^T J with J = diag(2x)
    np.testing.assert_array_equal(x.grad, [0.0, 20.0, 400.0])


def test_grad_of_non_scalar_function_is_rejected():
    with pytest.raises(ShapeError, match="shape"):
        ad.grad(lambda x: x * 2)(np.ones(3))


def test_abs_and_relu_derivative_at_zero_is_zero():
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(ad.grad(lambda v: anp.sum(anp.abs(v)))(x), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(ad.grad(lambda v: anp.sum(anp.relu(v)))(x), [0.0, 0.0, 1.0])
    for op in (torch.abs, torch.relu):  # same convention as torch
        t = torch.tensor(x, requires_grad=True)
        op(t).sum().backward()
        assert t.grad[1].item() == 0.0


def test_maximum_minimum_ties_split_the_gradient_equally():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([1.0, 5.0, 0.0])
    gx, gy = ad.grad(lambda a, b: anp.sum(anp.maximum(a, b)), (0, 1))(x, y)
    np.testing.assert_array_equal(gx, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(gy, [0.5, 1.0, 0.0])
    gx, gy = ad.grad(lambda a, b: anp.sum(anp.minimum(a, b)), (0, 1))(x, y)
    np.testing.assert_array_equal(gx, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(gy, [0.5, 0.0, 1.0])


def test_max_reduction_ties_split_equally():
    x = np.array([[3.0, 1.0, 3.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(ad.grad(lambda v: anp.max(v))(x), [[0.5, 0, 0.5], [0, 0, 0]])
    np.testing.assert_allclose(ad.grad(lambda v: anp.sum(anp.max(v, axis=1)))(x), [[0.5, 0, 0.5], [1 / 3] * 3])
    y = np.array([[3.0, 0.0, 3.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(ad.grad(lambda v: anp.sum(anp.min(v, axis=0)))(y), [[0, 0.5, 0], [1, 0.5, 1]])


def test_clip_gradient_on_the_closed_interval():
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(ad.grad(lambda v: anp.sum(anp.clip(v, -1.0, 1.0)))(x), [0, 1, 1, 1, 0])


def test_norm_gradient_at_zero_is_zero_and_sqrt_at_zero_is_infinite():
    np.testing.assert_array_equal(ad.grad(lambda v: anp.linalg.norm(v))(np.zeros(3)), np.zeros(3))
    with np.errstate(divide="ignore"):
        assert ad.grad(anp.sqrt)(0.0) == np.inf


def test_power_with_zero_exponent_or_zero_base_matches_torch():
    x = np.array([0.0, 2.0])
    np.testing.assert_array_equal(ad.grad(lambda v: anp.sum(v**0))(x), [0.0, 0.0])
    gx, gy = ad.grad(lambda a, b: anp.sum(a**b), (0, 1))(np.array([0.0, 2.0]), np.array([2.0, 3.0]))
    np.testing.assert_array_equal(gx, [0.0, 12.0])
    np.testing.assert_allclose(gy, [0.0, 8 * np.log(2.0)])


def test_integer_inputs_are_cast_to_float64():
    assert Variable(np.arange(3)).dtype == np.float64
    assert Variable(True).dtype == np.float64
    g = ad.grad(lambda x: x * x)(3)
    assert isinstance(g, np.floating) and g == 6.0
    g = ad.grad(lambda x: anp.sum(x**2))(np.arange(4))
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, [0.0, 2.0, 4.0, 6.0])


def test_float32_inputs_keep_their_dtype():
    g = ad.grad(lambda x: anp.sum(x * x))(np.ones(3, dtype=np.float32))
    assert g.dtype == np.float32


def test_non_real_inputs_are_rejected():
    with pytest.raises(TypeError, match="real floating"):
        Variable(np.array([1 + 2j]))
    with pytest.raises(TypeError, match="real floating"):
        ad.grad(lambda x: x)("abc")


def test_traced_values_cannot_index_and_plain_numpy_functions_refuse_them():
    x = Variable(np.arange(3.0))
    with pytest.raises(TypeError, match="index"):
        x[Variable(1.0)]
    with pytest.raises(TypeError, match="autodiff.numpy"):
        np.asarray(x)
    with pytest.raises(TypeError):
        np.exp(x)


def test_deep_graph_does_not_hit_the_recursion_limit():
    depth = 3 * sys.getrecursionlimit()
    x = Variable(np.array(0.5))
    y = x
    for _ in range(depth):
        y = y * 1.0001 + 0.0
    y.backward()
    assert np.isclose(x.grad, 1.0001**depth)
    h = ad.grad(lambda v: ad.grad(lambda u: _chain(u, 2000))(v))(0.3)
    assert np.isclose(h, 1.0)  # d2/du2 of u^2 / 2 through 2000 recorded nodes


def _chain(u, n):
    for _ in range(n):
        u = u * 1.0
    return u * u / 2


def test_first_order_backward_creates_no_nodes_and_create_graph_does():
    """Fast path: VJP rules run on plain arrays; recording is opt-in."""
    x = Variable(np.linspace(-1, 1, 5))
    loss = anp.sum(anp.tanh(x) * anp.exp(x) @ np.ones((5, 2)))
    before = Variable(0.0)._id
    loss.backward()
    after = Variable(0.0)._id
    assert after - before == 1
    assert isinstance(x.grad, np.ndarray)
    x.zero_grad()
    loss.backward(create_graph=True)
    assert isinstance(x.grad, Variable) and x.grad.op is not None


def test_no_full_partial_derivative_matrix_is_materialised():
    """Section 4.6: memory stays linear in the input size (a d x d Jacobian would be 200 MB)."""
    d = 5000
    x = np.linspace(-1, 1, d)
    f = ad.grad(lambda v: anp.sum(anp.sin(v) * anp.exp(v) + v / (1 + v * v)))
    f(x)
    tracemalloc.start()
    f(x)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 40 * d * 8
