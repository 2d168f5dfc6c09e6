"""Keep the default autodiff test run fast: `thorough` sweeps run only when asked for.

The project plugin (theorems.frontends.pytest_plugin) runs tests marked `thorough` only
with `--tc-profile thorough`; here they are deselected rather than reported
as skipped in the default run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--tc-profile", default="quick") == "thorough":
        return
    keep, drop = [], []
    for item in items:
        here = _HERE in Path(str(item.path)).parents
        (drop if here and item.get_closest_marker("thorough") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
