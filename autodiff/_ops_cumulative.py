"""Products and running totals: prod, cumsum, cumprod, diff.

cumsum is a primitive whose VJP is a reversed cumsum of the cotangent (section
4.6). prod and cumprod are built from multiplications only (a pairwise tree
and a Hillis-Steele scan), so they are exact where entries are zero and their
derivatives of every order come from `multiply` (torch gives the same values).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._node import Primitive, Variable, raw
from ._ops_core import normalize_axis_tuple, reshape
from ._ops_elementwise import multiply, subtract
from ._ops_shape import concatenate, flip, getitem, moveaxis, ravel

__all__ = ["prod", "cumsum", "cumprod", "diff"]


def _check_dtype(name: str, dtype: Any) -> None:
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise TypeError(f"{name}: a traced result must have a floating dtype, got {np.dtype(dtype)}")


def _last(x: Any, axis: int) -> Any:
    return moveaxis(x, axis, -1) if axis != x.ndim - 1 else x


def _restore(x: Any, axis: int, ndim: int) -> Any:
    return moveaxis(x, -1, axis) if axis != ndim - 1 else x


def _prod_last(x: Any) -> Any:
    """Product over the last axis by halving: log2(n) multiplications, keepdims."""
    while x.shape[-1] > 1:
        n = x.shape[-1]
        half = n // 2
        paired = multiply(getitem(x, (Ellipsis, slice(0, half))), getitem(x, (Ellipsis, slice(half, 2 * half))))
        x = concatenate([paired, getitem(x, (Ellipsis, slice(n - 1, n)))], axis=-1) if n % 2 else paired
    return x


def prod(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Any:
    """numpy.prod over `axis` (int, tuple or None); exact derivatives with zero entries."""
    if not isinstance(a, Variable):
        return np.prod(a, axis=axis, dtype=dtype, keepdims=keepdims)
    _check_dtype("prod", dtype)
    nd = a.ndim
    axes = tuple(range(nd)) if axis is None else normalize_axis_tuple(axis, nd)
    rest = [i for i in range(nd) if i not in axes]
    moved = a if not axes else moveaxis(a, axes, tuple(range(nd - len(axes), nd)))
    kept_shape = tuple(a.shape[i] for i in rest)
    size = int(np.prod([a.shape[i] for i in axes], dtype=np.int64))
    flat = reshape(moved, kept_shape + (size,))
    if size == 0:
        flat = concatenate([flat, np.ones(kept_shape + (1,))], axis=-1)
    out = reshape(_prod_last(flat), kept_shape)
    if keepdims:
        out = reshape(out, tuple(1 if i in axes else n for i, n in enumerate(a.shape)))
    return out


def _cumsum_vjp(g: Any, ans: Any, x: Any, axis: int) -> Any:
    return flip(cumsum(flip(g, axis), axis), axis)


_cumsum = Primitive("cumsum", lambda x, axis: np.cumsum(x, axis=axis), (_cumsum_vjp,))


def _scan_axis(name: str, a: Variable, axis: int | None, dtype: Any) -> tuple[Variable, int]:
    """A running scan's operand and axis as numpy reads them: the flattened array when ``axis``
    is None, a negative axis counted from the end; ``dtype`` must keep floating values."""
    _check_dtype(name, dtype)
    if axis is None:
        a, axis = ravel(a), 0
    (axis,) = normalize_axis_tuple(axis, a.ndim)
    return a, axis


def cumsum(a: Any, axis: int | None = None, dtype: Any = None) -> Any:
    """numpy.cumsum; the VJP is the reversed running sum of the cotangent."""
    if not isinstance(a, Variable):
        return np.cumsum(a, axis=axis, dtype=dtype)
    a, axis = _scan_axis("cumsum", a, axis, dtype)
    return _cumsum(a, axis=axis)


def cumprod(a: Any, axis: int | None = None, dtype: Any = None) -> Any:
    """numpy.cumprod as a Hillis-Steele scan of multiplications (exact with zeros)."""
    if not isinstance(a, Variable):
        return np.cumprod(a, axis=axis, dtype=dtype)
    a, axis = _scan_axis("cumprod", a, axis, dtype)
    nd = a.ndim
    y = _last(a, axis)
    n = y.shape[-1]
    shift = 1
    while shift < n:
        ones = np.ones(y.shape[:-1] + (shift,))
        y = multiply(y, concatenate([ones, getitem(y, (Ellipsis, slice(0, n - shift)))], axis=-1))
        shift *= 2
    return _restore(y, axis, nd)


def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Any:
    """numpy.diff: repeated differences of neighbours along `axis`."""
    if not isinstance(a, Variable) and not isinstance(prepend, Variable) and not isinstance(append, Variable):
        kw = {k: v for k, v in (("prepend", prepend), ("append", append)) if v is not None}
        return np.diff(a, n=n, axis=axis, **kw)
    if not isinstance(a, Variable):
        a = np.asarray(a)
    nd = np.ndim(raw(a))
    (axis,) = normalize_axis_tuple(axis, nd)
    shape = np.shape(raw(a))
    pieces = []
    for extra, is_a in ((prepend, False), (a, True), (append, False)):
        if extra is None:
            continue
        if not is_a and np.ndim(raw(extra)) == 0:
            extra = multiply(extra, np.ones(shape[:axis] + (1,) + shape[axis + 1:]))
        pieces.append(extra)
    y = concatenate(pieces, axis=axis) if len(pieces) > 1 else a
    for _ in range(n):
        m = np.shape(raw(y))[axis]
        lead = (slice(None),) * axis
        y = subtract(getitem(y, lead + (slice(1, m),)), getitem(y, lead + (slice(0, m - 1),)))
    return y
