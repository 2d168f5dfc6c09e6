"""Building arrays from pieces: np.r_, np.c_, atleast_1d/2d/3d, column_stack, row_stack,
dstack, append, select, linspace with traced ends.

All are compositions of reshape, concatenate, where and arithmetic, so their VJPs
(section 4.6) and higher derivatives come from those ops.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ._node import Variable, raw
from ._ops_core import reshape
from ._ops_elementwise import add, multiply, subtract, where
from ._ops_shape import concatenate, moveaxis, ravel, vstack

__all__ = [
    "atleast_1d", "atleast_2d", "atleast_3d", "column_stack", "row_stack", "dstack", "append",
    "select", "linspace", "r_", "c_",
]


def _any_traced(items: Sequence[Any]) -> bool:
    return any(isinstance(a, Variable) for a in items)


def _lift(a: Any) -> Any:
    return a if isinstance(a, Variable) else np.asarray(a)


def _at_least(a: Any, nd: int) -> Any:
    a = _lift(a)
    shape = np.shape(raw(a))
    if len(shape) >= nd:
        return a
    if nd == 1 or len(shape) == 0:
        return reshape(a, (1,) * (nd - len(shape)) + shape)
    if nd == 2:
        return reshape(a, (1,) + shape)
    return reshape(a, (1,) + shape + (1,) if len(shape) == 1 else shape + (1,))


def _atleast(nd: int, arys: tuple) -> Any:
    out = [_at_least(a, nd) if isinstance(a, Variable) else getattr(np, f"atleast_{nd}d")(a) for a in arys]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_1d(*arys: Any) -> Any:
    """numpy.atleast_1d."""
    return _atleast(1, arys)


def atleast_2d(*arys: Any) -> Any:
    """numpy.atleast_2d."""
    return _atleast(2, arys)


def atleast_3d(*arys: Any) -> Any:
    """numpy.atleast_3d."""
    return _atleast(3, arys)


def column_stack(tup: Sequence[Any]) -> Any:
    """numpy.column_stack: 1-D inputs become columns, then concatenate along axis 1."""
    tup = list(tup)
    if not _any_traced(tup):
        return np.column_stack(tup)
    cols = [reshape(a, (-1, 1)) if np.ndim(raw(a)) < 2 else _lift(a) for a in tup]
    return concatenate(cols, axis=1)


def row_stack(tup: Sequence[Any]) -> Any:
    """numpy.row_stack (= vstack)."""
    tup = list(tup)
    if not _any_traced(tup):
        return np.vstack(tup)
    return vstack(tup)


def dstack(tup: Sequence[Any]) -> Any:
    """numpy.dstack: concatenate along the third axis after atleast_3d."""
    tup = list(tup)
    if not _any_traced(tup):
        return np.dstack(tup)
    return concatenate([_at_least(a, 3) for a in tup], axis=2)


def append(arr: Any, values: Any, axis: int | None = None) -> Any:
    """numpy.append: flatten both when axis is None, else concatenate along axis."""
    if not _any_traced([arr, values]):
        return np.append(arr, values, axis)
    if axis is None:
        return concatenate([ravel(_lift(arr)), ravel(_lift(values))])
    return concatenate([_lift(arr), _lift(values)], axis=axis)


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Any:
    """numpy.select: the first true condition picks its choice; the gradient goes to the pick."""
    condlist, choicelist = list(condlist), list(choicelist)
    if not _any_traced(choicelist + [default]):
        return np.select([raw(c) for c in condlist], choicelist, default)
    if len(condlist) != len(choicelist):
        raise ValueError("select: list of cases must be same length as list of conditions")
    result = default
    for cond, choice in zip(reversed(condlist), reversed(choicelist)):
        result = where(np.asarray(raw(cond), dtype=bool), choice, result)
    shape = np.broadcast_shapes(*[np.shape(raw(c)) for c in condlist + choicelist], np.shape(raw(default)))
    if np.shape(raw(result)) != shape:
        result = add(result, np.zeros(shape))
    return result


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False, dtype: Any = None, axis: int = 0) -> Any:
    """numpy.linspace with traced (array) ends: start + (stop - start) * t for plain fractions t."""
    if not _any_traced([start, stop]):
        return np.linspace(start, stop, num, endpoint, retstep, dtype, axis)
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise TypeError("linspace: a traced result must have a floating dtype")
    div = (num - 1) if endpoint else num
    steps = np.arange(num, dtype=np.float64) / div if div > 0 else np.zeros(num)
    if endpoint and num > 1:
        steps[-1] = 1.0
    nd = np.ndim(np.broadcast_to(raw(start), np.broadcast_shapes(np.shape(raw(start)), np.shape(raw(stop)))))
    steps = steps.reshape((num,) + (1,) * nd)
    delta = subtract(stop, start)
    out = add(multiply(delta, steps), start)
    if axis != 0:
        out = moveaxis(out, 0, axis)
    if retstep:
        return out, (multiply(delta, 1.0 / div) if div > 0 else np.nan)
    return out


class _Concatenator:
    """np.r_ / np.c_: plain numpy when nothing is traced, else concatenate the pieces."""

    def __init__(self, numpy_obj: Any, columns: bool) -> None:
        self._np = numpy_obj
        self._columns = columns

    def _piece(self, item: Any) -> Any:
        if isinstance(item, slice):
            item = np.r_[item]
        if self._columns:
            nd = np.ndim(raw(item))
            if nd == 0:
                return reshape(_lift(item), (1, 1))
            return reshape(_lift(item), (-1, 1)) if nd == 1 else _lift(item)
        return _at_least(item, 1)

    def __getitem__(self, key: Any) -> Any:
        items = key if isinstance(key, tuple) else (key,)
        if not _any_traced(items):
            return self._np[key]
        if any(isinstance(i, str) for i in items):
            raise NotImplementedError("np.r_/np.c_: string directives are not supported with traced values")
        return concatenate([self._piece(i) for i in items], axis=-1 if self._columns else 0)

    def __len__(self) -> int:
        return 0


r_ = _Concatenator(np.r_, columns=False)
c_ = _Concatenator(np.c_, columns=True)
