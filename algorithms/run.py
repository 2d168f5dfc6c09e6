"""Run an algorithm on a problem batch and record the trace the theorems measure.

The trace holds, for every instance b, replica r and t = 1..T+1, the true loss L(w_t), the
squared true gradient norm ||grad L(w_t)||^2 and the squared distance ||w_t - w*||^2 (NaN when
the family has no certified minimiser), plus the loss at the averaged iterate
(1/T) sum_{t<=T} w_t; ``record=`` names the ones to record (the others are None). Iterates are
kept in blocks of K steps (``block_length``: K R d is about 2048) and each block is measured in
one batched call (one ``ProblemBatch.loss_and_grad`` on B x R x K points), so memory is
O(B R T + B K R d), not O(B R T d), and the per-step work is the algorithm's own.

Before step t the runner tells the oracle the step (``BoundOracle.begin_step(t)``; a time-varying
oracle's noise depends on it). On request (``noise_variance=True``) it also records, per step,
sigma_t^2 = E[||g - grad L(w)||^2 | w], the exact conditional variance the oracle reports
(``BoundOracle.noise_variance``) for the *first* call ``oracle(w, m)`` the algorithm makes in that
step, at that call's point w and minibatch size m: for SGD and minibatch SGD, the variance of g_t
at w_t (section 11's sigma_t^2). A step that makes no such call (e.g. Algorithm 3, which asks a
finite-sum oracle for chosen terms) or whose first call is not at a (B, R, d) point records NaN.

An algorithm that keeps a gradient estimate (a momentum buffer, Algorithm 16) may expose it as
``estimate(state)``: the m_t it used in the step just taken. With ``record`` including
``estimate_err_sq`` the runner records ||m_t - grad L(w_t)||^2 for t = 1..T+1 (the notes'
||epsilon_t||^2; for t = T+1 it takes one more step, whose iterate it discards).

Algorithms with state (momentum, snapshots) may define ``probe(w, state, oracle)``: called after
each step with the iterate w_t the step started from and the new state, it returns named tensors
that the runner turns into the per-step records ``est_err`` = ||m_t - grad L(w_t)|| ("estimate": the
gradient estimate m_t the step used), ``anchor_loss`` = L(v_t) ("anchor": the snapshot v the step
used) and ``est_sq`` (returned as "estimate_sq", shape (B, R): the exact conditional second moment
of the step's estimate). A probe draws no random numbers, so it leaves the run unchanged.

``run_in_chunks`` runs the instances in chunks (so each chunk's data stays in the CPU's cache)
and gives the same trace as one ``run`` for deterministic oracles.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import torch

from algorithms.protocol import Algorithm
from problems import BoundOracle, ProblemBatch
from problems._batch import hessians

Tensor = torch.Tensor


class ProtocolError(TypeError):
    """An algorithm does not follow the batched protocol (algorithms.protocol)."""


#: The quantities ``run`` records by default (``record=``).
FIELDS = ("loss", "grad_sq", "dist_sq", "avg_iterate_loss")
#: Fields recorded only when named in ``record=``: the error of an algorithm's gradient estimate, and the
#: second-order records of section 25: ``curvature`` = -lambda_min(Hess L(w_t)) (B, R, T+1), ``grad_floor``
#: = 8 d eps ||Hess L(w_t)||_op ||w_t|| (B, R, T+1), the rounding level of a gradient computed at w_t
#: (eps the dtype's machine epsilon), and ``step_sq`` = ||w_{t+1} - w_t||^2 (B, R, T).
OPTIONAL_FIELDS = ("estimate_err_sq", "curvature", "grad_floor", "step_sq")
#: The fields measured from an algorithm's ``probe`` (module docstring), with the key each needs;
#: recorded only when named in ``record``.
PROBE_FIELDS = {"est_err": "estimate", "anchor_loss": "anchor", "est_sq": "estimate_sq"}
#: Iterates measured together in one batched call: about BLOCK_VALUES numbers per instance,
#: between 16 and 256 iterates (a count that depends on R and d only, so a chunked run measures
#: the same blocks as a whole one).
BLOCK_VALUES = 2048


def block_length(replicas: int, dim: int) -> int:
    """The number of iterates ``run`` measures in one batched call."""
    return min(256, max(16, BLOCK_VALUES // max(1, replicas * dim)))


@dataclass(frozen=True)
class Trace:
    """Per-iterate records, each of shape (B, R, T+1) (index i is t = i + 1), the loss at the
    averaged iterate, shape (B, R), and the last iterate w_{T+1}, shape (B, R, d); ``noise_var``,
    when recorded, is the conditional noise variance sigma_t^2 of each step, shape (B, R, T);
    ``estimate_err_sq`` is ||m_t - grad L(w_t)||^2 of an algorithm's gradient estimate m_t
    (``estimate(state)``), shape (B, R, T+1).

    The probe fields ``est_err``, ``anchor_loss`` and ``est_sq`` have shape (B, R, T) (step t at index t - 1).
    A field that the run did not record is None; ``horizon`` is T."""

    horizon: int
    loss: Tensor | None = None
    grad_sq: Tensor | None = None
    dist_sq: Tensor | None = None
    avg_iterate_loss: Tensor | None = None
    last_iterate: Tensor | None = None
    noise_var: Tensor | None = None
    estimate_err_sq: Tensor | None = None
    est_err: Tensor | None = None
    anchor_loss: Tensor | None = None
    est_sq: Tensor | None = None
    curvature: Tensor | None = None
    grad_floor: Tensor | None = None
    step_sq: Tensor | None = None


def run(algorithm: Algorithm, problem: ProblemBatch, oracle: BoundOracle, horizon: int,
        replicas: int = 1, differentiable: bool = False, noise_variance: bool = False,
        record: Iterable[str] = FIELDS) -> Trace:
    """Run ``horizon`` steps of ``algorithm`` from w1 on every instance and replica.

    Steps run under ``torch.no_grad`` (algorithms may update tensors in place, as torch.optim
    does); ``differentiable=True`` records the autograd graph through every step instead, so the
    trace can be differentiated with respect to the problem's parameters (the gradient
    adversary, theorems/adversaries.py; it needs an algorithm written without in-place updates).
    ``noise_variance=True`` records ``Trace.noise_var`` (see the module docstring); it costs one
    variance evaluation per step (for a finite-sum oracle, all N term gradients). ``record``
    names the fields of ``FIELDS`` to record; the last iterate is always kept.
    """
    if horizon < 1:
        raise ValueError(f"run: horizon must be >= 1, got {horizon}")
    fields = _fields(record)
    probing = sorted(fields & set(PROBE_FIELDS))
    if probing and not callable(getattr(algorithm, "probe", None)):
        raise ProtocolError(f"recording {probing} needs an algorithm with a probe(w, state, oracle) method "
                            "(algorithms/run.py); this one has none")
    probes: dict[str, list[Tensor]] = {name: [] for name in probing}
    B, d = problem.w1.shape
    shape = (B, replicas, d)
    w = problem.w1[:, None, :].expand(*shape).clone()
    state = algorithm.init(w)
    # an algorithm that never changes an iterate in place after returning it is not copied
    fresh = bool(getattr(algorithm, "returns_fresh_iterates", False))
    first_calls = _FirstCallVariance(oracle, (B, replicas)) if noise_variance else None
    noise_vars = []
    errors = _EstimateErrors(algorithm, problem) if "estimate_err_sq" in fields else None
    step = algorithm.step
    begin = oracle.begin_step if getattr(oracle, "on_step", True) is not None else None
    queried = oracle.sample
    # the records keep the caller's autograd mode (a trace differentiable in the problem's parameters
    # even when the steps are not), so the steps' gradients are reused only where both modes agree
    outer = torch.is_grad_enabled()
    measured = fields - set(PROBE_FIELDS)  # the recorder's fields; the probes are taken step by step
    tracked = outer and not differentiable and bool(measured) and problem.loss(problem.w1[:, None, :]).requires_grad
    recorder = _Recorder(problem, measured, horizon, replicas, reuse=not tracked)
    recording = bool(measured)
    dtype = w.dtype
    with torch.set_grad_enabled(differentiable and outer):
        recorder.add(w if fresh else w.clone())
        for t in range(1, horizon + 1):
            if begin is not None:
                begin(t)
            if first_calls is not None:
                queried = first_calls.start()
            stepped, result = w, step(w, state, queried, t)
            well_formed = type(result) is tuple and len(result) == 2 and isinstance(result[0], Tensor)
            if well_formed and result[0].shape == shape and result[0].dtype == dtype:
                w, state = result
            else:
                w, state = _unpack(result, shape, t)
            if first_calls is not None:
                noise_vars.append(first_calls.recorded(problem.w1))
            if probing:
                _probe(algorithm, problem, stepped, state, queried, probes)
            if recording:
                recorder.stepped(stepped, w if fresh else w.clone())
            if errors is not None:
                errors.add(stepped, state)
        if errors is not None:
            if begin is not None:
                begin(horizon + 1)
            after = step(w, state, oracle.sample, horizon + 1)
            errors.add(w, after[1] if type(after) is tuple and len(after) == 2 else None)
        trace = recorder.trace(w, torch.stack(noise_vars, -1) if noise_vars else None)
        if errors is not None:
            trace = dataclasses.replace(trace, estimate_err_sq=errors.stacked())
        return dataclasses.replace(trace, **{name: torch.stack(parts, -1) for name, parts in probes.items()})


def _probe(algorithm: Algorithm, problem: ProblemBatch, w: Tensor, state: object, oracle: object,
           probes: dict[str, list[Tensor]]) -> None:
    """Append this step's probe records (module docstring) for w = w_t and the state after the step."""
    found = algorithm.probe(w, state, oracle)
    for name, parts in probes.items():
        key = PROBE_FIELDS[name]
        if key not in found:
            raise ProtocolError(f"recording {name!r} needs the algorithm's probe to return {key!r}; it returned "
                                f"{sorted(found)}")
        value = found[key]
        if name == "est_err":
            value = torch.linalg.vector_norm(value - problem.grad(w), dim=-1)
        elif name == "anchor_loss":
            value = problem.loss(value)
        parts.append(value)


def run_in_chunks(make_chunk: Callable[[slice], tuple[Algorithm, ProblemBatch, BoundOracle]], batch_size: int,
                  horizon: int, chunk: int = 256, replicas: int = 1, noise_variance: bool = False,
                  record: Iterable[str] = FIELDS) -> Trace:
    """``run`` on the instances ``chunk`` at a time, the traces joined along the instances.

    ``make_chunk(part)`` returns the algorithm, problem batch and bound oracle of the instances
    ``part`` (a slice of range(batch_size)), e.g. a family's ``build`` of the sliced parameters.
    Instances never interact, so for a deterministic oracle the trace equals one ``run`` over the
    whole batch; a stochastic oracle draws from the generator each chunk binds."""
    if chunk < 1:
        raise ValueError(f"run_in_chunks: chunk must be >= 1, got {chunk}")
    traces = [run(*make_chunk(slice(start, min(start + chunk, batch_size))), horizon, replicas,
                  noise_variance=noise_variance, record=record) for start in range(0, batch_size, chunk)]
    joined = {name: None if getattr(traces[0], name) is None else torch.cat([getattr(tr, name) for tr in traces])
              for name in (*FIELDS, *OPTIONAL_FIELDS, *PROBE_FIELDS, "last_iterate", "noise_var")}
    return Trace(horizon, **joined)


def _fields(record: Iterable[str]) -> frozenset[str]:
    """The recorded fields, checked against ``FIELDS`` and ``OPTIONAL_FIELDS``."""
    fields = frozenset([record] if isinstance(record, str) else record)
    unknown = sorted(fields - set(FIELDS) - set(OPTIONAL_FIELDS) - set(PROBE_FIELDS))
    if unknown:
        raise ValueError(f"run: cannot record {unknown}; the fields are {[*FIELDS, *OPTIONAL_FIELDS, *PROBE_FIELDS]}")
    return fields


class _Recorder:
    """Collects the iterates w_1, ..., w_{T+1} and measures them ``block_length`` at a time.

    The gradient the algorithm's oracle computed at w_t (the family's remembered ``grad``, as
    the exact and additive-noise oracles call it) is taken as it is wherever it is unchanged, so
    that a step's gradient is not computed twice; the others are computed in one batched call.
    The loss comes from the gradient where the family can (``ProblemBatch.loss_given_grad``)."""

    def __init__(self, problem: ProblemBatch, fields: frozenset[str], horizon: int, replicas: int,
                 reuse: bool = True) -> None:
        self.problem, self.fields, self.horizon = problem, fields, horizon
        self.grad_mode = torch.is_grad_enabled()  # measured in the autograd mode of the caller
        self.block = block_length(replicas, problem.dim)
        self.pending: list[Tensor] = []
        self.grads: list[tuple[Tensor, int] | None] = []
        self.parts: dict[str, list[Tensor]] = {name: [] for name in ("loss", "grad_sq", "dist_sq", "curvature", "grad_floor",
                                                                  "step_sq")
                                               if name in fields}
        self.averaged = 0
        self.w_sum: Tensor | None = None
        self.needs_grad = "grad_sq" in fields or ("loss" in fields and problem.loss_given_grad is not None)
        self.remembered = getattr(problem.grad, "last", None) if self.needs_grad and reuse else None

    def add(self, w: Tensor) -> None:
        if not self.fields:
            return
        if len(self.pending) == self.block:
            with torch.set_grad_enabled(self.grad_mode):
                self._flush()
        self.pending.append(w)
        self.grads.append(None)

    def stepped(self, previous: Tensor, w: Tensor) -> None:
        """Add the iterate ``w`` a step made from ``previous`` (the iterate last added), taking
        grad L(previous) from the family's remembered gradient if the step computed it there and
        nobody changed it since."""
        last, grads = self.remembered, self.grads
        if "step_sq" in self.parts:
            self.parts["step_sq"].append((w - previous).square().sum(-1)[..., None])
        if (last is not None and grads and last[0] is previous and last[1] == previous._version
                and last[3] == last[2]._version):
            grads[-1] = (last[2], last[3])
        self.add(w)

    def _gradients(self, W: Tensor, points: Tensor) -> tuple[Tensor | None, Tensor]:
        """(loss or None, gradients (B, R * K, d)) of the block: the remembered ones, the others computed."""
        B, R, K, d = W.shape
        grads, self.grads = self.grads, []
        missing = [k for k, g in enumerate(grads) if g is None or g[0]._version != g[1]]
        if len(missing) == K:
            if "loss" in self.parts and self.problem.loss_given_grad is None:
                return self.problem.loss_and_grad(points)
            return None, self.problem.grad(points)
        columns: list[Tensor | None] = [None if g is None else g[0] for g in grads]
        if missing:
            computed = self.problem.grad(W[:, :, missing].reshape(B, R * len(missing), d)).reshape(B, R, len(missing), d)
            for j, k in enumerate(missing):
                columns[k] = computed[:, :, j]
        return None, torch.stack(columns, 2).reshape(B, R * K, d)

    def _flush(self) -> None:
        if not self.pending:
            return
        W = torch.stack(self.pending, 2)  # (B, R, K, d)
        self.pending = []
        B, R, K, d = W.shape
        if "avg_iterate_loss" in self.fields and self.averaged < self.horizon:
            take = min(K, self.horizon - self.averaged)
            part = W[:, :, :take].sum(2)
            self.w_sum = part if self.w_sum is None else self.w_sum + part
            self.averaged += take
        points = W.reshape(B, R * K, d)
        loss, g = self._gradients(W, points) if self.needs_grad else (None, None)
        self.grads = []
        if "grad_sq" in self.parts:
            self.parts["grad_sq"].append(g.square().sum(-1).reshape(B, R, K))
        if "loss" in self.parts:
            if self.problem.loss_given_grad is not None:
                loss = self.problem.loss_given_grad(points, g)
            elif loss is None:
                loss = self.problem.loss(points)
            self.parts["loss"].append(loss.reshape(B, R, K))
        if "curvature" in self.parts or "grad_floor" in self.parts:
            eigenvalues = torch.linalg.eigvalsh(hessians(self.problem, points))
            if "curvature" in self.parts:
                self.parts["curvature"].append(-eigenvalues[..., 0].reshape(B, R, K))
            if "grad_floor" in self.parts:
                floor = 8 * d * torch.finfo(W.dtype).eps * eigenvalues.abs().amax(-1) * points.norm(dim=-1)
                self.parts["grad_floor"].append(floor.reshape(B, R, K))
        if "dist_sq" in self.parts:
            w_star = self.problem.w_star
            self.parts["dist_sq"].append(torch.full((B, R, K), float("nan"), dtype=W.dtype, device=W.device)
                                         if w_star is None else (W - w_star[:, None, None, :]).square().sum(-1))

    def trace(self, last: Tensor, noise_var: Tensor | None) -> Trace:
        """The trace, once w_{T+1} = ``last`` has been added."""
        with torch.set_grad_enabled(self.grad_mode):
            self._flush()
            out = {name: torch.cat(parts, -1) for name, parts in self.parts.items()}
            if "avg_iterate_loss" in self.fields:
                out["avg_iterate_loss"] = self.problem.loss(self.w_sum / self.horizon)
        return Trace(self.horizon, last_iterate=last, noise_var=noise_var, **out)


class _EstimateErrors:
    """||m_t - grad L(w_t)||^2 of the algorithm's gradient estimate m_t = ``estimate(state)`` after
    each step from w_t."""

    def __init__(self, algorithm: Algorithm, problem: ProblemBatch) -> None:
        if not callable(getattr(algorithm, "estimate", None)):
            raise ProtocolError(f"{type(algorithm).__name__} has no estimate(state) method, so the error of its "
                                "gradient estimate (a momentum buffer) cannot be recorded")
        self.estimate, self.problem = algorithm.estimate, problem
        self.errors: list[Tensor] = []

    def add(self, w: Tensor, state: Any) -> None:
        m = self.estimate(state)
        if not (isinstance(m, Tensor) and m.shape == w.shape):
            raise ProtocolError(f"estimate(state) must return a tensor of the iterate's shape {tuple(w.shape)}, "
                                f"got {type(m).__name__} {tuple(getattr(m, 'shape', ()))}")
        self.errors.append((m - self.problem.grad(w)).square().sum(-1))

    def stacked(self) -> Tensor:
        return torch.stack(self.errors, -1)


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
    if not w.is_floating_point():
        raise ProtocolError(f"step returned an iterate of dtype {w.dtype} at t={t}; iterates must be real floating "
                            "point (an integer iterate truncates, and the truncation would read as a violation)")
    return w, state
