"""Hypothesis strategies for every problem family, for anyone writing property tests (issue 4).

Dimensions, spectra, rotations, initial points and whole instances with certified constants,
plus noise (a bound oracle; ``noise_schedules`` and ``time_varying_oracles`` draw the time-varying
oracle's variance schedule parameter by parameter), and finite distributions with exact expectations
(``distribution_batches``, problems.distributions) for the probability background. Parametric families (problems.parametric) are drawn parameter by
parameter, so hypothesis shrinks towards small, simple instances (identity rotation, equal
eigenvalues, w1 near w*, no translation from the origin, else one of norm up to 1e3); every family
can also be drawn from a seed (``batches``).

Example: gradient descent with step 1/H never increases the loss of a smooth instance::

    from hypothesis import given
    from problems.strategies import instances

    @given(instances("huber"))
    def test_descent(problem):
        w = problem.w1[:, None, :]
        H = problem.constants["H"][:, None, None]
        assert (problem.loss(w - problem.grad(w) / H) <= problem.loss(w) + 1e-9 * (1 + problem.loss(w).abs())).all()
"""
from __future__ import annotations

from typing import Iterable

import torch
from hypothesis import strategies as st

from problems import FAMILIES, ORACLES, BoundOracle, NoiseSchedule, ProblemBatch, TimeVaryingNoise
from problems.distributions import DISTRIBUTIONS, DistributionBatch
from problems.parametric import Params, is_parametric, nearest_orthogonal

F64 = torch.float64

#: Magnitudes (curvatures, thresholds, distances) drawn on a log scale in [1e-2, 1e2].
magnitudes = st.floats(-2.0, 2.0).map(lambda e: 10.0 ** e)
coordinates = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False)
#: Norms of the translation of an instance away from the origin: 0, or 10^e with e in [-2, 3]
#: (shrinking to 0, then to 1).
shift_norms = st.one_of(st.just(0.0), st.floats(-2.0, 3.0).map(lambda e: 10.0 ** e))
#: Parameters that place an instance (its minimiser or centre): drawn with a translation when the
#: family has no ``shift`` parameter of its own.
CENTRES = ("w_star", "w_center", "m")
#: Signed curvatures (piecewise-quadratic cells): magnitudes with either sign (shrinking to +1e-2).
curvatures = st.tuples(st.booleans(), magnitudes).map(lambda sm: -sm[1] if sm[0] else sm[1])


def dims(max_dim: int = 8) -> st.SearchStrategy[int]:
    """Dimensions 1..max_dim (shrinking to 1)."""
    return st.integers(1, max_dim)


def spectra(dim: int, strongly_convex: bool = False, max_condition: float = 1e3) -> st.SearchStrategy[torch.Tensor]:
    """Eigenvalues (dim,) with the largest, H, first: in [0, H] (convex) or [H/max_condition, H]."""
    low = 1.0 / max_condition if strongly_convex else 0.0
    rel = st.lists(st.floats(low, 1.0), min_size=dim - 1, max_size=dim - 1)
    return st.tuples(magnitudes, rel).map(lambda hr: hr[0] * torch.tensor([1.0, *hr[1]], dtype=F64))


def frames(rows: int, dim: int) -> st.SearchStrategy[torch.Tensor]:
    """Matrices (rows, dim), rows >= dim, with orthonormal columns: the first dim columns of the
    identity plus a drawn perturbation, made orthonormal (shrinks to the identity's columns)."""
    entries = st.lists(st.floats(-2.0, 2.0), min_size=rows * dim, max_size=rows * dim)
    return entries.map(lambda e: nearest_orthogonal(
        (torch.eye(rows, dim, dtype=F64) + torch.tensor(e, dtype=F64).reshape(rows, dim))[None])[0])


def rotations(dim: int) -> st.SearchStrategy[torch.Tensor]:
    """Orthogonal matrices (dim, dim): the identity plus a drawn perturbation, made orthogonal
    (shrinks to the identity)."""
    return frames(dim, dim)


def points(dim: int) -> st.SearchStrategy[torch.Tensor]:
    """Points of R^dim with coordinates in [-10, 10]."""
    return st.lists(coordinates, min_size=dim, max_size=dim).map(lambda x: torch.tensor(x, dtype=F64))


def shifts(dim: int) -> st.SearchStrategy[torch.Tensor]:
    """Translations (dim,) of an instance away from the origin: a direction times a norm from
    ``shift_norms`` (up to 1e3), so instances lie near the origin and far from it, across scales."""
    direction = st.lists(st.floats(-1.0, 1.0), min_size=dim, max_size=dim).map(
        lambda v: torch.tensor(v, dtype=F64) + torch.tensor([1e-3] + [0.0] * (dim - 1), dtype=F64))
    return st.tuples(shift_norms, direction).map(lambda nd: nd[0] * nd[1] / nd[1].norm())


def initial_points(centre: torch.Tensor) -> st.SearchStrategy[torch.Tensor]:
    """w1 = centre + r u with r log-uniform in [1e-2, 1e2] and u a unit direction."""
    dim = centre.shape[-1]
    direction = st.lists(st.floats(-1.0, 1.0), min_size=dim, max_size=dim).map(
        lambda v: torch.tensor(v, dtype=F64) + torch.tensor([1e-3] + [0.0] * (dim - 1), dtype=F64))
    return st.tuples(magnitudes, direction).map(lambda rd: centre + rd[0] * rd[1] / rd[1].norm())


@st.composite
def parameters(draw: st.DrawFn, family: str, dim: int) -> Params:
    """Parameters of one instance (batch of 1) of a parametric family, projected into its class; its
    minimiser or centre is translated away from the origin (``shifts``)."""
    fam = FAMILIES[family]
    if not is_parametric(fam):
        raise ValueError(f"family {family!r} has no parametrisation; use batches({family!r})")
    template = fam.draw(1, dim, torch.Generator().manual_seed(0))
    out: Params = {}
    for name, value in template.items():
        if name in ("Q", "U", "V"):
            out[name] = draw(frames(value.shape[1], dim))[None]
        elif name == "lam":
            out[name] = draw(spectra(dim, "sc" in fam.classes))[None]
        elif name in ("c", "delta", "alpha", "omega", "s", "ridge"):
            values = draw(st.lists(magnitudes, min_size=value.numel(), max_size=value.numel()))
            out[name] = torch.tensor(values, dtype=F64).reshape(value.shape)
        elif name == "a":
            values = draw(st.lists(curvatures, min_size=value.numel(), max_size=value.numel()))
            out[name] = torch.tensor(values, dtype=F64).reshape(value.shape)
        elif name == "w1":
            continue
        elif name == "shift":
            out[name] = draw(shifts(dim))[None]
        elif name in CENTRES and "shift" not in template:
            flat = draw(st.lists(coordinates, min_size=value.numel(), max_size=value.numel()))
            out[name] = torch.tensor(flat, dtype=F64).reshape(value.shape) + draw(shifts(dim))
        else:
            flat = draw(st.lists(coordinates, min_size=value.numel(), max_size=value.numel()))
            out[name] = torch.tensor(flat, dtype=F64).reshape(value.shape)
    centre = out.get("w_star", out.get("w_center", out.get("m")))
    out["w1"] = draw(initial_points(centre[0]))[None]
    return fam.project(out)


def instances(family: str, dim: int | None = None) -> st.SearchStrategy[ProblemBatch]:
    """One instance (a batch of 1) of a parametric family, with certified constants."""
    dimension = st.just(dim) if dim is not None else dims()
    return dimension.flatmap(lambda d: parameters(family, d)).map(FAMILIES[family].build)


def batches(family: str, batch_size: int = 4, dim: int | None = None) -> st.SearchStrategy[ProblemBatch]:
    """A batch of any registered family, sampled by the family from a drawn seed."""
    dimension = st.just(dim) if dim is not None else dims()
    return st.tuples(dimension, st.integers(0, 2 ** 32 - 1)).map(
        lambda ds: FAMILIES[family].sample(batch_size, ds[0], torch.Generator().manual_seed(ds[1])))


def oracles(problem: ProblemBatch, names: tuple[str, ...] | None = None) -> st.SearchStrategy[BoundOracle]:
    """A registered oracle (noise) bound to ``problem`` with a drawn noise seed; the finite-sum
    sampling oracle only for a finite-sum problem (it samples the problem's terms)."""
    usable = [n for n in sorted(names or ORACLES) if problem.terms is not None or "fsum" not in ORACLES[n].classes]
    chosen = st.sampled_from(usable)
    return st.tuples(chosen, st.integers(0, 2 ** 32 - 1)).map(
        lambda ns: ORACLES[ns[0]].bind(problem, torch.Generator().manual_seed(ns[1])))


@st.composite
def noise_schedules(draw: st.DrawFn, batch_size: int = 1) -> NoiseSchedule:
    """Variance schedules s(t) in [0, 1] of ``TimeVaryingNoise`` (problems.oracles), one per instance,
    drawn parameter by parameter (shrinking towards the constant schedule t^0 = 1): the kind, beta in
    [0, 4], tau in [1e-2, 1e4], an integer period 1..64 with a width 0..period and phase, a floor in [0, 1]."""
    def column(strategy: st.SearchStrategy) -> torch.Tensor:
        return torch.tensor(draw(st.lists(strategy, min_size=batch_size, max_size=batch_size)), dtype=F64)

    kind = column(st.integers(0, 2)).long()
    beta = column(st.floats(0.0, 4.0))
    tau = column(st.floats(-2.0, 4.0).map(lambda e: 10.0 ** e))
    period = column(st.integers(1, 64))
    width = period - torch.floor(column(st.floats(0.0, 1.0)) * (period + 1)).clamp(max=period)
    phase = torch.floor(column(st.floats(0.0, 1.0)) * period)
    floor = 1 - column(st.floats(0.0, 1.0))
    return NoiseSchedule(kind, beta, tau, period, width, phase, floor)


def time_varying_oracles(problem: ProblemBatch) -> st.SearchStrategy[BoundOracle]:
    """``TimeVaryingNoise`` bound to ``problem`` with a drawn schedule (``noise_schedules``) and noise seed."""
    return st.tuples(noise_schedules(problem.batch_size), st.integers(0, 2 ** 32 - 1)).map(
        lambda ss: TimeVaryingNoise().bind(problem, torch.Generator().manual_seed(ss[1]), ss[0]))


def distribution_batches(names: Iterable[str] | None = None, max_batch: int = 4, max_support: int = 9,
                         max_dim: int = 4) -> st.SearchStrategy[DistributionBatch]:
    """Batches from the registered distribution generators (all, or ``names``) with B, K >= 2
    atoms, d and the seed drawn by hypothesis (float64, CPU)."""
    chosen = sorted(DISTRIBUTIONS) if names is None else sorted(names)

    def build(name: str, B: int, K: int, d: int, seed: int) -> DistributionBatch:
        return DISTRIBUTIONS[name].sample(B, K, d, torch.Generator().manual_seed(seed))

    return st.builds(build, st.sampled_from(chosen), st.integers(1, max_batch), st.integers(2, max_support),
                     st.integers(1, max_dim), st.integers(0, 2 ** 63 - 1))
