"""Finite discrete distributions, B at once, for the probability background of the notes
(Propositions 10.4-10.6, Appendix A): every expectation, probability and variance over them is
an exact weighted sum, so the results are checked surely, with no Monte Carlo error.

A batch holds K atoms x_k in R^d with weights p_k >= 0 summing to 1 per instance, a
deterministic point Y in R^d (Proposition 10.4's Y, Proposition 10.5's second vector) and a
total mass sum_i a_i > 0 with a_k = mass * p_k (Corollary A.4's unnormalised weights). Atoms of
weight 0 are legal (Corollary A.4 allows a_i = 0); they take part in the notes' unweighted sums
but not in any expectation. Generators are adversarial: they include the equality cases of
Markov (two points {0, v}), Chebyshev (symmetric three points), Jensen (point masses), Cauchy-
Schwarz and Young (atoms on one ray through 0), atoms spanning many orders of magnitude, and
nearly degenerate weights.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

import torch

from problems import _random as rnd

Tensor = torch.Tensor

#: Classes a distribution generator can declare: ``nonneg`` (every coordinate of every atom >= 0).
DISTRIBUTION_CLASSES = frozenset({"nonneg"})

#: Magnitudes of heavy-tailed atoms are capped here (squares and products stay finite in float64).
_CAP = 1e12


@dataclass(frozen=True)
class DistributionBatch:
    """B finite distributions of K atoms in R^d: ``atoms`` (B, K, d), ``weights`` (B, K) (>= 0,
    summing to 1), ``point`` Y (B, d), ``mass`` (B,) = sum_i a_i with a_k = mass * p_k."""

    family: str
    classes: frozenset[str]
    atoms: Tensor
    weights: Tensor
    point: Tensor
    mass: Tensor
    params: Mapping[str, Any] = field(default_factory=dict)
    describe: Callable[[int], dict[str, Any]] = field(repr=False, default=lambda b: {})

    @property
    def batch_size(self) -> int:
        return int(self.atoms.shape[0])

    @property
    def support(self) -> int:
        return int(self.atoms.shape[1])

    @property
    def dim(self) -> int:
        return int(self.atoms.shape[2])


class DistributionFamily(Protocol):
    """A generator: ``sample(B, K, d, generator)`` builds B distributions of K atoms in R^d."""

    name: str
    classes: frozenset[str]

    def sample(self, batch_size: int, support: int, dim: int, generator: torch.Generator,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> DistributionBatch:
        ...


_Atoms = Callable[[int, int, int, torch.Generator, torch.device | str, torch.dtype], tuple[Tensor, Tensor]]


@dataclass(frozen=True)
class Generator:
    """A distribution family from a function drawing (atoms, weights); Y and the mass are drawn
    by the shared adversarial rules below (``aligned``: Y on the ray of the atoms' direction)."""

    name: str
    classes: frozenset[str]
    draw: _Atoms
    aligned: bool = False

    def sample(self, batch_size: int, support: int, dim: int, generator: torch.Generator,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> DistributionBatch:
        if support < 2 or dim < 1 or batch_size < 1:
            raise ValueError(f"{self.name}: need B >= 1, K >= 2 atoms and d >= 1, got {batch_size}, {support}, {dim}")
        atoms, weights = self.draw(batch_size, support, dim, generator, device, dtype)
        weights = weights / weights.sum(-1, keepdim=True)
        point = _aligned_point(atoms, generator) if self.aligned else _point(atoms, weights, generator)
        mass = _mass(batch_size, support, generator, device, dtype)

        def describe(b: int) -> dict[str, Any]:
            return {"atoms": atoms[b].tolist(), "weights": weights[b].tolist(), "Y": point[b].tolist(),
                    "mass": float(mass[b])}

        return DistributionBatch(self.name, self.classes, atoms, weights, point, mass,
                                 {"support": support, "dim": dim}, describe)


def _scale(B: int, g: torch.Generator, device, dtype, low: float = 1e-3, high: float = 1e3) -> Tensor:
    return rnd.log_uniform((B, 1, 1), low, high, g, device, dtype)


def _softmax_weights(B: int, K: int, g: torch.Generator, device, dtype) -> Tensor:
    """exp(tau z) / sum: near-uniform (tau small) to nearly a point mass (tau large)."""
    tau = rnd.log_uniform((B, 1), 0.01, 30.0, g, device, dtype)
    return torch.softmax(tau * rnd.normal((B, K), g, device, dtype), dim=-1)


def _gaussian(B, K, d, g, device, dtype):
    """Gaussian atoms around a random centre, softmax weights."""
    scale = _scale(B, g, device, dtype)
    centre = scale * rnd.log_uniform((B, 1, 1), 1e-2, 1e2, g, device, dtype) * rnd.normal((B, 1, d), g, device, dtype)
    return centre + scale * rnd.normal((B, K, d), g, device, dtype), _softmax_weights(B, K, g, device, dtype)


def _uniform(B, K, d, g, device, dtype):
    """Gaussian atoms with equal weights 1/K (Corollary A.4 with a_i = 1 when mass = K)."""
    atoms, _ = _gaussian(B, K, d, g, device, dtype)
    return atoms, torch.ones(B, K, device=device, dtype=dtype)


def _two_point_nonneg(B, K, d, g, device, dtype):
    """0 with probability 1 - p and v >= 0 with probability p (Markov's equality case); the
    other atoms are nonnegative with weight 0."""
    scale = _scale(B, g, device, dtype)
    atoms = scale * rnd.normal((B, K, d), g, device, dtype).abs()
    atoms[:, 0] = 0.0
    p = rnd.log_uniform((B,), 1e-6, 1.0, g, device, dtype)
    weights = torch.zeros(B, K, device=device, dtype=dtype)
    weights[:, 0], weights[:, 1] = 1 - p, p
    return atoms, weights


def _symmetric_three_point(B, K, d, g, device, dtype):
    """m - c u, m, m + c u with weights p/2, 1 - p, p/2 (Chebyshev's equality case); the other
    atoms are Gaussian with weight 0."""
    atoms, _ = _gaussian(B, K, d, g, device, dtype)
    m = atoms[:, :1]
    cu = _scale(B, g, device, dtype) * rnd.normal((B, 1, d), g, device, dtype)
    atoms = atoms.clone()
    if K >= 3:
        atoms[:, 0:1], atoms[:, 1:2], atoms[:, 2:3] = m - cu, m, m + cu
        p = rnd.log_uniform((B,), 1e-6, 1.0, g, device, dtype)
        weights = torch.zeros(B, K, device=device, dtype=dtype)
        weights[:, 0], weights[:, 1], weights[:, 2] = p / 2, 1 - p, p / 2
    else:  # two atoms: the symmetric two-point law m +- c u
        atoms[:, 0:1], atoms[:, 1:2] = m - cu, m + cu
        weights = torch.full((B, K), 0.5, device=device, dtype=dtype)
    return atoms, weights


def _point_mass(B, K, d, g, device, dtype):
    """All the weight on one atom (every inequality is an equality); the others have weight 0."""
    atoms, _ = _gaussian(B, K, d, g, device, dtype)
    which = rnd.choice(B, K, g, device)
    weights = torch.nn.functional.one_hot(which, K).to(dtype)
    return atoms, weights


def _heavy_tailed_nonneg(B, K, d, g, device, dtype):
    """Pareto-like magnitudes U^(-1/alpha), alpha in [0.3, 3], spanning many orders of magnitude,
    with exact zeros (probability 1/5), capped at 1e12."""
    alpha = rnd.uniform((B, 1, 1), 0.3, 3.0, g, device, dtype)
    u = rnd.uniform((B, K, d), 1e-300, 1.0, g, device, dtype)
    atoms = (_scale(B, g, device, dtype, 1e-6, 1.0) * u.pow(-1 / alpha)).clamp(max=_CAP)
    zero = rnd.uniform((B, K, d), 0.0, 1.0, g, device, dtype) < 0.2
    return torch.where(zero, torch.zeros_like(atoms), atoms), _softmax_weights(B, K, g, device, dtype)


def _near_degenerate(B, K, d, g, device, dtype):
    """Weight 1 - eps on one atom, eps in [1e-12, 1e-2] spread over far atoms (1e2 to 1e6 times
    further out): variance and bias dominated by rare events."""
    atoms, _ = _gaussian(B, K, d, g, device, dtype)
    far = rnd.log_uniform((B, 1, 1), 1e2, 1e6, g, device, dtype)
    atoms = torch.cat([atoms[:, :1], atoms[:, :1] + far * (atoms[:, 1:] - atoms[:, :1])], dim=1)
    eps = rnd.log_uniform((B, 1), 1e-12, 1e-2, g, device, dtype)
    rest = _softmax_weights(B, K - 1, g, device, dtype)
    return atoms, torch.cat([1 - eps, eps * rest], dim=-1)


def _ray_nonneg(B, K, d, g, device, dtype):
    """Atoms t_k u on one ray, u >= 0 and t_k in [1e-4, 1e4] or 0 (probability 1/5): every pair
    of coordinates is proportional (Cauchy-Schwarz's equality case); Y is on the same ray."""
    u = rnd.normal((B, 1, d), g, device, dtype).abs()
    t = rnd.log_uniform((B, K, 1), 1e-4, 1e4, g, device, dtype)
    t = torch.where(rnd.uniform((B, K, 1), 0.0, 1.0, g, device, dtype) < 0.2, torch.zeros_like(t), t)
    return _scale(B, g, device, dtype) * t * u, _softmax_weights(B, K, g, device, dtype)


def _point(atoms: Tensor, weights: Tensor, g: torch.Generator) -> Tensor:
    """Y: the mean (no bias), an atom, a Gaussian point at the atoms' scale, or one 1e3 times
    further out, each with probability 1/4."""
    B, K, d = atoms.shape
    device, dtype = atoms.device, atoms.dtype
    mean = torch.einsum("bk,bkd->bd", weights, atoms)
    atom = atoms[torch.arange(B, device=device), rnd.choice(B, K, g, device)]
    spread = atoms.abs().amax(dim=(1, 2)).clamp(min=1e-300)[:, None]
    near = mean + spread * rnd.normal((B, d), g, device, dtype)
    far = mean + 1e3 * spread * rnd.normal((B, d), g, device, dtype)
    which = rnd.choice(B, 4, g, device)[:, None]
    return torch.where(which == 0, mean, torch.where(which == 1, atom, torch.where(which == 2, near, far)))


def _aligned_point(atoms: Tensor, g: torch.Generator) -> Tensor:
    """Y = c * (the largest atom), c in [1e-3, 1e3]: parallel to every atom of a ray."""
    B = atoms.shape[0]
    largest = atoms[torch.arange(B, device=atoms.device), atoms.norm(dim=-1).argmax(-1)]
    return rnd.log_uniform((B, 1), 1e-3, 1e3, g, atoms.device, atoms.dtype) * largest


def _mass(B: int, K: int, g: torch.Generator, device, dtype) -> Tensor:
    """sum_i a_i: exactly K (a_i = 1 on average) or exactly 1 with probability 1/4 each,
    otherwise K * 10^u, u uniform in [-2, 2]."""
    u = rnd.uniform((B,), -2.0, 2.0, g, device, dtype)
    which = rnd.uniform((B,), 0.0, 1.0, g, device, dtype)
    free = K * torch.pow(10.0, u)
    return torch.where(which < 0.25, torch.full_like(u, float(K)), torch.where(which < 0.5, torch.ones_like(u), free))


_SIGNED, _NONNEG = frozenset(), frozenset({"nonneg"})

#: The registered distribution generators, by name.
DISTRIBUTIONS: dict[str, DistributionFamily] = {
    g.name: g for g in (
        Generator("gaussian", _SIGNED, _gaussian),
        Generator("uniform-weights", _SIGNED, _uniform),
        Generator("symmetric-three-point", _SIGNED, _symmetric_three_point),
        Generator("point-mass", _SIGNED, _point_mass),
        Generator("near-degenerate", _SIGNED, _near_degenerate),
        Generator("two-point-nonneg", _NONNEG, _two_point_nonneg),
        Generator("heavy-tailed-nonneg", _NONNEG, _heavy_tailed_nonneg),
        Generator("ray-nonneg", _NONNEG, _ray_nonneg, aligned=True),
    )
}

__all__ = ["DISTRIBUTIONS", "DISTRIBUTION_CLASSES", "DistributionBatch", "DistributionFamily", "Generator"]
