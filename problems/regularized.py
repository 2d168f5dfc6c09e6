"""l2-regularised versions of the smooth convex families (Lemma 21.7: strongly convex).

L_lam(w) = L(w) + lam/2 ||w||^2 for a base family of class cvx + smooth, lam log-uniform in
[1e-2, 1] per instance. Constants, all certified:
- mu = mu_base + lam (mu_base = 0 unless the base is strongly convex): the Hessian is >= lam I
  plus the base's; H = H_base + lam: the Hessian is <= (H_base + lam) I;
- w* by damped Newton steps (autograd Hessians of the base loss, a batched backtracking line
  search); with g = grad L_lam(w_hat), strong convexity gives ||w_hat - w*|| <= ||g|| / mu and
  0 <= L_lam(w_hat) - L* <= ||g||^2 / (2 mu) (Lemmas 21.5 and 21.8), so L* is reported as the
  lower bound L_lam(w_hat) - ||g||^2/(2 mu), D as the upper bound ||w1 - w_hat|| + ||g||/mu, and
  Delta = L_lam(w1) - L*; the certified error ||g|| / mu is kept as ``w_star_error``.
The regularised loss is not Lipschitz (lam/2 ||w||^2 grows), so ``lip`` and G are dropped.
Hessians shift by the constant lam I, so a base's second-order constant J (class ``so``,
Definition 25.1) carries over unchanged.
"""
from __future__ import annotations

from typing import Any

import torch

from problems import _random as rnd
from problems._batch import Family, ProblemBatch

Tensor = torch.Tensor

_STEPS = 2.0 ** -torch.arange(0, 40, dtype=torch.float64)


def batched_hessian(loss, w: Tensor) -> Tensor:
    """Autograd Hessians (B, d, d) of every instance's loss at w (B, d): the summed loss is
    separable over instances, so column k of each block is d/dw of the k-th partial derivative."""
    x = w[:, None, :].detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss(x).sum(), x, create_graph=True)
    cols = [torch.autograd.grad(g[..., k].sum(), x, retain_graph=True)[0][:, 0] for k in range(w.shape[-1])]
    h = torch.stack(cols, -1)
    return 0.5 * (h + h.transpose(-1, -2))


def newton_minimise(loss, grad, hessian, w: Tensor, iterations: int = 60) -> Tensor:
    """Damped Newton from w (B, d): each instance takes the full Newton step when it halves the
    gradient norm (the regime of quadratic convergence, where loss differences are lost to
    rounding), else the largest step 2^-k satisfying Armijo's condition (all 40 trial points
    evaluated at once); an instance stops at the first step that neither halves its gradient norm
    nor lowers its loss by more than rounding (1e-14 relative)."""
    steps = _STEPS.to(device=w.device, dtype=w.dtype)
    rows = torch.arange(w.shape[0], device=w.device)
    g = grad(w[:, None, :])[:, 0]
    active = torch.ones_like(rows, dtype=torch.bool)
    for _ in range(iterations):
        direction = torch.linalg.solve(hessian(w), g[..., None])[..., 0]
        trial = w[:, None, :] - steps[None, :, None] * direction[:, None, :]
        decrease = (g * direction).sum(-1, keepdim=True)
        ok = loss(trial) <= loss(w[:, None, :]) - 1e-4 * steps[None, :] * decrease
        first = torch.where(ok.any(-1), ok.to(torch.int64).argmax(-1), torch.full_like(rows, len(steps) - 1))
        g_full = grad(trial[:, :1])[:, 0]
        full = g_full.norm(dim=-1) < 0.5 * g.norm(dim=-1)
        candidate = torch.where(full[:, None], trial[:, 0], trial[rows, first])
        g_candidate = grad(candidate[:, None, :])[:, 0]
        before, after = loss(w[:, None, :])[:, 0], loss(candidate[:, None, :])[:, 0]
        better = (g_candidate.norm(dim=-1) < 0.5 * g.norm(dim=-1)) | (after < before - 1e-14 * before.abs())
        active = active & better
        if not bool(active.any()):
            break
        better = active
        w = torch.where(better[:, None], candidate, w)
        g = torch.where(better[:, None], g_candidate, g)
    return w


class Regularized:
    """The family ``base`` + lam/2 ||w||^2; needs a base of class cvx and smooth with H."""

    def __init__(self, base: Family, lam_range: tuple[float, float] = (1e-2, 1.0)) -> None:
        if not {"cvx", "smooth"} <= base.classes:
            raise ValueError(f"Regularized: the base family must be convex and smooth, {base.name} is {sorted(base.classes)}")
        self.base = base
        self.lam_range = lam_range
        self.name = f"{base.name}-l2"
        self.classes = frozenset((base.classes - {"lip"}) | {"sc", "lb", "minimizer"})

    def sample(self, batch_size: int, dim: int, generator: torch.Generator,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> ProblemBatch:
        base = self.base.sample(batch_size, dim, generator, device, dtype)
        lam = rnd.log_uniform((batch_size,), *self.lam_range, generator, device, dtype)
        lam3 = lam[:, None, None]

        def loss(w: Tensor) -> Tensor:
            return base.loss(w) + lam[:, None] / 2 * w.square().sum(-1)

        def grad(w: Tensor) -> Tensor:
            return base.grad(w) + lam3 * w

        def hessian(w: Tensor) -> Tensor:
            return batched_hessian(base.loss, w) + lam[:, None, None] * torch.eye(dim, device=w.device, dtype=w.dtype)

        start = base.w_star if base.w_star is not None else base.w1
        w_hat = newton_minimise(loss, grad, hessian, start.clone())
        g_norm = torch.linalg.vector_norm(grad(w_hat[:, None, :])[:, 0], dim=-1)
        mu = base.constants.get("mu", torch.zeros_like(lam)) + lam
        error = g_norm / mu
        Lstar = loss(w_hat[:, None, :])[:, 0] - g_norm ** 2 / (2 * mu)
        w1 = base.w1
        constants = {
            "H": base.constants["H"] + lam,
            "mu": mu,
            "D": torch.linalg.vector_norm(w1 - w_hat, dim=-1) + error,
            "Delta": loss(w1[:, None, :])[:, 0] - Lstar,
            "Lstar": Lstar,
            "w_star_error": error,
        }
        if "J" in base.constants:
            constants["J"] = base.constants["J"]

        def describe(i: int) -> dict[str, Any]:
            return {**base.describe(i), "lam": float(lam[i]), "w_star": w_hat[i].tolist(),
                    "w_star_error": float(error[i]), "w1": w1[i].tolist()}

        return ProblemBatch(self.name, self.classes, loss, grad, constants, w1, w_hat,
                            {"family": self.name, "batch_size": batch_size, "dim": dim}, describe)
