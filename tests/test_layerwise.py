"""LARS and LAMB (algorithms/layerwise.py, section 24.2) against a hand computation in numpy, and
the per-layer trust ratio: every layer moves by exactly eta ||(W_i)_t||."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from algorithms import ALGORITHMS, LAMB, LARS
from algorithms.layerwise import layer_step

LAYERS = (2, 3, 1)


def scripted(T: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(2, 4, sum(LAYERS))) for _ in range(T)], rng.normal(size=(2, 4, sum(LAYERS)))


def hand(w1: np.ndarray, grads: list[np.ndarray], eta: float, beta: float | None) -> list[np.ndarray]:
    """The notes' updates, one instance, replica and layer at a time."""
    out, w, M, V = [w1.copy()], w1.copy(), np.zeros_like(w1), np.zeros_like(w1)
    for g in grads:
        if beta is None:
            direction = g
        else:
            M, V = beta * M + (1 - beta) * g, beta * V + (1 - beta) * g * g
            direction = M / np.sqrt(V)
        new = w.copy()
        for b, r in np.ndindex(*w.shape[:2]):
            start = 0
            for size in LAYERS:
                part = slice(start, start + size)
                d = direction[b, r, part]
                new[b, r, part] = w[b, r, part] - eta * np.linalg.norm(w[b, r, part]) * d / np.linalg.norm(d)
                start += size
        w = new
        out.append(w.copy())
    return out


@pytest.mark.parametrize("beta", [None, 0.8])
def test_lars_and_lamb_match_a_hand_computed_loop(beta) -> None:
    T, eta = 5, 0.1
    grads, w1 = scripted(T, 3)
    algorithm = LARS(eta, LAYERS) if beta is None else LAMB(eta, beta, LAYERS)
    calls = iter(grads)
    w = torch.as_tensor(w1)
    state = algorithm.init(w)
    ours = [w1]
    for t in range(1, T + 1):
        w, state = algorithm.step(w, state, lambda x, m=1: torch.as_tensor(next(calls)), t)
        ours.append(w.numpy())
    for a, b in zip(ours, hand(w1, grads, eta, beta)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["LARS", "LAMB"])
def test_every_layer_moves_by_its_trust_ratio(name: str) -> None:
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(3, 5, 6, generator=gen, dtype=torch.float64)
    algorithm = ALGORITHMS[name](eta=0.05, layers=LAYERS)
    state = algorithm.init(w)
    for t in range(1, 4):
        moved, state = algorithm.step(w, state, lambda x, m=1: torch.randn(x.shape, generator=gen, dtype=x.dtype), t)
        for before, after in zip(torch.split(w, LAYERS, -1), torch.split(moved, LAYERS, -1)):
            torch.testing.assert_close(torch.linalg.vector_norm(after - before, dim=-1),
                                       0.05 * torch.linalg.vector_norm(before, dim=-1), rtol=1e-12, atol=1e-15)
        w = moved


def test_a_layer_with_zero_direction_stays_and_layers_must_cover_the_vector() -> None:
    w = torch.ones(1, 1, 6, dtype=torch.float64)
    direction = torch.cat([torch.zeros(1, 1, 2), torch.ones(1, 1, 4)], -1).double()
    moved = layer_step(w, direction, 0.1, LAYERS)
    assert torch.equal(moved[..., :2], w[..., :2]) and not torch.equal(moved[..., 2:], w[..., 2:])
    with pytest.raises(ValueError, match="summing to the dimension"):
        layer_step(w, direction, 0.1, (2, 2))
