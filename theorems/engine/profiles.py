"""Run profiles: how hard the checker tries (DESIGN.md: quick for CI, thorough for sweeps)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """Budget and tolerances of a check.

    Each claim is run on ``rounds`` batches of ``batch_size`` instances per horizon T in
    ``horizons`` and per admissible (family, oracle) pair, with a dimension drawn from ``dims``;
    expectation claims use ``replicas`` independent runs per instance and family-wise level
    ``level``; sure claims allow ``rtol * (|measured| + |bound|) + atol`` of rounding.
    Settings whose hyper-parameters are schedules (depend on the step t) also run at
    ``schedule_horizons``: a schedule's behaviour (a decay every 100 steps) shows only over a few
    hundred steps.
    """

    name: str
    batch_size: int
    replicas: int
    rounds: int
    horizons: tuple[int, ...]
    dims: tuple[int, ...]
    level: float = 0.01
    rtol: float = 1e-9
    atol: float = 1e-12
    gradient_steps: int = 0
    gradient_batch: int = 8
    gradient_lr: float = 0.05
    gradient_max_horizon: int = 16
    schedule_horizons: tuple[int, ...] = ()


PROFILES = {
    "quick": Profile("quick", batch_size=32, replicas=128, rounds=2, horizons=(1, 4, 16, 64),
                     dims=(1, 2, 3, 5, 8), gradient_steps=10, gradient_batch=4, gradient_max_horizon=16,
                     schedule_horizons=(256,)),
    "thorough": Profile("thorough", batch_size=128, replicas=512, rounds=10,
                        horizons=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
                        dims=(1, 2, 3, 5, 8, 13, 21, 34), gradient_steps=300, gradient_batch=32,
                        gradient_max_horizon=64),
}
