"""Run an algorithm on a problem batch and record the trace the theorems measure.

The trace holds, for every instance b, replica r and t = 1..T+1, the true loss L(w_t), the
squared true gradient norm ||grad L(w_t)||^2 and the squared distance ||w_t - w*||^2 (NaN when
the family has no certified minimiser), plus the loss at the averaged iterate
(1/T) sum_{t<=T} w_t. Quantities are recorded online, so memory is O(B R T), not O(B R T d).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from algorithms.protocol import Algorithm
from problems import BoundOracle, ProblemBatch

Tensor = torch.Tensor


class ProtocolError(TypeError):
    """An algorithm does not follow the batched protocol (algorithms.protocol)."""


@dataclass(frozen=True)
class Trace:
    """Per-iterate records, each of shape (B, R, T+1) (index i is t = i + 1), the loss at the
    averaged iterate, shape (B, R), and the last iterate w_{T+1}, shape (B, R, d)."""

    loss: Tensor
    grad_sq: Tensor
    dist_sq: Tensor
    avg_iterate_loss: Tensor
    last_iterate: Tensor | None = None

    @property
    def horizon(self) -> int:
        return int(self.loss.shape[-1]) - 1


def run(algorithm: Algorithm, problem: ProblemBatch, oracle: BoundOracle, horizon: int,
        replicas: int = 1, differentiable: bool = False) -> Trace:
    """Run ``horizon`` steps of ``algorithm`` from w1 on every instance and replica.

    Steps run under ``torch.no_grad`` (algorithms may update tensors in place, as torch.optim
    does); ``differentiable=True`` records the autograd graph through every step instead, so the
    trace can be differentiated with respect to the problem's parameters (the gradient
    adversary, theorems/adversaries.py; it needs an algorithm written without in-place updates).
    """
    if horizon < 1:
        raise ValueError(f"run: horizon must be >= 1, got {horizon}")
    B, d = problem.w1.shape
    w = problem.w1[:, None, :].expand(B, replicas, d).clone()
    state = algorithm.init(w)
    losses, grad_sqs, dist_sqs = [], [], []

    def record(x: Tensor) -> None:
        losses.append(problem.loss(x))
        grad_sqs.append(problem.grad(x).square().sum(-1))
        if problem.w_star is None:
            dist_sqs.append(torch.full_like(losses[-1], float("nan")))
        else:
            dist_sqs.append((x - problem.w_star[:, None, :]).square().sum(-1))

    record(w)
    w_sum = w.clone()
    for t in range(1, horizon + 1):
        with torch.set_grad_enabled(differentiable and torch.is_grad_enabled()):
            result = algorithm.step(w, state, oracle.sample, t)
        w, state = _unpack(result, (B, replicas, d), t)
        record(w)
        if t < horizon:
            w_sum = w_sum + w
    avg = problem.loss(w_sum / horizon)
    return Trace(torch.stack(losses, -1), torch.stack(grad_sqs, -1), torch.stack(dist_sqs, -1), avg, w)


def _unpack(result: object, shape: tuple[int, int, int], t: int) -> tuple[Tensor, object]:
    """Check that ``step`` returned (w, state) with w a tensor of the iterate's shape."""
    if not (isinstance(result, tuple) and len(result) == 2):
        raise ProtocolError(f"step must return (w, state); at t={t} it returned {type(result).__name__}")
    w, state = result
    if not isinstance(w, Tensor):
        raise ProtocolError(f"step must return the iterate as a torch.Tensor; at t={t} got {type(w).__name__}")
    if tuple(w.shape) != shape:
        raise ProtocolError(f"step returned an iterate of shape {tuple(w.shape)}, expected {shape} (B, R, d)")
    return w, state
