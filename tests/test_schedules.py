"""Section 8.1's schedules: their formulas, against torch.optim.lr_scheduler where torch has the
same schedule (an independent implementation), and inside an algorithm."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from algorithms import (SGD, CosineAnnealing, CosineWithRestarts, LinearWarmup, StepDecay, run,
                        scale_for_batch_size)
from problems import FAMILIES, ORACLES


def torch_rates(scheduler_factory, lr: float, steps: int) -> list[float]:
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = scheduler_factory(optimizer)
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


@settings(max_examples=30, deadline=None)
@given(eta0=st.floats(1e-4, 10), factor=st.floats(0.05, 0.99), every=st.integers(1, 9))
def test_step_decay_matches_torch_steplr(eta0: float, factor: float, every: int) -> None:
    ours = [StepDecay(eta0, factor, every)(t) for t in range(1, 40)]
    theirs = torch_rates(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=every, gamma=factor), eta0, 39)
    assert ours == pytest.approx(theirs, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(eta_min=st.floats(0, 0.1), span=st.floats(1e-3, 5), horizon=st.integers(1, 60))
def test_cosine_annealing_ends_at_eta_min_and_matches_torch(eta_min: float, span: float, horizon: int) -> None:
    schedule = CosineAnnealing(eta_min, eta_min + span, horizon)
    assert schedule(horizon) == pytest.approx(eta_min, abs=1e-12)
    # torch's CosineAnnealingLR counts from 0: its value at step t is the notes' eta_t
    theirs = torch_rates(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=horizon, eta_min=eta_min),
                         eta_min + span, horizon + 1)
    assert [schedule(t) for t in range(1, horizon + 1)] == pytest.approx(theirs[1:], rel=1e-9, abs=1e-12)


def test_cosine_restarts_reindex_each_phase() -> None:
    phases = [CosineAnnealing(0.0, 1.0, 4), CosineAnnealing(0.0, 0.5, 2)]
    schedule = CosineWithRestarts(phases)
    expected = [phases[0](t) for t in range(1, 5)] + [phases[1](t) for t in (1, 2)] + [0.0, 0.0]
    assert [schedule(t) for t in range(1, 9)] == pytest.approx(expected, abs=1e-15)
    assert schedule(5) > schedule(4)  # the rate increases at the start of a phase


def test_linear_warmup_then_inverse_sqrt() -> None:
    schedule = LinearWarmup(0.3, 3, lambda s: 0.3 / math.sqrt(s))
    assert [schedule(t) for t in range(1, 7)] == pytest.approx([0.1, 0.2, 0.3, 0.3, 0.3 / math.sqrt(2), 0.3 / math.sqrt(3)])


def test_batch_size_scaling_rule_and_errors() -> None:
    assert scale_for_batch_size(0.01, 32) == pytest.approx(0.32)
    with pytest.raises(ValueError):
        scale_for_batch_size(0.1, 0)
    with pytest.raises(ValueError):
        StepDecay(0.1, 0.5, 0)


def test_schedules_with_per_instance_rates_drive_sgd() -> None:
    problem = FAMILIES["quadratic-sc"].sample(3, 2, torch.Generator().manual_seed(0))
    oracle = ORACLES["exact"].bind(problem, torch.Generator().manual_seed(1))
    eta0 = (0.5 / problem.constants["H"]).reshape(3, 1, 1)
    schedule = StepDecay(eta0, 0.5, 2)
    trace = run(SGD(schedule), problem, oracle, 4)
    w = problem.w1[:, None, :].clone()
    for t in range(1, 5):
        w = w - schedule(t) * problem.grad(w)
    torch.testing.assert_close(trace.loss[..., -1], problem.loss(w))
