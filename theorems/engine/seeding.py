"""Seeds and per-instance draws shared by every kind of round (so each round replays exactly)."""
from __future__ import annotations

import hashlib

import torch

from problems import _random as rnd

Tensor = torch.Tensor


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from any parts (stable across processes, unlike ``hash``)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def draw_free(B: int, low: float, high: float, generator: torch.Generator, device: torch.device,
              dtype: torch.dtype) -> Tensor:
    """Uniform in [low, high], with each endpoint drawn with probability 1/4 (worst cases of
    many bounds sit at an endpoint, e.g. eta = 1/H)."""
    u = rnd.uniform((B,), 0.0, 1.0, generator, device, dtype)
    inner = rnd.uniform((B,), low, high, generator, device, dtype)
    return torch.where(u < 0.25, torch.full_like(u, low), torch.where(u < 0.5, torch.full_like(u, high), inner))
