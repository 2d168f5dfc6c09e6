"""Counterexample files: a small JSON document from which ``theorycheck replay`` rebuilds the
run exactly (DESIGN.md: theorem, claim, family, parameters, seed, algorithm, measured, bound)."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from theorems.engine.loading import imports_code
from theorems.engine.profiles import PROFILES, Profile
from theorems.engine.claims import Evidence, compare
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round
from theorems.language.spec import Claim, Spec

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
    stem = f"{spec.id}-{claim.name}-{key.family}-{key.oracle}-{key.seed}-{evidence.instance}"
    name = re.sub(r"[^A-Za-z0-9._-]", "_", stem) + ".json"  # a claim name may hold '/' or '('
    target = path / name
    target.write_text(json.dumps(document, indent=1))
    return target


@dataclass(frozen=True)
class Replay:
    """A replayed counterexample: the recorded and the re-measured values, judged with the
    checker's own tolerance (never the file's)."""

    theorem: str
    claim: str
    recorded_measured: float
    measured: float
    bound: float
    violated: bool
    #: False when the instance no longer meets the claim's condition (``Claim.when``), e.g. a
    #: T5.3 point whose envelope the inner solve no longer certifies: nothing is compared then
    applicable: bool = True
    #: an expectation claim's one-sided p-value, and the level it is compared with (the profile's
    #: level split over the comparisons of the round)
    p_value: float | None = None
    level: float | None = None


def load_counterexample(path: str | Path) -> dict[str, Any]:
    """Read and validate a counterexample file: every field that the replay uses must have its
    type and range, or the file is refused with a one-line ``CounterexampleError``."""
    p = Path(path)
    try:
        document = json.loads(p.read_text())
    except FileNotFoundError:
        raise CounterexampleError(f"replay file {str(p)!r} does not exist") from None
    except IsADirectoryError:
        raise CounterexampleError(f"replay file {str(p)!r} is a folder") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CounterexampleError(f"cannot read replay file {str(p)!r}: {exc}") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise CounterexampleError(f"replay file {str(p)!r} is not JSON: {getattr(exc, 'msg', exc)}") from None
    if not isinstance(document, dict) or document.get("theorycheck_counterexample") != FORMAT_VERSION:
        raise CounterexampleError(f"replay file {str(p)!r} is not a theorycheck counterexample (version {FORMAT_VERSION})")

    def fail(message: str) -> CounterexampleError:
        return CounterexampleError(f"replay file {str(p)!r}: {message}")

    required = {"theorem": str, "claim": str, "round": dict, "instance": int}
    for name, kind in required.items():
        if not isinstance(document.get(name), kind) or isinstance(document.get(name), bool):
            raise fail(f"field {name!r} is missing or not a {kind.__name__}")
    fields = set(RoundKey.__dataclass_fields__)
    optional = {"params"}  # added later: files written before it replay without it
    r = document["round"]
    if not fields - optional <= set(r) <= fields:
        raise fail(f"'round' must have exactly the fields {sorted(fields)}")
    for name in ("seed", "horizon", "dim", "batch_size", "replicas"):
        if not isinstance(r[name], int) or isinstance(r[name], bool) or r[name] < (0 if name == "seed" else 1):
            raise fail(f"round.{name} must be a {'non-negative' if name == 'seed' else 'positive'} integer, "
                       f"got {r[name]!r}")
    for name in ("spec_id", "setting", "family", "oracle", "device"):
        if not isinstance(r[name], str):
            raise fail(f"round.{name} must be text, got {r[name]!r}")
    if r["algorithm"] is not None and not isinstance(r["algorithm"], str):
        raise fail(f"round.algorithm must be text or null, got {r['algorithm']!r}")
    for name in ("options", "hyper", "params"):
        if not isinstance(r.get(name, {}), dict):
            raise fail(f"round.{name} must be an object, got {type(r[name]).__name__}")
    if not all(isinstance(v, str) for v in r["hyper"].values()):
        raise fail("round.hyper must map names to expressions written as text")
    if not 0 <= document["instance"] < r["batch_size"]:
        raise fail(f"instance {document['instance']} is outside the batch of {r['batch_size']}")
    for name in ("step", "replica"):
        value = document.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise fail(f"{name} must be a non-negative integer or null, got {value!r}")
    for name in ("measured", "bound"):
        if _recorded(document.get(name)) is None:
            raise fail(f"{name!r} must be the recorded number")
    return document


def _recorded(value: Any) -> float | None:
    """A recorded number (finite, or 'nan' / 'inf' as ``_json_number`` writes them); None if not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value in ("nan", "inf", "-inf"):
        return float(value)
    return None


def _same(a: float, b: float) -> bool:
    """Whether a re-measured value reproduces the recorded one (to 1e-9 relative, NaN with NaN)."""
    return (math.isnan(a) and math.isnan(b)) or a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300)


def replay(document: dict[str, Any], spec: Spec, allow_import: bool = False) -> Replay:
    """Rebuild the round of a counterexample, judge the same comparison again with the checker's
    own tolerance (never the file's: its ``tolerance`` field is a record only), and check that it reproduces the recorded
    measured value and bound (a file that does not is an error, not a verdict).

    An algorithm that is neither built in nor a ``torch.optim`` optimizer is imported only with
    ``allow_import=True``: a shared file must not run code its reader did not ask for.
    """
    algorithm = document["round"].get("algorithm")
    if algorithm is not None and imports_code(algorithm) and not allow_import:
        raise CounterexampleError(f"the replay file names the algorithm {algorithm!r}, which replay would have to "
                                  "import (and so run its code); pass --allow-import if you trust the file")
    profile = PROFILES["quick"]  # the checker's tolerances (the same in every built-in profile)
    instance, step, replica = document["instance"], document.get("step"), document.get("replica")
    try:
        claim = spec.claim(document["claim"])
        key = RoundKey(**document["round"])
        if key.spec_id != spec.id:
            raise CounterexampleError(f"round.spec_id {key.spec_id!r} is not the file's theorem {spec.id}")
        data = build_round(spec, key)
        c = compare(claim, data, profile.level, profile.rtol, profile.atol)
        if c is not None:
            K, R = c.bad.shape[-1], (c.bad.shape[1] if c.kind == "sure" else 1)
            if not (step is None and K == 1 or step is not None and 1 <= step <= K):
                raise CounterexampleError(f"step {step} is outside the run's steps 1..{K}")
            if c.kind == "sure" and not 0 <= (replica or 0) < R:
                raise CounterexampleError(f"replica {replica} is outside the run's {R} replicas")
    except CounterexampleError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, RuntimeError) as exc:
        raise CounterexampleError(f"replay file does not describe a run of {spec.id}: "
                                  f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    recorded_measured, recorded_bound = _recorded(document.get("measured")), _recorded(document.get("bound"))
    if c is None or not bool(c.mask[instance]):
        return Replay(spec.id, claim.name, recorded_measured, math.nan, math.nan, False, applicable=False)
    at = c.index(instance, step, replica)
    measured, bound = float(c.measured[at]), float(c.bound[at])
    if not (_same(measured, recorded_measured) and _same(bound, recorded_bound)):
        raise CounterexampleError(f"the file does not reproduce: it records measured {recorded_measured:.17g}, "
                                  f"bound {recorded_bound:.17g}; its round now gives measured {measured:.17g}, "
                                  f"bound {bound:.17g} (an edited file, or another version of the code)")
    p_value = None if c.p_value is None else float(c.p_value[at])
    level = None if c.p_value is None else profile.level / c.bad[0].numel() / int(c.mask.sum())
    return Replay(spec.id, claim.name, recorded_measured, measured, bound, bool(c.bad[at]), True, p_value, level)


def witness_evidence(spec: Spec, claim: Claim) -> Evidence | None:
    """Replay an erratum's stored counterexample; its evidence when it is still violated."""
    if claim.witness is None:
        return None
    try:
        document = load_counterexample(claim.witness)
        outcome = replay(document, spec)
    except CounterexampleError:
        return None
    if not outcome.violated:
        return None
    return Evidence(RoundKey(**document["round"]), document["instance"], document.get("step"), outcome.measured,
                    outcome.bound, outcome.measured / outcome.bound if outcome.bound > 0 else math.nan, True,
                    outcome.p_value, replica=document.get("replica"))
