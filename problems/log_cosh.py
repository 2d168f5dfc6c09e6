"""Log-cosh regression: smooth, convex, Lipschitz, not quadratic.

L(w) = (1/n) sum_i delta^2 log cosh(r_i / delta), r = A (w - w_true) (= A w - b for b = A w_true,
written as a translation so that w_true is the exact minimiser of the loss as computed, wherever
the random shift puts it), A (n x d) Gaussian with column scales, n >= d, so w* = w_true is the
unique minimiser and L* = 0 exactly.
phi(r) = delta^2 log cosh(r/delta) has phi'(r) = delta tanh(r/delta), |phi'| < delta, and
phi''(r) = sech^2(r/delta) in (0, 1], = 1 at r = 0:
- H = ||A||_op^2 / n exactly (the Hessian A^T diag(phi'') A / n is largest at w*, where phi'' = 1);
- G = delta min(mean_i ||a_i||, ||A||_op / sqrt(n)), a proven bound (``unit_slope_lipschitz``);
- J = 4 / (3 sqrt(3) delta) max_i ||a_i|| ||A||_op^2 / n, a proven bound (Definition 25.1,
  ``unit_third_derivative_J``): phi'''(r) = -(2 / delta) sech^2(s) tanh(s) with s = r / delta, and
  t (1 - t^2) for t = tanh(s) in (-1, 1) is largest in absolute value at t^2 = 1/3, so
  sup |phi'''| = (2 / delta) (2/3) / sqrt(3) = 4 / (3 sqrt(3) delta).
"""
from __future__ import annotations

import math
from typing import Any

import torch

from problems import _random as rnd
from problems._batch import ProblemBatch
from problems._regression import design, sample_rows, unit_slope_lipschitz, unit_third_derivative_J

Tensor = torch.Tensor

#: sup_s |d^3/ds^3 log cosh s| = sup_s 2 sech^2(s) |tanh(s)| (at tanh^2 s = 1/3).
THIRD_DERIVATIVE_MAX = 4 / (3 * math.sqrt(3))


class _LogCosh(torch.autograd.Function):
    """log cosh x = |x| + log1p(exp(-2|x|)) - log 2 (no overflow), with derivative tanh x written
    out so that autograd's second derivative is sech^2 x everywhere (also at the kink of |x|)."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        a = x.abs()
        return a + torch.log1p(torch.exp(-2 * a)) - math.log(2.0)

    @staticmethod
    def backward(ctx, grad_output: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad_output * torch.tanh(x)


def log_cosh(x: Tensor) -> Tensor:
    """log cosh x, elementwise, stable for any x and twice differentiable under autograd."""
    return _LogCosh.apply(x)


class LogCosh:
    """Family of log-cosh regressions with consistent targets; w_true and w1 are translated by a
    random shift of norm up to ``max_shift`` (``_random.shift``; 0: none)."""

    name = "log-cosh"
    classes = frozenset({"cvx", "smooth", "so", "lip", "lb", "minimizer"})

    def __init__(self, max_shift: float = rnd.MAX_SHIFT) -> None:
        self.max_shift = max_shift

    def sample(self, batch_size: int, dim: int, generator: torch.Generator,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> ProblemBatch:
        B, d = batch_size, dim
        n = sample_rows(d, generator, spread=1)
        A = design(B, n, d, generator, device, dtype)
        delta = rnd.log_uniform((B,), 0.1, 10.0, generator, device, dtype)
        w_star = rnd.log_uniform((B, 1), 0.1, 10.0, generator, device, dtype) * rnd.normal((B, d), generator, device, dtype)
        radius = rnd.log_uniform((B, 1), 0.01, 100.0, generator, device, dtype)
        w1 = w_star + radius * rnd.random_radius_directions(B, d, generator, device, dtype)
        offset = rnd.shift(B, d, self.max_shift, generator, device, dtype)
        w_star, w1 = w_star + offset, w1 + offset
        dl = delta[:, None, None]

        def residual(w: Tensor) -> Tensor:
            return torch.einsum("bnd,brd->brn", A, w - w_star[:, None, :])

        def loss(w: Tensor) -> Tensor:
            return (dl ** 2 * log_cosh(residual(w) / dl)).mean(-1)

        def grad(w: Tensor) -> Tensor:
            return torch.einsum("bnd,brn->brd", A, dl * torch.tanh(residual(w) / dl)) / n

        op = torch.linalg.matrix_norm(A, ord=2)
        Lstar = torch.zeros(B, device=device, dtype=dtype)
        constants = {
            "H": op ** 2 / n,
            "mu": Lstar.clone(),
            "G": delta * unit_slope_lipschitz(A),
            "J": THIRD_DERIVATIVE_MAX / delta * unit_third_derivative_J(A),
            "D": torch.linalg.vector_norm(w1 - w_star, dim=-1),
            "Delta": loss(w1[:, None, :])[:, 0],
            "Lstar": Lstar,
        }

        def describe(i: int) -> dict[str, Any]:
            return {"n": n, "delta": float(delta[i]), "A": A[i].tolist(), "w_star": w_star[i].tolist(),
                    "w1": w1[i].tolist()}

        return ProblemBatch(self.name, self.classes, loss, grad, constants, w1, w_star,
                            {"family": self.name, "batch_size": B, "dim": d}, describe)
