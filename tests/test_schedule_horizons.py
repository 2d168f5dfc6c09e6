"""Issue 15: a schedule's behaviour shows only over a few hundred steps, so settings whose
hyper-parameters depend on t run at the profile's ``schedule_horizons`` too (quick: T = 256)."""
from __future__ import annotations

import dataclasses

from algorithms import SGD
from algorithms.protocol import as_schedule
from theorems.catalog import CATALOG
from theorems.engine.checker import check
from theorems.engine.profiles import PROFILES
from theorems.engine.plan import horizons


def inverted_step_decay(eta, **kwargs):
    """SGD with the theorem's step sizes times a step decay whose factor is inverted (x10 every
    100 steps instead of x1/10): identical to the spec's algorithm before t = 100."""
    schedule = as_schedule(eta)
    return SGD(lambda t: schedule(t) * 10.0 ** (t // 100), **kwargs)


def test_only_settings_with_a_schedule_get_the_longer_horizons() -> None:
    quick = PROFILES["quick"]
    assert horizons(CATALOG["T6.2"].setting("decreasing"), quick) == (1, 4, 16, 64, 256)
    assert horizons(CATALOG["T5.8"].settings[0], quick) == (1, 4, 16, 64)


def test_an_inverted_step_decay_is_caught_at_the_schedule_horizon(tmp_path) -> None:
    quick = PROFILES["quick"]
    kwargs = dict(algorithm=f"{__name__}:inverted_step_decay", claims=["decreasing-schedule"],
                  families=["pseudo-huber"], counterexample_dir=tmp_path)
    short = check(CATALOG["T6.2"], profile=dataclasses.replace(quick, schedule_horizons=()), **kwargs)
    assert short.claims[0].verdict == "holds"  # the bug never shows up to T = 64
    caught = check(CATALOG["T6.2"], profile=quick, **kwargs).claims[0]
    assert caught.verdict == "violated" and caught.violation.key.horizon == 256
