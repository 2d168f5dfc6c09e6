"""Bound reports of a set of check results: one self-contained HTML page, GitHub Markdown with
plots as PNG files next to it, and JSON (an array of ``check --format json`` objects).

Both documents start with a summary (verdict counts, the tightest and loosest bounds, the run's
settings and package versions), then errata, then one section per result: the statement, the
assumptions, the algorithm and hyper-parameters of each setting, and per claim the bound as
mathematics, the verdict, the worst tightness with where and by which search it was found, a
histogram of tightness over instances and, for results with a horizon, measured and bound at
the worst instance found, re-run at every horizon T, on log-log axes with fitted slopes.
"""
from __future__ import annotations

import base64
import datetime
import html
import json
import math
import platform
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import sympy as sp

from problems.numpy_loss import certificate_lines
from theorems.engine import exact_worst_case
from theorems.engine.checker import CheckResult, ClaimResult
from theorems.frontends.report_exact import html_table, md_table
from theorems.frontends.report_math import latex, mathml, relation
from theorems.frontends.report_plots import VERDICT_COLOURS, claim_figure, loglog_slope, tightness_chart

VERDICTS = ("holds", "violated", "erratum", "not-applicable")

#: What each class tag of an assumption means (problems/, CATALOG.md).
CLASS_MEANING = {
    "cvx": "convex", "sc": "mu-strongly convex", "smooth": "H-smooth", "lip": "G-Lipschitz",
    "lb": "bounded below (Delta = L(w1) - inf L)", "minimizer": "has a minimiser w* (D = ||w1 - w*||)",
    "var": "stochastic gradients with variance at most sigma^2", "bdd": "stochastic gradients with bounded noise",
    "m2": "stochastic gradients with second moment at most G^2", "exact": "exact gradients",
}

TIGHTNESS_NOTE = ("Tightness is measured / bound at the worst instance found (the replica mean for expectation "
                  "claims); 1 means the bound is attained, a value far below 1 means the bound is loose on every "
                  "instance tried.")


# ----------------------------------------------------------------------------------------------
# settings and summary


def package_versions() -> dict[str, str]:
    """Versions of theorycheck, torch, sympy, numpy, matplotlib and python."""
    from importlib import metadata
    out = {}
    for name in ("theorycheck", "torch", "sympy", "numpy", "matplotlib"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["python"] = platform.python_version()
    out["platform"] = platform.platform(terse=True)
    return out


def run_settings(*, profile: str, device: str, seed: int, seconds: float | None = None, **extra: Any) -> dict[str, Any]:
    """The settings that reproduce a report run, with the package versions and the time."""
    out: dict[str, Any] = {"profile": profile, "device": device, "seed": seed}
    out.update({k: v for k, v in extra.items() if v not in (None, [], {}, ())})
    if seconds is not None:
        out["wall time (s)"] = round(seconds, 1)
    out["finished (UTC)"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    out["versions"] = package_versions()
    return out


@dataclass
class _Row:
    result: CheckResult
    claim: ClaimResult

    @property
    def label(self) -> str:
        return f"{self.result.spec.id} {self.claim.name}"

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9.]+", "-", f"{self.result.spec.id}-{self.claim.name}").strip("-")

    @property
    def spec_claim(self):
        try:
            return self.result.spec.claim(self.claim.name)
        except KeyError:
            return None


def _rows(results: Sequence[CheckResult]) -> list[_Row]:
    return [_Row(r, c) for r in results for c in r.claims]


def _finite(x: float | None) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def summary(results: Sequence[CheckResult], extremes: int = 3) -> dict[str, Any]:
    """Verdict counts, proof steps, and the tightest and loosest bounds among the claims that hold."""
    rows = _rows(results)
    counts = {v: sum(1 for row in rows if row.claim.verdict == v) for v in VERDICTS}
    for row in rows:
        counts.setdefault(row.claim.verdict, 0)
        if row.claim.verdict not in VERDICTS:
            counts[row.claim.verdict] += 1
    holding = sorted((row for row in rows if row.claim.verdict == "holds" and _finite(row.claim.tightness)),
                     key=lambda row: _rank(row.claim))
    steps = [ok for r in results for _, ok in r.proof_steps]
    return {"results": len(results), "claims": len(rows), "counts": counts,
            "proof_steps": len(steps), "proof_steps_verified": sum(steps),
            "tightest": list(reversed(holding[-extremes:])), "loosest": holding[:extremes]}


def _interval(claim: Any) -> tuple[float, float] | None:
    """The confidence interval of an expectation claim's worst tightness, when it has one."""
    e = claim.violation or claim.worst
    if claim.kind != "expect" or e is None or not (_finite(e.lower) and _finite(e.upper)):
        return None
    return e.lower, e.upper


def _rank(claim: Any) -> float:
    """What the tightest / loosest lists sort by: the tightness, or for an expectation claim the
    lower end of its confidence interval (a point estimate above 1 from a few replicas does not
    make a bound look tighter than it is proven to be)."""
    interval = _interval(claim)
    return claim.tightness if interval is None else interval[0]


def _tightness_text(claim: Any) -> str:
    """The tightness, with its confidence interval for an expectation claim."""
    interval = _interval(claim)
    return _fmt(claim.tightness) + ("" if interval is None else f" (CI {_fmt(interval[0])} to {_fmt(interval[1])})")


def _fmt(x: float | None, digits: int = 4) -> str:
    return "-" if not _finite(x) else f"{x:.{digits}g}"


def _where(row: _Row) -> str:
    e = row.claim.violation or row.claim.worst
    if e is None:
        return "-"
    k = e.key
    parts = [f"{k.family}/{k.oracle}"] + ([] if row.claim.pointwise else [f"T={k.horizon}"]) + [f"d={k.dim}",
                                                                                               f"instance {e.instance}"]
    if e.step is not None:
        parts.append(f"t={e.step}")
    return ", ".join(parts)


def _horizon_points(row: _Row) -> list[tuple[int, float, float]] | None:
    """(T, measured, bound) of the worst instance re-run at each horizon (``ClaimResult.rate_curve``:
    empty for pointwise lemmas and per-step claims)."""
    curve = row.claim.rate_curve
    return list(curve) if len(curve) >= 2 else None


def _slopes(row: _Row) -> tuple[float | None, float | None] | None:
    points = _horizon_points(row)
    if points is None:
        return None
    return loglog_slope([(T, m) for T, m, _ in points]), loglog_slope([(T, b) for T, _, b in points])


def _figures(results: Sequence[CheckResult]) -> tuple[bytes, dict[str, bytes]]:
    rows = _rows(results)
    chart = tightness_chart([row.label for row in rows], [row.claim.tightness for row in rows],
                            [row.claim.verdict for row in rows])
    figures = {}
    for row in rows:
        if row.claim.instances == 0:
            continue
        figures[row.slug] = claim_figure(f"{row.label} ({row.claim.verdict})", row.claim.tightness_samples,
                                         row.claim.tightness_unit, _horizon_points(row))
    return chart, figures


def _errata(results: Sequence[CheckResult]) -> list[_Row]:
    return [row for row in _rows(results) if row.claim.verdict == "erratum"]


def _corrected(row: _Row) -> tuple[Any, ClaimResult | None] | None:
    """The corrected claim (spec Claim) and its result, when the erratum names one."""
    spec_claim = row.spec_claim
    name = getattr(spec_claim, "corrected_by", None) or getattr(row.claim, "corrected_by", None)
    if not name:
        return None
    try:
        corrected = row.result.spec.claim(name)
    except KeyError:
        return None
    return corrected, next((c for c in row.result.claims if c.name == name), None)


def _setting_lines(result: CheckResult) -> list[dict[str, Any]]:
    out = []
    for s in result.spec.settings:
        algorithm = "pointwise (at sampled points w and directions v)" if s.pointwise else s.algorithm
        draws = "oracles " + ", ".join(s.noise)
        if s.distribution:
            algorithm = "generated finite distributions (exact expectations)"
            draws = "T + 1 atoms per distribution"
        if getattr(s, "online", None) is not None:
            draws = (f"online losses <g_t, w> from the adversaries {', '.join(s.adversaries) or 'all but the stationary'}"
                     f" on the {s.online} set; noise {', '.join(s.noise)}")
        elif result.algorithm and s.runs_algorithm:
            algorithm = f"{result.algorithm} (replacing {s.algorithm})"
        if getattr(s, "coupled", None) is not None:
            k = s.coupled
            draws += (f"; compared with {k.algorithm} run for T' = {k.horizon} steps"
                      + (f" with batch size {k.batch_size}" if k.batch_size is not None else "")
                      + "".join(f", {name} = {value}" for name, value in k.hyper.items())
                      + (" on the same samples" if k.shared_samples else " on independent samples"))
        hyper = dict(s.hyper)
        overridden = {k: v for k, v in dict(result.hyper).items() if s.runs_algorithm}
        out.append({"name": s.name, "algorithm": algorithm, "hyper": hyper, "overridden": overridden,
                    "free": dict(s.free), "draws": draws, "minibatch": tuple(getattr(s, "minibatch", ()))})
    return out


def _versions_text(settings: Mapping[str, Any]) -> str:
    versions = settings.get("versions") or {}
    return ", ".join(f"{k} {v}" for k, v in versions.items())


# ----------------------------------------------------------------------------------------------
# Markdown


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~$])")


def md(text: Any) -> str:
    """Plain text made inert in GitHub Markdown: HTML characters escaped, Markdown punctuation
    backslash-escaped, newlines kept inside the paragraph."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False)).replace("\n", " ")


def _md_math(expr: Any) -> str:
    return f"${latex(expr)}$"


def render_markdown(results: Sequence[CheckResult], settings: Mapping[str, Any],
                    figures: Mapping[str, str] | None = None, chart: str | None = "tightness.png") -> str:
    """The report as GitHub-flavoured Markdown; ``figures`` maps a claim's slug to the relative
    path of its PNG, ``chart`` is the relative path of the tightness chart."""
    figures = dict(figures or {})
    info = summary(results)
    c = info["counts"]
    lines = ["# theorycheck bound report", "", "## Summary", "",
             f"{info['results']} results, {info['claims']} claims; {info['proof_steps_verified']} of "
             f"{info['proof_steps']} proof steps verified by sympy.", "",
             "| holds | violated | " + ("erratum | " if c.get("erratum") else "") + "not applicable |",
             "|---:|---:|" + ("---:|" if c.get("erratum") else "") + "---:|",
             f"| {c['holds']} | {c['violated']} | " + (f"{c['erratum']} | " if c.get("erratum") else "")
             + f"{c['not-applicable']} |", "", md(TIGHTNESS_NOTE), ""]
    for title, key in (("Tightest bounds", "tightest"), ("Loosest bounds", "loosest")):
        if info[key]:
            lines += [f"**{title}** (claims that hold): " + "; ".join(
                f"[{md(row.label)}](#{_anchor(row.result.spec.id)}) {_tightness_text(row.claim)}" for row in info[key]), ""]
    lines += ["**Run settings**", "", "| setting | value |", "|---|---|"]
    for k, v in settings.items():
        if k != "versions" and v is not None:
            lines.append(f"| {md(k)} | {md(_setting_value(v))} |")
    if settings.get("versions"):
        lines.append(f"| versions | {md(_versions_text(settings))} |")
    lines.append("")
    if chart:
        lines += [f"![tightness of every claim, coloured by verdict]({chart})", ""]
    lines += ["| result | claim | kind | verdict | tightness | instances | worst instance | search |",
              "|---|---|---|---|---:|---:|---|---|"]
    for row in _rows(results):
        lines.append(f"| [{md(row.result.spec.id)}](#{_anchor(row.result.spec.id)}) | {md(row.claim.name)} | "
                     f"{md(row.claim.kind)} | **{md(row.claim.verdict)}** | {md(_tightness_text(row.claim))} | "
                     f"{row.claim.instances} | {md(_where(row))} | {md(row.claim.search)} |")
    lines.append("")
    errata = _errata(results)
    if errata:
        lines += ["## Errata", ""]
        for row in errata:
            lines += _md_erratum(row)
    lines += ["## Results", ""]
    for r in results:
        lines += _md_result(r, figures)
    return "\n".join(lines) + "\n"


def _anchor(spec_id: str) -> str:
    """GitHub's heading anchor of ``## <spec_id>: ...`` (lower case, punctuation dropped)."""
    return "result-" + re.sub(r"[^a-z0-9-]", "", spec_id.lower())


def _setting_value(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v))
    if isinstance(v, Mapping):
        return ", ".join(f"{k}={x}" for k, x in v.items())
    return str(v)


def _md_erratum(row: _Row) -> list[str]:
    claim, spec_claim = row.claim, row.spec_claim
    out = [f"### {md(row.label)}", ""]
    if spec_claim is not None:
        out.append(f"- as written: {_md_math(relation(spec_claim.measured, spec_claim.bound))} — {md(claim.statement)}")
        if getattr(spec_claim, "erratum", None):
            out.append(f"- what is wrong: {md(spec_claim.erratum)}")
    e = claim.violation
    if e is not None:
        out.append(f"- counterexample: {md(_where(row))}: measured {_fmt(e.measured, 6)} > bound {_fmt(e.bound, 6)}"
                   + (f"; replay `theorycheck replay {claim.counterexample}`" if claim.counterexample else ""))
    corrected = _corrected(row)
    if corrected is not None:
        cc, cr = corrected
        out.append(f"- corrected ({md(cc.name)}): {_md_math(relation(cc.measured, cc.bound))}"
                   + (f" — **{md(cr.verdict)}**, tightness {_fmt(cr.tightness)}" if cr is not None else ""))
    return out + [""]


def _md_result(r: CheckResult, figures: Mapping[str, str]) -> list[str]:
    s = r.spec
    out = [f'<a id="{_anchor(s.id)}"></a>', "", f"## {md(s.id)}: {md(s.title)}", "",
           f"Section {md(s.source.section)}, line {s.source.line} of the notes. Checked in {r.seconds:.1f} s.", ""]
    if s.statement:
        out += [f"> {md(s.statement)}", ""]
    out.append("**Assumptions:** " + ", ".join(f"`{t}` ({md(CLASS_MEANING.get(t, t))})" for t in sorted(s.assumptions)))
    out.append("")
    out.append("**Settings:**")
    out.append("")
    for st in _setting_lines(r):
        parts = [f"`{md(st['name'])}`: {md(st['algorithm'])}"]
        parts += [f"${latex_symbol(k)} = {latex(v)}$" for k, v in st["hyper"].items()]
        parts += [f"{md(k)} := {md(v)} (override)" for k, v in st["overridden"].items()]
        parts += [f"${latex_symbol(k)} \\in [{lo:g}, {hi:g}]$ drawn per instance" for k, (lo, hi) in st["free"].items()]
        parts.append(md(st["draws"]))
        if st["minibatch"]:
            parts.append("minibatch sizes B in {" + ", ".join(map(str, st["minibatch"])) + "}")
        out.append("- " + "; ".join(parts))
    out.append("")
    for c in r.claims:
        row = _Row(r, c)
        spec_claim = row.spec_claim
        out.append(f"### {md(s.id)} {md(c.name)} ({md(c.kind)}): **{md(c.verdict)}**")
        out.append("")
        if spec_claim is not None:
            out += [_md_math(relation(spec_claim.measured, spec_claim.bound)), ""]
        out += [md(c.statement), ""]
        out += _md_evidence(row)
        out += md_table(exact_worst_case.for_result(r, c), md)
        slopes = _slopes(row)
        if slopes is not None:
            out += [f"Fitted log-log slope against T of the worst instance, re-run at each horizon: measured "
                    f"{_fmt(slopes[0], 3)}, bound {_fmt(slopes[1], 3)}.", ""]
        if row.slug in figures:
            out += [f"![{md(row.label)}: tightness histogram"
                    + ("" if _horizon_points(row) is None else " and measured vs bound against T") + f"]({figures[row.slug]})", ""]
    if r.proof_steps:
        out += ["**Proof steps:**", ""]
        out += [f"- {'verified by sympy' if ok else '**NOT verified**'}: {md(d)}" for d, ok in r.proof_steps]
        out.append("")
    return out


def latex_symbol(name: str) -> str:
    return latex(sp.Symbol(name))


def _evidence_sentence(row: _Row, escape: Callable[[str], str], bold: Callable[[str], str]) -> str | None:
    """The evidence of a claim as one paragraph, for Markdown and HTML alike (None: no comparison)."""
    c = row.claim
    e = c.violation or c.worst
    if e is None:
        return None
    dist = c.tightness_distribution()
    text = (f"{c.instances} instances ({c.comparisons} comparisons) on {escape(', '.join(sorted(c.families)))}. "
            f"Worst tightness {bold(_fmt(c.tightness))} (measured {_fmt(e.measured, 6)}, bound {_fmt(e.bound, 6)}) "
            f"at {escape(_where(row))}, found by the {escape(c.search)} search.")
    if e.p_value is not None:
        text += f" Confidence interval of the tightness [{_fmt(e.lower)}, {_fmt(e.upper)}], p-value {_fmt(e.p_value, 3)}."
    if dist:
        text += (f" Tightness per {escape(dist['per'])}: median {_fmt(dist['median'])}, 10%–90% "
                 f"[{_fmt(dist['q10'])}, {_fmt(dist['q90'])}].")
    certificates = certificate_lines(c.families)
    if certificates:
        text += " Certificates of the user families: " + escape("; ".join(certificates)) + "."
    return text


def _md_evidence(row: _Row) -> list[str]:
    c = row.claim
    text = _evidence_sentence(row, md, lambda x: f"**{x}**")
    if text is None:
        return [f"{c.instances} instances; no comparison above the rounding level.", ""]
    out = [text, ""]
    if c.counterexample:
        out += [f"Counterexample: `{c.counterexample}` (replay with `theorycheck replay {c.counterexample}`).", ""]
    return out


# ----------------------------------------------------------------------------------------------
# HTML

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;
color:#222;line-height:1.45}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:14px;
vertical-align:top}th{background:#f0f0f0;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
.v{font-weight:bold;padding:1px 6px;border-radius:3px;color:#fff}
blockquote{border-left:4px solid #ccc;margin:.5em 0;padding:.2em 1em;color:#444;background:#fafafa}
section.result{border-top:2px solid #ddd;margin-top:2em}div.claim{margin:1em 0 1.5em 1em}
math{font-size:115%}img{max-width:100%}code{background:#f3f3f3;padding:0 3px}
.counts span{display:inline-block;margin-right:1.5em;font-size:20px}.small{font-size:13px;color:#555}
"""


def _badge(verdict: str) -> str:
    colour = VERDICT_COLOURS.get(verdict, "#757575")
    return f'<span class="v" style="background:{colour}">{html.escape(verdict)}</span>'


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def render_html(results: Sequence[CheckResult], settings: Mapping[str, Any], chart: bytes,
                figures: Mapping[str, bytes] | None = None) -> str:
    """The report as one self-contained HTML page (plots embedded, no network needed)."""
    esc = html.escape
    figures = dict(figures or {})
    info = summary(results)
    c = info["counts"]
    parts = [f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>theorycheck bound report</title><style>{_CSS}</style></head><body>
<h1>theorycheck bound report</h1>
<h2 id="summary">Summary</h2>
<p>{info['results']} results, {info['claims']} claims; {info['proof_steps_verified']} of {info['proof_steps']}
proof steps verified by sympy.</p>
<p class="counts">"""]
    for verdict in VERDICTS:
        if verdict != "erratum" or c.get("erratum"):
            parts.append(f"<span>{_badge(verdict)} {c.get(verdict, 0)}</span>")
    parts.append(f"</p><p class=\"small\">{esc(TIGHTNESS_NOTE)}</p>")
    for title, key in (("Tightest bounds", "tightest"), ("Loosest bounds", "loosest")):
        if info[key]:
            parts.append(f"<p><b>{title}</b> (claims that hold): " + "; ".join(
                f'<a href="#{esc(_anchor(row.result.spec.id))}">{esc(row.label)}</a> {esc(_tightness_text(row.claim))}'
                for row in info[key]) + "</p>")
    parts.append("<table><tr><th colspan=2>Run settings</th></tr>")
    for k, v in settings.items():
        if k != "versions" and v is not None:
            parts.append(f"<tr><td>{esc(str(k))}</td><td>{esc(_setting_value(v))}</td></tr>")
    if settings.get("versions"):
        parts.append(f"<tr><td>versions</td><td>{esc(_versions_text(settings))}</td></tr>")
    parts.append("</table>")
    parts.append(_img(chart, "tightness of every claim, coloured by verdict"))
    parts.append("<table><tr><th>result</th><th>claim</th><th>kind</th><th>verdict</th><th>tightness</th>"
                 "<th>instances</th><th>worst instance</th><th>search</th></tr>")
    for row in _rows(results):
        parts.append(f'<tr><td><a href="#{esc(_anchor(row.result.spec.id))}">{esc(row.result.spec.id)}</a></td>'
                     f"<td>{esc(row.claim.name)}</td><td>{esc(row.claim.kind)}</td><td>{_badge(row.claim.verdict)}</td>"
                     f'<td class="num">{esc(_tightness_text(row.claim))}</td><td class="num">{row.claim.instances}</td>'
                     f"<td>{esc(_where(row))}</td><td>{esc(row.claim.search)}</td></tr>")
    parts.append("</table>")
    errata = _errata(results)
    if errata:
        parts.append('<h2 id="errata">Errata</h2>')
        parts += [_html_erratum(row) for row in errata]
    parts.append("<h2>Results</h2>")
    parts += [_html_result(r, figures) for r in results]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _html_erratum(row: _Row) -> str:
    esc = html.escape
    claim, spec_claim = row.claim, row.spec_claim
    items = []
    if spec_claim is not None:
        items.append(f"<li>as written: {mathml(relation(spec_claim.measured, spec_claim.bound))} — {esc(claim.statement)}</li>")
        if getattr(spec_claim, "erratum", None):
            items.append(f"<li>what is wrong: {esc(spec_claim.erratum)}</li>")
    e = claim.violation
    if e is not None:
        items.append(f"<li>counterexample: {esc(_where(row))}: measured {_fmt(e.measured, 6)} &gt; bound "
                     f"{_fmt(e.bound, 6)}" + (f"; replay <code>theorycheck replay {esc(claim.counterexample)}</code>"
                                              if claim.counterexample else "") + "</li>")
    corrected = _corrected(row)
    if corrected is not None:
        cc, cr = corrected
        items.append(f"<li>corrected ({esc(cc.name)}): {mathml(relation(cc.measured, cc.bound))}"
                     + (f" — {_badge(cr.verdict)} tightness {_fmt(cr.tightness)}" if cr is not None else "") + "</li>")
    return f"<h3>{esc(row.label)}</h3><ul>{''.join(items)}</ul>"


def _html_result(r: CheckResult, figures: Mapping[str, bytes]) -> str:
    esc = html.escape
    s = r.spec
    out = [f'<section class="result" id="{esc(_anchor(s.id))}"><h2>{esc(s.id)}: {esc(s.title)}</h2>',
           f'<p class="small">Section {esc(str(s.source.section))}, line {s.source.line} of the notes. '
           f"Checked in {r.seconds:.1f} s.</p>"]
    if s.statement:
        out.append(f"<blockquote>{esc(s.statement)}</blockquote>")
    out.append("<p><b>Assumptions:</b> " + ", ".join(
        f"<code>{esc(t)}</code> ({esc(CLASS_MEANING.get(t, t))})" for t in sorted(s.assumptions)) + "</p>")
    out.append("<p><b>Settings:</b></p><ul>")
    for st in _setting_lines(r):
        bits = [f"<code>{esc(st['name'])}</code>: {esc(st['algorithm'])}"]
        bits += [mathml(sp.Eq(sp.Symbol(k), v, evaluate=False)) for k, v in st["hyper"].items()]
        bits += [f"{esc(k)} := {esc(str(v))} (override)" for k, v in st["overridden"].items()]
        bits += [f"{mathml(sp.Symbol(k))} ∈ [{lo:g}, {hi:g}] drawn per instance" for k, (lo, hi) in st["free"].items()]
        bits.append(esc(st["draws"]))
        if st["minibatch"]:
            bits.append("minibatch sizes B ∈ {" + ", ".join(map(str, st["minibatch"])) + "}")
        out.append("<li>" + "; ".join(bits) + "</li>")
    out.append("</ul>")
    for c in r.claims:
        row = _Row(r, c)
        spec_claim = row.spec_claim
        out.append(f'<div class="claim"><h3>{esc(c.name)} <span class="small">({esc(c.kind)})</span> {_badge(c.verdict)}</h3>')
        if spec_claim is not None:
            out.append(f"<p>{mathml(relation(spec_claim.measured, spec_claim.bound), display=True)}</p>")
        out.append(f"<p>{esc(c.statement)}</p>")
        out.append(_html_evidence(row))
        out.append(html_table(exact_worst_case.for_result(r, c)))
        slopes = _slopes(row)
        if slopes is not None:
            out.append(f"<p>Fitted log-log slope against T of the worst instance, re-run at each horizon: measured "
                       f"<b>{_fmt(slopes[0], 3)}</b>, bound <b>{_fmt(slopes[1], 3)}</b>.</p>")
        if row.slug in figures:
            out.append(_img(figures[row.slug], f"{row.label}: tightness histogram"
                            + ("" if _horizon_points(row) is None else " and measured vs bound against T")))
        out.append("</div>")
    if r.proof_steps:
        out.append("<p><b>Proof steps:</b></p><ul>" + "".join(
            f"<li>{'verified by sympy' if ok else '<b>NOT verified</b>'}: {esc(d)}</li>" for d, ok in r.proof_steps)
            + "</ul>")
    out.append("</section>")
    return "\n".join(out)


def _html_evidence(row: _Row) -> str:
    esc = html.escape
    c = row.claim
    text = _evidence_sentence(row, esc, lambda x: f"<b>{x}</b>")
    if text is None:
        return f"<p>{c.instances} instances; no comparison above the rounding level.</p>"
    out = f"<p>{text}</p>"
    if c.counterexample:
        out += (f"<p>Counterexample: <code>{esc(c.counterexample)}</code> (replay with "
                f"<code>theorycheck replay {esc(c.counterexample)}</code>).</p>")
    return out


# ----------------------------------------------------------------------------------------------
# JSON and files


def report_json(results: Sequence[CheckResult], settings: Mapping[str, Any]) -> list[dict]:
    """The ``check --format json`` objects, each with the spec's statement and assumptions and the
    run's settings added."""
    out = []
    for r in results:
        document = exact_worst_case.annotate(r, r.as_dict())
        document["statement"] = r.spec.statement
        document["assumptions"] = sorted(r.spec.assumptions)
        document["certificates"] = certificate_lines(f for c in r.claims for f in c.families)
        document["run"] = dict(settings)
        out.append(document)
    return out


def write_report(results: Sequence[CheckResult], out: str | Path, formats: Iterable[str] = ("html", "md", "json"),
                 settings: Mapping[str, Any] | None = None) -> list[Path]:
    """Write report.{html,md,json} (those in ``formats``) into ``out``, with tightness.png and the
    per-claim plots under ``plots/`` for the Markdown; return the report paths."""
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    settings = dict(settings or {})
    settings.setdefault("versions", package_versions())
    formats = list(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in ("html", "md", "json")]
    if unknown:
        raise ValueError(f"unknown report format {unknown[0]!r}; use html, md or json")
    chart, figures = _figures(results) if {"html", "md"} & set(formats) else (b"", {})
    if chart:
        (directory / "tightness.png").write_bytes(chart)
    written = []
    for fmt in formats:
        path = directory / f"report.{fmt}"
        if fmt == "json":
            path.write_text(json.dumps(report_json(results, settings), indent=1), encoding="utf-8")
        elif fmt == "md":
            plots = directory / "plots"
            plots.mkdir(exist_ok=True)
            for slug, png in figures.items():
                (plots / f"{slug}.png").write_bytes(png)
            path.write_text(render_markdown(results, settings, {slug: f"plots/{slug}.png" for slug in figures}),
                            encoding="utf-8")
        else:
            path.write_text(render_html(results, settings, chart, figures), encoding="utf-8")
        written.append(path)
    return written
