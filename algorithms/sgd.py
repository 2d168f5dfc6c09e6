"""Gradient descent and stochastic gradient descent (Algorithms 1 and 2 of the notes) and
minibatch SGD (section 7), batched over instances and replicas.

GD and SGD are one update, w_{t+1} = w_t - eta_t g_t: the oracle decides whether g_t is the exact
gradient (GD) or a stochastic one (SGD), so both names are the same class. The update is one torch
call (``descend``): ``addcmul`` for a tensor step size, which rounds w - eta g once where it fuses
the multiply and the add (CPU vector lanes), ``add(alpha=-eta)`` for a number.
"""
from __future__ import annotations

from typing import Any

import torch

from algorithms.protocol import HyperParameter, Oracle, as_schedule

Tensor = torch.Tensor


def descend(w: Tensor, eta: Tensor | float, g: Tensor) -> Tensor:
    """w - eta g in one call, as a new tensor (w and g are not modified)."""
    if isinstance(eta, Tensor):
        return torch.addcmul(w, eta, g, value=-1)
    return torch.add(w, g, alpha=-eta)


class SGD:
    """w_{t+1} = w_t - eta_t g_t with g_t = oracle(w_t); eta a constant, tensor or schedule."""

    returns_fresh_iterates = True  # algorithms.protocol

    def __init__(self, eta: HyperParameter) -> None:
        self.eta = as_schedule(eta)

    def init(self, w1: Tensor) -> Any:
        return None

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        return descend(w, self.eta(t), oracle(w)), state


GD = SGD


class MinibatchSGD:
    """Minibatch SGD (section 7): g_t is the mean of ``batch_size`` independent stochastic
    gradients at w_t, so its variance is sigma^2 / batch_size (Proposition 7.1)."""

    returns_fresh_iterates = True  # algorithms.protocol

    def __init__(self, eta: HyperParameter, batch_size: int) -> None:
        if int(batch_size) < 1:
            raise ValueError(f"MinibatchSGD: batch_size must be a positive integer, got {batch_size!r}")
        self.eta = as_schedule(eta)
        self.batch_size = int(batch_size)

    def init(self, w1: Tensor) -> Any:
        return None

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        return descend(w, self.eta(t), oracle(w, self.batch_size)), state
