"""Rounds shared by the claims of a setting, and rounds skipped when no claim's condition holds
(issue 14, item 2), change no result.

``tests/data/round_sharing_before.json`` was produced by the OLD code, which built every round
once per claim (e2c3c5c, the last commit before this change), with
``tests/data/make_round_sharing_fixture.py``: ``check(...).as_dict()`` minus ``seconds``, and
the counterexample files, of several results (conditions on the key, on the instances and on a
free parameter; errata; pointwise, distribution and algorithm-override runs). The new code must
reproduce it exactly: verdicts, measured values, worst instances, tightness samples, JSON.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from theorems.catalog import CATALOG
from theorems.engine.checker import check, count_rounds, round_keys, setting_round_keys
from theorems.engine.profiles import PROFILES
from theorems.engine.rounds import build_round, build_shared_round

_DATA = Path(__file__).parent / "data"
_spec = importlib.util.spec_from_file_location("make_round_sharing_fixture", _DATA / "make_round_sharing_fixture.py")
fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture)
BEFORE = json.loads(fixture.FIXTURE.read_text())


def _name(key) -> str:
    """A round key as a hashable string (its dict fields make it unhashable)."""
    return json.dumps(key.as_dict(), sort_keys=True)


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_fixture_is_the_current_case_list() -> None:
    assert BEFORE["cases"] == fixture.CASES
    assert BEFORE["profile"] == json.loads(json.dumps(fixture.PROFILE.__dict__))


@pytest.mark.parametrize("index", range(len(fixture.CASES)),
                         ids=[f"{c['id']}-{i}" for i, c in enumerate(fixture.CASES)])
def test_check_json_is_identical_to_the_per_claim_rounds(index: int, tmp_path: Path) -> None:
    assert fixture.run_case(fixture.CASES[index], tmp_path) == BEFORE["results"][index]


def test_claims_of_a_setting_share_its_rounds_and_each_round_is_built_once(monkeypatch, tmp_path: Path) -> None:
    import theorems.engine.rounds as rounds
    built = []
    real = rounds.run_round
    monkeypatch.setattr(rounds, "run_round", lambda sampled, *a, **k: built.append(sampled.key) or real(sampled, *a, **k))
    spec = CATALOG["P2.3"]   # two claims on one pointwise setting
    result = check(spec, profile=fixture.PROFILE, counterexample_dir=tmp_path)
    keys = round_keys(spec, spec.claims[0], fixture.PROFILE, 0, "cpu", None)
    assert keys == round_keys(spec, spec.claims[1], fixture.PROFILE, 0, "cpu", None)
    random_rounds = built[:len(keys)]
    assert random_rounds == keys   # one build per key, not one per claim
    assert all(c.rounds >= len(keys) for c in result.claims)


def test_rounds_where_no_condition_holds_are_not_run(monkeypatch, tmp_path: Path) -> None:
    """E7.3's claims need B >= T; its minibatch is 1 at T = 64, so those rounds are skipped."""
    import theorems.engine.rounds as rounds
    sampled_keys = []
    real = rounds.sample_round
    monkeypatch.setattr(rounds, "sample_round", lambda spec, key, *a: sampled_keys.append(key) or real(spec, key, *a))
    spec = CATALOG["E7.3"]
    keys = setting_round_keys(spec, spec.settings[0], fixture.PROFILE, 0, "cpu", None)
    messages: list[str] = []
    check(spec, profile=fixture.PROFILE, counterexample_dir=tmp_path, progress=messages.append)
    skipped = [k for k in keys if k.horizon == 64]
    assert skipped and not {_name(k) for k in skipped} & {_name(k) for k in sampled_keys}
    assert sum("skipped" in m for m in messages) == len(skipped)
    assert build_shared_round(spec, skipped[0], spec.claims) is None
    assert build_shared_round(spec, keys[0], spec.claims) is not None


@pytest.mark.parametrize("spec_id, claim_name, condition", [
    ("A3", "full-epochs-any-order", lambda v: (v["T"] % v["N"]) == 0),
    ("L5.7", "one-step-small-eta", lambda v: v["c"] <= 1),
])
def test_a_condition_on_the_instances_skips_the_run_after_sampling(spec_id, claim_name, condition) -> None:
    """A round of a claim with a condition on the sampled instances (A3: T mod N = 0; L5.7: the
    free c <= 1) is run exactly when some instance meets it."""
    spec = CATALOG[spec_id]
    claim = spec.claim(claim_name)
    outcomes = set()
    for key in round_keys(spec, claim, fixture.PROFILE, 0, "cpu", None):
        meets = bool(condition(build_round(spec, key).values).any())
        assert (build_shared_round(spec, key, [claim]) is not None) == meets
        outcomes.add(meets)
    assert outcomes == {True, False}


def test_counted_rounds_are_the_distinct_keys() -> None:
    profile = PROFILES["quick"]
    for spec_id in ("E7.3", "T7.2", "P2.3"):
        spec = CATALOG[spec_id]
        per_claim = {_name(k) for c in spec.claims for k in round_keys(spec, c, profile, 0, "cpu", None)}
        assert count_rounds(spec, profile, 0, "cpu") == len(per_claim)
    spec = CATALOG["T7.2"]
    assert count_rounds(spec, profile, 0, "cpu", claims=["sum-grad-sq"]) == len(
        round_keys(spec, spec.claim("sum-grad-sq"), profile, 0, "cpu", None))
