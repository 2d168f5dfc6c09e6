"""pytest integration: ``pytest theorems/`` runs every claim of the catalog as a test item.

Options (all prefixed ``--tc-`` so they never clash with other plugins):
``--tc-profile quick|thorough``, ``--tc-device cpu|cuda``, ``--tc-seed N``, ``--tc-id ID``
(repeatable; ``T5.8`` or ``5.8``), ``--tc-counterexamples DIR``. The ``thorough`` profile also
enables tests marked ``@pytest.mark.thorough``, which are skipped otherwise.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Options:
    """The theorycheck options of a pytest session."""

    profile: str
    device: str
    seed: int
    ids: tuple[str, ...]
    counterexamples: str


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("theorycheck")
    group.addoption("--tc-profile", default="quick", choices=("quick", "thorough"),
                    help="theorycheck search budget (default quick)")
    group.addoption("--tc-device", default="cpu", help="torch device for theorycheck claims (default cpu)")
    group.addoption("--tc-seed", type=int, default=0, help="theorycheck master seed (default 0)")
    group.addoption("--tc-id", action="append", default=[], help="only these results, e.g. T5.8 (repeatable)")
    group.addoption("--tc-counterexamples", default="counterexamples",
                    help="where counterexample files of failing claims go (default ./counterexamples)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "thorough: heavy sweeps, run with --tc-profile thorough")
    config.addinivalue_line("markers", "theorycheck_claim(spec_id, claim): a claim of the catalog")
    if os.environ.get("PYTEST_XDIST_WORKER") and "OMP_NUM_THREADS" not in os.environ:
        # one xdist worker per core: torch's intra-op threads would only contend (small tensors)
        import torch
        torch.set_num_threads(1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from theorems.catalog import UnknownResultError, lookup

    options = theorycheck_options_from(config)
    try:
        wanted = {lookup(i).id for i in options.ids}
    except UnknownResultError as exc:
        raise pytest.UsageError(f"--tc-id: {exc}") from None
    skip_heavy = pytest.mark.skip(reason="heavy sweep: run with --tc-profile thorough")
    kept, deselected = [], []
    for item in items:
        marker = item.get_closest_marker("theorycheck_claim")
        if wanted and marker is not None and marker.args[0] not in wanted:
            deselected.append(item)
            continue
        if options.profile != "thorough" and item.get_closest_marker("thorough") is not None:
            item.add_marker(skip_heavy)
        kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def theorycheck_options_from(config: pytest.Config) -> Options:
    return Options(config.getoption("--tc-profile"), config.getoption("--tc-device"), config.getoption("--tc-seed"),
                   tuple(config.getoption("--tc-id")), config.getoption("--tc-counterexamples"))


@pytest.fixture(scope="session")
def theorycheck_options(pytestconfig: pytest.Config) -> Options:
    """The session's theorycheck options."""
    return theorycheck_options_from(pytestconfig)
