"""Pointwise values of the function-class symbols (theorems/language/symbols.py) at sampled points w and
directions v: gradient differences and Hessian-vector products (Propositions 5.2 and B.1) and
certified brackets of the Moreau envelope (Theorem 5.3, problems/moreau.py). Each group is
computed only when a claim of the setting uses one of its symbols."""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import AbstractSet, Mapping

import torch

from problems import ProblemBatch
from problems._batch import hessians
from problems.moreau import MoreauEnvelope, weak_convexity

Tensor = torch.Tensor

#: Power-iteration steps towards the direction where ||Hess L(w) u|| is largest.
POWER_STEPS = 8

ENVELOPE = frozenset({"rho", "env_w_lo", "env_w_hi", "env_wv_lo", "env_wv_hi", "env_wmv_lo", "env_wmv_hi",
                      "env_grad_diff", "env_certified"})


def _norm(x: Tensor) -> Tensor:
    return torch.linalg.vector_norm(x, dim=-1, keepdim=True)


def power_iteration_sq(problem: ProblemBatch, w: Tensor, start: Tensor, steps: int = POWER_STEPS) -> Tensor:
    """||Hess L(w) u||^2 (B, R, 1) for the unit u reached by ``steps`` power-iteration steps from
    ``start``: a lower bound on ||Hess L(w)||_op^2 that approaches it."""
    u = start / _norm(start)
    for _ in range(steps):
        hu = problem.hvp(w, u)
        size = _norm(hu)
        u = torch.where(size > 0, hu / torch.where(size > 0, size, torch.ones_like(size)), u)
    return problem.hvp(w, u).square().sum(-1, keepdim=True)


#: The envelope values of the last few rounds, by content: every claim of Theorem 5.3 rebuilds
#: the same rounds, and the inner solves are the expensive part.
_CACHE: OrderedDict[str, dict[str, Tensor]] = OrderedDict()
_CACHE_SIZE = 16


def _fingerprint(problem: ProblemBatch, *tensors: Tensor) -> str:
    digest = hashlib.sha256(repr((problem.family, dict(problem.params))).encode())
    for t in (problem.w1, *problem.constants.values(), *tensors):
        digest.update(t.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def envelope_values(problem: ProblemBatch, w: Tensor, v: Tensor, H_env: Tensor) -> dict[str, Tensor]:
    """``_envelope_values``, remembered for the last rounds with the same problem and points."""
    key = _fingerprint(problem, w, v, H_env)
    if key not in _CACHE:
        _CACHE[key] = _envelope_values(problem, w, v, H_env)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(key)
    return dict(_CACHE[key])


def _envelope_values(problem: ProblemBatch, w: Tensor, v: Tensor, H_env: Tensor) -> dict[str, Tensor]:
    """Brackets of L_hat at w, w + v, w - v and a certified upper bound on
    ||grad L_hat(w + v) - grad L_hat(w)|| (``MoreauEnvelope.gradient_difference``: from the
    approximate proximal points of w and w + v and their radii, or exact on a certified common
    face of a polyhedral batch). Uncertified instances (rho >= H_env) and points the inner solve
    did not pin down get NaN; ``env_certified`` is 1 where every value of a point is finite."""
    R = w.shape[1]
    rho = weak_convexity(problem)
    envelope = MoreauEnvelope(problem, H_env, rho)
    bracket = envelope(torch.cat([w, w + v, w - v], dim=1))
    lo, hi = bracket.lower[..., None], bracket.upper[..., None]
    difference = envelope.gradient_difference(w, w + v, bracket.points(0, R), bracket.points(R, 2 * R))
    out = {"rho": rho.reshape(-1, 1, 1), "env_grad_diff": difference[..., None]}
    for i, suffix in enumerate(("w", "wv", "wmv")):
        out[f"env_{suffix}_lo"] = lo[:, i * R:(i + 1) * R]
        out[f"env_{suffix}_hi"] = hi[:, i * R:(i + 1) * R]
    finite = torch.stack([torch.isfinite(out[k]) for k in out if k.startswith("env_")]).all(0)
    out["env_certified"] = finite.to(lo.dtype)
    return out


def function_class_values(problem: ProblemBatch, w: Tensor, v: Tensor, needed: AbstractSet[str],
                          values: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """The function-class symbols among ``needed`` at points w and directions v (B, R, d)."""
    out: dict[str, Tensor] = {}
    if "grad_diff_sq" in needed:
        out["grad_diff_sq"] = (problem.grad(w + v) - problem.grad(w)).square().sum(-1, keepdim=True)
    if needed & {"hess_v_sq", "curv_v"}:
        hv = problem.hvp(w, v)
        out["hess_v_sq"] = hv.square().sum(-1, keepdim=True)
        out["curv_v"] = (v * hv).sum(-1, keepdim=True)
    if "taylor_grad_sq" in needed:
        taylor = problem.grad(w + v) - problem.grad(w) - problem.hvp(w, v)
        out["taylor_grad_sq"] = taylor.square().sum(-1, keepdim=True)
    if "hess_diff_op" in needed:
        difference = hessians(problem, w + v) - hessians(problem, w)
        out["hess_diff_op"] = torch.linalg.eigvalsh(difference).abs().amax(-1, keepdim=True)
    if "hess_power_sq" in needed:
        out["hess_power_sq"] = power_iteration_sq(problem, w, v)
    if needed & ENVELOPE:
        if "H_env" not in values:
            raise KeyError("the Moreau envelope symbols need the setting to define the hyper-parameter H_env")
        out.update(envelope_values(problem, w, v, values["H_env"].reshape(-1)))
    return out
