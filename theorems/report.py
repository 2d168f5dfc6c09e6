"""Bound reports: Markdown, HTML (with a tightness chart) and JSON of a set of check results."""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from theorems.checker import CheckResult

_VERDICT_COLOURS = {"holds": "#2e7d32", "violated": "#c62828", "not-applicable": "#757575"}


def _rows(results: Sequence[CheckResult]) -> list[dict[str, Any]]:
    rows = []
    for r in results:
        for c in r.claims:
            worst = c.violation or c.worst
            rows.append({"id": r.spec.id, "title": r.spec.title, "line": r.spec.source.line, "claim": c.name,
                         "kind": c.kind, "verdict": c.verdict, "tightness": c.tightness, "instances": c.instances,
                         "families": ", ".join(sorted(c.families)), "statement": c.statement,
                         "where": "" if worst is None else f"{worst.key.family}/{worst.key.oracle} T={worst.key.horizon} d={worst.key.dim}",
                         "counterexample": c.counterexample or ""})
    return rows


def _fmt(x: float | None) -> str:
    return "-" if x is None or x != x else f"{x:.4g}"


def render_markdown(results: Sequence[CheckResult], settings: Mapping[str, Any]) -> str:
    """The report as a Markdown document."""
    rows = _rows(results)
    violated = sum(1 for row in rows if row["verdict"] == "violated")
    lines = ["# theorycheck bound report", "",
             "Settings: " + ", ".join(f"{k} = {v}" for k, v in settings.items() if v is not None), "",
             f"{len(results)} results, {len(rows)} claims: {len(rows) - violated} without a violation, {violated} violated.",
             "Tightness is measured / bound at the worst instance found (1 = the bound is attained).", "",
             "| result | line | claim | kind | verdict | tightness | instances | worst instance |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['id']} | {row['line']} | {row['claim']} | {row['kind']} | **{row['verdict']}** | "
                     f"{_fmt(row['tightness'])} | {row['instances']} | {row['where']} |")
    lines += ["", "## Statements and proof steps", ""]
    for r in results:
        lines.append(f"### {r.spec.id}: {r.spec.title} (section {r.spec.source.section}, line {r.spec.source.line})")
        lines.append("")
        lines.append(r.spec.statement)
        lines.append("")
        for c in r.claims:
            lines.append(f"- `{c.name}` ({c.kind}): {c.statement} — {c.verdict}"
                         + (f"; counterexample `{c.counterexample}`" if c.counterexample else ""))
        for description, ok in r.proof_steps:
            lines.append(f"- proof step {'verified by sympy' if ok else 'NOT verified'}: {description}")
        lines.append("")
    return "\n".join(lines)


def tightness_chart(results: Sequence[CheckResult]) -> bytes:
    """A horizontal bar chart of each claim's tightness, coloured by verdict, as PNG bytes."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [row for row in _rows(results)]
    labels = [f"{row['id']} {row['claim']}" for row in rows]
    values = [row["tightness"] if row["tightness"] is not None and row["tightness"] == row["tightness"] else 0.0
              for row in rows]
    colours = [_VERDICT_COLOURS.get(row["verdict"], "#757575") for row in rows]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(rows) + 1.2))
    ax.barh(range(len(rows)), [min(v, 2.0) for v in values], color=colours)
    ax.axvline(1.0, color="black", linewidth=1, linestyle="--")
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max(1.1, min(2.0, max(values, default=1.0) * 1.05)))
    ax.set_xlabel("tightness = measured / bound at the worst instance (dashed: bound attained)")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def render_html(results: Sequence[CheckResult], settings: Mapping[str, Any], chart: bytes) -> str:
    """The report as one self-contained HTML page."""
    rows = _rows(results)
    esc = html.escape
    body = []
    for row in rows:
        colour = _VERDICT_COLOURS.get(row["verdict"], "#757575")
        body.append(f"<tr><td>{esc(row['id'])}</td><td>{row['line']}</td><td title=\"{esc(row['statement'])}\">"
                    f"{esc(row['claim'])}</td><td>{esc(row['kind'])}</td>"
                    f"<td style=\"color:{colour};font-weight:bold\">{esc(row['verdict'])}</td>"
                    f"<td>{_fmt(row['tightness'])}</td><td>{row['instances']}</td><td>{esc(row['where'])}</td>"
                    f"<td>{esc(row['counterexample'])}</td></tr>")
    image = base64.b64encode(chart).decode()
    setting_text = ", ".join(f"{esc(str(k))} = {esc(str(v))}" for k, v in settings.items() if v is not None)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>theorycheck bound report</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;font-size:14px}}th{{background:#f0f0f0}}</style></head>
<body><h1>theorycheck bound report</h1><p>{setting_text}</p>
<p>Tightness is measured / bound at the worst instance found; 1 means the bound is attained.</p>
<img alt="tightness of every claim" src="data:image/png;base64,{image}">
<table><tr><th>result</th><th>line</th><th>claim</th><th>kind</th><th>verdict</th><th>tightness</th>
<th>instances</th><th>worst instance</th><th>counterexample</th></tr>
{''.join(body)}</table></body></html>
"""


def write_report(results: Sequence[CheckResult], out: str | Path, formats: Iterable[str] = ("html", "md", "json"),
                 settings: Mapping[str, Any] | None = None) -> list[Path]:
    """Write report.{html,md,json} (those in ``formats``) into ``out``; return their paths."""
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    settings = dict(settings or {})
    written = []
    for fmt in dict.fromkeys(formats):
        path = directory / f"report.{fmt}"
        if fmt == "json":
            path.write_text(json.dumps([r.as_dict() for r in results], indent=1))
        elif fmt == "md":
            path.write_text(render_markdown(results, settings))
        elif fmt == "html":
            chart = tightness_chart(results)
            (directory / "tightness.png").write_bytes(chart)
            path.write_text(render_html(results, settings, chart))
        else:
            raise ValueError(f"unknown report format {fmt!r}; use html, md or json")
        written.append(path)
    return written
