"""Rearranging ops: take along an axis, roll, repeat, tile, pad, rot90, flipud, fliplr.

Each picks entries of its input by a plain integer index computed with numpy
on `arange`, so its VJP is the scatter-add of `getitem` (section 4.6) and
higher derivatives come for free.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._node import Variable, raw
from ._ops_core import normalize_axis_tuple, reshape
from ._ops_shape import concatenate, flip, getitem, ravel, swapaxes

__all__ = ["take", "roll", "repeat", "tile", "pad", "rot90", "flipud", "fliplr"]


def take(a: Any, indices: Any, axis: int | None = None) -> Any:
    """numpy.take (mode 'raise'): entries at plain integer `indices` along `axis`."""
    if not isinstance(a, Variable):
        return np.take(a, indices, axis=axis)
    if axis is None:
        return getitem(ravel(a), np.asarray(raw(indices)))
    (axis,) = normalize_axis_tuple(axis, a.ndim)
    return getitem(a, (slice(None),) * axis + (np.asarray(raw(indices)),))


def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    """numpy.roll: a permutation of the entries."""
    if not isinstance(a, Variable):
        return np.roll(a, shift, axis)
    index = np.roll(np.arange(a.size).reshape(a.shape), shift, axis)
    return reshape(take(a, index.ravel()), a.shape)


def repeat(a: Any, repeats: Any, axis: int | None = None) -> Any:
    """numpy.repeat; repeated entries accumulate their gradients."""
    if not isinstance(a, Variable):
        return np.repeat(a, repeats, axis)
    if axis is None:
        return take(a, np.repeat(np.arange(a.size), repeats))
    (axis,) = normalize_axis_tuple(axis, a.ndim)
    return take(a, np.repeat(np.arange(a.shape[axis]), repeats), axis)


def tile(a: Any, reps: Any) -> Any:
    """numpy.tile."""
    if not isinstance(a, Variable):
        return np.tile(a, reps)
    index = np.tile(np.arange(a.size).reshape(a.shape), reps)
    return reshape(take(a, index.ravel()), index.shape)


def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    """numpy.pad with modes 'constant' (a plain scalar constant_values), 'edge', 'reflect',
    'symmetric' and 'wrap'; padded entries copy input entries (or the constant)."""
    if not isinstance(array, Variable):
        return np.pad(array, pad_width, mode, **kwargs)
    if mode not in ("constant", "edge", "reflect", "symmetric", "wrap"):
        raise NotImplementedError(f"pad: mode {mode!r} is not supported on traced values")
    if kwargs and set(kwargs) - {"constant_values"}:
        raise NotImplementedError(f"pad: options {sorted(kwargs)} are not supported on traced values")
    n = array.size
    index = np.arange(n).reshape(array.shape)
    if mode == "constant":
        value = kwargs.get("constant_values", 0.0)
        if np.ndim(value) != 0:
            raise NotImplementedError("pad: only a scalar constant_values is supported on traced values")
        index = np.pad(index, pad_width, "constant", constant_values=n)
        source = concatenate([ravel(array), np.full(1, float(value))])
    else:
        index = np.pad(index, pad_width, mode)
        source = ravel(array)
    return reshape(getitem(source, index.ravel()), index.shape)


def rot90(m: Any, k: int = 1, axes: tuple = (0, 1)) -> Any:
    """numpy.rot90, composed of flips and an axis swap as numpy does."""
    if not isinstance(m, Variable):
        return np.rot90(m, k, axes)
    a0, a1 = normalize_axis_tuple(axes, m.ndim)
    if a0 == a1:
        raise ValueError("rot90: axes must be different")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(m, (a0, a1))
    if k == 1:
        return swapaxes(flip(m, a1), a0, a1)
    return flip(swapaxes(m, a0, a1), a1)


def flipud(m: Any) -> Any:
    """numpy.flipud: reverse axis 0."""
    if not isinstance(m, Variable):
        return np.flipud(m)
    return flip(m, 0)


def fliplr(m: Any) -> Any:
    """numpy.fliplr: reverse axis 1."""
    if not isinstance(m, Variable):
        return np.fliplr(m)
    if m.ndim < 2:
        raise ValueError("fliplr: input must be >= 2-d")
    return flip(m, 1)

