"""Throughput of the batched engine against a naive numpy loop and a hand-written torch loop
(issue 14, item 1): gradient descent on ``quadratic-sc`` with eta = 1/H.

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/throughput_bench.py [--device cuda]
        [--workload large|small|both] [--horizon 1000] [--repeats 3] [--numpy-instances 64]
        [--clock wall|cpu] [--chunk 32]

Workloads: large (B = 4096, d = 64) and small (B = 32, d = 8), T = 1000 steps by default. For
each, the runners are timed interleaved (``--repeats`` rounds, each runner once per round) and
the median is kept; ``--clock cpu`` times the process's CPU time instead of the wall clock, which
is steadier on a machine shared with other jobs (on a GPU only the wall clock means anything).
The runners: ``algorithms.run`` recording every trace field; ``run`` recording the loss only
(``record=``); the chunked runner (``run_in_chunks``, ``--chunk`` instances a chunk, 32 by
default: the fastest of 16..256 measured on a 1 MiB-L2 CPU); a naive
per-instance numpy loop ``for t: w -= eta*(A@w - b)`` (on the first ``--numpy-instances``
instances: its cost per instance-step does not depend on B); and a hand-written batched torch
loop over 32 instances at a time (so each chunk's matrices stay in cache), one ``baddbmm`` (the
iterates as rows, 4x faster on CPU than as columns) and one in-place ``addcmul_`` per step.
The table gives µs per (instance x step), GFLOP/s counting the 2 d^2 flops of the one
matrix-vector product a step needs, the ratio to the hand loop and the speed-up over numpy, and
the torch calls per step on the small workload (counted with a TorchFunctionMode in a separate
run of 50 steps). Runners the engine does not have yet are shown as ``n/a``.

Measured (2-core AMD EPYC shared with other jobs, 1 thread, ``--repeats 3 --clock cpu``; µs per
instance-step, in brackets the ratio to the hand loop timed alongside):

    workload  runner              before (f54bd7a)   after
    large     run (all fields)    15.16 (15.2x)      6.41 (6.2x)
    large     run (record=loss)   n/a                5.74 (5.5x)
    large     run_in_chunks (32)  n/a                1.60 (1.54x); numpy loop 2.39, hand loop 1.04
    small     run (all fields)    5.14 (18.1x)       0.465 (2.85x)
    small     run (record=loss)   n/a                0.420 (2.58x); numpy loop 2.26, hand loop 0.163
    small     torch calls / step  29.8               5.1 (T = 1000; the hand loop: 2)

Issue 14's targets are not all met: the chunked run is 1.54x the hand loop (target 1.25x) and
1.5x faster than numpy (target 2.5x; on this CPU the hand loop itself is only 2.3x faster than
numpy), and the small workload is 6.3x faster relative to the hand loop (target 10x): a GD step
through the protocol costs four torch calls (w - w*, the Hessian product, eta g, w - eta g)
where the hand loop fuses two, plus the measurement of every iterate.
"""
from __future__ import annotations

import argparse
import inspect
import statistics
import time
from dataclasses import dataclass
from typing import Callable

import torch
from torch.overrides import TorchFunctionMode

import algorithms
from algorithms import GD, run
from problems import FAMILIES, Exact

FAMILY = "quadratic-sc"
WORKLOADS = {"large": (4096, 64), "small": (32, 8)}
HAND_CHUNK = 32


@dataclass
class Workload:
    """One batch of quadratics with the dense matrices the hand-written loops use."""

    params: dict
    A: torch.Tensor          # (B, d, d) Hessians
    b: torch.Tensor          # (B, d) with grad L(w) = A w - b
    eta: torch.Tensor        # (B,) = 1 / H
    horizon: int

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.params["w1"].shape)


def make_workload(batch: int, dim: int, horizon: int, device: str) -> Workload:
    """The workload's batch (seed 0) and its dense form A = Q diag(lam) Q^T, b = A w*."""
    family = FAMILIES[FAMILY]
    params = family.draw(batch, dim, torch.Generator(device=device).manual_seed(0), device)
    problem = family.build(params)
    Q, lam = params["Q"], params["lam"]
    A = Q @ torch.diag_embed(lam) @ Q.transpose(-1, -2)
    A = (A + A.transpose(-1, -2)) / 2
    b = (A @ problem.w_star[..., None])[..., 0]
    return Workload(params, A, b, 1.0 / problem.constants["H"], horizon)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def project_run(work: Workload, record: tuple[str, ...] | None = None) -> Callable[[], object]:
    """``algorithms.run`` on the whole batch (``record``: the fields to record, None for all)."""
    problem = FAMILIES[FAMILY].build(work.params)
    oracle = Exact().bind(problem, torch.Generator(device=work.A.device).manual_seed(1))
    algorithm = GD(work.eta[:, None, None])
    kwargs = {} if record is None else {"record": record}
    return lambda: run(algorithm, problem, oracle, work.horizon, **kwargs)


def chunked_run(work: Workload, chunk: int = 32) -> Callable[[], object] | None:
    """The engine's chunked runner, ``chunk`` instances at a time (None when it has none)."""
    run_in_chunks = getattr(algorithms, "run_in_chunks", None)
    if run_in_chunks is None:
        return None
    family = FAMILIES[FAMILY]

    def make(part: slice):
        problem = family.build({k: v[part] for k, v in work.params.items()})
        oracle = Exact().bind(problem, torch.Generator(device=work.A.device).manual_seed(1))
        return GD(work.eta[part, None, None]), problem, oracle

    B = work.shape[0]
    return lambda: run_in_chunks(make, B, work.horizon, chunk=chunk, record=("loss",))


def numpy_loop(work: Workload, instances: int) -> Callable[[], object]:
    """The naive loop ``w -= eta*(A@w - b)``, one instance after the other."""
    A = work.A[:instances].cpu().numpy()
    b = work.b[:instances].cpu().numpy()
    w1 = work.params["w1"][:instances].cpu().numpy()
    eta = work.eta[:instances].cpu().numpy()

    def go() -> list:
        out = []
        for i in range(A.shape[0]):
            Ai, bi, e, w = A[i], b[i], float(eta[i]), w1[i].copy()
            for _ in range(work.horizon):
                w -= e * (Ai @ w - bi)
            out.append(w)
        return out

    return go


def hand_loop(work: Workload) -> Callable[[], object]:
    """The best batched torch loop found: 32 instances at a time, g = w A - b (iterates as rows)
    by one baddbmm into a preallocated buffer and w -= eta g in place."""
    B, d = work.shape

    def go() -> torch.Tensor:
        out = torch.empty(B, d, dtype=work.A.dtype, device=work.A.device)
        for start in range(0, B, HAND_CHUNK):
            part = slice(start, start + HAND_CHUNK)
            A, minus_b = work.A[part].contiguous(), -work.b[part, None, :]
            neg_eta = -work.eta[part, None, None]
            w = work.params["w1"][part, None, :].clone()
            g = torch.empty_like(w)
            for _ in range(work.horizon):
                torch.baddbmm(minus_b, w, A, out=g)  # rows: w A - b = (A w - b)^T, A symmetric
                w.addcmul_(neg_eta, g)
            out[part] = w[:, 0]
        return out

    return go


class _CountCalls(TorchFunctionMode):
    """Counts the torch functions and tensor methods called while it is active (not attribute
    reads such as ``w.shape`` or ``w._version``, which run no kernel)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls += getattr(func, "__name__", "") != "__get__"  # attribute reads (w.shape) are not calls
        return func(*args, **(kwargs or {}))


def calls_per_step(go: Callable[[], object], horizon: int) -> float:
    with _CountCalls() as counter:
        go()
    return counter.calls / horizon


def measure(name: str, work: Workload, repeats: int, numpy_instances: int, device: str, clock: str = "wall",
            chunk: int = 32) -> None:
    """Time every runner interleaved and print the workload's table."""
    B, d = work.shape
    T = work.horizon
    n_np = min(numpy_instances, B)
    runners: dict[str, tuple[Callable[[], object] | None, int]] = {
        "run (all fields)": (project_run(work), B),
        "run (record=loss)": (project_run(work, ("loss",))
                              if "record" in inspect.signature(run).parameters else None, B),
        f"run_in_chunks ({chunk})": (chunked_run(work, chunk), B),
        f"numpy loop ({n_np} inst.)": (numpy_loop(work, n_np) if device == "cpu" else None, n_np),
        "hand torch loop (32/chunk)": (hand_loop(work), B),
    }
    times: dict[str, list[float]] = {k: [] for k, (go, _) in runners.items() if go is not None}
    for _ in range(repeats):
        for label in times:
            go, n = runners[label]
            now = time.process_time if clock == "cpu" else time.perf_counter
            _sync(device)
            start = now()
            go()
            _sync(device)
            times[label].append((now() - start) / (n * T) * 1e6)
    small = make_workload(B, d, min(T, 50), device) if B * d * d <= 32 * 64 else None
    counted = {}
    if small is not None:
        counted = {"run (all fields)": project_run(small)}
        if "record" in inspect.signature(run).parameters:
            counted["run (record=loss)"] = project_run(small, ("loss",))
        counted["hand torch loop (32/chunk)"] = hand_loop(small)
    per = {k: statistics.median(v) for k, v in times.items()}
    hand = per["hand torch loop (32/chunk)"]
    numpy_time = next((v for k, v in per.items() if k.startswith("numpy")), None)
    flop = 2 * d * d
    print(f"\n{name}: {FAMILY}, B={B}, d={d}, T={T}, {repeats} interleaved repeats (medians), "
          f"device={device}, threads={torch.get_num_threads()}, {clock} clock")
    print(f"{'runner':<28} {'us/(inst*step)':>15} {'GFLOP/s':>8} {'x hand':>7} {'numpy/x':>8} {'calls/step':>10}")
    for label, (go, _) in runners.items():
        if label not in per:
            print(f"{label:<28} {'n/a':>15}")
            continue
        us = per[label]
        speed = f"{numpy_time / us:8.2f}" if numpy_time else f"{'-':>8}"
        calls = f"{calls_per_step(counted[label], small.horizon):10.1f}" if label in counted else f"{'-':>10}"
        print(f"{label:<28} {us:15.4f} {flop / us / 1e3:8.3f} {us / hand:7.2f} {speed} {calls}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workload", choices=("large", "small", "both"), default="both")
    parser.add_argument("--horizon", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--numpy-instances", type=int, default=64)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--chunk", type=int, default=32, help="instances per chunk of run_in_chunks")
    args = parser.parse_args()
    names = ("large", "small") if args.workload == "both" else (args.workload,)
    with torch.no_grad():
        for name in names:
            B, d = WORKLOADS[name]
            measure(name, make_workload(B, d, args.horizon, args.device), args.repeats, args.numpy_instances,
                    args.device, args.clock, args.chunk)


if __name__ == "__main__":
    main()
