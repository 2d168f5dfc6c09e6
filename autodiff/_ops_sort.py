"""Sorting: sort and partition.

The output is the input permuted by a plain index (numpy's argsort /
argpartition of the values), so the VJP scatters the cotangent back through
that permutation (section 4.6). Tied entries: the gradient goes to the entry
numpy's stable sort puts at that position.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._node import Variable
from ._ops_core import normalize_axis_tuple
from ._ops_shape import getitem, ravel

__all__ = ["sort", "partition", "take_along_axis"]


def take_along_axis(arr: Any, indices: Any, axis: int | None) -> Any:
    """numpy.take_along_axis with plain integer indices."""
    if not isinstance(arr, Variable):
        return np.take_along_axis(arr, indices, axis)
    indices = np.asarray(indices)
    if axis is None:
        return getitem(ravel(arr), indices)
    (axis,) = normalize_axis_tuple(axis, arr.ndim)
    grids = np.ix_(*[np.arange(n) for n in indices.shape])
    index = tuple(indices if i == axis else grids[i] for i in range(arr.ndim))
    return getitem(arr, index)


def sort(a: Any, axis: int | None = -1, kind: Any = None, order: Any = None) -> Any:
    """numpy.sort (stable order); the gradient follows the permutation."""
    if not isinstance(a, Variable):
        return np.sort(a, axis=axis, kind=kind, order=order)
    if order is not None:
        raise ValueError("sort: order= applies to structured arrays only")
    if axis is None:
        a, axis = ravel(a), 0
    return take_along_axis(a, np.argsort(a.value, axis=axis, kind="stable"), axis)


def partition(a: Any, kth: Any, axis: int | None = -1, kind: str = "introselect", order: Any = None) -> Any:
    """numpy.partition; the gradient follows numpy's argpartition permutation."""
    if not isinstance(a, Variable):
        return np.partition(a, kth, axis=axis, kind=kind, order=order)
    if axis is None:
        a, axis = ravel(a), 0
    return take_along_axis(a, np.argpartition(a.value, kth, axis=axis), axis)

