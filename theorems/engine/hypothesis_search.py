"""The hypothesis search: rounds drawn by hypothesis and steered towards high tightness with
``target`` (issue 4's first adversary; ``pytest theorems/`` runs every claim through it).

Hypothesis draws the rounds (problem family, oracle, horizon T, dimension, seed; B instances
each) within the profile's budget. Expectation claims are tested at the profile's level divided
by the number of rounds (Bonferroni), so a true claim fails by chance with probability at most
that level. The search stops at the first violation, which hypothesis then shrinks. When it
finds none, the gradient adversary (theorems/engine/adversaries.py) ascends from the tightest instance
hypothesis found for each (family, oracle) pair, within the profile's gradient budget, so
``pytest theorems/`` runs sure claims of parametric families through both searches.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from theorems.engine.adversaries import GRADIENT_SEARCH, gradient_search
from theorems.engine.profiles import Profile
from theorems.engine.claims import Evidence, evaluate_claim
from theorems.engine.plan import combinations, round_key
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_shared_round
from theorems.engine.seeding import derive_seed
from theorems.engine.plan import horizons as setting_horizons
from theorems.language.spec import Claim, Spec

HYPOTHESIS_SEARCH = "hypothesis"


class _Violated(Exception):
    """A round found a violation: args are (evidence, per-comparison level)."""


@dataclass(frozen=True)
class HypothesisOutcome:
    """The tightest evidence seen, the violation the search ended on (if any) with the
    per-comparison level it was judged at, the number of hypothesis rounds run, and which search
    found the violation, or else the tightest evidence (``hypothesis`` or ``gradient``)."""

    worst: Evidence | None
    violation: Evidence | None
    threshold: float
    rounds: int
    found_by: str = HYPOTHESIS_SEARCH


def combos(spec: Spec, claim: Claim, families: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """What the claim's setting runs on (theorems.engine.rounds.combinations)."""
    return combinations(spec, spec.setting(claim.setting), families)


def hypothesis_search(spec: Spec, claim: Claim, profile: Profile, seed: int = 0, device: str = "cpu",
                      families: Iterable[str] | None = None, horizons: tuple[int, ...] | None = None,
                      gradient: bool = True) -> HypothesisOutcome:
    """Run the profile's budget of rounds (rounds x horizons x admissible pairs) chosen by
    hypothesis, maximising tightness with ``target``; then, unless ``gradient`` is False or a
    violation was found, the gradient adversary from each pair's tightest instance."""
    setting = spec.setting(claim.setting)
    pairs = combos(spec, claim, families)
    if not pairs:
        return HypothesisOutcome(None, None, math.nan, 0)
    horizons = setting_horizons(setting, profile) if setting.pointwise or not horizons else horizons
    budget = profile.rounds * len(profile.horizons) * len(pairs)
    level = profile.level / (budget + len(pairs))
    seen: dict[str, object] = {"worst": None, "rounds": 0}
    best_rounds: dict[tuple[str, str], tuple[RoundKey, int]] = {}
    best_tightness: dict[tuple[str, str], float] = {}

    @settings(max_examples=budget, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), print_blob=False, report_multiple_bugs=False)
    @given(combo=st.sampled_from(pairs), horizon=st.sampled_from(horizons), dim=st.sampled_from(profile.dims),
           draw=st.integers(0, 2 ** 62))
    def run_round(combo, horizon, dim, draw):
        key = round_key(spec, setting, combo, derive_seed(seed, draw), horizon, dim, profile, device)
        data = build_shared_round(spec, key, [claim])  # None: no instance meets the claim's condition
        seen["rounds"] = int(seen["rounds"]) + 1
        if data is None:
            return
        outcome = evaluate_claim(claim, data, level, profile.rtol, profile.atol)
        worst = outcome.worst
        if worst is not None and math.isfinite(worst.tightness):
            target(worst.tightness, label="tightness")
            if seen["worst"] is None or worst.tightness > seen["worst"].tightness:
                seen["worst"] = worst
            best = best_rounds.get(combo)
            if best is None or worst.tightness > best_tightness[combo]:
                best_rounds[combo], best_tightness[combo] = (key, worst.instance), worst.tightness
        if outcome.violation is not None:
            raise _Violated(outcome.violation, level / max(outcome.comparisons, 1))

    try:
        run_round()
    except _Violated as violated:
        evidence, threshold = violated.args
        return HypothesisOutcome(seen["worst"], evidence, threshold, int(seen["rounds"]))
    worst, found_by = seen["worst"], HYPOTHESIS_SEARCH
    for ascent in (gradient_search(spec, claim, best_rounds, profile, level) if gradient else []):
        if ascent.outcome.violation is not None:
            return HypothesisOutcome(ascent.outcome.worst, ascent.outcome.violation,
                                     level / max(ascent.outcome.comparisons, 1), int(seen["rounds"]), GRADIENT_SEARCH)
        if ascent.outcome.worst is not None and (worst is None or ascent.outcome.worst.tightness > worst.tightness):
            worst, found_by = ascent.outcome.worst, GRADIENT_SEARCH
    return HypothesisOutcome(worst, None, math.nan, int(seen["rounds"]), found_by)
