"""The theorycheck command: machine-readable output, exit codes and one-line errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from theorems.catalog import CATALOG
from theorems.frontends.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run_cli(args: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """``python -m theorems *args`` from ``cwd``, with this checkout's ``theorems`` (not an installed one)."""
    return subprocess.run([sys.executable, "-m", "theorems", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_list_json_has_the_stable_fields(capsys) -> None:
    assert main(["list", "--format", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["id"] for e in entries] == list(CATALOG)
    for e in entries:
        assert {"id", "title", "source", "claims"} <= set(e)
        assert set(e["source"]) == {"section", "line"} and isinstance(e["source"]["line"], int)
        assert all({"name", "kind"} <= set(c) for c in e["claims"])


def test_check_json_reports_each_claim(capsys, tmp_path) -> None:
    code = main(["check", "13.3", "--format", "json", "--quiet", "--counterexamples", str(tmp_path)])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["id"] == "T13.3"
    assert [c["name"] for c in out["claims"]] == ["sum-suboptimality", "averaged-iterate"]
    for c in out["claims"]:
        assert c["verdict"] == "holds" and c["instances"] > 0 and 0 < c["tightness"] <= 1


@pytest.mark.parametrize("args, fragment", [
    (["check", "T99.9"], "unknown result"),
    (["check", "T5.8", "--algorithm", "no_such_module:thing"], "cannot import module"),
    (["check", "T5.8", "--algorithm", "examples.variants:Missing"], "has no attribute"),
    (["check", "T5.8", "--algorithm", "examples.variants:__doc__"], "not an algorithm factory"),
    (["check", "T5.8", "--algorithm", "math:sqrt"], "cannot be called with the hyper-parameters"),
    (["check", "T5.8", "--algorithm", "notareference"], "is not 'module:object'"),
    (["check", "T5.8", "--profile", "huge"], "invalid choice"),
    (["replay", "does-not-exist.json"], "does not exist"),
    (["frobnicate"], "invalid choice"),
])
def test_usage_errors_exit_2_with_one_line(args, fragment, capsys) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("theorycheck: error:") and fragment in err, err


def test_malformed_replay_files_exit_2(tmp_path, capsys) -> None:
    cases = {"not-json.json": "{oops", "wrong.json": json.dumps({"hello": 1}),
             "bad-round.json": json.dumps({"theorycheck_counterexample": 1, "theorem": "T5.8", "claim": "sum-grad-sq",
                                           "round": {"seed": 1}, "instance": 0}),
             "bad-theorem.json": json.dumps({"theorycheck_counterexample": 1, "theorem": "T0.0", "claim": "x",
                                             "round": {}, "instance": 0})}
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        assert main(["replay", str(path)]) == 2, name
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("theorycheck: error:"), err


def test_broken_gd_is_violated_and_replays_to_the_same_value(tmp_path) -> None:
    result = run_cli(["check", "T5.8", "--algorithm", "examples.variants:TripleStepGD", "--format", "json",
                      "--quiet", "--counterexamples", str(tmp_path)])
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    violated = [c for c in report["claims"] if c["verdict"] == "violated"]
    assert violated
    for claim in violated:
        replay = run_cli(["replay", claim["counterexample"], "--format", "json", "--allow-import"])
        assert replay.returncode == 1, replay.stderr
        replayed = json.loads(replay.stdout)
        assert replayed["violated"] and replayed["measured"] == claim["violation"]["measured"]


def test_torch_optim_sgd_is_checked_like_a_builtin(capsys, tmp_path) -> None:
    assert main(["check", "T21.6", "--algorithm", "torch.optim:SGD", "--quiet", "--format", "json",
                 "--counterexamples", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["claims"][0]["verdict"] == "holds"


def test_non_finite_iterates_are_a_reported_violation_not_a_crash(tmp_path) -> None:
    module = tmp_path / "nan_variant.py"
    module.write_text("import torch\nfrom algorithms import SGD\n"
                      "class NaNAfterTwo(SGD):\n"
                      "    def step(self, w, state, oracle, t):\n"
                      "        w, state = super().step(w, state, oracle, t)\n"
                      "        return (w * float('nan') if t >= 2 else w), state\n")
    result = run_cli(["check", "T5.8", "--algorithm", "nan_variant:NaNAfterTwo", "--format", "json", "--quiet",
                      "--counterexamples", str(tmp_path / "cx")], cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    claims = json.loads(result.stdout)["claims"]
    assert all(c["verdict"] == "violated" and c["violation"]["reason"] == "non-finite value" for c in claims)


def test_an_algorithm_that_raises_is_a_usage_error(tmp_path) -> None:
    module = tmp_path / "raising_variant.py"
    module.write_text("class Raises:\n    def __init__(self, eta):\n        pass\n"
                      "    def init(self, w1):\n        return None\n"
                      "    def step(self, w, state, oracle, t):\n        raise RuntimeError('boom')\n")
    result = run_cli(["check", "T5.8", "--algorithm", "raising_variant:Raises", "--quiet"], cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "raised RuntimeError" in result.stderr and "boom" in result.stderr


def test_report_writes_three_formats(tmp_path) -> None:
    result = run_cli(["report", "--out", str(tmp_path), "--quiet", "--family", "quadratic-sc"])
    assert result.returncode == 0, result.stderr
    for name in ("report.html", "report.md", "report.json", "tightness.png"):
        assert (tmp_path / name).stat().st_size > 0
    checks = json.loads((tmp_path / "report.json").read_text())
    assert [c["id"] for c in checks] == list(CATALOG)
    assert all({"id", "claims"} <= set(c) for c in checks)


def test_report_on_named_results_only(tmp_path) -> None:
    assert main(["report", "T5.8", "2.4", "--out", str(tmp_path), "--quiet", "--format", "json",
                 "--family", "quadratic-sc", "--family", "pseudo-huber"]) == 0
    assert [c["id"] for c in json.loads((tmp_path / "report.json").read_text())] == ["T5.8", "T2.4"]
    assert not (tmp_path / "report.html").exists()


def test_dotted_torch_optimizer_keeps_theorem_3_2(capsys, tmp_path) -> None:
    assert main(["check", "T3.2", "--algorithm", "torch.optim.SGD", "--quiet", "--format", "json",
                 "--counterexamples", str(tmp_path)]) == 0
    assert {c["verdict"] for c in json.loads(capsys.readouterr().out)["claims"]} == {"holds"}


def test_options_reach_the_optimizer_and_heavy_ball_breaks_theorem_5_8(capsys, tmp_path) -> None:
    assert main(["check", "T5.8", "--algorithm", "torch.optim.SGD", "--option", "momentum=0.9", "--quiet",
                 "--format", "json", "--counterexamples", str(tmp_path)]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["options"] == {"momentum": 0.9} and "violated" in {c["verdict"] for c in out["claims"]}


def test_hyper_override_outside_the_theorem_is_caught(capsys, tmp_path) -> None:
    assert main(["check", "T5.8", "--hyper", "eta=2.5/H", "--quiet", "--format", "json",
                 "--counterexamples", str(tmp_path)]) == 1
    claims = json.loads(capsys.readouterr().out)["claims"]
    assert claims[0]["verdict"] == "violated"
    assert main(["check", "T5.8", "--hyper", "lr=1/H", "--quiet"]) == 2
    assert "has no hyper-parameter 'lr'" in capsys.readouterr().err


def test_several_ids_give_a_json_array(capsys, tmp_path) -> None:
    assert main(["check", "L21.8", "21.5", "--quiet", "--format", "json", "--counterexamples", str(tmp_path)]) == 0
    assert [d["id"] for d in json.loads(capsys.readouterr().out)] == ["L21.8", "L21.5"]


def test_load_registers_a_users_own_result(tmp_path) -> None:
    (tmp_path / "my_results.py").write_text(
        "from theorems import Claim, Setting, Source, Spec, register\n"
        "from theorems.language.symbols import H, L_next, L_t, Lstar\n"
        "register(Spec(id='U1', title='GD with eta = 1/H is monotone', source=Source('user', 0),\n"
        "              assumptions=frozenset({'smooth', 'lb'}), settings=(Setting('s', 'GD', hyper={'eta': 1 / H}),),\n"
        "              claims=(Claim('monotone', 'sure', L_next - Lstar, L_t - Lstar, 's', ''),)))\n")
    result = run_cli(["--load", "my_results", "check", "U1", "--format", "json", "--quiet"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["claims"][0]["verdict"] == "holds"


def test_an_algorithm_returning_the_wrong_shape_is_a_usage_error(tmp_path) -> None:
    (tmp_path / "shape_variant.py").write_text(
        "class Flat:\n    def __init__(self, eta):\n        self.eta = eta\n"
        "    def init(self, w1):\n        return None\n"
        "    def step(self, w, state, oracle, t):\n        return w.sum(-1), state\n")
    result = run_cli(["check", "T5.8", "--algorithm", "shape_variant:Flat", "--quiet"], cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "expected" in result.stderr and "(B, R, d)" in result.stderr
