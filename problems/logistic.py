"""l2-regularised logistic regression whose loss is written in numpy and differentiated by the
toolkit's own reverse-mode engine (autodiff/, section 4 of the notes).

L(w) = (1/n) sum_i softplus(-y_i <x_i, w>) + lam/2 ||w||^2, labels y in {-1, +1}.
softplus'' <= 1/4, so the Hessian lies between lam I and (||X||_op^2/(4n) + lam) I:
- H = ||X||_op^2 / (4n) + lam, a proven upper bound; mu = lam, a proven lower bound;
- w* by Newton's method with autodiff Hessians; with g = grad L(w_hat), strong convexity
  certifies ||w_hat - w*|| <= ||g|| / lam and 0 <= L(w_hat) - L* <= ||g||^2 / (2 lam)
  (Lemmas 21.5 and 21.8), so L* is reported as the lower bound L(w_hat) - ||g||^2/(2 lam) and D
  as the upper bound ||w1 - w_hat|| + ||g|| / lam; the certified error is kept as ``w_star_error``;
- J = max_i ||x_i|| ||X||_op^2 / (6 sqrt(3) n), a proven bound (Definition 25.1): the Hessian is
  (1/n) sum_i phi''(y_i <x_i, w>) x_i x_i^T + lam I (y_i^2 = 1) with phi(m) = softplus(-m),
  phi'' = p (1 - p), p = sigmoid(m), and phi''' = -p (1 - p) (1 - 2 p), whose absolute value on
  (0, 1) is largest at p = (3 -+ sqrt(3)) / 6: sup |phi'''| = (1/6) (1 / sqrt(3)); the rest is
  ``problems._regression.unit_third_derivative_J`` for the rows y_i x_i (lam I cancels).
Gradients and Hessian-vector products come from autodiff (``grad_np``, ``hvp_np``); tests
cross-check them against torch.autograd.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

import autodiff
import autodiff.numpy as anp
from problems import _random as rnd
from problems._batch import ProblemBatch
from problems._regression import unit_third_derivative_J

Tensor = torch.Tensor

#: sup_m |d^3/dm^3 softplus(-m)| = sup_p p (1 - p) |1 - 2 p| (at p = sigmoid(m) = (3 -+ sqrt(3)) / 6).
THIRD_DERIVATIVE_MAX = 1 / (6 * math.sqrt(3))


def loss_np(w: Any, X: np.ndarray, y: np.ndarray, lam: np.ndarray) -> Any:
    """Per-(instance, replica) loss for w of shape (B, R, d), X (B, n, d), y (B, n), lam (B,)."""
    margins = y[:, None, :] * anp.einsum("bnd,brd->brn", X, w)
    return anp.mean(anp.softplus(-margins), axis=-1) + lam[:, None] / 2 * anp.sum(w * w, axis=-1)


def grad_np(w: np.ndarray, X: np.ndarray, y: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Gradient of every (instance, replica) loss at once: the losses are separable in (b, r)."""
    return autodiff.grad(lambda v: anp.sum(loss_np(v, X, y, lam)))(w)


def hvp_np(w: np.ndarray, v: np.ndarray, X: np.ndarray, y: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Hessian-vector products of every (instance, replica) loss at once."""
    return autodiff.hessian_vector_product(lambda u: anp.sum(loss_np(u, X, y, lam)))(w, v)


def _newton(X: np.ndarray, y: np.ndarray, lam: np.ndarray, iterations: int = 60) -> np.ndarray:
    """Minimisers by damped Newton steps; Hessians by autodiff Hessian-vector products."""
    B, n, d = X.shape
    w = np.zeros((B, 1, d))
    eye = np.eye(d)
    for _ in range(iterations):
        g = grad_np(w, X, y, lam)
        if np.max(np.linalg.norm(g, axis=-1)) < 1e-15:
            break
        columns = [hvp_np(w, np.broadcast_to(eye[j], w.shape).copy(), X, y, lam) for j in range(d)]
        hessian = np.stack(columns, axis=-1)[:, 0]
        step = np.linalg.solve(hessian, g[:, 0, :, None])[..., 0]
        w = w - step[:, None, :]
    return w[:, 0]


class RegularizedLogistic:
    """Family of l2-regularised logistic regressions (strongly convex, smooth, not quadratic)."""

    name = "logistic-l2"
    classes = frozenset({"cvx", "sc", "smooth", "so", "lb", "minimizer"})

    def sample(self, batch_size: int, dim: int, generator: torch.Generator,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> ProblemBatch:
        B, d = batch_size, dim
        extra = int(torch.randint(0, 2 * d + 1, (1,), generator=generator, device=device).item())
        n = d + 1 + extra
        col_scale = rnd.log_uniform((B, 1, d), 0.1, 10.0, generator, device, dtype)
        X_t = rnd.normal((B, n, d), generator, device, dtype) * col_scale
        w_true = rnd.normal((B, d), generator, device, dtype)
        flip = rnd.uniform((B, n), 0.0, 1.0, generator, device, dtype) < 0.1
        y_t = torch.sign(torch.einsum("bnd,bd->bn", X_t, w_true))
        y_t = torch.where(y_t == 0, torch.ones_like(y_t), y_t)
        y_t = torch.where(flip, -y_t, y_t)
        lam_t = rnd.log_uniform((B,), 1e-2, 1.0, generator, device, dtype)
        scale = rnd.log_uniform((B, 1), 0.1, 10.0, generator, device, dtype)
        w1_t = scale * rnd.random_radius_directions(B, d, generator, device, dtype)
        X, y, lam = (t.detach().cpu().numpy() for t in (X_t, y_t, lam_t))
        w_hat = _newton(X, y, lam)
        g_hat = grad_np(w_hat[:, None, :], X, y, lam)[:, 0]
        g_norm = np.linalg.norm(g_hat, axis=-1)
        L_hat = loss_np(w_hat[:, None, :], X, y, lam)[:, 0]

        def to_torch(a: np.ndarray) -> Tensor:
            return torch.as_tensor(np.asarray(a), dtype=dtype, device=device)

        def loss(w: Tensor) -> Tensor:
            return to_torch(loss_np(w.detach().cpu().numpy(), X, y, lam))

        def grad(w: Tensor) -> Tensor:
            return to_torch(grad_np(w.detach().cpu().numpy(), X, y, lam))

        def hvp(w: Tensor, u: Tensor) -> Tensor:
            return to_torch(hvp_np(w.detach().cpu().numpy(), u.detach().cpu().numpy(), X, y, lam))

        w_star = to_torch(w_hat)
        Lstar = to_torch(L_hat - g_norm ** 2 / (2 * lam))
        error = to_torch(g_norm / lam)
        op = torch.linalg.matrix_norm(X_t, ord=2)
        constants = {
            "H": op ** 2 / (4 * n) + lam_t,
            "mu": lam_t.clone(),
            "J": THIRD_DERIVATIVE_MAX * unit_third_derivative_J(X_t),
            "D": torch.linalg.vector_norm(w1_t - w_star, dim=-1) + error,
            "Delta": loss(w1_t[:, None, :])[:, 0] - Lstar,
            "Lstar": Lstar,
            "w_star_error": error,
        }

        def describe(b: int) -> dict[str, Any]:
            return {"X": X[b].tolist(), "y": y[b].tolist(), "lam": float(lam[b]), "w_star": w_hat[b].tolist(),
                    "w_star_error": float(error[b]), "w1": w1_t[b].tolist()}

        return ProblemBatch(self.name, self.classes, loss, grad, constants, w1_t, w_star,
                            {"family": self.name, "batch_size": B, "dim": d}, describe, hvp=hvp)
