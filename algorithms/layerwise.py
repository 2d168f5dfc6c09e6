"""LARS and LAMB as section 24.2 of the notes defines them (line 3700), batched over instances and
replicas: the parameter vector is cut into layers W_1, ..., W_k (``layers``: their sizes, in order,
summing to d; None: one layer), and each layer moves by exactly eta ||(W_i)_t|| (its trust ratio)
in the direction of a normalized per-layer update.

LARS:  (W_i)_{t+1} = (W_i)_t - eta ||(W_i)_t|| g_i / ||g_i||,  g_i = grad_{W_i} l(w_t, z_t).

LAMB (the notes' Adam-flavoured form; every operation on M, V, D per coordinate, one beta for both
averages, M_1 = V_1 = 0 as the notes start no state):

    M_{t+1} = beta M_t + (1 - beta) g_t,   V_{t+1} = beta V_t + (1 - beta) g_t^2,
    D_{t+1} = M_{t+1} / sqrt(V_{t+1}),     (W_i)_{t+1} = (W_i)_t - eta ||(W_i)_t|| (D_i)_{t+1} / ||(D_i)_{t+1}||.

A layer whose direction is 0 (a zero gradient; a coordinate with V = 0 contributes 0 to D) does not move.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from algorithms.protocol import HyperParameter, Oracle, as_schedule

Tensor = torch.Tensor


def layer_step(w: Tensor, direction: Tensor, eta: Tensor | float, layers: Sequence[int] | None) -> Tensor:
    """w minus eta ||W_i|| D_i/||D_i|| in every layer i (sizes ``layers``; None: one layer)."""
    sizes = [w.shape[-1]] if layers is None else [int(n) for n in layers]
    if sum(sizes) != w.shape[-1] or min(sizes) < 1:
        raise ValueError(f"layers {sizes} must be positive sizes summing to the dimension {w.shape[-1]}")
    parts = []
    for W, Dir in zip(torch.split(w, sizes, dim=-1), torch.split(direction, sizes, dim=-1)):
        norm = torch.linalg.vector_norm(Dir, dim=-1, keepdim=True)
        unit = torch.where(norm > 0, Dir / torch.where(norm > 0, norm, torch.ones_like(norm)), torch.zeros_like(Dir))
        parts.append(W - eta * torch.linalg.vector_norm(W, dim=-1, keepdim=True) * unit)
    return torch.cat(parts, dim=-1)


class LARS:
    """LARS (section 24.2): per-layer normalized SGD with the learning rate scaled by ||W_i||."""

    returns_fresh_iterates = True  # algorithms.protocol

    def __init__(self, eta: HyperParameter, layers: Sequence[int] | None = None) -> None:
        self.eta, self.layers = as_schedule(eta), layers

    def init(self, w1: Tensor) -> Any:
        return None

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        return layer_step(w, oracle(w), self.eta(t), self.layers), state


class LAMB:
    """LAMB (section 24.2): the Adam displacement M/sqrt(V), normalized per layer and scaled by ||W_i||."""

    returns_fresh_iterates = True  # algorithms.protocol

    def __init__(self, eta: HyperParameter, beta: HyperParameter = 0.9, layers: Sequence[int] | None = None) -> None:
        self.eta, self.beta, self.layers = as_schedule(eta), as_schedule(beta), layers

    def init(self, w1: Tensor) -> Any:
        return {"M": torch.zeros_like(w1), "V": torch.zeros_like(w1)}

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        g, beta = oracle(w), self.beta(t)
        M = beta * state["M"] + (1 - beta) * g
        V = beta * state["V"] + (1 - beta) * g * g
        D = torch.where(V > 0, M / torch.sqrt(torch.where(V > 0, V, torch.ones_like(V))), torch.zeros_like(M))
        return layer_step(w, D, self.eta(t), self.layers), {"M": M, "V": V}
