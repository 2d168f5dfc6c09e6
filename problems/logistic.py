"""Logistic regression as a finite sum, plain (``logistic``) or l2-regularised (``logistic-l2``),
whose loss is written in numpy and differentiated by the toolkit's own reverse-mode engine
(autodiff/, section 4 of the notes).

L(w) = (1/n) sum_i l_i(w), l_i(w) = softplus(-y_i <x_i, w>) + lam/2 ||w||^2, labels y in {-1, +1},
lam log-uniform in [1e-2, 1] (``logistic-l2``) or lam = 0 (``logistic``). softplus'' <= 1/4 and
|softplus'| <= 1, so:
- H = ||X||_op^2 / (4n) + lam, a proven upper bound; mu = lam, a proven lower bound (class sc,
  ``logistic-l2`` only);
- per term (class fsum): H_i = ||x_i||^2/4 + lam, the exact supremum of the largest eigenvalue of
  Hess l_i = softplus''(.) x_i x_i^T + lam I (attained where <x_i, w> = 0); for lam = 0 each term
  is G_i = ||x_i||-Lipschitz and L is G = min(mean_i ||x_i||, ||X||_op/sqrt(n))-Lipschitz
  (``unit_slope_lipschitz``; class lip, so the finite-sum oracle declares var, bdd and m2);
- the loss can be translated by a random shift s (``_random.shift``, norm up to ``max_shift``, 0 in
  the registry for now): the data term is evaluated at u = w - s, and so is lam/2 ||u||^2; no
  Hessian changes, so no constant does;
- w* = u_hat + s, u_hat by Newton's method with autodiff Hessians and a line search on the gradient
  norm (problems._certify), certified by local strong convexity: on the ball
  B(u_hat, r), Hess L >= mu_r I with mu_r = lam + lambda_min((1/n) sum_i softplus''(|m_i| + r ||x_i||)
  x_i x_i^T), m_i the margins at u_hat (softplus'' is even and decreasing in |m|), less a rounding
  allowance. If g = grad L(u_hat) has ||g|| < mu_r r / 2, then L > L(u_hat) on the sphere, so a
  minimiser lies in the ball, ||u_hat - u*|| <= ||g|| / mu_r and 0 <= L(u_hat) - L* <=
  ||g||^2 / (2 mu_r) (Lemmas 21.5 and 21.8 on the ball); with lam > 0, mu_r >= lam holds
  globally and no ball is needed. L* is reported as the lower bound L(u_hat) - ||g||^2/(2 mu_r),
  ``w_star_error`` is ||g|| / mu_r plus the rounding of u_hat + s, D the upper bound
  ||w1 - w*|| + ``w_star_error``; an instance whose errors are not negligible against the claims'
  tolerance is marked ``uncertified`` and left out by the checker (problems._certify).
  For lam = 0 a minimiser must exist: the data hold the first d rows twice, with both labels, so
  no direction separates them (L is coercive) and, as those rows span R^d, w* is unique.
- J = max_i ||x_i|| ||X||_op^2 / (6 sqrt(3) n), a proven bound (Definition 25.1): the Hessian is
  (1/n) sum_i phi''(y_i <x_i, w>) x_i x_i^T + lam I (y_i^2 = 1) with phi(m) = softplus(-m),
  phi'' = p (1 - p), p = sigmoid(m), and phi''' = -p (1 - p) (1 - 2 p), whose absolute value on
  (0, 1) is largest at p = (3 -+ sqrt(3)) / 6: sup |phi'''| = (1/6) (1 / sqrt(3)); the rest is
  ``problems._regression.unit_third_derivative_J`` for the rows y_i x_i (lam I cancels);
  the same for both variants.
Gradients and Hessian-vector products come from autodiff (``grad_np``, ``hvp_np``), the terms'
too (each term is the loss of a one-row data set); tests cross-check them against torch.autograd.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

import autodiff
import autodiff.numpy as anp
from problems import _random as rnd
from problems._batch import FiniteSum, ProblemBatch
from problems._certify import certify, newton_minimise
from problems._regression import gather_rows, unit_slope_lipschitz, unit_third_derivative_J

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


def _hessian_np(u: np.ndarray, X: np.ndarray, y: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Hessians (B, d, d) at points u (B, d) in closed form, (1/n) sum_i softplus''(m_i) x_i x_i^T
    + lam I with m_i = y_i <x_i, u> (y_i^2 = 1); only Newton's directions use them (the certificate
    rests on gradients and ``certified_modulus``)."""
    weights = _softplus_curvature(y * np.einsum("bnd,bd->bn", X, u)) / X.shape[1]
    return np.einsum("bn,bnd,bne->bde", weights, X, X) + lam[:, None, None] * np.eye(u.shape[-1])


def _softplus_curvature(z: np.ndarray) -> np.ndarray:
    """softplus''(z) = e^{-|z|} / (1 + e^{-|z|})^2 (even in z, decreasing in |z|), without overflow."""
    t = np.exp(-np.abs(z))
    return t / (1.0 + t) ** 2


def certified_modulus(X: np.ndarray, y: np.ndarray, lam: np.ndarray, w_hat: np.ndarray,
                      g: np.ndarray) -> np.ndarray:
    """A modulus mu_r (B,) of strong convexity of L on a ball B(w_hat, r) with ||g|| < mu_r r / 2,
    so that a minimiser lies in the ball and ||w_hat - w*|| <= ||g|| / mu_r (module docstring).

    r = 4 ||g|| / mu_0 (mu_0 the modulus at w_hat itself); the smallest eigenvalue of the
    lower-bound matrix is lowered by 1e-12 of its largest (eigvalsh and the sums round at ~1e-15).
    0 where neither the ball nor lam > 0 certifies a minimiser (the instance is then uncertified)."""
    n = X.shape[1]
    margins = np.abs(np.einsum("bnd,bd->bn", X, w_hat))
    row = np.linalg.norm(X, axis=-1)
    g_norm = np.linalg.norm(g, axis=-1)

    def modulus(radius: np.ndarray) -> np.ndarray:
        weights = _softplus_curvature(margins + radius[:, None] * row) / n
        eig = np.linalg.eigvalsh(np.einsum("bn,bnd,bne->bde", weights, X, X))
        return lam + np.maximum(eig[:, 0] - 1e-12 * eig[:, -1], 0.0)

    mu_0 = modulus(np.zeros_like(g_norm))
    radius = 4 * g_norm / np.maximum(mu_0, np.finfo(float).tiny)
    mu_r = modulus(radius)
    in_ball = (g_norm < mu_r * radius / 2) | (g_norm == 0)
    return np.where(in_ball, mu_r, lam)


class Logistic:
    """Family of logistic regressions, l2-regularised (``regularized``, strongly convex) or plain
    (Lipschitz); both smooth, not quadratic, finite sums."""

    def __init__(self, regularized: bool = True, max_shift: float = 0.0) -> None:
        self.regularized = regularized
        self.max_shift = max_shift
        self.name = "logistic-l2" if regularized else "logistic"
        self.classes = frozenset({"cvx", "smooth", "lb", "minimizer", "fsum", "so", "sc" if regularized else "lip"})

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
        if not self.regularized:
            lam_t = torch.zeros_like(lam_t)
            X_t, y_t = torch.cat([X_t, X_t[:, :d]], 1), torch.cat([y_t, -y_t[:, :d]], 1)
            n += d
        offset_t = rnd.shift(B, d, self.max_shift, generator, device, dtype)
        X, y, lam, offset = (t.detach().cpu().numpy() for t in (X_t, y_t, lam_t, offset_t))

        def to_torch(a: np.ndarray) -> Tensor:
            return torch.as_tensor(np.asarray(a), dtype=dtype, device=device)

        def centred(w: Tensor) -> np.ndarray:
            """u = w - s for points w (B, R, d), as numpy."""
            return (w - offset_t[:, None, :]).detach().cpu().numpy()

        def loss(w: Tensor) -> Tensor:
            return to_torch(loss_np(centred(w), X, y, lam))

        def grad(w: Tensor) -> Tensor:
            return to_torch(grad_np(centred(w), X, y, lam))

        def hvp(w: Tensor, u: Tensor) -> Tensor:
            return to_torch(hvp_np(centred(w), u.detach().cpu().numpy(), X, y, lam))

        def one_row(w: Tensor, idx: Tensor) -> tuple[np.ndarray, ...]:
            """Term idx at w as the loss of a one-row data set, one per (instance, replica)."""
            x_i, y_i = gather_rows(X_t, y_t, idx)
            Bw, R = idx.shape
            flat = (Bw * R, 1, d)
            return (centred(w).reshape(flat), x_i.cpu().numpy().reshape(flat),
                    y_i.cpu().numpy().reshape(Bw * R, 1), np.repeat(lam, R))

        def term_loss(w: Tensor, idx: Tensor) -> Tensor:
            return to_torch(loss_np(*one_row(w, idx))).reshape(idx.shape)

        def term_grad(w: Tensor, idx: Tensor) -> Tensor:
            return to_torch(grad_np(*one_row(w, idx))).reshape(w.shape)

        u_hat = newton_minimise(lambda u: to_torch(grad_np(u.detach().cpu().numpy(), X, y, lam)),
                                lambda u: to_torch(_hessian_np(u.detach().cpu().numpy(), X, y, lam)),
                                torch.zeros_like(w1_t))
        u_np = u_hat.cpu().numpy()
        g_hat = grad_np(u_np[:, None, :], X, y, lam)[:, 0]
        mu_cert = certified_modulus(X, y, lam, u_np, g_hat)
        w_star = u_hat + offset_t
        cert = certify(w_star, to_torch(loss_np(u_np[:, None, :], X, y, lam)[:, 0]), to_torch(g_hat), to_torch(mu_cert),
                       rnd.shift_rounding(w_star))
        w1_t = w1_t + offset_t
        row_norm = torch.linalg.vector_norm(X_t, dim=-1)
        constants = {
            "H": torch.linalg.matrix_norm(X_t, ord=2) ** 2 / (4 * n) + lam_t,
            "mu": lam_t.clone(),
            "J": THIRD_DERIVATIVE_MAX * unit_third_derivative_J(X_t),
            "D": torch.linalg.vector_norm(w1_t - w_star, dim=-1) + cert.w_star_error,
            "Delta": loss(w1_t[:, None, :])[:, 0] - cert.Lstar,
            **cert.constants(),
        }
        per_term = {"H_i": row_norm ** 2 / 4 + lam_t[:, None]}
        if not self.regularized:
            constants["G"] = unit_slope_lipschitz(X_t)
            per_term["G_i"] = row_norm
        terms = FiniteSum(n, term_loss, term_grad, per_term)

        def describe(b: int) -> dict[str, Any]:
            return {"X": X[b].tolist(), "y": y[b].tolist(), "lam": float(lam[b]), "shift": offset[b].tolist(),
                    "w_star": w_star[b].tolist(), "w_star_error": float(cert.w_star_error[b]),
                    "certified": bool(cert.certified[b]), "w1": w1_t[b].tolist()}

        return ProblemBatch(self.name, self.classes, loss, grad, constants, w1_t, w_star,
                            {"family": self.name, "batch_size": B, "dim": d}, describe, hvp=hvp, terms=terms)


class RegularizedLogistic(Logistic):
    """The l2-regularised family, ``Logistic(regularized=True)``."""

    def __init__(self) -> None:
        super().__init__(regularized=True)
