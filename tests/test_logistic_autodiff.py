"""The logistic family computes its loss in numpy through autodiff (issue 3's use inside the
toolkit): its gradients and Hessian-vector products must match torch.autograd, and its
constants must hold by independent means (torch Hessians, scipy solves)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from problems.logistic import RegularizedLogistic, grad_np, hvp_np, loss_np


def torch_loss(w: torch.Tensor, X: torch.Tensor, y: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    margins = y[:, None, :] * torch.einsum("bnd,brd->brn", X, w)
    softplus = torch.relu(-margins) + torch.log1p(torch.exp(-margins.abs()))  # exact, no overflow in 2nd order
    return softplus.mean(-1) + lam[:, None] / 2 * (w * w).sum(-1)


def sample(seed: int, dim: int, batch: int = 6):
    problem = RegularizedLogistic().sample(batch, dim, torch.Generator().manual_seed(seed))
    info = [problem.describe(b) for b in range(batch)]
    X = torch.tensor(np.array([i["X"] for i in info]))
    y = torch.tensor(np.array([i["y"] for i in info]))
    lam = torch.tensor([i["lam"] for i in info], dtype=torch.float64)
    return problem, X, y, lam


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2 ** 31), dim=st.integers(1, 6), scale=st.floats(0.01, 30))
def test_autodiff_gradient_and_hvp_match_torch(seed: int, dim: int, scale: float) -> None:
    problem, X, y, lam = sample(seed, dim)
    rng = np.random.default_rng(seed)
    w = torch.tensor(scale * rng.standard_normal((6, 3, dim)), requires_grad=True)
    v = torch.tensor(rng.standard_normal((6, 3, dim)))
    value = torch_loss(w, X, y, lam)
    (g,) = torch.autograd.grad(value.sum(), w, create_graph=True)
    (hv,) = torch.autograd.grad((g * v).sum(), w)
    args = (X.numpy(), y.numpy(), lam.numpy())
    np.testing.assert_allclose(loss_np(w.detach().numpy(), *args), value.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad_np(w.detach().numpy(), *args), g.detach().numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(hvp_np(w.detach().numpy(), v.numpy(), *args), hv.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(problem.grad(w.detach()).numpy(), g.detach().numpy(), rtol=1e-10, atol=1e-13)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2 ** 31), dim=st.integers(1, 5))
def test_hessian_spectrum_lies_in_mu_H(seed: int, dim: int) -> None:
    problem, X, y, lam = sample(seed, dim)
    H, mu = problem.constants["H"], problem.constants["mu"]
    rng = np.random.default_rng(seed)
    for b in range(X.shape[0]):
        for scale in (0.0, 0.1, 1.0, 10.0):
            point = torch.tensor(scale * rng.standard_normal(dim))
            hess = torch.autograd.functional.hessian(lambda u: torch_loss(u[None, None], X[b:b + 1], y[b:b + 1], lam[b:b + 1]).sum(), point)
            eig = torch.linalg.eigvalsh(hess)
            assert eig.max() <= H[b] * (1 + 1e-12) and eig.min() >= mu[b] * (1 - 1e-12)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2 ** 31), dim=st.integers(1, 5))
def test_certified_minimiser_against_scipy(seed: int, dim: int) -> None:
    problem, X, y, lam = sample(seed, dim)
    for b in range(X.shape[0]):
        def f(u: np.ndarray) -> float:
            return float(torch_loss(torch.tensor(u)[None, None], X[b:b + 1], y[b:b + 1], lam[b:b + 1]))

        def jac(u: np.ndarray) -> np.ndarray:
            t = torch.tensor(u, requires_grad=True)
            torch_loss(t[None, None], X[b:b + 1], y[b:b + 1], lam[b:b + 1]).sum().backward()
            return t.grad.numpy()

        found = optimize.minimize(f, problem.w1[b].numpy(), jac=jac, method="BFGS", options={"gtol": 1e-12})
        w_star = problem.w_star[b].numpy()
        assert f(w_star) <= found.fun + 1e-13
        assert problem.constants["Lstar"][b] <= found.fun + 4 * np.finfo(float).eps * abs(found.fun)  # rounding only
        assert np.linalg.norm(found.x - w_star) <= 1e-6
        assert problem.constants["w_star_error"][b] < 1e-10
        # D = ||w1 - w_hat|| + error >= ||w1 - w*||; torch's and numpy's norms of one vector may differ by ulps
        assert problem.constants["D"][b] >= np.linalg.norm(problem.w1[b].numpy() - w_star) * (1 - 4 * np.finfo(float).eps)


def test_the_family_runs_in_the_catalog() -> None:
    from theorems.catalog import CATALOG
    from theorems.engine.checker import check

    result = check(CATALOG["T21.6"], families=["logistic-l2"], counterexample_dir="unused")
    assert result.claims[0].verdict == "holds" and result.claims[0].instances > 0
