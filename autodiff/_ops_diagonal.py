"""Diagonals and triangles: diagonal, trace (offset, axes), diag, tril, triu.

Each is indexing or masking (section 4.6: the VJP moves the gradient back),
built from `getitem`, `multiply` and `sum`, so gradients of any order follow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._node import Variable
from ._ops_core import normalize_axis_tuple, sum
from ._ops_elementwise import multiply
from ._ops_shape import concatenate, getitem, moveaxis

__all__ = ["diagonal", "trace", "diag", "tril", "triu"]


def _diagonal_index(n: int, m: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(max(0, -offset), n)
    cols = rows + offset
    keep = (cols >= 0) & (cols < m)
    return rows[keep], cols[keep]


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """numpy.diagonal: the diagonal of the (axis1, axis2) planes, as the last axis."""
    if not isinstance(a, Variable):
        return np.diagonal(a, offset, axis1, axis2)
    ax1, ax2 = normalize_axis_tuple((axis1, axis2), a.ndim)
    if ax1 == ax2:
        raise ValueError("diagonal: axis1 and axis2 cannot be the same")
    moved = moveaxis(a, (ax1, ax2), (-2, -1))
    rows, cols = _diagonal_index(moved.shape[-2], moved.shape[-1], int(offset))
    return getitem(moved, (Ellipsis, rows, cols))


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """numpy.trace: the sum of `diagonal(a, offset, axis1, axis2)`."""
    if not isinstance(a, Variable):
        return np.trace(a, offset, axis1, axis2)
    return sum(diagonal(a, offset, axis1, axis2), axis=-1)


def diag(v: Any, k: int = 0) -> Any:
    """numpy.diag: a 2-D array with v on diagonal k (1-D v), or the k-th diagonal (2-D v)."""
    if not isinstance(v, Variable):
        return np.diag(v, k)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError("diag: input must be 1-d or 2-d")
    n = v.shape[0]
    m = n + abs(int(k))
    index = np.full((m, m), n)
    rows, cols = _diagonal_index(m, m, int(k))
    index[rows, cols] = np.arange(n)
    return getitem(concatenate([v, np.zeros(1, dtype=v.dtype)]), index)


def _tri_mask(shape: tuple, k: int, lower: bool) -> np.ndarray:
    n, m = (shape[-1], shape[-1]) if len(shape) == 1 else shape[-2:]
    mask = np.tri(n, m, k, dtype=bool)
    return mask if lower else ~np.tri(n, m, k - 1, dtype=bool)


def tril(m: Any, k: int = 0) -> Any:
    """numpy.tril: zero the entries above diagonal k (of the last two axes)."""
    if not isinstance(m, Variable):
        return np.tril(m, k)
    return multiply(m, _tri_mask(m.shape, int(k), True))


def triu(m: Any, k: int = 0) -> Any:
    """numpy.triu: zero the entries below diagonal k (of the last two axes)."""
    if not isinstance(m, Variable):
        return np.triu(m, k)
    return multiply(m, _tri_mask(m.shape, int(k), False))

