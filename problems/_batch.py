"""The batch API every problem family implements.

A family builds B instances at once as torch tensors; every instance carries certified constants
(exact values or proven upper bounds) that the theorems of the notes need. DESIGN.md, problems/.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

import torch

Tensor = torch.Tensor

#: Class tags of CATALOG.md that a family or an oracle can declare (``so``: J-second-order smooth,
#: Definition 25.1, declared exactly by the families that certify the constant J).
CLASS_TAGS = frozenset({
    "cvx", "sc", "smooth", "lip", "lb", "minimizer", "var", "bdd", "m2", "exact", "fsum", "sdn", "so",
})


@dataclass(frozen=True)
class FiniteSum:
    """The finite-sum structure L(w) = (1/N) sum_{i=1}^N l_i(w) of a batch (class ``fsum``).

    ``term_loss(w, idx)`` and ``term_grad(w, idx)`` take iterates w of shape (B, R, d) and term
    indices idx, a LongTensor (B, R) with values in [0, N), and return l_idx(w) (B, R) and a
    (sub)gradient of l_idx at w (B, R, d). ``constants`` holds per-term constants of shape
    (B, N), e.g. ``H_i`` (l_i is H_i-smooth) and ``G_i`` (l_i is G_i-Lipschitz).
    """

    num_terms: int
    term_loss: Callable[[Tensor, Tensor], Tensor]
    term_grad: Callable[[Tensor, Tensor], Tensor]
    constants: Mapping[str, Tensor]


@dataclass(frozen=True)
class Polyhedral:
    """The structure L(w) = (1/n) sum_i phi(<a_i, w> - b_i) of a batch, with the piecewise-linear
    phi(r) = max(alpha r, r) = max over u in [alpha, 1] of u r (alpha <= 1): ``A`` (B, n, d), ``b``
    (B, n). The Moreau envelope of such an L has a concave dual over the box [alpha, 1]^n, which
    problems/moreau_polyhedral.py solves (Theorem 5.3 on non-smooth families)."""

    A: Tensor
    b: Tensor
    alpha: float


@dataclass(frozen=True)
class ProblemBatch:
    """B instances of one family, all of dimension d, on one device and dtype.

    ``loss(w)`` and ``grad(w)`` take iterates of shape (B, R, d) (R replicas per instance) and
    return new tensors of shapes (B, R) and (B, R, d) (never a tensor the family keeps); ``hvp(w, u)`` returns the Hessian-vector products
    Hess L(w) u, shape (B, R, d) (by default one torch.autograd backward pass through ``grad``,
    so a family whose ``grad`` is not written in torch passes its own). ``constants`` maps a name (H, mu, G, D, Delta, Lstar, ...)
    to a tensor of shape (B,). ``w1`` has shape (B, d); ``w_star`` too, or is None when the
    family has no certified minimiser. ``params`` holds what rebuilds the batch exactly.
    ``terms`` is the finite-sum structure of a family of class ``fsum`` (None otherwise), and
    ``polyhedral`` the piecewise-linear structure of a family whose loss has it (None otherwise).
    ``fused`` computes (loss(w), grad(w)) sharing work (None: the two calls); use ``loss_and_grad``;
    its values are loss(w) and grad(w) bit for bit, except where ``loss_given_grad(w, g)`` (the loss
    from the gradient g = grad(w), None when the family has no such formula) gives its loss.
    """

    family: str
    classes: frozenset[str]
    loss: Callable[[Tensor], Tensor]
    grad: Callable[[Tensor], Tensor]
    constants: Mapping[str, Tensor]
    w1: Tensor
    w_star: Tensor | None
    params: Mapping[str, Any]
    describe: Callable[[int], dict[str, Any]] = field(repr=False, default=lambda b: {})
    hvp: Callable[[Tensor, Tensor], Tensor] | None = field(repr=False, default=None)
    terms: FiniteSum | None = field(repr=False, default=None)
    polyhedral: Polyhedral | None = field(repr=False, default=None)
    fused: Callable[[Tensor], tuple[Tensor, Tensor]] | None = field(repr=False, default=None)
    loss_given_grad: Callable[[Tensor, Tensor], Tensor] | None = field(repr=False, default=None)

    def __post_init__(self) -> None:
        if self.hvp is None:
            object.__setattr__(self, "hvp", autograd_hvp(self.grad, self.family))
        object.__setattr__(self, "grad", _remember_last(self.grad))

    def loss_and_grad(self, w: Tensor) -> tuple[Tensor, Tensor]:
        """(loss(w), grad(w)), shapes (B, R) and (B, R, d), sharing the work the two have in common
        where the family says how (``fused``; e.g. a quadratic's loss from its gradient)."""
        if self.fused is None:
            return self.loss(w), self.grad(w)
        return self.fused(w)

    @property
    def batch_size(self) -> int:
        return int(self.w1.shape[0])

    @property
    def dim(self) -> int:
        return int(self.w1.shape[1])


def _remember_last(grad: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """``grad`` that returns its last result again when called on the very same, unmodified
    tensor while that result is unmodified too (an algorithm may change its gradient in place):
    an algorithm may ask for grad L(w_t) more than once in a step."""
    last: list = [None, -1, None, -1]  # w, its version, grad L(w), its version (read by algorithms.run)

    def remembered(w: Tensor) -> Tensor:
        if last[0] is w and last[1] == w._version and last[3] == last[2]._version:
            return last[2]
        result = grad(w)
        last[:] = [w, w._version, result, result._version]
        return result

    remembered.__wrapped__ = grad  # type: ignore[attr-defined]
    remembered.last = last  # type: ignore[attr-defined]
    return remembered


def autograd_hvp(grad: Callable[[Tensor], Tensor], family: str = "") -> Callable[[Tensor, Tensor], Tensor]:
    """Hess L(w) u for w, u of shape (B, R, d): the vector-Jacobian product of ``grad`` with u
    (the Hessian is symmetric), one torch.autograd backward pass. Every (instance, replica)
    loss depends on its own w only, so one pass gives all B * R products. u may also hold k
    directions per point, shape (k, B, R, d) (one batched backward pass, result (k, B, R, d))."""

    def hvp(w: Tensor, u: Tensor) -> Tensor:
        with torch.enable_grad():
            x = w.detach().requires_grad_(True)
            g = grad(x)
            if not g.requires_grad:
                raise TypeError(f"family {family!r}: grad is not differentiable by torch.autograd; "
                                "pass ProblemBatch(hvp=...) with the family's own Hessian-vector product")
            (out,) = torch.autograd.grad(g, x, grad_outputs=u.to(g.dtype), is_grads_batched=u.dim() > w.dim())
        return out

    hvp.directions_batched = True  # type: ignore[attr-defined]
    return hvp


def hessians(problem: ProblemBatch, w: Tensor) -> Tensor:
    """Hess L(w) (B, R, d, d) at points w (B, R, d) from d Hessian-vector products per point
    (one batched call), symmetrised."""
    B, R, d = w.shape
    eye = torch.eye(d, dtype=w.dtype, device=w.device)
    if getattr(problem.hvp, "directions_batched", False):
        columns = problem.hvp(w, eye[:, None, None, :].expand(d, B, R, d)).permute(1, 2, 0, 3)
    else:
        points = w[:, :, None, :].expand(B, R, d, d).reshape(B, R * d, d)
        columns = problem.hvp(points, eye.expand(B, R, d, d).reshape(B, R * d, d)).reshape(B, R, d, d)
    return (columns + columns.transpose(-1, -2)) / 2


class Family(Protocol):
    """A problem family: ``sample`` builds a batch from a seeded torch.Generator."""

    name: str
    classes: frozenset[str]

    def sample(self, batch_size: int, dim: int, generator: torch.Generator,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> ProblemBatch:
        ...
