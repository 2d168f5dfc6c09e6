"""Products and tensor contraction (section 4.7): matmul, einsum, tensordot, norms.

The VJP of a contraction is again a contraction (the chain rule with
matrix products replaced by tensor contractions, section 4.7), so einsum's
rule is an einsum of the cotangent with the other operands; repeated
indices (diagonals) are handled with Kronecker-delta operands and indices
summed inside a single operand with a ones operand.
"""

from __future__ import annotations

import string
from collections import Counter
from typing import Any, Sequence

import numpy as np

from ._errors import ShapeError
from ._node import Primitive, Variable, binary_op, raw
from ._ops_core import broadcast_to, normalize_axis_tuple, reduced_shape, reshape, sum, unbroadcast
from ._ops_elementwise import abs, multiply, power, where
from ._ops_reduce import amax, amin
from ._ops_shape import expand_dims, ravel, swapaxes

__all__ = ["matmul", "einsum", "tensordot", "dot", "inner", "outer", "vdot", "norm"]

_LETTERS = string.ascii_letters


# matmul ---------------------------------------------------------------------------------


def _matmul_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:
        if a.ndim == 1:
            return g * b
        return unbroadcast(expand_dims(g, -1) * b, a.shape)
    if a.ndim == 1:
        ga = matmul(b, expand_dims(g, -1))
        return unbroadcast(reshape(ga, ga.shape[:-1]), a.shape)
    return unbroadcast(matmul(g, swapaxes(b, -1, -2)), a.shape)


def _matmul_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if a.ndim == 1:
        if b.ndim == 1:
            return g * a
        return unbroadcast(expand_dims(a, -1) * expand_dims(g, -2), b.shape)
    if b.ndim == 1:
        gb = matmul(swapaxes(a, -1, -2), expand_dims(g, -1))
        return unbroadcast(reshape(gb, gb.shape[:-1]), b.shape)
    return unbroadcast(matmul(swapaxes(a, -1, -2), g), b.shape)


def _matmul_fwd(a: Any, b: Any) -> Any:
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        raise ValueError("matmul: scalar operands are not allowed, use * instead")
    return np.matmul(a, b)


matmul = binary_op("matmul", _matmul_fwd, _matmul_vjp_a, _matmul_vjp_b)


# einsum -----------------------------------------------------------------------------------


def _parse(subscripts: str, shapes: Sequence[tuple]) -> tuple[list[str], str]:
    """Explicit form of an einsum specification: ellipses expanded, output spelled out."""
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        lhs, out = subscripts.split("->")
    else:
        lhs, out = subscripts, None
    specs = lhs.split(",")
    if len(specs) != len(shapes):
        raise ShapeError(f"einsum: {len(specs)} operand specs for {len(shapes)} operands")
    used = {c for c in subscripts if c.isalpha()}
    free = [c for c in _LETTERS if c not in used]
    ell_ndim = 0
    for spec, shape in zip(specs, shapes):
        if "..." in spec:
            ell_ndim = max(ell_ndim, len(shape) - (len(spec) - 3))
    ell = "".join(free[:ell_ndim])
    explicit = []
    for spec, shape in zip(specs, shapes):
        if "..." in spec:
            n = len(shape) - (len(spec) - 3)
            if n < 0:
                raise ShapeError(f"einsum: operand spec {spec!r} has more indices than the operand's shape {shape}")
            spec = spec.replace("...", ell[ell_ndim - n:])
        if len(spec) != len(shape):
            raise ShapeError(f"einsum: operand spec {spec!r} does not match an operand of shape {shape}")
        explicit.append(spec)
    if out is None:
        counts = Counter("".join(explicit))
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    sizes: dict[str, int] = {}
    for spec, shape in zip(explicit, shapes):
        for c, n in zip(spec, shape):
            prev = sizes.get(c)
            if prev is not None and prev != n and prev != 1 and n != 1:
                raise ShapeError(
                    f"einsum: index {c!r} has size {prev} in one operand and {n} in another "
                    f"(operand shapes {', '.join(str(tuple(s)) for s in shapes)})"
                )
            if prev is None or prev == 1:
                sizes[c] = n
    return explicit, out


def _einsum_fwd(*operands: Any, subscripts: str) -> Any:
    big = len(operands) > 2 or np.sum([np.size(o) for o in operands]) > 4096
    return np.einsum(subscripts, *operands, optimize="greedy" if big else False)


def _einsum_vjp(k: int, g: Any, ans: Any, *operands: Any, subscripts: str) -> Any:
    lhs, out = subscripts.split("->")
    specs = lhs.split(",")
    shape_k = np.shape(raw(operands[k]))
    used = set(subscripts)
    fresh = iter(c for c in _LETTERS if c not in used)
    target: list[str] = []
    extra_specs: list[str] = []
    extra_ops: list[Any] = []
    first: dict[str, int] = {}
    for pos, c in enumerate(specs[k]):
        if c in first:
            f = next(fresh)
            target.append(f)
            extra_specs.append(c + f)
            extra_ops.append(np.eye(shape_k[pos]))
        else:
            first[c] = pos
            target.append(c)
    others = [s for j, s in enumerate(specs) if j != k]
    available = set(out).union(*others) if others else set(out)
    for c, pos in first.items():
        if c not in available:
            extra_specs.append(c)
            extra_ops.append(np.ones(shape_k[pos]))
    spec = ",".join(others + [out] + extra_specs) + "->" + "".join(target)
    other_ops = [o for j, o in enumerate(operands) if j != k]
    grad = _einsum(*other_ops, g, *extra_ops, subscripts=spec)
    axes = tuple(i for i, (n, m) in enumerate(zip(shape_k, grad.shape)) if n == 1 and m != 1)
    if axes:
        grad = sum(grad, axis=axes, keepdims=True)
    return grad


_einsum_prim = Primitive("einsum", _einsum_fwd, _einsum_vjp)


def _einsum(*operands: Any, subscripts: str) -> Any:
    if not any(isinstance(o, Variable) for o in operands):
        return _einsum_fwd(*operands, subscripts=subscripts)
    return _einsum_prim(*operands, subscripts=subscripts)


def _sublist_letters(sub: Sequence[Any]) -> str:
    out = []
    for s in sub:
        if s is Ellipsis:
            out.append("...")
        elif isinstance(s, (int, np.integer)) and 0 <= s < len(_LETTERS):
            out.append(_LETTERS[s])
        else:
            raise ValueError(f"einsum: subscripts in the sublist form must be integers in [0, 52) or Ellipsis, got {s!r}")
    return "".join(out)


def _from_sublists(args: tuple) -> tuple[str, tuple]:
    """einsum(op0, sublist0, op1, sublist1, ..., [sublistout]) as a string and the operands."""
    pairs = args if len(args) % 2 == 0 else args[:-1]
    operands = tuple(pairs[0::2])
    specs = ",".join(_sublist_letters(s) for s in pairs[1::2])
    if len(args) % 2:
        specs += "->" + _sublist_letters(args[-1])
    return specs, operands


def einsum(*args: Any) -> Any:
    """numpy.einsum for traced and plain operands: the string form einsum('ij,jk->ik', a, b)
    or the sublist form einsum(a, [0, 1], b, [1, 2]), ellipses and any number of operands."""
    if not args:
        raise TypeError("einsum: no subscripts given")
    if isinstance(args[0], str):
        subscripts, operands = args[0], args[1:]
    else:
        subscripts, operands = _from_sublists(args)
    if not any(isinstance(o, Variable) for o in operands):
        return np.einsum(subscripts, *operands)
    operands = tuple(o if isinstance(o, Variable) else np.asarray(o) for o in operands)
    specs, out = _parse(subscripts, [np.shape(raw(o)) for o in operands])
    return _einsum_prim(*operands, subscripts=",".join(specs) + "->" + out)


def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """numpy.tensordot: contract `axes` of a with `axes` of b (section 4.7's (TV))."""
    if not (isinstance(a, Variable) or isinstance(b, Variable)):
        return np.tensordot(a, b, axes)
    na, nb = np.ndim(raw(a)), np.ndim(raw(b))
    sa, sb = np.shape(raw(a)), np.shape(raw(b))
    if isinstance(axes, (int, np.integer)):
        axes_a, axes_b = list(range(na - axes, na)), list(range(axes))
    else:
        axes_a, axes_b = axes
        axes_a = [axes_a] if isinstance(axes_a, (int, np.integer)) else list(axes_a)
        axes_b = [axes_b] if isinstance(axes_b, (int, np.integer)) else list(axes_b)
    axes_a = list(normalize_axis_tuple(axes_a, na))
    axes_b = list(normalize_axis_tuple(axes_b, nb))
    if len(axes_a) != len(axes_b) or any(sa[i] != sb[j] for i, j in zip(axes_a, axes_b)):
        raise ShapeError(
            f"tensordot: cannot contract axes {axes_a} of shape {sa} with axes {axes_b} of shape {sb}"
        )
    la = _LETTERS[:na]
    lb = list(_LETTERS[na:na + nb])
    for i, j in zip(axes_a, axes_b):
        lb[j] = la[i]
    out = "".join(la[i] for i in range(na) if i not in axes_a) + "".join(
        lb[j] for j in range(nb) if j not in axes_b
    )
    return _einsum_prim(a, b, subscripts=f"{la},{''.join(lb)}->{out}")


def dot(a: Any, b: Any) -> Any:
    """numpy.dot: product for scalars, matmul up to 2-D b, tensordot otherwise."""
    if not (isinstance(a, Variable) or isinstance(b, Variable)):
        return np.dot(a, b)
    na, nb = np.ndim(raw(a)), np.ndim(raw(b))
    if na == 0 or nb == 0:
        return multiply(a, b)
    if nb <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([na - 1], [nb - 2]))


def inner(a: Any, b: Any) -> Any:
    """numpy.inner: contraction over the last axes."""
    if not (isinstance(a, Variable) or isinstance(b, Variable)):
        return np.inner(a, b)
    na, nb = np.ndim(raw(a)), np.ndim(raw(b))
    if na == 0 or nb == 0:
        return multiply(a, b)
    return tensordot(a, b, axes=([na - 1], [nb - 1]))


def outer(a: Any, b: Any) -> Any:
    """numpy.outer of the flattened inputs."""
    if not (isinstance(a, Variable) or isinstance(b, Variable)):
        return np.outer(a, b)
    return multiply(reshape(ravel(a), (-1, 1)), reshape(ravel(b), (1, -1)))


def vdot(a: Any, b: Any) -> Any:
    """numpy.vdot (real inputs): sum of the elementwise product of the flattened inputs."""
    if not (isinstance(a, Variable) or isinstance(b, Variable)):
        return np.vdot(a, b)
    return sum(multiply(ravel(a), ravel(b)))


# norms -------------------------------------------------------------------------------------


def _norm2_fwd(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))


def _norm2_vjp(g: Any, ans: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    shape = x.shape
    kept = reduced_shape(shape, axis)
    ans_k = reshape(ans, kept)
    zero = np.reshape(raw(ans), kept) == 0
    safe = where(zero, 1.0, ans_k) if zero.any() else ans_k
    return broadcast_to(reshape(g, kept), shape) * (x / safe)


_norm2 = Primitive("norm", _norm2_fwd, (_norm2_vjp,))


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """numpy.linalg.norm for vector norms (any p >= 1, inf, -inf) and matrix 'fro', 1, inf norms.

    Convention: the gradient of the 2-norm / Frobenius norm at 0 is 0.
    Spectral and nuclear matrix norms are not offered (they need an SVD).
    """
    if not isinstance(x, Variable):
        return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    nd = x.ndim
    if axis is None:
        axes = tuple(range(nd))
        if ord is not None and nd > 2:
            raise ValueError("norm: improper number of dimensions to norm")
    else:
        axes = normalize_axis_tuple(axis, nd)
    if len(axes) == 1 or (axis is None and nd == 1):
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) != 2:
        raise ValueError("norm: improper number of dimensions to norm")
    if ord in (None, "fro", "f"):
        return _norm2(x, axis=axes, keepdims=keepdims)
    row, col = axes
    if ord in (1, -1):
        inner_axis, outer_axis = row, col
    elif ord in (np.inf, -np.inf):
        inner_axis, outer_axis = col, row
    else:
        raise ValueError(f"norm: matrix norm ord={ord!r} is not supported (only 'fro', 1, -1, inf, -inf)")
    sums = sum(abs(x), axis=inner_axis, keepdims=True)
    pick = amax if ord in (1, np.inf) else amin
    out = pick(sums, axis=outer_axis, keepdims=True)
    return out if keepdims else reshape(out, [n for i, n in enumerate(x.shape) if i not in axes])


def _vector_norm(x: Variable, ord: Any, axis: int, keepdims: bool) -> Any:
    if ord is None or ord == 2:
        return _norm2(x, axis=axis, keepdims=keepdims)
    if ord == np.inf:
        return amax(abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return amin(abs(x), axis=axis, keepdims=keepdims)
    if ord == 1:
        return sum(abs(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, (int, float, np.number)) and ord > 1:
        return power(sum(power(abs(x), ord), axis=axis, keepdims=keepdims), 1.0 / ord)
    raise ValueError(f"norm: vector norm ord={ord!r} is not supported (use p >= 1, inf or -inf)")
