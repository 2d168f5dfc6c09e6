"""Online GD (Theorem 15.1), projected adaptive GD (Theorem 16.2) and diagonal AdaGrad (Theorem
16.3) against hand computations, and diagonal AdaGrad against torch.optim.Adagrad."""
from __future__ import annotations

import math

import pytest
import torch

from algorithms import ALGORITHMS, torch_optimizer
from algorithms.adagrad_diag import DiagonalAdaGrad, diagonal_adagrad_as_printed
from algorithms.online_gd import OnlineGD, ProjectedAdaptiveGD, projected_adaptive_gd_as_printed


def play(algorithm, w1: torch.Tensor, gradients: list[torch.Tensor]) -> list[torch.Tensor]:
    """The iterates w_1, ..., w_{T+1} of ``algorithm`` fed ``gradients`` in turn."""
    w, state, out = w1, algorithm.init(w1), [w1]
    for t, g in enumerate(gradients, start=1):
        w, state = algorithm.step(w, state, lambda point, m=1, g=g: g.clone(), t)
        out.append(w)
    return out


def as_batch(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64).reshape(1, 1, -1)


def test_online_gd_by_hand() -> None:
    ws = play(OnlineGD(0.5), as_batch(1.0), [as_batch(2.0), as_batch(-1.0)])
    assert [float(w) for w in ws] == [1.0, 0.0, 0.5]


def test_online_gd_projected_by_hand() -> None:
    ws = play(OnlineGD(1.0, radius=1.0), as_batch(0.0, 0.0), [as_batch(-3.0, -4.0)])
    assert torch.allclose(ws[1], as_batch(0.6, 0.8), atol=1e-15)


def test_projected_adaptive_gd_by_hand() -> None:
    """g_1 = (3, 4): step c g/5; then g_2 = (0, 5): step c g / sqrt(50), projected onto radius 0.5."""
    ws = play(ProjectedAdaptiveGD(1.0, radius=0.5), as_batch(0.0, 0.0), [as_batch(3.0, 4.0), as_batch(0.0, 5.0)])
    assert torch.allclose(ws[1], as_batch(-0.3, -0.4), atol=1e-15)   # (-0.6, -0.8) has norm 1 > 0.5
    unprojected = as_batch(-0.3, -0.4 - 5 / math.sqrt(50))
    assert torch.allclose(ws[2], unprojected * 0.5 / torch.linalg.vector_norm(unprojected), atol=1e-15)


def test_projected_adaptive_gd_as_printed_projects_before_the_step() -> None:
    ws = play(projected_adaptive_gd_as_printed(1.0, 0.5), as_batch(3.0, 0.0), [as_batch(1.0, 0.0)])
    assert torch.allclose(ws[1], as_batch(-0.5, 0.0), atol=1e-15)   # Pi(3, 0) = (0.5, 0), then minus (1, 0)


def test_zero_gradients_do_not_move_the_adaptive_methods() -> None:
    for algorithm in (ProjectedAdaptiveGD(1.0, radius=2.0), DiagonalAdaGrad(1.0, radius=2.0)):
        ws = play(algorithm, as_batch(0.5, -0.5), [as_batch(0.0, 0.0), as_batch(0.0, 1.0)])
        assert torch.equal(ws[1], as_batch(0.5, -0.5))
        assert torch.allclose(ws[2], as_batch(0.5, -1.5), atol=1e-15)


def test_diagonal_adagrad_by_hand() -> None:
    """Per coordinate: c g_t[i] / sqrt(g_1[i]^2 + ... + g_t[i]^2), then clipped to the box."""
    ws = play(DiagonalAdaGrad(2.0, radius=1.5), as_batch(0.0, 1.0), [as_batch(1.0, -4.0), as_batch(1.0, 3.0)])
    assert torch.allclose(ws[1], as_batch(-1.5, 1.5), atol=1e-15)           # (-2, 3) clipped
    assert torch.allclose(ws[2], as_batch(-1.5 - 2 / math.sqrt(2), 1.5 - 2 * 3 / 5).clamp(-1.5, 1.5), atol=1e-15)


def test_diagonal_adagrad_as_printed_clips_before_the_step() -> None:
    ws = play(diagonal_adagrad_as_printed(2.0, 1.5), as_batch(3.0), [as_batch(1.0)])
    assert torch.allclose(ws[1], as_batch(-0.5), atol=1e-15)


def test_unprojected_diagonal_adagrad_is_torch_adagrad() -> None:
    """Without a box, Theorem 16.3's update is torch.optim.Adagrad(lr=c, eps=0) iterate for iterate
    (torch adds its eps to the root, section 16 puts eps^2 under it: they agree at eps = 0)."""
    generator = torch.Generator().manual_seed(0)
    B, R, d, T = 3, 2, 4, 30
    w1 = torch.randn(B, R, d, generator=generator, dtype=torch.float64)
    gradients = [torch.randn(B, R, d, generator=generator, dtype=torch.float64) * 10 ** (t % 5 - 2) for t in range(T)]
    c = torch.tensor([0.1, 1.0, 7.0], dtype=torch.float64).reshape(B, 1, 1)
    theirs = play(torch_optimizer(torch.optim.Adagrad, eps=0.0)(eta=c), w1, gradients)
    ours = play(DiagonalAdaGrad(c), w1, gradients)
    for a, b in zip(ours, theirs):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-12)


def test_registered() -> None:
    assert {"OnlineGD", "ProjectedAdaptiveGD", "DiagonalAdaGrad", "Adam", "ProjectedAdaptiveGD-as-printed",
            "DiagonalAdaGrad-as-printed"} <= set(ALGORITHMS)
