"""One round of a check: build a batch, run the setting's algorithm, and evaluate a claim.

A round is fully determined by (spec, setting, family, oracle, seed, T, dim, batch size,
replicas, device, algorithm reference), so a counterexample replays it exactly. For a
distribution setting the family slot names a distribution generator, the oracle slot the
round's function and T + 1 is the number of atoms (theorems/distribution_rounds.py).
"""
from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import sympy as sp
import torch

from algorithms import ProtocolError, run
from algorithms.coupled import PairedSamples, run_coupled
from problems import FAMILIES, ORACLES, BoundOracle, ProblemBatch
from problems.distributions import DistributionBatch
from problems.parametric import from_lists
from problems.oracles import noise_classes
from problems import _random as rnd
from theorems import distribution_rounds, statistics
from theorems.evaluate import evaluate, magnitude
from theorems.function_classes import function_class_values
from theorems.loading import load_algorithm, parse_hyper
from theorems.profiles import Profile
from theorems import symbols as S
from theorems.seeding import derive_seed, draw_free
from theorems.spec import Claim, Setting, Spec

Tensor = torch.Tensor


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
    problem: ProblemBatch | DistributionBatch
    values: Mapping[str, Tensor]
    like: Tensor
    instance_values: Callable[[int], dict[str, float]]


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
    """Whether the setting's claims use the recorded noise variance (theorems.symbols.NOISE_VARIANCE)."""
    return bool(claim_symbols(spec, setting) & set(S.NOISE_VARIANCE))


def constants_used(spec: Spec, setting: Setting) -> frozenset[str]:
    """The certified constants (theorems.symbols.CONSTANTS) that the setting's hyper-parameters
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
    draw or a stochastic oracle), and no algorithm override where the setting runs none."""
    family, oracle = combo
    stochastic = setting.pointwise or (setting.runs_algorithm and oracle != "exact")
    runs = setting.runs_algorithm
    return RoundKey(spec.id, setting.name, family, oracle, seed, horizon, dim, profile.batch_size,
                    profile.replicas if stochastic else 1, device, algorithm if runs else None,
                    dict(options or {}) if runs else {}, dict(hyper or {}) if runs else {})


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
        values.update(_pointwise_values(problem, sampled.oracle, sampled.minibatch, key.replicas, sampled.generator,
                                        claim_symbols(spec, setting), values))
    else:
        values.update(_trace_values(spec, setting, key, problem, sampled.oracle, values, sampled.like,
                                    sampled.oracle_generator, differentiable))
    return _round_data(key, problem, values, 1 if _deterministic(setting, key) else key.replicas, problem.w1)


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
    if setting.distribution:
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


def minibatch_size(setting: Setting, key: RoundKey) -> int:
    """The round's minibatch size: one of the setting's sizes, drawn from the round seed (1 if none);
    a size given as an expression of T is evaluated at the round's horizon."""
    if not setting.minibatch:
        return 1
    return _horizon_integer(setting.minibatch[derive_seed(key.seed, "minibatch") % len(setting.minibatch)],
                            key.horizon, "minibatch size")


def _horizon_integer(expr: int | sp.Expr, horizon: int, what: str) -> int:
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
    allowed = set(S.CONSTANTS) | {"T", "t"} | set(setting.free) | ({"B"} if setting.minibatch else set())
    for name, text in key.hyper.items():
        if name not in exprs:
            raise ProtocolError(f"{spec.id} setting {setting.name!r} has no hyper-parameter {name!r}; "
                                f"it has {sorted(exprs) or 'none'}")
        exprs[name] = parse_hyper(text, allowed, f"--hyper {name}")
    return exprs


def _deterministic(setting: Setting, key: RoundKey) -> bool:
    return not setting.pointwise and key.oracle == "exact"


def _trace_values(spec: Spec, setting: Setting, key: RoundKey, problem: ProblemBatch, oracle: BoundOracle,
                  values: dict[str, Tensor], like: Tensor, generator: torch.Generator,
                  differentiable: bool = False) -> dict[str, Tensor]:
    hyper: dict[str, Any] = {}
    for name, expr in hyper_expressions(spec, setting, key).items():
        if name in values:
            hyper[name] = values[name]
        else:
            hyper[name] = _schedule(sp.sympify(expr), values, like, key.horizon)
    if setting.minibatch:
        hyper["batch_size"] = minibatch_size(setting, key)
    factory = load_algorithm(key.algorithm or setting.algorithm, key.options)
    try:
        algorithm = factory(**hyper)
    except TypeError as exc:
        raise ProtocolError(f"algorithm factory {key.algorithm or setting.algorithm} cannot be called with "
                            f"the hyper-parameters of {spec.id} ({', '.join(sorted(hyper))}): {exc}") from None
    except (Exception, SystemExit) as exc:
        if key.algorithm is None:
            raise
        raise ProtocolError(f"algorithm factory {key.algorithm} raised {type(exc).__name__} when called with the "
                            f"hyper-parameters of {spec.id} ({', '.join(sorted(hyper))}; each a tensor with one "
                            f"value per instance, or a schedule t -> tensor): {exc}") from None
    if not (hasattr(algorithm, "init") and hasattr(algorithm, "step")):
        raise ProtocolError(f"{key.algorithm or setting.algorithm}(...) returned a {type(algorithm).__name__}, "
                            "which has no init/step methods (see algorithms/protocol.py)")
    replicas = 1 if _deterministic(setting, key) else key.replicas
    noise_variance = needs_noise_variance(spec, setting)
    used = claim_symbols(spec, setting)  # record only the trace fields whose symbols the claims use
    record = [field for field, names in (("loss", {"sum_subopt", "last_subopt", "L1", "L_t", "L_next"}),
                                         ("grad_sq", {"sum_grad_sq", "sum_grad_norm", "min_grad_sq", "grad_sq_t",
                                                      "grad_sq_1"}),
                                         ("avg_iterate_loss", {"avg_iterate_subopt"}), ("est_err", {"est_err_t"}),
                                         ("anchor_loss", {"anchor_subopt_t"}), ("est_sq", {"est_sq_t"}))
              if used & names]
    if getattr(algorithm, "needs_paired_samples", False):
        oracle = dataclasses.replace(oracle, sample=PairedSamples(oracle.sample, generator))
    try:
        if setting.coupled is None:
            trace = run(algorithm, problem, oracle, key.horizon, replicas, differentiable, noise_variance,
                        record=record)
        else:
            trace, other = run_coupled(algorithm, _coupled_algorithm(setting, key, values, like), problem, oracle,
                                       generator, key.horizon, _horizon_integer(setting.coupled.horizon, key.horizon,
                                                                                "coupled horizon"),
                                       replicas, setting.coupled.shared_samples, noise_variance, record)
    except ProtocolError as exc:
        raise ProtocolError(f"{spec.id} setting {setting.name!r}: {exc}") from None
    except (Exception, SystemExit) as exc:
        if key.algorithm is None:
            raise
        raise ProtocolError(f"algorithm {key.algorithm} raised {type(exc).__name__} while running {spec.id}: "
                            f"{exc}") from None
    T = key.horizon
    Lstar = values["Lstar"]
    step = torch.arange(1, T + 1, dtype=like.dtype, device=like.device).reshape(1, 1, T)
    out = {"t": step} if setting.coupled is None else {
        "t": step, "coupled_dist": torch.linalg.vector_norm(trace.last_iterate - other.last_iterate, dim=-1,
                                                            keepdim=True)}
    if trace.noise_var is not None:
        out |= {"noise_var_t": trace.noise_var, "sum_noise_var": trace.noise_var.sum(-1, keepdim=True)}
    loss, grad_sq = trace.loss, trace.grad_sq
    if loss is not None:
        out |= {"sum_subopt": (loss[..., :T] - Lstar).sum(-1, keepdim=True), "last_subopt": loss[..., T:] - Lstar,
                "L1": loss[..., :1], "L_t": loss[..., :T], "L_next": loss[..., 1:]}
    if grad_sq is not None:
        out |= {"sum_grad_sq": grad_sq[..., :T].sum(-1, keepdim=True),
                "sum_grad_norm": grad_sq[..., :T].sqrt().sum(-1, keepdim=True),
                "min_grad_sq": grad_sq.amin(-1, keepdim=True), "grad_sq_t": grad_sq[..., :T],
                "grad_sq_1": grad_sq[..., :1]}
    if trace.avg_iterate_loss is not None:
        out["avg_iterate_subopt"] = trace.avg_iterate_loss[..., None] - Lstar
    for symbol, probed in (("est_err_t", trace.est_err), ("est_sq_t", trace.est_sq),
                           ("anchor_subopt_t", None if trace.anchor_loss is None else trace.anchor_loss - Lstar)):
        if probed is not None:
            out[symbol] = probed
    return out


def _coupled_algorithm(setting: Setting, key: RoundKey, values: Mapping[str, Tensor], like: Tensor) -> Any:
    """The coupled run's built-in algorithm with its hyper-parameters evaluated for the round."""
    coupled = setting.coupled
    hyper: dict[str, Any] = {name: evaluate(expr, values, like) for name, expr in coupled.hyper.items()}
    if coupled.batch_size is not None:
        hyper["batch_size"] = _horizon_integer(coupled.batch_size, key.horizon, "coupled batch size")
    return load_algorithm(coupled.algorithm)(**hyper)


def _schedule(expr: sp.Expr, values: Mapping[str, Tensor], like: Tensor, horizon: int) -> Callable[[int], Tensor]:
    """The hyper-parameter ``expr`` of t as a schedule t -> eta_t (shape of ``like``): evaluated once
    for every t = 1..``horizon`` at the start of the round, and at other t when asked."""
    def at(t: int) -> Tensor:
        return evaluate(expr, {**values, "t": torch.tensor(float(t), dtype=like.dtype, device=like.device)}, like)

    if expr.has(sp.Sum):
        return at
    steps = torch.arange(1, horizon + 1, dtype=like.dtype, device=like.device).reshape(-1, *([1] * like.dim()))
    table = evaluate(expr, {**values, "t": steps}, like).expand(horizon, *like.shape).unbind(0)

    def precomputed(t: int) -> Tensor:
        return table[t - 1] if 1 <= t <= horizon else at(t)

    return precomputed


def claim_symbols(spec: Spec, setting: Setting) -> frozenset[str]:
    """The names of the symbols that the claims of ``setting`` use."""
    exprs = [e for c in spec.claims if c.setting == setting.name for e in (c.measured, c.bound, c.when) if e is not None]
    return frozenset(s.name for e in exprs for s in sp.sympify(e).free_symbols)


def _pointwise_values(problem: ProblemBatch, oracle: BoundOracle, minibatch: int, replicas: int,
                      generator: torch.Generator, needed: frozenset[str] = frozenset(),
                      values: Mapping[str, Tensor] | None = None) -> dict[str, Tensor]:
    """Points w around w* (or w1) at scales from 1e-2 to 1e2, directions v at scales 1e-3..1e2,
    and one minibatch oracle draw at each w; for ``oracle_bias_w``, one more draw per replica at
    the first replica's point, so that the replicas of an instance estimate E g at one w; and the
    function-class symbols among ``needed`` (theorems/function_classes.py)."""
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
        **function_class_values(problem, w, v, needed, values or {}),
        "L_w": problem.loss(w)[..., None],
        "L_wv": problem.loss(w + v)[..., None],
        "grad_sq_w": g.square().sum(-1, keepdim=True),
        "inner_grad_v": (g * v).sum(-1, keepdim=True),
        "v_sq": v.square().sum(-1, keepdim=True),
        "dist_sq_w": dist,
        "noise_sq_w": (oracle.sample(w, minibatch) - g).square().sum(-1, keepdim=True),
        "oracle_bias_w": _oracle_bias(problem, oracle, w[:, :1, :].expand(B, replicas, d).clone(), minibatch),
    }


def _oracle_bias(problem: ProblemBatch, oracle: BoundOracle, w: Tensor, minibatch: int) -> Tensor:
    """g - grad L(w) per coordinate (B, R, d), g the mean of ``minibatch`` fresh draws at w."""
    return oracle.sample(w, minibatch) - problem.grad(w)


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
    #: instances that met the claim's condition but were left out: their family could not
    #: certify the minimiser (constant ``uncertified``, problems/_certify.py)
    dropped: int = 0


def _per_instance(ratio: Tensor, mask: Tensor) -> tuple[float, ...]:
    """The largest finite ratio of each applicable instance (ratio has the instance on dim 0)."""
    worst = torch.nan_to_num(ratio.reshape(ratio.shape[0], -1), nan=-math.inf).max(-1).values
    return tuple(worst[mask & torch.isfinite(worst)].cpu().tolist())


@dataclass(frozen=True)
class Comparisons:
    """Every comparison of a claim on a round, judged as the checker judges it: ``measured``,
    ``bound``, ``ratio`` and ``bad`` (violated) have shape (B, R, K) for a sure claim and (B, K)
    for an expectation claim (``measured`` is then the replica mean, with its confidence
    ``half`` width and one-sided ``p_value``); ``mask`` (B,) marks the applicable instances."""

    kind: str
    measured: Tensor
    bound: Tensor
    ratio: Tensor
    bad: Tensor
    finite: Tensor
    mask: Tensor
    tol: Tensor
    p_value: Tensor | None = None
    half: Tensor | None = None

    def index(self, instance: int, step: int | None, replica: int | None) -> tuple[int, ...]:
        """The position of one comparison (replica ignored for an expectation claim)."""
        k = 0 if step is None else step - 1
        return (instance, k) if self.kind == "expect" else (instance, replica or 0, k)


def compare(claim: Claim, data: RoundData, level: float, rtol: float, atol: float) -> Comparisons | None:
    """Judge every comparison of ``claim`` on the round (None when no instance is applicable).

    Sure claims: violated where measured > bound + rtol (|measured| + |bound|) + atol, or where
    the measured value is not finite or the bound is NaN. Expectation claims: violated where the
    one-sided lower confidence bound of the mean, at ``level`` divided by the number of
    comparisons of the round, exceeds the bound (plus the same rounding slack).
    """
    measured, bound, tol = _sides(claim, data, rtol, atol)
    B = measured.shape[0]
    mask = _condition(claim, data, B, measured.device) & ~_uncertified(data, B, measured.device)
    if int(mask.sum()) == 0:
        return None
    if claim.kind == "sure":
        finite = torch.isfinite(measured) & ~torch.isnan(bound)
        bad = (~finite | (measured > bound + tol)) & mask[:, None, None]
        ratio = torch.where(bound > tol, measured / bound, torch.full_like(measured, math.nan))
        ratio = torch.where(mask[:, None, None] & finite, ratio, torch.full_like(ratio, math.nan))
        return Comparisons("sure", measured, bound, ratio, bad, finite, mask, tol)
    K = measured.shape[2]
    per_comparison = level / (int(mask.sum()) * K)
    target = bound[:, 0, :]
    slack = tol.max(1).values
    mean, half = statistics.mean_and_halfwidth(measured, per_comparison)
    finite = torch.isfinite(measured).all(1) & ~torch.isnan(target)
    pv = statistics.p_values(measured, target + slack)
    pv = torch.where(finite, pv, torch.zeros_like(pv))
    bad = (pv < per_comparison) & mask[:, None]
    ratio = torch.where((target > slack) & finite & mask[:, None], mean / target, torch.full_like(mean, math.nan))
    return Comparisons("expect", mean, target, ratio, bad, finite, mask, slack, pv, half)


def _condition(claim: Claim, data: RoundData, B: int, device: torch.device) -> Tensor:
    """The instances (B,) that meet the claim's condition ``when`` (all when it has none)."""
    if claim.when is None:
        return torch.ones(B, dtype=torch.bool, device=device)
    return evaluate(claim.when, data.values, data.like).reshape(B, -1).all(-1)


def _uncertified(data: RoundData, B: int, device: torch.device) -> Tensor:
    """The instances (B,) whose family marked its minimiser uncertified (problems/_certify.py)."""
    flag = data.values.get("uncertified")
    if flag is None:
        return torch.zeros(B, dtype=torch.bool, device=device)
    return flag.reshape(B) > 0


def evaluate_claim(claim: Claim, data: RoundData, level: float, rtol: float, atol: float) -> ClaimRound:
    """Compare measured with bound on every applicable instance of the round (``compare``) and
    keep the worst comparison, the most significant violation and each instance's tightness;
    count the instances dropped for an uncertified minimiser."""
    B = data.like.shape[0]
    dropped = int((_condition(claim, data, B, data.like.device) & _uncertified(data, B, data.like.device)).sum())
    c = compare(claim, data, level, rtol, atol)
    if c is None:
        return ClaimRound(0, 0, None, None, dropped=dropped)
    applicable = int(c.mask.sum())
    ratio_flat = torch.nan_to_num(c.ratio, nan=-math.inf).reshape(-1)
    worst_i = int(ratio_flat.argmax()) if bool(torch.isfinite(ratio_flat).any()) else None
    violation_i = None
    if bool(c.bad.any()):
        if c.kind == "sure":
            excess = torch.where(c.finite, (c.measured - c.bound) / (c.bound.abs() + c.tol),
                                 torch.full_like(c.measured, math.inf))
            violation_i = int(torch.where(c.bad, excess, torch.full_like(excess, -math.inf)).reshape(-1).argmax())
        else:
            violation_i = int(torch.where(c.bad, c.p_value, torch.full_like(c.p_value, 2.0)).reshape(-1).argmin())
    worst = None if worst_i is None else _evidence(c, worst_i, data)
    violation = None if violation_i is None else _evidence(c, violation_i, data)
    return ClaimRound(applicable, applicable * c.bad[0].numel(), worst, violation, _per_instance(c.ratio, c.mask),
                      dropped)


def _sides(claim: Claim, data: RoundData, rtol: float, atol: float) -> tuple[Tensor, Tensor, Tensor]:
    """measured, bound and the rounding tolerance rtol * (magnitude of both sides) + atol, all
    broadcast to one shape (B, R, K); the magnitude sums the absolute values of the terms, so
    the tolerance follows the cancellation in e.g. L(w) - L*."""
    measured = evaluate(claim.measured, data.values, data.like)
    bound = evaluate(claim.bound, data.values, data.like)
    scale = evaluate(magnitude(claim.measured) + magnitude(claim.bound), data.values, data.like)
    shape = torch.broadcast_shapes(measured.shape, bound.shape, scale.shape)
    return measured.expand(shape), bound.expand(shape), rtol * scale.expand(shape) + atol


def _evidence(c: Comparisons, i: int, data: RoundData) -> Evidence:
    """The evidence of the comparison at flat index ``i`` of ``c``."""
    K = c.bad.shape[-1]
    violated = bool(c.bad.reshape(-1)[i])
    reason = "non-finite value" if violated and not bool(c.finite.reshape(-1)[i]) else ""
    m, b = float(c.measured.reshape(-1)[i]), float(c.bound.reshape(-1)[i])
    if c.kind == "sure":
        R = c.bad.shape[1]
        inst, rest = divmod(i, R * K)
        r, k = divmod(rest, K)
        return Evidence(data.key, inst, k + 1 if K > 1 else None, m, b, float(c.ratio.reshape(-1)[i]), violated,
                        reason=reason, replica=r)
    inst, k = divmod(i, K)
    h = float(c.half.reshape(-1)[i])
    return Evidence(data.key, inst, k + 1 if K > 1 else None, m, b, float(c.ratio.reshape(-1)[i]), violated,
                    float(c.p_value.reshape(-1)[i]), (m - h) / b if b > 0 else None, (m + h) / b if b > 0 else None,
                    reason)


def measure_instance(claim: Claim, data: RoundData, instance: int, step: int | None,
                     replica: int | None) -> tuple[float, float]:
    """(measured, bound) of one comparison; the replica mean for an expectation claim."""
    measured, bound, _ = _sides(claim, data, 0.0, 0.0)
    k = 0 if step is None else step - 1
    if claim.kind == "expect":
        return float(measured[instance, :, k].mean()), float(bound[instance, 0, k])
    r = replica or 0
    return float(measured[instance, r, k]), float(bound[instance, r, k])
