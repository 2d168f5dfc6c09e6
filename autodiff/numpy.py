"""numpy-compatible namespace: `import autodiff.numpy as anp`.

Functions keep numpy's names and signatures (axis, keepdims, broadcasting)
and work on plain arrays (returning exactly what numpy returns) and on
traced values (recording operation nodes, section 4.5). Non-differentiable
functions (argmax, floor, sign, comparisons, constructors ...) operate on the
plain values. Any other numpy attribute is forwarded to numpy unchanged;
such functions raise a clear TypeError if given a traced value.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as _np

from ._node import Variable, raw
from ._ops_core import broadcast_to, mean, reshape, sum
from ._ops_elementwise import (
    abs, add, arccos, arcsin, arcsinh, arctan, arctanh, clip, cos, cosh, divide, exp, expm1,
    log, log1p, log2, log10, logaddexp, maximum, minimum, multiply, negative, power, reciprocal,
    relu, sigmoid, sin, sinh, softplus, sqrt, square, subtract, tan, tanh,
)
from ._ops_linalg import dot, einsum, inner, matmul, norm, outer, tensordot, vdot
from ._ops_diagonal import trace
from ._ops_reduce import amax as _amax, amin as _amin, logsumexp, std as _std, var as _var
from ._ops_build import (
    append, atleast_1d, atleast_2d, atleast_3d, c_, column_stack, dstack, linspace, r_, row_stack, select,
)
from ._ops_cumulative import cumprod, cumsum, diff, prod as _prod
from ._ops_decomp import cholesky, det, eigh, eigvalsh, inv, pinv, slogdet, solve, svd
from ._ops_diagonal import diag, diagonal, tril, triu
from ._ops_elementwise_extra import (
    arccosh, arctan2, cbrt, deg2rad, exp2, fmax, fmin, fmod, hypot, logaddexp2, mod, nan_to_num, rad2deg, sinc,
)
from ._ops_products import cross, kron
from ._ops_rearrange import fliplr, flipud, pad, repeat, roll, rot90, take, tile
from ._ops_sort import partition, sort, take_along_axis
from ._ops_elementwise import where as _where3
from ._ops_shape import (
    concatenate, expand_dims, flip, getitem, hstack, moveaxis, ravel, squeeze, stack, swapaxes,
    transpose, vstack,
)

absolute = abs
fabs = abs
true_divide = divide
pow = power
remainder = mod
radians = deg2rad
degrees = rad2deg


def positive(x: Any) -> Any:
    """numpy.positive (+x)."""
    return x if isinstance(x, Variable) else _np.positive(x)


def real(x: Any) -> Any:
    """numpy.real: a real traced value is its own real part."""
    return x if isinstance(x, Variable) else _np.real(x)


def imag(x: Any) -> Any:
    """numpy.imag: zeros for a real traced value (no gradient)."""
    return _np.zeros_like(x.value) if isinstance(x, Variable) else _np.imag(x)


def conj(x: Any) -> Any:
    """numpy.conj: a real traced value is its own conjugate."""
    return x if isinstance(x, Variable) else _np.conj(x)


conjugate = conj


def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """numpy.where; the one-argument form returns indices (not differentiable)."""
    if x is None and y is None:
        return _np.where(raw(condition))
    return _where3(condition, x, y)


def _contains_variable(obj: Any) -> bool:
    if isinstance(obj, Variable):
        return True
    if isinstance(obj, (list, tuple)):
        return any(_contains_variable(o) for o in obj)
    return False


def array(obj: Any, dtype: Any = None, copy: bool = True, ndmin: int = 0) -> Any:
    """numpy.array; nested lists containing traced values are stacked into one traced value."""
    if isinstance(obj, Variable):
        return obj
    if not _contains_variable(obj):
        return _np.array(obj, dtype=dtype, copy=copy, ndmin=ndmin)
    if isinstance(obj, (list, tuple)):
        return stack([array(o) for o in obj])
    return obj


def asarray(obj: Any, dtype: Any = None) -> Any:
    """numpy.asarray; traced values pass through, lists of traced values are stacked."""
    if _contains_variable(obj):
        return array(obj)
    return _np.asarray(obj, dtype=dtype)


def _listable(fn: Any) -> Any:
    """Let a reduction take a (nested) list of traced values, as numpy does for lists."""

    def wrapper(a: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(a, (list, tuple)) and _contains_variable(a):
            a = array(a)
        return fn(a, *args, **kwargs)

    wrapper.__name__ = wrapper.__qualname__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


sum = _listable(sum)
mean = _listable(mean)
var = _listable(_var)
std = _listable(_std)
prod = _listable(_prod)
amax = max = _listable(_amax)
amin = min = _listable(_amin)


def _plain(fn: Any) -> Any:
    """Wrap a non-differentiable numpy function to act on the plain values."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        args = tuple(raw(a) if not isinstance(a, (list, tuple)) else type(a)(raw(x) for x in a) for a in args)
        kwargs = {k: raw(v) for k, v in kwargs.items()}
        return fn(*args, **kwargs)

    wrapper.__name__ = wrapper.__qualname__ = fn.__name__
    wrapper.__doc__ = f"numpy.{fn.__name__} on plain values (not differentiable)."
    return wrapper


_NON_DIFFERENTIABLE = [
    "argmax", "argmin", "argsort", "sign", "floor", "ceil", "round", "rint", "trunc",
    "isnan", "isinf", "isfinite", "shape", "ndim", "size", "zeros_like", "ones_like",
    "empty_like", "full_like", "allclose", "isclose", "array_equal", "all", "any",
    "nonzero", "count_nonzero", "greater", "greater_equal", "less", "less_equal", "equal",
    "not_equal", "logical_and", "logical_or", "logical_not", "signbit", "heaviside", "floor_divide",
    "argpartition",
]
for _name in _NON_DIFFERENTIABLE:
    globals()[_name] = _plain(getattr(_np, _name))
del _name



class _Linalg(types.ModuleType):
    """`anp.linalg`: the differentiable functions, everything else forwarded to numpy.linalg."""

    norm = staticmethod(norm)
    solve = staticmethod(solve)
    inv = staticmethod(inv)
    det = staticmethod(det)
    slogdet = staticmethod(slogdet)
    cholesky = staticmethod(cholesky)
    eigh = staticmethod(eigh)
    eigvalsh = staticmethod(eigvalsh)
    svd = staticmethod(svd)
    pinv = staticmethod(pinv)

    def __getattr__(self, name: str) -> Any:
        return getattr(_np.linalg, name)


linalg = _Linalg("autodiff.numpy.linalg")


def __getattr__(name: str) -> Any:
    """Forward anything not wrapped here (constants, constructors, dtypes) to numpy."""
    try:
        return getattr(_np, name)
    except AttributeError:
        raise AttributeError(f"module 'autodiff.numpy' has no attribute {name!r}") from None


__all__ = [
    "abs", "absolute", "add", "amax", "amin", "arccos", "arcsin", "arcsinh", "arctan", "arctanh",
    "array", "asarray", "broadcast_to", "clip", "concatenate", "cos", "cosh", "divide", "dot",
    "einsum", "exp", "expand_dims", "expm1", "flip", "getitem", "hstack", "inner", "linalg", "log",
    "log10", "log1p", "log2", "logaddexp", "logsumexp", "matmul", "max", "maximum", "mean", "min",
    "minimum", "moveaxis", "multiply", "negative", "norm", "outer", "pow", "power", "ravel",
    "reciprocal", "relu", "reshape", "sigmoid", "sin", "sinh", "softplus", "sqrt", "square",
    "squeeze", "stack", "std", "subtract", "sum", "swapaxes", "tan", "tanh", "tensordot", "trace",
    "transpose", "true_divide", "var", "vdot", "vstack", "where",
    "append", "arccosh", "arctan2", "atleast_1d", "atleast_2d", "atleast_3d", "c_", "cbrt", "column_stack",
    "conj", "conjugate", "cross", "cumprod", "cumsum", "deg2rad", "degrees", "diag", "diagonal", "diff",
    "dstack", "exp2", "fabs", "fliplr", "flipud", "fmax", "fmin", "fmod", "hypot", "imag", "kron",
    "linspace", "logaddexp2", "mod", "nan_to_num", "pad", "partition", "positive", "prod", "r_",
    "rad2deg", "radians", "real", "remainder", "repeat", "roll", "rot90", "row_stack", "select", "sinc",
    "sort", "take", "take_along_axis", "tile", "tril", "triu",
] + _NON_DIFFERENTIABLE
