"""The statistics of expectation claims: p-values, false-alarm rate and power (theorems/engine/statistics.py).

The false-alarm rate is measured on a claim whose bound is attained exactly in expectation
(theorems/engine/calibration.py); the power on the same claim with its bound lowered by 5%.
benchmarks/statistics_bench.py prints the full table.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from theorems.engine import statistics
from theorems.engine.calibration import rejection_rate


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2 ** 31), replicas=st.integers(2, 300), shift=st.floats(-2, 2))
def test_p_values_match_scipy_one_sided_t_test(seed: int, replicas: int, shift: float) -> None:
    rng = np.random.default_rng(seed)
    samples = rng.exponential(1.0, size=(3, replicas, 2))
    bound = np.full((3, 2), 1.0 + shift)
    ours = statistics.p_values(torch.as_tensor(samples), torch.as_tensor(bound)).numpy()
    for b in range(3):
        for k in range(2):
            expected = stats.ttest_1samp(samples[b, :, k], bound[b, k], alternative="greater").pvalue
            assert ours[b, k] == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_constant_samples_give_p_zero_or_one() -> None:
    samples = torch.ones(2, 5, 1, dtype=torch.float64)
    bound = torch.tensor([[0.5], [1.5]], dtype=torch.float64)
    assert statistics.p_values(samples, bound).flatten().tolist() == [0.0, 1.0]


def _upper_limit(level: float, n: int) -> float:
    """The largest rejection rate consistent (at 3 standard errors) with a true rate <= level."""
    return level + 3 * math.sqrt(level * (1 - level) / n)


def test_false_alarm_rate_at_most_the_level_on_an_attained_bound() -> None:
    level, n = 0.05, 400
    measured = rejection_rate(1.0, replicas=128, batch_size=32, repetitions=n, level=level)
    assert measured.rate <= _upper_limit(level, n), f"false-alarm rate {measured.rate:.3f} above level {level}"


def test_false_alarm_measurement_catches_a_test_without_multiplicity_correction() -> None:
    """Passing level * B (no Bonferroni over the B instances of a round) must show as too many
    false alarms: the false-alarm test above can fail for the right reason."""
    level, n, batch = 0.05, 400, 32
    measured = rejection_rate(1.0, replicas=128, batch_size=batch, repetitions=n, level=level * batch)
    assert measured.rate > _upper_limit(level, n)


def test_power_to_detect_a_five_percent_violation() -> None:
    measured = rejection_rate(1 / 1.05, replicas=8192, batch_size=32, repetitions=20, level=0.01)
    assert measured.rate >= 0.9, f"power {measured.rate:.2f} to detect a 5% violation with R=8192"
