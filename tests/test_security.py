"""Text from a user or a file is data, never code (issue 15): hyper-parameter expressions are
parsed from a whitelist, a replay file imports nothing unless the user allows it, and a replay
judges with the checker's own tolerance and refuses a file that does not reproduce."""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
import sympy as sp

from theorems.engine.checker import check
from theorems.frontends.cli import main
from theorems.engine.counterexample import load_counterexample, replay
from theorems.language.expressions import ExpressionError, parse_expression
from theorems.language.spec import Claim, Setting, Source, Spec
from theorems.language.symbols import Delta, H, L1, Lstar, sum_grad_sq


def payload(target: Path) -> str:
    """The issue's payload: it runs a shell command wherever Python evaluates the text."""
    return f'sqrt.__globals__["__builtins__"]["__import__"]("os").system("touch {target}")'


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("theorycheck: error:") and "Traceback" not in err, err
    return err


def test_hyper_payload_is_a_one_line_error_and_runs_nothing(tmp_path, capsys) -> None:
    target = tmp_path / "pwned"
    assert main(["check", "T5.8", "--hyper", f"eta={payload(target)}", "--quiet",
                 "--counterexamples", str(tmp_path)]) == 2
    assert "is not allowed" in one_line_error(capsys)
    assert not target.exists()


def test_replay_file_hyper_payload_is_refused_and_runs_nothing(tmp_path, capsys) -> None:
    target = tmp_path / "pwned"
    document = _document(hyper={"eta": payload(target)})
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(document))
    assert main(["replay", str(path)]) == 2
    one_line_error(capsys)
    assert not target.exists()


def test_replay_imports_a_named_module_only_when_allowed(tmp_path, capsys, monkeypatch) -> None:
    target = tmp_path / "imported"
    (tmp_path / "evil_module.py").write_text(f"open({str(target)!r}, 'w').close()\ndef factory(eta): raise SystemExit\n")
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(_document(algorithm="evil_module:factory")))
    assert main(["replay", str(path)]) == 2
    assert "--allow-import" in one_line_error(capsys)
    assert not target.exists()


def test_a_power_too_large_to_compute_is_refused_quickly(tmp_path, capsys) -> None:
    started = time.perf_counter()
    assert main(["check", "T5.8", "--hyper", "eta=10**10**10", "--quiet", "--counterexamples", str(tmp_path)]) == 2
    assert "digits" in one_line_error(capsys) and time.perf_counter() - started < 60


@pytest.mark.parametrize("text", ["__import__('os')", "H.__class__", "(lambda: 1)()", "[H][0]", "'a'", "H if H else 1",
                                  "log(H, base=2)", "exp(*[H])", "2**(1/2)**(10**9)", "(1/2)**(10**10)", "1e999",
                                  "1/0", "(-8)**(1/3)", "H < 1", "x" * 600])
def test_the_parser_refuses_everything_outside_the_whitelist(text) -> None:
    with pytest.raises(ExpressionError):
        parse_expression(text, ["H", "T"])


def test_the_parser_reads_ordinary_step_sizes() -> None:
    H_, T_ = sp.Symbol("H"), sp.Symbol("T")
    assert parse_expression("1/(3*H)", ["H"]) == 1 / (3 * H_)
    assert parse_expression("min(1/H, 1/sqrt(T))", ["H", "T"]) == sp.Min(1 / H_, 1 / sp.sqrt(T_))
    assert parse_expression("2.5e-1*exp(-T)/H**2", ["H", "T"]) == sp.Float(0.25) * sp.exp(-T_) / H_ ** 2


def _document(hyper: dict | None = None, algorithm: str | None = None) -> dict:
    return {"theorycheck_counterexample": 1, "theorem": "T5.8", "claim": "sum-grad-sq", "instance": 0,
            "measured": 1.0, "bound": 1.0,
            "round": {"spec_id": "T5.8", "setting": "eta-1/H", "family": "quadratic-sc", "oracle": "exact",
                      "seed": 1, "horizon": 4, "dim": 2, "batch_size": 4, "replicas": 1, "device": "cpu",
                      "algorithm": algorithm, "options": {}, "hyper": hyper or {}, "params": {}}}


@pytest.fixture(scope="module")
def diverging_counterexample(tmp_path_factory) -> Path:
    """A real counterexample: gradient descent with eta = 3/H diverges on T5.8's instances."""
    out = tmp_path_factory.mktemp("cx")
    assert main(["check", "T5.8", "--hyper", "eta=3/H", "--quiet", "--format", "json", "--counterexamples",
                 str(out)]) == 1
    return sorted(out.glob("T5.8-sum-grad-sq-*.json"))[0]


def test_replay_ignores_the_file_tolerance(diverging_counterexample, tmp_path, capsys) -> None:
    document = json.loads(diverging_counterexample.read_text())
    document["tolerance"] = {"rtol": 1e300, "atol": 1e300, "level": 1.0}
    path = tmp_path / "loose.json"
    path.write_text(json.dumps(document))
    assert main(["replay", str(path)]) == 1
    assert "violated" in capsys.readouterr().out


@pytest.mark.parametrize("field, value", [("seed", 12345), ("dim", 3)])
def test_an_edited_file_does_not_reproduce_and_says_so(diverging_counterexample, tmp_path, capsys, field, value) -> None:
    document = json.loads(diverging_counterexample.read_text())
    document["round"][field] = value
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(document))
    assert main(["replay", str(path)]) == 2
    assert "does not reproduce" in one_line_error(capsys)


def test_a_nan_bound_is_violated_in_check_and_in_replay(tmp_path) -> None:
    """sqrt of L1 - L* - 2 Delta = -Delta < 0 is NaN: check reports it, and replay agrees."""
    spec = Spec("X9", "nan bound", Source("0", 1), frozenset({"smooth", "lb"}),
                (Setting("s", "GD", hyper={"eta": 1 / H}),),
                (Claim("nan", "sure", sum_grad_sq, sp.sqrt(L1 - Lstar - 2 * Delta), "s", "a NaN bound"),), ())
    result = check(spec, counterexample_dir=tmp_path, families=["quadratic-sc"]).claims[0]
    assert result.verdict == "violated" and math.isnan(result.violation.bound)
    again = replay(load_counterexample(result.counterexample), spec)
    assert again.violated and math.isnan(again.bound)


def test_a_claim_name_with_a_slash_still_gives_one_counterexample_file(tmp_path) -> None:
    """T20.3's claim 'mean-grad-sq-eta-alpha/(8H)': the file name is made of safe characters, so a
    violation of such a claim is written (it crashed with FileNotFoundError) inside the folder."""
    import dataclasses

    import sympy as sp

    from theorems.catalog import CATALOG
    from theorems.engine.checker import check
    spec = CATALOG["T5.8"]
    claim = dataclasses.replace(spec.claim("sum-grad-sq"), name="sum/(grad) sq", bound=sp.Integer(0))
    result = check(dataclasses.replace(spec, claims=(claim,)), families=["quadratic-sc"], counterexample_dir=tmp_path)
    assert result.claims[0].verdict == "violated"
    written = list(tmp_path.iterdir())
    assert len(written) == 1 and written[0].name.startswith("T5.8-sum__grad__sq-") and written[0].is_file()
