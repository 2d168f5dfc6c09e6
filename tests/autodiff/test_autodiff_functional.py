"""Functional API (grad, value_and_grad, vjp, jvp, hvp, hessian, jacobian) vs torch.autograd,
including nesting (gradients of gradients) and argument structures."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from hypothesis import given, settings

import autodiff as ad
import autodiff.numpy as anp
from _autodiff_helpers import arrays_in, assert_close

TF = torch.autograd.functional


def f_np(x, A):
    return anp.sum(anp.tanh(A @ x) ** 2) + anp.logsumexp(x * x) + anp.sum(anp.sin(x) * x[::-1])


def f_torch(x, A):
    return torch.sum(torch.tanh(A @ x) ** 2) + torch.logsumexp(x * x, 0) + torch.sum(torch.sin(x) * x.flip(0))


@settings(max_examples=25, deadline=None)
@given(data=st.data(), n=st.integers(1, 5))
def test_grad_hessian_hvp_against_torch(data, n):
    x = data.draw(arrays_in((n,), -1.5, 1.5))
    A = data.draw(arrays_in((3, n), -1, 1))
    v = data.draw(arrays_in((n,), -1, 1))
    At = torch.as_tensor(A)
    xt = torch.tensor(x, requires_grad=True)
    g_ref = torch.autograd.grad(f_torch(xt, At), xt)[0].numpy()
    H_ref = TF.hessian(lambda t: f_torch(t, At), torch.as_tensor(x)).numpy()
    assert_close(ad.grad(f_np)(x, A), g_ref)
    assert_close(ad.hessian(f_np)(x, A), H_ref, rtol=1e-6, atol=1e-9)
    assert_close(ad.hessian_vector_product(f_np)(x, A, v), H_ref @ v, rtol=1e-6, atol=1e-9)
    value, g = ad.value_and_grad(f_np)(x, A)
    assert_close(value, f_torch(torch.as_tensor(x), At).item())
    assert_close(g, g_ref)


def vec_fn(x, y):
    return anp.concatenate([anp.sin(x) * y[0], anp.exp(y) * anp.sum(x)])


def vec_fn_torch(x, y):
    return torch.cat([torch.sin(x) * y[0], torch.exp(y) * torch.sum(x)])


@settings(max_examples=25, deadline=None)
@given(data=st.data(), n=st.integers(1, 4), m=st.integers(1, 3))
def test_jacobian_vjp_jvp_against_torch(data, n, m):
    x = data.draw(arrays_in((n,), -2, 2))
    y = data.draw(arrays_in((m,), -2, 2))
    tx, ty = data.draw(arrays_in((n,), -1, 1)), data.draw(arrays_in((m,), -1, 1))
    ct = data.draw(arrays_in((n + m,), -1, 1))
    Jx_ref, Jy_ref = (j.numpy() for j in TF.jacobian(vec_fn_torch, (torch.as_tensor(x), torch.as_tensor(y))))
    Jx, Jy = ad.jacobian(vec_fn, (0, 1))(x, y)
    assert_close(Jx, Jx_ref)
    assert_close(Jy, Jy_ref)
    assert_close(ad.jacobian(vec_fn, 1)(x, y), Jy_ref)
    out, pullback = ad.vjp(vec_fn, x, y)
    assert_close(out, vec_fn_torch(torch.as_tensor(x), torch.as_tensor(y)).numpy())
    gx, gy = pullback(ct)
    assert_close(gx, ct @ Jx_ref)
    assert_close(gy, ct @ Jy_ref)
    out2, tangent_out = ad.jvp(vec_fn, (x, y), (tx, ty))
    _, t_ref = TF.jvp(vec_fn_torch, (torch.as_tensor(x), torch.as_tensor(y)), (torch.as_tensor(tx), torch.as_tensor(ty)))
    assert_close(out2, out)
    assert_close(tangent_out, t_ref.numpy())
    assert_close(tangent_out, Jx_ref @ tx + Jy_ref @ ty)


def test_argnums_and_structured_arguments():
    def loss(params, X, y):
        w, b = params["w"], params["b"]
        r = X @ w + b - y
        return anp.mean(r * r)

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 3)), rng.standard_normal(6)
    params = {"w": rng.standard_normal(3), "b": 0.5}
    g = ad.grad(loss)(params, X, y)
    r = X @ params["w"] + params["b"] - y
    assert set(g) == {"w", "b"}
    assert_close(g["w"], 2 * X.T @ r / 6)
    assert_close(g["b"], 2 * r.mean())
    gw, gX = ad.grad(lambda w, X: anp.sum(X @ w), (0, 1))(params["w"], X)
    assert_close(gw, X.sum(0))
    assert_close(gX, np.tile(params["w"], (6, 1)))
    g_tuple = ad.grad(lambda p: p[0] * p[1][0] + p[1][1])((2.0, [3.0, 4.0]))
    assert isinstance(g_tuple, tuple) and isinstance(g_tuple[1], list)
    assert g_tuple == (3.0, [2.0, 1.0])
    assert ad.grad(lambda a, b: a * b, -1)(2.0, 5.0) == 2.0


def test_outputs_that_do_not_depend_on_the_input_give_zero_gradients():
    assert ad.grad(lambda x: 3.0)(np.ones(2)).tolist() == [0.0, 0.0]
    assert ad.grad(lambda x, y: anp.sum(y * y), 0)(np.ones(2), np.ones(3)).tolist() == [0.0, 0.0]
    assert ad.jvp(lambda x: 2.0 * np.ones(3), (1.0,), (1.0,))[1].tolist() == [0.0] * 3


def test_higher_derivatives_of_sin():
    d = anp.sin
    derivs = []
    for _ in range(4):
        d = ad.grad(d)
        derivs.append(d(0.7))
    np.testing.assert_allclose(derivs, [np.cos(0.7), -np.sin(0.7), -np.cos(0.7), np.sin(0.7)])


def test_nested_grad_does_not_confuse_perturbations():
    # d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x
    assert ad.grad(lambda x: x * ad.grad(lambda y: x * y)(3.0))(5.0) == 10.0
    # inner grad w.r.t. a value that is the outer variable itself: d/dx [d/dy (x y) at y = x] = 1
    assert ad.grad(lambda x: ad.grad(lambda y: x * y)(x))(5.0) == 1.0


def test_create_graph_through_the_variable_api():
    x = ad.Variable(np.array([1.0, 2.0]))
    y = anp.sum(x**3)
    y.backward(create_graph=True)
    g = x.grad
    x.zero_grad()
    anp.sum(g).backward()  # d/dx sum(3 x^2) = 6x
    np.testing.assert_allclose(x.grad, [6.0, 12.0])


def test_hessian_of_logistic_loss_matches_closed_form():
    rng = np.random.default_rng(1)
    X, y, w = rng.standard_normal((20, 4)), np.sign(rng.standard_normal(20)), rng.standard_normal(4)

    def loss(w):
        return anp.mean(anp.softplus(-y * (X @ w)))

    s = 1 / (1 + np.exp(-(y * (X @ w))))
    H = (X.T * (s * (1 - s))) @ X / 20
    assert_close(ad.hessian(loss)(w), H, rtol=1e-10, atol=1e-12)
    assert_close(ad.hessian_vector_product(loss)(w, np.arange(4.0)), H @ np.arange(4.0), rtol=1e-10, atol=1e-12)


def test_vjp_with_tuple_outputs_and_wrong_cotangent():
    out, pullback = ad.vjp(lambda x: (x * 2.0, anp.sum(x)), np.arange(3.0))
    assert out[1] == 3.0
    (g,) = pullback((np.ones(3), 2.0))
    np.testing.assert_array_equal(g, [4.0, 4.0, 4.0])
    with pytest.raises(ad.ShapeError):
        pullback((np.ones(2), 1.0))
