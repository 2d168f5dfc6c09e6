"""Random quadratics with a controlled spectrum: convex (eigenvalues in [0, H]) and strongly
convex (eigenvalues in [mu, H]), randomly rotated, with a random minimiser.

L(w) = 1/2 (w - w*)^T Q diag(lam) Q^T (w - w*) + L*. Every constant is exact: H = max lam,
mu = min lam, J = 0 (the Hessian is constant: second-order smooth, Definition 25.1, with J = 0),
w* is the minimiser nearest to w1 (the kernel of A never moves under gradient steps, so this is
the minimiser that makes D = ||w1 - w*|| smallest), D, Delta = L(w1) - L*.
Used by L5.6, T5.8, L13.2, T13.3, L21.5, T21.6 and L21.8.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from problems import _random as rnd
from problems import _spectral as spectral
from problems._batch import ProblemBatch
from problems.parametric import Params, clamp_relative, nearest_orthogonal

Tensor = torch.Tensor


class Quadratic:
    """Family of rotated quadratics; ``strongly_convex`` chooses [mu, H] over [0, H]."""

    def __init__(self, strongly_convex: bool = False, max_condition: float = 1e3) -> None:
        self.strongly_convex = strongly_convex
        self.max_condition = max_condition
        self.name = "quadratic-sc" if strongly_convex else "quadratic-convex"
        tags = {"cvx", "smooth", "so", "lb", "minimizer"}
        if strongly_convex:
            tags.add("sc")
        self.classes = frozenset(tags)

    def sample(self, batch_size: int, dim: int, generator: torch.Generator,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> ProblemBatch:
        return self.build(self.draw(batch_size, dim, generator, device, dtype))

    def draw(self, batch_size: int, dim: int, generator: torch.Generator,
             device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> Params:
        """Random parameters: eigenvalues ``lam``, rotation ``Q``, the minimisers' centre
        ``w_center``, the start ``w1``, ``Lstar`` (problems.parametric) and ``shift``, a translation
        of the centre and w1 (``_random.shift``, norm up to 1e3; added by ``build``), so instances
        lie near the origin and far from it."""
        B, d = batch_size, dim
        H = rnd.log_uniform((B,), 0.01, 1000.0, generator, device, dtype)
        if self.strongly_convex:
            kappa = rnd.log_uniform((B,), 1.0, self.max_condition, generator, device, dtype)
            low = H / kappa
        else:
            low = torch.zeros(B, device=device, dtype=dtype)
        lam = spectral.spectrum(H, low, d, self.strongly_convex, generator, device, dtype)
        Q = rnd.orthogonal(B, d, generator, device, dtype)
        scale = rnd.log_uniform((B, 1), 0.1, 10.0, generator, device, dtype)
        w_center = scale * rnd.normal((B, d), generator, device, dtype)
        Lstar = rnd.uniform((B,), -5.0, 5.0, generator, device, dtype)
        w1 = spectral.start(w_center, Q, lam, generator, device, dtype)
        shift = rnd.shift(B, d, rnd.MAX_SHIFT, generator, device, dtype)
        return {"lam": lam, "Q": Q, "w_center": w_center, "w1": w1, "Lstar": Lstar, "shift": shift}

    def project(self, params: Mapping[str, Tensor]) -> Params:
        """Eigenvalues >= 0 (convex) or >= H / max_condition (strongly convex), Q the nearest
        orthogonal matrix."""
        with torch.no_grad():
            out = {k: v.detach().clone() for k, v in params.items()}
            lam = out["lam"].clamp_min(0.0)
            out["lam"] = clamp_relative(lam, 1.0 / self.max_condition) if self.strongly_convex else lam
            out["Q"] = nearest_orthogonal(out["Q"])
        return out

    def build(self, params: Mapping[str, Tensor]) -> ProblemBatch:
        """The batch of the parameters; differentiable in every parameter. w* is the minimiser
        nearest to w1: w_center moved along the kernel of the Hessian to w1's component. The
        gradient is one product with the Hessian A = Q diag(lam) Q^T, and ``loss_and_grad`` takes
        the loss from it: L(w) = 1/2 <w - w*, grad L(w)> + L*."""
        lam, Q, Lstar = params["lam"], params["Q"], params["Lstar"]
        shift = rnd.translation(params)
        w_center, w1 = params["w_center"] + shift, params["w1"] + shift
        B, d = w1.shape
        kernel = (lam == 0).to(lam.dtype)
        offset = torch.einsum("bd,bde->be", w1 - w_center, Q)
        w_star = w_center + torch.einsum("be,bde->bd", offset * kernel, Q)

        def loss(w: Tensor) -> Tensor:
            u = torch.einsum("brd,bde->bre", w - w_star[:, None, :], Q)
            return 0.5 * (lam[:, None, :] * u * u).sum(-1) + Lstar[:, None]

        hessian = Q @ (lam[:, :, None] * Q.transpose(-1, -2))
        hessian = (hessian + hessian.transpose(-1, -2)) / 2  # exactly symmetric: u A = (A u)^T
        centre = w_star[:, None, :]

        def grad(w: Tensor) -> Tensor:  # (w - w*) A, with bmm directly for (B, R, d): no matmul overhead
            return torch.bmm(w - centre, hessian) if w.dim() == 3 else (w - centre) @ hessian

        def fused(w: Tensor) -> tuple[Tensor, Tensor]:
            u = w - centre
            g = torch.bmm(u, hessian) if u.dim() == 3 else u @ hessian
            return 0.5 * torch.linalg.vecdot(u, g) + Lstar[:, None], g

        def loss_given_grad(w: Tensor, g: Tensor) -> Tensor:
            return 0.5 * torch.linalg.vecdot(w - centre, g) + Lstar[:, None]

        L1 = loss(w1[:, None, :])[:, 0]
        constants = {
            "H": lam.max(dim=-1).values,
            "mu": lam.min(dim=-1).values,
            "J": torch.zeros_like(Lstar),
            "D": torch.linalg.vector_norm(w1 - w_star, dim=-1),
            "Delta": L1 - Lstar,
            "Lstar": Lstar,
        }

        def describe(b: int) -> dict[str, Any]:
            return {"eigenvalues": lam[b].tolist(), "w_star": w_star[b].tolist(),
                    "w1": w1[b].tolist(), "Lstar": float(Lstar[b])}

        return ProblemBatch(self.name, self.classes, loss, grad, constants, w1, w_star,
                            {"family": self.name, "batch_size": B, "dim": d}, describe, fused=fused,
                            loss_given_grad=loss_given_grad)
