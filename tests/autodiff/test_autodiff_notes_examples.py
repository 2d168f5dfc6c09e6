"""The worked examples of section 4 of the lecture notes, reproduced exactly."""

from __future__ import annotations

import numpy as np

import autodiff as ad
import autodiff.numpy as anp


def f_41(x):
    """Section 4.1: f(x) = (x[1], 1 + x[0])."""
    return anp.array([x[1], 1 + x[0]])


def g_41(z):
    """Section 4.1: g(z) = (z[0] z[1], z[0], z[1])."""
    return anp.array([z[0] * z[1], z[0], z[1]])


def test_section_4_1_chain_rule_jacobians():
    x = np.array([2.0, 5.0])
    d_f = ad.jacobian(f_41)(x)
    np.testing.assert_array_equal(d_f, [[0.0, 1.0], [1.0, 0.0]])
    fx = f_41(x)
    d_g = ad.jacobian(g_41)(fx)
    np.testing.assert_array_equal(d_g, [[1 + x[0], x[1]], [1.0, 0.0], [0.0, 1.0]])
    d_gf = ad.jacobian(lambda v: g_41(f_41(v)))(x)
    expected = np.array([[x[1], x[0] + 1], [0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(d_gf, expected)
    np.testing.assert_array_equal(d_g @ d_f, expected)
    np.testing.assert_array_equal(g_41(f_41(x)), [x[0] * x[1] + x[1], x[1], 1 + x[0]])


def test_section_4_2_partial_derivatives_of_composition():
    """p(x) = f(g(x), h(x)) with f(a, b) = a b, g(x) = x^2, h(x) = 3x.

    The notes write p(x) = 3x^4, but the composition is x^2 * 3x = 3x^3, so
    p'(x) = 9x^2 (the engine differentiates what the code computes).
    """
    for x in [-1.5, 0.5, 2.0]:
        dp = ad.grad(lambda t: (t**2) * (3 * t))(x)
        assert np.isclose(dp, 9 * x**2)
    assert ad.grad(lambda a, b: a * b, 0)(4.0, 7.0) == 7.0  # ∂_{f,0,x} = x[1]


def test_section_4_3_reused_variable_f_of_x_and_x_plus_1():
    """h(x) = f(x, x + 1) = x^2 + x; the two paths from x add up to 2x + 1."""
    for x in [-2.0, 0.0, 2.0, 3.5]:
        assert ad.grad(lambda t: t * (t + 1))(x) == 2 * x + 1


def test_section_4_4_graph_x_plus_1_squared():
    """x -> g: x + 1 -> y -> f: y^2 -> z at x = 1: y = 2, z = 4, dz/dx = 4."""
    x = ad.Variable(1.0)
    y = x + 1
    z = y**2
    assert float(y.value) == 2.0 and float(z.value) == 4.0
    assert z.op.parents == (y,) and y.op.parents == (x,)
    z.backward()
    assert x.grad == 4.0


def test_section_4_5_dynamic_graph_x_squared_plus_x():
    """The step-by-step construction of section 4.5: Vx = 2, Vy = Vx + 1, Vz = Vx * Vy."""
    vx = ad.Variable(2.0)
    assert vx.is_source and vx.derivative is None  # "x : 2 : 0"
    vy = vx + 1  # PlusConstantOperation(constant=1).forward(Vx)
    assert float(vy.value) == 3.0 and vy.op.name == "add" and vy.op.parents == (vx,)
    vz = vx * vy  # MultiplyOperation().forward(Vx, Vy)
    assert float(vz.value) == 6.0 and vz.op.name == "multiply"
    assert vz.op.parents == (vx, vy)  # edges ∂_{f,x,(x,y)} and ∂_{f,y,(x,y)}
    vz.backward()  # VariableNodeBackward(z, I)
    assert vx.derivative == 5.0  # 2x + 1 at x = 2
    vz.backward()  # the accumulator keeps adding (Algorithm 4)
    assert vx.derivative == 10.0


def test_section_4_7_tensor_contraction_shapes_small():
    """(TV)[x, y, a] = sum_{z, w} T[x, y, z, w] V[z, w, a], and images of shape N x 32 x 32 x 3
    (here N x 8 x 8 x 3) contracted with a weight tensor; derivative shape B x C x Z x W x A."""
    rng = np.random.default_rng(0)
    X, Y, Z, W, A = 2, 3, 4, 5, 6
    T = rng.standard_normal((X, Y, Z, W))
    V = rng.standard_normal((Z, W, A))
    TV = anp.tensordot(ad.Variable(T), ad.Variable(V), axes=2)
    assert TV.shape == (X, Y, A)
    np.testing.assert_allclose(TV.value, np.einsum("xyzw,zwa->xya", T, V))

    images = rng.standard_normal((10, 8, 8, 3))  # the notes' 1000 x 32 x 32 x 3, smaller
    weights = rng.standard_normal((8, 8, 3, 4))

    def scores(w):
        return anp.tensordot(images, w, axes=3)

    assert scores(ad.Variable(weights)).shape == (10, 4)
    jac = ad.jacobian(scores)(weights)
    assert jac.shape == (10, 4) + weights.shape  # B x C x (shape of the input tensor)
    # the contraction is linear in w: J[b, d, x, y, c, k] = images[b, x, y, c] * delta(d, k)
    np.testing.assert_allclose(jac, np.einsum("bxyc,dk->bdxyck", images, np.eye(4)))
    loss_grad = ad.grad(lambda w: anp.sum(scores(w) ** 2))(weights)
    assert loss_grad.shape == weights.shape
    s = np.tensordot(images, weights, axes=3)
    np.testing.assert_allclose(loss_grad, 2 * np.tensordot(images, s, axes=([0], [0])), rtol=1e-10)
