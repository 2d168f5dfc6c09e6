"""Diagonal AdaGrad (Theorem 16.3), batched over instances and replicas.

w_{t+1}[i] = Pi_{|w[i]| <= D_inf}(w_t[i] - c g_t[i] / sqrt(eps^2 + g^2_{1:t}[i])) with c the
learning rate ``eta`` (the notes take c = sqrt(2) D_inf and eps = 0; section 16 writes the rate
with eps^2 under the root). Without ``radius`` the iterates are not projected: that is
``torch.optim.Adagrad`` with lr = c, lr_decay = 0 and its eps (added to the root) = 0
(tests/test_online_algorithms.py). The notes' display projects w_t alone, before the step
(``diagonal_adagrad_as_printed``); the proof projects the whole step. A coordinate whose accumulated sum is 0 has g = 0 and stays.
"""
from __future__ import annotations

from typing import Any

import torch

from algorithms.online_gd import _safe_ratio
from algorithms.protocol import HyperParameter, Oracle, as_schedule
from problems.projections import project_box

Tensor = torch.Tensor


class DiagonalAdaGrad:
    """Per-coordinate step c / sqrt(eps^2 + sum_{s<=t} g_s[i]^2), projected onto the box of
    ``radius`` if given (Theorem 16.3)."""

    returns_fresh_iterates = True

    def __init__(self, eta: HyperParameter, radius: Tensor | float | None = None, eps: float = 0.0,
                 as_printed: bool = False, **ignored: Any) -> None:
        self.eta = as_schedule(eta)
        self.radius = radius
        self.eps = float(eps)
        self.as_printed = as_printed

    def init(self, w1: Tensor) -> Tensor:
        return torch.zeros_like(w1)

    def step(self, w: Tensor, state: Tensor, oracle: Oracle, t: int) -> tuple[Tensor, Tensor]:
        g = oracle(w)
        total = state + g.square()
        step = self.eta(t) * _safe_ratio(g, (self.eps ** 2 + total).sqrt())
        if self.radius is None:
            return w - step, total
        radius = torch.as_tensor(self.radius, dtype=w.dtype, device=w.device)
        if self.as_printed:
            return project_box(w, radius) - step, total
        return project_box(w - step, radius), total


def diagonal_adagrad_as_printed(eta: HyperParameter, radius: Tensor | float, **ignored: Any) -> DiagonalAdaGrad:
    """Theorem 16.3's display read literally: w_{t+1}[i] = Pi(w_t[i]) - c g_t[i] / sqrt(g^2_{1:t}[i])."""
    return DiagonalAdaGrad(eta, radius, as_printed=True)
