"""The gradient adversary (theorems/engine/adversaries.py) and the parametric families it moves.

Checked: the differentiable unroll against central finite differences; ``project`` lands every
parametric family in its class (certified) and ``certify`` rejects instances outside it; the
adversary raises on an instance outside its class; it finds, on the Huber family, a violation of
a claim 5% below the Drori-Teboulle worst case that the random rounds miss, records
search = "gradient" and writes a counterexample that replays; the hypothesis search of the pytest
items hands over to it and reports the violation it finds; its Adam steps match torch.optim.Adam,
and from unplanted 1-D piecewise quadratics it nears the exact worst case of GD on smooth
non-convex functions (benchmark row b) at T = 1.
"""
from __future__ import annotations

from dataclasses import replace

import pytest
import sympy as sp
import torch

from algorithms import GD, run
from problems import FAMILIES, ORACLES, Huber
from problems.parametric import OutsideClassError, certify, is_parametric
from problems.piecewise_quadratic import PiecewiseQuadratic
from theorems.engine.adversaries import adam_step, ascend, instance_tightness
from theorems.engine.checker import check
from theorems.engine.hypothesis_search import hypothesis_search
from theorems.engine.counterexample import load_counterexample, replay
from theorems.engine.profiles import PROFILES
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round
from theorems.language.spec import Claim, Setting, Source, Spec
from theorems.language.symbols import D, Delta, H, T, last_subopt, min_grad_sq

PARAMETRIC = [name for name, f in FAMILIES.items() if is_parametric(f)]

#: Claim (a) of the benchmark, scaled by 0.95: false, the Drori-Teboulle instance exceeds it.
BELOW_WORST = Spec(
    id="X.GD-last", title="GD 1/H last iterate, 5% below the exact worst case", source=Source("13", 1945),
    assumptions=frozenset({"cvx", "smooth", "minimizer"}),
    settings=(Setting("eta-1/H", "GD", hyper={"eta": 1 / H}),),
    claims=(Claim("last", "sure", last_subopt, sp.Rational(95, 100) * H * D ** 2 / (4 * T + 2), "eta-1/H",
                  "L(w_{T+1}) - L* <= 0.95 H D^2 / (4T + 2)"),),
)


def test_parametric_families() -> None:
    assert {"quadratic-convex", "quadratic-sc", "pseudo-huber", "huber"} <= set(PARAMETRIC)


@pytest.mark.parametrize("name", PARAMETRIC)
def test_project_lands_in_the_class(name: str) -> None:
    family = FAMILIES[name]
    params = family.draw(6, 3, torch.Generator().manual_seed(1))
    gen = torch.Generator().manual_seed(2)
    noisy = {k: v + 0.5 * v.abs().amax() * torch.randn(v.shape, generator=gen, dtype=v.dtype) for k, v in params.items()}
    certify(family.build(family.project(noisy)))
    # the family's own draws are in the class and unchanged by projection (up to rounding)
    certify(family.build(params))
    again = family.project(params)
    for k in params:
        torch.testing.assert_close(again[k], params[k], rtol=1e-9, atol=1e-9 * float(params[k].abs().max()))


@pytest.mark.parametrize("name", ["quadratic-sc", "huber"])
def test_certify_rejects_instances_outside_the_class(name: str) -> None:
    family = FAMILIES[name]
    params = family.draw(3, 2, torch.Generator().manual_seed(3))
    key = "lam" if "lam" in params else "c"
    bad = dict(params)
    bad[key] = params[key].clone()
    bad[key][1, -1] = -0.5 * params[key][1].max()  # negative curvature: not convex
    with pytest.raises(OutsideClassError, match="instance 1"):
        certify(family.build(bad))


def test_differentiable_run_matches_finite_differences() -> None:
    family = FAMILIES["huber"]
    params = family.draw(2, 3, torch.Generator().manual_seed(4))

    def final_gap(c: torch.Tensor) -> torch.Tensor:
        problem = family.build({**params, "c": c})
        oracle = ORACLES["exact"].bind(problem, torch.Generator())
        trace = run(GD(eta=0.5 / problem.constants["H"][:, None, None]), problem, oracle, 5, differentiable=True)
        return trace.loss[:, 0, -1].sum()

    c = params["c"].clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(final_gap(c), c)
    h = 1e-6 * params["c"]
    fd = torch.zeros_like(c)
    for b in range(2):
        for j in range(3):
            e = torch.zeros_like(c)
            e[b, j] = h[b, j]
            fd[b, j] = (final_gap(params["c"] + e) - final_gap(params["c"] - e)) / (2 * h[b, j])
    torch.testing.assert_close(auto, fd, rtol=1e-5, atol=1e-8 * float(fd.abs().max()))
    # without differentiable the steps are not recorded
    problem = family.build({**params, "c": c})
    trace = run(GD(eta=0.1), problem, ORACLES["exact"].bind(problem, torch.Generator()), 3)
    (no_path,) = torch.autograd.grad(trace.loss[:, 0, -1].sum(), c, allow_unused=True)
    (with_path,) = torch.autograd.grad(
        run(GD(eta=0.1), problem, ORACLES["exact"].bind(problem, torch.Generator()), 3, differentiable=True)
        .loss[:, 0, -1].sum(), c)
    assert not torch.allclose(no_path, with_path)


def _key(T: int, B: int, d: int) -> RoundKey:
    return RoundKey(BELOW_WORST.id, "eta-1/H", "huber", "exact", 11, T, d, B, 1, "cpu", None)


def test_ascent_reaches_the_drori_teboulle_value_and_replays() -> None:
    T = 4
    start = Huber().draw(4, 1, torch.Generator().manual_seed(5))
    start["delta"] = 0.02 * (start["w1"] - start["w_star"]).abs()  # a fifth of the worst threshold D/9
    claim = BELOW_WORST.claims[0]
    before = instance_tightness(claim, build_round(BELOW_WORST, _key(T, 4, 1), Huber().build(start)), 1e-9, 1e-12)
    result = ascend(BELOW_WORST, claim, _key(T, 4, 1), start, steps=80, lr=0.05, rtol=1e-9, atol=1e-12, level=0.01)
    # the exact worst case is 1/0.95 of the bound: the ascent ends above the bound, near 1/0.95
    assert float(before.max()) < 0.95
    assert 1.0 < result.best <= 1 / 0.95 * (1 + 1e-9)
    assert result.best >= 0.99 / 0.95
    assert result.outcome.violation is not None
    # the returned round is rebuilt from its parameters alone and gives the same value
    again = build_round(BELOW_WORST, result.key)
    tight = instance_tightness(claim, again, 1e-9, 1e-12)
    assert float(tight.max()) == pytest.approx(result.best, rel=1e-12)


def test_ascent_refuses_an_instance_outside_its_class(monkeypatch) -> None:
    family = FAMILIES["huber"]
    start = family.draw(2, 2, torch.Generator().manual_seed(6))
    start["c"][0, 1] = -start["c"][0, 0]
    monkeypatch.setattr(family, "project", lambda params: {k: v.detach().clone() for k, v in params.items()})
    with pytest.raises(OutsideClassError):
        ascend(BELOW_WORST, BELOW_WORST.claims[0], _key(2, 2, 2), start, steps=2, lr=0.05, rtol=1e-9, atol=1e-12,
               level=0.01)


def test_checker_records_the_gradient_adversary_and_its_counterexample_replays(tmp_path) -> None:
    profile = replace(PROFILES["quick"], batch_size=4, rounds=1, horizons=(4,), dims=(1,), gradient_steps=80,
                      gradient_batch=4)
    off = check(BELOW_WORST, profile=replace(profile, gradient_steps=0), families=["huber"],
                counterexample_dir=tmp_path)
    assert off.claims[0].verdict == "holds" and off.claims[0].search == "random"
    result = check(BELOW_WORST, profile=profile, families=["huber"], counterexample_dir=tmp_path)
    claim = result.claims[0]
    assert claim.verdict == "violated" and claim.search == "gradient"
    assert claim.as_dict()["violation"]["search"] == "gradient"
    assert claim.tightness > off.claims[0].tightness
    document = load_counterexample(claim.counterexample)
    assert document["round"]["params"]
    outcome = replay(document, BELOW_WORST)
    assert outcome.violated and outcome.measured == pytest.approx(document["measured"], rel=1e-12)


def test_hypothesis_search_hands_over_to_the_gradient_adversary() -> None:
    """What ``pytest theorems/`` runs: hypothesis alone misses the violation, the gradient
    adversary started from its tightest instance finds it, and the evidence replays."""
    profile = replace(PROFILES["quick"], batch_size=4, rounds=1, horizons=(4,), dims=(1,), gradient_steps=80,
                      gradient_batch=4)
    claim = BELOW_WORST.claims[0]
    alone = hypothesis_search(BELOW_WORST, claim, profile, families=["huber"], gradient=False)
    assert alone.violation is None and alone.worst.tightness < 1
    both = hypothesis_search(BELOW_WORST, claim, profile, families=["huber"])
    assert both.found_by == "gradient" and both.violation is not None
    assert both.violation.key.params and both.violation.measured > both.violation.bound
    again = instance_tightness(claim, build_round(BELOW_WORST, both.violation.key), 1e-9, 1e-12)
    assert float(again[both.violation.instance]) == pytest.approx(both.violation.tightness, rel=1e-12)


def test_pseudo_huber_projection_keeps_the_minimiser_unique() -> None:
    family = FAMILIES["pseudo-huber"]
    params = family.draw(3, 3, torch.Generator().manual_seed(7))
    params["A"][:, :, -1] = 0.0  # rank deficient: a line of minimisers
    params["delta"] = -params["delta"]
    projected = family.project(params)
    s = torch.linalg.svdvals(projected["A"])
    assert (s[:, -1] >= 1e-6 * s[:, 0] * (1 - 1e-9)).all() and (projected["delta"] > 0).all()
    certify(family.build(projected))


#: Row (b) of benchmarks/adversary_bench.py at horizon 1: GD 1/H on smooth functions, the exact
#: worst case min_{t <= 2} ||grad L(w_t)||^2 = 4 H Delta / 5 (a 1-D staircase), so tightness is the
#: fraction of the worst case reached.
MIN_GRAD_WORST = Spec(
    id="X.GD-min-grad", title="GD 1/H min gradient norm, the exact worst case at T = 1", source=Source("5", 917),
    assumptions=frozenset({"smooth", "lb"}), settings=(Setting("eta-1/H", "GD", hyper={"eta": 1 / H}),),
    claims=(Claim("min", "sure", min_grad_sq, sp.Rational(4, 5) * H * Delta, "eta-1/H",
                  "min_{t <= 2} ||grad L(w_t)||^2 <= 4 H Delta / 5"),),
)


def test_adam_step_matches_torch_optim_adam() -> None:
    gen = torch.Generator().manual_seed(8)
    ours = torch.zeros(3, 4, dtype=torch.float64)
    theirs = torch.zeros(3, 4, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.Adam([theirs], lr=0.1, eps=1e-12, maximize=True)
    first, second = torch.zeros_like(ours), torch.zeros_like(ours)
    for count in range(1, 8):
        g = torch.randn(3, 4, generator=gen, dtype=torch.float64) * 10.0 ** torch.arange(-2, 2)
        ours += 0.1 * adam_step(g, first, second, count)
        theirs.grad = g.clone()
        optimiser.step()
    assert torch.allclose(ours, theirs.detach(), rtol=1e-12, atol=1e-15)


def test_ascent_nears_the_non_convex_worst_case_without_a_planted_staircase(monkeypatch) -> None:
    """From 1-D piecewise quadratics with no planted staircase (random cells), the ascent reaches
    95% of row (b)'s exact worst case at T = 1 (per-coordinate Adam steps; the per-parameter
    normalised steps it replaced stopped at 0.89 with this budget)."""
    monkeypatch.setitem(FAMILIES, "piecewise-quadratic", PiecewiseQuadratic(staircases=0.0))
    claim = MIN_GRAD_WORST.claims[0]
    key = RoundKey(MIN_GRAD_WORST.id, "eta-1/H", "piecewise-quadratic", "exact", 0, 1, 1, 32, 1, "cpu", None)
    start = FAMILIES["piecewise-quadratic"].draw(32, 1, torch.Generator().manual_seed(1))
    result = ascend(MIN_GRAD_WORST, claim, key, start, steps=150, lr=0.05, rtol=1e-9, atol=1e-12, level=0.01)
    assert result.start < 0.6
    assert 0.95 <= result.best <= 1 + 1e-9
    assert result.outcome.violation is None
