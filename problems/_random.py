"""Seeded random draws shared by the families (all through one torch.Generator, so runs replay)."""
from __future__ import annotations

import math
from typing import Mapping

import torch

Tensor = torch.Tensor


def uniform(shape: tuple[int, ...], low: float, high: float, generator: torch.Generator,
            device: torch.device | str, dtype: torch.dtype) -> Tensor:
    """Uniform draws in [low, high)."""
    u = torch.rand(shape, generator=generator, device=device, dtype=dtype)
    return low + (high - low) * u


def log_uniform(shape: tuple[int, ...], low: float, high: float, generator: torch.Generator,
                device: torch.device | str, dtype: torch.dtype) -> Tensor:
    """Draws whose logarithm is uniform in [log low, log high): scale-free magnitudes."""
    return torch.exp(uniform(shape, math.log(low), math.log(high), generator, device, dtype))


def normal(shape: tuple[int, ...], generator: torch.Generator, device: torch.device | str,
           dtype: torch.dtype) -> Tensor:
    """Standard normal draws."""
    return torch.randn(shape, generator=generator, device=device, dtype=dtype)


def orthogonal(batch: int, dim: int, generator: torch.Generator, device: torch.device | str,
               dtype: torch.dtype) -> Tensor:
    """Haar-distributed orthogonal matrices (B, d, d): QR of a Gaussian with the sign fix."""
    g = normal((batch, dim, dim), generator, device, dtype)
    q, r = torch.linalg.qr(g)
    signs = torch.sign(torch.diagonal(r, dim1=-2, dim2=-1))
    signs = torch.where(signs == 0, torch.ones_like(signs), signs)
    return q * signs.unsqueeze(-2)


def choice(batch: int, options: int, generator: torch.Generator, device: torch.device | str) -> Tensor:
    """Integer draws in [0, options), one per instance."""
    return torch.randint(0, options, (batch,), generator=generator, device=device)


def random_radius_directions(batch: int, dim: int, generator: torch.Generator,
                             device: torch.device | str, dtype: torch.dtype) -> Tensor:
    """Unit vectors uniform on the sphere, shape (B, d)."""
    v = normal((batch, dim), generator, device, dtype)
    return v / torch.linalg.vector_norm(v, dim=-1, keepdim=True)


#: The largest norm of the random translation of a family's instances (``shift``).
MAX_SHIFT = 1e3


def shift(batch: int, dim: int, max_norm: float, generator: torch.Generator, device: torch.device | str,
          dtype: torch.dtype) -> Tensor:
    """Random translations (B, d) of instances away from the origin: a uniform direction times a
    norm log-uniform in [1e-2, max_norm] (zero when max_norm is 0), so instances lie near the
    origin and far from it, across scales. The draws are made even for max_norm = 0, so the rest
    of a batch does not depend on it."""
    direction = random_radius_directions(batch, dim, generator, device, dtype)
    norm = log_uniform((batch, 1), 1e-2, max(max_norm, 1e-2), generator, device, dtype)
    return direction * norm if max_norm > 0 else torch.zeros_like(direction)


def translation(params: Mapping[str, Tensor]) -> Tensor:
    """The translation ``params["shift"]`` (B, d) of a parametric family's instances, zero where
    the parameters have none (e.g. a hand-made worst case): build adds it to the centre and w1."""
    shift = params.get("shift")
    return torch.zeros_like(params["w1"]) if shift is None else shift


def shift_rounding(w: Tensor) -> Tensor:
    """A bound (B,) on ||fl(u + s) - (u + s)|| for the sums w = fl(u + s) (B, d): each coordinate
    rounds by at most half an ulp, |x| eps / 2 <= ||w|| eps / 2, so the norm by at most
    sqrt(d) ||w|| eps / 2 (taken as ||w|| eps sqrt(d))."""
    eps = torch.finfo(w.dtype).eps
    return torch.linalg.vector_norm(w, dim=-1) * eps * w.shape[-1] ** 0.5
