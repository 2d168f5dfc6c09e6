"""Measure the checker's false-alarm rate and power on a claim whose bound is attained exactly.

The claim: one SGD step with eta = 1/H from any w1 on a 1-D H-smooth quadratic with Gaussian
noise of variance sigma^2 lands at w2 - w* = -z/H, so E[L(w2) - L*] = sigma^2/(2H) exactly
(and L(w2) - L* is a scaled chi-square with one degree of freedom: strongly skewed). Checking
``E[L(w2) - L*] <= factor * sigma^2/(2H)`` is a true, attained claim for factor = 1 (every
rejection is a false alarm) and a 5% violation for factor = 1/1.05 (every rejection is a detection).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from theorems.engine.claims import evaluate_claim

from theorems.engine.round_data import RoundKey

from theorems.engine.rounds import build_round

from theorems.engine.seeding import derive_seed
from theorems.language.spec import Claim, Setting, Source, Spec
from theorems.language.symbols import H, last_subopt, sigma

_k = sp.Symbol("k", positive=True)


def attained_spec(factor: float) -> Spec:
    """The calibration claim with its bound multiplied by ``factor``."""
    return Spec(
        id="CAL", title="Calibration: E[L(w2) - L*] = sigma^2/(2H) after one SGD step with eta = 1/H",
        source=Source(section="calibration", line=0),
        assumptions=frozenset({"sc", "smooth", "var"}),
        settings=(Setting("one-step", "SGD", hyper={"eta": 1 / H}, free={"k": (factor, factor)}, noise=("gaussian",)),),
        claims=(Claim("attained", "expect", last_subopt, _k * sigma ** 2 / (2 * H), "one-step",
                      "E[L(w2) - L*] <= k sigma^2/(2H)"),),
    )


@dataclass(frozen=True)
class RejectionRate:
    """How often the checker declared the calibration claim violated."""

    factor: float
    replicas: int
    batch_size: int
    repetitions: int
    rejections: int
    level: float

    @property
    def rate(self) -> float:
        return self.rejections / self.repetitions


def rejection_rate(factor: float, *, replicas: int, batch_size: int, repetitions: int, level: float,
                   seed: int = 0) -> RejectionRate:
    """Check the calibration claim ``repetitions`` times (each a round of ``batch_size`` instances
    at family-wise ``level``) and count the rounds declared violated."""
    spec = attained_spec(factor)
    claim = spec.claims[0]
    rejections = 0
    for r in range(repetitions):
        key = RoundKey(spec.id, "one-step", "quadratic-sc", "gaussian", derive_seed(seed, factor, replicas, r), 1, 1,
                       batch_size, replicas, "cpu", None)
        outcome = evaluate_claim(claim, build_round(spec, key), level, rtol=1e-9, atol=1e-12)
        rejections += outcome.violation is not None
    return RejectionRate(factor, replicas, batch_size, repetitions, rejections, level)
