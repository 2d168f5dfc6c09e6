"""Pseudo-Huber regression: a smooth, convex, Lipschitz family that is not quadratic.

L(w) = (1/n) sum_i delta^2 (sqrt(1 + r_i^2/delta^2) - 1), r = A (w - w_true) (= A w - b for
b = A w_true, written as a translation so that w_true is the exact minimiser of the loss as
computed), A (n x d) Gaussian with column scales, n >= d, so w* = w_true is the unique minimiser
and L* = 0 exactly. ``draw``'s ``shift`` translates w_true and w1 (``_random.shift``, norm up to
1e3; added by ``build``), which changes no constant.
phi(r) = delta^2 (sqrt(1 + r^2/delta^2) - 1) has |phi'| < delta and 0 < phi'' <= 1 (= 1 at r = 0):
- H = ||A||_op^2 / n exactly (the Hessian A^T diag(phi'') A / n is largest at w*);
- G = delta min(mean_i ||a_i||, ||A||_op / sqrt(n)), a proven upper bound on ||grad L||;
- J = 48 / (25 sqrt(5) delta) max_i ||a_i|| ||A||_op^2 / n, a proven bound (Definition 25.1,
  ``unit_third_derivative_J``): phi''(r) = (1 + s^2)^(-3/2) with s = r / delta, so
  phi'''(r) = -(3 / delta) s (1 + s^2)^(-5/2), largest in absolute value where 1 + s^2 = 5 s^2,
  s^2 = 1/4: sup |phi'''| = (3 / (2 delta)) (4/5)^(5/2) = 48 / (25 sqrt(5) delta).
Used by T2.4, T3.2 and every smooth-family result.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import torch

from problems import _random as rnd
from problems._batch import ProblemBatch
from problems._regression import unit_third_derivative_J
from problems.parametric import Params, clamp_relative

Tensor = torch.Tensor

#: sup_s |d^3/ds^3 (sqrt(1 + s^2) - 1)| = sup_s 3 |s| (1 + s^2)^(-5/2) (at s^2 = 1/4).
THIRD_DERIVATIVE_MAX = 48 / (25 * math.sqrt(5))

#: Smallest singular value of A kept by ``project``, relative to the largest.
FLOOR = 1e-6


class PseudoHuber:
    """Family of pseudo-Huber regressions with consistent targets."""

    name = "pseudo-huber"
    classes = frozenset({"cvx", "smooth", "so", "lip", "lb", "minimizer"})

    def sample(self, batch_size: int, dim: int, generator: torch.Generator,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> ProblemBatch:
        return self.build(self.draw(batch_size, dim, generator, device, dtype))

    def draw(self, batch_size: int, dim: int, generator: torch.Generator,
             device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> Params:
        """Random parameters: data ``A`` (B, n, d), threshold ``delta``, ``w_star`` and ``w1``."""
        B, d = batch_size, dim
        extra = int(torch.randint(0, 2 * d + 1, (1,), generator=generator, device=device).item())
        n = d + extra
        col_scale = rnd.log_uniform((B, 1, d), 0.1, 10.0, generator, device, dtype)
        A = rnd.normal((B, n, d), generator, device, dtype) * col_scale
        delta = rnd.log_uniform((B,), 0.1, 10.0, generator, device, dtype)
        w_star = rnd.log_uniform((B, 1), 0.1, 10.0, generator, device, dtype) * rnd.normal((B, d), generator, device, dtype)
        r = rnd.log_uniform((B, 1), 0.01, 100.0, generator, device, dtype)
        w1 = w_star + r * rnd.random_radius_directions(B, d, generator, device, dtype)
        shift = rnd.shift(B, d, rnd.MAX_SHIFT, generator, device, dtype)
        return {"A": A, "delta": delta, "w_star": w_star, "w1": w1, "shift": shift}

    def project(self, params: Mapping[str, Tensor]) -> Params:
        """delta > 0 and A of full column rank (singular values at least FLOOR times the
        largest), so w* stays the unique minimiser."""
        with torch.no_grad():
            out = {k: v.detach().clone() for k, v in params.items()}
            out["delta"] = out["delta"].abs().clamp_min(FLOOR)
            U, s, Vh = torch.linalg.svd(out["A"], full_matrices=False)
            out["A"] = U @ torch.diag_embed(clamp_relative(s, FLOOR)) @ Vh
        return out

    def build(self, params: Mapping[str, Tensor]) -> ProblemBatch:
        """The batch of the parameters; differentiable in every parameter."""
        shift = rnd.translation(params)
        A, delta, w_star, w1 = params["A"], params["delta"], params["w_star"] + shift, params["w1"] + shift
        B, n, d = A.shape
        dl = delta[:, None, None]

        def residual(w: Tensor) -> Tensor:
            return torch.einsum("bnd,brd->brn", A, w - w_star[:, None, :])

        def loss(w: Tensor) -> Tensor:
            res = residual(w)
            return (dl ** 2 * (torch.sqrt(1 + (res / dl) ** 2) - 1)).mean(-1)

        def grad(w: Tensor) -> Tensor:
            res = residual(w)
            psi = res / torch.sqrt(1 + (res / dl) ** 2)
            return torch.einsum("bnd,brn->brd", A, psi) / n

        op = torch.linalg.matrix_norm(A, ord=2)
        row_mean = torch.linalg.vector_norm(A, dim=-1).mean(-1)
        G = delta * torch.minimum(row_mean, op / n ** 0.5)
        Lstar = torch.zeros(B, device=A.device, dtype=A.dtype)
        constants = {
            "H": op ** 2 / n,
            "mu": Lstar.clone(),
            "G": G,
            "J": THIRD_DERIVATIVE_MAX / delta * unit_third_derivative_J(A),
            "D": torch.linalg.vector_norm(w1 - w_star, dim=-1),
            "Delta": loss(w1[:, None, :])[:, 0],
            "Lstar": Lstar,
        }

        def describe(b_: int) -> dict[str, Any]:
            return {"n": n, "delta": float(delta[b_]), "A": A[b_].tolist(),
                    "w_star": w_star[b_].tolist(), "w1": w1[b_].tolist()}

        return ProblemBatch(self.name, self.classes, loss, grad, constants, w1, w_star,
                            {"family": self.name, "batch_size": B, "dim": d}, describe)
