"""The claims of P5.2, PB.1 and T5.3 can fail: each is violated once its bound is made too small,
and PB.1's claims are violated on cosine wells (non-convex) when run there regardless of the
class tags."""
from __future__ import annotations

import dataclasses

import pytest

from theorems.catalog import CATALOG
from theorems.engine.profiles import PROFILES
from theorems.engine.claims import evaluate_claim
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round
from theorems.engine.seeding import derive_seed
from theorems.language.symbols import H, v_sq

QUICK = PROFILES["quick"]

#: (result, claim, family, dimension, the too-small bound as a function of the claim's bound)
TOO_SMALL = [
    ("P5.2", "hessian-bounded", "quadratic-convex", 3, lambda b: 0.9 * b),
    ("P5.2", "hessian-bounded-power", "quadratic-convex", 3, lambda b: 0.99 * b),
    ("P5.2", "smooth", "quadratic-convex", 3, lambda b: 0.9 * b),
    ("PB.1", "hessian-psd", "quadratic-convex", 3, lambda b: b - H * v_sq / 2),
    ("PB.1", "first-order", "quadratic-convex", 3, lambda b: 0.9 * b),
    ("T5.3", "close", "pseudo-huber", 2, lambda b: 0.4 * b),
    ("T5.3", "lipschitz", "cosine-wells", 1, lambda b: 0.9 * b),
    ("T5.3", "smooth-corrected", "cosine-wells", 1, lambda b: 0.8 * b),
    ("T5.3", "second-difference-corrected", "cosine-wells", 1, lambda b: 0.8 * b),
    ("T5.3", "smooth-corrected", "pseudo-huber", 2, lambda b: 0.8 * b),
    ("T5.3", "second-difference-corrected", "pseudo-huber", 2, lambda b: 0.8 * b),
    # the non-smooth families: G^2/(2 H_env) on a linear piece, G where the subgradient bound is
    # attained, and H_env exactly on w*'s face (problems/moreau_polyhedral.py)
    ("T5.3", "close", "l1-regression", 2, lambda b: 0.45 * b),
    ("T5.3", "lipschitz", "l1-regression", 2, lambda b: 0.99 * b),
    ("T5.3", "smooth-corrected", "hinge", 2, lambda b: 0.999 * b),
    ("T5.3", "second-difference-corrected", "hinge", 2, lambda b: 0.999 * b),
]


def violated(spec_id: str, claim, family: str, dim: int, rounds: int = 4) -> bool:
    spec = CATALOG[spec_id]
    for i in range(rounds):
        key = RoundKey(spec.id, claim.setting, family, "exact", derive_seed("can-fail", spec_id, claim.name, i), 1, dim,
                       QUICK.batch_size, QUICK.replicas, "cpu", None)
        outcome = evaluate_claim(claim, build_round(spec, key), QUICK.level, QUICK.rtol, QUICK.atol)
        if outcome.violation is not None:
            return True
    return False


@pytest.mark.parametrize("spec_id, name, family, dim, shrink", TOO_SMALL,
                         ids=[f"{s}:{c}:{f}" for s, c, f, _, _ in TOO_SMALL])
def test_claim_holds_but_fails_with_a_smaller_bound(spec_id: str, name: str, family: str, dim: int, shrink) -> None:
    claim = CATALOG[spec_id].claim(name)
    assert not violated(spec_id, claim, family, dim)
    assert violated(spec_id, dataclasses.replace(claim, bound=shrink(claim.bound)), family, dim)


@pytest.mark.parametrize("name", ["hessian-psd", "first-order"])
def test_convexity_claims_fail_on_cosine_wells(name: str) -> None:
    claim = CATALOG["PB.1"].claim(name)
    assert violated("PB.1", claim, "cosine-wells", 2, rounds=1)


def test_curvature_symbol_is_the_quadratic_form() -> None:
    """On quadratics <v, Hess v> lies between mu ||v||^2 and H ||v||^2 (an independent sanity check of curv_v)."""
    spec = CATALOG["PB.1"]
    key = RoundKey("PB.1", "points", "quadratic-sc", "exact", 3, 1, 4, 8, 16, "cpu", None)
    data = build_round(spec, key)
    curv, vsq = data.values["curv_v"], data.values["v_sq"]
    assert bool(((curv >= data.values["mu"] * vsq * (1 - 1e-12)) & (curv <= data.values["H"] * vsq * (1 + 1e-12))).all())


def test_envelope_points_the_solve_does_not_pin_down_are_excluded_not_violations() -> None:
    """Regression: on a Huber round (d = 5) the inner solve left one point with a wide bracket,
    whose upper side read as a T5.3 violation (CI found three). Such points get no certificate
    (NaN, ``env_certified`` 0) and their instance is outside the claims' condition; the other 31
    instances are still checked, and hold. (The round was found again by a search over seeds after
    the families' draws changed: instance 26 of seed 81.)"""
    from theorems.catalog import CATALOG
    from theorems.engine.claims import evaluate_claim
    from theorems.engine.round_data import RoundKey
    from theorems.engine.rounds import build_round

    spec = CATALOG["T5.3"]
    key = RoundKey("T5.3", "envelope", "huber", "exact", 81, 1, 5, 32, 128, "cpu", None)
    data = build_round(spec, key)
    certified = data.values["env_certified"].reshape(32, -1).all(-1)
    assert not bool(certified[26]) and int(certified.sum()) == 31
    for name in ("lipschitz", "smooth-corrected", "second-difference-corrected", "close"):
        outcome = evaluate_claim(spec.claim(name), data, 0.01, 1e-9, 1e-12)
        assert outcome.applicable == 31 and outcome.violation is None, name
