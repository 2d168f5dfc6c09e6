"""Random spectra and starting points along eigenvectors, shared by the families whose Hessian
is a constant matrix V diag(lam) V^T (the rotated quadratics and least squares)."""
from __future__ import annotations

import torch

from problems import _random as rnd

Tensor = torch.Tensor

_SPECTRUM_MODES = ("uniform", "endpoints", "geometric")
_START_MODES = ("random", "top-eigenvector", "bottom-eigenvector")


def spectrum(H: Tensor, low: Tensor, d: int, strongly_convex: bool, generator: torch.Generator,
             device: torch.device | str, dtype: torch.dtype) -> Tensor:
    """Eigenvalues (B, d) in [low, H], uniform, at the two ends or geometric (from low, or from
    H 1e-4 where low = 0) with 20% exact zeros where not ``strongly_convex``; H is attained,
    and so is a positive lower end (for d >= 2)."""
    B = H.shape[0]
    mode = rnd.choice(B, len(_SPECTRUM_MODES), generator, device)
    u = rnd.uniform((B, d), 0.0, 1.0, generator, device, dtype)
    uniform = low[:, None] + (H - low)[:, None] * u
    endpoints = torch.where(u < 0.5, low[:, None], H[:, None])
    floor = torch.where(low > 0, low, H * 1e-4)
    geometric = floor[:, None] * (H / floor)[:, None] ** u
    if not strongly_convex:
        geometric = torch.where(u < 0.2, torch.zeros_like(geometric), geometric)
    lam = torch.where(mode[:, None] == 0, uniform, torch.where(mode[:, None] == 1, endpoints, geometric))
    lam[:, 0] = H
    if d >= 2:
        lam[:, 1] = torch.where(low > 0, low, lam[:, 1])
    return lam


def start(centre: Tensor, Q: Tensor, lam: Tensor, generator: torch.Generator, device: torch.device | str,
          dtype: torch.dtype) -> Tensor:
    """w1 = centre + r u at a log-uniform distance r in [0.01, 100], u a random direction, the top
    eigenvector (column 0 of Q) or the eigenvector of the smallest positive eigenvalue lam."""
    B, d = centre.shape
    r = rnd.log_uniform((B, 1), 0.01, 100.0, generator, device, dtype)
    mode = rnd.choice(B, len(_START_MODES), generator, device)
    random_dir = rnd.random_radius_directions(B, d, generator, device, dtype)
    top = Q[:, :, 0]
    smallest_positive = torch.where(lam > 0, lam, torch.full_like(lam, float("inf"))).argmin(-1)
    bottom = torch.gather(Q, 2, smallest_positive[:, None, None].expand(B, d, 1))[:, :, 0]
    direction = torch.where(mode[:, None] == 0, random_dir, torch.where(mode[:, None] == 1, top, bottom))
    return centre + r * direction
