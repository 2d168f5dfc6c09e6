"""Two families built from losses written in numpy ("Bring your own loss", README).

Importing this module registers them, so

    THEORYCHECK_FAMILIES=examples.numpy_loss_families theorycheck check T5.8 --family cauchy-regression

checks Theorem 5.8 on them (the command imports the module only because the variable names it).

- ``cauchy-regression`` (certified): L(w) = (1/n) sum_i phi(<a_i, w> - b_i) with the Cauchy loss
  phi(r) = c^2/2 log(1 + r^2/c^2), a robust regression loss; smooth, not convex. With s = r^2/c^2,
  phi'(r) = r / (1 + s), so |phi'| <= c/2 (at |r| = c), and phi''(r) = (1 - s)/(1 + s)^2 lies in
  [-1/8, 1]. Hence Hess L = (1/n) A^T diag(phi'') A has operator norm <= ||A||_op^2 / n = H
  (attained at w* where every residual is 0), and ||grad L|| = ||A^T phi'(r)|| / n <= (c/2)
  min(mean_i ||a_i||, ||A||_op / sqrt(n)) = G (``problems._regression.unit_slope_lipschitz``).
  L >= 0, and the data interpolate (b = A w_true), so w_true attains the lower bound 0: w* and
  L* = 0 are certified.
- ``logcosh-ridge`` (certified, strongly convex): (1/n) sum_i log cosh(<a_i, w> - b_i) + lam/2 ||w||^2
  with noisy targets. log cosh'' = sech^2 lies in (0, 1], so Hess L lies between lam I and
  (||A||_op^2 / n + lam) I: mu = lam and H = ||A||_op^2 / n + lam are proven, and w* and L* come
  from theorycheck's Newton solve, certified by ||grad L(w_hat)|| and mu.
- ``tanh-network`` (estimated only): half the mean squared error of a one-hidden-layer tanh
  network f(x) = sum_j u_j tanh(w_j x) with trained hidden weights w in R^d and fixed output
  weights u. L >= 0 is proven, but H and G are only estimated on sampled points: the family is
  of class lb only, so Theorem 5.8 (which needs a certified H) is not applicable to it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

import autodiff.numpy as anp
from problems import Certified, Estimated, from_numpy_loss, register


def cauchy_loss(w: Any, A: Any, b: Any, c: Any) -> Any:
    """(1/n) sum_i c^2/2 log(1 + r_i^2/c^2), r = A w - b; w (B, R, d), A (B, 1, n, d), b (B, 1, n), c (B, 1)."""
    r = anp.matmul(A, w[..., None])[..., 0] - b
    scale = c[..., None]
    return anp.mean(scale ** 2 / 2 * anp.log1p((r / scale) ** 2), axis=-1)


def cauchy_data(rng: np.random.Generator, batch: int, dim: int) -> dict[str, np.ndarray]:
    """n = d + 1 .. 3d rows, Gaussian columns with log-uniform scales in [0.1, 10], b = A w_true,
    Cauchy scale c log-uniform in [0.1, 10]."""
    n = dim + int(rng.integers(1, 2 * dim + 1))
    A = rng.standard_normal((batch, n, dim)) * np.exp(rng.uniform(np.log(0.1), np.log(10.0), (batch, 1, dim)))
    w_true = rng.standard_normal((batch, dim))
    return {"A": A, "b": np.einsum("bnd,bd->bn", A, w_true), "c": np.exp(rng.uniform(np.log(0.1), np.log(10.0), batch)),
            "w_true": w_true}


def cauchy_H(data: dict[str, np.ndarray]) -> np.ndarray:
    """||A||_op^2 / n (module docstring: |phi''| <= 1)."""
    return np.linalg.norm(data["A"], ord=2, axis=(-2, -1)) ** 2 / data["A"].shape[1]


def cauchy_G(data: dict[str, np.ndarray]) -> np.ndarray:
    """(c/2) min(mean_i ||a_i||, ||A||_op / sqrt(n)) (module docstring: |phi'| <= c/2)."""
    A = data["A"]
    unit = np.minimum(np.linalg.norm(A, axis=-1).mean(-1), np.linalg.norm(A, ord=2, axis=(-2, -1)) / np.sqrt(A.shape[1]))
    return data["c"] / 2 * unit


def cauchy_regression(H_factor: float = 1.0, checked: bool = True, name: str = "cauchy-regression"):
    """The certified family; ``H_factor`` < 1 makes a deliberately wrong H (for the tests), and
    ``checked=False`` trusts that wrong proof without sample checks."""
    return from_numpy_loss(
        name, lambda w, A, b, c, w_true: cauchy_loss(w, A, b, c), cauchy_data,
        H=Certified(lambda data: H_factor * cauchy_H(data),
                    "|phi''| <= 1, so ||Hess L|| <= ||A||_op^2 / n" if H_factor == 1 else
                    f"deliberately wrong: {H_factor:g} ||A||_op^2 / n", checked=checked),
        G=Certified(cauchy_G, "|phi'| <= c/2, so ||grad L|| <= (c/2) min(mean ||a_i||, ||A||_op / sqrt(n))"),
        lower_bound=Certified(0.0, "log(1 + s) >= 0"),
        minimizer=lambda data: data["w_true"])


def logcosh_loss(w: Any, A: Any, b: Any, lam: Any) -> Any:
    """(1/n) sum_i log cosh(r_i) + lam/2 ||w||^2, r = A w - b, with log cosh r = logaddexp(r, -r) - log 2."""
    r = anp.matmul(A, w[..., None])[..., 0] - b
    return anp.mean(anp.logaddexp(r, -r) - np.log(2.0), axis=-1) + lam / 2 * anp.sum(w * w, axis=-1)


def logcosh_data(rng: np.random.Generator, batch: int, dim: int) -> dict[str, np.ndarray]:
    """The design of ``cauchy_data``, targets with unit Gaussian noise, lam log-uniform in [1e-2, 1]."""
    data = cauchy_data(rng, batch, dim)
    noise = rng.standard_normal(data["b"].shape)
    return {"A": data["A"], "b": data["b"] + noise, "lam": np.exp(rng.uniform(np.log(1e-2), 0.0, batch))}


def tanh_loss(w: Any, x: Any, u: Any, y: Any) -> Any:
    """(1/2n) sum_i (sum_j u_j tanh(w_j x_i) - y_i)^2; w (B, R, d), x and y (B, 1, n), u (B, 1, d)."""
    hidden = anp.tanh(w[..., None, :] * x[..., :, None])
    return anp.mean((anp.sum(u[..., None, :] * hidden, axis=-1) - y) ** 2, axis=-1) / 2


def tanh_data(rng: np.random.Generator, batch: int, dim: int) -> dict[str, np.ndarray]:
    """16 inputs x ~ N(0, 1), output weights u ~ N(0, 1/d), targets y = sin(2x) + 0.1 noise."""
    x = rng.standard_normal((batch, 16))
    return {"x": x, "u": rng.standard_normal((batch, dim)) / np.sqrt(dim),
            "y": np.sin(2 * x) + 0.1 * rng.standard_normal((batch, 16))}


CAUCHY_REGRESSION = register(cauchy_regression())
LOGCOSH_RIDGE = register(from_numpy_loss(
    "logcosh-ridge", logcosh_loss, logcosh_data,
    H=Certified(lambda data: cauchy_H(data) + data["lam"], "sech^2 <= 1, so ||Hess L|| <= ||A||_op^2 / n + lam"),
    mu=Certified(lambda data: data["lam"], "sech^2 > 0, so Hess L >= lam I")))
TANH_NETWORK = register(from_numpy_loss("tanh-network", tanh_loss, tanh_data, H=Estimated(), G=Estimated(),
                                        lower_bound=Certified(0.0, "half a mean of squares")))
