"""The gradient adversary: ascend a claim's tightness through the unrolled algorithm.

Issue 4's third search (after the checker's batched random rounds and the hypothesis search of
theorems/test_catalog.py). For a sure claim of a trace setting and a parametric family
(problems.parametric), the instances' continuous parameters (spectrum, rotation, threshold,
data, w*, w1, ...) are moved by projected Adam on the sum over instances of
tightness = measured / bound, differentiated by torch.autograd through ``algorithms.run`` with
``differentiable=True`` (any oracle noise is a fixed sequence: the oracle's seed is the round's).
After every step the parameters are projected back into the family's class, and the batch is
rebuilt, so the constants in the bound are recomputed. Every instance returned is re-verified
by ``problems.parametric.certify`` (an instance outside its class raises OutsideClassError) and
judged by the ordinary ``evaluate_claim`` on a round whose key carries the parameters, so its
evidence is a replayable counterexample like any other.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from problems import FAMILIES
from problems.parametric import Params, certify, is_parametric, select, to_lists
from theorems.engine.profiles import Profile
from theorems.engine.claims import ClaimRound, evaluate_claim, sides
from theorems.engine.round_data import RoundData, RoundKey
from theorems.engine.rounds import build_round
from theorems.engine.seeding import derive_seed
from theorems.language.spec import Claim, Spec

Tensor = torch.Tensor

GRADIENT_SEARCH = "gradient"
#: The ascent ranks instances by measured / (bound + ROUNDING_DISCOUNT x rounding tolerance), so
#: it does not drift to scales where the bound is so small that rounding decides the ratio.
ROUNDING_DISCOUNT = 1e3


def gradient_applicable(spec: Spec, claim: Claim, family: str) -> bool:
    """Sure claims of settings that run one algorithm (not coupled runs) on parametric families
    (expectation claims would select instances on the very noise that then tests them)."""
    setting = spec.setting(claim.setting)
    return (claim.kind == "sure" and setting.runs_algorithm and setting.coupled is None
            and family in FAMILIES and is_parametric(FAMILIES[family]))


def instance_tightness(claim: Claim, data: RoundData, rtol: float, atol: float, discount: float = 0.0) -> Tensor:
    """Per instance, the largest measured / (bound + discount x rounding tolerance) over replicas
    and steps where the bound is above the rounding level and the claim's condition holds; -inf
    where there is none. Differentiable in whatever ``data`` was built from."""
    measured, bound, tol = sides(claim, data, rtol, atol)
    B = measured.shape[0]
    valid = (bound > tol) & torch.isfinite(measured) & torch.isfinite(bound)
    if claim.when is not None:
        from theorems.language.evaluate import evaluate
        valid = valid & evaluate(claim.when, data.values, data.like).expand_as(valid)
    ratio = measured / torch.where(valid, bound + discount * tol, torch.ones_like(bound))
    ratio = torch.where(valid, ratio, torch.full_like(ratio, -math.inf))
    return ratio.reshape(B, -1).amax(-1)


@dataclass(frozen=True)
class Ascent:
    """The result of one gradient ascent: the round of the best parameters found, what the
    ordinary evaluation says about it, the best ranked (discounted) tightness at the start and the
    tightness of the evaluated result."""

    key: RoundKey
    outcome: ClaimRound
    start: float
    best: float


def ascend(spec: Spec, claim: Claim, key: RoundKey, start: Params, steps: int, lr: float, rtol: float,
           atol: float, level: float) -> Ascent:
    """Projected Adam ascent of the instances' tightness from parameters ``start`` (instance on
    dim 0): every coordinate, in units of its instance's size at the start, moves by Adam's step
    (``adam_step``) of size lr decaying geometrically to lr/10, then everything is projected back
    into the class. ``key`` fixes everything else (setting, oracle seed, horizon, algorithm).
    Returns the best parameters seen for each instance, certified and evaluated."""
    family = FAMILIES[key.family]
    params = family.project(start)
    B = next(iter(params.values())).shape[0]
    key = replace(key, batch_size=B, replicas=1, params={})
    # every parameter moves relative to its instance's size at the start
    scales = {k: v.abs().reshape(B, -1).amax(-1).clamp_min(1e-12).reshape(B, *[1] * (v.dim() - 1))
              for k, v in params.items()}
    x = {k: (v / scales[k]).requires_grad_(True) for k, v in params.items()}
    best = torch.full((B,), -math.inf, dtype=torch.float64)
    best_params = {k: v.clone() for k, v in params.items()}
    moments = {k: (torch.zeros_like(v), torch.zeros_like(v)) for k, v in x.items()}
    first = None
    for step in range(steps + 1):
        current = {k: x[k] * scales[k] for k in x}
        with torch.enable_grad():
            tight = instance_tightness(claim, build_round(spec, key, family.build(current), differentiable=True),
                                       rtol, atol, ROUNDING_DISCOUNT)
        value = tight.detach().to(best.dtype)
        first = float(value.max()) if first is None else first
        better = value > best
        best = torch.where(better, value, best)
        for k in best_params:
            best_params[k][better] = current[k].detach()[better]
        if step == steps:
            break
        objective = torch.where(torch.isfinite(tight), tight, torch.zeros_like(tight)).sum()
        if not objective.requires_grad:
            break
        grads = torch.autograd.grad(objective, list(x.values()), allow_unused=True)
        size = lr * 0.1 ** (step / max(steps - 1, 1))
        with torch.no_grad():
            for (k, v), g in zip(x.items(), grads):
                if g is not None:
                    v.add_(size * adam_step(g, *moments[k], step + 1))
            projected = family.project({k: x[k] * scales[k] for k in x})
            for k in x:
                x[k].copy_(projected[k] / scales[k])
    final = family.project(best_params)
    certify(family.build(final), torch.Generator().manual_seed(derive_seed(key.seed, "certify")))
    final_key = replace(key, params=to_lists(final))
    outcome = evaluate_claim(claim, build_round(spec, final_key), level, rtol, atol)
    found = outcome.worst.tightness if outcome.worst is not None else -math.inf
    return Ascent(final_key, outcome, first if first is not None else -math.inf, found)


#: Adam's decay rates of the first and second moments (Kingma and Ba's defaults).
ADAM_BETAS = (0.9, 0.999)


def adam_step(g: Tensor, first: Tensor, second: Tensor, count: int, eps: float = 1e-12) -> Tensor:
    """Adam's direction for gradient ``g`` (NaN at a kink counts as 0), updating the moment
    estimates ``first`` and ``second`` in place; ``count`` is the number of steps so far,
    this one included (bias correction). Each coordinate moves by about 1 whatever the scale
    of its gradient, so coordinates with small but steady gradients (such as curvatures and
    breakpoints that act only through a few iterates) move as fast as the dominant ones.
    Written out rather than torch.optim.Adam, whose import costs seconds per process."""
    g = torch.nan_to_num(g, nan=0.0, posinf=0.0, neginf=0.0)
    b1, b2 = ADAM_BETAS
    first.mul_(b1).add_(g, alpha=1 - b1)
    second.mul_(b2).addcmul_(g, g, value=1 - b2)
    return (first / (1 - b1 ** count)) / ((second / (1 - b2 ** count)).sqrt() + eps)


def starts_from(key: RoundKey, instance: int, extra: int) -> Params:
    """Starting parameters: instance ``instance`` of the random round ``key`` and the ``extra``
    instances after it, re-drawn from the round's seed (a parametric family's ``sample`` is
    ``build(draw(...))``, so they are exactly the instances the round ran)."""
    family = FAMILIES[key.family]
    device = torch.device(key.device)
    drawn = family.draw(key.batch_size, key.dim, torch.Generator(device=device).manual_seed(key.seed), device)
    others = [i for i in range(key.batch_size) if i != instance][:max(extra, 0)]
    return select(drawn, [instance, *others])


def gradient_search(spec: Spec, claim: Claim, best_rounds: dict[tuple[str, str], tuple[RoundKey, int]],
                    profile: Profile, level: float) -> list[Ascent]:
    """Run ``ascend`` once per (family, oracle) from the best instance of its best random round
    (``best_rounds`` maps the pair to (round key, instance)) plus fresh draws, at that round's
    horizon capped by the profile's ``gradient_max_horizon``."""
    if profile.gradient_steps <= 0:
        return []
    out = []
    for (family, oracle), (key, instance) in sorted(best_rounds.items()):
        if not gradient_applicable(spec, claim, family):
            continue
        horizon = key.horizon if key.horizon <= profile.gradient_max_horizon else \
            max([T for T in profile.horizons if T <= profile.gradient_max_horizon], default=1)
        start = starts_from(key, instance, profile.gradient_batch - 1)
        out.append(ascend(spec, claim, replace(key, horizon=horizon), start, profile.gradient_steps,
                          profile.gradient_lr, profile.rtol, profile.atol, level))
    return out
