"""The rooms of ``theorems/`` (issue 14, structure): the spec language, the engine, the front ends
and the catalog depend on each other in one direction only, and no module imports itself back.

The imports are read with ``ast`` (nothing is run to find them); every module is also imported
alone in a fresh process, so that an import that only works after another module is caught."""
from __future__ import annotations

import ast
import multiprocessing
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "theorems"

#: The rooms each room may import from; ``top`` is the package itself, ``__main__`` and the
#: catalog's test module, which may import anything.
ALLOWED = {
    "language": {"language"},
    "engine": {"language", "engine"},
    "catalog": {"language", "catalog"},
    "frontends": {"language", "engine", "catalog", "frontends"},
    "top": {"language", "engine", "catalog", "frontends", "top"},
}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    """The dotted name of the module at ``path`` in ``package`` (a package's ``__init__.py`` is the package)."""
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(p, package): p for p in sorted(package.rglob("*.py"))}


def room(module: str) -> str:
    """The room of a ``theorems`` module: its first sub-package, or ``top``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED) else "top"


def _targets(node: ast.Import | ast.ImportFrom, modules: set[str], parents: bool) -> set[str]:
    """The ``theorems`` modules an import statement names, with the parent packages it loads too
    when ``parents``."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    out = set()
    for name in names:
        parts = name.split(".")
        out |= {".".join(parts[:i]) for i in range(1 if parents else len(parts), len(parts) + 1)}
    return {n for n in out if n in modules}


def imports(path: Path, modules: set[str], module_level: bool, package: Path = PACKAGE) -> set[str]:
    """The ``theorems`` modules that the file imports: those loaded when it is imported, parent
    packages included (``module_level``; ``if TYPE_CHECKING:`` blocks count), or those that any
    import in it names."""
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if module_level and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)) and getattr(child, "level", 0) == 0:
                found.update(_targets(child, modules, parents=module_level))
            visit(child)

    visit(tree)
    return found - {module_name(path, package)}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes (first repeated at the end), or None."""
    state: dict[str, int] = {}   # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := walk(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := walk(start)) is not None:
            return cycle
    return None


def room_violations(package: Path = PACKAGE) -> list[str]:
    """``module -> imported`` for every import (anywhere in a module) that goes against ``ALLOWED``."""
    modules = all_modules(package)
    names = set(modules)
    return sorted(f"{m} -> {t}" for m, p in modules.items() for t in imports(p, names, False, package)
                  if room(t) not in ALLOWED[room(m)])


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """The module-level import graph of the package."""
    modules = all_modules(package)
    return {m: imports(p, set(modules), True, package) for m, p in modules.items()}


def test_the_rooms_are_the_expected_ones() -> None:
    rooms = {room(m) for m in all_modules()}
    assert rooms == set(ALLOWED)
    assert (PACKAGE / "engine" / "rounds.py").exists() and not (PACKAGE / "rounds.py").exists()


def test_each_room_imports_only_the_rooms_before_it() -> None:
    assert room_violations() == []


def test_no_module_level_import_cycle() -> None:
    assert find_cycle(import_graph()) is None


def test_the_walk_finds_a_cycle_and_a_reverse_import(tmp_path: Path) -> None:
    """The checks above can fail: a copy of a small package with a circle and a reverse import."""
    package = tmp_path / "theorems"
    for sub, text in {"language/spec.py": "from theorems.engine import rounds\n",
                      "engine/rounds.py": "from theorems.engine.plan import x\n",
                      "engine/plan.py": "import theorems.engine.rounds\nx = 1\n"}.items():
        (package / sub).parent.mkdir(parents=True, exist_ok=True)
        (package / sub).write_text(text)
    assert room_violations(package) == ["theorems.language.spec -> theorems.engine.rounds"]
    cycle = ["theorems.engine.plan", "theorems.engine.rounds", "theorems.engine.plan"]
    assert find_cycle(import_graph(package)) == cycle


def _import_alone(module: str, out: "multiprocessing.Queue[tuple[str, str]]") -> None:
    import importlib
    import traceback
    try:
        importlib.import_module(module)
        out.put((module, ""))
    except BaseException:   # noqa: BLE001 - reported to the parent
        out.put((module, traceback.format_exc().strip().splitlines()[-1]))


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    """One fresh interpreter imports the third-party libraries, then forks one child per module,
    so that each module is imported with no other ``theorems`` module loaded before it."""
    code = (
        "import multiprocessing, sys\n"
        "import numpy, scipy, sympy, torch\n"
        f"sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'tests')!r})\n"
        "from test_layout import _import_alone\n"
        f"modules = {sorted(all_modules())!r}\n"
        "assert not [m for m in sys.modules if m == 'theorems' or m.startswith('theorems.')]\n"
        "ctx = multiprocessing.get_context('fork')\n"
        "out = ctx.Queue()\n"
        "for m in modules:\n"
        "    p = ctx.Process(target=_import_alone, args=(m, out)); p.start(); p.join()\n"
        "    name, error = out.get()\n"
        "    print(f'{name}: {error or \"ok\"}', flush=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={"OMP_NUM_THREADS": "1", "PATH": "", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == len(all_modules())
    assert [line for line in lines if not line.endswith(": ok")] == []


def test_rounds_and_distribution_rounds_share_round_data_instead_of_importing_each_other() -> None:
    """The circle of issue 14: distribution_rounds imported rounds back (for RoundKey)."""
    modules = all_modules()
    names = set(modules)
    distribution = imports(modules["theorems.engine.distribution_rounds"], names, False)
    assert "theorems.engine.rounds" not in distribution and "theorems.engine.round_data" in distribution
    assert "theorems.engine.round_data" in imports(modules["theorems.engine.rounds"], names, True)
