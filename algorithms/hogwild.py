"""Simpler Hogwild! (Algorithm 15 of the notes, section 19) as a sequence of single-coordinate
updates with stale gradients, batched over instances and replicas.

The t-th update to the shared w uses a gradient computed at an older iterate w_{k(t)},
t - k(t) <= tau, and moves one uniformly drawn coordinate j(t):
w_{t+1}[j] = w_t[j] - eta d grad l(w_{k(t)}, z)[j]. The factor d is the one Theorem 19.1's proof
uses (so that the update is unbiased for -eta grad l); Algorithm 15 as printed omits it
(``scale_by_dim=False`` runs it as printed). Who wrote which update is irrelevant to the
sequence w_t, so the M workers are not simulated: the delays k(t) are chosen by a scheduler,
``delays="farthest"`` (an adversary: the iterate of the window farthest from w_t, so the stale
gradient is as wrong as the window allows) or ``"random"`` (uniform over the window), and
``"stalest"`` (always k(t) = max(1, t - tau)). The delay choice never looks at the sample z, as
the theorem's proof needs (E[grad l(w_{k(t)}, z) | w_1..w_t] = grad L(w_{k(t)})).
"""
from __future__ import annotations

from typing import Any

import torch

from algorithms.protocol import HyperParameter, Oracle, as_schedule

Tensor = torch.Tensor

DELAYS = ("farthest", "random", "stalest")


def _staleness(value: Any) -> int:
    """tau: a non-negative integer given as an int or a tensor whose entries all hold it."""
    flat = torch.as_tensor(value).reshape(-1)
    first = float(flat[0])
    if not (bool((flat == flat[0]).all()) and first >= 0 and first == int(first)):
        raise ValueError(f"Hogwild: tau must be one non-negative integer for the whole batch, got {value!r}")
    return int(first)


class Hogwild:
    """Algorithm 15 with staleness at most ``tau`` and the delay scheduler ``delays``; the
    coordinates (and random delays) come from a generator seeded with ``seed`` at ``init``."""

    returns_fresh_iterates = True  # algorithms.protocol

    def __init__(self, eta: HyperParameter, tau: Any = 0, delays: str = "farthest", scale_by_dim: bool = True,
                 seed: int = 0) -> None:
        if delays not in DELAYS:
            raise ValueError(f"Hogwild: delays must be one of {DELAYS}, got {delays!r}")
        self.eta = as_schedule(eta)
        self.tau = _staleness(tau)
        self.delays, self.scale_by_dim, self.seed = delays, bool(scale_by_dim), int(seed)

    def init(self, w1: Tensor) -> Any:
        window = w1[:, :, None, :].expand(*w1.shape[:2], self.tau + 1, w1.shape[-1]).clone()
        generator = torch.Generator(device=w1.device).manual_seed(self.seed)
        return {"window": window, "generator": generator}

    def stale_point(self, w: Tensor, state: Any, t: int) -> Tensor:
        """w_{k(t)}: the iterate of the last tau + 1 (w_{max(1, t - tau)}, ..., w_t) the scheduler picks."""
        window = state["window"]
        size = self.tau + 1
        window[:, :, (t - 1) % size] = w
        valid = min(t, size)
        if valid == 1:
            return w
        B, R = w.shape[:2]
        if self.delays == "stalest":
            slot = torch.full((B, R), (t - valid) % size, dtype=torch.long, device=w.device)
        elif self.delays == "random":
            offset = torch.randint(0, valid, (B, R), generator=state["generator"], device=w.device)
            slot = (t - 1 - offset) % size
        else:  # the filled slots are the first `valid` ones
            slot = (window[:, :, :valid] - w[:, :, None]).square().sum(-1).argmax(-1)
        return window.gather(2, slot[:, :, None, None].expand(B, R, 1, w.shape[-1]))[:, :, 0]

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        g = oracle(self.stale_point(w, state, t))
        B, R, d = w.shape
        j = torch.randint(0, d, (B, R, 1), generator=state["generator"], device=w.device)
        scale = self.eta(t) * (d if self.scale_by_dim else 1)
        return w.scatter_add(-1, j, -scale * g.gather(-1, j)), state
