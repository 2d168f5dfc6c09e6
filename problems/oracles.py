"""Stochastic gradient oracles with exact noise constants (DESIGN.md, problems/).

Each oracle is the gradient of a stochastic loss l(w, z) = L(w) + <z, w> with E z = 0, so it is
unbiased (Proposition 3.1) and its variance E||g - grad L||^2 is known exactly:
- ``Exact``: z = 0, sigma = 0.
- ``GaussianNoise``: z ~ N(0, sigma^2/d I), so E||z||^2 = sigma^2 exactly (Theorem 6.1's class),
  and on a G_L-Lipschitz loss E||g||^2 = ||grad L||^2 + sigma^2 <= G_L^2 + sigma^2 =: G^2 (the
  second-moment class m2 of Theorem 6.2).
- ``SphereNoise``: z uniform on the sphere of radius sigma, so ||z|| = sigma surely and
  ||g|| <= G_L + sigma =: G surely when L is G_L-Lipschitz (Theorem 3.2's class, bdd(G)).
- ``HeavyTailedNoise``: z = s t / sqrt(d) with t a vector of independent Student-t variables with
  2 degrees of freedom: E z = 0 but E||z||^2 = infinity, so it declares no class at all (no var,
  no m2, no bdd) and every claim that needs one is not applicable to it.
- ``StateDependentNoise``: z = sqrt(D_sdn/d) ||grad L(w)|| xi, xi ~ N(0, I), so
  E||g - grad L(w)||^2 = D_sdn ||grad L(w)||^2 exactly (class sdn, the "virtuous cycle" noise of
  section 11 whose constant the notes call D; here ``D_sdn``, as D is ||w1 - w*||).
- ``FiniteSumSampling``: the gradient of a uniformly drawn term of a finite sum (class fsum),
  g = grad l_i(w), i ~ U{1..N}, unbiased. Its variance at w is (1/N) sum_i ||grad l_i(w) - grad L(w)||^2,
  unbounded over w for e.g. least squares, so it declares bdd, m2 and var (with G = sigma =
  max_i G_i) only where every term is G_i-Lipschitz (the family is ``lip`` and gives ``G_i``).
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
    second moment (m2) need a Lipschitz family, since ||g|| <= G_L + sigma. A finite-sum sampler
    (oracle class fsum) gives nothing on a family that is not a finite sum, and its variance
    (var) too needs Lipschitz terms (finite-sum families declare ``lip`` only when every term is)."""
    if "fsum" in oracle_classes and "fsum" not in family_classes:
        return frozenset()
    if "lip" in family_classes:
        return oracle_classes
    return oracle_classes - ({"bdd", "m2", "var"} if "fsum" in oracle_classes else {"bdd", "m2"})


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


class HeavyTailedNoise:
    """Additive Student-t noise with 2 degrees of freedom: unbiased, infinite variance."""

    name = "heavy-tailed"
    classes: frozenset[str] = frozenset()

    def __init__(self, scale_range: tuple[float, float] = (0.01, 10.0)) -> None:
        self.scale_range = scale_range

    def bind(self, problem: ProblemBatch, generator: torch.Generator) -> BoundOracle:
        w1 = problem.w1
        B, d = w1.shape
        scale = rnd.log_uniform((B,), *self.scale_range, generator, w1.device, w1.dtype)
        factor = (scale / math.sqrt(d))[:, None, None]

        def sample(w: Tensor, m: int = 1) -> Tensor:
            shape = (m, *w.shape)
            z = torch.randn(shape, generator=generator, device=w.device, dtype=w.dtype)
            u = torch.rand(shape, generator=generator, device=w.device, dtype=w.dtype)
            chi2 = -2 * torch.log1p(-u)  # chi-square with 2 degrees of freedom: twice an Exp(1)
            return problem.grad(w) + factor * (z / torch.sqrt(chi2 / 2)).mean(0)

        return BoundOracle(self.name, noise_classes(self.classes, problem.classes), {"scale": scale}, sample)


class StateDependentNoise:
    """Gaussian noise whose variance is exactly D_sdn ||grad L(w)||^2, D_sdn log-uniform per instance."""

    name = "state-dependent"
    classes = frozenset({"sdn"})

    def __init__(self, rho_range: tuple[float, float] = (0.01, 10.0)) -> None:
        self.rho_range = rho_range

    def bind(self, problem: ProblemBatch, generator: torch.Generator) -> BoundOracle:
        w1 = problem.w1
        B, d = w1.shape
        rho = rnd.log_uniform((B,), *self.rho_range, generator, w1.device, w1.dtype)
        factor = torch.sqrt(rho / d)[:, None, None]

        def sample(w: Tensor, m: int = 1) -> Tensor:
            g = problem.grad(w)
            z = torch.randn((m, *w.shape), generator=generator, device=w.device, dtype=w.dtype)
            return g + factor * torch.linalg.vector_norm(g, dim=-1, keepdim=True) * z.mean(0)

        return BoundOracle(self.name, noise_classes(self.classes, problem.classes), {"D_sdn": rho}, sample)


class FiniteSumSampler:
    """``sample`` of a finite-sum oracle: ``sampler(w, m)`` averages m term gradients at indices
    drawn uniformly with replacement; ``term_grad(w, idx)`` is the gradient of the chosen terms
    (idx a LongTensor (B, R)); ``permutations(w)`` draws one uniform permutation of the N terms per
    instance and replica, shape (B, R, N), from the oracle's generator (Algorithm 3's epochs)."""

    def __init__(self, problem: ProblemBatch, generator: torch.Generator) -> None:
        self.terms = problem.terms
        self.num_terms = problem.terms.num_terms
        self.generator = generator

    def term_grad(self, w: Tensor, idx: Tensor) -> Tensor:
        return self.terms.term_grad(w, idx)

    def permutations(self, w: Tensor) -> Tensor:
        keys = torch.rand((*w.shape[:-1], self.num_terms), generator=self.generator, device=w.device)
        return keys.argsort(-1)

    def __call__(self, w: Tensor, m: int = 1) -> Tensor:
        idx = torch.randint(0, self.num_terms, (m, *w.shape[:-1]), generator=self.generator, device=w.device)
        return torch.stack([self.term_grad(w, idx[j]) for j in range(m)]).mean(0)


class FiniteSumSampling:
    """Uniform sampling of one term of a finite sum per draw (SGD on a finite sum)."""

    name = "finite-sum"
    classes = frozenset({"fsum", "var", "bdd", "m2"})

    def bind(self, problem: ProblemBatch, generator: torch.Generator) -> BoundOracle:
        if problem.terms is None:
            raise ValueError(f"the finite-sum oracle needs a finite-sum family (class fsum); {problem.family} is not one")
        constants: dict[str, Tensor] = {}
        G_i = problem.terms.constants.get("G_i")
        classes = noise_classes(self.classes, problem.classes)
        if G_i is None:
            classes = classes - {"var", "bdd", "m2"}
        else:
            # ||grad l_i|| <= G_i surely; E||g - grad L||^2 <= E||g||^2 <= max_i G_i^2
            constants["G"] = G_i.max(-1).values
            constants["sigma"] = constants["G"].clone()
        constants["N"] = torch.full_like(problem.w1[:, 0], float(problem.terms.num_terms))
        return BoundOracle(self.name, classes, constants, FiniteSumSampler(problem, generator))
