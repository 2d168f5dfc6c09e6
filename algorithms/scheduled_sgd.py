"""SGD driven by the ready-made schedules of section 8.1 (``algorithms.schedules``), as algorithm
factories that take the schedules' parameters as hyper-parameters, so a spec can run them by name
(result S8.1 compares each with SGD on the notes' formula for eta_t, iterate for iterate).

Rates (eta0, eta_min, eta_max) may be per-instance tensors; counts and factors (every, factor,
warmup, period, horizon) must be one number for the whole batch.
"""
from __future__ import annotations

import math
from typing import Any

import torch

from algorithms.schedules import CosineAnnealing, CosineWithRestarts, LinearWarmup, StepDecay
from algorithms.sgd import SGD


def _number(value: Any, what: str) -> float:
    """One number for the whole batch, from a float or a tensor whose entries all agree."""
    flat = torch.as_tensor(value, dtype=torch.float64).reshape(-1)
    if not bool((flat == flat[0]).all()):
        raise ValueError(f"{what} must be one number for the whole batch, got {value!r}")
    return float(flat[0])


def _count(value: Any, what: str) -> int:
    number = _number(value, what)
    if number != int(number) or number < 1:
        raise ValueError(f"{what} must be a positive integer, got {number}")
    return int(number)


def step_decay_sgd(eta0: Any, factor: Any, every: Any) -> SGD:
    """SGD with ``StepDecay(eta0, factor, every)``: eta_t = eta0 factor^floor((t - 1)/every)."""
    return SGD(StepDecay(eta0, _number(factor, "factor"), _count(every, "every")))


def cosine_sgd(eta_min: Any, eta_max: Any, horizon: Any) -> SGD:
    """SGD with ``CosineAnnealing(eta_min, eta_max, horizon)``."""
    return SGD(CosineAnnealing(eta_min, eta_max, _count(horizon, "horizon")))


def cosine_restarts_sgd(eta_min: Any, eta_max: Any, decay: Any, period: Any, horizon: Any) -> SGD:
    """SGD with ``CosineWithRestarts``: phases of length ``period`` covering ``horizon`` steps, phase i
    (from 0) annealing from decay^i eta_max down to decay^i eta_min."""
    length, factor = _count(period, "period"), _number(decay, "decay")
    phases = [CosineAnnealing(eta_min * factor ** i, eta_max * factor ** i, length)
              for i in range(math.ceil(_count(horizon, "horizon") / length))]
    return SGD(CosineWithRestarts(phases))


def warmup_sgd(eta0: Any, warmup: Any) -> SGD:
    """SGD with ``LinearWarmup(eta0, warmup, s -> eta0/sqrt(s))``: the notes' linear warm-up
    followed by a 1/sqrt(t) schedule whose first rate is eta0."""
    return SGD(LinearWarmup(eta0, _count(warmup, "warmup"), lambda s: eta0 / math.sqrt(s)))
