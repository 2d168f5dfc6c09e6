"""Planning a setting's rounds: which (family, oracle) pairs are admissible, at which horizons and
minibatch sizes, with which hyper-parameters, and the key of each round."""
from __future__ import annotations

import functools
from typing import Any, Iterable, Mapping

import sympy as sp
import torch

from algorithms import ProtocolError
from problems import FAMILIES, ORACLES
from problems.oracles import noise_classes
from theorems.engine import distribution_rounds, online_rounds
from theorems.engine.loading import parse_hyper
from theorems.engine.profiles import Profile
from theorems.engine.round_data import RoundKey
from theorems.engine.seeding import derive_seed
from theorems.language import symbols as S
from theorems.language.spec import Setting, Spec


def admissible(spec: Spec, setting: Setting, family_name: str, oracle_name: str) -> bool:
    """Whether the family with this oracle belongs to every class the spec assumes and certifies
    every constant the setting uses (e.g. no H on a non-smooth Lipschitz family); a setting whose
    claims use the noise variance (sum_noise_var, noise_var_t) needs an oracle of finite variance."""
    family = FAMILIES[family_name]
    tags = family.classes | noise_classes(ORACLES[oracle_name].classes, family.classes)
    if oracle_name not in setting.noise or not spec.assumptions <= tags:
        return False
    if "fsum" in ORACLES[oracle_name].classes and "fsum" not in family.classes:
        return False  # a finite-sum sampler cannot bind to a family that is not a finite sum
    if needs_noise_variance(spec, setting) and not getattr(ORACLES[oracle_name], "finite_variance", False):
        return False
    return constants_used(spec, setting) <= provided_constants(family_name, oracle_name)


def needs_noise_variance(spec: Spec, setting: Setting) -> bool:
    """Whether the setting's claims use the recorded noise variance (theorems.language.symbols.NOISE_VARIANCE)."""
    return bool(claim_symbols(spec, setting) & set(S.NOISE_VARIANCE))


def constants_used(spec: Spec, setting: Setting) -> frozenset[str]:
    """The certified constants (theorems.language.symbols.CONSTANTS) that the setting's hyper-parameters
    and its claims refer to."""
    exprs = list(setting.hyper.values()) + [e for c in spec.claims if c.setting == setting.name
                                            for e in (c.measured, c.bound, c.when) if e is not None]
    return frozenset(x.name for e in exprs for x in sp.sympify(e).free_symbols) & frozenset(S.CONSTANTS)


@functools.lru_cache(maxsize=None)
def provided_constants(family_name: str, oracle_name: str) -> frozenset[str]:
    """The names of the constants a family certifies together with an oracle (from one small
    instance: a family provides the same constants for every instance)."""
    problem = FAMILIES[family_name].sample(1, 2, torch.Generator().manual_seed(0))
    oracle = ORACLES[oracle_name].bind(problem, torch.Generator().manual_seed(0))
    return frozenset(problem.constants) | frozenset(oracle.constants)


def combinations(spec: Spec, setting: Setting, families: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """What a setting's rounds run on: the admissible (family, oracle) pairs restricted to
    ``families``, or for a distribution setting the (distribution generator, function slot)
    pairs (distributions are not problem families, so ``families`` does not restrict them)."""
    if setting.distribution:
        return distribution_rounds.combinations(spec.assumptions)
    if setting.online is not None:
        return online_rounds.combinations(setting)
    chosen = list(FAMILIES) if families is None else [f for f in FAMILIES if f in set(families)]
    return [(f, o) for f in chosen for o in ORACLES if admissible(spec, setting, f, o)]


def horizons(setting: Setting, profile: Profile) -> tuple[int, ...]:
    """The horizons T a setting runs at (a pointwise lemma has none: T = 1); a setting with a
    schedule (a hyper-parameter that depends on t) also runs at the profile's schedule horizons."""
    if setting.pointwise:
        return (1,)
    if any(S.t in sp.sympify(e).free_symbols for e in setting.hyper.values()):
        return profile.horizons + tuple(T for T in profile.schedule_horizons if T not in profile.horizons)
    return profile.horizons


def round_key(spec: Spec, setting: Setting, combo: tuple[str, str], seed: int, horizon: int, dim: int,
              profile: Profile, device: str, algorithm: str | None = None, options: Mapping[str, Any] | None = None,
              hyper: Mapping[str, str] | None = None) -> RoundKey:
    """The key of one round; replicas only where there is randomness to average (a pointwise
    draw or a stochastic oracle; the profile's, or the setting's ``min_replicas`` if more), and no
    algorithm override where the setting runs none."""
    family, oracle = combo
    stochastic = setting.pointwise or (setting.runs_algorithm and oracle != "exact")
    if setting.online is not None:
        stochastic = setting.stochastic
    runs = setting.runs_algorithm
    return RoundKey(spec.id, setting.name, family, oracle, seed, horizon, dim, profile.batch_size,
                    max(profile.replicas, setting.min_replicas) if stochastic else 1, device, algorithm if runs else None,
                    dict(options or {}) if runs else {}, dict(hyper or {}) if runs else {})

def minibatch_size(setting: Setting, key: RoundKey) -> int:
    """The round's minibatch size: one of the setting's sizes, drawn from the round seed (1 if none);
    a size given as an expression of T is evaluated at the round's horizon."""
    if not setting.minibatch:
        return 1
    return horizon_integer(setting.minibatch[derive_seed(key.seed, "minibatch") % len(setting.minibatch)],
                            key.horizon, "minibatch size")


def horizon_integer(expr: int | sp.Expr, horizon: int, what: str) -> int:
    """A positive integer given as a number or a sympy expression of T, at T = ``horizon``."""
    value = sp.sympify(expr).subs(S.T, horizon)
    if not (value.is_integer and value >= 1):
        raise ValueError(f"{what} {expr} is {value} at T={horizon}; it must be a positive integer")
    return int(value)


def hyper_expressions(spec: Spec, setting: Setting, key: RoundKey) -> dict[str, sp.Expr]:
    """The setting's hyper-parameters, with the user's overrides (``key.hyper``) parsed."""
    exprs = dict(setting.hyper)
    if setting.pointwise or not key.hyper:
        return exprs
    allowed = set(S.CONSTANTS) | {"T", "t", "d"} | set(setting.free) | ({"B"} if setting.minibatch else set())
    if setting.online is not None:
        allowed = {"T", "t"} | set(setting.free) | set(S.ONLINE_HYPER)
    for name, text in key.hyper.items():
        if name not in exprs:
            raise ProtocolError(f"{spec.id} setting {setting.name!r} has no hyper-parameter {name!r}; "
                                f"it has {sorted(exprs) or 'none'}")
        exprs[name] = parse_hyper(text, allowed, f"--hyper {name}")
    return exprs


def deterministic(setting: Setting, key: RoundKey) -> bool:
    """Whether the round's run has no randomness to average (an algorithm with the exact oracle),
    so it runs one replica."""
    return not setting.pointwise and key.oracle == "exact"


def claim_symbols(spec: Spec, setting: Setting) -> frozenset[str]:
    """The names of the symbols that the claims of ``setting`` use."""
    exprs = [e for c in spec.claims if c.setting == setting.name for e in (c.measured, c.bound, c.when) if e is not None]
    return frozenset(s.name for e in exprs for s in sp.sympify(e).free_symbols)
