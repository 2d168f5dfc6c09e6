"""Adaptive SGD with a norm step size (sections 10-12 of the notes), batched over instances and
replicas. The notes' learning-rate scale c is the hyper-parameter ``eta`` (the name every
algorithm and the torch.optim adapter share), so that a spec's setting can run a torch.optim
optimizer in its place with lr = c.

- ``AdaGradNorm``, Algorithm 7 (line 1391): eta_t = c / sqrt(eps^2 + sum_{i<=t} ||g_i||^2).
- ``EMAAdaptive``, Algorithm 8 (line 1800): A_t = beta A_{t-1} + ||g_t||^2, eta_t = c / sqrt(eps^2 + A_t).
- ``CorrectedEMAAdaptive``, Algorithm 9 (line 1826): B_0 = eps^2, B_t = max(B_{t-1}, t A_t),
  eta_t = c / sqrt(B_t), so the step sizes never increase.

Each step is w_{t+1} = w_t - eta_t g_t with g_t = oracle(w_t), one oracle call per step, the
norms taken per instance and replica. ``step_size(state)`` is the eta_t of the step just taken.
"""
from __future__ import annotations

from typing import Any

import torch

from algorithms.protocol import HyperParameter, Oracle, as_schedule
from algorithms.sgd import descend

Tensor = torch.Tensor


def _sq_norm(g: Tensor) -> Tensor:
    """||g||^2 over the last axis, kept as (..., 1) to scale g."""
    return g.square().sum(-1, keepdim=True)


def step_size(state: Any) -> Tensor:
    """eta_t of the step just taken (from the state a step returned), shape (B, R, 1)."""
    return state["eta"]


class AdaGradNorm:
    """Algorithm 7 (AdaGrad-norm): scale ``eta`` (the notes' c) and ``eps`` > 0."""

    returns_fresh_iterates = True  # algorithms.protocol

    def __init__(self, eta: HyperParameter, eps: HyperParameter) -> None:
        self.eta, self.eps = as_schedule(eta), as_schedule(eps)

    def init(self, w1: Tensor) -> Any:
        return {"sum": torch.zeros_like(w1[..., :1]), "eta": None}

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        g = oracle(w)
        total = state["sum"] + _sq_norm(g)
        eta_t = self.eta(t) / torch.sqrt(self.eps(t) ** 2 + total)
        return descend(w, eta_t, g), {"sum": total, "eta": eta_t}

    step_size = staticmethod(step_size)


class EMAAdaptive:
    """Algorithm 8 (the exponential-moving-average step): ``eta`` (c), ``eps``, ``beta`` in (0, 1)."""

    returns_fresh_iterates = True  # algorithms.protocol

    def __init__(self, eta: HyperParameter, eps: HyperParameter, beta: HyperParameter) -> None:
        self.eta, self.eps, self.beta = as_schedule(eta), as_schedule(eps), as_schedule(beta)

    def init(self, w1: Tensor) -> Any:
        return {"A": torch.zeros_like(w1[..., :1]), "eta": None}

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        g = oracle(w)
        A = self.beta(t) * state["A"] + _sq_norm(g)
        eta_t = self.eta(t) / torch.sqrt(self.eps(t) ** 2 + A)
        return descend(w, eta_t, g), {"A": A, "eta": eta_t}

    step_size = staticmethod(step_size)


class CorrectedEMAAdaptive:
    """Algorithm 9 (the EMA step made non-increasing): ``eta`` (c), ``eps``, ``beta`` in (0, 1)."""

    returns_fresh_iterates = True  # algorithms.protocol

    def __init__(self, eta: HyperParameter, eps: HyperParameter, beta: HyperParameter) -> None:
        self.eta, self.eps, self.beta = as_schedule(eta), as_schedule(eps), as_schedule(beta)

    def init(self, w1: Tensor) -> Any:
        return {"A": torch.zeros_like(w1[..., :1]), "B": None, "eta": None}

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        g = oracle(w)
        A = self.beta(t) * state["A"] + _sq_norm(g)
        previous = state["B"] if state["B"] is not None else torch.as_tensor(self.eps(t)) ** 2 + torch.zeros_like(A)
        B = torch.maximum(previous, t * A)
        eta_t = self.eta(t) / torch.sqrt(B)
        return descend(w, eta_t, g), {"A": A, "B": B, "eta": eta_t}

    step_size = staticmethod(step_size)
