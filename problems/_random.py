"""Seeded random draws shared by the families (all through one torch.Generator, so runs replay)."""
from __future__ import annotations

import math

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
