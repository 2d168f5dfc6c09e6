"""Parallel minibatch SGD (Algorithm 13, algorithms/parallel.py) and the equality claims A13 and
S8.1: the iterates by hand, minibatch SGD iterate for iterate on common random numbers, and the
claims failing for a wrong averaging, a wrong schedule, or a bound made smaller."""
from __future__ import annotations

import dataclasses

import pytest
import torch

import algorithms
from algorithms import MinibatchSGD, ParallelMinibatchSGD, SGD
from algorithms.coupled import CommonRandomNumbers
from algorithms.schedules import StepDecay
from problems import FAMILIES, GaussianNoise
from theorems.catalog import CATALOG
from theorems.engine.profiles import PROFILES
from theorems.engine.claims import evaluate_claim
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round
from theorems.engine.seeding import derive_seed
from theorems.language.symbols import coupled_scale

F64 = torch.float64
QUICK = PROFILES["quick"]


def test_algorithm13_by_hand() -> None:
    """L(w) = w^2/2, noise 1, 2, 3, 6 (B = 4, M = 2): g_{t,0} = 2w + 3, g_{t,1} = 2w + 9, g_t = (4w + 12)/4."""
    noise = iter([1.0, 2.0, 3.0, 6.0])
    calls = []

    def oracle(w, m=1):
        calls.append(m)
        return w + sum(next(noise) for _ in range(m)) / m

    w1 = torch.full((1, 1, 1), 2.0, dtype=F64)
    w2, _ = ParallelMinibatchSGD(eta=0.5, workers=2, batch_size=4).step(w1, None, oracle, 1)
    assert calls == [2, 2] and float(w2) == 2 - 0.5 * (4 * 2 + 12) / 4


@pytest.mark.parametrize("workers, per_worker", [(1, 5), (3, 2), (6, 1), (4, 3)])
def test_parallel_minibatch_sgd_is_minibatch_sgd_on_the_same_samples(workers: int, per_worker: int) -> None:
    """Each worker's share of the batch, summed and divided by B, is the minibatch mean: the iterates agree."""
    p = FAMILIES["quadratic-sc"].sample(4, 3, torch.Generator().manual_seed(workers))
    generator = torch.Generator().manual_seed(9)
    crn = CommonRandomNumbers(GaussianNoise().bind(p, generator), generator)
    eta = 0.7 / p.constants["H"][:, None, None]
    w = w2 = p.w1[:, None, :].expand(-1, 2, -1).clone()
    parallel = ParallelMinibatchSGD(eta=eta, workers=workers, per_worker=per_worker)
    minibatch = MinibatchSGD(eta=eta, batch_size=workers * per_worker)
    for t in range(1, 9):
        w, _ = parallel.step(w, None, crn.record, t)
        w2, _ = minibatch.step(w2, None, crn.replay, t)
        torch.testing.assert_close(w, w2, rtol=1e-13, atol=1e-13)


def test_parallel_minibatch_sgd_needs_an_even_split() -> None:
    with pytest.raises(ValueError, match="divide"):
        ParallelMinibatchSGD(eta=0.1, workers=4, batch_size=6)
    with pytest.raises(ValueError, match="not both"):
        ParallelMinibatchSGD(eta=0.1, workers=2, batch_size=4, per_worker=2)


def violated(spec_id: str, claim, family: str, oracle: str, horizon: int, rounds: int = 2) -> bool:
    spec = CATALOG[spec_id]
    for i in range(rounds):
        key = RoundKey(spec.id, claim.setting, family, oracle, derive_seed("can-fail", spec_id, claim.name, i), horizon,
                       2, QUICK.batch_size, QUICK.replicas, "cpu", None)
        if evaluate_claim(claim, build_round(spec, key), QUICK.level, QUICK.rtol, QUICK.atol).violation is not None:
            return True
    return False


EQUALITIES = [("A13", "same-iterates", "least-squares", "finite-sum", 16)] + [
    ("S8.1", c.name, "quadratic-sc", "exact", 64) for c in CATALOG["S8.1"].claims]


@pytest.mark.parametrize("spec_id, name, family, oracle, horizon", EQUALITIES,
                         ids=[f"{s}:{n}" for s, n, *_ in EQUALITIES])
def test_equality_holds_but_fails_with_a_smaller_bound(spec_id: str, name: str, family: str, oracle: str,
                                                       horizon: int) -> None:
    """The endpoints agree to rounding; a bound smaller by a relative 1e-6 of the iterates is violated."""
    claim = CATALOG[spec_id].claim(name)
    assert not violated(spec_id, claim, family, oracle, horizon)
    smaller = dataclasses.replace(claim, bound=claim.bound * (1 - 1e-6))
    assert violated(spec_id, smaller, family, oracle, horizon)


class AveragesByWorkers(ParallelMinibatchSGD):
    """A wrong Algorithm 13: divides the sum of the workers' sums by M instead of B."""

    def step(self, w, state, oracle, t):
        sums = [self.worker_sum(w, oracle) for _ in range(self.workers)]
        return w - self.eta(t) * (torch.stack(sums).sum(0) / self.workers), state


@pytest.mark.parametrize("name, wrong", [
    ("A13", lambda eta, workers, per_worker: AveragesByWorkers(eta, workers, per_worker=per_worker)),
    ("step-decay", lambda eta0, factor, every: SGD(StepDecay(eta0, float(factor.reshape(-1)[0]), 31))),
])
def test_equality_claims_catch_a_wrong_implementation(monkeypatch, name: str, wrong) -> None:
    """Averaging by the number of workers, or decaying every 31 steps instead of 30, is a violation."""
    spec_id, claim_name, algorithm = (("A13", "same-iterates", "ParallelMinibatchSGD") if name == "A13"
                                      else ("S8.1", "step-decay", "SGD-step-decay"))
    monkeypatch.setitem(algorithms.ALGORITHMS, algorithm, wrong)
    claim = CATALOG[spec_id].claim(claim_name)
    family, oracle = ("least-squares", "finite-sum") if name == "A13" else ("quadratic-sc", "exact")
    assert violated(spec_id, claim, family, oracle, 64)


def test_equality_uses_the_iterates_scale() -> None:
    assert CATALOG["A13"].claim("same-iterates").bound == coupled_scale
