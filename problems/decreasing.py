"""Non-increasing functions f on [0, inf) with exact integrals, B at once (Lemma 10.2).

Each family is a sympy expression f(s; parameters); its antiderivative F is computed once by
sympy, so int_a^b f = F(b) - F(a) exactly (up to float rounding). The lemma is applied to
arguments s >= 0 only (partial sums of non-negative values), so "decreasing on R" is needed on
[0, inf) only: each f here extends to a non-increasing function on R (e.g. by f(s) = f(0) - s
for s < 0) without changing any value the lemma uses. The constant family is the equality
case of the lemma (non-increasing, the careful reading of "decreasing": the proof only uses
f(x) >= f(b) for x <= b).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import sympy as sp
import torch

from problems import _random as rnd

Tensor = torch.Tensor

s = sp.Symbol("s", nonnegative=True)
_b, _c = sp.Symbol("b", positive=True), sp.Symbol("c", positive=True)
_a = sp.Symbol("a", positive=True)
_m = sp.Symbol("m", real=True)

#: The class these functions declare (a tag a spec may assume).
DECREASING_CLASSES = frozenset({"decreasing"})


@dataclass(frozen=True)
class FunctionBatch:
    """B functions: ``f(S)`` and the antiderivative ``F(S)`` on S of shape (B, n)."""

    family: str
    f: Callable[[Tensor], Tensor]
    F: Callable[[Tensor], Tensor]
    params: Mapping[str, Tensor]
    describe: Callable[[int], dict[str, Any]] = field(repr=False, default=lambda b: {})


@dataclass(frozen=True)
class DecreasingFamily:
    """f(s; parameters) with each parameter drawn per instance: ("log", low, high) log-uniform or
    ("uniform", low, high)."""

    name: str
    expr: sp.Expr
    draws: Mapping[str, tuple[str, float, float]]
    classes: frozenset[str] = DECREASING_CLASSES

    @functools.cached_property
    def antiderivative(self) -> sp.Expr:
        """F with F' = f, by sympy."""
        return sp.integrate(self.expr, s, conds="none")

    def _symbols(self) -> list[sp.Symbol]:
        by_name = {x.name: x for x in self.expr.free_symbols}
        return [s] + [by_name[n] for n in self.draws]

    @functools.cached_property
    def _compiled(self) -> tuple[Callable, Callable]:
        symbols = self._symbols()
        return (sp.lambdify(symbols, self.expr, modules="torch"),
                sp.lambdify(symbols, self.antiderivative, modules="torch"))

    def sample(self, batch_size: int, generator: torch.Generator, device: torch.device | str = "cpu",
               dtype: torch.dtype = torch.float64) -> FunctionBatch:
        params = {}
        for name, (kind, low, high) in self.draws.items():
            draw = rnd.log_uniform if kind == "log" else rnd.uniform
            params[name] = draw((batch_size, 1), low, high, generator, device, dtype)
        f, F = self._compiled
        values = list(params.values())

        def at(fn: Callable) -> Callable[[Tensor], Tensor]:
            return lambda S: torch.broadcast_to(torch.as_tensor(fn(S, *values), dtype=dtype, device=device), S.shape)

        def describe(b: int) -> dict[str, Any]:
            return {"f": str(self.expr), **{n: float(v[b, 0]) for n, v in params.items()}}

        return FunctionBatch(self.name, at(f), at(F), params, describe)


#: The registered non-increasing function families, by name.
DECREASING: dict[str, DecreasingFamily] = {
    fam.name: fam for fam in (
        DecreasingFamily("reciprocal", _c / (s + _b), {"c": ("log", 1e-2, 1e2), "b": ("log", 1e-3, 1e3)}),
        DecreasingFamily("inverse-power-slow", _c * (s + _b) ** (-_a),
                         {"c": ("log", 1e-2, 1e2), "b": ("log", 1e-3, 1e3), "a": ("uniform", 0.2, 0.8)}),
        DecreasingFamily("inverse-power-fast", _c * (s + _b) ** (-_a),
                         {"c": ("log", 1e-2, 1e2), "b": ("log", 1e-3, 1e3), "a": ("uniform", 1.2, 3.0)}),
        DecreasingFamily("exponential", _c * sp.exp(-s / _b), {"c": ("log", 1e-2, 1e2), "b": ("log", 1e-3, 1e3)}),
        DecreasingFamily("linear", _c * (_m - s), {"c": ("log", 1e-2, 1e2), "m": ("uniform", -10.0, 10.0)}),
        DecreasingFamily("constant", _m + 0 * s, {"m": ("uniform", -10.0, 10.0)}),
    )
}
