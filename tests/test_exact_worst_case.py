"""Exact worst cases by performance estimation (issue 12): the PEPs against known closed forms,
the three numbers (bound, exact, found) in ``check`` and ``report``, the "not computed" path
without PEPit, and PEPit's worst case seeding the gradient adversary."""
from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from theorems.catalog import CATALOG
from theorems.engine import exact_worst_case as E
from theorems.engine import pep
from theorems.engine.adversaries import ascend, starts_from
from theorems.engine.checker import CheckResult, check
from theorems.engine.profiles import PROFILES, Profile
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round
from theorems.frontends.cli import main
from theorems.frontends.report import run_settings, write_report
from theorems.frontends.report_exact import html_table, md_table

ROOT = Path(__file__).resolve().parents[1]
TINY = Profile("tiny", batch_size=8, replicas=1, rounds=1, horizons=(1, 4, 16), dims=(2,))
needs_pepit = pytest.mark.skipif(not pep.available(), reason="PEPit is the optional bench extra")

# ----------------------------------------------------------------------------------------------
# The PEPs against closed forms

CLOSED_FORMS = [
    # f(w1) - f* <= G ||w1 - w*|| for convex G-Lipschitz f, attained by f = G |w - w*|
    ("T2.4 at T=1", lambda: pep.gd_lipschitz_convex_sum(1), 1.0),
    # f(w1) - f* <= H D^2 / 2 for H-smooth convex f, attained by a quadratic
    ("T13.3 sum at T=1", lambda: pep.gd_smooth_convex_sum(1, 0.5), 0.5),
    ("T13.3 average at T=1", lambda: pep.gd_smooth_convex_average(1, 0.5), 0.5),
    # Drori and Teboulle (2014): H D^2 / (4 N c + 2) for GD with step c/H, c <= 1
    ("GD last, N=1, c=1", lambda: pep.gd_smooth_convex_last(1, 1.0), 1 / 6),
    ("GD last, N=3, c=1/2", lambda: pep.gd_smooth_convex_last(3, 0.5), 1 / 8),
    # de Klerk, Glineur and Taylor (2017): (1 - mu/H)^2 per step of 1/H, attained by a quadratic
    ("T21.6, t=1, kappa=0.3", lambda: pep.gd_strongly_convex_last(1, 0.3), 0.7 ** 2),
    ("T21.6, t=3, kappa=0.1", lambda: pep.gd_strongly_convex_last(3, 0.1), 0.9 ** 6),
    # the descent lemma with equality: f(w - c g) - f(w) = -(1 - c/2) c ||g||^2 at curvature H
    ("L5.7, c=1/2", lambda: pep.gd_smooth_one_step(0.5), -0.375),
    ("L5.7, c=5/2", lambda: pep.gd_smooth_one_step(2.5), 0.625),
    # ||grad f(w1)||^2 <= 2 H (f(w1) - inf f), attained by a quadratic
    ("T5.8 at T=1, c=1/2", lambda: pep.gd_smooth_sum_grad_sq(1, 0.5), 2.0),
    # benchmark row (b): 4 / (3N + 2)
    ("min grad, N=1", lambda: pep.gd_smooth_min_grad_sq_case(1).value, 0.8),
    ("min grad, N=2", lambda: pep.gd_smooth_min_grad_sq_case(2).value, 0.5),
    # results being encoded on branch h-accel: T13.1 at T=1 given ||g||^2 = s <= 1 is sqrt(s) - s/2
    # (f(w1) - f* <= <g, w1 - w*> - ||g||^2/2, attained by a Huber function); Algorithm 11's first
    # step is one GD step; T22.3's scheme with no step is smoothness: f - f* <= 1/2, ||g||^2 <= 1
    ("T13.1 at T=1, s=0.49", lambda: pep.gd_convex_sum_given_grad_sq(1, 0.5, 0.49), 0.7 - 0.245),
    ("T13.1 at T=1, s=1, c=3", lambda: pep.gd_convex_sum_given_grad_sq(1, 3.0, 1.0), 0.5),
    ("T15.2 at T=1, c=1", lambda: pep.agd_last(1, 1.0), 1 / 6),
    ("T15.2 at T=1, c=1/2", lambda: pep.agd_last(1, 0.5), 1 / 4),
    ("T22.3 value at T=0", lambda: pep.agd_strongly_convex(0, 0.2, "value"), 0.5),
    ("T22.3 gradient at T=0", lambda: pep.agd_strongly_convex(0, 0.2, "grad"), 1.0),
    ("T22.3 value at T=0, gap 0.1", lambda: pep.agd_strongly_convex(0, 0.2, "value", 0.1), 0.1),
]


@needs_pepit
@pytest.mark.parametrize("name, value, expected", CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
def test_pep_matches_the_closed_form(name: str, value, expected: float) -> None:
    assert value() == pytest.approx(expected, rel=pep.ACCURACY, abs=pep.ACCURACY)


@needs_pepit
def test_pending_peps_respect_their_theorems() -> None:
    """Algorithm 11 within T15.2's 9 ||w* - w1||^2 / (2 T^2 eta) and its proof's 1/(2 eta S_T);
    T22.3's scheme within Nesterov's (1 - sqrt kappa)^t (f(w1) - f* + kappa/2) (Theorem 2.2.3)."""
    for T in (2, 4):
        assert pep.agd_last(T, 1.0) <= 1 / (2 * sum(pep.alg11_weights(T))) <= 9 / (2 * T ** 2)
    for t in (1, 4):
        assert pep.agd_strongly_convex(t, 0.2, "value") <= (1 - math.sqrt(0.2)) ** t * (0.5 + 0.1)
    assert pep.agd_strongly_convex(4, 0.2, "grad") < pep.agd_strongly_convex(1, 0.2, "grad") < 1.0
    assert pep.alg11_weights(3) == pytest.approx([1.0, (1 + math.sqrt(5)) / 2, (1 + math.sqrt(1 + 4 * (1 + (1 + math.sqrt(5)) / 2))) / 2])


def _agd_recurrence(calls: list[tuple], w1, c: float) -> list:
    """Algorithm 11 written out again (numpy, from the notes): its query points x_t, given the
    gradients g_t the PEP's worst case returns at them."""
    import numpy as np
    w, y, total, alpha, points = w1, w1, 0.0, 1.0, []
    for _, g in calls:
        total += alpha
        x = (1 - alpha / total) * w + alpha / total * y
        points.append(x)
        y, w = y - c * alpha * g, x - c * g
        alpha = (1 + np.sqrt(1 + 4 * total)) / 2
    return points


def _nesterov_recurrence(calls: list[tuple], w1, kappa: float) -> list:
    """Nesterov's constant-step scheme written out again: its query points given the gradients."""
    beta = (1 - math.sqrt(kappa)) / (1 + math.sqrt(kappa))
    x, w, points = w1, w1, []
    for _, g in calls:
        points.append(x)
        w_next = x - g
        x, w = w_next + beta * (w_next - w), w_next
    return points


@needs_pepit
@pytest.mark.parametrize("name", ["T15.2", "T22.3"])
def test_pep_runs_the_algorithm_it_names(name: str) -> None:
    """The PEP's worst case, as vectors, follows the algorithm's recurrence written out
    independently (a PEP of another method has other query points)."""
    if name == "T15.2":
        problem, f, xs, calls, w = pep.agd_run(5, 0.7)
        recurrence = lambda calls, w1: _agd_recurrence(calls, w1, 0.7)
    else:
        problem, f, xs, calls, w = pep.agd_strongly_convex_run(5, 0.2)
        recurrence = lambda calls, w1: _nesterov_recurrence(calls, w1, 0.2)
    problem.set_performance_metric(f(w) - f(xs))
    pep._solve(problem)
    evaluated = [(x.eval(), g.eval()) for x, g in calls]
    expected = recurrence(evaluated, evaluated[0][0])
    scale = max(float(abs(x).max()) for x, _ in evaluated)
    for (x, _), x_expected in zip(evaluated, expected):
        assert abs(x - x_expected).max() <= 1e-9 * scale


# ----------------------------------------------------------------------------------------------
# Scaling: the exact worst case scales as the bound when the loss is multiplied by lam and w by s

BASE = {"T": 4.0, "t": 2.0, "H": 2.0, "D": 1.5, "Delta": 0.7, "G": 1.3, "mu": 0.5, "c": 0.6, "L_t": 3.0,
        "Lstar": 1.0, "grad_sq_t": 0.8, "L1": 2.5, "sum_grad_sq": 0.8}
#: (lam exponent, s exponent) of each value: L -> lam L, w -> s w.
UNITS = {"H": (1, -2), "D": (0, 1), "Delta": (1, 0), "G": (1, -1), "mu": (1, -2), "L_t": (1, 0), "Lstar": (1, 0),
         "grad_sq_t": (2, -2), "L1": (1, 0), "eta": (-1, 2), "sum_grad_sq": (2, -2)}


def _scaled(values: dict[str, float], lam: float, s: float, T: float) -> dict[str, float]:
    out = {k: v * lam ** UNITS[k][0] * s ** UNITS[k][1] if k in UNITS else v for k, v in values.items()}
    out["T"], out["eta"] = T, out["c"] / out["H"]
    return out


def _bound(spec_id: str, name: str, values: dict[str, float]) -> float:
    bound = CATALOG[spec_id].claim(name).bound
    return float(bound.subs({x: values[x.name] for x in bound.free_symbols}))


#: The claims with a PEP whose result is in this catalog (the others are wired for branch h-accel).
ENCODED = sorted(k for k in E.FORMULATIONS if k[0] in CATALOG)
#: (lam, s) exponents of each claim's measured quantity: a loss value, or a squared gradient.
MEASURED = {k: (2, -2) if k == ("T22.3", "gradient-eps") or k[0] == "T5.8" else (1, 0) for k in E.FORMULATIONS}


@needs_pepit
@pytest.mark.parametrize("spec_id, name", sorted(E.FORMULATIONS))
@pytest.mark.parametrize("lam, s, T", [(10.0, 3.0, 4.0), (1e-6, 1e3, 1.0), (1e6, 1e-3, 1.0)])
def test_exact_worst_case_scales_as_the_measured_quantity(spec_id: str, name: str, lam: float, s: float,
                                                          T: float) -> None:
    form = E.FORMULATIONS[(spec_id, name)]
    a, b = MEASURED[(spec_id, name)]
    assert form.worst(_scaled(BASE, lam, s, T)) == pytest.approx(lam ** a * s ** b * form.worst(
        _scaled(BASE, 1.0, 1.0, T)), rel=1e-9)


@needs_pepit
@pytest.mark.parametrize("spec_id, name", ENCODED)
@pytest.mark.parametrize("lam, s, T", [(10.0, 3.0, 4.0), (1e-6, 1e3, 1.0), (1e6, 1e-3, 1.0)])
def test_exact_worst_case_scales_as_the_bound(spec_id: str, name: str, lam: float, s: float, T: float) -> None:
    form = E.FORMULATIONS[(spec_id, name)]
    base = _scaled(BASE, 1.0, 1.0, T)
    scaled = _scaled(BASE, lam, s, T)
    factor = _bound(spec_id, name, scaled) / _bound(spec_id, name, base)
    assert form.worst(scaled) == pytest.approx(factor * form.worst(base), rel=1e-9)


@needs_pepit
@pytest.mark.parametrize("spec_id, name", sorted(E.FORMULATIONS))
def test_exact_worst_case_ignores_a_shift_of_the_loss(spec_id: str, name: str) -> None:
    """L -> L + 7 changes L(w_t), L(w_1) and L* alike, and neither the bound nor the worst case."""
    form = E.FORMULATIONS[(spec_id, name)]
    base = _scaled(BASE, 1.0, 1.0, 4.0)
    shifted = {k: v + 7.0 if k in ("L_t", "Lstar", "L1") else v for k, v in base.items()}
    if spec_id in CATALOG:
        assert _bound(spec_id, name, shifted) == pytest.approx(_bound(spec_id, name, base), rel=1e-12)
    assert form.worst(shifted) == pytest.approx(form.worst(base), rel=1e-12)


# ----------------------------------------------------------------------------------------------
# The checker's numbers: the searches never beat the exact worst case; the theorem's bound holds
# above it


def _rows_consistent(comparison: E.Comparison, profile: Profile) -> bool:
    """found <= exact <= bound at every row, with the checker's rounding slack and the PEP's
    accuracy."""
    def at_most(a: float, b: float) -> bool:
        return a <= b + (profile.rtol + pep.ACCURACY) * (abs(a) + abs(b)) + profile.atol
    return all(at_most(r.found, r.exact) and at_most(r.exact, r.bound) for r in comparison.rows)


FAMILY = {"T2.4": "pseudo-huber", "T5.8": "piecewise-quadratic", "L5.7": "quadratic-convex", "T13.3": "huber",
          "T21.6": "log-cosh-l2", "T13.1": "huber", "T15.2": "huber", "T22.3": "log-cosh-l2"}


@pytest.fixture(scope="module")
def checked() -> dict[tuple[str, str], tuple]:
    """Each claim with a PEP, checked on one family with the tiny profile, and its comparison."""
    out = {}
    for spec_id, name in ENCODED:
        spec = CATALOG[spec_id]
        result = check(spec, profile=TINY, families=[FAMILY[spec_id]], claims=[name],
                       counterexample_dir="/tmp/theorycheck-exact-test")
        out[(spec_id, name)] = (spec, result.claims[0])
    return out


@needs_pepit
@pytest.mark.parametrize("spec_id, name", ENCODED)
def test_found_at_most_exact_at_most_bound(checked, spec_id: str, name: str) -> None:
    spec, claim_result = checked[(spec_id, name)]
    comparison = E.compare(spec, spec.claim(name), claim_result.by_horizon)
    assert comparison.status == E.COMPUTED and [r.T for r in comparison.rows] == [1, 4, 16]
    assert _rows_consistent(comparison, TINY)


@needs_pepit
def test_a_smaller_exact_worst_case_is_caught(checked, monkeypatch) -> None:
    """The consistency test fails when the PEP's value is made smaller (here by 5%): the searches
    then find more than the 'exact' worst case."""
    spec, claim_result = checked[("T13.3", "sum-suboptimality")]
    form = E.FORMULATIONS[("T13.3", "sum-suboptimality")]
    monkeypatch.setitem(E.FORMULATIONS, ("T13.3", "sum-suboptimality"),
                        dataclasses.replace(form, worst=lambda v: 0.95 * form.worst(v)))
    comparison = E.compare(spec, spec.claim("sum-suboptimality"), claim_result.by_horizon)
    assert not _rows_consistent(comparison, TINY)


@needs_pepit
def test_cap_and_variant_are_not_computed(checked) -> None:
    spec, claim_result = checked[("T13.3", "sum-suboptimality")]
    claim = spec.claim("sum-suboptimality")
    capped = E.compare(spec, claim, claim_result.by_horizon, max_steps=8)
    assert [r.T for r in capped.rows] == [1, 4]
    assert E.compare(spec, claim, claim_result.by_horizon, max_steps=0).status == E.NOT_COMPUTED
    variant = E.compare(spec, claim, claim_result.by_horizon, variant=True)
    assert variant.status == E.NOT_COMPUTED and "variant" in variant.reason
    assert E.compare(spec, spec.claim("averaged-iterate"), {}).status == E.NOT_COMPUTED
    assert E.compare(CATALOG["T5.8"], CATALOG["T5.8"].claim("random-iterate-grad-norm"), {}) is None


@needs_pepit
def test_only_settings_a_variant_replaced_are_not_computed(checked) -> None:
    spec, claim_result = checked[("T13.3", "sum-suboptimality")]
    replaced = CheckResult(spec, [claim_result], [], 0.0, TINY.name, "torch.optim.SGD", replaced=("eta-1/(2H)",))
    elsewhere = CheckResult(spec, [claim_result], [], 0.0, TINY.name, "torch.optim.SGD", replaced=("other",))
    assert E.for_result(replaced, claim_result).status == E.NOT_COMPUTED
    assert E.for_result(elsewhere, claim_result).status == E.COMPUTED


# ----------------------------------------------------------------------------------------------
# check and report show the three numbers; without PEPit they say "not computed"


def _check_json(capsys, tmp_path) -> dict:
    code = main(["check", "T13.3", "--format", "json", "--quiet", "--claim", "sum-suboptimality",
                 "--counterexamples", str(tmp_path)])
    assert code == 0
    return json.loads(capsys.readouterr().out)["claims"][0]


@needs_pepit
def test_check_json_carries_bound_exact_and_found(capsys, tmp_path) -> None:
    columns = _check_json(capsys, tmp_path)["exact_worst_case"]
    assert columns["status"] == E.COMPUTED and columns["exact"] is True
    rows = {r["T"]: r for r in columns["rows"]}
    assert set(rows) == {1, 4, 16}
    # at T = 1 the exact worst case H D^2 / 2 is a quarter of the bound 2 H D^2
    assert rows[1]["exact_over_bound"] == pytest.approx(0.25, rel=1e-6)
    for r in rows.values():
        assert r["found"] <= r["exact"] * (1 + 1e-6) and r["exact"] <= r["bound"]
        assert r["found_over_exact"] == pytest.approx(r["found"] / r["exact"])
    assert main(["check", "T13.3", "--quiet", "--claim", "sum-suboptimality", "--counterexamples", str(tmp_path)]) == 0
    r = rows[16]
    assert (f"exact worst case at T=16: bound {r['bound']:.6g}, exact {r['exact']:.6g} "
            f"({r['exact_over_bound']:.4g} of the bound), found {r['found']:.6g}") in capsys.readouterr().out


@pytest.fixture
def without_pepit(monkeypatch):
    """PEPit hidden: ``import PEPit`` raises ImportError."""
    monkeypatch.setitem(sys.modules, "PEPit", None)
    assert not pep.available()


def test_check_says_not_computed_without_pepit(without_pepit, capsys, tmp_path) -> None:
    columns = _check_json(capsys, tmp_path)["exact_worst_case"]
    assert columns == {"status": E.NOT_COMPUTED, "reason": "PEPit is not installed (pip install -e '.[exact]')"}
    assert main(["check", "T13.3", "--quiet", "--claim", "sum-suboptimality", "--counterexamples", str(tmp_path)]) == 0
    assert "exact worst case: not computed (PEPit is not installed" in capsys.readouterr().out


def _report(out: Path) -> tuple[str, str, list]:
    result = check(CATALOG["T13.3"], profile=TINY, families=["huber"], counterexample_dir=out / "cx")
    write_report([result], out, settings=run_settings(profile=TINY.name, device="cpu", seed=0, seconds=1.0))
    return ((out / "report.html").read_text(), (out / "report.md").read_text(),
            json.loads((out / "report.json").read_text()))


@needs_pepit
def test_report_shows_the_three_numbers(tmp_path) -> None:
    page, markdown, document = _report(tmp_path)
    rows = document[0]["claims"][0]["exact_worst_case"]["rows"]
    assert page.count('<table class="exact">') == 2
    for r in rows:
        assert f"<td class=\"num\">{r['exact']:.6g}</td><td class=\"num\">{r['found']:.6g}</td>" in page
        assert f"| {r['bound']:.6g} | {r['exact']:.6g} | {r['found']:.6g} |" in markdown


@needs_pepit
def test_an_upper_bound_is_not_called_exact(checked) -> None:
    """T5.8's PEP relaxes L(w1) - inf L: its column is labelled a PEP upper bound everywhere."""
    spec, claim_result = checked[("T5.8", "sum-grad-sq")]
    comparison = E.compare(spec, spec.claim("sum-grad-sq"), claim_result.by_horizon)
    assert comparison.exact is False
    assert E.summary(comparison).startswith("worst case (a PEP upper bound) at T=16: bound ")
    assert "<th>PEP upper bound</th>" in html_table(comparison) and "exact worst" not in html_table(comparison)
    assert "| T | t | family | bound | PEP upper bound | found | PEP / bound | found / PEP |" in md_table(comparison, str)


def test_report_says_not_computed_without_pepit(without_pepit, tmp_path) -> None:
    page, markdown, document = _report(tmp_path)
    assert '<table class="exact">' not in page
    assert page.count("<b>Exact worst case:</b> not computed (PEPit is not installed") == 2
    assert markdown.count("**Exact worst case:** not computed") == 2
    assert all(c["exact_worst_case"]["status"] == E.NOT_COMPUTED for c in document[0]["claims"])


def test_nothing_imports_pepit_at_import_time() -> None:
    code = ("import sys, theorems.engine.exact_worst_case, theorems.frontends.cli, theorems.frontends.report; "
            "print(sorted(m for m in ('PEPit', 'cvxpy', 'clarabel') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr


# ----------------------------------------------------------------------------------------------
# PEPit's worst case seeds the gradient adversary


@needs_pepit
@pytest.mark.parametrize("T", [4, 8])
def test_seeded_gradient_search_gets_closer(T: int) -> None:
    """T5.8 sum-grad-sq on the piecewise-quadratic family: the gradient adversary started from
    PEPit's worst case reaches the PEP's ratio c (2 H Delta against the bound 2 Delta / eta, eta =
    c/H) to 1e-3; started from the random round's instances with the same budget it stays far
    below."""
    spec = CATALOG["T5.8"]
    claim = spec.claim("sum-grad-sq")
    profile = PROFILES["quick"]
    key = RoundKey("T5.8", "eta-at-most-1/H", "piecewise-quadratic", "exact", 123, T, 1, 8, 1, "cpu", None)
    seeded = E.seeded_ascent(spec, claim, key, profile, profile.level)
    args = (profile.gradient_steps, profile.gradient_lr, profile.rtol, profile.atol, profile.level)
    unseeded = ascend(spec, claim, key, starts_from(key, 0, profile.gradient_batch - 1), *args)
    c = float(build_round(spec, seeded.key).values["c"].reshape(-1)[0])
    assert seeded.best >= (1 - 1e-3) * pep.gd_smooth_sum_grad_sq(T, pep.rounded(c)) * c / 2
    assert seeded.best > unseeded.best + 0.2


def test_no_seed_for_other_claims_or_without_pepit(without_pepit) -> None:
    spec = CATALOG["T5.8"]
    key = RoundKey("T5.8", "eta-at-most-1/H", "piecewise-quadratic", "exact", 1, 4, 1, 8, 1, "cpu", None)
    assert E.seed_params(spec, spec.claim("sum-grad-sq"), key) is None
    assert E.seed_params(spec, spec.claim("random-iterate-grad-norm"), key) is None
