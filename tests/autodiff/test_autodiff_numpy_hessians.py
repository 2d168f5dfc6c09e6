"""Issue 16: full reverse-over-reverse Hessians of losses a user writes with the new numpy
surface, against torch.autograd.functional.hessian of the same loss written in torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import autodiff as ad
import autodiff.numpy as anp
from _autodiff_helpers import assert_close

RNG = np.random.default_rng(21)
A = RNG.standard_normal((6, 3))
B = RNG.standard_normal((6,))
TA, TB = torch.as_tensor(A), torch.as_tensor(B)
EYE = np.eye(3)


def _gp_engine(w):
    K = anp.einsum(A, [0, 2], A * anp.exp(w), [1, 2], [0, 1]) + np.eye(6)
    L = anp.linalg.cholesky(K)
    alpha = anp.linalg.solve(K, B)
    return 0.5 * anp.dot(B, alpha) + anp.sum(anp.log(anp.diag(L)))


def _gp_torch(w):
    K = torch.einsum("ik,jk->ij", TA, TA * torch.exp(w)) + torch.eye(6, dtype=torch.float64)
    L = torch.linalg.cholesky(K)
    return 0.5 * TB @ torch.linalg.solve(K, TB) + torch.log(torch.diagonal(L)).sum()


def _robust_engine(w):
    r = A @ w - B
    return anp.mean(anp.sqrt(1.0 + r * r)) + anp.std([w[0], w[1] * w[2], anp.trace(anp.outer(w, w), 1)])


def _robust_torch(w):
    r = TA @ w - TB
    s = torch.stack([w[0], w[1] * w[2], torch.diagonal(torch.outer(w, w), 1).sum()])
    return torch.sqrt(1.0 + r * r).mean() + s.std(correction=0)


def _spectral_engine(w):
    M = anp.outer(w, w) + anp.diag(anp.cumprod(anp.exp(w * 0.3))) + 2.0 * EYE
    vals = anp.linalg.eigvalsh(M)
    s = anp.linalg.svd(M[:, :2] + anp.kron(w[:1], np.ones((3, 2))), compute_uv=False)
    return anp.sum(anp.sort(vals) * np.arange(1.0, 4.0)) + anp.linalg.slogdet(M)[1] + anp.sum(s * s * s) + anp.sum(w % 0.7)


def _spectral_torch(w):
    M = torch.outer(w, w) + torch.diag(torch.cumprod(torch.exp(w * 0.3), 0)) + 2.0 * torch.eye(3, dtype=torch.float64)
    vals = torch.linalg.eigvalsh(M)
    s = torch.linalg.svdvals(M[:, :2] + torch.kron(w[:1], torch.ones((3, 2), dtype=torch.float64)))
    return (torch.sort(vals).values * torch.arange(1.0, 4.0, dtype=torch.float64)).sum() + torch.linalg.slogdet(M)[1] + (s ** 3).sum() + torch.remainder(w, 0.7).sum()


@pytest.mark.parametrize(
    "engine,reference",
    [(_gp_engine, _gp_torch), (_robust_engine, _robust_torch), (_spectral_engine, _spectral_torch)],
    ids=["gaussian-process-evidence", "robust-regression", "spectral"],
)
def test_hessian_matches_torch(engine, reference):
    w = np.array([0.8, -0.4, 1.3])
    value, grad = ad.value_and_grad(engine)(w)
    tw = torch.tensor(w, requires_grad=True)
    tv = reference(tw)
    (tg,) = torch.autograd.grad(tv, tw)
    assert_close(value, tv.item())
    assert_close(grad, tg.numpy())
    H = ad.hessian(engine)(w)
    tH = torch.autograd.functional.hessian(reference, torch.tensor(w))
    assert_close(H, tH.numpy(), rtol=1e-6, atol=1e-8)
