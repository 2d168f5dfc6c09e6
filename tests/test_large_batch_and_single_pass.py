"""Exercise 7.3 (minibatches of size B = T) and section 3.1 (single pass): minibatch sizes given as
expressions of T, and each claim reported violated when its bound is made too small."""
from __future__ import annotations

import dataclasses

import pytest
import sympy as sp

from theorems.catalog import CATALOG
from theorems.engine.checker import check
from theorems.engine.profiles import PROFILES
from theorems.engine.plan import minibatch_size
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round
from theorems.language.spec import Setting, SpecError
from theorems.language.symbols import T
from tests.test_spec_and_checker import make

E7_3 = CATALOG["E7.3"]


@pytest.mark.parametrize("horizon, expected", [(1, 1), (4, 4), (16, 16), (64, 1)])
def test_exercise_7_3_runs_batches_of_size_T_up_to_16(horizon: int, expected: int) -> None:
    setting = E7_3.setting("optimal-eta")
    key = RoundKey("E7.3", "optimal-eta", "quadratic-sc", "gaussian", 5, horizon, 2, 4, 3, "cpu", None)
    assert minibatch_size(setting, key) == expected
    if horizon <= 4:
        assert float(build_round(E7_3, key).values["B"]) == expected


@pytest.mark.parametrize("size, fragment", [(0, "minibatch sizes"), (sp.Symbol("Q"), "minibatch sizes"),
                                            (T / 2, "positive integer")])
def test_minibatch_sizes_must_be_positive_integers_of_T(size, fragment) -> None:
    def build():
        spec = make([], settings=(Setting("s", "MinibatchSGD", hyper={"eta": sp.Integer(1)}, noise=("gaussian",),
                                          minibatch=(size,)),))
        minibatch_size(spec.settings[0], RoundKey("X1", "s", "quadratic-sc", "gaussian", 0, 3, 2, 2, 2, "cpu", None))
    with pytest.raises((SpecError, ValueError), match=fragment):
        build()


def too_small(spec_id: str, claim: str, factor: sp.Rational):
    spec = CATALOG[spec_id]
    original = spec.claim(claim)
    return dataclasses.replace(spec, claims=(dataclasses.replace(original, bound=factor * original.bound),))


@pytest.mark.parametrize("spec_id, claim, family, horizons", [
    ("S3.1", "population-random-iterate", "pseudo-huber", (1, 4)),
    ("E7.3", "sum-grad-sq", "quadratic-sc", (1, 4)),
    ("E7.3", "random-iterate-rate", "quadratic-sc", (1, 4)),
])
def test_the_bound_made_too_small_by_half_is_violated(tmp_path, spec_id, claim, family, horizons) -> None:
    profile = dataclasses.replace(PROFILES["quick"], horizons=horizons)
    result = check(too_small(spec_id, claim, sp.Rational(1, 2)), profile=profile, families=[family],
                   counterexample_dir=tmp_path).claims[0]
    assert result.verdict == "violated" and result.violation.lower > 1
