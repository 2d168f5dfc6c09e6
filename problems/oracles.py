"""Stochastic gradient oracles with exact noise constants (DESIGN.md, problems/).

Each oracle is the gradient of a stochastic loss l(w, z) = L(w) + <z, w> with E z = 0, so it is
unbiased (Proposition 3.1) and its variance E||g - grad L||^2 is known exactly:
- ``Exact``: z = 0, sigma = 0.
- ``GaussianNoise``: z ~ N(0, sigma^2/d I), so E||z||^2 = sigma^2 exactly (Theorem 6.1's class),
  and on a G_L-Lipschitz loss E||g||^2 = ||grad L||^2 + sigma^2 <= G_L^2 + sigma^2 =: G^2 (the
  second-moment class m2 of Theorem 6.2).
- ``SphereNoise``: z uniform on the sphere of radius sigma, so ||z|| = sigma surely and
  ||g|| <= G_L + sigma =: G surely when L is G_L-Lipschitz (Theorem 3.2's class, bdd(G)).
Draws come from a seeded torch.Generator so every run replays.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping

import torch

from problems import _random as rnd
from problems._batch import ProblemBatch

Tensor = torch.Tensor


def noise_classes(oracle_classes: frozenset[str], family_classes: frozenset[str]) -> frozenset[str]:
    """The classes an oracle gives on a family: surely bounded gradients (bdd) and a bounded
    second moment (m2) need a Lipschitz family, since ||g|| <= G_L + sigma."""
    if "lip" in family_classes:
        return oracle_classes
    return oracle_classes - {"bdd", "m2"}


@dataclass(frozen=True)
class BoundOracle:
    """An oracle bound to a batch: ``sample(w, m)`` returns the mean of m fresh stochastic
    gradients at each iterate w (shape (B, R, d)); ``constants`` are the noise constants (B,)."""

    name: str
    classes: frozenset[str]
    constants: Mapping[str, Tensor]
    sample: Callable[..., Tensor]


class Exact:
    """The exact gradient: the deterministic setting of gradient descent."""

    name = "exact"
    classes = frozenset({"exact", "var", "bdd", "m2"})

    def bind(self, problem: ProblemBatch, generator: torch.Generator) -> BoundOracle:
        sigma = torch.zeros_like(problem.w1[:, 0])
        constants = {"sigma": sigma}
        if "G" in problem.constants:
            constants["G"] = problem.constants["G"]

        def sample(w: Tensor, m: int = 1) -> Tensor:
            return problem.grad(w).clone()  # a copy: an algorithm may modify its gradient in place

        return BoundOracle(self.name, noise_classes(self.classes, problem.classes), constants, sample)


class GaussianNoise:
    """Additive Gaussian noise with variance exactly sigma^2, sigma log-uniform per instance."""

    name = "gaussian"
    classes = frozenset({"var", "m2"})

    def __init__(self, sigma_range: tuple[float, float] = (0.01, 10.0)) -> None:
        self.sigma_range = sigma_range

    def bind(self, problem: ProblemBatch, generator: torch.Generator) -> BoundOracle:
        w1 = problem.w1
        B, d = w1.shape
        sigma = rnd.log_uniform((B,), *self.sigma_range, generator, w1.device, w1.dtype)
        scale = (sigma / math.sqrt(d))[:, None, None]
        constants = {"sigma": sigma}
        if "G" in problem.constants:
            constants["G"] = torch.sqrt(problem.constants["G"] ** 2 + sigma ** 2)

        def sample(w: Tensor, m: int = 1) -> Tensor:
            z = torch.randn((m, *w.shape), generator=generator, device=w.device, dtype=w.dtype)
            return problem.grad(w) + scale * z.mean(0)

        return BoundOracle(self.name, noise_classes(self.classes, problem.classes), constants, sample)


class SphereNoise:
    """Noise uniform on the sphere of radius sigma: bounded stochastic gradients.

    Needs a Lipschitz problem: the oracle's G = G_L + sigma bounds ||g|| surely, and replaces
    the problem's G in the constants, as Theorem 3.2's G bounds the stochastic gradients.
    """

    name = "sphere"
    classes = frozenset({"var", "bdd", "m2"})

    def __init__(self, sigma_range: tuple[float, float] = (0.01, 10.0)) -> None:
        self.sigma_range = sigma_range

    def bind(self, problem: ProblemBatch, generator: torch.Generator) -> BoundOracle:
        w1 = problem.w1
        B, d = w1.shape
        sigma = rnd.log_uniform((B,), *self.sigma_range, generator, w1.device, w1.dtype)
        constants = {"sigma": sigma}
        if "G" in problem.constants:
            constants["G"] = problem.constants["G"] + sigma

        def sample(w: Tensor, m: int = 1) -> Tensor:
            z = torch.randn((m, *w.shape), generator=generator, device=w.device, dtype=w.dtype)
            z = z / torch.linalg.vector_norm(z, dim=-1, keepdim=True)
            return problem.grad(w) + sigma[:, None, None] * z.mean(0)

        return BoundOracle(self.name, noise_classes(self.classes, problem.classes), constants, sample)
