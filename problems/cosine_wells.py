"""Rotated separable cosine wells: smooth, non-convex, Lipschitz, bounded below by 0.

L(w) = sum_j alpha_j (1 - cos(omega_j u_j)), u = Q^T (w - m). inf L = 0 exactly (at u = 0 and
its periodic copies). In the rotated coordinates the Hessian is diag(alpha omega^2 cos(omega u)),
so H = max_j alpha_j omega_j^2 exactly (attained at u = 0) and the Hessian has eigenvalues down
to -H (non-convex); grad has coordinates alpha_j omega_j sin(omega_j u_j), so
G = sqrt(sum_j alpha_j^2 omega_j^2) exactly (attained at u_j = pi / (2 omega_j)).
- gamma = H exactly: Hess L >= -gamma I (section 22), since every eigenvalue
  alpha_j omega_j^2 cos(omega_j u_j) is >= -alpha_j omega_j^2, with equality at u_j = pi / omega_j.
- J = max_j alpha_j omega_j^3 exactly (second-order smooth, Definition 25.1): for points x, y with
  rotated coordinates u, u', Hess L(x) - Hess L(y) = Q diag(c) Q^T with
  c_j = alpha_j omega_j^2 (cos(omega_j u_j) - cos(omega_j u'_j)), so its operator norm is
  max_j |c_j| (Q is orthogonal and the operator norm of a diagonal matrix is its largest |entry|:
  ||diag(c) z|| <= max_j |c_j| ||z||, with equality at z = e_j). By the mean value theorem
  |c_j| <= alpha_j omega_j^3 |u_j - u'_j| <= alpha_j omega_j^3 ||u - u'|| = alpha_j omega_j^3 ||x - y||.
  The bound is the least one: for j the maximiser, x - y = eps Q e_j and u_j, u'_j = pi / (2 omega_j)
  -+ eps / 2, the ratio is alpha_j omega_j^2 2 sin(omega_j eps / 2) / eps -> alpha_j omega_j^3.
Used by the non-convex results (L5.6, L5.7, T5.8, T6.1, L13.2).
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from problems import _random as rnd
from problems._batch import ProblemBatch
from problems.parametric import Params, clamp_relative, nearest_orthogonal

Tensor = torch.Tensor

#: Smallest depth and frequency kept by ``project``, relative to the instance's largest.
FLOOR = 1e-6


class CosineWells:
    """Family of rotated separable cosine wells."""

    name = "cosine-wells"
    classes = frozenset({"smooth", "so", "lip", "lb"})

    def sample(self, batch_size: int, dim: int, generator: torch.Generator,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> ProblemBatch:
        return self.build(self.draw(batch_size, dim, generator, device, dtype))

    def draw(self, batch_size: int, dim: int, generator: torch.Generator,
             device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> Params:
        """Random parameters: depths ``alpha``, frequencies ``omega``, rotation ``Q``, centre
        ``m``, start ``w1`` (problems.parametric) and ``shift``, which translates both
        (``_random.shift``, norm up to 1e3; added by ``build``) and changes no constant."""
        B, d = batch_size, dim
        alpha = rnd.log_uniform((B, d), 0.1, 10.0, generator, device, dtype)
        omega = rnd.log_uniform((B, d), 0.3, 3.0, generator, device, dtype)
        Q = rnd.orthogonal(B, d, generator, device, dtype)
        m = rnd.normal((B, d), generator, device, dtype)
        r = rnd.log_uniform((B, 1), 0.1, 10.0, generator, device, dtype)
        w1 = m + r * rnd.random_radius_directions(B, d, generator, device, dtype)
        shift = rnd.shift(B, d, rnd.MAX_SHIFT, generator, device, dtype)
        return {"alpha": alpha, "omega": omega, "Q": Q, "m": m, "w1": w1, "shift": shift}

    def project(self, params: Mapping[str, Tensor]) -> Params:
        """Depths and frequencies positive (at least FLOOR times the instance's largest), Q the
        nearest orthogonal matrix."""
        with torch.no_grad():
            out = {k: v.detach().clone() for k, v in params.items()}
            out["alpha"] = clamp_relative(out["alpha"].abs(), FLOOR)
            out["omega"] = clamp_relative(out["omega"].abs(), FLOOR)
            out["Q"] = nearest_orthogonal(out["Q"])
        return out

    def build(self, params: Mapping[str, Tensor]) -> ProblemBatch:
        """The batch of the parameters; differentiable in every parameter."""
        shift = rnd.translation(params)
        alpha, omega, Q, m, w1 = params["alpha"], params["omega"], params["Q"], params["m"] + shift, params["w1"] + shift
        B, d = w1.shape

        def coords(w: Tensor) -> Tensor:
            return torch.einsum("brd,bde->bre", w - m[:, None, :], Q)

        def loss(w: Tensor) -> Tensor:
            u = coords(w)
            return (alpha[:, None, :] * (1 - torch.cos(omega[:, None, :] * u))).sum(-1)

        def grad(w: Tensor) -> Tensor:
            u = coords(w)
            gu = alpha[:, None, :] * omega[:, None, :] * torch.sin(omega[:, None, :] * u)
            return torch.einsum("bre,bde->brd", gu, Q)

        Lstar = torch.zeros(B, device=w1.device, dtype=w1.dtype)
        H = (alpha * omega ** 2).max(dim=-1).values
        constants = {
            "H": H,
            "gamma": H.clone(),
            "J": (alpha * omega ** 3).max(dim=-1).values,
            "G": torch.sqrt((alpha ** 2 * omega ** 2).sum(-1)),
            "Delta": loss(w1[:, None, :])[:, 0],
            "Lstar": Lstar,
        }

        def describe(b: int) -> dict[str, Any]:
            return {"alpha": alpha[b].tolist(), "omega": omega[b].tolist(), "m": m[b].tolist(),
                    "w1": w1[b].tolist()}

        return ProblemBatch(self.name, self.classes, loss, grad, constants, w1, None,
                            {"family": self.name, "batch_size": B, "dim": d}, describe)
