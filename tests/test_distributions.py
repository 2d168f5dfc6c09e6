"""Distribution settings (Propositions 10.4-10.6, Lemma 10.2, Appendix A): the generators, the
exact expectations against independent Monte Carlo and numpy, the non-increasing functions'
integrals against scipy quadrature, and every new claim failing once its bound is weakened the
wrong way (theorems.engine.checker on a modified spec)."""
from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from scipy import integrate

from problems.decreasing import DECREASING
from problems.distributions import DISTRIBUTIONS, DistributionBatch
from problems.strategies import distribution_batches
from theorems.engine import distribution_rounds as dr
from theorems.catalog import CATALOG
from theorems.engine.checker import check, round_keys
from theorems.frontends.cli import main
from theorems.engine.counterexample import load_counterexample, replay
from theorems.engine.profiles import PROFILES, Profile
from theorems.engine.seeding import derive_seed
from theorems.language.spec import Claim, Setting, Source, Spec, SpecError
from theorems.language.symbols import E_X1, F_end, G, Ef_X, P_dev_ge_y, sum_grad_sq, var_X1, y

F64 = torch.float64
NEW_IDS = ("L10.2", "P10.4", "P10.5", "P10.6", "PA.1", "PA.2", "PA.3", "CA.4", "PA.5")
SMALL = Profile("small", batch_size=32, replicas=1, rounds=1, horizons=(1, 4, 16), dims=(1, 2, 3))


@settings(max_examples=60, deadline=None)
@given(batch=distribution_batches())
def test_weights_are_probabilities_and_the_classes_hold(batch: DistributionBatch) -> None:
    w = batch.weights.numpy()
    assert (w >= 0).all() and np.allclose(w.sum(-1), 1.0, rtol=0, atol=1e-12)
    assert np.isfinite(batch.atoms.numpy()).all() and (batch.mass.numpy() > 0).all()
    if "nonneg" in batch.classes:
        assert (batch.atoms.numpy() >= 0).all()
    values = dr.moments(batch)
    probs = dr.probabilities(batch, values["E_X1"], values["thr"])
    for p in probs.values():
        assert ((p >= -1e-12) & (p <= 1 + 1e-12)).all()
    assert (values["thr"] > 0).all()


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_exact_expectations_match_monte_carlo_and_numpy(name: str) -> None:
    batch = DISTRIBUTIONS[name].sample(3, 6, 3, torch.Generator().manual_seed(7))
    values = dr.moments(batch)
    probs = dr.probabilities(batch, values["E_X1"], values["thr"])
    rng = np.random.default_rng(11)
    n = 200_000
    for b in range(3):
        x, p, Y = batch.atoms[b].numpy(), batch.weights[b].numpy(), batch.point[b].numpy()
        p = p / p.sum()
        mean = np.average(x, axis=0, weights=p)
        # numpy, independently: second moments and the bias-variance pieces
        assert values["var_X"][b].item() == pytest.approx(np.average(((x - mean) ** 2).sum(-1), weights=p), rel=1e-9, abs=1e-300)
        assert values["E_sq_dist_Y"][b].item() == pytest.approx(np.average(((x - Y) ** 2).sum(-1), weights=p), rel=1e-9)
        assert values["bias_sq"][b].item() == pytest.approx(((Y - mean) ** 2).sum(), rel=1e-9, abs=1e-12 * (Y ** 2).sum())
        assert values["E_AB"][b].item() == pytest.approx(np.average(x[:, 0] * x[:, -1], weights=p), rel=1e-9, abs=1e-300)
        # Monte Carlo: the mean of X_1 and the probabilities at every threshold, within 6 standard errors
        draws = x[rng.choice(len(p), size=n, p=p)]
        sd = math.sqrt(max(np.average((x[:, 0] - mean[0]) ** 2, weights=p), 0.0))
        assert abs(draws[:, 0].mean() - values["E_X1"][b].item()) <= 6 * sd / math.sqrt(n) + 1e-12 * abs(mean[0])
        thresholds = values["thr"][b, 0].numpy()
        mc = (draws[:, :1] >= thresholds[None, :]).mean(0)
        assert np.all(np.abs(mc - probs["P_X_ge_y"][b, 0].numpy()) <= 6 * 0.5 / math.sqrt(n))
        mc_dev = (np.abs(draws[:, :1] - mean[0]) >= thresholds[None, :]).mean(0)
        exact_dev = probs["P_dev_ge_y"][b, 0].numpy()
        ties = np.isclose(np.abs(x[:, 0] - mean[0])[:, None], thresholds[None, :], rtol=1e-12).any(0)
        assert np.all((np.abs(mc_dev - exact_dev) <= 6 * 0.5 / math.sqrt(n)) | ties)


def _hand_batch() -> DistributionBatch:
    atoms = torch.tensor([[[0.0, 1.0], [2.0, -1.0], [4.0, 3.0], [-1.0, 0.5]]], dtype=F64)
    weights = torch.tensor([[0.5, 0.25, 0.25, 0.0]], dtype=F64)
    return DistributionBatch("hand", frozenset(), atoms, weights, torch.tensor([[1.0, 1.0]], dtype=F64),
                             torch.tensor([2.0], dtype=F64))


def test_vocabulary_on_a_hand_written_distribution() -> None:
    batch = _hand_batch()
    x, p, Y = batch.atoms[0].numpy(), batch.weights[0].numpy(), batch.point[0].numpy()
    values = dr.moments(batch)
    mean = (p[:, None] * x).sum(0)
    assert mean.tolist() == [1.5, 1.0] and values["E_X1"].item() == 1.5
    assert values["var_X1"].item() == pytest.approx(np.var(np.repeat(x[:3, 0], [2, 1, 1])), rel=1e-15)
    assert values["var_X"].item() == pytest.approx(np.var(np.repeat(x[:3], [2, 1, 1], axis=0), axis=0).sum(), rel=1e-15)
    assert values["E_sq_dist_Y"].item() == pytest.approx((p * ((x - Y) ** 2).sum(-1)).sum(), rel=1e-15)
    assert values["bias_sq"].item() == pytest.approx(0.5 ** 2 + 0.0 ** 2, rel=1e-15)
    assert values["E_AB"].item() == pytest.approx(0.25 * (2 * -1) + 0.25 * (4 * 3), rel=1e-15)
    assert values["E_A_sq"].item() == pytest.approx(0.25 * 4 + 0.25 * 16, rel=1e-15)
    assert values["norm_x"][0, 0].numpy() == pytest.approx(np.linalg.norm(x, axis=-1), rel=1e-15)
    assert values["inner_xY"][0, 0].numpy() == pytest.approx(x @ Y, rel=1e-15)
    # thresholds: |x_k1| (a zero replaced by 1), then |x_k1 - E X_1|
    assert values["thr"][0, 0].tolist() == [1.0, 2.0, 4.0, 1.0, 1.5, 0.5, 2.5, 2.5]
    probs = dr.probabilities(batch, values["E_X1"], torch.tensor([[[2.0, 0.5]]], dtype=F64))
    assert probs["P_X_ge_y"][0, 0].tolist() == [0.5, 0.5]           # X_1 >= 2: atoms 2, 4
    assert probs["P_Xd_le_neg_y"][0, 0].tolist() == [0.0, 0.25]     # X_2 <= -0.5: atom (2, -1)
    assert probs["P_union"][0, 0].tolist() == [0.5, 0.5]             # (2, -1) is in both events
    assert probs["P_dev_ge_y"][0, 0].tolist() == [0.25, 1.0]        # |X_1 - 1.5| >= 2: atom 4 only
    jensen = dr.jensen_values(batch, lambda w: w.square().sum(-1))
    assert jensen["Ef_X"].item() == pytest.approx((p * (x ** 2).sum(-1)).sum(), rel=1e-15)
    assert jensen["f_EX"].item() == pytest.approx((mean ** 2).sum(), rel=1e-15)
    assert jensen["sum_f_atoms"].item() == pytest.approx((x ** 2).sum(), rel=1e-15)
    assert jensen["f_xbar_notes"].item() == pytest.approx(((x.sum(0) / 2.0) ** 2).sum(), rel=1e-15)


def test_sequence_values_on_a_hand_written_sequence() -> None:
    """x = (0, 2, 4, -1) is not a valid Lemma 10.2 sequence, but the symbols are plain sums:
    sum_{t>=1} x_t f(S_t) with S = (0, 2, 6, 5), and F at S_T and x_0."""
    batch = _hand_batch()
    seq = dr.sequence_values(batch, lambda S: torch.exp(-S), lambda S: -torch.exp(-S))
    S = np.cumsum([0.0, 2.0, 4.0, -1.0])
    assert seq["sum_xf"].item() == pytest.approx(2 * math.exp(-2) + 4 * math.exp(-6) - math.exp(-5), rel=1e-15)
    assert seq["F_end"].item() == pytest.approx(-math.exp(-S[-1])) and seq["F_start"].item() == -1.0


@pytest.mark.parametrize("name", sorted(DECREASING))
def test_decreasing_functions_have_exact_integrals_and_do_not_increase(name: str) -> None:
    functions = DECREASING[name].sample(4, torch.Generator().manual_seed(3))
    grid = torch.linspace(0, 50, 2001, dtype=F64).expand(4, -1)
    f = functions.f(grid).numpy()
    assert np.all(np.diff(f, axis=-1) <= 1e-12 * np.abs(f[:, :-1]))
    for b in range(4):
        for a_, b_ in ((0.0, 0.3), (0.5, 7.0), (3.0, 40.0)):
            fb = lambda s: functions.f(torch.full((4, 1), s, dtype=F64))[b, 0].item()  # noqa: E731
            quad, err = integrate.quad(fb, a_, b_, epsabs=1e-13, epsrel=1e-12)
            ends = functions.F(torch.tensor([[a_, b_]], dtype=F64).expand(4, -1))[b].numpy()
            assert ends[1] - ends[0] == pytest.approx(quad, rel=1e-9, abs=1e-12)


def _weakened(spec: Spec, claim: Claim) -> Spec:
    """The spec with only ``claim``, its bound lowered by half its absolute value: halved where
    the bound is a non-negative quantity (a bound that overflows to inf stays inf), minus half
    its absolute value where it can be negative (an integral or a convex function's value)."""
    signed = claim.bound.has(Ef_X) or claim.bound.has(F_end)
    bound = claim.bound - sp.Abs(claim.bound) / 2 if signed else claim.bound / 2
    wrong = dataclasses.replace(claim, bound=bound, erratum=None,
                                corrected_by=None, witness=None)
    return dataclasses.replace(spec, claims=(wrong,))


_CLAIMS = [(i, c.name) for i in NEW_IDS for c in CATALOG[i].claims if not c.erratum]


@pytest.mark.parametrize("spec_id, claim_name", _CLAIMS, ids=[f"{i}:{c}" for i, c in _CLAIMS])
def test_each_claim_fails_when_its_bound_is_weakened_the_wrong_way(spec_id, claim_name, tmp_path) -> None:
    spec = CATALOG[spec_id]
    claim = spec.claim(claim_name)
    assert check(dataclasses.replace(spec, claims=(claim,)), profile=SMALL, counterexample_dir=tmp_path
                 ).claims[0].verdict == "holds"
    result = check(_weakened(spec, claim), profile=SMALL, counterexample_dir=tmp_path).claims[0]
    assert result.verdict == "violated", f"{spec_id} {claim_name}: half the bound still holds (tightness {result.tightness})"
    assert result.violation.measured > result.violation.bound


def test_markov_with_half_the_bound_is_violated_and_replays_identically(tmp_path) -> None:
    spec = CATALOG["PA.1"]
    half = dataclasses.replace(spec, claims=(dataclasses.replace(spec.claim("markov"), bound=E_X1 / (2 * y)),))
    result = check(half, profile=SMALL, counterexample_dir=tmp_path).claims[0]
    assert result.verdict == "violated"
    document = load_counterexample(result.counterexample)
    assert document["round"]["family"] in DISTRIBUTIONS and document["round"]["oracle"] == "none"
    again = replay(document, half)
    assert again.violated and again.measured == result.violation.measured and again.bound == result.violation.bound


@pytest.mark.parametrize("spec_id", ["CA.4", "PA.2"])
def test_cli_replays_a_fresh_erratum_counterexample_to_the_same_value(spec_id, capsys, tmp_path) -> None:
    assert main(["check", spec_id, "--quiet", "--format", "json", "--counterexamples", str(tmp_path)]) == 0
    as_written = json.loads(capsys.readouterr().out)["claims"][0]
    assert as_written["verdict"] == "erratum"
    assert main(["replay", as_written["counterexample"], "--format", "json"]) == 1
    replayed = json.loads(capsys.readouterr().out)
    assert replayed["violated"] and replayed["measured"] == replayed["recorded_measured"] == as_written["violation"]["measured"]


def test_round_enumeration_is_shared_and_keeps_the_seeds() -> None:
    profile = PROFILES["quick"]
    jensen = round_keys(CATALOG["PA.3"], CATALOG["PA.3"].claims[0], profile, 0, "cpu", "torch.optim.SGD")
    assert {k.family for k in jensen} == set(DISTRIBUTIONS) and {k.oracle for k in jensen} == {"cvx"}
    assert all(k.algorithm is None and k.replicas == 1 for k in jensen)
    assert len(jensen) == len(DISTRIBUTIONS) * profile.rounds * len(profile.horizons)
    markov = round_keys(CATALOG["PA.1"], CATALOG["PA.1"].claims[0], profile, 0, "cpu", None)
    assert {k.family for k in markov} == {n for n, g in DISTRIBUTIONS.items() if "nonneg" in g.classes}
    spec = CATALOG["T5.8"]
    keys = round_keys(spec, spec.claims[0], profile, 0, "cpu", None)
    assert keys and all(k.seed == derive_seed(0, spec.id, k.setting, k.family, k.oracle, k.horizon, r)
                        for k, r in zip(keys, [i % profile.rounds for i in range(len(keys))]))


def test_a_distribution_round_replays_bit_for_bit() -> None:
    from theorems.engine.plan import round_key
    from theorems.engine.rounds import build_round
    spec = CATALOG["PA.3"]
    key = round_key(spec, spec.settings[0], ("near-degenerate", "cvx"), 123, 16, 3, PROFILES["quick"], "cpu")
    first, second = build_round(spec, key), build_round(spec, key)
    assert first.values.keys() == second.values.keys()
    assert all(torch.equal(first.values[n], second.values[n]) for n in first.values)
    assert first.problem.describe(0)["function"] in dr.functions("cvx")


def _distribution_spec(claims, setting=Setting("d", "distribution")) -> Spec:
    return Spec("X9", "test", Source("0", 1), frozenset(), (setting,), tuple(claims))


@pytest.mark.parametrize("build, fragment", [
    (lambda: _distribution_spec([Claim("c", "expect", P_dev_ge_y, var_X1 / y ** 2, "d", "")]), "exact weighted sums"),
    (lambda: _distribution_spec([], Setting("d", "distribution", noise=("gaussian",))), "takes no oracles"),
    (lambda: _distribution_spec([Claim("c", "sure", sum_grad_sq, Ef_X, "d", "")]), "uses ['sum_grad_sq']"),
    (lambda: _distribution_spec([], Setting("d", "distribution", hyper={"y": G})), "undeclared symbols ['G']"),
])
def test_malformed_distribution_specs_fail_at_definition(build, fragment) -> None:
    with pytest.raises(SpecError) as info:
        build()
    assert fragment in str(info.value)


def test_identity_tightness_histogram_does_not_fail() -> None:
    """An identity's tightness values lie within a few ulps of 1 (P10.4): the report still plots them."""
    from theorems.frontends.report_plots import claim_figure
    assert claim_figure("P10.4", [1.0, 1.0 + 2 ** -52, 1.0 - 2 ** -53] * 20, "instance", None)[:4] == b"\x89PNG"
