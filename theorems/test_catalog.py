"""Every claim of the catalog as its own pytest item (``pytest theorems/``).

Each item runs the hypothesis search (theorems/engine/hypothesis_search.py): rounds drawn by hypothesis
within the profile's budget, steered towards high tightness with ``target``, then, for sure claims
on parametric families, the gradient adversary from the tightest instances it found; it fails
with the claim, the instance, measured vs bound, the search that found it and the replay command.
"""
from __future__ import annotations

import pytest

from theorems.catalog import CATALOG
from theorems.engine.counterexample import witness_evidence, write_counterexample
from theorems.engine.hypothesis_search import combos, hypothesis_search
from theorems.engine.profiles import PROFILES

CLAIMS = [(spec.id, claim.name) for spec in CATALOG.values() for claim in spec.claims]
PROOF_STEPS = [(spec.id, i) for spec in CATALOG.values() for i in range(len(spec.proof_steps))]


@pytest.mark.parametrize("spec_id, claim_name",
                         [pytest.param(s, c, marks=pytest.mark.theorycheck_claim(s, c), id=f"{s}:{c}") for s, c in CLAIMS])
def test_claim(spec_id: str, claim_name: str, theorycheck_options) -> None:
    spec = CATALOG[spec_id]
    claim = spec.claim(claim_name)
    profile = PROFILES[theorycheck_options.profile]
    assert combos(spec, claim), f"{spec_id} {claim_name}: no registered family satisfies {sorted(spec.assumptions)}"
    outcome = hypothesis_search(spec, claim, profile, theorycheck_options.seed, theorycheck_options.device)
    if outcome.violation is None:
        if not claim.erratum:
            return
        witnessed = witness_evidence(spec, claim)
        if witnessed is None:
            pytest.fail(f"{spec.id} {claim.name} is listed as an erratum ({claim.erratum}) but neither this run nor "
                        f"its stored witness shows a violation", pytrace=False)
        pytest.xfail(f"erratum, as expected ({claim.erratum}); corrected claim: {claim.corrected_by}; "
                     f"witness {claim.witness}: measured {witnessed.measured:.10g} > bound {witnessed.bound:.10g}")
    message = _failure_message(spec, claim, outcome.violation, outcome.threshold, profile,
                               theorycheck_options.counterexamples, outcome.found_by)
    if claim.erratum:
        pytest.xfail(f"erratum, as expected ({claim.erratum}); corrected claim: {claim.corrected_by}\n{message}")
    pytest.fail(message, pytrace=False)


def _failure_message(spec, claim, v, threshold, profile, directory, found_by: str) -> str:
    """The claim, the instance, measured vs bound and the replay command of the final failing round."""
    path = write_counterexample(spec, claim, v, profile, directory)
    return (f"{spec.id} {claim.name} ({claim.kind}) violated: {claim.statement}\n"
            f"  instance {v.instance} of {v.key.family}/{v.key.oracle}, T={v.key.horizon}, d={v.key.dim}"
            f"{'' if v.step is None else f', t={v.step}'}: measured {v.measured:.10g} > bound {v.bound:.10g}"
            f"{'' if v.p_value is None else f' (p = {v.p_value:.3g} < {threshold:.3g})'}"
            f"{(' [' + v.reason + ']') if v.reason else ''} (found by the {found_by} search)\n"
            f"  replay: theorycheck replay {path}")


@pytest.mark.parametrize("spec_id, index", [pytest.param(s, i, marks=pytest.mark.theorycheck_claim(s, f"proof-{i}"),
                                                          id=f"{s}:proof-{i}") for s, i in PROOF_STEPS])
def test_proof_step(spec_id: str, index: int) -> None:
    step = CATALOG[spec_id].proof_steps[index]
    assert step.verify(), f"{spec_id}: sympy does not reduce {step.lhs} - ({step.rhs}) to 0 under {dict(step.subs)}"
