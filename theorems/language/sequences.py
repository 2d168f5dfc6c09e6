"""Algorithm 11's sequences (section 15): alpha_t and S_t = sum_{i<=t} alpha_i as plain tuples
(algorithms/accelerated.py runs on them) and as sympy functions that evaluate on tensors, so the
claims of P15.3 and T15.2 are written as in the notes. Torch-free at import: the catalog may
import it (``theorycheck list`` imports no torch)."""
from __future__ import annotations

import functools
import math
from typing import Any, Callable

import sympy as sp


@functools.lru_cache(maxsize=64)
def alpha_sequence(horizon: int) -> tuple[float, ...]:
    """alpha_0, ..., alpha_horizon of Algorithm 11: alpha_0 = 0, alpha_1 = 1 and alpha_{t+1} the
    positive root of a^2 - a = sum_{i<=t} alpha_i, i.e. (1 + sqrt(1 + 4 sum_{i<=t} alpha_i)) / 2."""
    alphas, total = [0.0, 1.0], 1.0
    while len(alphas) <= horizon:
        nxt = (1.0 + math.sqrt(1.0 + 4.0 * total)) / 2.0
        alphas.append(nxt)
        total += nxt
    return tuple(alphas[: horizon + 1])


def alpha_sums(horizon: int) -> tuple[float, ...]:
    """S_0, ..., S_horizon with S_t = sum_{i=1}^t alpha_i (S_0 = 0), summed in order."""
    sums, total = [0.0], 0.0
    for a in alpha_sequence(horizon)[1:]:
        total += a
        sums.append(total)
    return tuple(sums)


def _at(t: Any, table: Callable[[int], tuple[float, ...]]) -> Any:
    """table(n)[t] for an integer-valued t: a tensor (any shape, indexed elementwise) or a number."""
    import torch
    if isinstance(t, torch.Tensor):
        index = t.round().long()
        n = int(index.max()) if index.numel() else 0
        return torch.tensor(table(n), dtype=t.dtype, device=t.device)[index]
    n = int(round(float(t)))
    return table(n)[n]


class _Sequence(sp.Function):
    """A sequence of Algorithm 11 as a sympy function of an integer t >= 0 that evaluates on tensors
    (``lambdify`` with the torch printer calls ``_imp_``), so claims about it (P15.3, T15.2) are
    written as in the notes."""

    nargs = 1
    symbol = ""

    def _torchcode(self, printer: Any) -> str:
        return f"{type(self).__name__}({printer._print(self.args[0])})"

    _pythoncode = _numpycode = _torchcode

    def _latex(self, printer: Any, exp: str | None = None) -> str:
        base = f"{self.symbol}_{{{printer._print(self.args[0])}}}"
        return base if exp is None else f"\\left({base}\\right)^{{{exp}}}"


class alpha_t(_Sequence):  # noqa: N801  (named as printed in a bound)
    """alpha_t of Algorithm 11."""

    symbol = r"\alpha"
    _imp_ = staticmethod(lambda t: _at(t, alpha_sequence))


class S_alpha(_Sequence):  # noqa: N801
    """S_t = sum_{i=1}^t alpha_i of Algorithm 11."""

    symbol = r"S^{\alpha}"
    _imp_ = staticmethod(lambda t: _at(t, alpha_sums))
