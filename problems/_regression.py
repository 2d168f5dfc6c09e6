"""Shared pieces of the regression families: a random design, the rows of the terms a finite-sum
oracle draws, and bounds for a loss (1/n) sum_i phi(<a_i, w> - b_i): its Lipschitz constant when
|phi'| <= 1 and its second-order smoothness constant J (Definition 25.1) when |phi'''| <= 1."""
from __future__ import annotations

import torch

from problems import _random as rnd

Tensor = torch.Tensor


def sample_rows(dim: int, generator: torch.Generator, extra_low: int = 0, spread: int = 2) -> int:
    """The number of rows n = dim + extra_low + U{0..spread dim}, shared by the batch."""
    extra = int(torch.randint(0, spread * dim + 1, (1,), generator=generator, device=generator.device).item())
    return dim + extra_low + extra


def design(batch: int, rows: int, dim: int, generator: torch.Generator, device: torch.device | str,
           dtype: torch.dtype) -> Tensor:
    """Gaussian design (B, n, d) whose columns have log-uniform scales in [0.1, 10]."""
    col_scale = rnd.log_uniform((batch, 1, dim), 0.1, 10.0, generator, device, dtype)
    return rnd.normal((batch, rows, dim), generator, device, dtype) * col_scale


def unit_slope_lipschitz(A: Tensor) -> Tensor:
    """A proven bound on sup_{|s_i| <= 1} ||A^T s|| / n, shape (B,): the gradient (or any
    subgradient) of (1/n) sum_i phi(<a_i, w> - b_i) with |phi'| <= 1 is A^T s / n with |s_i| <= 1, and
    ||A^T s|| <= sum_i ||a_i|| (triangle inequality) and <= ||A||_op ||s|| <= ||A||_op sqrt(n)."""
    n = A.shape[-2]
    row_mean = torch.linalg.vector_norm(A, dim=-1).mean(-1)
    return torch.minimum(row_mean, torch.linalg.matrix_norm(A, ord=2) / n ** 0.5)


def unit_third_derivative_J(A: Tensor) -> Tensor:
    """A proven J (B,) of L(w) = (1/n) sum_i phi(<a_i, w> - b_i) when |phi'''| <= 1 (Definition 25.1):
    max_i ||a_i|| ||A||_op^2 / n; multiply by sup |phi'''| for another phi.

    Proof: Hess L(x) - Hess L(y) = (1/n) sum_i c_i a_i a_i^T with c_i = phi''(r_i(x)) - phi''(r_i(y)),
    and |c_i| <= |<a_i, x - y>| <= ||a_i|| ||x - y|| by the mean value theorem. The difference is
    symmetric, so its operator norm is max_{||v|| = 1} |v^T (.) v| <= (1/n) sum_i |c_i| <a_i, v>^2
    <= max_i ||a_i|| ||x - y|| ||A v||^2 / n <= max_i ||a_i|| ||A||_op^2 / n ||x - y||."""
    n = A.shape[-2]
    return torch.linalg.vector_norm(A, dim=-1).amax(-1) * torch.linalg.matrix_norm(A, ord=2) ** 2 / n


def gather_rows(A: Tensor, b: Tensor, idx: Tensor) -> tuple[Tensor, Tensor]:
    """The rows a_idx (B, R, d) of A (B, n, d) and entries b_idx (B, R) of b (B, n) for term
    indices idx (B, R) (the terms l_idx of a finite sum, problems._batch.FiniteSum)."""
    a = torch.gather(A, 1, idx[..., None].expand(*idx.shape, A.shape[-1]))
    return a, torch.gather(b, 1, idx)
