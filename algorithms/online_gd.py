"""Online gradient descent (Theorem 15.1) and projected adaptive gradient descent on an l2 ball
(Theorem 16.2), batched over instances and replicas.

Theorem 15.1: w_{t+1} = w_t - eta g_t for an arbitrary sequence g_t (no projection). Theorem
16.2: w_{t+1} = Pi_{||w||_2 <= D_2}(w_t - c g_t / sqrt(sum_{s<=t} ||g_s||^2)) with c = sqrt(2) D_2
(the proof projects the whole step, which is what ``ProjectedAdaptiveGD`` runs; the notes' display
w_{t+1} = Pi w_t - c g_t / sqrt(...) puts the projection on w_t alone, which is
``projected_adaptive_gd_as_printed``). A step whose accumulated sum is 0 has g_t = 0 and does not move.
"""
from __future__ import annotations

from typing import Any

import torch

from algorithms.protocol import HyperParameter, Oracle, as_schedule
from problems.projections import project_l2_ball

Tensor = torch.Tensor


class OnlineGD:
    """w_{t+1} = w_t - eta_t g_t (Theorem 15.1), projected onto the l2 ball of ``radius`` if given."""

    returns_fresh_iterates = True

    def __init__(self, eta: HyperParameter, radius: Tensor | float | None = None, **ignored: Any) -> None:
        self.eta = as_schedule(eta)
        self.radius = radius

    def init(self, w1: Tensor) -> Any:
        return None

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        w_next = w - self.eta(t) * oracle(w)
        if self.radius is not None:
            w_next = project_l2_ball(w_next, torch.as_tensor(self.radius, dtype=w.dtype, device=w.device))
        return w_next, state


def _safe_ratio(numerator: Tensor, root: Tensor) -> Tensor:
    """numerator / root where root > 0, else 0 (then the numerator, a gradient, is 0 as well)."""
    return torch.where(root > 0, numerator / torch.where(root > 0, root, torch.ones_like(root)),
                       torch.zeros_like(numerator))


class ProjectedAdaptiveGD:
    """Theorem 16.2's algorithm: w_{t+1} = Pi_{||w|| <= radius}(w_t - eta g_t / sqrt(||g||^2_{1:t}));
    ``eta`` is the notes' c."""

    returns_fresh_iterates = True

    def __init__(self, eta: HyperParameter, radius: Tensor | float, as_printed: bool = False, **ignored: Any) -> None:
        self.eta = as_schedule(eta)
        self.radius = radius
        self.as_printed = as_printed

    def init(self, w1: Tensor) -> Any:
        return torch.zeros(*w1.shape[:-1], 1, dtype=w1.dtype, device=w1.device)

    def step(self, w: Tensor, state: Tensor, oracle: Oracle, t: int) -> tuple[Tensor, Tensor]:
        g = oracle(w)
        total = state + g.square().sum(-1, keepdim=True)
        radius = torch.as_tensor(self.radius, dtype=w.dtype, device=w.device)
        if self.as_printed:
            return project_l2_ball(w, radius) - self.eta(t) * _safe_ratio(g, total.sqrt()), total
        return project_l2_ball(w - self.eta(t) * _safe_ratio(g, total.sqrt()), radius), total


def projected_adaptive_gd_as_printed(eta: HyperParameter, radius: Tensor | float, **ignored: Any) -> ProjectedAdaptiveGD:
    """Theorem 16.2's display read literally: w_{t+1} = Pi(w_t) - c g_t / sqrt(||g||^2_{1:t})."""
    return ProjectedAdaptiveGD(eta, radius, as_printed=True)
