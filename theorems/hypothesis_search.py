"""The hypothesis search: rounds drawn by hypothesis and steered towards high tightness with
``target`` (issue 4's first adversary; ``pytest theorems/`` runs every claim through it).

Hypothesis draws the rounds (problem family, oracle, horizon T, dimension, seed; B instances
each) within the profile's budget. Expectation claims are tested at the profile's level divided
by the number of rounds (Bonferroni), so a true claim fails by chance with probability at most
that level. The search stops at the first violation, which hypothesis then shrinks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from theorems.profiles import Profile
from theorems.rounds import Evidence, build_round, combinations, derive_seed, evaluate_claim, round_key
from theorems.rounds import horizons as setting_horizons
from theorems.spec import Claim, Spec

HYPOTHESIS_SEARCH = "hypothesis"


class _Violated(Exception):
    """A round found a violation: args are (evidence, per-comparison level)."""


@dataclass(frozen=True)
class HypothesisOutcome:
    """The tightest evidence seen, the violation hypothesis ended on (if any) with the
    per-comparison level it was judged at, and the number of rounds run."""

    worst: Evidence | None
    violation: Evidence | None
    threshold: float
    rounds: int


def combos(spec: Spec, claim: Claim, families: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """What the claim's setting runs on (theorems.rounds.combinations)."""
    return combinations(spec, spec.setting(claim.setting), families)


def hypothesis_search(spec: Spec, claim: Claim, profile: Profile, seed: int = 0, device: str = "cpu",
                      families: Iterable[str] | None = None, horizons: tuple[int, ...] | None = None) -> HypothesisOutcome:
    """Run the profile's budget of rounds (rounds x horizons x admissible pairs) chosen by
    hypothesis, maximising tightness with ``target``."""
    setting = spec.setting(claim.setting)
    pairs = combos(spec, claim, families)
    if not pairs:
        return HypothesisOutcome(None, None, math.nan, 0)
    horizons = setting_horizons(setting, profile) if setting.pointwise or not horizons else horizons
    budget = profile.rounds * len(profile.horizons) * len(pairs)
    level = profile.level / budget
    seen: dict[str, object] = {"worst": None, "rounds": 0}

    @settings(max_examples=budget, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), print_blob=False, report_multiple_bugs=False)
    @given(combo=st.sampled_from(pairs), horizon=st.sampled_from(horizons), dim=st.sampled_from(profile.dims),
           draw=st.integers(0, 2 ** 62))
    def run_round(combo, horizon, dim, draw):
        key = round_key(spec, setting, combo, derive_seed(seed, draw), horizon, dim, profile, device)
        outcome = evaluate_claim(claim, build_round(spec, key), level, profile.rtol, profile.atol)
        seen["rounds"] = int(seen["rounds"]) + 1
        worst = outcome.worst
        if worst is not None and math.isfinite(worst.tightness):
            target(worst.tightness, label="tightness")
            if seen["worst"] is None or worst.tightness > seen["worst"].tightness:
                seen["worst"] = worst
        if outcome.violation is not None:
            raise _Violated(outcome.violation, level / max(outcome.comparisons, 1))

    try:
        run_round()
    except _Violated as violated:
        evidence, threshold = violated.args
        return HypothesisOutcome(seen["worst"], evidence, threshold, int(seen["rounds"]))
    return HypothesisOutcome(seen["worst"], None, math.nan, int(seen["rounds"]))
