"""Bound reports: one self-contained, escaped HTML file with MathML and PNG plots; Markdown with
a summary table and relative image links; the JSON contract; quiet progress off a terminal."""
from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
import sympy as sp

from theorems.catalog import CATALOG
from theorems.engine.checker import SAMPLE_CAP, ClaimResult, check
from theorems.frontends.cli import _progress, main
from theorems.engine.profiles import PROFILES, Profile
from theorems.frontends.report import run_settings, summary, write_report
from theorems.frontends.report_plots import loglog_slope
from theorems.frontends.report_progress import ReportProgress
from theorems.language.spec import Claim, Setting, Source, Spec
from theorems.language.symbols import Delta, H, sum_grad_sq

TINY = Profile("tiny", batch_size=4, replicas=8, rounds=1, horizons=(1, 4, 16), dims=(2,))
PNG = b"\x89PNG\r\n\x1a\n"
EVIL = "<script>alert('x')</script>"

HOSTILE = Spec(
    id="X9.9", title=f"A title with {EVIL}", source=Source("9", 1),
    statement=f"A statement with {EVIL} & <b>markup</b> | pipes | and *stars*",
    assumptions=frozenset({"smooth", "lb"}),
    settings=(Setting("eta-1/H", "GD", hyper={"eta": 1 / H}),),
    claims=(
        Claim("holds", "sure", sum_grad_sq, 2 * H * Delta, "eta-1/H", f"T5.8 with eta = 1/H {EVIL}"),
        Claim("zero", "sure", sum_grad_sq, sp.Integer(0), "eta-1/H", "no gradient at all (false)"),
        Claim("zero-as-printed", "sure", sum_grad_sq, sp.Integer(0), "eta-1/H", "as printed (false)",
              erratum=f"the notes print 0 {EVIL}", corrected_by="holds"),
    ),
)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    results = [check(spec, profile=TINY, families=["quadratic-sc"], counterexample_dir=out / "cx")
               for spec in (CATALOG["T5.8"], CATALOG["L5.6"], HOSTILE)]
    write_report(results, out, settings=run_settings(profile=TINY.name, device="cpu", seed=0, seconds=1.0))
    return out, results


def test_the_hostile_spec_has_a_holding_a_violated_and_an_erratum_claim(report) -> None:
    _, results = report
    assert [c.verdict for c in results[-1].claims] == ["holds", "violated", "erratum"]
    assert summary(results)["counts"] == {"holds": 4, "violated": 1, "erratum": 1, "not-applicable": 0}


def test_html_is_one_self_contained_file(report) -> None:
    out, _ = report
    page = (out / "report.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"<(link|script|iframe)\b", page, re.I)
    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', page)
    assert len(sources) >= 1 + 5  # the tightness chart and one figure per applicable claim
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG)


def test_html_escapes_every_text(report) -> None:
    out, _ = report
    page = (out / "report.html").read_text()
    assert "<script" not in page.lower() and "<b>markup" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "the notes print 0 &lt;script&gt;" in page  # the erratum text too


def test_html_has_mathml_bounds_summary_settings_and_errata(report) -> None:
    out, results = report
    page = (out / "report.html").read_text()
    assert page.count("<math") >= sum(len(r.claims) for r in results)  # every claim's bound, plus hyper-parameters
    assert "<mfrac>" in page and "&#916;" in page  # 2 Delta / eta as a fraction with a Greek Delta
    for needle in ("Summary", "Tightest bounds", "Loosest bounds", "torch", "sympy", "numpy", "python",
                   "wall time", 'id="errata"', "found by the random search", "Fitted log-log slope"):
        assert needle in page, needle


def test_markdown_has_summary_table_and_existing_relative_images(report) -> None:
    out, _ = report
    text = (out / "report.md").read_text()
    assert "| holds | violated | erratum | not applicable |" in text and "| 4 | 1 | 1 | 0 |" in text
    assert "## Errata" in text and "<script" not in text.lower()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert "tightness.png" in links and len(links) >= 6
    for link in links:
        assert not link.startswith(("/", "http")), link
        assert (out / link).read_bytes().startswith(PNG), link
    assert "$" in text and r"\frac{2 \Delta}{\eta}" in text  # GitHub math from sympy.latex
    pointwise = [line for line in text.splitlines() if line.startswith("![L5.6")]
    assert pointwise and "against T" not in pointwise[0]  # no rate plot for a pointwise lemma


def test_json_keeps_the_check_contract(report) -> None:
    out, _ = report
    documents = json.loads((out / "report.json").read_text())
    assert [d["id"] for d in documents] == ["T5.8", "L5.6", "X9.9"]
    for d in documents:
        assert {"id", "title", "source", "claims"} <= set(d)
        for c in d["claims"]:
            assert {"name", "verdict", "tightness", "instances"} <= set(c)
            if c["verdict"] in ("violated", "erratum"):
                assert Path(c["counterexample"]).is_file()
            if "worst" in c:
                assert c["worst"]["search"] == "random"
    trace = documents[0]["claims"][0]
    assert [p["T"] for p in trace["by_horizon"]] == [1, 4, 16]
    assert [p["T"] for p in trace["rate_curve"]] == [1, 4, 16]
    assert documents[1]["claims"][0]["rate_curve"] == []  # L5.6 is pointwise


def test_rate_curve_follows_one_instance_across_horizons() -> None:
    """The rate plot re-runs the worst instance at every T: at the worst comparison's own
    horizon it reproduces that comparison, and on T2.4 (eta = D/(G sqrt T)) the bound
    G D sqrt(T) of one instance has slope exactly 1/2, which the worst cases of different
    instances per T would not give."""
    result = check(CATALOG["T2.4"], profile=TINY, families=["pseudo-huber"], claims=["sum-suboptimality"])
    claim = result.claims[0]
    curve = {T: (m, b) for T, m, b in claim.rate_curve}
    assert sorted(curve) == [1, 4, 16]
    assert curve[claim.worst.key.horizon] == pytest.approx((claim.worst.measured, claim.worst.bound), rel=1e-12)
    assert loglog_slope([(T, b) for T, (_, b) in curve.items()]) == pytest.approx(0.5, rel=1e-12)
    assert all(m <= b for m, b in curve.values())


def test_instance_tightness_matches_the_rounds_worst_and_is_capped(report) -> None:
    _, results = report
    for r in results:
        for c in r.claims:
            if c.verdict == "holds" and c.worst is not None:
                assert max(c.tightness_samples) == pytest.approx(c.worst.tightness, rel=1e-12)
                assert c.tightness_unit == "instance" and c.samples_seen <= c.instances
    a, b = ClaimResult("X", "c", "sure", ""), ClaimResult("X", "c", "sure", "")
    for result in (a, b):
        result.add_tightness(float(i) for i in range(3 * SAMPLE_CAP))
    assert len(a.tightness_samples) == SAMPLE_CAP and a.samples_seen == 3 * SAMPLE_CAP
    assert a.tightness_samples == b.tightness_samples  # deterministic
    assert max(a.tightness_samples) > SAMPLE_CAP  # later values do enter the reservoir


def test_loglog_slope() -> None:
    assert loglog_slope([(T, 3 * T ** -0.5) for T in (1, 4, 16, 64)]) == pytest.approx(-0.5)
    assert loglog_slope([(1, 1.0), (4, -1.0)]) is None


def test_progress_bar_only_animates_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, animated in ((io.StringIO(), False), (Terminal(), True)):
        bar = ReportProgress(4, 2, stream=stream)
        for i in range(4):
            bar.round(f"round {i}")
        bar.result(1, "T5.8 holds")
        bar.close()
        assert ("\r" in stream.getvalue()) == animated
        assert "[1/2] T5.8 holds\n" in stream.getvalue()


def test_report_command_is_quiet_off_a_terminal(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setitem(PROFILES, "quick", Profile("quick", batch_size=2, replicas=4, rounds=1, horizons=(1, 2),
                                                   dims=(2,)))
    assert _progress(True) is None  # capsys's stderr is not a terminal
    code = main(["report", "--out", str(tmp_path), "--family", "quadratic-sc", "--format", "json"])
    err = capsys.readouterr().err
    assert code in (0, 1)
    assert "\r" not in err and "\033" not in err
    assert err.splitlines() == [line for line in err.splitlines() if re.match(r"\[\d+/\d+\] ", line)]
    assert len(err.splitlines()) == len(CATALOG)
    run = json.loads((tmp_path / "report.json").read_text())[0]["run"]
    assert run["profile"] == "quick" and "torch" in run["versions"] and "--family=quadratic-sc" in run["command"]


def test_expectation_tightness_is_ranked_by_its_confidence_interval_and_shown_with_it() -> None:
    """Issue 15: an expectation claim whose point estimate is 1.39 from few replicas (CI 0.51 to
    2.27) is not listed as the tightest bound; a sure claim at 0.99 is, and the CI is printed."""
    from theorems.catalog import CATALOG
    from theorems.engine.checker import CheckResult, ClaimResult
    from theorems.frontends.report import render_markdown, summary
    from theorems.engine.claims import Evidence
    from theorems.engine.round_data import RoundKey

    key = RoundKey("P7.1", "s", "quadratic-sc", "gaussian", 0, 4, 2, 8, 16, "cpu", None)

    def claim(name: str, kind: str, tightness: float, lower: float | None, upper: float | None) -> ClaimResult:
        evidence = Evidence(key, 0, None, tightness, 1.0, tightness, False, 0.5, lower, upper)
        return ClaimResult("P7.1", name, kind, "", verdict="holds", instances=8, worst=evidence)

    result = CheckResult(CATALOG["P7.1"], [claim("noisy", "expect", 1.39, 0.51, 2.27),
                                           claim("sure", "sure", 0.99, None, None),
                                           claim("steady", "expect", 0.95, 0.94, 0.96)], [], 0.0, "quick", None)
    info = summary([result], extremes=1)
    assert [row.claim.name for row in info["tightest"]] == ["sure"]
    assert [row.claim.name for row in info["loosest"]] == ["noisy"]
    text = render_markdown([result], {}, {})
    assert "CI 0.51 to 2.27" in text and "CI 0.94 to 0.96" in text
