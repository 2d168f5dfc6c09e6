"""Shape ops: transposition, axis moves, indexing, concatenation and stacking.

All of them only move entries around, so their VJPs move the gradient back
(section 4.6): a transpose by the inverse permutation, indexing by a
scatter-add into zeros, concatenation by slicing.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ._errors import ShapeError
from ._node import Primitive, Variable, raw
from ._ops_core import normalize_axis_tuple, reshape

__all__ = [
    "transpose", "swapaxes", "moveaxis", "expand_dims", "squeeze", "ravel", "getitem",
    "concatenate", "stack", "hstack", "vstack", "flip", "normalize_index",
]


def _transpose_vjp(g: Any, ans: Any, x: Any, axes: Any) -> Any:
    if axes is None:
        return transpose(g, None)
    return transpose(g, tuple(np.argsort(axes)))


_transpose = Primitive("transpose", lambda x, axes: np.transpose(x, axes), (_transpose_vjp,))


def transpose(x: Any, axes: Sequence[int] | None = None) -> Any:
    """numpy.transpose (axis permutation); the VJP applies the inverse permutation."""
    if x.__class__ is not Variable:
        return np.transpose(x, axes)
    if axes is not None:
        axes = normalize_axis_tuple(tuple(axes), x.ndim)
        if len(axes) != x.ndim:
            raise ShapeError(f"transpose: axes {axes} do not match an array of shape {x.shape}")
    return _transpose(x, axes)


def swapaxes(x: Any, axis1: int, axis2: int) -> Any:
    """numpy.swapaxes as an axis permutation."""
    if x.__class__ is not Variable:
        return np.swapaxes(x, axis1, axis2)
    perm = list(range(x.ndim))
    a, b = normalize_axis_tuple((axis1, axis2), x.ndim, allow_duplicate=True)
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(x, perm)


def moveaxis(x: Any, source: Any, destination: Any) -> Any:
    """numpy.moveaxis as an axis permutation."""
    if x.__class__ is not Variable:
        return np.moveaxis(x, source, destination)
    src = normalize_axis_tuple(source, x.ndim)
    dst = normalize_axis_tuple(destination, x.ndim)
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of elements")
    rest = [n for n in range(x.ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        rest.insert(d, s)
    return transpose(x, rest)


def expand_dims(x: Any, axis: Any) -> Any:
    """numpy.expand_dims as a reshape."""
    if x.__class__ is not Variable:
        return np.expand_dims(x, axis)
    return reshape(x, np.expand_dims(np.empty(x.shape, dtype=np.bool_), axis).shape)


def squeeze(x: Any, axis: Any = None) -> Any:
    """numpy.squeeze as a reshape."""
    if x.__class__ is not Variable:
        return np.squeeze(x, axis)
    return reshape(x, np.squeeze(np.empty(x.shape, dtype=np.bool_), axis).shape)


def ravel(x: Any) -> Any:
    """numpy.ravel (C order) as a reshape."""
    if x.__class__ is not Variable:
        return np.ravel(x)
    return reshape(x, (x.size,))


def flip(x: Any, axis: Any = None) -> Any:
    """numpy.flip as a reversed slice."""
    if x.__class__ is not Variable:
        return np.flip(x, axis)
    axes = range(x.ndim) if axis is None else normalize_axis_tuple(axis, x.ndim)
    index = tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(x.ndim))
    return getitem(x, index)


# Indexing. ---------------------------------------------------------------------------

_BASIC = (int, np.integer, slice)


def normalize_index(index: Any) -> tuple[tuple, bool]:
    """Turn an index into a tuple numpy understands, and say if assignment is safe.

    Lists become integer/boolean arrays (numpy semantics); traced values cannot
    be used as indices. Assignment (instead of a scatter-add) is safe when no
    position can be selected twice: basic indices and boolean masks.
    """
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    unique = True
    for item in index:
        if isinstance(item, Variable):
            raise TypeError("a traced Variable cannot be used as an index")
        if isinstance(item, _BASIC) or item is None or item is Ellipsis:
            out.append(item)
            continue
        arr = np.asarray(item)
        if arr.dtype.kind not in "biu":
            raise IndexError(f"indices must be integers, slices, Ellipsis, None or boolean masks, got {arr.dtype}")
        if arr.dtype.kind != "b":
            unique = False
        out.append(arr)
    return tuple(out), unique


def _scatter_fwd(g: Any, index: tuple, shape: tuple, unique: bool) -> np.ndarray:
    g = np.asarray(g)
    out = np.zeros(shape, dtype=g.dtype)
    if unique:
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


def _getitem_vjp(g: Any, ans: Any, x: Any, index: tuple, unique: bool) -> Any:
    return _scatter(g, index, x.shape, unique)


def _scatter_vjp(g: Any, ans: Any, upstream: Any, index: tuple, shape: tuple, unique: bool) -> Any:
    return _getitem(g, index, unique)


_getitem = Primitive("getitem", lambda x, index, unique: x[index], (_getitem_vjp,))
_scatter = Primitive("scatter_add", _scatter_fwd, (_scatter_vjp,))


def getitem(x: Any, index: Any) -> Any:
    """x[index] with ints, slices, Ellipsis, None, integer arrays/lists or boolean masks."""
    if x.__class__ is not Variable:
        return x[index]
    index, unique = normalize_index(index)
    return _getitem(x, index, unique)


# Joining. ----------------------------------------------------------------------------


def _concatenate_vjp(i: int, g: Any, ans: Any, *arrays: Any, axis: int) -> Any:
    sizes = [np.shape(raw(a))[axis] for a in arrays]
    start = int(np.sum(sizes[:i], dtype=np.int64))
    index = (slice(None),) * axis + (slice(start, start + sizes[i]),)
    return getitem(g, index)


_concatenate = Primitive(
    "concatenate", lambda *arrays, axis: np.concatenate(arrays, axis=axis), _concatenate_vjp
)


def concatenate(arrays: Sequence[Any], axis: int | None = 0) -> Any:
    """numpy.concatenate of a sequence of arrays (traced or not)."""
    arrays = list(arrays)
    if not any(isinstance(a, Variable) for a in arrays):
        return np.concatenate(arrays, axis=axis)
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    arrays = [a if isinstance(a, Variable) else np.asarray(a) for a in arrays]
    ndim = np.ndim(raw(arrays[0]))
    if ndim == 0:
        raise ShapeError("concatenate: zero-dimensional arrays cannot be concatenated")
    (axis,) = normalize_axis_tuple(axis, ndim)
    return _concatenate(*arrays, axis=axis)


def stack(arrays: Sequence[Any], axis: int = 0) -> Any:
    """numpy.stack: add a new axis to each array, then concatenate along it."""
    arrays = list(arrays)
    if not any(isinstance(a, Variable) for a in arrays):
        return np.stack(arrays, axis=axis)
    if not arrays:
        raise ValueError("stack: need at least one array")
    shapes = {np.shape(raw(a)) for a in arrays}
    if len(shapes) != 1:
        raise ShapeError(f"stack: all input arrays must have the same shape, got {sorted(shapes)}")
    (axis,) = normalize_axis_tuple(axis, np.ndim(raw(arrays[0])) + 1)
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)


def hstack(arrays: Sequence[Any]) -> Any:
    """numpy.hstack."""
    arrays = [a if isinstance(a, Variable) else np.asarray(a) for a in arrays]
    arrays = [reshape(a, (1,)) if np.ndim(raw(a)) == 0 else a for a in arrays]
    return concatenate(arrays, axis=0 if np.ndim(raw(arrays[0])) == 1 else 1)


def vstack(arrays: Sequence[Any]) -> Any:
    """numpy.vstack."""
    arrays = [a if isinstance(a, Variable) else np.asarray(a) for a in arrays]
    arrays = [reshape(a, (1, -1)) if np.ndim(raw(a)) < 2 else a for a in arrays]
    return concatenate(arrays, axis=0)
