"""More elementwise ops: mod/remainder/fmod, hypot, arctan2, exp2, logaddexp2, sinc, cbrt,
fmax/fmin, nan_to_num, degree conversions.

VJP rules are written with engine ops (section 4.6), so they can be differentiated
again. Conventions (docs/autodiff.md): the remainder ops have derivative 1 in x and
-floor(x / y) (mod) or -trunc(x / y) (fmod) in y away from their jumps; hypot'(0, 0) = 0;
fmax/fmin pass the gradient to the operand they return (half each on ties, all of it
to the number when the other operand is NaN); nan_to_num passes the gradient where x is
finite and none to the replaced entries.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._node import Variable, binary_op, raw, unary_op
from ._ops_core import unbroadcast
from ._ops_elementwise import cos, exp as _exp, multiply, sqrt, where

__all__ = [
    "mod", "fmod", "hypot", "arctan2", "exp2", "logaddexp2", "sinc", "cbrt", "arccosh", "fmax", "fmin",
    "nan_to_num", "deg2rad", "rad2deg",
]

_LN2 = math.log(2.0)


def _shape(a: Any) -> tuple:
    return np.shape(raw(a))


mod = binary_op(
    "mod",
    np.mod,
    lambda g, ans, x, y: unbroadcast(g, _shape(x)),
    lambda g, ans, x, y: unbroadcast(g * -np.floor_divide(raw(x), raw(y)), _shape(y)),
)

fmod = binary_op(
    "fmod",
    np.fmod,
    lambda g, ans, x, y: unbroadcast(g, _shape(x)),
    lambda g, ans, x, y: unbroadcast(g * -np.trunc(np.true_divide(raw(x), raw(y))), _shape(y)),
)


def _hypot_part(g: Any, ans: Any, a: Any) -> Any:
    zero = np.asarray(raw(ans)) == 0
    safe = where(zero, 1.0, ans) if zero.any() else ans
    return unbroadcast(g * a / safe, _shape(a))


hypot = binary_op(
    "hypot",
    np.hypot,
    lambda g, ans, x, y: _hypot_part(g, ans, x),
    lambda g, ans, x, y: _hypot_part(g, ans, y),
)

arctan2 = binary_op(
    "arctan2",
    np.arctan2,
    lambda g, ans, y, x: unbroadcast(g * x / (x * x + y * y), _shape(y)),
    lambda g, ans, y, x: unbroadcast(-g * y / (x * x + y * y), _shape(x)),
)

exp2 = unary_op("exp2", np.exp2, lambda g, ans, x: g * (ans * _LN2))

logaddexp2 = binary_op(
    "logaddexp2",
    np.logaddexp2,
    lambda g, ans, x, y: unbroadcast(g * _exp((x - ans) * _LN2), _shape(x)),
    lambda g, ans, x, y: unbroadcast(g * _exp((y - ans) * _LN2), _shape(y)),
)


def _sinc_vjp(g: Any, ans: Any, x: Any) -> Any:
    zero = np.asarray(raw(x)) == 0
    if not zero.any():
        return g * ((cos(x * np.pi) - ans) / x)
    safe = where(zero, 1.0, x)
    # at 0 the branch -(pi^2 / 3) x has value 0 and the right second derivative
    return g * where(zero, x * (-np.pi ** 2 / 3.0), (cos(x * np.pi) - ans) / safe)


sinc = unary_op("sinc", np.sinc, _sinc_vjp)
cbrt = unary_op("cbrt", np.cbrt, lambda g, ans, x: g / (ans * ans * 3.0))
arccosh = unary_op("arccosh", np.arccosh, lambda g, ans, x: g / sqrt(x * x - 1.0))


def _pick(xr: Any, yr: Any, greater: bool) -> np.ndarray:
    xr, yr = np.asarray(xr), np.asarray(yr)
    win = np.greater(xr, yr) if greater else np.less(xr, yr)
    win = win | (np.isnan(yr) & ~np.isnan(xr))
    return np.where(win, 1.0, np.where(np.equal(xr, yr), 0.5, 0.0))


fmax = binary_op(
    "fmax",
    np.fmax,
    lambda g, ans, x, y: unbroadcast(g * _pick(raw(x), raw(y), True), _shape(x)),
    lambda g, ans, x, y: unbroadcast(g * _pick(raw(y), raw(x), True), _shape(y)),
)

fmin = binary_op(
    "fmin",
    np.fmin,
    lambda g, ans, x, y: unbroadcast(g * _pick(raw(x), raw(y), False), _shape(x)),
    lambda g, ans, x, y: unbroadcast(g * _pick(raw(y), raw(x), False), _shape(y)),
)


def nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None, neginf: Any = None) -> Any:
    """numpy.nan_to_num; the gradient reaches the finite entries only."""
    if not isinstance(x, Variable):
        return np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    xr = x.value
    finite = np.isfinite(xr)
    if finite.all():
        return x
    return where(finite, x, np.nan_to_num(xr, nan=nan, posinf=posinf, neginf=neginf))


def deg2rad(x: Any) -> Any:
    """numpy.deg2rad (= numpy.radians)."""
    return multiply(x, np.pi / 180.0)


def rad2deg(x: Any) -> Any:
    """numpy.rad2deg (= numpy.degrees)."""
    return multiply(x, 180.0 / np.pi)

