"""Evaluating a claim on a round's data: measured against bound per instance (sure claims) or a
one-sided confidence bound over replicas (expectation claims), with the evidence a verdict reports."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from theorems.engine import statistics
from theorems.engine.round_data import RoundData, RoundKey
from theorems.language.evaluate import evaluate, magnitude
from theorems.language.spec import Claim

Tensor = torch.Tensor


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
    comparisons of the round, exceeds the bound (plus the same rounding slack). A bound that
    differs between replicas (it holds random quantities) is an expectation too: the test is on
    the paired differences, H0: E[measured - bound] <= slack, and ``bound`` reports its mean
    (written so that a bound equal in every replica gives exactly the plain test on measured).
    """
    measured, bound, tol = sides(claim, data, rtol, atol)
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
    first = bound[:, 0, :]
    spread = bound - first[:, None, :]  # zero for a bound that is the same in every replica
    target = first + spread.mean(1)
    slack = tol.max(1).values
    mean, half = statistics.mean_and_halfwidth(measured, per_comparison)
    finite = torch.isfinite(measured).all(1) & ~torch.isnan(bound).any(1)
    pv = statistics.p_values(measured - spread, first + slack)
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


def sides(claim: Claim, data: RoundData, rtol: float, atol: float) -> tuple[Tensor, Tensor, Tensor]:
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
    measured, bound, _ = sides(claim, data, 0.0, 0.0)
    k = 0 if step is None else step - 1
    if claim.kind == "expect":
        return float(measured[instance, :, k].mean()), float(bound[instance, 0, k])
    r = replica or 0
    return float(measured[instance, r, k]), float(bound[instance, r, k])
