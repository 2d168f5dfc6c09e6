"""Run an algorithm on a problem batch and record the trace the theorems measure.

The trace holds, for every instance b, replica r and t = 1..T+1, the true loss L(w_t), the
squared true gradient norm ||grad L(w_t)||^2 and the squared distance ||w_t - w*||^2 (NaN when
the family has no certified minimiser), plus the loss at the averaged iterate
(1/T) sum_{t<=T} w_t. Quantities are recorded online, so memory is O(B R T), not O(B R T d).

Before step t the runner tells the oracle the step (``BoundOracle.begin_step(t)``; a time-varying
oracle's noise depends on it). On request (``noise_variance=True``) it also records, per step,
sigma_t^2 = E[||g - grad L(w)||^2 | w], the exact conditional variance the oracle reports
(``BoundOracle.noise_variance``) for the *first* call ``oracle(w, m)`` the algorithm makes in that
step, at that call's point w and minibatch size m: for SGD and minibatch SGD, the variance of g_t
at w_t (section 11's sigma_t^2). A step that makes no such call (e.g. Algorithm 3, which asks a
finite-sum oracle for chosen terms) or whose first call is not at a (B, R, d) point records NaN.
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
    averaged iterate, shape (B, R), and the last iterate w_{T+1}, shape (B, R, d); ``noise_var``,
    when recorded, is the conditional noise variance sigma_t^2 of each step, shape (B, R, T)."""

    loss: Tensor
    grad_sq: Tensor
    dist_sq: Tensor
    avg_iterate_loss: Tensor
    last_iterate: Tensor | None = None
    noise_var: Tensor | None = None

    @property
    def horizon(self) -> int:
        return int(self.loss.shape[-1]) - 1


def run(algorithm: Algorithm, problem: ProblemBatch, oracle: BoundOracle, horizon: int,
        replicas: int = 1, differentiable: bool = False, noise_variance: bool = False) -> Trace:
    """Run ``horizon`` steps of ``algorithm`` from w1 on every instance and replica.

    Steps run under ``torch.no_grad`` (algorithms may update tensors in place, as torch.optim
    does); ``differentiable=True`` records the autograd graph through every step instead, so the
    trace can be differentiated with respect to the problem's parameters (the gradient
    adversary, theorems/adversaries.py; it needs an algorithm written without in-place updates).
    ``noise_variance=True`` records ``Trace.noise_var`` (see the module docstring); it costs one
    variance evaluation per step (for a finite-sum oracle, all N term gradients).
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
    first_calls = _FirstCallVariance(oracle, (B, replicas)) if noise_variance else None
    noise_vars = []
    for t in range(1, horizon + 1):
        oracle.begin_step(t)
        queried = oracle.sample if first_calls is None else first_calls.start()
        with torch.set_grad_enabled(differentiable and torch.is_grad_enabled()):
            result = algorithm.step(w, state, queried, t)
        w, state = _unpack(result, (B, replicas, d), t)
        if first_calls is not None:
            noise_vars.append(first_calls.recorded(problem.w1))
        record(w)
        if t < horizon:
            w_sum = w_sum + w
    avg = problem.loss(w_sum / horizon)
    return Trace(torch.stack(losses, -1), torch.stack(grad_sqs, -1), torch.stack(dist_sqs, -1), avg, w,
                 torch.stack(noise_vars, -1) if noise_vars else None)


class _FirstCallVariance:
    """The oracle ``oracle(w, m)`` as an algorithm sees it, remembering the exact noise variance of
    the first call of each step; other attributes (a finite-sum sampler's ``term_grad``) pass through."""

    def __init__(self, oracle: BoundOracle, shape: tuple[int, int]) -> None:
        self.oracle, self.shape = oracle, shape
        self.first: Tensor | None = None

    def start(self) -> "_FirstCallVariance":
        self.first = None
        return self

    def __call__(self, w: Tensor, m: int = 1) -> Tensor:
        if self.first is None:
            self.first = self.oracle.noise_variance(w, m).detach()
        return self.oracle.sample(w, m)

    def __getattr__(self, name: str) -> object:
        return getattr(self.oracle.sample, name)

    def recorded(self, like: Tensor) -> Tensor:
        """The first call's variance (B, R), or NaN where the step made none at a (B, R, d) point."""
        if self.first is None or tuple(self.first.shape) != self.shape:
            return torch.full(self.shape, float("nan"), dtype=like.dtype, device=like.device)
        return self.first


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
