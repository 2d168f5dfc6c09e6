"""Hessian-vector products of every smooth family (``ProblemBatch.hvp``) against explicit Hessians from
torch.autograd.functional.hessian of an independent torch loss, and against central finite
differences of the family's gradient."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from problems import FAMILIES, ProblemBatch

BATCH, REPLICAS = 4, 3
#: The families with a Hessian (smooth ones; l1-regression and hinge have kinks and no HVP).
TWICE_DIFFERENTIABLE = sorted(name for name, f in FAMILIES.items() if "smooth" in f.classes)


def torch_loss(problem: ProblemBatch):
    """The loss as a torch function of w (B, R, d); the logistic families compute their loss in
    numpy, so its loss is rebuilt here in torch from the instance parameters."""
    if not problem.family.startswith("logistic"):
        return problem.loss
    info = [problem.describe(b) for b in range(problem.batch_size)]
    X = torch.tensor(np.array([i["X"] for i in info]))
    y = torch.tensor(np.array([i["y"] for i in info]))
    lam = torch.tensor([i["lam"] for i in info], dtype=torch.float64)

    def loss(w: torch.Tensor) -> torch.Tensor:
        margins = y[:, None, :] * torch.einsum("bnd,brd->brn", X, w)
        softplus = torch.relu(-margins) + torch.log1p(torch.exp(-margins.abs()))
        return softplus.mean(-1) + lam[:, None] / 2 * (w * w).sum(-1)

    return loss


def points(problem: ProblemBatch, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    B, d = problem.w1.shape
    w = problem.w1[:, None, :] + torch.randn((B, REPLICAS, d), generator=g, dtype=torch.float64)
    u = torch.randn((B, REPLICAS, d), generator=g, dtype=torch.float64)
    return w, u


def explicit_hessians(loss, w: torch.Tensor) -> torch.Tensor:
    """(B, R, d, d): the diagonal blocks of the Hessian of sum_{b,r} L_b(w_{b,r})."""
    B, R, d = w.shape
    full = torch.autograd.functional.hessian(lambda x: loss(x).sum(), w)
    blocks = full.reshape(B * R, d, B * R, d)
    index = torch.arange(B * R)
    return blocks[index, :, index, :].reshape(B, R, d, d)


@pytest.mark.parametrize("family", TWICE_DIFFERENTIABLE)
@pytest.mark.parametrize("dim", [1, 3])
def test_hvp_matches_explicit_hessian(family: str, dim: int) -> None:
    problem = FAMILIES[family].sample(BATCH, dim, torch.Generator().manual_seed(11 + dim))
    w, u = points(problem, 5)
    hessians = explicit_hessians(torch_loss(problem), w)
    expected = torch.einsum("brij,brj->bri", hessians, u)
    got = problem.hvp(w, u)
    assert got.shape == (BATCH, REPLICAS, dim)
    scale = torch.linalg.matrix_norm(hessians, ord=2)[..., None] * torch.linalg.vector_norm(u, dim=-1, keepdim=True)
    assert torch.all((got - expected).abs() <= 1e-10 * scale + 1e-13)


@pytest.mark.parametrize("family", TWICE_DIFFERENTIABLE)
def test_hvp_matches_finite_differences_of_the_gradient(family: str) -> None:
    problem = FAMILIES[family].sample(BATCH, 4, torch.Generator().manual_seed(3))
    w, u = points(problem, 8)
    eps = 1e-5
    fd = (problem.grad(w + eps * u) - problem.grad(w - eps * u)) / (2 * eps)
    got = problem.hvp(w, u)
    scale = problem.constants["H"][:, None, None] * torch.linalg.vector_norm(u, dim=-1, keepdim=True)
    assert torch.all((got - fd).abs() <= 1e-6 * scale)


def test_hvp_default_needs_a_torch_gradient() -> None:
    w1 = torch.zeros(1, 2, dtype=torch.float64)

    def numpy_grad(w: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(2 * w.detach().numpy())

    problem = ProblemBatch("numpy-quadratic", frozenset(), lambda w: (w * w).sum(-1), numpy_grad, {}, w1, None, {})
    with pytest.raises(TypeError, match="numpy-quadratic.*hvp="):
        problem.hvp(w1[:, None, :], torch.ones(1, 1, 2, dtype=torch.float64))
