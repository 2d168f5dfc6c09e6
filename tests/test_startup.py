"""``theorycheck --help`` and ``list`` start fast (issue 14, item 5): nothing heavy is imported or
computed at import. Checked through ``sys.modules`` in fresh interpreters, not through timings."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "sympy", "scipy", "matplotlib", "dask", "hypothesis")


def _fresh(code: str) -> str:
    """stdout of ``code`` run in a fresh interpreter from the repository root."""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": ""})
    return done.stdout.strip()


def _imported(code: str) -> set[str]:
    out = _fresh(code + f"\nimport sys; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    return set(out.split())


def test_importing_the_cli_imports_nothing_heavy() -> None:
    assert _imported("import theorems, theorems.frontends.cli") == set()


def test_help_imports_nothing_heavy() -> None:
    """``theorycheck --help`` (``check --help`` lists the problem families, so it imports them)."""
    code = ("import contextlib, io\nfrom theorems.frontends.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n    main(['--help'])")
    assert _imported(code) == set()


def test_list_imports_neither_torch_nor_the_checker_nor_plots_nor_dask() -> None:
    code = "import contextlib, io\nfrom theorems.frontends.cli import main\nwith contextlib.redirect_stdout(io.StringIO()):\n    main(['list'])"
    assert _imported(code) & {"torch", "scipy", "matplotlib", "dask", "hypothesis"} == set()
    assert _fresh(code + "\nimport sys; print('theorems.engine.checker' in sys.modules)") == "False"


def test_the_catalog_integrates_nothing_at_import() -> None:
    """The proof steps that integrate (P3.1, S8.2, T3.2, P25.3, L25.4, L25.5) do so when verified."""
    code = ("import sympy\n"
            "def refuse(*a, **k):\n    raise AssertionError('sympy.integrate at import')\n"
            "real, sympy.integrate = sympy.integrate, refuse\n"
            "from theorems.catalog import CATALOG\n"
            "sympy.integrate = real\n"
            "lazy = [s for spec in CATALOG.values() for s in spec.proof_steps if callable(s.lhs) and not isinstance(s.lhs, sympy.Basic)]\n"
            "print(len(lazy), all(s.verify() for s in lazy))")
    count, verified = _fresh(code).split()
    assert int(count) >= 3 and verified == "True"   # P3.1, S8.2, T3.2, and the later sections' lazy steps


def test_the_package_api_is_unchanged() -> None:
    import theorems
    from theorems.engine.checker import check
    from theorems.language.spec import Spec
    assert theorems.check is check and theorems.Spec is Spec
    assert set(theorems.__all__) >= {"CATALOG", "check", "lookup", "register", "Spec", "Claim", "ProofStep"}
    with pytest.raises(AttributeError):
        theorems.no_such_name
