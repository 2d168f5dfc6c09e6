"""Exact floating-point references for tests (imported by test modules; tests/ is on sys.path)."""
from __future__ import annotations

from fractions import Fraction

import torch


def assert_rounded_descent(new: torch.Tensor, w: torch.Tensor, eta: torch.Tensor, g: torch.Tensor) -> None:
    """Each coordinate of ``new`` is w - eta g rounded to a double once (the multiply and add fused,
    as CPU vector lanes do) or twice (eta g rounded first, as a scalar tail does), computed exactly
    with fractions: the two floating-point evaluations of w - eta g, nothing else."""
    for n, x, e, y in zip(new.flatten().tolist(), w.flatten().tolist(), eta.flatten().tolist(), g.flatten().tolist()):
        once = float(Fraction(x) - Fraction(e) * Fraction(y))
        twice = float(Fraction(x) - Fraction(e * y))
        assert n in (once, twice), f"{n!r} is neither {once!r} nor {twice!r} (w={x!r}, eta={e!r}, g={y!r})"
