"""Every claim of the catalog as its own pytest item (``pytest theorems/``).

Each item is a hypothesis property: hypothesis draws the rounds (problem family, oracle, horizon
T, dimension, seed; B instances each) within the profile's budget, steers towards high
tightness with ``target``, and fails with the claim, the instance, measured vs bound and the
replay command. Expectation claims are tested at the profile's level divided by the number of
rounds (Bonferroni), so a true claim fails by chance with probability at most that level.
"""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from theorems.catalog import CATALOG
from theorems.counterexample import witness_evidence, write_counterexample
from theorems.profiles import PROFILES
from theorems.rounds import build_round, combinations, derive_seed, evaluate_claim, horizons, round_key

class ClaimViolated(AssertionError):
    """A round found a violation: args are (evidence, per-comparison level)."""


CLAIMS = [(spec.id, claim.name) for spec in CATALOG.values() for claim in spec.claims]
PROOF_STEPS = [(spec.id, i) for spec in CATALOG.values() for i in range(len(spec.proof_steps))]


@pytest.mark.parametrize("spec_id, claim_name",
                         [pytest.param(s, c, marks=pytest.mark.theorycheck_claim(s, c), id=f"{s}:{c}") for s, c in CLAIMS])
def test_claim(spec_id: str, claim_name: str, theorycheck_options) -> None:
    spec = CATALOG[spec_id]
    claim = spec.claim(claim_name)
    setting = spec.setting(claim.setting)
    profile = PROFILES[theorycheck_options.profile]
    combos = combinations(spec, setting)
    assert combos, f"{spec_id} {claim_name}: no registered family satisfies {sorted(spec.assumptions)}"
    budget = profile.rounds * len(profile.horizons) * len(combos)
    level = profile.level / budget

    @settings(max_examples=budget, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), print_blob=False, report_multiple_bugs=False)
    @given(combo=st.sampled_from(combos), horizon=st.sampled_from(horizons(setting, profile)),
           dim=st.sampled_from(profile.dims), draw=st.integers(0, 2 ** 62))
    def run_round(combo, horizon, dim, draw):
        key = round_key(spec, setting, combo, derive_seed(theorycheck_options.seed, draw), horizon, dim, profile,
                        theorycheck_options.device)
        outcome = evaluate_claim(claim, build_round(spec, key), level, profile.rtol, profile.atol)
        if outcome.worst is not None and math.isfinite(outcome.worst.tightness):
            target(outcome.worst.tightness, label="tightness")
        if outcome.violation is not None:
            raise ClaimViolated(outcome.violation, level / max(outcome.comparisons, 1))

    try:
        run_round()
    except ClaimViolated as violated:
        evidence, threshold = violated.args
    else:
        if not claim.erratum:
            return
        witnessed = witness_evidence(spec, claim)
        if witnessed is None:
            pytest.fail(f"{spec.id} {claim.name} is listed as an erratum ({claim.erratum}) but neither this run nor "
                        f"its stored witness shows a violation", pytrace=False)
        pytest.xfail(f"erratum, as expected ({claim.erratum}); corrected claim: {claim.corrected_by}; "
                     f"witness {claim.witness}: measured {witnessed.measured:.10g} > bound {witnessed.bound:.10g}")
    message = _failure_message(spec, claim, evidence, threshold, profile, theorycheck_options.counterexamples)
    if claim.erratum:
        pytest.xfail(f"erratum, as expected ({claim.erratum}); corrected claim: {claim.corrected_by}\n{message}")
    pytest.fail(message, pytrace=False)


def _failure_message(spec, claim, v, threshold, profile, directory) -> str:
    """The claim, the instance, measured vs bound and the replay command of the final failing round."""
    path = write_counterexample(spec, claim, v, profile, directory)
    return (f"{spec.id} {claim.name} ({claim.kind}) violated: {claim.statement}\n"
            f"  instance {v.instance} of {v.key.family}/{v.key.oracle}, T={v.key.horizon}, d={v.key.dim}"
            f"{'' if v.step is None else f', t={v.step}'}: measured {v.measured:.10g} > bound {v.bound:.10g}"
            f"{'' if v.p_value is None else f' (p = {v.p_value:.3g} < {threshold:.3g})'}"
            f"{(' [' + v.reason + ']') if v.reason else ''}\n"
            f"  replay: theorycheck replay {path}")


@pytest.mark.parametrize("spec_id, index", [pytest.param(s, i, marks=pytest.mark.theorycheck_claim(s, f"proof-{i}"),
                                                          id=f"{s}:proof-{i}") for s, i in PROOF_STEPS])
def test_proof_step(spec_id: str, index: int) -> None:
    step = CATALOG[spec_id].proof_steps[index]
    assert step.verify(), f"{spec_id}: sympy does not reduce {step.lhs} - ({step.rhs}) to 0 under {dict(step.subs)}"
