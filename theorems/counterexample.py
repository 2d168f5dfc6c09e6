"""Counterexample files: a small JSON document from which ``theorycheck replay`` rebuilds the
run exactly (DESIGN.md: theorem, claim, family, parameters, seed, algorithm, measured, bound)."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from theorems.evaluate import evaluate
from theorems.profiles import Profile
from theorems.rounds import Evidence, RoundKey, build_round, measure_instance
from theorems.spec import Claim, Spec

FORMAT_VERSION = 1


class CounterexampleError(ValueError):
    """A counterexample file is missing, unreadable or malformed."""


def _json_number(x: float | None) -> float | str | None:
    if x is None or math.isfinite(x):
        return x
    return str(x)


def write_counterexample(spec: Spec, claim: Claim, evidence: Evidence, profile: Profile,
                         directory: str | Path) -> Path:
    """Write the evidence of a violation as JSON and return its path."""
    key = evidence.key
    data = build_round(spec, key)
    document: dict[str, Any] = {
        "theorycheck_counterexample": FORMAT_VERSION,
        "theorem": spec.id,
        "claim": claim.name,
        "kind": claim.kind,
        "statement": claim.statement,
        "round": key.as_dict(),
        "instance": evidence.instance,
        "step": evidence.step,
        "replica": evidence.replica,
        "measured": _json_number(evidence.measured),
        "bound": _json_number(evidence.bound),
        "tightness": _json_number(evidence.tightness),
        "p_value": evidence.p_value,
        "reason": evidence.reason,
        "tolerance": {"rtol": profile.rtol, "atol": profile.atol, "level": profile.level},
        "constants_and_parameters": data.instance_values(evidence.instance),
        "instance_parameters": data.problem.describe(evidence.instance),
    }
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    name = f"{spec.id}-{claim.name}-{key.family}-{key.oracle}-{key.seed}-{evidence.instance}.json"
    target = path / name
    target.write_text(json.dumps(document, indent=1))
    return target


@dataclass(frozen=True)
class Replay:
    """A replayed counterexample: the recorded and the recomputed measured value."""

    theorem: str
    claim: str
    recorded_measured: float
    measured: float
    bound: float
    violated: bool
    #: False when the instance no longer meets the claim's condition (``Claim.when``), e.g. a
    #: T5.3 point whose envelope the inner solve no longer certifies: nothing is compared then
    applicable: bool = True


def load_counterexample(path: str | Path) -> dict[str, Any]:
    """Read and validate a counterexample file."""
    p = Path(path)
    try:
        document = json.loads(p.read_text())
    except FileNotFoundError:
        raise CounterexampleError(f"replay file {str(p)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CounterexampleError(f"cannot read replay file {str(p)!r}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise CounterexampleError(f"replay file {str(p)!r} is not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(document, dict) or document.get("theorycheck_counterexample") != FORMAT_VERSION:
        raise CounterexampleError(f"replay file {str(p)!r} is not a theorycheck counterexample (version {FORMAT_VERSION})")
    required = {"theorem": str, "claim": str, "round": dict, "instance": int}
    for name, kind in required.items():
        if not isinstance(document.get(name), kind):
            raise CounterexampleError(f"replay file {str(p)!r}: field {name!r} is missing or not a {kind.__name__}")
    fields = set(RoundKey.__dataclass_fields__)
    optional = {"params"}  # added later: files written before it replay without it
    if not fields - optional <= set(document["round"]) <= fields:
        raise CounterexampleError(f"replay file {str(p)!r}: 'round' must have exactly the fields {sorted(fields)}")
    return document


def replay(document: dict[str, Any], spec: Spec) -> Replay:
    """Rebuild the round of a counterexample and measure the same instance again."""
    try:
        claim = spec.claim(document["claim"])
        key = RoundKey(**document["round"])
        data = build_round(spec, key)
        if not 0 <= document["instance"] < key.batch_size:
            raise CounterexampleError(f"instance {document['instance']} is outside the batch of {key.batch_size}")
        measured, bound = measure_instance(claim, data, document["instance"], document.get("step"),
                                           document.get("replica"))
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, CounterexampleError):
            raise
        raise CounterexampleError(f"replay file does not describe a run of {spec.id}: {exc}") from None
    recorded = document.get("measured")
    recorded_value = float(recorded) if isinstance(recorded, (int, float, str)) else math.nan
    if claim.when is not None and not bool(evaluate(claim.when, data.values, data.like).reshape(key.batch_size, -1)
                                           [document["instance"]].all()):
        return Replay(spec.id, claim.name, recorded_value, measured, bound, False, applicable=False)
    tol = document.get("tolerance", {})
    slack = float(tol.get("rtol", 1e-9)) * (abs(measured) + abs(bound)) + float(tol.get("atol", 1e-12))
    violated = not math.isfinite(measured) or measured > bound + slack
    return Replay(spec.id, claim.name, recorded_value, measured, bound, violated)


def witness_evidence(spec: Spec, claim: Claim) -> Evidence | None:
    """Replay an erratum's stored counterexample; its evidence when it is still violated."""
    if claim.witness is None:
        return None
    document = load_counterexample(claim.witness)
    outcome = replay(document, spec)
    if not outcome.violated:
        return None
    return Evidence(RoundKey(**document["round"]), document["instance"], document.get("step"), outcome.measured,
                    outcome.bound, outcome.measured / outcome.bound if outcome.bound > 0 else math.nan, True,
                    document.get("p_value"), replica=document.get("replica"))
