"""The checker: run every claim of a spec on many instances and return verdicts with evidence.

Verdicts (DESIGN.md): ``holds``, ``violated`` (with a counterexample JSON file),
``not-applicable`` (no admissible family, or the claim's condition never held), and tightness =
measured / bound at the worst instance found (closer to 1: sharper bound, stronger search).
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import sympy as sp
import torch

from theorems.engine.adversaries import GRADIENT_SEARCH, gradient_search
from theorems.engine.counterexample import witness_evidence, write_counterexample
from theorems.engine.profiles import PROFILES, Profile
from theorems.language import symbols as S
from theorems.engine.claims import ClaimRound, Evidence, evaluate_claim, measure_instance
from theorems.engine.plan import combinations, horizons, round_key
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round, build_shared_round
from theorems.engine.seeding import derive_seed
from theorems.language.spec import Claim, Setting, Spec, validate_names

HOLDS, VIOLATED, NOT_APPLICABLE, ERRATUM = "holds", "violated", "not-applicable", "erratum"

#: At most this many tightness values are kept per claim (reservoir sample, seeded by the claim).
SAMPLE_CAP = 5000
#: Which search found the worst instance: the profile's random rounds, or the gradient adversary
#: (theorems/engine/adversaries.py) started from their best instances.
RANDOM_SEARCH = "random"


@dataclass
class ClaimResult:
    """The verdict on one claim and its evidence."""

    spec_id: str
    name: str
    kind: str
    statement: str
    verdict: str = NOT_APPLICABLE
    instances: int = 0
    #: instances left out because their family could not certify the minimiser
    dropped: int = 0
    comparisons: int = 0
    rounds: int = 0
    worst: Evidence | None = None
    violation: Evidence | None = None
    counterexample: str | None = None
    families: set[str] = field(default_factory=set)
    #: the search that produced the evidence (``random``: the profile's random rounds;
    #: ``gradient``: the gradient adversary)
    search: str = RANDOM_SEARCH
    #: the largest tightness each search reached (``random``, ``gradient``)
    best_by_search: dict[str, float] = field(default_factory=dict)
    #: True for a pointwise lemma (no horizon T)
    pointwise: bool = False
    #: tightness of each applicable instance's worst comparison (at most ``SAMPLE_CAP``, a
    #: deterministic reservoir sample)
    tightness_samples: list[float] = field(default_factory=list)
    tightness_unit: str = "instance"
    samples_seen: int = 0
    #: the worst comparison found at each horizon T
    by_horizon: dict[int, Evidence] = field(default_factory=dict)
    #: (T, measured, bound) of the worst instance found, re-run at every horizon of the profile
    rate_curve: list[tuple[int, float, float]] = field(default_factory=list)
    _rng: random.Random | None = field(default=None, repr=False, compare=False)

    @property
    def tightness(self) -> float | None:
        evidence = self.violation or self.worst
        return None if evidence is None else evidence.tightness

    def as_dict(self) -> dict:
        """The stable JSON form of ``check --format json`` (one entry of ``claims``)."""
        out = {"name": self.name, "kind": self.kind, "verdict": self.verdict,
               "tightness": _finite_or_none(self.worst.tightness) if self.worst else None,
               "instances": self.instances, "dropped_uncertified": self.dropped, "comparisons": self.comparisons,
               "families": sorted(self.families), "statement": self.statement}
        if self.worst is not None:
            out["worst"] = {**_evidence_dict(self.worst), "search": self.search}
        if self.violation is not None:
            out["violation"] = {**_evidence_dict(self.violation), "search": self.search}
            out["counterexample"] = self.counterexample
        out["pointwise"] = self.pointwise
        out["tightness_distribution"] = self.tightness_distribution()
        out["by_horizon"] = [{"T": T, "measured": e.measured, "bound": e.bound,
                              "tightness": _finite_or_none(e.tightness), "family": e.key.family,
                              "oracle": e.key.oracle, "dim": e.key.dim, "instance": e.instance, "step": e.step}
                             for T, e in sorted(self.by_horizon.items())]
        out["rate_curve"] = [{"T": T, "measured": m, "bound": b} for T, m, b in self.rate_curve]
        return out

    def add_tightness(self, values: Iterable[float]) -> None:
        """Offer tightness values to the reservoir (deterministic: seeded by the claim)."""
        if self._rng is None:
            self._rng = random.Random(derive_seed("tightness-reservoir", self.spec_id, self.name))
        for x in values:
            if not math.isfinite(x):
                continue
            self.samples_seen += 1
            if len(self.tightness_samples) < SAMPLE_CAP:
                self.tightness_samples.append(x)
            else:
                j = self._rng.randrange(self.samples_seen)
                if j < SAMPLE_CAP:
                    self.tightness_samples[j] = x

    def tightness_distribution(self) -> dict | None:
        """Count and quantiles of the sampled tightness values (None when there are none)."""
        xs = sorted(self.tightness_samples)
        if not xs:
            return None

        def q(p: float) -> float:
            return xs[min(len(xs) - 1, int(p * (len(xs) - 1) + 0.5))]
        return {"per": self.tightness_unit, "count": self.samples_seen, "sampled": len(xs),
                "min": xs[0], "q10": q(0.1), "median": q(0.5), "q90": q(0.9), "max": xs[-1]}


@dataclass
class CheckResult:
    """All verdicts on one spec."""

    spec: Spec
    claims: list[ClaimResult]
    proof_steps: list[tuple[str, bool]]
    seconds: float
    profile: str
    algorithm: str | None
    options: Mapping[str, Any] = field(default_factory=dict)
    hyper: Mapping[str, str] = field(default_factory=dict)
    #: the settings where the variant replaced the spec's algorithm (empty without a variant)
    replaced: tuple[str, ...] = ()

    @property
    def violated(self) -> bool:
        return any(c.verdict == VIOLATED for c in self.claims) or not all(ok for _, ok in self.proof_steps)

    def as_dict(self) -> dict:
        s = self.spec
        return {"id": s.id, "title": s.title, "source": {"section": s.source.section, "line": s.source.line},
                "profile": self.profile, "algorithm": self.algorithm, "options": dict(self.options),
                "hyper": dict(self.hyper), "seconds": round(self.seconds, 3),
                **({"variant_settings": list(self.replaced)} if self.algorithm or self.hyper else {}),
                "claims": [c.as_dict() for c in self.claims],
                "proof_steps": [{"description": d, "verified": ok} for d, ok in self.proof_steps]}


def _finite_or_none(x: float | None) -> float | None:
    return None if x is None or x != x or x in (float("inf"), float("-inf")) else x


def _evidence_dict(e: Evidence) -> dict:
    out = {"family": e.key.family, "oracle": e.key.oracle, "seed": e.key.seed, "T": e.key.horizon,
           "dim": e.key.dim, "instance": e.instance, "step": e.step, "measured": e.measured,
           "bound": e.bound, "tightness": _finite_or_none(e.tightness)}
    if e.p_value is not None:
        out.update({"p_value": e.p_value, "tightness_lower": e.lower, "tightness_upper": e.upper})
    if e.reason:
        out["reason"] = e.reason
    return out


def variant_replaces(spec: Spec, settings: Iterable[str] | None = None) -> list[str]:
    """The settings of ``spec`` in which a variant replaces the spec's algorithm: those named in
    ``settings`` (all when None) that run an algorithm (pointwise and distribution settings run
    none; a coupled setting's second, comparison run always keeps its built-in algorithm)."""
    wanted = None if settings is None else set(settings)
    return [s.name for s in spec.settings if s.runs_algorithm and (wanted is None or s.name in wanted)]


def round_keys(spec: Spec, claim: Claim, profile: Profile, seed: int, device: str,
               algorithm: str | None, families: Iterable[str] | None = None,
               options: Mapping[str, Any] | None = None, hyper: Mapping[str, str] | None = None) -> list[RoundKey]:
    """Every round the profile runs for a claim: the rounds of its setting (``setting_round_keys``)."""
    return setting_round_keys(spec, spec.setting(claim.setting), profile, seed, device, algorithm, families,
                              options, hyper)


def setting_round_keys(spec: Spec, setting: Setting, profile: Profile, seed: int, device: str,
                       algorithm: str | None, families: Iterable[str] | None = None,
                       options: Mapping[str, Any] | None = None,
                       hyper: Mapping[str, str] | None = None) -> list[RoundKey]:
    """Every round the profile runs for a setting, shared by all its claims: ``combinations`` x
    horizons x rounds (a round key does not depend on the claim)."""
    per_horizon = profile.rounds * (len(profile.horizons) if setting.pointwise else 1)
    keys = []
    for combo in combinations(spec, setting, families):
        for T in horizons(setting, profile):
            for r in range(per_horizon):
                round_seed = derive_seed(seed, spec.id, setting.name, *combo, T, r)
                dim = profile.dims[derive_seed(round_seed, "dim") % len(profile.dims)]
                keys.append(round_key(spec, setting, combo, round_seed, T, dim, profile, device, algorithm,
                                      options, hyper))
    return keys


def count_rounds(spec: Spec, profile: Profile, seed: int, device: str,
                 families: Iterable[str] | None = None, claims: Iterable[str] | None = None) -> int:
    """How many random rounds ``check`` visits for ``spec`` (one per round key of each setting
    that has a claim to check; the progress callback is called once for each)."""
    wanted = set(claims) if claims is not None else None
    settings = {c.setting for c in spec.claims if wanted is None or c.name in wanted}
    return sum(len(setting_round_keys(spec, s, profile, seed, device, None, families))
               for s in spec.settings if s.name in settings)


def check(spec: Spec, *, profile: Profile | str = "quick", seed: int = 0, device: str = "cpu",
          algorithm: str | None = None, families: Iterable[str] | None = None,
          claims: Iterable[str] | None = None, counterexample_dir: str | Path = "counterexamples",
          progress: Callable[[str], None] | None = None, options: Mapping[str, Any] | None = None,
          hyper: Mapping[str, str] | None = None, variant_settings: Iterable[str] | None = None) -> CheckResult:
    """Check every claim (or those named in ``claims``) of ``spec``.

    ``algorithm`` replaces the spec's algorithm (a built-in name, ``module:object`` or a dotted
    path such as ``torch.optim.SGD``) in every non-pointwise setting, built with the keyword
    ``options``; ``hyper`` overrides hyper-parameters by name with expressions of the constants
    (e.g. ``{"eta": "1/(3*H)"}``); ``variant_settings`` names the settings where the variant
    (algorithm, options, hyper) applies (default: every setting that runs an algorithm), the
    others keep the spec's algorithm; ``families`` restricts the problem families tried.
    The claims of a setting share its random rounds: each round is built once and every claim
    is evaluated on it, and a round on which no claim's condition holds is not run.
    """
    validate_names(spec)
    profile = PROFILES[profile] if isinstance(profile, str) else profile
    replaced = variant_replaces(spec, variant_settings)
    if not replaced:
        algorithm, options, hyper = None, None, None
    started = time.perf_counter()
    wanted = set(claims) if claims is not None else None
    chosen = [c for c in spec.claims if wanted is None or c.name in wanted]
    results = {c.name: ClaimResult(spec.id, c.name, c.kind, c.statement, pointwise=spec.setting(c.setting).pointwise)
               for c in chosen}
    searched: dict[str, tuple[int, dict[tuple[str, str], tuple[RoundKey, int]]]] = {}
    for setting in spec.settings:
        group = [c for c in chosen if c.setting == setting.name]
        if not group:
            continue
        runs = setting.name in replaced
        keys = setting_round_keys(spec, setting, profile, seed, device, algorithm if runs else None, families,
                                  options if runs else None, hyper if runs else None)
        best = {c.name: ({}, {}) for c in group}
        for key, outcomes in _run_rounds(spec, setting, group, keys, profile, progress):
            for claim, outcome in zip(group, outcomes):
                _merge(results[claim.name], (key, outcome))
                best_tightness, best_rounds = best[claim.name]
                pair, worst = (key.family, key.oracle), outcome.worst
                if worst is not None and worst.tightness > best_tightness.get(pair, -math.inf):
                    best_tightness[pair], best_rounds[pair] = worst.tightness, (key, worst.instance)
        searched.update({name: (len(keys), rounds) for name, (_, rounds) in best.items()})
    for claim in chosen:
        result = results[claim.name]
        n_keys, best_rounds = searched[claim.name]
        level = profile.level / max(n_keys + len(best_rounds), 1)
        for ascent in gradient_search(spec, claim, best_rounds, profile, level):
            _merge(result, (ascent.key, ascent.outcome), GRADIENT_SEARCH)
            if progress is not None:
                progress(f"{spec.id} {claim.name}: gradient adversary ({ascent.key.family}, {ascent.key.oracle}, "
                         f"T={ascent.key.horizon}) tightness {ascent.start:.4g} -> {ascent.best:.4g}")
        result.rate_curve = rate_curve(spec, claim, result.worst, profile.horizons)
        _decide(result, spec, claim, profile, counterexample_dir)
    steps = [(step.description, step.verify()) for step in spec.proof_steps]
    return CheckResult(spec, [results[c.name] for c in chosen], steps, time.perf_counter() - started, profile.name,
                       algorithm, dict(options or {}), dict(hyper or {}),
                       tuple(replaced) if algorithm or hyper else ())


#: What a claim learns from a round it does not apply to (``evaluate_claim`` when ``compare``
#: finds no applicable instance).
_NOT_APPLICABLE = ClaimRound(0, 0, None, None)


def _run_rounds(spec: Spec, setting: Setting, claims: list[Claim], keys: list[RoundKey], profile: Profile,
                progress: Callable[[str], None] | None) -> Iterator[tuple[RoundKey, list[ClaimRound]]]:
    """Each round of ``keys`` built once (``build_shared_round``), with the outcome of every claim
    of ``claims`` on it; a round on which no claim's condition holds is skipped, not run."""
    level = profile.level / max(len(keys), 1)
    for i, key in enumerate(keys, 1):
        data = build_shared_round(spec, key, claims)
        if data is None:
            yield key, [_NOT_APPLICABLE] * len(claims)
        else:
            yield key, [evaluate_claim(c, data, level, profile.rtol, profile.atol) for c in claims]
        if progress is not None:
            progress(f"{spec.id} {setting.name}: round {i}/{len(keys)} ({key.family}, {key.oracle}, T={key.horizon})"
                     + (" skipped: no claim's condition holds" if data is None else ""))


def _merge(result: ClaimResult, item: tuple[RoundKey, ClaimRound], search: str = RANDOM_SEARCH) -> None:
    """Add a round's outcome; the tightness sample takes only random rounds' instances (an
    adversary's instances are not a sample of the family)."""
    key, outcome = item
    result.rounds += 1
    result.dropped += outcome.dropped
    if outcome.applicable == 0:
        return
    result.families.add(f"{key.family}/{key.oracle}")
    result.instances += outcome.applicable
    result.comparisons += outcome.comparisons
    if search == RANDOM_SEARCH:
        result.add_tightness(outcome.tightness)
    if outcome.worst is not None and math.isfinite(outcome.worst.tightness):
        result.best_by_search[search] = max(result.best_by_search.get(search, -math.inf), outcome.worst.tightness)
    if outcome.worst is not None:
        current = result.by_horizon.get(key.horizon)
        if current is None or outcome.worst.tightness > current.tightness:
            result.by_horizon[key.horizon] = outcome.worst
    if outcome.violation is not None and result.violation is None:
        result.violation = outcome.violation
        result.search = search
    if outcome.worst is not None and (result.worst is None or outcome.worst.tightness > result.worst.tightness):
        result.worst = outcome.worst
        if result.violation is None:
            result.search = search


def stated_at_horizon(claim: Claim) -> bool:
    """Whether the claim compares once per run, at the horizon T (not at every step t)."""
    names = {x.name for e in (claim.measured, claim.bound) for x in sp.sympify(e).free_symbols}
    return not names & set(S.PER_STEP)


def rate_curve(spec: Spec, claim: Claim, worst: Evidence | None,
               at: Iterable[int]) -> list[tuple[int, float, float]]:
    """(T, measured, bound) of the worst instance found, re-run at every horizon: one instance's
    empirical rate beside its bound's (the worst instances at different T are different instances,
    so their slope would mix instances). Empty for settings that run no algorithm and for
    per-step claims; an
    expectation claim's measured value is the replica mean."""
    if worst is None or not spec.setting(claim.setting).runs_algorithm or not stated_at_horizon(claim):
        return []
    curve = []
    for T in sorted(set(at)):
        data = build_round(spec, replace(worst.key, horizon=T))
        measured, bound = measure_instance(claim, data, worst.instance, None, worst.replica)
        curve.append((T, measured, bound))
    return curve


def _decide(result: ClaimResult, spec: Spec, claim: Claim, profile: Profile, directory: str | Path) -> None:
    if result.instances == 0:
        result.verdict = NOT_APPLICABLE
    elif result.violation is not None:
        result.verdict = ERRATUM if claim.erratum else VIOLATED
        result.counterexample = str(write_counterexample(spec, claim, result.violation, profile, directory))
    elif claim.erratum and (witnessed := witness_evidence(spec, claim)) is not None:
        result.verdict, result.violation, result.counterexample = ERRATUM, witnessed, claim.witness
    else:
        result.verdict = HOLDS


def default_device() -> str:
    """``cuda`` when available, else ``cpu``."""
    return "cuda" if torch.cuda.is_available() else "cpu"
