"""Adam (Algorithm 12) against hand computations and torch.optim.Adam, iterate for iterate; with
beta1 = beta2 = 0 it is sign descent (section 17.2)."""
from __future__ import annotations

import math

import pytest
import torch

from algorithms import torch_optimizer
from algorithms.adam import Adam
from tests.test_online_algorithms import as_batch, play


def test_adam_by_hand() -> None:
    """beta1 = 1/2, beta2 = 3/4, g = 2 then 1: m_hat_1 = 2, v_hat_1 = 4, step eta; m_2 = 1,
    m_hat_2 = 4/3, v_2 = 1, v_hat_2 = 16/7, step eta (4/3)/(4/sqrt(7)) = eta sqrt(7)/3."""
    ws = play(Adam(0.1, beta1=0.5, beta2=0.75), as_batch(1.0), [as_batch(2.0), as_batch(1.0)])
    assert math.isclose(float(ws[1]), 0.9, rel_tol=1e-15)
    assert math.isclose(float(ws[2]), 0.9 - 0.1 * math.sqrt(7) / 3, rel_tol=1e-15)


def test_bias_corrected_first_step_is_a_sign_step() -> None:
    """m_hat_1 = g_1 and v_hat_1 = g_1^2 for every beta: the first step is eta sign(g_1)."""
    g = as_batch(3.0, -1e-6, 250.0)
    for beta1, beta2 in ((0.9, 0.999), (0.0, 0.5), (0.99, 0.0)):
        ws = play(Adam(0.25, beta1=beta1, beta2=beta2), as_batch(0.0, 0.0, 0.0), [g])
        assert torch.allclose(ws[1], -0.25 * torch.sign(g), rtol=1e-12, atol=0)


def test_zero_betas_give_sign_descent() -> None:
    generator = torch.Generator().manual_seed(1)
    gradients = [torch.randn(2, 3, 4, generator=generator, dtype=torch.float64) for _ in range(10)]
    w1 = torch.zeros(2, 3, 4, dtype=torch.float64)
    ws = play(Adam(0.5, beta1=0.0, beta2=0.0), w1, gradients)
    for t, g in enumerate(gradients):
        assert torch.allclose(ws[t + 1] - ws[t], -0.5 * torch.sign(g), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("beta1, beta2, eps", [(0.9, 0.999, 0.0), (0.9, 0.999, 1e-8), (0.5, 0.9, 1e-3),
                                               (0.0, 0.99, 0.0), (0.99, 0.5, 0.0)])
def test_adam_is_torch_adam_iterate_for_iterate(beta1: float, beta2: float, eps: float) -> None:
    """Algorithm 12 (eps added to the root as torch does; eps = 0 is the notes' update) and
    torch.optim.Adam(lr=eta, betas, eps) agree at every iterate, with one lr per instance."""
    generator = torch.Generator().manual_seed(2)
    B, R, d, T = 3, 2, 5, 40
    w1 = torch.randn(B, R, d, generator=generator, dtype=torch.float64)
    gradients = [torch.randn(B, R, d, generator=generator, dtype=torch.float64) * 10 ** (t % 7 - 3) for t in range(T)]
    eta = torch.tensor([1e-3, 0.1, 3.0], dtype=torch.float64).reshape(B, 1, 1)
    ours = play(Adam(eta, beta1=beta1, beta2=beta2, eps=eps), w1, gradients)
    theirs = play(torch_optimizer(torch.optim.Adam, betas=(beta1, beta2), eps=eps)(eta=eta), w1, gradients)
    for a, b in zip(ours, theirs):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)


def test_adam_accepts_one_beta_per_instance() -> None:
    betas = torch.tensor([0.0, 0.5], dtype=torch.float64).reshape(2, 1, 1)
    g = [torch.tensor([[[1.0]], [[1.0]]], dtype=torch.float64), torch.tensor([[[-1.0]], [[-1.0]]], dtype=torch.float64)]
    ws = play(Adam(1.0, beta1=betas, beta2=0.0), torch.zeros(2, 1, 1, dtype=torch.float64), g)
    # beta1 = 0: back to 0; beta1 = 1/2: m_2 = -1/4, m_hat_2 = -1/3, so w_3 = -1 + 1/3
    assert torch.allclose(ws[2].reshape(-1), torch.tensor([0.0, -2 / 3], dtype=torch.float64), rtol=1e-15)


def test_adam_rejects_betas_outside_the_unit_interval() -> None:
    with pytest.raises(ValueError, match="beta1"):
        Adam(0.1, beta1=1.0)
