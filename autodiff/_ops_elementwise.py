"""Elementwise ops with full numpy broadcasting and their VJP rules.

Every rule returns D·∂ directly (section 4.6): for an elementwise op the
partial derivative is diagonal, so the product is an elementwise product and
no d×d matrix is ever formed. Broadcast operands get their gradient summed
back to their own shape (`unbroadcast`).

Conventions at non-differentiable points (documented in docs/autodiff.md):
abs'(0) = 0, relu'(0) = 0, sign/floor-like ops are not differentiable and
live outside this module; maximum/minimum split the gradient equally
between tied operands; clip passes the gradient to x on the closed interval
[a_min, a_max].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._node import Primitive, binary_op, raw, unary_op
from ._ops_core import unbroadcast

__all__ = [
    "add", "subtract", "multiply", "divide", "negative", "power", "maximum", "minimum",
    "logaddexp", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "square",
    "reciprocal", "abs", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh",
    "cosh", "tanh", "arcsinh", "arctanh", "sigmoid", "softplus", "relu", "where", "clip",
]

_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))


# Binary arithmetic (broadcasting). --------------------------------------------

add = binary_op(
    "add",
    np.add,
    lambda g, ans, x, y: unbroadcast(g, x.shape),
    lambda g, ans, x, y: unbroadcast(g, y.shape),
)

subtract = binary_op(
    "subtract",
    np.subtract,
    lambda g, ans, x, y: unbroadcast(g, x.shape),
    lambda g, ans, x, y: unbroadcast(-g, y.shape),
)

multiply = binary_op(
    "multiply",
    np.multiply,
    lambda g, ans, x, y: unbroadcast(g * y, x.shape),
    lambda g, ans, x, y: unbroadcast(g * x, y.shape),
)

divide = binary_op(
    "divide",
    np.true_divide,
    lambda g, ans, x, y: unbroadcast(g / y, x.shape),
    lambda g, ans, x, y: unbroadcast(-g * ans / y, y.shape),
)


def _power_vjp_base(g: Any, ans: Any, x: Any, y: Any) -> Any:
    yr = raw(y)
    if isinstance(yr, (int, float)) and not isinstance(yr, bool):
        if yr == 0:
            return unbroadcast(g * 0.0, x.shape)
        d = x * yr if yr == 2 else yr * x ** (yr - 1)
    else:
        d = y * x ** (y - 1)
        zero = np.asarray(yr) == 0
        if zero.any():
            d = where(zero, 0.0, d)
    return unbroadcast(g * d, x.shape)


def _power_vjp_exponent(g: Any, ans: Any, x: Any, y: Any) -> Any:
    xr = raw(x)
    at_zero = np.asarray(xr) == 0
    logx = log(where(at_zero, 1.0, x)) if at_zero.any() else log(x)
    return unbroadcast(g * ans * logx, np.shape(raw(y)))


power = binary_op("power", np.power, _power_vjp_base, _power_vjp_exponent)


def _tie_mask(xr: Any, yr: Any, greater: bool) -> np.ndarray:
    win = np.greater(xr, yr) if greater else np.less(xr, yr)
    return np.where(win, 1.0, np.where(np.equal(xr, yr), 0.5, 0.0))


maximum = binary_op(
    "maximum",
    np.maximum,
    lambda g, ans, x, y: unbroadcast(g * _tie_mask(raw(x), raw(y), True), x.shape),
    lambda g, ans, x, y: unbroadcast(g * _tie_mask(raw(y), raw(x), True), np.shape(raw(y))),
)

minimum = binary_op(
    "minimum",
    np.minimum,
    lambda g, ans, x, y: unbroadcast(g * _tie_mask(raw(x), raw(y), False), x.shape),
    lambda g, ans, x, y: unbroadcast(g * _tie_mask(raw(y), raw(x), False), np.shape(raw(y))),
)

logaddexp = binary_op(
    "logaddexp",
    np.logaddexp,
    lambda g, ans, x, y: unbroadcast(g * exp(x - ans), x.shape),
    lambda g, ans, x, y: unbroadcast(g * exp(y - ans), y.shape),
)


# Unary elementwise functions. ----------------------------------------------------

negative = unary_op("negative", np.negative, lambda g, ans, x: -g)
exp = unary_op("exp", np.exp, lambda g, ans, x: g * ans)
expm1 = unary_op("expm1", np.expm1, lambda g, ans, x: g * (ans + 1.0))
log = unary_op("log", np.log, lambda g, ans, x: g / x)
log1p = unary_op("log1p", np.log1p, lambda g, ans, x: g / (x + 1.0))
log2 = unary_op("log2", np.log2, lambda g, ans, x: g / (x * _LN2))
log10 = unary_op("log10", np.log10, lambda g, ans, x: g / (x * _LN10))
sqrt = unary_op("sqrt", np.sqrt, lambda g, ans, x: g / (ans * 2.0))
square = unary_op("square", np.square, lambda g, ans, x: g * (x * 2.0))
reciprocal = unary_op("reciprocal", lambda x: np.reciprocal(x), lambda g, ans, x: -g * (ans * ans))
abs = unary_op("abs", np.abs, lambda g, ans, x: g * np.sign(raw(x)))
sin = unary_op("sin", np.sin, lambda g, ans, x: g * cos(x))
cos = unary_op("cos", np.cos, lambda g, ans, x: -g * sin(x))
tan = unary_op("tan", np.tan, lambda g, ans, x: g * (ans * ans + 1.0))
arcsin = unary_op("arcsin", np.arcsin, lambda g, ans, x: g / sqrt(1.0 - x * x))
arccos = unary_op("arccos", np.arccos, lambda g, ans, x: -g / sqrt(1.0 - x * x))
arctan = unary_op("arctan", np.arctan, lambda g, ans, x: g / (x * x + 1.0))
sinh = unary_op("sinh", np.sinh, lambda g, ans, x: g * cosh(x))
cosh = unary_op("cosh", np.cosh, lambda g, ans, x: g * sinh(x))
tanh = unary_op("tanh", np.tanh, lambda g, ans, x: g * (1.0 - ans * ans))
arcsinh = unary_op("arcsinh", np.arcsinh, lambda g, ans, x: g / sqrt(x * x + 1.0))
arctanh = unary_op("arctanh", np.arctanh, lambda g, ans, x: g / (1.0 - x * x))
def _expit(x):
    """scipy.special.expit, imported on first use (scipy.special is slow to import)."""
    from scipy.special import expit
    return expit(x)


sigmoid = unary_op("sigmoid", _expit, lambda g, ans, x: g * (ans * (1.0 - ans)))
softplus = unary_op("softplus", lambda x: np.logaddexp(0.0, x), lambda g, ans, x: g * sigmoid(x))
relu = unary_op("relu", lambda x: np.maximum(x, 0.0), lambda g, ans, x: g * (raw(x) > 0))


# Selection. ------------------------------------------------------------------------


def _where_vjp_x(g: Any, ans: Any, cond: Any, x: Any, y: Any) -> Any:
    return unbroadcast(where(cond, g, 0.0), x.shape)


def _where_vjp_y(g: Any, ans: Any, cond: Any, x: Any, y: Any) -> Any:
    return unbroadcast(where(cond, 0.0, g), y.shape)


def _no_vjp(*args: Any, **kwargs: Any) -> Any:
    raise TypeError("the condition of where() is not differentiable")


_where = Primitive("where", np.where, (_no_vjp, _where_vjp_x, _where_vjp_y))


def where(condition: Any, x: Any, y: Any) -> Any:
    """numpy.where(condition, x, y); the gradient goes to the selected operand."""
    return _where(np.asarray(raw(condition), dtype=bool), x, y)


def _clip_vjp_x(g: Any, ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    xr = raw(x)
    inside = np.True_
    if lo is not None:
        inside = np.logical_and(inside, xr >= raw(lo))
    if hi is not None:
        inside = np.logical_and(inside, xr <= raw(hi))
    return unbroadcast(g * inside, x.shape)


def _clip_vjp_lo(g: Any, ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    below = raw(x) < raw(lo)
    if hi is not None:
        below = np.logical_and(below, raw(lo) <= raw(hi))
    return unbroadcast(g * below, lo.shape)


def _clip_vjp_hi(g: Any, ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    above = raw(x) > raw(hi)
    if lo is not None:
        above = np.logical_or(above, raw(lo) > raw(hi))
    return unbroadcast(g * above, hi.shape)


_clip = Primitive("clip", lambda x, lo, hi: np.clip(x, lo, hi), (_clip_vjp_x, _clip_vjp_lo, _clip_vjp_hi))


def clip(a: Any, a_min: Any = None, a_max: Any = None) -> Any:
    """numpy.clip; the gradient reaches `a` on the closed interval [a_min, a_max]."""
    if a_min is None and a_max is None:
        raise ValueError("clip: at least one of a_min and a_max must be given")
    return _clip(a, a_min, a_max)
