"""Record ``check(...).as_dict()`` (minus ``seconds``) and the counterexample files it writes for
the cases of tests/test_round_sharing.py, as a regression fixture.

The stored fixture ``round_sharing_before.json`` was produced by this script run on the code
BEFORE rounds were shared between claims (one round per claim; regenerated from e2c3c5c, the last per-claim commit, after the
performance and certified-minimiser changes altered the random streams and rounding), from a clean
export of that commit:
    git archive e2c3c5c | tar -x -C /tmp/old
    cp theorems/engine/profiles.py /tmp/old/theorems/      # a Profile field added since (schedule horizons)
    rm -r /tmp/old/theorems/catalog/errata && cp -r theorems/catalog/errata /tmp/old/theorems/catalog/
    cp algorithms/sgd.py /tmp/old/algorithms/       # SGD's update fused into one call since (rounding)
    cp problems/quadratic.py /tmp/old/problems/     # quadratics translated far from the origin since
    cd /tmp/old && PYTHONPATH=/tmp/old OMP_NUM_THREADS=1 python <this checkout>/tests/data/make_round_sharing_fixture.py
(the errata witnesses, regenerated since, are data the checks read, not the round engine).
"""
from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from theorems.catalog import CATALOG
try:  # this checkout's layout
    from theorems.engine.checker import check
    from theorems.engine.profiles import Profile
except ModuleNotFoundError:  # the flat layout of e2c3c5c, on which the fixture is recorded
    from theorems.checker import check
    from theorems.profiles import Profile

FIXTURE = Path(__file__).with_name("round_sharing_before.json")
#: small budget, but every horizon of the quick profile (E7.3's condition B >= T fails at T = 64)
PROFILE = Profile("sharing-fixture", batch_size=8, replicas=32, rounds=1, horizons=(1, 4, 16, 64),
                  dims=(1, 2, 3), gradient_steps=2, gradient_batch=2, gradient_max_horizon=16)
CASES: list[dict[str, Any]] = [
    {"id": "E7.3"},                     # two claims, one setting, condition B >= T on the key
    {"id": "A3"},                       # condition T mod N = 0 on the instances
    {"id": "L5.7"},                     # condition c <= 1 on a free parameter
    {"id": "L5.7", "claims": ["one-step-small-eta"]},   # ... on the only claim checked
    {"id": "T7.2"},                     # three claims on two settings, an erratum
    {"id": "P2.3", "seed": 3},          # two claims, one setting
    {"id": "CA.4"},                     # distribution setting, an erratum
    {"id": "P3.1"},                     # pointwise setting, expectation claims
    {"id": "T6.1", "claims": ["sum-grad-sq"]},
    {"id": "T5.8", "algorithm": "torch.optim.SGD", "options": {"momentum": 0.9}, "families": ["quadratic-sc"]},
]


def normalised(result: dict[str, Any]) -> dict[str, Any]:
    """The JSON of a check without its timing, each counterexample replaced by its file's name
    and contents (the directory is a temporary one)."""
    out = {k: v for k, v in result.items() if k != "seconds"}
    claims = []
    for claim in out["claims"]:
        claim = dict(claim)
        if claim.get("counterexample"):
            path = Path(claim["counterexample"])
            claim["counterexample"] = {"name": path.name,
                                       "document": json.loads(path.read_text()) if path.is_file() else None}
        claims.append(claim)
    out["claims"] = claims
    return out


def run_case(case: dict[str, Any], directory: Path) -> dict[str, Any]:
    """``check`` of one case under ``PROFILE``, normalised."""
    result = check(CATALOG[case["id"]], profile=PROFILE, seed=case.get("seed", 0),
                   algorithm=case.get("algorithm"), options=case.get("options"), families=case.get("families"),
                   claims=case.get("claims"), counterexample_dir=directory)
    return normalised(json.loads(json.dumps(result.as_dict())))


def main() -> int:
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        results = [run_case(case, Path(tmp) / str(i)) for i, case in enumerate(CASES)]
    FIXTURE.write_text(json.dumps({"profile": asdict(PROFILE), "cases": CASES, "results": results}, indent=1))
    print(f"wrote {FIXTURE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
