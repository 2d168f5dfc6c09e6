"""One round of a check: sample the batch and the values known before the run, then run the
setting's algorithm (theorems/engine/traces.py) or draw its points (theorems/engine/pointwise.py).

A round is fully determined by its key (theorems/engine/round_data.py), so a counterexample
replays it exactly. For a distribution setting the family slot names a distribution generator,
the oracle slot the round's function and T + 1 is the number of atoms
(theorems/engine/distribution_rounds.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import sympy as sp
import torch

from problems import FAMILIES, ORACLES, BoundOracle, ProblemBatch
from problems.distributions import DistributionBatch
from problems.parametric import from_lists
from theorems.engine import distribution_rounds, online_rounds
from theorems.engine.plan import claim_symbols, constants_used, deterministic, hyper_expressions, minibatch_size
from theorems.engine.pointwise import pointwise_values
from theorems.engine.round_data import RoundData, RoundKey
from theorems.engine.seeding import derive_seed, draw_free
from theorems.engine.traces import trace_values
from theorems.language import symbols as S
from theorems.language.evaluate import evaluate
from theorems.language.spec import Claim, Setting, Spec

Tensor = torch.Tensor


@dataclass
class SampledRound:
    """A round whose batch is sampled and whose constants, free parameters and constant
    hyper-parameters are in ``values`` (shape (B, 1, 1)), before its algorithm runs (or its
    points are drawn): ``run_round`` finishes it with the same generators, so sampling first and
    running later gives exactly the round ``build_round`` gives."""

    spec: Spec
    setting: Setting
    key: RoundKey
    problem: ProblemBatch
    oracle: BoundOracle
    generator: torch.Generator
    oracle_generator: torch.Generator
    minibatch: int
    values: dict[str, Tensor]
    like: Tensor


def build_round(spec: Spec, key: RoundKey, problem: ProblemBatch | None = None,
                differentiable: bool = False) -> RoundData:
    """Sample the batch (or build it from ``key.params``, or take ``problem`` as given), draw free
    parameters, run the algorithm and collect symbol values; ``differentiable`` keeps the
    autograd graph from the problem's parameters through the run (algorithms.run)."""
    setting = spec.setting(key.setting)
    if setting.distribution:
        batch, values = distribution_rounds.build(setting, key, setting.hyper)
        return _round_data(key, batch, values, 1, batch.atoms)
    if setting.online is not None:
        batch, values, replicas = online_rounds.build(setting, key, hyper_expressions(spec, setting, key))
        return _round_data(key, batch, values, replicas, batch.w1)
    return run_round(sample_round(spec, key, problem), differentiable)


#: Constants that enter a round only when its setting uses them, so that the evidence of every other
#: result stays as it was (H_ell: the smoothness of each sampled loss, sections 23-24).
_ON_DEMAND = frozenset({"H_ell"})


def sample_round(spec: Spec, key: RoundKey, problem: ProblemBatch | None = None) -> SampledRound:
    """The first half of ``build_round`` for a setting that is not a distribution setting: the
    batch, its oracle, and the values known before the run."""
    setting = spec.setting(key.setting)
    device = torch.device(key.device)
    generator = torch.Generator(device=device).manual_seed(key.seed)
    if problem is None and key.params:
        problem = FAMILIES[key.family].build(from_lists(key.params, device))
    if problem is None:
        problem = FAMILIES[key.family].sample(key.batch_size, key.dim, generator, device)
    oracle_generator = torch.Generator(device=device).manual_seed(derive_seed(key.seed, "oracle"))
    oracle = ORACLES[key.oracle].bind(problem, oracle_generator)
    B, dtype = key.batch_size, problem.w1.dtype
    values: dict[str, Tensor] = {}
    used = constants_used(spec, setting)
    for name, value in {**problem.constants, **oracle.constants}.items():
        if name not in _ON_DEMAND or name in used:
            values[name] = value.reshape(B, 1, 1)
    values["T"] = torch.tensor(float(key.horizon), dtype=dtype, device=device)
    values["d"] = torch.tensor(float(problem.dim), dtype=dtype, device=device)
    minibatch = minibatch_size(setting, key)
    values["B"] = torch.tensor(float(minibatch), dtype=dtype, device=device)
    for name, (low, high) in setting.free.items():
        values[name] = draw_free(B, low, high, generator, device, dtype).reshape(B, 1, 1)
    like = torch.zeros(B, 1, 1, dtype=dtype, device=device)
    for name, expr in hyper_expressions(spec, setting, key).items():
        if "t" not in {s.name for s in sp.sympify(expr).free_symbols}:
            values[name] = evaluate(expr, values, like)
    return SampledRound(spec, setting, key, problem, oracle, generator, oracle_generator, minibatch, values, like)


def run_round(sampled: SampledRound, differentiable: bool = False) -> RoundData:
    """The second half of ``build_round``: run the algorithm (or draw the points of a pointwise
    setting) on a sampled round and collect every symbol's value."""
    spec, setting, key, problem, values = sampled.spec, sampled.setting, sampled.key, sampled.problem, sampled.values
    if setting.pointwise:
        values.update(pointwise_values(problem, sampled.oracle, sampled.minibatch, key.replicas, sampled.generator,
                                        claim_symbols(spec, setting), values))
    else:
        values.update(trace_values(spec, setting, key, problem, sampled.oracle, values, sampled.like,
                                    sampled.oracle_generator, differentiable))
    return _round_data(key, problem, values, 1 if deterministic(setting, key) else key.replicas, problem.w1)


#: Symbols whose values only the run (or the pointwise draw) gives.
_RUN_SYMBOLS = frozenset(S.TRACE) | frozenset(S.POINTWISE) | frozenset(S.COUPLED) | frozenset(S.NOISE_VARIANCE)


def build_shared_round(spec: Spec, key: RoundKey, claims: Iterable[Claim]) -> RoundData | None:
    """The round ``build_round`` gives, for evaluating all of ``claims`` (claims of the key's
    setting) on it, or None when no instance meets any claim's condition (``Claim.when``), so
    that every claim would find no applicable instance (``compare`` returns None). A condition
    on the horizon and minibatch size alone is decided before anything is sampled; one on the
    instances' constants, free parameters or hyper-parameters after sampling, before the run."""
    claims = list(claims)
    setting = spec.setting(key.setting)
    known = {"T": torch.tensor(float(key.horizon), dtype=torch.float64),
             "B": torch.tensor(float(minibatch_size(setting, key)), dtype=torch.float64)}
    if not any(condition_may_hold(c, known, torch.zeros(1, 1, 1, dtype=torch.float64)) for c in claims):
        return None
    if setting.distribution or setting.online is not None:
        return build_round(spec, key)
    sampled = sample_round(spec, key)
    if not any(condition_may_hold(c, sampled.values, sampled.like) for c in claims):
        return None
    return run_round(sampled)


def condition_may_hold(claim: Claim, values: Mapping[str, Tensor], like: Tensor) -> bool:
    """False only when ``claim.when`` uses nothing but symbols of ``values`` that the run does not
    change and is false on every instance (judged as ``compare`` judges it: an instance meets the
    condition where it holds at all of its entries)."""
    if claim.when is None:
        return True
    names = {s.name for s in sp.sympify(claim.when).free_symbols}
    if not names <= set(values) - _RUN_SYMBOLS:
        return True
    mask = evaluate(claim.when, values, like)
    return bool(mask.reshape(like.shape[0], -1).all(-1).any())


def _round_data(key: RoundKey, problem: ProblemBatch | DistributionBatch, values: dict[str, Tensor],
                replicas: int, reference: Tensor) -> RoundData:
    """The round's data; ``reference`` gives the dtype and device of its (B, replicas, 1) shape."""
    B = key.batch_size
    scalar_names = sorted(n for n, v in values.items() if tuple(v.shape) == (B, 1, 1))

    def instance_values(b: int) -> dict[str, float]:
        return {n: float(values[n][b, 0, 0]) for n in scalar_names}

    out_like = torch.zeros(B, replicas, 1, dtype=reference.dtype, device=reference.device)
    return RoundData(key, problem, values, out_like, instance_values)
