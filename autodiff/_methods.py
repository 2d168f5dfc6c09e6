"""Operators and numpy-style methods of Variable, so numpy code runs on traced values.

Comparisons return plain boolean arrays: they are piecewise constant, so
they carry no gradient, and returning numpy values lets ordinary control
flow (`if x > 0:`) run while the graph is being built (section 4.5).
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from . import _ops_core as core
from . import _ops_cumulative as cum
from . import _ops_diagonal as dia
from . import _ops_elementwise_extra as ewx
from . import _ops_rearrange as rea
from . import _ops_elementwise as ew
from . import _ops_linalg as la
from . import _ops_reduce as red
from . import _ops_shape as shp
from ._node import Primitive, Variable, raw

__all__: list[str] = []

_cast = Primitive("astype", lambda x, dtype: x.astype(dtype), (lambda g, ans, x, dtype: cast(g, x.dtype),))


def cast(x: Any, dtype: Any) -> Any:
    """Cast a traced value to another floating dtype; the gradient is cast back."""
    if not isinstance(x, Variable):
        return np.asarray(x).astype(dtype)
    return _cast(x, dtype=np.dtype(dtype))


def _shape_arg(shape: tuple) -> Any:
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        return tuple(shape[0])
    return shape


def _no_out(out: Any) -> None:
    if out is not None:
        raise TypeError("autodiff: the out= argument is not supported on traced values")


def _reshape(self: Variable, *shape: Any, order: str = "C") -> Any:
    if order != "C":
        raise ValueError("autodiff: only C-order reshape is supported")
    return core.reshape(self, _shape_arg(shape))


def _transpose(self: Variable, *axes: Any) -> Any:
    if not axes or (len(axes) == 1 and axes[0] is None):
        return shp.transpose(self, None)
    return shp.transpose(self, _shape_arg(axes))


def _sum(self: Variable, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    _no_out(out)
    return core.sum(self, axis=axis, keepdims=keepdims)


def _mean(self: Variable, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    _no_out(out)
    return core.mean(self, axis=axis, keepdims=keepdims)


def _max(self: Variable, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    _no_out(out)
    return red.amax(self, axis=axis, keepdims=keepdims)


def _min(self: Variable, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    _no_out(out)
    return red.amin(self, axis=axis, keepdims=keepdims)


def _var(self: Variable, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    _no_out(out)
    return red.var(self, axis=axis, ddof=ddof, keepdims=keepdims)


def _std(self: Variable, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    _no_out(out)
    return red.std(self, axis=axis, ddof=ddof, keepdims=keepdims)


def _astype(self: Variable, dtype: Any, *args: Any, **kwargs: Any) -> Any:
    """A floating dtype keeps the value traced (float32/float64 cast); others give plain values."""
    dt = np.dtype(dtype)
    if dt.kind == "c":
        raise TypeError("autodiff differentiates real floating point values only; astype to a complex dtype")
    if dt.kind != "f":
        return self.value.astype(dt, *args, **kwargs)
    return self if dt == self.value.dtype else cast(self, dt)


def _iter(self: Variable) -> Iterator[Any]:
    for i in range(len(self)):
        yield shp.getitem(self, i)


_METHODS = {
    "__add__": lambda s, o: ew.add(s, o),
    "__radd__": lambda s, o: ew.add(o, s),
    "__sub__": lambda s, o: ew.subtract(s, o),
    "__rsub__": lambda s, o: ew.subtract(o, s),
    "__mul__": lambda s, o: ew.multiply(s, o),
    "__rmul__": lambda s, o: ew.multiply(o, s),
    "__truediv__": lambda s, o: ew.divide(s, o),
    "__rtruediv__": lambda s, o: ew.divide(o, s),
    "__pow__": lambda s, o: ew.power(s, o),
    "__rpow__": lambda s, o: ew.power(o, s),
    "__matmul__": lambda s, o: la.matmul(s, o),
    "__rmatmul__": lambda s, o: la.matmul(o, s),
    "__neg__": lambda s: ew.negative(s),
    "__pos__": lambda s: s,
    "__abs__": lambda s: ew.abs(s),
    "__getitem__": lambda s, index: shp.getitem(s, index),
    "__iter__": _iter,
    "__lt__": lambda s, o: np.less(s.value, raw(o)),
    "__le__": lambda s, o: np.less_equal(s.value, raw(o)),
    "__gt__": lambda s, o: np.greater(s.value, raw(o)),
    "__ge__": lambda s, o: np.greater_equal(s.value, raw(o)),
    "__eq__": lambda s, o: np.equal(s.value, raw(o)),
    "__ne__": lambda s, o: np.not_equal(s.value, raw(o)),
    "reshape": _reshape,
    "transpose": _transpose,
    "swapaxes": lambda s, a, b: shp.swapaxes(s, a, b),
    "flatten": lambda s: shp.ravel(s),
    "ravel": lambda s: shp.ravel(s),
    "squeeze": lambda s, axis=None: shp.squeeze(s, axis),
    "dot": lambda s, o: la.dot(s, o),
    "sum": _sum,
    "mean": _mean,
    "max": _max,
    "min": _min,
    "var": _var,
    "std": _std,
    "clip": lambda s, min=None, max=None: ew.clip(s, min, max),
    "__mod__": lambda s, o: ewx.mod(s, o),
    "__rmod__": lambda s, o: ewx.mod(o, s),
    "astype": _astype,
    "real": property(lambda s: s),
    "imag": property(lambda s: np.zeros_like(s.value)),
    "conj": lambda s: s,
    "conjugate": lambda s: s,
    "prod": lambda s, axis=None, dtype=None, out=None, keepdims=False: _no_out(out) or cum.prod(s, axis=axis, dtype=dtype, keepdims=keepdims),
    "cumsum": lambda s, axis=None, dtype=None, out=None: _no_out(out) or cum.cumsum(s, axis, dtype),
    "cumprod": lambda s, axis=None, dtype=None, out=None: _no_out(out) or cum.cumprod(s, axis, dtype),
    "diagonal": lambda s, offset=0, axis1=0, axis2=1: dia.diagonal(s, offset, axis1, axis2),
    "trace": lambda s, offset=0, axis1=0, axis2=1, dtype=None, out=None: _no_out(out) or dia.trace(s, offset, axis1, axis2),
    "repeat": lambda s, repeats, axis=None: rea.repeat(s, repeats, axis),
    "T": property(lambda s: shp.transpose(s, None)),
    "mT": property(lambda s: shp.swapaxes(s, -1, -2)),
}


def install() -> None:
    """Attach the operators and methods to Variable (called once at import)."""
    for name, fn in _METHODS.items():
        setattr(Variable, name, fn)
