"""Running a setting's algorithm on a sampled round and recording the trace values its claims use."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

import sympy as sp
import torch

from algorithms import ProtocolError, Trace, run
from algorithms.cubic_newton import SecondOrderOracle
from algorithms.coupled import PairedSamples, run_coupled
from problems import BoundOracle, ProblemBatch
from theorems.engine.loading import build_algorithm, load_algorithm
from theorems.engine.plan import (claim_symbols, deterministic, horizon_integer, hyper_expressions, minibatch_size,
                                  needs_noise_variance)
from theorems.engine.round_data import RoundKey
from theorems.language.evaluate import evaluate
from theorems.language import symbols as S
from theorems.language.spec import Setting, Spec

Tensor = torch.Tensor


def trace_values(spec: Spec, setting: Setting, key: RoundKey, problem: ProblemBatch, oracle: BoundOracle,
                  values: dict[str, Tensor], like: Tensor, generator: torch.Generator,
                  differentiable: bool = False) -> dict[str, Tensor]:
    """Run the setting's algorithm (or its coupled pair) on the sampled batch with the round's
    hyper-parameters and return the trace symbols its claims use (theorems.language.symbols.TRACE,
    COUPLED, NOISE_VARIANCE), each broadcastable to (B, R, K)."""
    hyper: dict[str, Any] = {}
    for name, expr in hyper_expressions(spec, setting, key).items():
        if name in values:
            hyper[name] = values[name]
        else:
            hyper[name] = schedule(sp.sympify(expr), values, like, key.horizon)
    if setting.minibatch:
        hyper["batch_size"] = minibatch_size(setting, key)
    algorithm = build_algorithm(key.algorithm or setting.algorithm, key.options, hyper, key.algorithm is not None,
                                f"the hyper-parameters of {spec.id}")
    replicas = 1 if deterministic(setting, key) else key.replicas
    noise_variance = needs_noise_variance(spec, setting)
    used = claim_symbols(spec, setting)  # record only the trace fields whose symbols the claims use
    record = [field for field, names in (("loss", {"sum_subopt", "last_subopt", "L1", "L_t", "L_next"}),
                                         ("grad_sq", {"sum_grad_sq", "sum_grad_norm", "min_grad_sq", "grad_sq_t",
                                                      "grad_sq_1"}),
                                         ("avg_iterate_loss", {"avg_iterate_subopt"}),
                                         ("estimate_err_sq", set(S.ESTIMATE_ERROR)), ("est_err", {"est_err_t"}),
                                         ("anchor_loss", {"anchor_subopt_t"}), ("est_sq", {"est_sq_t"}),
                                         ("grad_sq", {"grad_sq_next", "sosp_eps", "sosp_eps_J"}),
                                         ("curvature", {"lam_t", "lam_next", "sosp_eps", "sosp_eps_J"}),
                                         ("step_sq", {"step_sq_t"}), ("grad_floor", {"grad_floor_next"}))
              if used & names]
    if getattr(algorithm, "needs_hessian", False):
        oracle = dataclasses.replace(oracle, sample=SecondOrderOracle(oracle.sample, problem))
    if getattr(algorithm, "needs_paired_samples", False):
        oracle = dataclasses.replace(oracle, sample=PairedSamples(oracle.sample, generator))
    try:
        if setting.coupled is None:
            trace = run(algorithm, problem, oracle, key.horizon, replicas, differentiable, noise_variance,
                        record=record)
        else:
            trace, other = run_coupled(algorithm, _coupled_algorithm(setting, key, values, like), problem, oracle,
                                       generator, key.horizon, horizon_integer(setting.coupled.horizon, key.horizon,
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
                                                            keepdim=True),
        "coupled_scale": (torch.linalg.vector_norm(trace.last_iterate, dim=-1, keepdim=True)
                          + torch.linalg.vector_norm(other.last_iterate, dim=-1, keepdim=True))}
    if trace.noise_var is not None:
        out |= {"noise_var_t": trace.noise_var, "sum_noise_var": trace.noise_var.sum(-1, keepdim=True)}
    if trace.estimate_err_sq is not None:
        out |= {"eps_sq_t": trace.estimate_err_sq[..., :T], "eps_sq_next": trace.estimate_err_sq[..., 1:]}
    loss, grad_sq = trace.loss, trace.grad_sq
    if loss is not None:
        out |= {"sum_subopt": (loss[..., :T] - Lstar).sum(-1, keepdim=True), "last_subopt": loss[..., T:] - Lstar,
                "L1": loss[..., :1], "L_t": loss[..., :T], "L_next": loss[..., 1:]}
    if grad_sq is not None:
        out |= {"sum_grad_sq": grad_sq[..., :T].sum(-1, keepdim=True),
                "sum_grad_norm": grad_sq[..., :T].sqrt().sum(-1, keepdim=True),
                "min_grad_sq": grad_sq.amin(-1, keepdim=True), "grad_sq_t": grad_sq[..., :T],
                "grad_sq_1": grad_sq[..., :1]}
    out |= second_order_values(trace, values)
    if trace.avg_iterate_loss is not None:
        out["avg_iterate_subopt"] = trace.avg_iterate_loss[..., None] - Lstar
    for symbol, probed in (("est_err_t", trace.est_err), ("est_sq_t", trace.est_sq),
                           ("anchor_subopt_t", None if trace.anchor_loss is None else trace.anchor_loss - Lstar)):
        if probed is not None:
            out[symbol] = probed
    return out


def second_order_values(trace: Trace, values: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """The section-25 trace symbols (theorems.language.symbols) that the recorded fields give."""
    out: dict[str, Tensor] = {}
    T, curvature, grad_sq = trace.horizon, trace.curvature, trace.grad_sq
    if trace.step_sq is not None:
        out["step_sq_t"] = trace.step_sq
    if trace.grad_floor is not None:
        out["grad_floor_next"] = trace.grad_floor[..., 1:]
    if grad_sq is not None:
        out["grad_sq_next"] = grad_sq[..., 1:]
    if curvature is not None:
        out |= {"lam_t": curvature[..., :T], "lam_next": curvature[..., 1:]}
    if curvature is not None and grad_sq is not None:
        hessian_eps = torch.clamp(curvature[..., 1:], min=0).square() / 4
        grad_norm = grad_sq[..., 1:].sqrt()
        out["sosp_eps"] = torch.maximum(grad_norm, hessian_eps).amin(-1, keepdim=True)
        if "J" in values:
            out["sosp_eps_J"] = torch.maximum(values["J"] * grad_norm, hessian_eps).amin(-1, keepdim=True)
    return out


def _coupled_algorithm(setting: Setting, key: RoundKey, values: Mapping[str, Tensor], like: Tensor) -> Any:
    """The coupled run's built-in algorithm with its hyper-parameters evaluated for the round."""
    coupled = setting.coupled
    hyper: dict[str, Any] = {name: evaluate(expr, values, like) for name, expr in coupled.hyper.items()}
    if coupled.batch_size is not None:
        hyper["batch_size"] = horizon_integer(coupled.batch_size, key.horizon, "coupled batch size")
    return load_algorithm(coupled.algorithm)(**hyper)


def schedule(expr: sp.Expr, values: Mapping[str, Tensor], like: Tensor, horizon: int) -> Callable[[int], Tensor]:
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
