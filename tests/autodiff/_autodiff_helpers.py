"""Shared helpers for the autodiff tests: torch references, finite differences, strategies."""

from __future__ import annotations

from typing import Callable, Sequence

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import torch

import autodiff as ad

RTOL = 1e-7
ATOL = 1e-9
FD_RTOL = 1e-4
FD_ATOL = 1e-5


def floats_in(lo: float, hi: float) -> st.SearchStrategy:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=64)


def arrays_in(shape: tuple, lo: float, hi: float, *, signed: bool = False, unique: bool = False) -> st.SearchStrategy:
    """float64 arrays with |entries| in [lo, hi] (random sign if `signed`)."""
    arr = hnp.arrays(np.float64, shape, elements=floats_in(lo, hi), unique=unique)
    if not signed:
        return arr
    signs = hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0]))
    return st.tuples(arr, signs).map(lambda p: p[0] * p[1])


def small_shapes(min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


def to_torch(x: np.ndarray, requires_grad: bool = True) -> torch.Tensor:
    return torch.tensor(np.asarray(x, dtype=np.float64), dtype=torch.float64, requires_grad=requires_grad)


def torch_value_and_grads(fn: Callable, arrays: Sequence[np.ndarray], weight: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Value of fn(*arrays) and the gradients of sum(fn * weight), in torch float64."""
    ts = [to_torch(a) for a in arrays]
    out = fn(*ts)
    (out * torch.as_tensor(weight, dtype=torch.float64)).sum().backward()
    return out.detach().numpy(), [t.grad.numpy() if t.grad is not None else np.zeros_like(a) for t, a in zip(ts, arrays)]


def torch_hvps(fn: Callable, arrays: Sequence[np.ndarray], weight: np.ndarray, vectors: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Hessian-vector products of sum(fn * weight) (w.r.t. all arrays jointly) in torch."""
    ts = [to_torch(a) for a in arrays]
    loss = (fn(*ts) * torch.as_tensor(weight, dtype=torch.float64)).sum()
    grads = torch.autograd.grad(loss, ts, create_graph=True, allow_unused=True)
    dot = sum((g * torch.as_tensor(v)).sum() for g, v in zip(grads, vectors) if g is not None and g.requires_grad)
    if not isinstance(dot, torch.Tensor):
        return [np.zeros_like(a) for a in arrays]
    hv = torch.autograd.grad(dot, ts, allow_unused=True)
    return [h.numpy() if h is not None else np.zeros_like(a) for h, a in zip(hv, arrays)]


def numerical_grads(f: Callable, arrays: Sequence[np.ndarray], eps: float = 1e-6) -> list[np.ndarray]:
    """Central finite differences of the scalar function f(*arrays), entry by entry."""
    arrays = [np.array(a, dtype=np.float64, order="C") for a in arrays]
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a)
        flat = a.reshape(-1)
        gflat = g.reshape(-1)
        for k in range(flat.size):
            h = eps * max(1.0, abs(flat[k]))
            old = flat[k]
            flat[k] = old + h
            up = float(f(*arrays))
            flat[k] = old - h
            down = float(f(*arrays))
            flat[k] = old
            gflat[k] = (up - down) / (2 * h)
        grads.append(g)
    return grads


def engine_value_and_grads(fn: Callable, arrays: Sequence[np.ndarray], weight: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Value of fn(*arrays) and gradients of sum(fn * weight) from the engine."""
    n = len(arrays)
    value = fn(*[ad.Variable(a) for a in arrays]).value
    grads = ad.grad(lambda *xs: ad.numpy.sum(fn(*xs) * weight), tuple(range(n)))(*arrays)
    return value, list(grads)


def engine_hvps(fn: Callable, arrays: Sequence[np.ndarray], weight: np.ndarray, vectors: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Hessian-vector products of sum(fn * weight) computed by grad-of-grad in the engine."""
    n = len(arrays)

    def inner(*xs):
        gs = ad.grad(lambda *ys: ad.numpy.sum(fn(*ys) * weight), tuple(range(n)))(*xs)
        return sum(ad.numpy.sum(g * v) for g, v in zip(gs, vectors))

    return list(ad.grad(inner, tuple(range(n)))(*arrays))


def assert_close(actual, expected, rtol: float = RTOL, atol: float = ATOL, what: str = "") -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64), rtol=rtol, atol=atol, err_msg=what)


def directional_checks(np_fn: Callable, ad_fn: Callable, arrays: Sequence[np.ndarray], seed: int, *, directions: int = 3, second: bool = True) -> None:
    """Check an op against numpy and finite differences in random directions.

    `np_fn(*arrays)` is the plain numpy function, `ad_fn` the same on the engine. Checks: the
    traced value equals numpy's; for a random weight w and random directions v, <grad, v> of
    sum(w * f) equals the central difference of numpy's f along v; the reverse-over-reverse
    Hessian-vector product of sum(w * f**2) equals the central difference of its gradient.
    """
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    n = len(arrays)
    argnums = tuple(range(n))
    expected = np.asarray(np_fn(*arrays), dtype=np.float64)
    traced = ad_fn(*[ad.Variable(a) for a in arrays])
    assert_close(traced.value, expected, what="traced value vs numpy")
    w = rng.standard_normal(expected.shape)

    def loss(*xs):
        return ad.numpy.sum(ad_fn(*xs) * w)

    grads = ad.grad(loss, argnums)(*arrays)
    for g, a in zip(grads, arrays):
        assert np.shape(g) == a.shape
    eps = 1e-6
    for _ in range(directions):
        vs = [rng.standard_normal(a.shape) for a in arrays]
        up = np.sum(np_fn(*[a + eps * v for a, v in zip(arrays, vs)]) * w)
        down = np.sum(np_fn(*[a - eps * v for a, v in zip(arrays, vs)]) * w)
        slope = sum(float(np.sum(g * v)) for g, v in zip(grads, vs))
        assert_close(slope, (up - down) / (2 * eps), rtol=FD_RTOL, atol=FD_ATOL, what="directional derivative vs central difference")
    if not second:
        return

    def sq_loss(*xs):
        y = ad_fn(*xs)
        return ad.numpy.sum(y * y * w)

    vs = [rng.standard_normal(a.shape) for a in arrays]
    hv = engine_hvps(lambda *xs: ad_fn(*xs) * ad_fn(*xs), arrays, w, vs)
    h = 1e-5
    g_up = ad.grad(sq_loss, argnums)(*[a + h * v for a, v in zip(arrays, vs)])
    g_down = ad.grad(sq_loss, argnums)(*[a - h * v for a, v in zip(arrays, vs)])
    for got, u, d in zip(hv, g_up, g_down):
        assert_close(got, (np.asarray(u) - np.asarray(d)) / (2 * h), rtol=FD_RTOL, atol=FD_ATOL, what="reverse-over-reverse HVP vs differences of gradients")
