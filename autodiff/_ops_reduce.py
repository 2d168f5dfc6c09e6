"""Reductions beyond sum/mean: max/min, logsumexp, var/std.

Conventions (documented): where several entries attain the extreme value
of max/min the gradient is split equally among them (as torch.amax); the
gradient of std over a slice with zero variance is 0 (as torch.std).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._node import Primitive, Variable, raw
from ._ops_core import broadcast_to, mean, normalize_axis_tuple, reduced_shape, reshape, sum
from ._ops_elementwise import exp, where

__all__ = ["amax", "amin", "logsumexp", "var", "std"]


def _extreme_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    shape = x.shape
    kept = reduced_shape(shape, axis)
    hit = np.equal(raw(x), np.reshape(raw(ans), kept))
    share = hit / np.sum(hit, axis=axis, keepdims=True)
    return broadcast_to(reshape(g, kept), shape) * share


_amax = Primitive("max", lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims), (_extreme_vjp,))
_amin = Primitive("min", lambda x, axis=None, keepdims=False: np.min(x, axis=axis, keepdims=keepdims), (_extreme_vjp,))


def amax(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """numpy.max; ties share the gradient equally."""
    if x.__class__ is not Variable:
        return np.max(x, axis=axis, keepdims=keepdims)
    return _amax(x, axis=axis, keepdims=keepdims)


def amin(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """numpy.min; ties share the gradient equally."""
    if x.__class__ is not Variable:
        return np.min(x, axis=axis, keepdims=keepdims)
    return _amin(x, axis=axis, keepdims=keepdims)


def _logsumexp_fwd(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        out = np.squeeze(out, axis=axis) if axis is not None else out.reshape(())
    return out


def _logsumexp_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    shape = x.shape
    kept = reduced_shape(shape, axis)
    return broadcast_to(reshape(g, kept), shape) * exp(x - reshape(ans, kept))


_logsumexp = Primitive("logsumexp", _logsumexp_fwd, (_logsumexp_vjp,))


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """log(sum(exp(x))) computed stably (max-shifted); the VJP is a softmax."""
    if x.__class__ is not Variable:
        return _logsumexp_fwd(np.asarray(x), axis=axis, keepdims=keepdims)
    return _logsumexp(x, axis=axis, keepdims=keepdims)


def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """numpy.var composed from mean and sum (differentiable to any order)."""
    if x.__class__ is not Variable:
        return np.var(x, axis=axis, ddof=ddof, keepdims=keepdims)
    centered = x - mean(x, axis=axis, keepdims=True)
    return sum(centered * centered, axis=axis, keepdims=keepdims) / (_count(x.shape, axis) - ddof)


def _count(shape: tuple, axis: Any) -> int:
    axes = range(len(shape)) if axis is None else normalize_axis_tuple(axis, len(shape))
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def _std_vjp(g: Any, ans: Any, x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    shape = x.shape
    kept = reduced_shape(shape, axis)
    zero = np.reshape(raw(ans), kept) == 0
    ans_k = reshape(ans, kept)
    safe = where(zero, 1.0, ans_k) if zero.any() else ans_k
    scale = reshape(g, kept) / (safe * (_count(shape, axis) - ddof))
    if zero.any():
        scale = where(zero, 0.0, scale)
    return (x - mean(x, axis=axis, keepdims=True)) * scale


_std = Primitive(
    "std",
    lambda x, axis=None, ddof=0, keepdims=False: np.std(x, axis=axis, ddof=ddof, keepdims=keepdims),
    (_std_vjp,),
)


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """numpy.std; where a slice has zero variance its gradient is 0 (torch's convention)."""
    if x.__class__ is not Variable:
        return np.std(x, axis=axis, ddof=ddof, keepdims=keepdims)
    return _std(x, axis=axis, ddof=ddof, keepdims=keepdims)
