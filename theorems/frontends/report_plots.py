"""Plots of the reports, as PNG bytes: the tightness of every claim, and per claim a histogram
of tightness over instances and a log-log plot of measured and bound against the horizon T."""
from __future__ import annotations

import io
import math
from typing import Sequence

VERDICT_COLOURS = {"holds": "#2e7d32", "violated": "#c62828", "erratum": "#ef6c00", "not-applicable": "#757575"}


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _png(fig) -> bytes:
    plt = _pyplot()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def _plain_formatter():
    from matplotlib.ticker import FuncFormatter
    return FuncFormatter(lambda v, _: f"{v:.3g}")


def loglog_slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(value) against log(T) over the points (T, value) with both
    positive and finite; None with fewer than two distinct horizons."""
    xs, ys = [], []
    for T, v in points:
        if T > 0 and v is not None and math.isfinite(v) and v > 0:
            xs.append(math.log(T))
            ys.append(math.log(v))
    if len(set(xs)) < 2:
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


def tightness_chart(labels: Sequence[str], values: Sequence[float | None], verdicts: Sequence[str]) -> bytes:
    """A horizontal bar chart of each claim's tightness, coloured by verdict."""
    plt = _pyplot()
    shown = [v if v is not None and math.isfinite(v) else 0.0 for v in values]
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(labels) + 1.2))
    ax.barh(range(len(labels)), [min(max(v, 0.0), 2.0) for v in shown],
            color=[VERDICT_COLOURS.get(v, "#757575") for v in verdicts])
    ax.axvline(1.0, color="black", linewidth=1, linestyle="--")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max(1.1, min(2.0, max(shown, default=1.0) * 1.05)))
    ax.set_xlabel("tightness at the worst instance (dashed: bound attained; bars capped at 2)", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def claim_figure(title: str, samples: Sequence[float], unit: str,
                 horizons: Sequence[tuple[int, float, float]] | None) -> bytes:
    """Histogram of tightness (left) and, when ``horizons`` has (T, measured, bound) at two or
    more horizons, measured and bound against T on log-log axes with fitted slopes (right)."""
    plt = _pyplot()
    rate = horizons is not None and len({T for T, _, _ in horizons}) >= 2
    fig, axes = plt.subplots(1, 2 if rate else 1, figsize=(9.5 if rate else 5.2, 2.8))
    axes = list(axes) if rate else [axes]
    ax = axes[0]
    finite = [x for x in samples if math.isfinite(x)]
    if finite:
        low, high = min(finite), max(finite)  # an identity's values lie within a few ulps of 1:
        width = max(high - low, 1e-6 * max(abs(high), 1.0))  # widen so 40 bins have finite size
        ax.hist(finite, bins=40, range=(low, low + width), color="#5c6bc0")
        ax.axvline(1.0, color="black", linewidth=1, linestyle="--")
    else:
        ax.text(0.5, 0.5, "no applicable instance", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel(f"tightness per {unit} ({len(finite)} values; dashed: 1)", fontsize=8)
    ax.set_ylabel("count", fontsize=8)
    ax.tick_params(labelsize=7)
    if rate:
        ax = axes[1]
        Ts = [T for T, _, _ in horizons]
        for series, colour, label in ((1, "#c62828", "measured"), (2, "#1565c0", "bound")):
            pos = [(h[0], h[series]) for h in horizons
                   if h[series] is not None and math.isfinite(h[series]) and h[series] > 0]
            slope = loglog_slope(pos)
            text = f"{label} (slope {slope:.2f})" if slope is not None else label
            if pos:
                ax.loglog([p[0] for p in pos], [p[1] for p in pos], "o-", color=colour, label=text, markersize=4)
        ax.set_xticks(Ts, [str(T) for T in Ts])
        ax.minorticks_off()
        ax.yaxis.set_major_formatter(_plain_formatter())  # plain labels: mathtext ticks are slow
        ax.set_xlabel("horizon T (the worst instance found, re-run at each T)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.08 if rate else 0.14, right=0.98, bottom=0.17, top=0.86, wspace=0.25)
    return _png(fig)
