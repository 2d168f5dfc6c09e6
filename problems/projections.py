"""Euclidean projections onto the feasible sets of section 16 (Theorems 16.2 and 16.3).

``l2-ball``: {w : ||w||_2 <= D_2}; ``linf-box``: {w : ||w||_inf <= D_inf}; ``free``: R^d (Theorem
15.1 has no constraint). Each set gives its projection, the radius-scaled point of the set that
minimises a linear function <s, u> (the worst comparator of a regret against linear losses), and
the set's diameter in the norm its theorem uses (2 D_2, resp. 2 D_inf per coordinate), all for
batches of shape (B, R, d) with one radius per instance (B, 1, 1).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

Tensor = torch.Tensor


def project_l2_ball(w: Tensor, radius: Tensor) -> Tensor:
    """argmin_{||u||_2 <= radius} ||u - w||: w scaled back onto the sphere where it lies outside."""
    norm = torch.linalg.vector_norm(w, dim=-1, keepdim=True)
    return torch.where(norm > radius, w * (radius / norm.clamp_min(torch.finfo(w.dtype).tiny)), w)


def project_box(w: Tensor, radius: Tensor) -> Tensor:
    """argmin_{||u||_inf <= radius} ||u - w||: each coordinate clipped to [-radius, radius]."""
    return torch.minimum(torch.maximum(w, -radius), radius)


def worst_in_l2_ball(s: Tensor, radius: Tensor) -> Tensor:
    """argmin_{||u||_2 <= radius} <s, u> = -radius s/||s|| (0 when s = 0)."""
    norm = torch.linalg.vector_norm(s, dim=-1, keepdim=True)
    return torch.where(norm > 0, -radius * s / norm.clamp_min(torch.finfo(s.dtype).tiny), torch.zeros_like(s))


def worst_in_box(s: Tensor, radius: Tensor) -> Tensor:
    """argmin_{||u||_inf <= radius} <s, u> = -radius sign(s)."""
    return -radius * torch.sign(s)


@dataclass(frozen=True)
class FeasibleSet:
    """A feasible set of an online setting: ``project(w, radius)``, the minimiser of a linear
    function over it (``worst(s, radius)``), and the sampler of points inside it."""

    name: str
    project: Callable[[Tensor, Tensor], Tensor]
    worst: Callable[[Tensor, Tensor], Tensor]

    def inside(self, shape: tuple[int, ...], radius: Tensor, generator: torch.Generator) -> Tensor:
        """Points of the set (shape (B, ..., d)): uniform directions at radius x U^(1/2) in the
        ball, uniform coordinates in the box; a quarter of the instances on the boundary."""
        B = shape[0]
        u = torch.rand(shape, generator=generator, dtype=radius.dtype, device=radius.device)
        on_edge = (torch.arange(B, device=radius.device) % 4 == 0).reshape(B, *([1] * (len(shape) - 1)))
        if self.name == "linf-box":
            return self.project(torch.where(on_edge, torch.sign(u - 0.5), 2 * u - 1) * radius, radius)
        z = torch.randn(shape, generator=generator, dtype=radius.dtype, device=radius.device)
        direction = z / torch.linalg.vector_norm(z, dim=-1, keepdim=True)
        scale = torch.where(on_edge, torch.ones_like(u[..., :1]), u[..., :1].sqrt())
        return self.project(direction * scale * radius, radius)


def _identity(w: Tensor, radius: Tensor) -> Tensor:
    return w


def _no_minimiser(s: Tensor, radius: Tensor) -> Tensor:
    raise ValueError("a linear function has no minimiser over R^d (the free set): the comparator is drawn")


#: The feasible sets by name.
SETS = {
    "l2-ball": FeasibleSet("l2-ball", project_l2_ball, worst_in_l2_ball),
    "linf-box": FeasibleSet("linf-box", project_box, worst_in_box),
    "free": FeasibleSet("free", _identity, _no_minimiser),
}
