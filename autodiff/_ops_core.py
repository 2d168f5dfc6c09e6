"""Core structural ops shared by every VJP rule: reshape, broadcast_to, sum, mean.

They are mutually dependent (the VJP of sum is a broadcast, the VJP of a
broadcast is a sum, section 4.6) and `unbroadcast` is how every
broadcasting op hands gradients back to its smaller operands.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

try:
    from numpy.lib.array_utils import normalize_axis_tuple
except ImportError:  # numpy < 2
    from numpy.core.numeric import normalize_axis_tuple  # type: ignore[no-redef]

from ._node import Primitive, Variable, raw

__all__ = [
    "reshape",
    "broadcast_to",
    "sum",
    "mean",
    "unbroadcast",
    "reduced_shape",
    "normalize_axis_tuple",
]

_builtin_sum = sum


def reduced_shape(shape: tuple, axis: Any) -> tuple:
    """Shape of a reduction over `axis` with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    axes = normalize_axis_tuple(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _reshape_vjp(g: Any, ans: Any, x: Any, shape: Any) -> Any:
    return reshape(g, x.shape)


_reshape = Primitive("reshape", lambda x, shape: np.reshape(x, shape), (_reshape_vjp,))


def reshape(x: Any, shape: Any) -> Any:
    """Reshape without copying data; the VJP reshapes the gradient back."""
    if x.__class__ is not Variable:
        return np.reshape(x, shape)
    return _reshape(x, shape)


def _broadcast_to_vjp(g: Any, ans: Any, x: Any, shape: Any) -> Any:
    return unbroadcast(g, x.shape)


_broadcast_to = Primitive("broadcast_to", lambda x, shape: np.broadcast_to(x, shape), (_broadcast_to_vjp,))


def broadcast_to(x: Any, shape: Any) -> Any:
    """numpy.broadcast_to; the VJP sums over the broadcast axes."""
    if x.__class__ is not Variable:
        return np.broadcast_to(x, shape)
    return _broadcast_to(x, tuple(shape) if not isinstance(shape, int) else (shape,))


def unbroadcast(g: Any, shape: tuple) -> Any:
    """Sum `g` down to `shape`, undoing numpy broadcasting (gradients of broadcast operands)."""
    gshape = g.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1
    )
    if g.__class__ is Variable:
        return reshape(sum(g, axis=axes), shape)
    return np.sum(g, axis=axes).reshape(shape)


def _sum_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    shape = x.shape
    return broadcast_to(reshape(g, reduced_shape(shape, axis)), shape)


def _sum_fwd(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.sum(x, axis=axis, keepdims=keepdims)


_sum = Primitive("sum", _sum_fwd, (_sum_vjp,))


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """numpy.sum over `axis` (int, tuple or None) with optional keepdims."""
    if x.__class__ is not Variable:
        return np.sum(x, axis=axis, keepdims=keepdims)
    return _sum(x, axis=axis, keepdims=keepdims)


def _mean_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    shape = x.shape
    count = math.prod(shape) // max(np.size(raw(ans)), 1)
    return broadcast_to(reshape(g, reduced_shape(shape, axis)), shape) / count


def _mean_fwd(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.mean(x, axis=axis, keepdims=keepdims)


_mean = Primitive("mean", _mean_fwd, (_mean_vjp,))


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """numpy.mean over `axis` with optional keepdims."""
    if x.__class__ is not Variable:
        return np.mean(x, axis=axis, keepdims=keepdims)
    return _mean(x, axis=axis, keepdims=keepdims)
