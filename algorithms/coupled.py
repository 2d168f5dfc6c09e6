"""Coupled runs: two algorithms on the same instances from the same w1, optionally on the same
samples z (common random numbers), as in section 8.2's comparison of B steps of SGD with one
step of batch-B SGD.

The coupling works for any oracle whose draws come from one ``torch.Generator``: the first run's
oracle calls are split into single draws and the generator state before each is remembered; the
second run's k-th single draw replays the k-th state at its own point, so both see the same z_k.
"""
from __future__ import annotations

import dataclasses
from typing import Iterable

import torch

from algorithms.protocol import Algorithm

from algorithms.run import FIELDS, ProtocolError, Trace, run
from problems import BoundOracle, ProblemBatch

Tensor = torch.Tensor


class CommonRandomNumbers:
    """``record`` draws stochastic gradients and remembers each draw's generator state; ``replay``
    evaluates the same draws, in order, at other points."""

    def __init__(self, oracle: BoundOracle, generator: torch.Generator) -> None:
        self.oracle, self.generator = oracle, generator
        self.states: list[Tensor] = []
        self.replayed = 0

    def record(self, w: Tensor, m: int = 1) -> Tensor:
        """The mean of m fresh single draws at w (a minibatch), each draw's state remembered."""
        total = torch.zeros_like(w)
        for _ in range(m):
            self.states.append(self.generator.get_state())
            total = total + self.oracle.sample(w, 1)
        return total / m

    def replay(self, w: Tensor, m: int = 1) -> Tensor:
        """The mean of the next m recorded draws, evaluated at w; the generator then continues
        where it was, so later draws stay fresh."""
        if self.replayed + m > len(self.states):
            raise ProtocolError(f"the comparison run replays the samples of the run under test, and needs "
                                f"{self.replayed + m} of them, but the algorithm under test drew only "
                                f"{len(self.states)}: in a coupled setting an algorithm must draw, like the spec's, "
                                "one stochastic gradient oracle(w) per step")
        resume = self.generator.get_state()
        total = torch.zeros_like(w)
        for state in self.states[self.replayed:self.replayed + m]:
            self.generator.set_state(state)
            total = total + self.oracle.sample(w, 1)
        self.replayed += m
        self.generator.set_state(resume)
        return total / m


class PairedSamples:
    """An oracle that can also evaluate one sample z at two points: ``paired(w_a, w_b, m)`` returns
    (g(w_a, z), g(w_b, z)) for the same fresh z (the generator state is replayed for the second
    point, and then stands where one draw leaves it), as variance-reduced estimates
    grad l(w_t, z_t) - grad l(w_{t-1}, z_t) need (section 24.1). Calls and other attributes (a
    finite-sum sampler's ``term_grad``) pass through to the wrapped ``sample``."""

    def __init__(self, sample, generator: torch.Generator) -> None:
        self.sample, self.generator = sample, generator

    def __call__(self, w: Tensor, m: int = 1) -> Tensor:
        return self.sample(w, m)

    def paired(self, w_a: Tensor, w_b: Tensor, m: int = 1) -> tuple[Tensor, Tensor]:
        state = self.generator.get_state()
        first = self.sample(w_a, m)
        self.generator.set_state(state)
        return first, self.sample(w_b, m)

    def __getattr__(self, name: str) -> object:
        return getattr(self.sample, name)


def run_coupled(algorithm: Algorithm, other: Algorithm, problem: ProblemBatch, oracle: BoundOracle,
                generator: torch.Generator, horizon: int, other_horizon: int, replicas: int = 1,
                shared_samples: bool = True, noise_variance: bool = False,
                record: Iterable[str] = FIELDS) -> tuple[Trace, Trace]:
    """Run ``algorithm`` for ``horizon`` steps and ``other`` for ``other_horizon`` steps from the same
    w1 on every instance and replica; ``generator`` is the one ``oracle`` draws from. With
    ``shared_samples`` the second run's k-th single draw reuses the first run's k-th sample
    (scaled by the second run's own sigma_t for a time-varying oracle). ``noise_variance`` records
    both runs' ``Trace.noise_var`` and ``record`` names the fields both traces record (algorithms.run)."""
    if not shared_samples:
        return (run(algorithm, problem, oracle, horizon, replicas, noise_variance=noise_variance, record=record),
                run(other, problem, oracle, other_horizon, replicas, noise_variance=noise_variance, record=record))
    crn = CommonRandomNumbers(oracle, generator)
    first = run(algorithm, problem, dataclasses.replace(oracle, sample=crn.record), horizon, replicas,
                noise_variance=noise_variance, record=record)
    second = run(other, problem, dataclasses.replace(oracle, sample=crn.replay), other_horizon, replicas,
                 noise_variance=noise_variance, record=record)
    return first, second
