"""Families as differentiable functions of continuous parameters, for the gradient adversary.

A *parametric* family splits ``sample`` into ``draw`` (seeded random parameters, a dict of
tensors with the instance on dim 0) and ``build`` (parameters -> ProblemBatch, differentiable:
the loss, the gradient and every constant are torch expressions of the parameters), so that
``sample(B, d, g) == build(draw(B, d, g))`` and an adversary can move the parameters by
gradient ascent on a claim's tightness. ``project`` maps any parameters back into the family's
class (eigenvalues clamped, rotations made orthogonal, thresholds kept positive); ``build``
recomputes the constants from the projected parameters.

``certify`` re-verifies a built batch against the classes it declares by independent means
(autograd Hessians, sampled gradient norms, stationarity and value at w*, D and Delta
recomputed); an instance outside its class is a generator bug and raises ``OutsideClassError``.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Protocol, runtime_checkable

import torch

from problems._batch import ProblemBatch

Tensor = torch.Tensor
Params = dict[str, Tensor]


class OutsideClassError(AssertionError):
    """A generated instance does not belong to the class its family declares."""


@runtime_checkable
class Parametric(Protocol):
    """A family whose instances are a differentiable function of continuous parameters."""

    name: str
    classes: frozenset[str]

    def draw(self, batch_size: int, dim: int, generator: torch.Generator,
             device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> Params:
        ...

    def build(self, params: Mapping[str, Tensor]) -> ProblemBatch:
        ...

    def project(self, params: Mapping[str, Tensor]) -> Params:
        ...


def is_parametric(family: object) -> bool:
    """Whether a family offers draw / build / project."""
    return isinstance(family, Parametric)


def select(params: Mapping[str, Tensor], index: Tensor | list[int]) -> Params:
    """The parameters of the instances ``index`` (every parameter has the instance on dim 0)."""
    return {k: v[index] for k, v in params.items()}


def to_lists(params: Mapping[str, Tensor]) -> dict[str, list]:
    """JSON-ready parameters (nested lists), the inverse of ``from_lists``."""
    return {k: v.detach().cpu().tolist() for k, v in params.items()}


def from_lists(params: Mapping[str, Any], device: torch.device | str = "cpu",
               dtype: torch.dtype = torch.float64) -> Params:
    """Tensors from ``to_lists``'s nested lists."""
    return {k: torch.tensor(v, dtype=dtype, device=device) for k, v in params.items()}


def nearest_orthogonal(M: Tensor) -> Tensor:
    """The matrix with orthonormal columns nearest to each M (B, n, d), n >= d (an orthogonal
    matrix when n = d), in Frobenius norm: U V^T of M's thin SVD."""
    U, _, Vh = torch.linalg.svd(M, full_matrices=False)
    return U @ Vh


def clamp_relative(x: Tensor, floor: float) -> Tensor:
    """Each row of x (B, k) clamped to at least ``floor`` times the row's largest entry."""
    top = x.amax(dim=-1, keepdim=True).clamp_min(torch.finfo(x.dtype).tiny)
    return torch.maximum(x, floor * top)


# ---------------------------------------------------------------------------------------------
# re-verification

def certify(problem: ProblemBatch, generator: torch.Generator | None = None, points: int = 32,
            rtol: float = 1e-7) -> None:
    """Re-verify every instance of ``problem`` against its declared classes; raise
    ``OutsideClassError`` naming the instance and the failed property.

    Independent of the family's own formulas: the gradient is compared with torch.autograd of
    the loss; H (smooth) bounds the largest |eigenvalue| of the autograd Hessian at w*, at w1 and
    at sampled points; convex (cvx) means no eigenvalue below -rtol H there; mu (sc) bounds the
    smallest eigenvalue from below, and gamma (where certified) from above its negative; J (so)
    bounds ||Hess L(w + s) - Hess L(w)||_op / ||s|| at the sampled points w and random steps s
    (Definition 25.1); G (lip) bounds sampled gradient norms, far ones included;
    w* (minimizer) is stationary with L(w*) = L*, and no sampled point is below L*; D and
    Delta are recomputed.
    """
    gen = generator or torch.Generator(device=problem.w1.device).manual_seed(0)
    w1 = problem.w1.detach()
    B, d = w1.shape
    c = {k: v.detach() for k, v in problem.constants.items()}
    for name, value in c.items():
        _require(torch.isfinite(value), f"constant {name} is finite", problem)
    centre = problem.w_star.detach() if problem.w_star is not None else w1
    scale = (w1 - centre).norm(dim=-1, keepdim=True).clamp_min(1e-3)
    direction = torch.randn(B, points, d, generator=gen, dtype=w1.dtype, device=w1.device)
    direction = direction / direction.norm(dim=-1, keepdim=True)
    radius = torch.exp(torch.empty(B, points, 1, dtype=w1.dtype, device=w1.device).uniform_(
        math.log(1e-3), math.log(1e3), generator=gen))
    w = torch.cat([centre[:, None, :], w1[:, None, :], centre[:, None, :] + scale[:, None, :] * radius * direction], 1)
    value, g, hess = _derivatives(problem, w)
    scale_g = g.norm(dim=-1).amax(-1).clamp_min(1e-300)
    ours = problem.grad(w).detach()
    _require((ours - g).norm(dim=-1).amax(-1) <= 1e-9 * scale_g + 1e-12, "grad matches autograd of the loss", problem)
    eig = torch.linalg.eigvalsh(hess)
    if "smooth" in problem.classes:
        H = c["H"]
        _require(H > 0, "H > 0", problem)
        _require(eig.abs().amax(dim=(-1, -2)) <= H * (1 + rtol) + 1e-12, "Hessian eigenvalues within [-H, H]", problem)
    top = eig.abs().amax(dim=(-1, -2)).clamp_min(1e-300)
    if "cvx" in problem.classes:
        _require(eig.amin(dim=(-1, -2)) >= -rtol * top, "convex (Hessian eigenvalues >= 0)", problem)
    if "sc" in problem.classes:
        mu = c["mu"]
        _require(mu > 0, "mu > 0", problem)
        _require(eig.amin(dim=(-1, -2)) >= mu * (1 - rtol) - 1e-12 * top, "Hessian eigenvalues >= mu", problem)
    if "gamma" in c:
        _require(eig.amin(dim=(-1, -2)) >= -c["gamma"] * (1 + rtol) - 1e-12 * top, "Hessian eigenvalues >= -gamma",
                 problem)
    if "so" in problem.classes:
        step = torch.randn(w.shape, generator=gen, dtype=w1.dtype, device=w1.device) * 1e-2 * scale[:, None, :]
        _, _, hess_step = _derivatives(problem, w + step)
        gap = torch.linalg.matrix_norm(hess_step - hess, ord=2)
        _require(gap <= c["J"][:, None] * step.norm(dim=-1) * (1 + rtol) + 1e-9 * top[:, None],
                 "||Hess L(w + s) - Hess L(w)||_op <= J ||s||", problem)
    if "lip" in problem.classes:
        far = w1[:, None, :] + 1e8 * scale[:, None, :] * direction
        _, g_far, _ = _derivatives(problem, far, hessian=False)
        norms = torch.cat([g.norm(dim=-1), g_far.norm(dim=-1)], 1)
        _require(norms.amax(-1) <= c["G"] * (1 + rtol), "sampled gradient norms <= G", problem)
    if "lb" in problem.classes:
        slack = 1e-9 * (1 + c["Lstar"].abs() + c["Delta"].abs())
        _require(value.amin(-1) >= c["Lstar"] - slack, "no sampled point below L*", problem)
        _require((value[:, 1] - c["Lstar"] - c["Delta"]).abs() <= slack, "Delta = L(w1) - L*", problem)
    if "minimizer" in problem.classes:
        _require(g[:, 0].norm(dim=-1) <= 1e-9 * scale_g + 1e-12, "grad L(w*) = 0", problem)
        _require((value[:, 0] - c["Lstar"]).abs() <= 1e-9 * (1 + c["Lstar"].abs() + c["Delta"].abs()),
                 "L(w*) = L*", problem)
        D = (w1 - problem.w_star.detach()).norm(dim=-1)
        _require((D - c["D"]).abs() <= 1e-9 * (1 + D), "D = ||w1 - w*||", problem)


def _derivatives(problem: ProblemBatch, w: Tensor, hessian: bool = True) -> tuple[Tensor, Tensor, Tensor | None]:
    """Loss, autograd gradient and (optionally) autograd Hessian at every point of w (B, R, d)."""
    with torch.enable_grad():
        x = w.detach().clone().requires_grad_(True)
        value = problem.loss(x)
        (g,) = torch.autograd.grad(value.sum(), x, create_graph=hessian)
        if not hessian:
            return value.detach(), g.detach(), None
        cols = [torch.autograd.grad(g[..., k].sum(), x, retain_graph=True)[0] for k in range(w.shape[-1])]
    hess = torch.stack(cols, -1)
    return value.detach(), g.detach(), 0.5 * (hess + hess.transpose(-1, -2)).detach()


def _require(ok: Tensor, what: str, problem: ProblemBatch) -> None:
    ok = torch.as_tensor(ok).reshape(problem.batch_size, -1).all(-1)
    if not bool(ok.all()):
        bad = int((~ok).nonzero()[0, 0])
        raise OutsideClassError(f"{problem.family} instance {bad} is outside its class: {what} fails "
                                f"({problem.describe(bad)})")
