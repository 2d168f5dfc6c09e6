"""One-sided tests for expectation claims (DESIGN.md: "Expectation claims").

For each instance, the R replicas of the measured quantity give a one-sided Student-t lower
confidence bound on its mean. A claim E[X] <= b is declared violated only when that lower bound
exceeds b at a level corrected (Bonferroni) for the number of comparisons, so a true claim
whose bound is attained fails with probability at most the level (a bound that is merely
within the upper confidence bound never fails). The false-alarm rate and the power are measured
in tests/test_statistics.py and benchmarks/statistics_bench.py.
"""
from __future__ import annotations

import math

import torch
from scipy import stats

Tensor = torch.Tensor


def t_quantile(level: float, replicas: int) -> float:
    """The (1 - level) quantile of Student's t with replicas - 1 degrees of freedom."""
    if replicas < 2:
        raise ValueError(f"an expectation test needs at least 2 replicas, got {replicas}")
    return float(stats.t.ppf(1.0 - level, replicas - 1))


def mean_and_halfwidth(samples: Tensor, level: float) -> tuple[Tensor, Tensor]:
    """Mean over the last-but-... replica axis (dim 1 of (B, R, K)) and the one-sided half-width
    q_{1-level} * s / sqrt(R), each of shape (B, K)."""
    replicas = samples.shape[1]
    mean = samples.mean(1)
    std = samples.std(1, unbiased=True)
    return mean, t_quantile(level, replicas) * std / math.sqrt(replicas)


def p_values(samples: Tensor, bound: Tensor) -> Tensor:
    """One-sided p-values of H0: E[X] <= bound for samples (B, R, K) and bound (B, K)."""
    replicas = samples.shape[1]
    mean = samples.mean(1)
    std = samples.std(1, unbiased=True)
    excess = mean - bound
    z = excess / (std / math.sqrt(replicas))
    z = torch.where(std > 0, z, torch.where(excess > 0, torch.full_like(z, math.inf), torch.full_like(z, -math.inf)))
    return torch.as_tensor(stats.t.sf(z.detach().cpu().numpy(), replicas - 1), dtype=samples.dtype)
