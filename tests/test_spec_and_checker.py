"""The spec language fails early on malformed specs; the checker finds real violations."""
from __future__ import annotations

import re

import pytest
import sympy as sp

from theorems.catalog import CATALOG, UnknownResultError, lookup
from theorems.engine.checker import check
from theorems.engine.counterexample import load_counterexample, replay
from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec, SpecError, validate_names
from theorems.language.symbols import D, Delta, G, H, T, eta, sum_grad_sq, sum_subopt


def make(claims, settings=(Setting("s", "GD", hyper={"eta": 1 / H}),), assumptions=("smooth", "lb"), steps=()):
    return Spec("X1", "test", Source("0", 1), frozenset(assumptions), tuple(settings), tuple(claims), tuple(steps))


@pytest.mark.parametrize("build, fragment", [
    (lambda: make([Claim("c", "sure", sum_grad_sq, sp.Symbol("Q"), "s", "")]), "uses ['Q']"),
    (lambda: make([Claim("c", "sometimes", sum_grad_sq, Delta, "s", "")]), "has kind 'sometimes'"),
    (lambda: make([Claim("c", "sure", sum_grad_sq, Delta, "nope", "")]), "refers to setting 'nope'"),
    (lambda: make([Claim("c", "expect", sum_grad_sq, Delta, "s", "")]), "no stochastic oracle"),
    (lambda: make([], settings=(Setting("s", "GD", hyper={"eta": sp.Symbol("c") / H}),)), "undeclared symbols ['c']"),
])
def test_malformed_specs_fail_at_definition_with_the_fix(build, fragment) -> None:
    with pytest.raises(SpecError) as info:
        build()
    assert str(info.value).startswith("X1:") and fragment in str(info.value)


@pytest.mark.parametrize("build, fragment", [
    (lambda: make([], settings=(Setting("s", "Adamax"),)), "names algorithm 'Adamax'"),
    (lambda: make([], assumptions=("smoothish",)), "unknown class tags"),
    (lambda: make([], settings=(Setting("s", "GD", noise=("laplace",)),)), "unknown oracles ['laplace']"),
])
def test_unknown_registry_names_fail_before_the_spec_runs(build, fragment) -> None:
    spec = build()
    with pytest.raises(SpecError) as info:
        validate_names(spec)
    assert str(info.value).startswith("X1:") and fragment in str(info.value)
    with pytest.raises(SpecError, match=re.escape(fragment)):
        check(spec)


def test_every_catalog_spec_names_registered_algorithms_oracles_and_classes() -> None:
    for spec in CATALOG.values():
        validate_names(spec)


def test_lookup_accepts_bare_numbers_and_rejects_unknown_ids() -> None:
    assert lookup("5.8").id == "T5.8" and lookup("t13.3").id == "T13.3" and lookup("L21.8").id == "L21.8"
    with pytest.raises(UnknownResultError):
        lookup("7.7")


def test_every_catalog_proof_step_verifies_and_a_wrong_one_does_not() -> None:
    assert all(step.verify() for spec in CATALOG.values() for step in spec.proof_steps)
    wrong = ProofStep("wrong step size", D ** 2 / (2 * eta) + eta * T * G ** 2 / 2, G * D * sp.sqrt(T),
                      {eta: D / (2 * G * sp.sqrt(T))})
    assert not wrong.verify()


def test_a_bound_too_small_by_half_is_violated_and_replays(tmp_path) -> None:
    spec = make([Claim("half", "sure", sum_grad_sq, Delta / eta, "s", "half of Theorem 5.8's bound")])
    result = check(spec, counterexample_dir=tmp_path)
    claim = result.claims[0]
    assert claim.verdict == "violated" and claim.violation.measured > claim.violation.bound
    document = load_counterexample(claim.counterexample)
    again = replay(document, spec)
    assert again.violated and again.measured == claim.violation.measured


def test_a_true_claim_holds_with_tightness_at_most_one(tmp_path) -> None:
    spec = make([Claim("t58", "sure", sum_grad_sq, 2 * Delta / eta, "s", "Theorem 5.8")])
    claim = check(spec, counterexample_dir=tmp_path).claims[0]
    assert claim.verdict == "holds" and 0 < claim.tightness <= 1 + 1e-9 and claim.instances > 0


def test_an_expectation_bound_too_small_by_half_is_violated(tmp_path) -> None:
    """Theorem 3.2's bound halved: SGD's expected regret exceeds it on some instance."""
    spec = make([Claim("half", "expect", sum_subopt, G * D * sp.sqrt(T) / 2, "g", "half of Theorem 3.2's bound")],
                settings=(Setting("g", "SGD", hyper={"eta": D / (G * sp.sqrt(T))}, noise=("sphere",)),),
                assumptions=("cvx", "bdd", "minimizer"))
    claim = check(spec, counterexample_dir=tmp_path).claims[0]
    assert claim.verdict == "violated" and claim.violation.p_value is not None
    assert claim.violation.lower > 1  # the lower confidence bound of measured / bound is above 1


def test_no_admissible_family_is_not_applicable(tmp_path) -> None:
    spec = make([Claim("c", "sure", sum_grad_sq, 2 * Delta / eta, "s", "")], assumptions=("sc", "lip"))
    claim = check(spec, counterexample_dir=tmp_path).claims[0]
    assert claim.verdict == "not-applicable" and claim.instances == 0


def test_finite_sums_are_evaluated_exactly() -> None:
    import torch

    from theorems.language.evaluate import evaluate
    t, c = sp.Symbol("t", positive=True, integer=True), sp.Symbol("c", positive=True)
    like = torch.zeros(2, 1, 1, dtype=torch.float64)
    values = {"T": torch.tensor(5.0, dtype=torch.float64), "c": torch.tensor([[[1.0]], [[3.0]]], dtype=torch.float64)}
    got = evaluate(sp.Sum(c ** 2 / t, (t, 1, T)) + sp.Sum(t, (t, 2, T)), values, like)[:, 0, 0].tolist()
    harmonic = sum(1 / k for k in range(1, 6))
    assert got == pytest.approx([harmonic + 14, 9 * harmonic + 14], rel=1e-15)


def test_gaussian_oracle_second_moment_bound_on_lipschitz_losses() -> None:
    """E||g||^2 = ||grad L||^2 + sigma^2 <= G_L^2 + sigma^2 = G^2 (class m2 of Theorem 6.2)."""
    import torch

    from problems import FAMILIES, GaussianNoise
    problem = FAMILIES["cosine-wells"].sample(4, 3, torch.Generator().manual_seed(1))
    oracle = GaussianNoise().bind(problem, torch.Generator().manual_seed(2))
    assert "m2" in oracle.classes
    torch.testing.assert_close(oracle.constants["G"] ** 2, problem.constants["G"] ** 2 + oracle.constants["sigma"] ** 2)
    w = problem.w1[:, None, :].expand(4, 20000, 3)
    second_moment = oracle.sample(w).square().sum(-1).mean(1)
    exact = problem.grad(w[:, :1]).square().sum(-1)[:, 0] + oracle.constants["sigma"] ** 2
    assert torch.allclose(second_moment, exact, rtol=0.05)
    quadratic = FAMILIES["quadratic-sc"].sample(2, 3, torch.Generator().manual_seed(3))
    assert "m2" not in GaussianNoise().bind(quadratic, torch.Generator()).classes


def test_an_erratum_needs_its_correction_and_an_existing_witness() -> None:
    with pytest.raises(SpecError, match="needs both"):
        make([Claim("c", "sure", sum_grad_sq, Delta / eta, "s", "", erratum="halved")])
    with pytest.raises(SpecError, match="witness"):
        make([Claim("c", "sure", sum_grad_sq, Delta / eta, "s", "", erratum="halved", corrected_by="d",
                    witness="/no/such/file.json"),
              Claim("d", "sure", sum_grad_sq, 2 * Delta / eta, "s", "")])


def test_a_falsified_erratum_is_reported_as_erratum_not_violation(tmp_path) -> None:
    spec = make([Claim("half", "sure", sum_grad_sq, Delta / eta, "s", "", erratum="the 2 is missing",
                       corrected_by="full"),
                 Claim("full", "sure", sum_grad_sq, 2 * Delta / eta, "s", "")])
    result = check(spec, counterexample_dir=tmp_path)
    assert [c.verdict for c in result.claims] == ["erratum", "holds"]
    assert result.claims[0].counterexample and not result.violated


def test_the_stored_T7_2_witness_replays_as_a_violation() -> None:
    from theorems.engine.counterexample import witness_evidence
    spec = CATALOG["T7.2"]
    evidence = witness_evidence(spec, spec.claim("tuned-random-iterate"))
    assert evidence is not None and evidence.measured > evidence.bound
