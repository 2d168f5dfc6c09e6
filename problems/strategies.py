"""Hypothesis strategies for generated finite distributions (problems.distributions), for
property tests of the probability background (Propositions 10.4-10.6, Appendix A)."""
from __future__ import annotations

from typing import Iterable

import torch
from hypothesis import strategies as st

from problems.distributions import DISTRIBUTIONS, DistributionBatch


def distribution_batches(names: Iterable[str] | None = None, max_batch: int = 4, max_support: int = 9,
                         max_dim: int = 4) -> st.SearchStrategy[DistributionBatch]:
    """Batches from the registered generators (all, or ``names``) with B, K >= 2 atoms, d and
    the seed drawn by hypothesis (float64, CPU)."""
    chosen = sorted(DISTRIBUTIONS) if names is None else sorted(names)

    def build(name: str, B: int, K: int, d: int, seed: int) -> DistributionBatch:
        return DISTRIBUTIONS[name].sample(B, K, d, torch.Generator().manual_seed(seed))

    return st.builds(build, st.sampled_from(chosen), st.integers(1, max_batch), st.integers(2, max_support),
                     st.integers(1, max_dim), st.integers(0, 2 ** 63 - 1))
