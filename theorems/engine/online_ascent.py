"""The gradient adversary of online settings: it moves the whole loss sequence and w_1.

For the ``ascent`` adversary (problems/online.py) a round first runs up to ``STEPS`` Adam steps
(learning rate ``LR``) on an oblivious sequence g_1..g_T and on w_1 (kept in the set by a smooth
parametrisation), differentiating regret / (D sqrt(sum_t ||g_t||^2)) through the round's own
algorithm (``run`` with autograd: the built-in online algorithms are written without in-place
updates), then plays the sequence it found. The regret is taken against the worst comparator of
the set, so the objective is Theorem 16.2's tightness up to its constant. Through an algorithm that
does not keep the autograd graph (a torch.optim variant) the gradient flows only through the
regret's explicit terms; one whose backward pass fails gets the sequence reached so far. All
draws come from the round's generator and the ascent is deterministic, so the round replays.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from problems import _random as rnd
from problems.projections import SETS

Tensor = torch.Tensor

#: Ascent steps: ``STEPS``, fewer on long horizons so that a round costs at most about ``BUDGET``
#: differentiated algorithm steps (the quick profile's check must stay fast).
STEPS = 10
BUDGET = 160
LR = 0.05


def _w1(z: Tensor, radius: Tensor, feasible: str) -> Tensor:
    if feasible == "linf-box":
        return radius * torch.tanh(z)
    return radius * z / (1 + torch.linalg.vector_norm(z, dim=-1, keepdim=True))


def _objective(make: Callable[[], Any], sequence: Tensor, w1: Tensor, radius: Tensor, feasible: str) -> Tensor:
    """Per instance, regret / (radius sqrt(sum_t ||g_t||^2)) of the algorithm on ``sequence`` (B, T, d)."""
    algorithm, w = make(), w1
    state, linear, total = algorithm.init(w), torch.zeros_like(w[..., 0]), torch.zeros_like(w)
    for t in range(sequence.shape[1]):
        g = sequence[:, t][:, None, :]
        linear = linear + (g * w).sum(-1)
        total = total + g
        w, state = algorithm.step(w, state, lambda point, m=1, g=g: g, t + 1)
    regret = linear - (total * SETS[feasible].worst(total, radius)).sum(-1)
    return regret[:, 0] / (radius.reshape(-1) * sequence.square().sum((1, 2)).sqrt())


def ascend(make: Callable[[], Any], w1: Tensor, radius: Tensor, feasible: str, horizon: int,
           generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """(sequence (B, T, d), w_1 (B, 1, d)) after the ascent, from a Gaussian sequence of a
    per-instance scale and the round's w_1."""
    B, _, d = w1.shape
    scale = rnd.log_uniform((B, 1, 1), 1e-3, 1e3, generator, w1.device, w1.dtype)
    sequence = (scale * torch.randn((B, horizon, d), generator=generator, dtype=w1.dtype, device=w1.device))
    u = 0.999 * w1 / radius   # strictly inside, where the parametrisation is invertible
    z = torch.atanh(u) if feasible == "linf-box" else u / (1 - torch.linalg.vector_norm(u, dim=-1, keepdim=True))
    sequence, z = sequence.requires_grad_(True), z.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([sequence, z], lr=LR)
    with torch.enable_grad():
        for _ in range(min(STEPS, max(2, BUDGET // horizon))):
            try:
                objective = _objective(make, sequence / scale * scale.detach(), _w1(z, radius, feasible), radius, feasible)
                loss = -torch.nan_to_num(objective, nan=0.0).sum()
                optimizer.zero_grad()
                loss.backward()
            except RuntimeError:   # the algorithm is not differentiable: keep the sequence as it is
                break
            if not all(bool(torch.isfinite(p.grad).all()) for p in (sequence, z) if p.grad is not None):
                break
            optimizer.step()
    return sequence.detach(), _w1(z, radius, feasible).detach()
