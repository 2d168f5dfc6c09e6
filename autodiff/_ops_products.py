"""Structured products: kron and cross, composed of reshape, multiply and stack
(so their VJPs, section 4.6, and higher derivatives come from those ops)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._node import Variable, raw
from ._ops_core import reshape
from ._ops_elementwise import multiply, subtract
from ._ops_shape import getitem, moveaxis, stack

__all__ = ["kron", "cross"]


def kron(a: Any, b: Any) -> Any:
    """numpy.kron: the Kronecker product (blocks a[i, j] * b)."""
    if not (isinstance(a, Variable) or isinstance(b, Variable)):
        return np.kron(a, b)
    sa, sb = np.shape(raw(a)), np.shape(raw(b))
    nd = max(len(sa), len(sb))
    sa = (1,) * (nd - len(sa)) + sa
    sb = (1,) * (nd - len(sb)) + sb
    wide_a = tuple(x for n in sa for x in (n, 1))
    wide_b = tuple(x for n in sb for x in (1, n))
    out = multiply(reshape(a, wide_a), reshape(b, wide_b))
    return reshape(out, tuple(m * n for m, n in zip(sa, sb)))


def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None) -> Any:
    """numpy.cross of 3-vectors (broadcasting over the other axes)."""
    if not (isinstance(a, Variable) or isinstance(b, Variable)):
        return np.cross(a, b, axisa, axisb, axisc, axis)
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis(a, axisa, -1) if isinstance(a, Variable) else np.moveaxis(np.asarray(a), axisa, -1)
    b = moveaxis(b, axisb, -1) if isinstance(b, Variable) else np.moveaxis(np.asarray(b), axisb, -1)
    if np.shape(raw(a))[-1] != 3 or np.shape(raw(b))[-1] != 3:
        raise ValueError("cross: only 3-vectors are supported on traced values")
    ax = [getitem(a, (Ellipsis, i)) for i in range(3)]
    bx = [getitem(b, (Ellipsis, i)) for i in range(3)]
    parts = [
        subtract(multiply(ax[1], bx[2]), multiply(ax[2], bx[1])),
        subtract(multiply(ax[2], bx[0]), multiply(ax[0], bx[2])),
        subtract(multiply(ax[0], bx[1]), multiply(ax[1], bx[0])),
    ]
    shape = np.broadcast_shapes(*[np.shape(raw(p)) for p in parts])
    parts = [p if np.shape(raw(p)) == shape else multiply(p, np.ones(shape)) for p in parts]
    return moveaxis(stack(parts, axis=-1), -1, axisc)
