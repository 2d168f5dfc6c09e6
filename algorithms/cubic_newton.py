"""Second-order steps of section 25: the negative-curvature step (Theorem 25.7) and
cubic-regularised Newton (Theorem 25.8), batched, with the Hessian from a second-order oracle.

Both need Hess L(w_t): an algorithm with ``needs_hessian = True`` gets an oracle that also has
``hessian(w)`` (``SecondOrderOracle``: the exact Hessian from d Hessian-vector products, so it
belongs with the exact gradient oracle). Hyper-parameters: ``M`` (the notes' J, the cubic
regularisation; a tensor (B, 1, 1) or a number) and, for the negative-curvature step, ``c`` in
[0, 1], which sets lambda = c * max(0, -lambda_min(Hess L(w_t))).
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from algorithms.cubic_subproblem import solve_cubic
from algorithms.protocol import Oracle
from algorithms.run import ProtocolError
from problems._batch import ProblemBatch, hessians

Tensor = torch.Tensor
#: The rounding level of a gradient computed at w, relative to ||Hess L(w)||_F ||w|| (CubicNewton's certificate).
ROUNDING = 1e-12


class SecondOrderOracle:
    """A gradient oracle (``sample``) with the exact Hessian of L at w: ``hessian(w)`` (B, R, d, d).
    Other attributes pass through to ``sample`` (e.g. a finite-sum sampler's)."""

    def __init__(self, sample: Callable[..., Tensor], problem: ProblemBatch) -> None:
        self.sample, self.problem = sample, problem

    def __call__(self, w: Tensor, m: int = 1) -> Tensor:
        return self.sample(w, m)

    def hessian(self, w: Tensor) -> Tensor:
        return hessians(self.problem, w)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sample, name)


def _hessian(oracle: Oracle, w: Tensor, name: str) -> Tensor:
    if not callable(getattr(oracle, "hessian", None)):
        raise ProtocolError(f"{name} needs a second-order oracle with hessian(w) (algorithms.cubic_newton)")
    return oracle.hessian(w)


def _per_point(value: Tensor | float, w: Tensor) -> Tensor:
    """A hyper-parameter (B, 1, 1) or number as one value per point (B, R)."""
    v = torch.as_tensor(value, dtype=w.dtype, device=w.device)
    return (v[..., 0] if v.dim() == w.dim() else v).expand(w.shape[:-1])


class CubicNewton:
    """w_{t+1} = w_t + delta_t^*, delta_t^* the certified global minimiser of
    <grad L(w_t), d> + d^T Hess L(w_t) d / 2 + M ||d||^3 / 6 (section 25, before Theorem 25.8)."""

    needs_hessian = True
    returns_fresh_iterates = True

    def __init__(self, M: Tensor | float) -> None:
        self.M = M

    def init(self, w1: Tensor) -> None:
        return None

    def step(self, w: Tensor, state: None, oracle: Oracle, t: int) -> tuple[Tensor, None]:
        g = oracle(w)
        hess = _hessian(oracle, w, "CubicNewton")
        floor = ROUNDING * torch.linalg.matrix_norm(hess) * torch.linalg.vector_norm(w, dim=-1)
        solution = solve_cubic(g, hess, _per_point(self.M, w), residual_floor=floor)
        return w + solution.step, state


class NegativeCurvature:
    """The step of Theorem 25.7: v a unit eigenvector of lambda_min(Hess L(w_t)),
    lambda = c max(0, -lambda_min), w_{t+1} = w_t - (2 lambda / M) v sign(<v, grad L(w_t)>)
    with sign(x) = 1 for x >= 0 and -1 otherwise."""

    needs_hessian = True
    returns_fresh_iterates = True

    def __init__(self, M: Tensor | float, c: Tensor | float = 1.0) -> None:
        self.M, self.c = M, c

    def init(self, w1: Tensor) -> None:
        return None

    def step(self, w: Tensor, state: None, oracle: Oracle, t: int) -> tuple[Tensor, None]:
        g = oracle(w)
        eigenvalues, vectors = torch.linalg.eigh(_hessian(oracle, w, "NegativeCurvature"))
        v = vectors[..., :, 0]
        lam = _per_point(self.c, w) * torch.clamp(-eigenvalues[..., 0], min=0)
        sign = torch.where((v * g).sum(-1) >= 0, 1.0, -1.0).to(w.dtype)
        M = _per_point(self.M, w)
        length = torch.where(lam > 0, 2 * lam / torch.where(lam > 0, M, torch.ones_like(M)), torch.zeros_like(lam))
        return w - (length * sign)[..., None] * v, state
