"""The section-25 specs (theorems/catalog/s25_second_order.py) can fail and scale correctly.

- Every claim holds on a round and is violated once its bound is made smaller.
- Scaling (sympy): under L -> s L (J, Delta, gradients, lambda and loss values times s; cubic Newton's
  iterates unchanged) and under w -> w / a (gradients / a, Hessians and lambda / a^2, J / a^3, steps
  and directions times a), both sides of every claim scale alike, except the gradient bound of
  Theorem 25.8 as written (the erratum).
- Tiny and huge constants, T = 1: on cosine wells scaled by s in {1e-6, 1e6} (L -> s L) and
  stretched by a in {1e-3, 1e3} (w -> w / a), Theorem 25.8's corrected and per-step claims hold; the
  claim as written fails for small s, as the erratum says.
"""
from __future__ import annotations

import dataclasses

import pytest
import sympy as sp
import torch

from problems import FAMILIES
from theorems.catalog import CATALOG
from theorems.engine.claims import evaluate_claim
from theorems.engine.profiles import PROFILES
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round
from theorems.engine.seeding import derive_seed
from theorems.language import symbols as S

QUICK = PROFILES["quick"]

#: (result, claim, family, dimension, horizon, the too-small bound as a function of the claim's bound)
TOO_SMALL = [
    ("P25.3", "second-order-smooth", "cosine-wells", 1, 1, lambda b: 0.9 * b),
    ("L25.4", "cubic-upper-model", "cosine-wells", 1, 1, lambda b: 0.9 * b),
    ("L25.5", "gradient-remainder", "cosine-wells", 1, 1, lambda b: 0.9 * b),
    ("T25.7", "decrease", "cosine-wells", 1, 4, lambda b: 0.25 * b),
    ("T25.8", "sosp-corrected", "cosine-wells", 2, 1, lambda b: 0.05 * b),
    # ||grad L(w_{t+1})|| = ||x + J delta ||delta|| / 2||: J ||delta||^2 / 2 once x, the Taylor remainder, is small
    ("T25.8", "gradient-by-step", "cosine-wells", 2, 4, lambda b: 0.45 * b),
    # cubic Newton's lambda(w_t) rarely increases on these families: the smaller bound is below lambda(w_t)
    ("T25.8", "curvature-by-step", "cosine-wells", 2, 4, lambda b: b - 1.1 * S.J * sp.sqrt(S.step_sq_t)),
    ("T25.8", "negative-curvature-decrease", "cosine-wells", 2, 4, lambda b: 0.3 * b),
    ("T25.8", "cubic-decrease", "cosine-wells", 2, 4, lambda b: 0.3 * b),
]


def violated(spec_id: str, claim, family: str, dim: int, horizon: int, rounds: int = 4) -> bool:
    spec = CATALOG[spec_id]
    for i in range(rounds):
        key = RoundKey(spec.id, claim.setting, family, "exact", derive_seed("can-fail", spec_id, claim.name, i),
                       horizon, dim, QUICK.batch_size, QUICK.replicas, "cpu", None)
        outcome = evaluate_claim(claim, build_round(spec, key), QUICK.level, QUICK.rtol, QUICK.atol)
        if outcome.violation is not None:
            return True
    return False


@pytest.mark.parametrize("spec_id, name, family, dim, horizon, shrink", TOO_SMALL,
                         ids=[f"{s}:{c}" for s, c, *_ in TOO_SMALL])
def test_claim_holds_but_fails_with_a_smaller_bound(spec_id: str, name: str, family: str, dim: int, horizon: int,
                                                    shrink) -> None:
    claim = CATALOG[spec_id].claim(name)
    assert not violated(spec_id, claim, family, dim, horizon)
    assert violated(spec_id, dataclasses.replace(claim, bound=shrink(claim.bound)), family, dim, horizon)


s, a = sp.symbols("s a", positive=True)
#: How each symbol scales under L -> s L and w -> w / a (pointwise directions v and steps scale with w).
SCALING = {
    S.J: s / a ** 3, S.Delta: s, S.H: s / a ** 2,
    S.L_w: s, S.L_wv: s, S.L_t: s, S.L_next: s, S.inner_grad_v: s, S.curv_v: s, S.v_sq: a ** 2,
    S.taylor_grad_sq: s ** 2 / a ** 2, S.hess_diff_op: s / a ** 2, S.grad_sq_next: s ** 2 / a ** 2,
    S.lam_t: s / a ** 2, S.lam_next: s / a ** 2, S.step_sq_t: a ** 2, S.grad_floor_next: s / a,
    S.sosp_eps_J: s ** 2 / a ** 4,
}
HOMOGENEOUS = [(spec_id, c.name) for spec_id in ("P25.3", "L25.4", "L25.5", "T25.7", "T25.8")
               for c in CATALOG[spec_id].claims if c.erratum is None]


def scaled(expr: sp.Expr) -> sp.Expr:
    return sp.sympify(expr).xreplace({k: k * v for k, v in SCALING.items()})


@pytest.mark.parametrize("spec_id, name", HOMOGENEOUS, ids=[f"{i}:{n}" for i, n in HOMOGENEOUS])
def test_both_sides_scale_alike(spec_id: str, name: str) -> None:
    """Each term of both sides picks up one common factor s^p a^q (Max(lam_t, 0) is taken for lam_t >= 0)."""
    claim = CATALOG[spec_id].claim(name)
    factors = set()
    for side in (claim.measured, claim.bound):
        side = sp.sympify(side).replace(sp.Max, lambda *args: next(x for x in args if x.free_symbols))
        for term in sp.Add.make_args(sp.expand(side)):
            ratio = sp.simplify(scaled(term) / term)
            assert not (ratio.free_symbols - {s, a}), (name, term, ratio)
            factors.add(ratio)
    assert len(factors) == 1, (spec_id, name, factors)


def test_theorem_25_8_as_written_does_not_scale_but_the_correction_does() -> None:
    """The printed gradient bound scales as s^2 / a^4 while ||grad L|| scales as s / a; the Hessian
    bound 2 sqrt(eps) scales as lambda does; the corrected eps / J scales as ||grad L||."""
    spec = CATALOG["T25.8"]
    eps_notes, eps = spec.claim("sosp").bound, spec.claim("sosp-corrected").bound
    grad_factor = s / a
    assert sp.simplify(scaled(eps_notes) / eps_notes - s ** 2 / a ** 4) == 0
    assert sp.simplify(scaled(eps_notes) / eps_notes - grad_factor) != 0
    assert sp.simplify(scaled(2 * sp.sqrt(eps_notes)) / (2 * sp.sqrt(eps_notes)) - s / a ** 2) == 0
    assert sp.simplify(scaled(eps / S.J) / (eps / S.J) - grad_factor) == 0
    assert sp.simplify(scaled(2 * sp.sqrt(eps)) / (2 * sp.sqrt(eps)) - s / a ** 2) == 0


def scaled_wells(depth: float, stretch: float, seed: int = 3, d: int = 2):
    """Cosine wells with L -> depth L and w -> w / stretch (alpha times depth, omega / stretch, centre
    and start times stretch): the certified constants follow from the family's formulas."""
    family = FAMILIES["cosine-wells"]
    params = family.draw(QUICK.batch_size, d, torch.Generator().manual_seed(seed))
    params = {**params, "alpha": params["alpha"] * depth, "omega": params["omega"] / stretch,
              "m": params["m"] * stretch, "w1": params["w1"] * stretch, "shift": params["shift"] * stretch}
    return family.build(params)


def outcome(name: str, problem, horizon: int):
    spec = CATALOG["T25.8"]
    claim = spec.claim(name)
    key = RoundKey("T25.8", claim.setting, "cosine-wells", "exact", 0, horizon, problem.dim, problem.batch_size,
                   1, "cpu", None)
    return evaluate_claim(claim, build_round(spec, key, problem), QUICK.level, QUICK.rtol, QUICK.atol)


@pytest.mark.parametrize("depth, stretch", [(1e-6, 1.0), (1e6, 1.0), (1.0, 1e-3), (1.0, 1e3)])
@pytest.mark.parametrize("horizon", [1, 16])
def test_corrected_and_per_step_claims_hold_at_tiny_and_huge_scales(depth: float, stretch: float,
                                                                     horizon: int) -> None:
    problem = scaled_wells(depth, stretch)
    for claim in CATALOG["T25.8"].claims:
        if claim.erratum is None:
            result = outcome(claim.name, problem, horizon)
            assert result.applicable == problem.batch_size and result.violation is None, (claim.name, result.violation)


def test_the_claim_as_written_fails_on_shallow_wells_where_the_correction_holds() -> None:
    shallow = scaled_wells(1e-3, 1.0)
    assert outcome("sosp", shallow, 1).violation is not None
    assert outcome("sosp-corrected", shallow, 1).violation is None


def test_a_step_that_ignores_the_gradient_breaks_the_corrected_claim() -> None:
    """Run in cubic Newton's place, the negative-curvature step (which never follows the gradient)
    leaves ||grad L|| large: the corrected claim is violated, so it checks the algorithm, not only the data."""
    spec = CATALOG["T25.8"]
    claim = spec.claim("sosp-corrected")
    found = False
    for seed in range(4):
        key = RoundKey("T25.8", claim.setting, "cosine-wells", "exact", seed, 16, 2, QUICK.batch_size, 1, "cpu",
                       "algorithms.cubic_newton:NegativeCurvature")
        found |= evaluate_claim(claim, build_round(spec, key), QUICK.level, QUICK.rtol, QUICK.atol).violation is not None
    assert found
