"""The stochastic gradient oracles (problems/oracles.py): unbiasedness and the exact noise
constants, checked by Monte Carlo with the R replicas of the batch API as independent draws."""
from __future__ import annotations

import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from problems import CosineWells, Exact, GaussianNoise, ProblemBatch, PseudoHuber, Quadratic, SphereNoise

F64 = torch.float64
SETTINGS = settings(max_examples=12, deadline=None)
seeds = st.integers(0, 2 ** 32 - 1)
dims = st.integers(1, 6)
FAMILIES = [Quadratic(strongly_convex=False), Quadratic(strongly_convex=True), PseudoHuber(), CosineWells()]
LIPSCHITZ = [PseudoHuber(), CosineWells()]
family_index = st.sampled_from(range(len(FAMILIES)))
NOISY = [GaussianNoise(), SphereNoise()]
noisy_index = st.sampled_from(range(2))
Z = 5.0  # per-coordinate |z| threshold: a false alarm has probability ~6e-7 per coordinate


def setup(family, oracle, seed: int, B: int, d: int):
    gen = torch.Generator().manual_seed(seed)
    p = family.sample(B, d, gen, dtype=F64)
    return p, oracle.bind(p, torch.Generator().manual_seed(seed + 1))


def points(p: ProblemBatch, seed: int, N: int) -> torch.Tensor:
    """One random point per instance, repeated N times along the replica axis: (B, N, d)."""
    gen = torch.Generator().manual_seed(seed + 2)
    x = p.w1 + torch.randn(p.w1.shape, generator=gen, dtype=F64) * 3.0
    return x[:, None, :].expand(-1, N, -1).contiguous()


def z_scores(samples: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(mean over axis 1 - target) / standard error, for samples (B, N, ...)."""
    N = samples.shape[1]
    se = samples.std(dim=1) / math.sqrt(N)
    return (samples.mean(1) - target) / se


@SETTINGS
@given(seed=seeds, d=dims, k=family_index)
def test_exact_oracle_is_the_gradient(seed: int, d: int, k: int) -> None:
    p, o = setup(FAMILIES[k], Exact(), seed, 3, d)
    w = points(p, seed, 4)
    assert torch.equal(o.sample(w), p.grad(w)) and torch.equal(o.sample(w, 7), p.grad(w))
    assert (o.constants["sigma"] == 0).all()
    assert ("G" in o.constants) == ("G" in p.constants) == ("bdd" in o.classes)


@SETTINGS
@given(seed=seeds, d=dims, k=family_index, j=noisy_index, m=st.sampled_from([1, 3]))
def test_unbiased(seed: int, d: int, k: int, j: int, m: int) -> None:
    p, o = setup(FAMILIES[k], NOISY[j], seed, 3, d)
    N = 4000
    w = points(p, seed, N)
    g = o.sample(w, m)
    truth = p.grad(w)[:, 0]
    z = z_scores(g, truth)
    assert (z.abs() < Z).all(), z


@SETTINGS
@given(seed=seeds, d=dims, k=family_index, m=st.sampled_from([1, 2, 5]))
def test_gaussian_variance_is_sigma_squared_over_m(seed: int, d: int, k: int, m: int) -> None:
    p, o = setup(FAMILIES[k], GaussianNoise(), seed, 3, d)
    sigma = o.constants["sigma"]
    assert sigma.shape == (3,) and (sigma > 0).all()
    N = 4000
    w = points(p, seed, N)
    err = (o.sample(w, m) - p.grad(w)).square().sum(-1)  # (B, N)
    z = z_scores(err, sigma ** 2 / m)
    assert (z.abs() < Z).all(), z
    # and the estimate is tight in relative terms, not only in z (chi^2_d / d: sd sqrt(2/(d N)))
    rel = err.mean(1) / (sigma ** 2 / m)
    assert ((rel - 1).abs() < 6 * math.sqrt(2 / (d * N))).all(), rel


@SETTINGS
@given(seed=seeds, d=dims, k=family_index)
def test_sphere_noise_has_norm_sigma_surely(seed: int, d: int, k: int) -> None:
    p, o = setup(FAMILIES[k], SphereNoise(), seed, 3, d)
    sigma = o.constants["sigma"]
    w = points(p, seed, 200)
    noise = (o.sample(w) - p.grad(w)).norm(dim=-1)
    scale = p.grad(w).norm(dim=-1) + sigma[:, None]
    assert ((noise - sigma[:, None]).abs() <= 1e-12 * scale).all()


@SETTINGS
@given(seed=seeds, d=dims, k=family_index, m=st.sampled_from([2, 5]))
def test_sphere_minibatch_variance_is_sigma_squared_over_m(seed: int, d: int, k: int, m: int) -> None:
    p, o = setup(FAMILIES[k], SphereNoise(), seed, 3, d)
    sigma = o.constants["sigma"]
    N = 4000
    w = points(p, seed, N)
    err = (o.sample(w, m) - p.grad(w)).square().sum(-1)
    z = z_scores(err, sigma ** 2 / m)
    assert (z.abs() < Z).all(), z
    # a mean of m unit vectors is no longer on the sphere, but never outside it (up to the rounding
    # of (grad + noise) - grad, which is proportional to ||grad L|| + sigma)
    scale = p.grad(w).norm(dim=-1) + sigma[:, None]
    assert (err <= sigma[:, None] ** 2 + 1e-12 * scale ** 2).all()


@SETTINGS
@given(seed=seeds, d=dims, k=st.sampled_from(range(2)))
def test_sphere_noise_G_bounds_stochastic_gradients_surely(seed: int, d: int, k: int) -> None:
    family = LIPSCHITZ[k]
    p, o = setup(family, SphereNoise(), seed, 3, d)
    assert "bdd" in o.classes
    torch.testing.assert_close(o.constants["G"], p.constants["G"] + o.constants["sigma"], rtol=0, atol=0)
    gen = torch.Generator().manual_seed(seed + 3)
    radius = torch.exp(torch.empty(3, 400, 1, dtype=F64).uniform_(math.log(1e-3), math.log(1e8), generator=gen))
    w = p.w1[:, None, :] + radius * torch.randn(3, 400, d, generator=gen, dtype=F64)
    norms = torch.cat([o.sample(w).norm(dim=-1), o.sample(w, 3).norm(dim=-1)], dim=1)
    assert (norms <= o.constants["G"][:, None] * (1 + 1e-12)).all()


def test_sphere_noise_on_non_lipschitz_family_claims_no_bound() -> None:
    p, o = setup(Quadratic(), SphereNoise(), 0, 2, 3)
    assert "G" not in o.constants and "bdd" not in o.classes and "var" in o.classes


@SETTINGS
@given(seed=seeds, d=dims, j=noisy_index, m=st.sampled_from([1, 4]))
def test_reseeding_replays_the_draws(seed: int, d: int, j: int, m: int) -> None:
    p, o = setup(FAMILIES[2], NOISY[j], seed, 3, d)
    gen = torch.Generator().manual_seed(0)
    o = NOISY[j].bind(p, gen)
    w = points(p, seed, 5)
    gen.manual_seed(seed)
    first = [o.sample(w, m) for _ in range(3)]
    gen.manual_seed(seed)
    second = [o.sample(w, m) for _ in range(3)]
    for a, b in zip(first, second):
        assert torch.equal(a, b)
    # successive calls draw fresh noise, and another seed other noise
    assert not torch.equal(first[0], first[1])
    gen.manual_seed(seed + 1)
    assert not torch.equal(o.sample(w, m), first[0])
    # binding twice with the same seed gives the same sigma and the same draws
    o1 = NOISY[j].bind(p, torch.Generator().manual_seed(seed))
    o2 = NOISY[j].bind(p, torch.Generator().manual_seed(seed))
    assert torch.equal(o1.constants["sigma"], o2.constants["sigma"])
    assert torch.equal(o1.sample(w, m), o2.sample(w, m))


def test_replicas_and_instances_draw_independent_noise() -> None:
    p, o = setup(FAMILIES[0], GaussianNoise(), 5, 2, 3)
    w = points(p, 5, 2000)
    noise = (o.sample(w) - p.grad(w)) / o.constants["sigma"][:, None, None] * math.sqrt(3)
    # standardised noise: coordinates uncorrelated across replicas r and r + 1, and unit variance
    corr = (noise[:, :-1] * noise[:, 1:]).mean(1)
    assert (corr.abs() < 5 / math.sqrt(2000)).all()
    var = noise.square().mean(1)
    assert ((var - 1).abs() < 5 * math.sqrt(2 / 2000)).all()
