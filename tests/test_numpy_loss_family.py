"""Bring your own loss (problems/numpy_loss.py, examples/numpy_loss_families.py): the constants
of a family built from a numpy loss hold by independent means (torch Hessians and gradients,
scipy solves), wrong certificates are caught, estimated constants are never admissible, and
THEORYCHECK_FAMILIES brings the families to the command line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import optimize

import problems
from problems import FAMILIES, CertificateError, Certified, Estimated, from_numpy_loss, register, user_family_modules
from theorems.catalog import lookup
from theorems.frontends.cli import main
from theorems.engine.plan import admissible, provided_constants

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def restored_families():
    """FAMILIES and the example module as they were, after a test that registers families."""
    saved = dict(FAMILIES)
    sys.modules.pop("examples.numpy_loss_families", None)
    yield
    FAMILIES.clear()
    FAMILIES.update(saved)
    sys.modules.pop("examples.numpy_loss_families", None)
    provided_constants.cache_clear()


@pytest.fixture
def examples(restored_families):
    """The example module, freshly imported (its import registers its families)."""
    import examples.numpy_loss_families as module
    return module


def torch_cauchy(w: torch.Tensor, A: torch.Tensor, b: torch.Tensor, c: float) -> torch.Tensor:
    r = A @ w - b
    return (c ** 2 / 2 * torch.log1p((r / c) ** 2)).mean()


def torch_logcosh(w: torch.Tensor, A: torch.Tensor, b: torch.Tensor, lam: float) -> torch.Tensor:
    r = A @ w - b
    return (torch.logaddexp(r, -r) - np.log(2.0)).mean() + lam / 2 * (w * w).sum()


def instance(problem, b: int) -> dict:
    return {k: (torch.tensor(v, dtype=torch.float64) if isinstance(v, list) else v)
            for k, v in problem.describe(b).items()}


def probe_points(problem, b: int, rng: np.random.Generator) -> list[torch.Tensor]:
    """w1, w* and random points at several scales around them (not the family's own samples)."""
    d = problem.dim
    centre = problem.w_star[b] if problem.w_star is not None else torch.zeros(d, dtype=torch.float64)
    points = [problem.w1[b], centre]
    for scale in (1e-3, 0.1, 1.0, 10.0, 100.0):
        points += [centre + scale * torch.tensor(rng.standard_normal(d)) for _ in range(3)]
    return points


@pytest.mark.parametrize("dim", [1, 2, 5])
def test_cauchy_H_and_G_hold_against_dense_torch_hessians_and_gradients(examples, dim: int) -> None:
    problem = examples.CAUCHY_REGRESSION.sample(8, dim, torch.Generator().manual_seed(dim))
    H, G = problem.constants["H"], problem.constants["G"]
    rng = np.random.default_rng(dim)
    for b in range(8):
        data = instance(problem, b)
        f = lambda u: torch_cauchy(u, data["A"], data["b"], data["c"])  # noqa: E731
        for point in probe_points(problem, b, rng):
            eig = torch.linalg.eigvalsh(torch.autograd.functional.hessian(f, point))
            assert eig.abs().max() <= H[b] * (1 + 1e-12)
            g = torch.func.grad(f)(point)
            assert torch.linalg.vector_norm(g) <= G[b] * (1 + 1e-12)
        at_star = torch.linalg.eigvalsh(torch.autograd.functional.hessian(f, problem.w_star[b]))
        assert at_star.max() == pytest.approx(float(H[b]), rel=1e-9)  # H is attained at w*: exact


def test_cauchy_w_star_and_Lstar_against_scipy(examples) -> None:
    problem = examples.CAUCHY_REGRESSION.sample(6, 3, torch.Generator().manual_seed(7))
    assert torch.equal(problem.constants["Lstar"], torch.zeros(6, dtype=torch.float64))
    for b in range(6):
        data = instance(problem, b)
        f = lambda u: float(torch_cauchy(torch.tensor(u), data["A"], data["b"], data["c"]))  # noqa: E731
        start = problem.w_star[b].numpy() + 1e-2 * np.random.default_rng(b).standard_normal(3)
        found = optimize.minimize(f, start, method="Nelder-Mead", options={"xatol": 1e-12, "fatol": 1e-30,
                                                                           "maxiter": 20000}).x
        assert np.linalg.norm(found - problem.w_star[b].numpy()) < 1e-6
        assert f(problem.w_star[b].numpy()) <= 1e-25
        assert problem.constants["D"][b] == pytest.approx(float(torch.linalg.vector_norm(problem.w1[b] - problem.w_star[b])))
        assert problem.constants["Delta"][b] == pytest.approx(f(problem.w1[b].numpy()), rel=1e-12)


def test_strongly_convex_solve_matches_scipy_within_its_certificate(examples) -> None:
    problem = examples.LOGCOSH_RIDGE.sample(8, 4, torch.Generator().manual_seed(3))
    error, mu, H = (problem.constants[k] for k in ("w_star_error", "mu", "H"))
    assert {"cvx", "sc", "smooth", "minimizer", "lb"} <= problem.classes
    for b in range(8):
        data = instance(problem, b)

        def f(u: np.ndarray) -> float:
            return float(torch_logcosh(torch.tensor(u), data["A"], data["b"], data["lam"]))

        def grad(u: np.ndarray) -> np.ndarray:
            return torch.func.grad(torch_logcosh)(torch.tensor(u), data["A"], data["b"], data["lam"]).numpy()

        found = optimize.minimize(f, np.zeros(4), jac=grad, method="BFGS", options={"gtol": 1e-11}).x
        g_found = np.linalg.norm(grad(found))
        # both points are within their own certified distance of the unique minimiser
        assert np.linalg.norm(found - problem.w_star[b].numpy()) <= float(error[b]) + g_found / float(mu[b]) + 1e-12
        assert error[b] < 1e-8
        assert problem.constants["Lstar"][b] <= f(found) + 1e-15
        assert problem.constants["Lstar"][b] >= f(found) - g_found ** 2 / (2 * float(mu[b])) - 1e-12
        assert problem.constants["Delta"][b] == pytest.approx(f(problem.w1[b].numpy()) - f(found), rel=1e-9)
        assert problem.constants["D"][b] >= np.linalg.norm(problem.w1[b].numpy() - found) - g_found / float(mu[b])
        eig = torch.linalg.eigvalsh(torch.autograd.functional.hessian(
            lambda u: torch_logcosh(u, data["A"], data["b"], data["lam"]), torch.tensor(found)))
        assert mu[b] * (1 - 1e-12) <= eig.min() and eig.max() <= H[b] * (1 + 1e-12)


def test_gradients_and_hvps_from_autodiff_match_torch(examples) -> None:
    problem = examples.CAUCHY_REGRESSION.sample(4, 3, torch.Generator().manual_seed(11))
    rng = np.random.default_rng(0)
    w, v = torch.tensor(rng.standard_normal((4, 5, 3))), torch.tensor(rng.standard_normal((4, 5, 3)))
    for b in range(4):
        data = instance(problem, b)
        f = lambda u: torch_cauchy(u, data["A"], data["b"], data["c"])  # noqa: E731
        for r in range(5):
            g = torch.func.grad(f)(w[b, r])
            hv = torch.func.jvp(torch.func.grad(f), (w[b, r],), (v[b, r],))[1]
            torch.testing.assert_close(problem.grad(w)[b, r], g, rtol=1e-10, atol=1e-13)
            torch.testing.assert_close(problem.hvp(w, v)[b, r], hv, rtol=1e-10, atol=1e-13)
            torch.testing.assert_close(problem.loss(w)[b, r], f(w[b, r]), rtol=1e-12, atol=1e-15)


def test_estimated_constants_are_labelled_and_never_admissible(examples) -> None:
    family = examples.TANH_NETWORK
    problem = family.sample(4, 3, torch.Generator().manual_seed(0))
    assert family.classes == frozenset({"lb"}) and not {"H", "G", "Lstar", "D"} & set(problem.constants)
    assert "estimated, not certified" in family.certificates["H"] and "not applicable" in family.certificates["H"]
    T5_8 = lookup("T5.8")
    assert not any(admissible(T5_8, s, "tanh-network", "exact") for s in T5_8.settings)
    assert all(admissible(T5_8, s, "cauchy-regression", "exact") for s in T5_8.settings)
    info = problem.describe(0)
    assert info["H_estimated"] > 0 and info["G_estimated"] > 0
    assert problem.constants["Delta"][0] >= 0


def cauchy_with(examples, **changes):
    """The Cauchy family with some certificates replaced."""
    kwargs = dict(H=Certified(examples.cauchy_H, "proof"), G=Certified(examples.cauchy_G, "proof"),
                  lower_bound=Certified(0.0, "proof"), minimizer=lambda data: data["w_true"])
    kwargs.update(changes)
    return from_numpy_loss("cauchy-test", lambda w, A, b, c, w_true: examples.cauchy_loss(w, A, b, c),
                           examples.cauchy_data, **kwargs)


@pytest.mark.parametrize("change, fragment", [
    ({"H": Certified(lambda data: 0.5 * np.linalg.norm(data["A"], ord=2, axis=(-2, -1)) ** 2 / data["A"].shape[1],
                     "too small")}, "certified H"),
    ({"G": Certified(lambda data: data["c"] / 100, "too small")}, "certified G"),
    ({"lower_bound": Certified(1e-3, "too high")}, "lower bound"),
    ({"convex": "Cauchy is not convex"}, "convexity"),
    ({"minimizer": lambda data: data["w_true"] + 0.1}, "not certified"),
    ({"H": Certified(float("nan"), "nonsense")}, "not finite"),
])
def test_wrong_certificates_are_caught_on_samples(examples, change, fragment) -> None:
    family = cauchy_with(examples, **change)
    with pytest.raises(CertificateError) as caught:
        family.sample(16, 3, torch.Generator().manual_seed(5))
    message = str(caught.value)
    assert "\n" not in message and "cauchy-test" in message and fragment in message, message


def test_an_unchecked_proof_is_trusted_and_says_so(examples) -> None:
    family = examples.cauchy_regression(0.1, checked=False, name="cauchy-unchecked")
    family.sample(8, 2, torch.Generator().manual_seed(0))  # no sample check: no error
    assert "NOT checked on samples" in family.certificates["H"]


def test_loss_of_the_wrong_shape_is_a_clear_error(examples) -> None:
    family = from_numpy_loss("flat", lambda w, x: (w * w).sum(), lambda rng, B, d: {"x": np.zeros((B, 1))})
    with pytest.raises(ValueError, match="must return one value per point"):
        family.sample(2, 2, torch.Generator().manual_seed(0))


def test_register_refuses_clashes_and_non_families(examples) -> None:
    assert register(examples.CAUCHY_REGRESSION) is examples.CAUCHY_REGRESSION  # the same object again is fine
    with pytest.raises(ValueError, match="already registered"):
        register(examples.cauchy_regression())
    with pytest.raises(ValueError, match="already registered"):
        register(from_numpy_loss("quadratic-sc", examples.cauchy_loss, examples.cauchy_data))
    with pytest.raises(TypeError, match="must have sample"):
        register(type("NotAFamily", (), {"name": "x", "classes": frozenset({"no-such-class"}), "sample": None})())
    assert user_family_modules({}) == []
    assert user_family_modules({"THEORYCHECK_FAMILIES": " a.b , c ,"}) == ["a.b", "c"]
    assert problems.FAMILIES_ENV == "THEORYCHECK_FAMILIES"


def run_cli(args: list[str], families: str | None, extra_path: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "THEORYCHECK_FAMILIES"}
    env["OMP_NUM_THREADS"] = "1"
    if families is not None:
        env["THEORYCHECK_FAMILIES"] = families
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(extra_path), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "theorems", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


def test_cli_checks_T5_8_on_the_certified_family_and_states_its_certificates(tmp_path) -> None:
    done = run_cli(["check", "T5.8", "--family", "cauchy-regression", "--quiet", "--counterexamples", str(tmp_path)],
                   "examples.numpy_loss_families")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("holds") == 2 and "cauchy-regression/exact" in done.stdout
    assert "certificate of cauchy-regression: H certified: |phi''| <= 1" in done.stdout
    assert "certificate of cauchy-regression: w* certified" in done.stdout


def test_cli_imports_user_families_only_when_the_variable_names_them(monkeypatch, capsys) -> None:
    monkeypatch.delenv("THEORYCHECK_FAMILIES", raising=False)
    assert main(["check", "T5.8", "--family", "cauchy-regression", "--quiet"]) == 2
    assert "invalid choice: 'cauchy-regression'" in capsys.readouterr().err
    monkeypatch.setenv("THEORYCHECK_FAMILIES", "no_such_module_here")
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot import module 'no_such_module_here'" in err


def test_cli_catches_a_too_small_H(tmp_path) -> None:
    module = tmp_path / "wrong_h_families.py"
    module.write_text("from problems import register\n"
                      "from examples.numpy_loss_families import cauchy_regression\n"
                      "register(cauchy_regression(0.1, name='cauchy-wrong-h'))\n"
                      "register(cauchy_regression(0.1, checked=False, name='cauchy-wrong-h-unchecked'))\n")
    families = "examples.numpy_loss_families,wrong_h_families"
    checked = run_cli(["check", "T5.8", "--family", "cauchy-wrong-h", "--quiet"], families, tmp_path)
    assert checked.returncode == 2 and checked.stderr.count("\n") == 1, checked.stderr
    assert "certified H" in checked.stderr and "is contradicted" in checked.stderr
    trusted = run_cli(["check", "T5.8", "--family", "cauchy-wrong-h-unchecked", "--format", "json", "--quiet",
                       "--counterexamples", str(tmp_path / "ce")], families, tmp_path)
    assert trusted.returncode == 1, trusted.stderr
    document = json.loads(trusted.stdout)
    assert {c["verdict"] for c in document["claims"]} == {"violated"}
    assert any("NOT checked on samples" in line for line in document["certificates"])


def test_report_states_the_certificates(tmp_path) -> None:
    done = run_cli(["report", "T5.8", "--family", "cauchy-regression", "--quiet", "--out", str(tmp_path),
                    "--format", "json", "--format", "md"], "examples.numpy_loss_families")
    assert done.returncode == 0, done.stderr
    (document,) = json.loads((tmp_path / "report.json").read_text())
    assert any(line.startswith("cauchy-regression: H certified") for line in document["certificates"])
    assert "Certificates of the user families: cauchy-regression: H certified" in (tmp_path / "report.md").read_text()


def test_check_says_why_an_estimated_family_is_not_applicable(examples, monkeypatch, capsys) -> None:
    monkeypatch.delenv("THEORYCHECK_FAMILIES", raising=False)
    assert main(["check", "T5.8", "--family", "tanh-network", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.count("not-applicable") == 2 and "no admissible family" in out
    assert "certificate of tanh-network: H estimated, not certified" in out and "not applicable to this family" in out


def test_scheduler_with_user_families_is_refused_not_silently_not_applicable(restored_families, monkeypatch,
                                                                             capsys) -> None:
    monkeypatch.setenv("THEORYCHECK_FAMILIES", "examples.numpy_loss_families")
    assert main(["check", "T5.8", "--family", "cauchy-regression", "--scheduler", "local:1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "do not reach Dask workers" in err
