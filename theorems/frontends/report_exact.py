"""The report's exact-worst-case table of a claim (issue 12): per horizon, the theorem's bound, the
exact worst case on the same parameters (theorems/engine/exact_worst_case.py) and the worst case
the searches found, with exact / bound (how loose the theorem is) and found / exact (how close the
search came)."""
from __future__ import annotations

import html
from typing import Any

from theorems.engine.exact_worst_case import COMPUTED, NOT_COMPUTED, Comparison, Row

HEADER = ("T", "t", "family", "bound", "exact worst case", "found", "exact / bound", "found / exact")


def _header(comparison: Comparison) -> tuple[str, ...]:
    """``HEADER``, with "PEP upper bound" for "exact worst case" where the PEP is a relaxation."""
    if comparison.exact:
        return HEADER
    return tuple(h.replace("exact worst case", "PEP upper bound").replace("exact", "PEP") for h in HEADER)


def _cells(row: Row) -> tuple[str, ...]:
    fields = row.as_dict()
    ratio = [("-" if fields[k] is None else f"{fields[k]:.4g}") for k in ("exact_over_bound", "found_over_exact")]
    return (str(row.T), "-" if row.step is None else str(row.step), row.family, f"{row.bound:.6g}",
            f"{row.exact:.6g}", f"{row.found:.6g}", *ratio)


def _caption(comparison: Comparison) -> str:
    what = "exact worst case" if comparison.exact else "worst case (an upper bound from a PEP relaxation)"
    return f"Bound, {what} and worst case found, at the worst instance of each horizon ({comparison.method})."


def html_table(comparison: Comparison | None) -> str:
    """The table as HTML ("" for a claim without a PEP; one line when not computed)."""
    esc = html.escape
    if comparison is None:
        return ""
    if comparison.status != COMPUTED:
        return f"<p><b>Exact worst case:</b> {NOT_COMPUTED} ({esc(comparison.reason)}).</p>"
    head = "".join(f"<th>{esc(h)}</th>" for h in _header(comparison))
    body = "".join("<tr>" + "".join(f'<td class="num">{esc(c)}</td>' for c in _cells(r)) + "</tr>"
                   for r in comparison.rows)
    return (f'<p class="small">{esc(_caption(comparison))}</p>'
            f'<table class="exact"><tr>{head}</tr>{body}</table>')


def md_table(comparison: Comparison | None, escape: Any) -> list[str]:
    """The table as Markdown lines (none for a claim without a PEP)."""
    if comparison is None:
        return []
    if comparison.status != COMPUTED:
        return [f"**Exact worst case:** {NOT_COMPUTED} ({escape(comparison.reason)}).", ""]
    lines = [escape(_caption(comparison)), "", "| " + " | ".join(_header(comparison)) + " |",
             "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(escape(c) for c in _cells(r)) + " |" for r in comparison.rows]
    return lines + [""]
