"""Optimizer variants to try with ``theorycheck check ID --algorithm examples.variants:NAME``.

Each is an algorithm factory: called with the theorem's hyper-parameters (``eta``), it returns an
object with ``init(w1)`` and ``step(w, state, oracle, t)`` (algorithms/protocol.py).
"""
from __future__ import annotations

from typing import Any

import torch

from algorithms import SGD


class TripleStepGD(SGD):
    """Deliberately broken: gradient descent with three times the prescribed step size.

    On an H-smooth quadratic with eta = 1/H it multiplies the top eigen-component by 1 - 3 = -2
    each step, so Theorem 5.8 must be reported violated."""

    def __init__(self, eta: Any) -> None:
        super().__init__(lambda t: 3 * (eta(t) if callable(eta) else eta))


class NormalizedGD:
    """Gradient descent with normalised steps w - eta g/||g|| (a variant a user might check)."""

    def __init__(self, eta: Any) -> None:
        self.eta = eta

    def init(self, w1: torch.Tensor) -> None:
        return None

    def step(self, w: torch.Tensor, state: None, oracle: Any, t: int) -> tuple[torch.Tensor, None]:
        g = oracle(w)
        norm = torch.linalg.vector_norm(g, dim=-1, keepdim=True).clamp_min(1e-300)
        return w - self.eta * g / norm, state
