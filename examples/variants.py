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


class HeavyBall:
    """Polyak's heavy ball: w_{t+1} = w_t - eta g_t + beta (w_t - w_{t-1}), beta = 0.9 by default.

    Try it against the smooth results: ``theorycheck check T5.8 T13.3 T21.6 --algorithm
    examples.variants:HeavyBall --option beta=0.5``."""

    def __init__(self, eta: Any, beta: float = 0.9) -> None:
        self.eta, self.beta = eta, beta

    def init(self, w1: torch.Tensor) -> torch.Tensor:
        return w1.clone()  # the previous iterate

    def step(self, w: torch.Tensor, previous: torch.Tensor, oracle: Any, t: int) -> tuple[torch.Tensor, torch.Tensor]:
        eta = self.eta(t) if callable(self.eta) else self.eta
        return w - eta * oracle(w) + self.beta * (w - previous), w


class SignSGD:
    """Sign descent, the core of signSGD and Lion: w_{t+1} = w_t - eta sign(g_t) (coordinate-wise).

    ``theorycheck check T2.4 T3.2 --algorithm examples.variants:SignSGD`` shows which convex
    guarantees a sign update keeps with the step size the theorems prescribe."""

    def __init__(self, eta: Any) -> None:
        self.eta = eta

    def init(self, w1: torch.Tensor) -> None:
        return None

    def step(self, w: torch.Tensor, state: None, oracle: Any, t: int) -> tuple[torch.Tensor, None]:
        eta = self.eta(t) if callable(self.eta) else self.eta
        return w - eta * torch.sign(oracle(w)), state
