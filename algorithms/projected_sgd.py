"""Projected stochastic gradient descent (Theorem 22.1), batched over instances and replicas.

w_{t+1} = Pi[w_t - eta_t g_t], Pi the Euclidean projection onto the ball ||w - w_1|| <= radius. The
notes project onto ||w|| <= D with ||w*|| <= D; centring the ball at w_1 is the same algorithm in
coordinates whose origin is w_1 (a translation changes no constant of the loss), so w_1 is in the
ball and a radius D >= ||w_1 - w*|| keeps w* in it.
"""
from __future__ import annotations

from typing import Any

import torch

from algorithms.protocol import HyperParameter, Oracle, as_schedule
from algorithms.sgd import descend

Tensor = torch.Tensor


def project_ball(w: Tensor, center: Tensor, radius: Tensor | float) -> Tensor:
    """The Euclidean projection of w (B, R, d) onto the ball ||w - center|| <= radius: points
    inside stay, points outside move to center + radius (w - center)/||w - center||."""
    offset = w - center
    norm = torch.linalg.vector_norm(offset, dim=-1, keepdim=True)
    scale = torch.where(norm > radius, radius / torch.where(norm > 0, norm, torch.ones_like(norm)),
                        torch.ones_like(norm))
    return center + scale * offset


class ProjectedSGD:
    """w_{t+1} = Pi_{||w - w_1|| <= radius}[w_t - eta_t g_t]; eta a constant, tensor or schedule."""

    returns_fresh_iterates = True  # algorithms.protocol

    def __init__(self, eta: HyperParameter, radius: Tensor | float) -> None:
        self.eta = as_schedule(eta)
        self.radius = radius

    def init(self, w1: Tensor) -> Any:
        return w1.clone()

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        return project_ball(descend(w, self.eta(t), oracle(w)), state, self.radius), state
