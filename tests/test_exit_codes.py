"""Issue 15, "Exit 1 means a violation, nothing else": every bad input is exit 2 with one line
on stderr (and a JSON object with an ``error`` field under --format json), user code's errors and
exits included; a result that cannot be checked does not stop the others; report output folders
are checked before the run and always hold one complete report."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from theorems.frontends.cli import main

ROOT = Path(__file__).resolve().parents[1]

BAD_VARIANTS = '''
import torch
from algorithms import GD

def scalar_eta(eta):
    return GD(float(eta))

def exits_in_factory(eta):
    raise SystemExit(3)

class ExitsInStep:
    def __init__(self, eta):
        self.eta = eta
    def init(self, w1):
        return None
    def step(self, w, state, oracle, t):
        raise SystemExit(3)

class NoSamples:
    """Stands still: draws no stochastic gradients."""
    def __init__(self, eta, **ignored):
        self.eta = eta
    def init(self, w1):
        return None
    def step(self, w, state, oracle, t):
        return w, state
'''


@pytest.fixture()
def variants(tmp_path, monkeypatch) -> Path:
    (tmp_path / "bad_variants.py").write_text(BAD_VARIANTS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("theorycheck: error:") and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("args, fragment", [
    (["check", "T5.8", "--device", "meta"], "cpu or cuda only"),
    (["check", "T5.8", "--device", "mps"], "MPS"),
    (["check", "T5.8", "--hyper", "eta=1/(H"], "is not an expression"),
    (["check", "T5.8", "--scheduler", "tcp://127.0.0.1:abc"], "unknown scheduler"),
    (["check", "T5.8", "--scheduler", "inproc://x"], "inproc"),
    (["check", "T5.8", "--algorithm", ""], "--algorithm is empty"),
    (["check", "L5.6", "--algorithm", "GD"], "does not apply"),
    (["check", "P2.3", "--hyper", "eta=1/H"], "does not apply"),
    (["check", "T5.8", "--claim", "no-such-claim"], "no such claim"),
    (["check", "T5.8", "--algorithm", "GD", "--variant-setting", "nope"], "--variant-setting nope"),
    (["check", "T5.8", "--algorithm", "torch.optim.SGD", "--option", "lr=1e308"], "--hyper 'eta=EXPR'"),
])
def test_bad_arguments_exit_2_with_one_line(args, fragment, capsys) -> None:
    assert main(args + ["--quiet"]) == 2
    assert fragment in one_line(capsys)


@pytest.mark.parametrize("reference, fragment", [
    ("bad_variants:scalar_eta", "raised ValueError when called with the hyper-parameters"),
    ("bad_variants:exits_in_factory", "raised SystemExit"),
    ("bad_variants:ExitsInStep", "raised SystemExit while running"),
])
def test_user_code_errors_and_exits_are_one_line_exit_2(variants, reference, fragment, capsys) -> None:
    assert main(["check", "T5.8", "--algorithm", reference, "--quiet"]) == 2
    assert fragment in one_line(capsys)


def test_json_errors_are_objects_with_an_error_field(capsys) -> None:
    assert main(["check", "T5.8", "--device", "meta", "--format", "json"]) == 2
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["exit_code"] == 2 and "cpu or cuda" in document["error"]


def test_one_result_that_cannot_run_the_variant_does_not_stop_the_others(variants, capsys) -> None:
    """S8.2's coupled comparison replays the samples of the run under test; a variant that draws
    none is a protocol error there (said as such), while P2.3 (which runs no algorithm, and so
    is checked as written, with a note) is still checked."""
    code = main(["check", "S8.2", "P2.3", "--algorithm", "bad_variants:NoSamples", "--quiet", "--format", "json"])
    captured = capsys.readouterr()
    documents = json.loads(captured.out)
    assert code == 2
    assert documents[0]["id"] == "S8.2" and "must draw" in documents[0]["error"]
    assert documents[1]["id"] == "P2.3" and documents[1]["algorithm"] is None
    assert {c["verdict"] for c in documents[1]["claims"]} == {"holds"}
    assert "S8.2 not checked" in captured.err and "not applied to P2.3" in captured.err


def test_claim_selects_claims_and_the_header_says_where_the_variant_runs(capsys, tmp_path) -> None:
    assert main(["check", "A3", "--claim", "full-epochs-any-order", "--algorithm", "SGD", "--variant-setting",
                 "shuffled", "--quiet", "--counterexamples", str(tmp_path)]) in (0, 1)
    out = capsys.readouterr().out
    assert "full-epochs-any-order" in out and "runs in setting(s) shuffled;" in out
    assert out.count("\n  ") >= 1 and "with-replacement" not in out.split("\n")[1]


@pytest.mark.parametrize("make, fragment", [
    (lambda p: (p / "f").touch() or p / "f", "is an existing file"),
    (lambda p: (p / "f").touch() or p / "f" / "sub", "is a file, not a folder"),
    (lambda p: (p / "d").mkdir() or (p / "d" / "mine.txt").touch() or p / "d", "holds other files"),
])
def test_report_output_is_checked_before_the_run(tmp_path, make, fragment, capsys) -> None:
    started = time.perf_counter()
    assert main(["report", "T5.8", "--out", str(make(tmp_path)), "--quiet"]) == 2
    assert fragment in one_line(capsys)
    assert time.perf_counter() - started < 5  # refused up front, not after the run


def test_counterexample_folder_under_a_file_is_refused(tmp_path, capsys) -> None:
    (tmp_path / "f").touch()
    assert main(["check", "T5.8", "--counterexamples", str(tmp_path / "f"), "--quiet"]) == 2
    assert "is a file, not a folder" in one_line(capsys)


def _cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "theorems", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_list_into_a_closed_pipe_is_one_line_exit_2() -> None:
    producer = _cli("list")
    producer.stdout.close()  # the reader goes away before anything is written, as `| head -0` does
    err = producer.stderr.read()
    assert producer.wait(timeout=120) == 2
    assert "Traceback" not in err and err.count("\n") == 1 and "broken pipe" in err


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_report_leaves_the_previous_report_whole(tmp_path, sig, code) -> None:
    out = tmp_path / "report"
    out.mkdir()
    (out / "report.json").write_text('{"earlier": true}')
    process = _cli("report", "T5.8", "--out", str(out), "--quiet")
    deadline = time.monotonic() + 120
    while not any(p.name.startswith(".report.partial-") for p in tmp_path.iterdir()):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.1)
    os.kill(process.pid, sig)
    _, err = process.communicate(timeout=120)
    assert process.returncode == code and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]
    assert json.loads((out / "report.json").read_text()) == {"earlier": True}


INTEGER_GD = '''
import torch
from algorithms import GD

class IntegerGD:
    """Gradient descent whose iterate is returned as int64 (truncated)."""
    def __init__(self, eta):
        self.inner = GD(eta)
    def init(self, w1):
        return self.inner.init(w1)
    def step(self, w, state, oracle, t):
        w, state = self.inner.step(w, state, oracle, t)
        return w.to(torch.int64), state
'''


def test_an_integer_iterate_is_refused_not_read_as_a_violation(tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / "integer_gd.py").write_text(INTEGER_GD)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["check", "T5.8", "--algorithm", "integer_gd:IntegerGD", "--quiet"]) == 2
    assert "dtype torch.int64" in one_line(capsys)
