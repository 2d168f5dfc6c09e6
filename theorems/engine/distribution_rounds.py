"""Rounds of distribution settings (Propositions 10.4-10.6, Lemma 10.2, Appendix A).

A round draws B finite distributions of K = T + 1 atoms in R^d from a generator of
``problems.DISTRIBUTIONS`` (the round key's ``family``) and, when the result needs one, a
function chosen by the round's seed among those the key's ``oracle`` slot admits (``functions``):
a convex problem family's loss for Jensen (slot ``cvx``), a non-increasing function of
``problems.decreasing`` for Lemma 10.2 (slot ``decreasing``), or ``none``. Every symbol of
``theorems.language.symbols.DISTRIBUTION`` is then an exact weighted sum over the atoms, so the
claims are sure: no Monte Carlo error, no false alarms.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

import sympy as sp
import torch

from problems import FAMILIES
from problems.decreasing import DECREASING
from problems.distributions import DISTRIBUTION_CLASSES, DISTRIBUTIONS, DistributionBatch
from theorems.language.evaluate import evaluate
from theorems.engine.round_data import RoundKey
from theorems.engine.seeding import derive_seed, draw_free
from theorems.language.spec import Setting

Tensor = torch.Tensor

#: The function slot of a round whose result needs no function.
NO_FUNCTION = "none"


def combinations(assumptions: frozenset[str]) -> list[tuple[str, str]]:
    """(distribution, function) pairs: each generator with the assumed distribution classes
    (e.g. ``nonneg``) with ``none`` when the result assumes no class of function, else with the
    function classes it assumes (e.g. ``cvx``), from which each round draws one function."""
    needed = assumptions - DISTRIBUTION_CLASSES
    function = "+".join(sorted(needed)) if needed else NO_FUNCTION
    return [(n, function) for n, g in DISTRIBUTIONS.items() if (assumptions & DISTRIBUTION_CLASSES) <= g.classes]


def functions(slot: str) -> list[str]:
    """The functions a round's function slot admits: a function's own name (a problem family or
    a problems.decreasing family), or class tags joined by '+' (e.g. ``cvx``): every convex
    problem family's loss, every non-increasing function family."""
    if slot in FAMILIES or slot in DECREASING:
        return [slot]
    needed = set(slot.split("+"))
    found = [n for n, f in FAMILIES.items() if needed <= f.classes]
    found += [n for n, f in DECREASING.items() if needed <= f.classes]
    if not found:
        raise KeyError(f"no function is named or has the classes {slot!r}")
    return found


def build(setting: Setting, key: RoundKey, hyper: Mapping[str, sp.Expr]) -> tuple[DistributionBatch, dict[str, Tensor]]:
    """The round's distributions (with the function's parameters in ``describe``) and the value
    of every symbol: T, the free parameters, the hyper-parameters and the distribution symbols."""
    device = torch.device(key.device)
    generator = torch.Generator(device=device).manual_seed(key.seed)
    batch = DISTRIBUTIONS[key.family].sample(key.batch_size, key.horizon + 1, key.dim, generator, device)
    B, dtype = key.batch_size, batch.atoms.dtype
    values = moments(batch)
    function_generator = torch.Generator(device=device).manual_seed(derive_seed(key.seed, "function"))
    describe_function: Callable[[int], dict[str, Any]] = lambda b: {}
    name = NO_FUNCTION
    if key.oracle != NO_FUNCTION:
        candidates = functions(key.oracle)
        name = candidates[derive_seed(key.seed, "function choice") % len(candidates)]
    if name in FAMILIES:
        problem = FAMILIES[name].sample(B, key.dim, function_generator, device, dtype)
        values.update(jensen_values(batch, problem.loss))
        describe_function = problem.describe
    elif name in DECREASING:
        function = DECREASING[name].sample(B, function_generator, device, dtype)
        values.update(sequence_values(batch, function.f, function.F))
        describe_function = function.describe
    values["T"] = torch.tensor(float(key.horizon), dtype=dtype, device=device)
    for name, (low, high) in setting.free.items():
        values[name] = draw_free(B, low, high, generator, device, dtype).reshape(B, 1, 1)
    like = torch.zeros(B, 1, 1, dtype=dtype, device=device)
    for name, expr in hyper.items():
        values[name] = evaluate(expr, values, like)
    values.setdefault("y", values["thr"])
    values.update(probabilities(batch, values["E_X1"], values["y"]))

    def describe(b: int) -> dict[str, Any]:
        return {**batch.describe(b), "function": name, "function_parameters": describe_function(b)}

    return dataclasses.replace(batch, describe=describe), values


def _expect(weights: Tensor, v: Tensor) -> Tensor:
    """E[v] = sum_k p_k v_k as (B, 1, 1)."""
    return (weights * v).sum(-1).reshape(-1, 1, 1)


def _mean(batch: DistributionBatch) -> Tensor:
    """E X (B, d), with one refinement pass (the mean of the deviations) against cancellation."""
    p, x = batch.weights, batch.atoms
    first = torch.einsum("bk,bkd->bd", p, x)
    return first + torch.einsum("bk,bkd->bd", p, x - first[:, None, :])


def moments(batch: DistributionBatch) -> dict[str, Tensor]:
    p, x, Y = batch.weights, batch.atoms, batch.point
    B, K, _ = x.shape
    mean = _mean(batch)
    X1, Xd = x[..., 0], x[..., -1]
    dev = (X1 - mean[:, :1]).abs()
    thresholds = torch.cat([X1.abs(), dev], dim=-1)
    return {
        "E_X1": mean[:, 0].reshape(B, 1, 1),
        "var_X1": _expect(p, dev.square()),
        "E_sq_dist_Y": _expect(p, (x - Y[:, None, :]).square().sum(-1)),
        "bias_sq": (Y - mean).square().sum(-1).reshape(B, 1, 1),
        "var_X": _expect(p, (x - mean[:, None, :]).square().sum(-1)),
        "E_AB": _expect(p, X1 * Xd),
        "E_A_sq": _expect(p, X1.square()),
        "E_B_sq": _expect(p, Xd.square()),
        "norm_Y": torch.linalg.vector_norm(Y, dim=-1).reshape(B, 1, 1),
        "norm_x": torch.linalg.vector_norm(x, dim=-1).reshape(B, 1, K),
        "inner_xY": (x * Y[:, None, :]).sum(-1).reshape(B, 1, K),
        "thr": torch.where(thresholds > 0, thresholds, torch.ones_like(thresholds)).reshape(B, 1, 2 * K),
        "sum_a": batch.mass.reshape(B, 1, 1),
    }


def jensen_values(batch: DistributionBatch, f: Callable[[Tensor], Tensor]) -> dict[str, Tensor]:
    """Jensen (Proposition A.3) and Corollary A.4 with f: R^d -> R, f((B, R, d)) of shape (B, R)."""
    p, x = batch.weights, batch.atoms
    B = x.shape[0]
    at_atoms = f(x)
    xbar_notes = x.sum(1) / batch.mass[:, None]
    return {
        "Ef_X": _expect(p, at_atoms),
        "f_EX": f(_mean(batch)[:, None, :]).reshape(B, 1, 1),
        "sum_f_atoms": at_atoms.sum(-1).reshape(B, 1, 1),
        "f_xbar_notes": f(xbar_notes[:, None, :]).reshape(B, 1, 1),
    }


def sequence_values(batch: DistributionBatch, f: Callable[[Tensor], Tensor], F: Callable[[Tensor], Tensor]) -> dict[str, Tensor]:
    """Lemma 10.2 on the sequence x_t = X_1 of atom t (t = 0..T) with partial sums S_t."""
    x = batch.atoms[..., 0]
    B = x.shape[0]
    S = torch.cumsum(x, dim=-1)
    return {
        "sum_xf": (x[:, 1:] * f(S[:, 1:])).sum(-1).reshape(B, 1, 1),
        "F_end": F(S[:, -1:]).reshape(B, 1, 1),
        "F_start": F(x[:, :1]).reshape(B, 1, 1),
    }


def probabilities(batch: DistributionBatch, E_X1: Tensor, y: Tensor) -> dict[str, Tensor]:
    """P[X_1 >= y], P[X_d <= -y], P[either], P[|X_1 - E X_1| >= y] at each threshold y."""
    p, x = batch.weights, batch.atoms
    B = x.shape[0]
    thresholds = torch.broadcast_to(y, (B, 1, y.shape[-1]))[:, 0, None, :]
    X1, Xd = x[..., 0, None], x[..., -1, None]
    above = X1 >= thresholds
    below = Xd <= -thresholds

    def probability(event: Tensor) -> Tensor:
        return (p[..., None] * event).sum(1)[:, None, :]

    return {
        "P_X_ge_y": probability(above),
        "P_Xd_le_neg_y": probability(below),
        "P_union": probability(above | below),
        "P_dev_ge_y": probability((X1 - E_X1.reshape(B, 1, 1)).abs() >= thresholds),
    }
