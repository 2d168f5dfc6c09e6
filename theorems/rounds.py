"""One round of a check: build a batch, run the setting's algorithm, and evaluate a claim.

A round is fully determined by (spec, setting, family, oracle, seed, T, dim, batch size,
replicas, device, algorithm reference), so a counterexample replays it exactly.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import sympy as sp
import torch

from algorithms import ProtocolError, run
from problems import FAMILIES, ORACLES, BoundOracle, ProblemBatch
from problems.parametric import from_lists
from problems.oracles import noise_classes
from problems import _random as rnd
from theorems import statistics
from theorems.evaluate import evaluate, magnitude
from theorems.loading import load_algorithm, parse_hyper
from theorems import symbols as S
from theorems.spec import Claim, Setting, Spec

Tensor = torch.Tensor


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from any parts (stable across processes, unlike ``hash``)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


@dataclass(frozen=True)
class RoundKey:
    """Everything that determines a round. ``params`` (nested lists, problems.parametric), when
    not empty, are the continuous parameters of the batch, built instead of sampled: the
    instances an adversary found replay from them."""

    spec_id: str
    setting: str
    family: str
    oracle: str
    seed: int
    horizon: int
    dim: int
    batch_size: int
    replicas: int
    device: str
    algorithm: str | None
    options: Mapping[str, Any] = field(default_factory=dict)
    hyper: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["options"], out["hyper"], out["params"] = dict(self.options), dict(self.hyper), dict(self.params)
        return out


@dataclass(frozen=True)
class RoundData:
    """The values of every symbol of the round, broadcastable to (B, R, K)."""

    key: RoundKey
    problem: ProblemBatch
    values: Mapping[str, Tensor]
    like: Tensor
    instance_values: Callable[[int], dict[str, float]]


def admissible(spec: Spec, setting: Setting, family_name: str, oracle_name: str) -> bool:
    """Whether the family with this oracle belongs to every class the spec assumes."""
    family = FAMILIES[family_name]
    tags = family.classes | noise_classes(ORACLES[oracle_name].classes, family.classes)
    return oracle_name in setting.noise and spec.assumptions <= tags


def build_round(spec: Spec, key: RoundKey, problem: ProblemBatch | None = None,
                differentiable: bool = False) -> RoundData:
    """Sample the batch (or build it from ``key.params``, or take ``problem`` as given), draw free
    parameters, run the algorithm and collect symbol values; ``differentiable`` keeps the
    autograd graph from the problem's parameters through the run (algorithms.run)."""
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
    for name, value in {**problem.constants, **oracle.constants}.items():
        values[name] = value.reshape(B, 1, 1)
    values["T"] = torch.tensor(float(key.horizon), dtype=dtype, device=device)
    minibatch = minibatch_size(setting, key)
    values["B"] = torch.tensor(float(minibatch), dtype=dtype, device=device)
    for name, (low, high) in setting.free.items():
        values[name] = _draw_free(B, low, high, generator, device, dtype).reshape(B, 1, 1)
    like = torch.zeros(B, 1, 1, dtype=dtype, device=device)
    for name, expr in hyper_expressions(spec, setting, key).items():
        if "t" not in {s.name for s in sp.sympify(expr).free_symbols}:
            values[name] = evaluate(expr, values, like)
    if setting.pointwise:
        values.update(_pointwise_values(problem, oracle, minibatch, key.replicas, generator))
    else:
        values.update(_trace_values(spec, setting, key, problem, oracle, values, like, differentiable))
    scalar_names = sorted(n for n, v in values.items() if tuple(v.shape) == (B, 1, 1))

    def instance_values(b: int) -> dict[str, float]:
        return {n: float(values[n][b, 0, 0]) for n in scalar_names}

    out_like = torch.zeros(B, key.replicas if not _deterministic(setting, key) else 1, 1, dtype=dtype, device=device)
    return RoundData(key, problem, values, out_like, instance_values)


def minibatch_size(setting: Setting, key: RoundKey) -> int:
    """The round's minibatch size: one of the setting's sizes, drawn from the round seed (1 if none)."""
    if not setting.minibatch:
        return 1
    return setting.minibatch[derive_seed(key.seed, "minibatch") % len(setting.minibatch)]


def hyper_expressions(spec: Spec, setting: Setting, key: RoundKey) -> dict[str, sp.Expr]:
    """The setting's hyper-parameters, with the user's overrides (``key.hyper``) parsed."""
    exprs = dict(setting.hyper)
    if setting.pointwise or not key.hyper:
        return exprs
    allowed = set(S.CONSTANTS) | {"T", "t"} | set(setting.free) | ({"B"} if setting.minibatch else set())
    for name, text in key.hyper.items():
        if name not in exprs:
            raise ProtocolError(f"{spec.id} setting {setting.name!r} has no hyper-parameter {name!r}; "
                                f"it has {sorted(exprs) or 'none'}")
        exprs[name] = parse_hyper(text, allowed, f"--hyper {name}")
    return exprs


def _deterministic(setting: Setting, key: RoundKey) -> bool:
    return not setting.pointwise and key.oracle == "exact"


def _draw_free(B: int, low: float, high: float, generator: torch.Generator, device: torch.device,
               dtype: torch.dtype) -> Tensor:
    """Uniform in [low, high], with each endpoint drawn with probability 1/4 (worst cases of
    many bounds sit at an endpoint, e.g. eta = 1/H)."""
    u = rnd.uniform((B,), 0.0, 1.0, generator, device, dtype)
    inner = rnd.uniform((B,), low, high, generator, device, dtype)
    return torch.where(u < 0.25, torch.full_like(u, low), torch.where(u < 0.5, torch.full_like(u, high), inner))


def _trace_values(spec: Spec, setting: Setting, key: RoundKey, problem: ProblemBatch, oracle: BoundOracle,
                  values: dict[str, Tensor], like: Tensor, differentiable: bool = False) -> dict[str, Tensor]:
    hyper: dict[str, Any] = {}
    for name, expr in hyper_expressions(spec, setting, key).items():
        if name in values:
            hyper[name] = values[name]
        else:
            hyper[name] = _schedule(expr, values, like)
    if setting.minibatch:
        hyper["batch_size"] = minibatch_size(setting, key)
    factory = load_algorithm(key.algorithm or setting.algorithm, key.options)
    try:
        algorithm = factory(**hyper)
    except TypeError as exc:
        raise ProtocolError(f"algorithm factory {key.algorithm or setting.algorithm} cannot be called with "
                            f"the hyper-parameters of {spec.id} ({', '.join(sorted(hyper))}): {exc}") from None
    if not (hasattr(algorithm, "init") and hasattr(algorithm, "step")):
        raise ProtocolError(f"{key.algorithm or setting.algorithm}(...) returned a {type(algorithm).__name__}, "
                            "which has no init/step methods (see algorithms/protocol.py)")
    replicas = 1 if _deterministic(setting, key) else key.replicas
    try:
        trace = run(algorithm, problem, oracle, key.horizon, replicas, differentiable)
    except ProtocolError:
        raise
    except Exception as exc:
        if key.algorithm is None:
            raise
        raise ProtocolError(f"algorithm {key.algorithm} raised {type(exc).__name__} while running {spec.id}: "
                            f"{exc}") from None
    T = key.horizon
    Lstar = values["Lstar"]
    loss, grad_sq = trace.loss, trace.grad_sq
    step = torch.arange(1, T + 1, dtype=loss.dtype, device=loss.device).reshape(1, 1, T)
    return {
        "sum_subopt": (loss[..., :T] - Lstar).sum(-1, keepdim=True),
        "sum_grad_sq": grad_sq[..., :T].sum(-1, keepdim=True),
        "sum_grad_norm": grad_sq[..., :T].sqrt().sum(-1, keepdim=True),
        "avg_iterate_subopt": (trace.avg_iterate_loss[..., None] - Lstar),
        "last_subopt": loss[..., T:] - Lstar,
        "L1": loss[..., :1],
        "min_grad_sq": grad_sq.amin(-1, keepdim=True),
        "L_t": loss[..., :T],
        "L_next": loss[..., 1:],
        "grad_sq_t": grad_sq[..., :T],
        "t": step,
    }


def _schedule(expr: sp.Expr, values: Mapping[str, Tensor], like: Tensor) -> Callable[[int], Tensor]:
    def at(t: int) -> Tensor:
        return evaluate(expr, {**values, "t": torch.tensor(float(t), dtype=like.dtype, device=like.device)}, like)
    return at


def _pointwise_values(problem: ProblemBatch, oracle: BoundOracle, minibatch: int, replicas: int,
                      generator: torch.Generator) -> dict[str, Tensor]:
    """Points w around w* (or w1) at scales from 1e-2 to 1e2, directions v at scales 1e-3..1e2,
    and one minibatch oracle draw at each w."""
    w1 = problem.w1
    B, d = w1.shape
    device, dtype = w1.device, w1.dtype
    center = problem.w_star if problem.w_star is not None else w1
    u = rnd.normal((B, replicas, d), generator, device, dtype)
    u = u / torch.linalg.vector_norm(u, dim=-1, keepdim=True)
    w = center[:, None, :] + rnd.log_uniform((B, replicas, 1), 1e-2, 1e2, generator, device, dtype) * u
    v = rnd.normal((B, replicas, d), generator, device, dtype)
    v = v / torch.linalg.vector_norm(v, dim=-1, keepdim=True)
    v = rnd.log_uniform((B, replicas, 1), 1e-3, 1e2, generator, device, dtype) * v
    g = problem.grad(w)
    dist = (w - center[:, None, :]).square().sum(-1, keepdim=True) if problem.w_star is not None \
        else torch.full((B, replicas, 1), math.nan, dtype=dtype, device=device)
    return {
        "L_w": problem.loss(w)[..., None],
        "L_wv": problem.loss(w + v)[..., None],
        "grad_sq_w": g.square().sum(-1, keepdim=True),
        "inner_grad_v": (g * v).sum(-1, keepdim=True),
        "v_sq": v.square().sum(-1, keepdim=True),
        "dist_sq_w": dist,
        "noise_sq_w": (oracle.sample(w, minibatch) - g).square().sum(-1, keepdim=True),
    }


@dataclass(frozen=True)
class Evidence:
    """One comparison measured vs bound, located precisely enough to replay."""

    key: RoundKey
    instance: int
    step: int | None
    measured: float
    bound: float
    tightness: float
    violated: bool
    p_value: float | None = None
    lower: float | None = None
    upper: float | None = None
    reason: str = ""
    replica: int | None = None


@dataclass(frozen=True)
class ClaimRound:
    """What one round says about one claim; ``tightness`` holds the worst tightness of each
    applicable instance that has a comparison above the rounding level."""

    applicable: int
    comparisons: int
    worst: Evidence | None
    violation: Evidence | None
    tightness: tuple[float, ...] = ()


def _per_instance(ratio: Tensor, mask: Tensor) -> tuple[float, ...]:
    """The largest finite ratio of each applicable instance (ratio has the instance on dim 0)."""
    worst = torch.nan_to_num(ratio.reshape(ratio.shape[0], -1), nan=-math.inf).max(-1).values
    return tuple(worst[mask & torch.isfinite(worst)].cpu().tolist())


def evaluate_claim(claim: Claim, data: RoundData, level: float, rtol: float, atol: float) -> ClaimRound:
    """Compare measured with bound on every applicable instance of the round.

    Sure claims: violated where measured > bound + rtol (|measured| + |bound|) + atol, or where
    either side is not finite. Expectation claims: violated where the one-sided lower confidence
    bound of the mean, at ``level`` divided by the number of comparisons of the round, exceeds
    the bound.
    """
    measured, bound, tol = _sides(claim, data, rtol, atol)
    B, K = measured.shape[0], measured.shape[2]
    mask = torch.ones(B, dtype=torch.bool, device=measured.device)
    if claim.when is not None:
        mask = evaluate(claim.when, data.values, data.like).reshape(B, -1).all(-1)
    applicable = int(mask.sum())
    if applicable == 0:
        return ClaimRound(0, 0, None, None)
    if claim.kind == "sure":
        return _sure(measured, bound, tol, mask, data)
    return _expect(measured, bound, tol, mask, data, level)


def _sides(claim: Claim, data: RoundData, rtol: float, atol: float) -> tuple[Tensor, Tensor, Tensor]:
    """measured, bound and the rounding tolerance rtol * (magnitude of both sides) + atol, all
    broadcast to one shape (B, R, K); the magnitude sums the absolute values of the terms, so
    the tolerance follows the cancellation in e.g. L(w) - L*."""
    measured = evaluate(claim.measured, data.values, data.like)
    bound = evaluate(claim.bound, data.values, data.like)
    scale = evaluate(magnitude(claim.measured) + magnitude(claim.bound), data.values, data.like)
    shape = torch.broadcast_shapes(measured.shape, bound.shape, scale.shape)
    return measured.expand(shape), bound.expand(shape), rtol * scale.expand(shape) + atol


def _locate(flat_index: int, K: int, R: int | None = None) -> tuple[int, int | None, int | None]:
    """(instance, replica or None, step or None) of a flat index into (B, R, K) or (B, K)."""
    if R is None:
        b, k = divmod(flat_index, K)
        r = None
    else:
        b, rest = divmod(flat_index, R * K)
        r, k = divmod(rest, K)
    return b, r, (k + 1 if K > 1 else None)


def _sure(measured: Tensor, bound: Tensor, tol: Tensor, mask: Tensor, data: RoundData) -> ClaimRound:
    B, R, K = measured.shape
    finite = torch.isfinite(measured) & ~torch.isnan(bound)
    bad = (~finite | (measured > bound + tol)) & mask[:, None, None]
    ratio = torch.where(bound > tol, measured / bound, torch.full_like(measured, math.nan))
    ratio = torch.where(mask[:, None, None] & finite, ratio, torch.full_like(ratio, math.nan))
    worst = _evidence_at(ratio, measured, bound, bad, data, K, R)
    violation = None
    if bool(bad.any()):
        excess = torch.where(bad, torch.where(finite, (measured - bound) / (bound.abs() + tol), torch.full_like(measured, math.inf)),
                             torch.full_like(measured, -math.inf))
        i = int(excess.reshape(-1).argmax())
        violation = _evidence(i, measured, bound, ratio, True, data, K, R,
                              reason="" if bool(finite.reshape(-1)[i]) else "non-finite value")
    return ClaimRound(int(mask.sum()), int(mask.sum()) * R * K, worst, violation, _per_instance(ratio, mask))


def _evidence_at(ratio: Tensor, measured: Tensor, bound: Tensor, bad: Tensor, data: RoundData, K: int, R: int) -> Evidence | None:
    flat = torch.nan_to_num(ratio, nan=-math.inf).reshape(-1)
    if not bool(torch.isfinite(flat).any()):
        return None
    i = int(flat.argmax())
    return _evidence(i, measured, bound, ratio, bool(bad.reshape(-1)[i]), data, K, R)


def _evidence(i: int, measured: Tensor, bound: Tensor, ratio: Tensor, violated: bool, data: RoundData,
              K: int, R: int, reason: str = "") -> Evidence:
    b, r, k = _locate(i, K, R)
    return Evidence(data.key, b, k, float(measured.reshape(-1)[i]), float(bound.reshape(-1)[i]),
                    float(ratio.reshape(-1)[i]), violated, reason=reason, replica=r)


def _expect(measured: Tensor, bound: Tensor, tol: Tensor, mask: Tensor, data: RoundData, level: float) -> ClaimRound:
    B, R, K = measured.shape
    comparisons = int(mask.sum()) * K
    per_comparison = level / comparisons
    target = bound[:, 0, :]
    slack = tol.max(1).values
    mean, half = statistics.mean_and_halfwidth(measured, per_comparison)
    finite = torch.isfinite(measured).all(1)
    pv = statistics.p_values(measured, target + slack)
    pv = torch.where(finite, pv, torch.zeros_like(pv))
    bad = (pv < per_comparison) & mask[:, None]
    ratio = torch.where((target > slack) & finite & mask[:, None], mean / target, torch.full_like(mean, math.nan))

    def at(i: int, violated: bool, reason: str = "") -> Evidence:
        b, _, k = _locate(i, K)
        tb = float(target.reshape(-1)[i])
        m, h = float(mean.reshape(-1)[i]), float(half.reshape(-1)[i])
        return Evidence(data.key, b, k, m, tb, float(ratio.reshape(-1)[i]), violated, float(pv.reshape(-1)[i]),
                        (m - h) / tb if tb > 0 else None, (m + h) / tb if tb > 0 else None, reason)

    flat = torch.nan_to_num(ratio, nan=-math.inf).reshape(-1)
    worst = at(int(flat.argmax()), False) if bool(torch.isfinite(flat).any()) else None
    if worst is not None and bool(bad.reshape(-1)[int(flat.argmax())]):
        worst = at(int(flat.argmax()), True)
    violation = None
    if bool(bad.any()):
        i = int(torch.where(bad, pv, torch.full_like(pv, 2.0)).reshape(-1).argmin())
        violation = at(i, True, "" if bool(finite.reshape(-1)[i]) else "non-finite value")
    return ClaimRound(int(mask.sum()), comparisons, worst, violation, _per_instance(ratio, mask))


def measure_instance(claim: Claim, data: RoundData, instance: int, step: int | None,
                     replica: int | None) -> tuple[float, float]:
    """(measured, bound) of one comparison; the replica mean for an expectation claim."""
    measured, bound, _ = _sides(claim, data, 0.0, 0.0)
    k = 0 if step is None else step - 1
    if claim.kind == "expect":
        return float(measured[instance, :, k].mean()), float(bound[instance, 0, k])
    r = replica or 0
    return float(measured[instance, r, k]), float(bound[instance, r, k])
