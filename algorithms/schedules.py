"""Learning-rate schedules of section 8.1 as reusable objects: each is a function t -> eta_t
(t = 1, 2, ...), so every algorithm accepts it where it accepts a step size. Rates may be
floats or per-instance tensors of shape (B, 1, 1)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence, Union

import torch

Rate = Union[float, torch.Tensor]


@dataclass(frozen=True)
class StepDecay:
    """Exponential (step) decay: eta_t = eta0 * factor^floor((t - 1) / every), e.g. divide by 10
    every 30 epochs."""

    eta0: Rate
    factor: float
    every: int

    def __post_init__(self) -> None:
        if self.every < 1 or not 0 < self.factor:
            raise ValueError(f"StepDecay: every must be >= 1 and factor > 0, got every={self.every}, factor={self.factor}")

    def __call__(self, t: int) -> Rate:
        return self.eta0 * self.factor ** ((t - 1) // self.every)


@dataclass(frozen=True)
class CosineAnnealing:
    """eta_t = eta_min + (eta_max - eta_min)(1 + cos(pi t / T)) / 2 for t = 1..T (section 8.1)."""

    eta_min: Rate
    eta_max: Rate
    horizon: int

    def __call__(self, t: int) -> Rate:
        return self.eta_min + 0.5 * (self.eta_max - self.eta_min) * (1 + math.cos(math.pi * t / self.horizon))


@dataclass(frozen=True)
class CosineWithRestarts:
    """Cosine annealing in phases: phase i has length T_i and range [eta_min_i, eta_max_i], and
    the step counter restarts at t = 1 in each phase; after the last phase the last rate stays."""

    phases: Sequence[CosineAnnealing]

    def __call__(self, t: int) -> Rate:
        for phase in self.phases:
            if t <= phase.horizon:
                return phase(t)
            t -= phase.horizon
        last = self.phases[-1]
        return last(last.horizon)


@dataclass(frozen=True)
class LinearWarmup:
    """eta_t = t eta0 / T_warmup for t <= T_warmup, then ``after(t - T_warmup)``: the following
    schedule starts its own count at 1 (typically with after(1) = eta0)."""

    eta0: Rate
    warmup: int
    after: Callable[[int], Rate]

    def __call__(self, t: int) -> Rate:
        if t <= self.warmup:
            return t * self.eta0 / self.warmup
        return self.after(t - self.warmup)


def scale_for_batch_size(eta: Rate, batch_size: int) -> Rate:
    """The batch-size scaling rule of section 8.1: multiplying the batch size by B (same number
    of epochs) multiplies the learning rate by B."""
    if batch_size < 1:
        raise ValueError(f"scale_for_batch_size: batch_size must be >= 1, got {batch_size}")
    return eta * batch_size
