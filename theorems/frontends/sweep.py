"""Run the checks of many results, one after the other or in parallel on a Dask cluster
(DESIGN.md, Scale: sweeps are independent shards on an existing distributed engine).

Every check is seeded by (seed, result, setting, family, oracle, horizon, round), never by the
order in which checks run, so the parallel run gives the same verdicts, tightness and evidence
as the serial one. A ``scheduler`` is the address of a running Dask scheduler
(``tcp://host:8786``) or ``local`` / ``local:N`` for a cluster of N worker processes on this
machine (default: one per core). Workers need theorycheck installed, and a user's algorithm or
``--load`` module importable, as on the machine that submits.
"""
from __future__ import annotations

import logging
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from algorithms import ProtocolError
from theorems.engine.checker import CheckResult, check
from theorems.engine.counterexample import write_counterexample
from theorems.engine.loading import AlgorithmLoadError
from theorems.engine.profiles import PROFILES
from theorems.language.spec import Spec, SpecError

#: errors that concern one result (its variant cannot run there, an override does not apply):
#: reported for that result while the others are checked
RESULT_ERRORS = (ProtocolError, AlgorithmLoadError, SpecError)


class CheckError:
    """A result that could not be checked, with the one-line reason (exit 2 unless another
    result has a violation)."""

    violated = False

    def __init__(self, spec: Spec, message: str) -> None:
        self.spec, self.message = spec, message

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.spec.id, "title": self.spec.title, "error": self.message}


def _guarded(spec: Spec, **check_kwargs: Any) -> CheckResult | CheckError:
    try:
        return check(spec, **check_kwargs)
    except RESULT_ERRORS as exc:
        return CheckError(spec, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


class SchedulerError(ValueError):
    """The scheduler address is malformed or Dask is not installed."""


def _start_worker(modules: Sequence[str]) -> None:
    """A worker process: one torch thread (the processes share the cores), and the user's
    ``--load`` and THEORYCHECK_FAMILIES modules imported as in the parent."""
    import torch

    from problems import user_family_modules
    from theorems.engine.loading import load_module

    torch.set_num_threads(1)
    for module in [*user_family_modules(), *modules]:
        load_module(module)


def run_checks(specs: Sequence[Spec], *, scheduler: str | None = None,
               on_result: Callable[[int, CheckResult | CheckError], None] | None = None,
               progress: Callable[[str], None] | None = None, jobs: int = 1, load: Sequence[str] = (),
               **check_kwargs: Any) -> list[CheckResult | CheckError]:
    """``check(spec, **check_kwargs)`` for every spec, in order; ``on_result(i, result)`` is called
    as each finishes (i is 1-based, in completion order when distributed). ``progress`` receives
    per-round messages in a serial run only. A result whose check raises one of ``RESULT_ERRORS``
    gives a ``CheckError`` and the others are still checked. ``jobs`` > 1 spreads the results over
    that many worker processes on this machine (each with one torch thread; ``load`` names modules
    they import first, like ``--load``); the results are the same as a serial run's."""
    if scheduler is None and jobs > 1 and len(specs) > 1:
        return _run_processes(specs, min(jobs, len(specs)), on_result, load, check_kwargs)
    if scheduler is None:
        results: list[CheckResult | CheckError] = []
        for i, spec in enumerate(specs, 1):
            results.append(_guarded(spec, progress=progress, **check_kwargs))
            if on_result is not None:
                on_result(i, results[-1])
        return results
    from dask.distributed import as_completed

    results_by_id: dict[str, CheckResult | CheckError] = {}
    with _client(scheduler) as client:
        futures = [client.submit(_guarded, spec, pure=False, key=f"theorycheck-{spec.id}-{os.getpid()}", **check_kwargs)
                   for spec in specs]
        for done, future in enumerate(as_completed(futures), 1):
            result = future.result()
            if isinstance(result, CheckResult):
                _localize_counterexamples(result, check_kwargs)
            results_by_id[result.spec.id] = result
            if on_result is not None:
                on_result(done, result)
    return [results_by_id[spec.id] for spec in specs]


def _reference(spec: Spec) -> str | Spec:
    """What a worker is sent: a catalog result's id (its spec may hold lazily built proof steps,
    which do not pickle), any other spec itself."""
    from theorems.catalog import CATALOG
    return spec.id if CATALOG.get(spec.id) is spec else spec


def _check_in_worker(reference: str | Spec, **check_kwargs: Any) -> CheckResult | CheckError:
    """``_guarded`` in a worker; the result goes back with ``spec`` replaced by ``reference``."""
    from theorems.catalog import CATALOG
    result = _guarded(CATALOG[reference] if isinstance(reference, str) else reference, **check_kwargs)
    result.spec = reference
    return result


def _resolve(result: CheckResult | CheckError, spec: Spec) -> CheckResult | CheckError:
    result.spec = spec
    return result


def _run_processes(specs: Sequence[Spec], jobs: int,
                   on_result: Callable[[int, CheckResult | CheckError], None] | None,
                   load: Sequence[str], check_kwargs: dict[str, Any]) -> list[CheckResult | CheckError]:
    """The results checked in ``jobs`` fresh (spawned) processes, returned in the order of ``specs``."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    by_index: dict[int, CheckResult | CheckError] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker, initargs=(tuple(load),)) as pool:
        futures = {pool.submit(_check_in_worker, _reference(spec), **check_kwargs): i for i, spec in enumerate(specs)}
        for done, future in enumerate(as_completed(futures), 1):
            by_index[futures[future]] = _resolve(future.result(), specs[futures[future]])
            if on_result is not None:
                on_result(done, by_index[futures[future]])
    return [by_index[i] for i in range(len(specs))]


def _localize_counterexamples(result: CheckResult, check_kwargs: dict[str, Any]) -> None:
    """Write the counterexample files of a remote check on this machine too (the worker wrote
    them on its own disk); the content is a function of the evidence, so the paths agree."""
    directory = check_kwargs.get("counterexample_dir", "counterexamples")
    profile = check_kwargs.get("profile", "quick")
    profile = PROFILES[profile] if isinstance(profile, str) else profile
    for claim in result.claims:
        if claim.violation is None or claim.counterexample is None or Path(claim.counterexample).is_file():
            continue
        claim.counterexample = str(write_counterexample(result.spec, result.spec.claim(claim.name), claim.violation,
                                                        profile, directory))


def validate_scheduler(scheduler: str, command_line: bool = False) -> None:
    """Refuse, before any work, an address that names no reachable scheduler: ``local``,
    ``local:N`` (N >= 1) or ``scheme://host:port`` with a port in 1..65535; from Python also
    ``inproc://...`` (a scheduler in this process), which a command line cannot reach."""
    local = re.fullmatch(r"local(?::(\d+))?", scheduler)
    if local:
        if local.group(1) is not None and int(local.group(1)) < 1:
            raise SchedulerError(f"scheduler {scheduler!r}: needs at least one worker")
        return
    remote = re.fullmatch(r"(tcp|tls|ucx|ws|wss)://([^\s:/]+|\[[0-9a-fA-F:]+\]):(\d+)", scheduler)
    if scheduler.startswith("inproc://") and not command_line:
        return
    if scheduler.startswith("inproc://"):
        raise SchedulerError(f"scheduler {scheduler!r}: an inproc address names a scheduler inside one process, which "
                             "this command cannot reach; use local, local:N or tcp://host:port")
    if remote is None or not 1 <= int(remote.group(3)) <= 65535:
        raise SchedulerError(f"unknown scheduler {scheduler!r}; use local, local:N or an address such as "
                             "tcp://host:8786 (port 1-65535)")


@contextmanager
def _client(scheduler: str) -> Iterator[Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise SchedulerError("--scheduler needs Dask: pip install 'dask[distributed]'") from None
    validate_scheduler(scheduler)
    local = re.fullmatch(r"local(?::(\d+))?", scheduler)
    if local:
        workers = int(local.group(1) or os.cpu_count() or 1)
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.CRITICAL) as cluster, \
                Client(cluster) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=30)
    except (OSError, ValueError, TypeError) as exc:
        raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        yield client
