"""Algorithm 3 of the notes (section 3, line 385): SGD over epochs on a finite sum
L = (1/N) sum_i l_i, where each epoch visits every term exactly once in a fresh uniformly random
order: w_{t+1} = w_t - eta_t grad l_{pi_k(j)}(w_t), t = (k - 1) N + j.

The oracle must be a finite-sum sampler (``problems.FiniteSumSampling``): the algorithm asks it
for one permutation per instance and replica at the start of each epoch and for the gradient of
the chosen term.
"""
from __future__ import annotations

from typing import Any

import torch

from algorithms.protocol import HyperParameter, Oracle, as_schedule

Tensor = torch.Tensor


class ShuffledSGD:
    """SGD with random reshuffling: one fresh permutation of the N terms per epoch."""

    returns_fresh_iterates = True  # algorithms.protocol

    def __init__(self, eta: HyperParameter) -> None:
        self.eta = as_schedule(eta)

    def init(self, w1: Tensor) -> Any:
        return {"order": None}

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        if not (hasattr(oracle, "term_grad") and hasattr(oracle, "permutations")):
            raise ValueError("ShuffledSGD needs a finite-sum oracle (problems.FiniteSumSampling) that chooses terms by index")
        position = (t - 1) % oracle.num_terms
        if position == 0:
            state = {"order": oracle.permutations(w)}
        idx = state["order"][..., position]
        return w - self.eta(t) * oracle.term_grad(w, idx), state
