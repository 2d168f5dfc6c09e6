"""Parallel minibatch SGD (Algorithm 13 of the notes, section 19), batched over instances and
replicas, with the M processors simulated one after the other.

In step t processor i = 0..M-1 computes the *sum* g_{t,i} = sum_{j=iB/M}^{(i+1)B/M-1} grad l(w_t, z_{t,j})
of its B/M samples; once all have finished, g_t = (1/B) sum_i g_{t,i} and w_{t+1} = w_t - eta g_t.
The samples are drawn in the order j = 0..B-1 (processor 0's first), so on common random numbers
(algorithms.coupled) the run is minibatch SGD's (Algorithm 6) iterate for iterate: result A13.
"""
from __future__ import annotations

from typing import Any

import torch

from algorithms.protocol import HyperParameter, Oracle, as_schedule

Tensor = torch.Tensor


def _count(value: Any, what: str) -> int:
    """A positive integer given as an int or a tensor whose entries all hold that one integer."""
    flat = torch.as_tensor(value).reshape(-1)
    first = float(flat[0])
    if not (bool((flat == flat[0]).all()) and first >= 1 and first == int(first)):
        raise ValueError(f"ParallelMinibatchSGD: {what} must be one positive integer for the whole batch, got {value!r}")
    return int(first)


class ParallelMinibatchSGD:
    """Algorithm 13: ``workers`` processors each sum the gradients of batch_size/workers samples,
    and the step uses the sum of the processors' sums divided by ``batch_size`` (given directly or
    as ``per_worker`` = batch_size/workers)."""

    returns_fresh_iterates = True  # algorithms.protocol

    def __init__(self, eta: HyperParameter, workers: Any, batch_size: Any = None, per_worker: Any = None) -> None:
        if (batch_size is None) == (per_worker is None):
            raise ValueError("ParallelMinibatchSGD: give the batch as batch_size (B) or as per_worker (B/M), not both")
        self.eta = as_schedule(eta)
        self.workers = _count(workers, "workers")
        self.batch_size = (_count(batch_size, "batch_size") if per_worker is None
                           else self.workers * _count(per_worker, "per_worker"))
        if self.batch_size % self.workers:
            raise ValueError(f"ParallelMinibatchSGD: Algorithm 13 splits the batch evenly, so workers "
                             f"({self.workers}) must divide batch_size ({self.batch_size})")

    def init(self, w1: Tensor) -> Any:
        return None

    def worker_sum(self, w: Tensor, oracle: Oracle) -> Tensor:
        """One processor's g_{t,i}: the sum of its B/M stochastic gradients at w."""
        share = self.batch_size // self.workers
        return share * oracle(w, share)

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        sums = [self.worker_sum(w, oracle) for _ in range(self.workers)]
        return w - self.eta(t) * (torch.stack(sums).sum(0) / self.batch_size), state
