"""l2-regularised versions of the smooth convex families (Lemma 21.7: strongly convex).

L_lam(w) = L(w - s) + lam/2 ||w - s||^2 for a base family of class cvx + smooth (drawn unshifted),
lam log-uniform in [1e-2, 1] per instance and a random shift s (``_random.shift``, norm up to
1e3): a translation changes no Hessian, so every constant below holds for every s. Constants, all
certified:
- mu = mu_base + lam (mu_base = 0 unless the base is strongly convex): the Hessian is >= lam I
  plus the base's; H = H_base + lam: the Hessian is <= (H_base + lam) I;
- w* = u_hat + s, u_hat by Newton's method on u = w - s (autograd Hessians of the base loss, a
  line search on the gradient norm, problems._certify) to the gradient's rounding floor; with
  g = grad L_lam(u_hat), strong convexity gives ||u_hat - u*|| <= ||g|| / mu and
  0 <= L_lam(u_hat) - L* <= ||g||^2 / (2 mu) (Lemmas 21.5 and 21.8), so L* is reported as the
  lower bound L_lam(u_hat) - ||g||^2/(2 mu), ``w_star_error`` = ||g|| / mu plus the rounding of
  u_hat + s, D as the upper bound ||w1 - w*|| + ``w_star_error``, Delta = L_lam(w1) - L*. An
  instance whose errors are not negligible against the claims' tolerance is marked
  ``uncertified`` and left out by the checker (problems._certify).
The regularised loss is not Lipschitz (lam/2 ||w||^2 grows), so ``lip`` and G are dropped.
Hessians shift by the constant lam I, so a base's second-order constant J (class ``so``,
Definition 25.1) carries over unchanged.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from problems import _random as rnd
from problems._batch import Family, ProblemBatch
from problems._certify import certify, newton_minimise

Tensor = torch.Tensor


def batched_hessian(loss: Callable[[Tensor], Tensor], w: Tensor) -> Tensor:
    """Autograd Hessians (B, d, d) of every instance's loss at w (B, d): the summed loss is
    separable over instances, so column k of each block is d/dw of the k-th partial derivative."""
    x = w[:, None, :].detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss(x).sum(), x, create_graph=True)
    cols = [torch.autograd.grad(g[..., k].sum(), x, retain_graph=True)[0][:, 0] for k in range(w.shape[-1])]
    h = torch.stack(cols, -1)
    return 0.5 * (h + h.transpose(-1, -2))


class Regularized:
    """The family ``base`` + lam/2 ||w||^2, translated by a random shift; needs a base of class
    cvx and smooth with H. A base drawn near the origin (``LogCosh(max_shift=0)``, as registered)
    keeps the rounding of the solve, and so the certified error, small."""

    def __init__(self, base: Family, lam_range: tuple[float, float] = (1e-2, 1.0),
                 max_shift: float = rnd.MAX_SHIFT) -> None:
        if not {"cvx", "smooth"} <= base.classes:
            raise ValueError(f"Regularized: the base family must be convex and smooth, {base.name} is {sorted(base.classes)}")
        self.base = base
        self.lam_range = lam_range
        self.max_shift = max_shift
        self.name = f"{base.name}-l2"
        self.classes = frozenset((base.classes - {"lip"}) | {"sc", "lb", "minimizer"})

    def sample(self, batch_size: int, dim: int, generator: torch.Generator,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> ProblemBatch:
        base = self.base.sample(batch_size, dim, generator, device, dtype)
        lam = rnd.log_uniform((batch_size,), *self.lam_range, generator, device, dtype)
        shift = rnd.shift(batch_size, dim, self.max_shift, generator, device, dtype)
        lam3 = lam[:, None, None]

        def centred_loss(u: Tensor) -> Tensor:
            return base.loss(u) + lam[:, None] / 2 * u.square().sum(-1)

        def centred_grad(u: Tensor) -> Tensor:
            return base.grad(u) + lam3 * u

        def hessian(u: Tensor) -> Tensor:
            return batched_hessian(base.loss, u) + lam3 * torch.eye(dim, device=u.device, dtype=u.dtype)

        def loss(w: Tensor) -> Tensor:
            return centred_loss(w - shift[:, None, :])

        def grad(w: Tensor) -> Tensor:
            return centred_grad(w - shift[:, None, :])

        start = base.w_star if base.w_star is not None else base.w1
        u_hat = newton_minimise(centred_grad, hessian, start.clone())
        w_hat = u_hat + shift
        mu = base.constants.get("mu", torch.zeros_like(lam)) + lam
        cert = certify(w_hat, centred_loss(u_hat[:, None, :])[:, 0], centred_grad(u_hat[:, None, :])[:, 0], mu,
                       rnd.shift_rounding(w_hat))
        w1 = base.w1 + shift
        constants = {
            "H": base.constants["H"] + lam,
            "mu": mu,
            "D": torch.linalg.vector_norm(w1 - w_hat, dim=-1) + cert.w_star_error,
            "Delta": centred_loss(base.w1[:, None, :])[:, 0] - cert.Lstar,
            **cert.constants(),
        }
        if "J" in base.constants:
            constants["J"] = base.constants["J"]

        def describe(i: int) -> dict[str, Any]:
            return {**base.describe(i), "lam": float(lam[i]), "shift": shift[i].tolist(), "w_star": w_hat[i].tolist(),
                    "w_star_error": float(cert.w_star_error[i]), "certified": bool(cert.certified[i]),
                    "w1": w1[i].tolist()}

        return ProblemBatch(self.name, self.classes, loss, grad, constants, w1, w_hat,
                            {"family": self.name, "batch_size": batch_size, "dim": dim}, describe)
