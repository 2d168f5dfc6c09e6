"""Parallel checks on Dask give exactly the serial verdicts and evidence (theorems/frontends/sweep.py)."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import sympy as sp
from dask.distributed import LocalCluster

from theorems.catalog import CATALOG
from theorems.frontends.cli import main
from theorems.engine.profiles import Profile
from theorems.language.spec import Claim, Spec
from theorems.frontends.sweep import _localize_counterexamples, run_checks
from theorems.language.symbols import sum_grad_sq

TINY = Profile("tiny", batch_size=4, replicas=8, rounds=1, horizons=(1, 4), dims=(2,))
SPEC = CATALOG["T5.8"]
BROKEN = Spec(id="X5.8", title="T5.8 with a bound of zero", source=SPEC.source, assumptions=SPEC.assumptions,
              settings=SPEC.settings,
              claims=(Claim("zero", "sure", sum_grad_sq, sp.Integer(0), "eta-1/H", "no gradient at all (false)"),))


@pytest.fixture(scope="module")
def scheduler():
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None,
                                  silence_logs=logging.CRITICAL) as cluster:
        yield cluster.scheduler_address


def _fingerprint(results):
    return [(r.spec.id, c.name, c.verdict, c.instances, None if c.worst is None else c.worst.tightness,
             None if c.worst is None else (c.worst.key, c.worst.instance), c.rate_curve)
            for r in results for c in r.claims]


def test_distributed_run_equals_the_serial_run(scheduler, tmp_path) -> None:
    kwargs = dict(profile=TINY, families=["quadratic-sc", "pseudo-huber"], counterexample_dir=tmp_path)
    specs = [SPEC, CATALOG["T2.4"], BROKEN]
    finished = []
    parallel = run_checks(specs, scheduler=scheduler, on_result=lambda i, r: finished.append((i, r.spec.id)), **kwargs)
    serial = run_checks(specs, **kwargs)
    assert [r.spec.id for r in parallel] == ["T5.8", "T2.4", "X5.8"]
    assert sorted(i for i, _ in finished) == [1, 2, 3] and {s for _, s in finished} == {"T5.8", "T2.4", "X5.8"}
    assert _fingerprint(parallel) == _fingerprint(serial)
    assert parallel[-1].claims[0].verdict == "violated"


def test_counterexamples_of_remote_workers_are_written_here(tmp_path) -> None:
    kwargs = dict(profile=TINY, families=["quadratic-sc"], counterexample_dir=tmp_path)
    result = run_checks([BROKEN], **kwargs)[0]
    path = Path(result.claims[0].counterexample)
    content = path.read_text()
    path.unlink()  # as if the file had been written on another machine
    _localize_counterexamples(result, kwargs)
    assert Path(result.claims[0].counterexample).read_text() == content


def test_cli_rejects_a_malformed_scheduler(capsys) -> None:
    assert main(["check", "T5.8", "--scheduler", "nowhere", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown scheduler 'nowhere'" in err


def test_worker_processes_give_the_serial_json(tmp_path) -> None:
    """Issue 14, item 4: results spread over local processes (the CLI's default, --jobs = cores)
    give the JSON of a serial run, counterexamples included, in the order asked for."""
    kwargs = dict(profile=TINY, families=["quadratic-sc", "pseudo-huber"])
    specs = [SPEC, CATALOG["T2.4"], BROKEN]
    finished = []

    def documents(results, folder):
        text = json.dumps([{k: v for k, v in r.as_dict().items() if k != "seconds"} for r in results])
        return json.loads(text.replace(str(folder), "FOLDER"))

    parallel = run_checks(specs, jobs=2, on_result=lambda i, r: finished.append(i),
                          counterexample_dir=tmp_path / "a", **kwargs)
    serial = run_checks(specs, counterexample_dir=tmp_path / "b", **kwargs)
    assert sorted(finished) == [1, 2, 3]
    assert documents(parallel, tmp_path / "a") == documents(serial, tmp_path / "b")
    assert parallel[-1].claims[0].verdict == "violated"
    assert [p.read_text() for p in sorted((tmp_path / "a").iterdir())] == \
        [p.read_text() for p in sorted((tmp_path / "b").iterdir())]
