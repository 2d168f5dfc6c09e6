"""The values of a pointwise setting (a lemma about the function, no algorithm): points drawn around
the minimiser and the function-class quantities at them (theorems/language/function_classes.py)."""
from __future__ import annotations

import math
from typing import Mapping

import torch

from problems import BoundOracle, ProblemBatch
from problems import _random as rnd
from theorems.language.function_classes import function_class_values

Tensor = torch.Tensor


def pointwise_values(problem: ProblemBatch, oracle: BoundOracle, minibatch: int, replicas: int,
                      generator: torch.Generator, needed: frozenset[str] = frozenset(),
                      values: Mapping[str, Tensor] | None = None) -> dict[str, Tensor]:
    """Points w around w* (or w1) at scales from 1e-2 to 1e2, directions v at scales 1e-3..1e2,
    and one minibatch oracle draw at each w; for ``oracle_bias_w``, one more draw per replica at
    the first replica's point, so that the replicas of an instance estimate E g at one w; and the
    function-class symbols among ``needed`` (theorems/language/function_classes.py)."""
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
