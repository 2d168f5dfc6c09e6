"""An expectation claim whose bound holds random quantities compares E[measured] with E[bound]
(the paired differences), not with one replica's bound."""
from __future__ import annotations

import sympy as sp
import torch

from theorems.engine.claims import compare
from theorems.engine.round_data import RoundData, RoundKey
from theorems.language.spec import Claim

X, Y = sp.symbols("X Y")
CLAIM = Claim(name="mean", kind="expect", measured=X, bound=Y, setting="s", statement="E X <= E Y")
KEY = RoundKey("test", "s", "none", "none", 0, 1, 1, 1, 4096, "cpu", None)


def _judge(x: torch.Tensor, y: torch.Tensor):
    values = {"X": x.reshape(1, -1, 1), "Y": y.reshape(1, -1, 1)}
    data = RoundData(KEY, None, values, torch.zeros(1, x.numel(), 1, dtype=torch.float64), lambda i: {})
    return compare(CLAIM, data, level=1e-3, rtol=0.0, atol=0.0)


def _samples(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(4096, generator=g, dtype=torch.float64), torch.rand(4096, generator=g, dtype=torch.float64)


def test_a_random_bound_with_the_larger_mean_holds_whatever_replica_zero_drew() -> None:
    u, v = _samples(0)
    x, y = u, 1.0 + v  # E X = 1/2 < E Y = 3/2
    y[0] = 0.0  # replica 0 alone would say the bound is 0
    c = _judge(x, y)
    assert not bool(c.bad.any())
    assert abs(float(c.bound) - float(y.mean())) < 1e-12


def test_a_random_bound_with_the_smaller_mean_is_violated_whatever_replica_zero_drew() -> None:
    u, v = _samples(1)
    x, y = 1.0 + u, v  # E X = 3/2 > E Y = 1/2
    y[0] = 100.0  # replica 0 alone would say the bound is 100
    c = _judge(x, y)
    assert bool(c.bad.all())
    assert float(c.ratio) > 2.5


def test_a_constant_bound_is_judged_as_before() -> None:
    u, _ = _samples(2)
    ok, bad = _judge(u, torch.full_like(u, 0.52)), _judge(u, torch.full_like(u, 0.45))
    assert not bool(ok.bad.any()) and bool(bad.bad.all())
