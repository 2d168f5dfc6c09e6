"""Every stored erratum witness replays, with the code as it is, to exactly the measured value
and bound it records, and is a violation: a change of the random streams or of a family's draws
that moves a witness is caught here, under every seed, not only when a catalog run misses."""
from __future__ import annotations

from pathlib import Path

import pytest

from theorems.catalog import lookup
from theorems.engine.counterexample import load_counterexample, replay

ERRATA = sorted((Path(__file__).resolve().parents[1] / "theorems" / "catalog" / "errata").glob("*.json"))


@pytest.mark.parametrize("path", ERRATA, ids=[p.stem for p in ERRATA])
def test_witness_replays_exactly_and_is_a_violation(path: Path) -> None:
    document = load_counterexample(path)
    outcome = replay(document, lookup(document["theorem"]))
    assert outcome.applicable and outcome.violated
    assert outcome.measured == outcome.recorded_measured
