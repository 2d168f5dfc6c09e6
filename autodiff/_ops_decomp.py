"""numpy.linalg on traced values: solve, inv, det, slogdet, cholesky, eigh, eigvalsh, svd, pinv.

Every VJP (section 4.6) is written with engine ops, including these primitives
themselves (the VJP of inv uses the inverse, the VJP of eigh the eigenvectors
of the same input), so gradients can be differentiated again. Conventions
(docs/autodiff.md): cholesky and eigh read one triangle of their input, as
numpy does, so their gradient is the derivative of that function: zero on
the unread triangle, off-diagonal entries of the read triangle counted for
both symmetric positions. eigenvector gradients assume distinct eigenvalues,
singular-vector gradients distinct nonzero singular values (full_matrices=False
or square input), pinv a matrix of full rank.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ._node import Primitive, Variable, raw
from ._ops_core import unbroadcast
from ._ops_elementwise import multiply
from ._ops_linalg import matmul
from ._ops_shape import expand_dims, getitem, swapaxes

__all__ = ["solve", "inv", "det", "slogdet", "cholesky", "eigh", "eigvalsh", "svd", "pinv"]


class EighResult(NamedTuple):
    """numpy's field names for eigh."""

    eigenvalues: Any
    eigenvectors: Any


class SVDResult(NamedTuple):
    """numpy's field names for svd."""

    U: Any
    S: Any
    Vh: Any


class SlogdetResult(NamedTuple):
    """numpy's field names for slogdet."""

    sign: Any
    logabsdet: Any


def _t(x: Any) -> Any:
    return swapaxes(x, -1, -2)


def _col(x: Any) -> Any:
    return expand_dims(x, -1)


def _row(x: Any) -> Any:
    return expand_dims(x, -2)


def _mat(g: Any) -> Any:
    return expand_dims(expand_dims(g, -1), -1)


# inverse, solve, determinants --------------------------------------------------------------

_inv = Primitive("inv", np.linalg.inv, (lambda g, ans, a: -matmul(matmul(_t(ans), g), _t(ans)),))


def inv(a: Any) -> Any:
    """numpy.linalg.inv; VJP -A^{-T} G A^{-T}."""
    return _inv(a)


def _solve_fwd(a: Any, b: Any) -> Any:
    return np.linalg.solve(a, b)


def _solve_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if np.ndim(raw(b)) == 1:
        g, ans = _col(g), _col(ans)
    return unbroadcast(-matmul(solve(_t(a), g), _t(ans)), np.shape(raw(a)))


def _solve_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if np.ndim(raw(b)) == 1:
        gb = solve(_t(a), _col(g))
        return unbroadcast(getitem(gb, (Ellipsis, 0)), np.shape(raw(b)))
    return unbroadcast(solve(_t(a), g), np.shape(raw(b)))


_solve = Primitive("solve", _solve_fwd, (_solve_vjp_a, _solve_vjp_b))


def solve(a: Any, b: Any) -> Any:
    """numpy.linalg.solve (b a vector or a stack of matrices); VJPs: solve with A^T."""
    return _solve(a, b)


_det = Primitive("det", np.linalg.det, (lambda g, ans, a: _mat(g * ans) * _t(inv(a)),))


def det(a: Any) -> Any:
    """numpy.linalg.det; VJP g det(A) A^{-T}."""
    return _det(a)


_logabsdet = Primitive("logabsdet", lambda a: np.linalg.slogdet(a)[1], (lambda g, ans, a: _mat(g) * _t(inv(a)),))


def slogdet(a: Any) -> tuple:
    """numpy.linalg.slogdet: (sign, log|det|); the sign is piecewise constant (plain)."""
    if not isinstance(a, Variable):
        return np.linalg.slogdet(a)
    return SlogdetResult(np.linalg.slogdet(a.value)[0], _logabsdet(a))


# symmetric input: cholesky, eigh ----------------------------------------------------------------


def _one_triangle(g: Any, uplo: str) -> Any:
    """Gradient w.r.t. the read triangle of a symmetric-input function from its symmetric form."""
    n = np.shape(raw(g))[-1]
    strict = np.tril(np.ones((n, n)), -1) if uplo == "L" else np.triu(np.ones((n, n)), 1)
    return multiply(g, np.eye(n)) + multiply(g + _t(g), strict)


def _cholesky_vjp(g: Any, ans: Any, a: Any) -> Any:
    n = np.shape(raw(a))[-1]
    phi = multiply(matmul(_t(ans), g), np.tril(np.ones((n, n))) / (1.0 + np.eye(n)))
    right = _t(solve(_t(ans), _t(phi)))  # phi L^{-1}
    s = solve(_t(ans), right)  # L^{-T} phi L^{-1}
    return _one_triangle((s + _t(s)) * 0.5, "L")


_cholesky = Primitive("cholesky", np.linalg.cholesky, (_cholesky_vjp,))


def cholesky(a: Any) -> Any:
    """numpy.linalg.cholesky (reads the lower triangle)."""
    return _cholesky(a)


def _eigh_vjp_w(g: Any, ans: Any, a: Any, uplo: str) -> Any:
    v = _eigh_v(a, uplo)
    return _one_triangle(matmul(v * _row(g), _t(v)), uplo)


def _eigh_vjp_v(g: Any, ans: Any, a: Any, uplo: str) -> Any:
    w = _eigh_w(a, uplo)
    n = np.shape(raw(a))[-1]
    gap = _row(w) - _col(w) + np.eye(n)
    f = (1.0 - np.eye(n)) / gap
    inner = f * matmul(_t(ans), g)
    return _one_triangle(matmul(matmul(ans, inner), _t(ans)), uplo)


_eigh_w = Primitive("eigh_values", lambda a, uplo: np.linalg.eigh(a, uplo)[0], (_eigh_vjp_w,))
_eigh_v = Primitive("eigh_vectors", lambda a, uplo: np.linalg.eigh(a, uplo)[1], (_eigh_vjp_v,))


def eigh(a: Any, UPLO: str = "L") -> tuple:
    """numpy.linalg.eigh: (eigenvalues, eigenvectors), reading the UPLO triangle."""
    if not isinstance(a, Variable):
        return np.linalg.eigh(a, UPLO)
    uplo = UPLO.upper()
    return EighResult(_eigh_w(a, uplo), _eigh_v(a, uplo))


def eigvalsh(a: Any, UPLO: str = "L") -> Any:
    """numpy.linalg.eigvalsh."""
    if not isinstance(a, Variable):
        return np.linalg.eigvalsh(a, UPLO)
    return _eigh_w(a, UPLO.upper())


# singular value decomposition, pseudo-inverse ------------------------------------------------------


def _svd_parts(a: Any) -> tuple:
    return _svd_u(a), _svd_s(a), _svd_vh(a)


def _svd_vjp(gu: Any, gs: Any, gvh: Any, a: Any) -> Any:
    """Reverse-mode rule of the reduced SVD A = U diag(s) V^T (real case)."""
    u, s, vh = _svd_parts(a)
    v = _t(vh)
    m, n = np.shape(raw(a))[-2:]
    k = min(m, n)
    eye = np.eye(k)
    out = 0.0
    if gs is not None:
        out = matmul(u * _row(gs), vh)
    if gu is None and gvh is None:
        return out
    s2 = s * s
    f = (1.0 - eye) / (_row(s2) - _col(s2) + eye)
    core = 0.0
    if gu is not None:
        utgu = matmul(_t(u), gu)
        core = core + f * (utgu - _t(utgu)) * _row(s)
        if m > k:
            proj = matmul(gu - matmul(u, matmul(_t(u), gu)), _t(v / _row(s)))
            out = out + proj
    if gvh is not None:
        gv = _t(gvh)
        vtgv = matmul(_t(v), gv)
        core = core + _col(s) * (f * (vtgv - _t(vtgv)))
        if n > k:
            proj = matmul(u / _row(s), _t(gv - matmul(v, matmul(vh, gv))))
            out = out + proj
    return out + matmul(matmul(u, core), vh)


_svd_u = Primitive("svd_u", lambda a: np.linalg.svd(a, full_matrices=False)[0], (lambda g, ans, a: _svd_vjp(g, None, None, a),))
_svd_s = Primitive("svd_s", lambda a: np.linalg.svd(a, compute_uv=False), (lambda g, ans, a: _svd_vjp(None, g, None, a),))
_svd_vh = Primitive("svd_vh", lambda a: np.linalg.svd(a, full_matrices=False)[2], (lambda g, ans, a: _svd_vjp(None, None, g, a),))


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    """numpy.linalg.svd; traced input needs compute_uv=False, full_matrices=False or a square matrix."""
    if not isinstance(a, Variable):
        return np.linalg.svd(a, full_matrices, compute_uv, hermitian)
    if not compute_uv:
        return _svd_s(a)
    m, n = a.shape[-2:]
    if full_matrices and m != n:
        raise NotImplementedError(
            "svd: the extra singular vectors of full_matrices=True are not determined by the input, so they "
            "have no gradient; pass full_matrices=False (or compute_uv=False) for a traced rectangular matrix"
        )
    return SVDResult(*_svd_parts(a))


def pinv(a: Any, *args: Any, **kwargs: Any) -> Any:
    """numpy.linalg.pinv of a full-rank matrix: (A^T A)^{-1} A^T or A^T (A A^T)^{-1}."""
    if not isinstance(a, Variable):
        return np.linalg.pinv(a, *args, **kwargs)
    m, n = a.shape[-2:]
    s = np.linalg.svd(a.value, compute_uv=False)
    if np.any(s[..., -1:] <= max(m, n) * np.finfo(a.dtype).eps * s[..., :1]):
        raise NotImplementedError("pinv: the gradient is offered for full-rank matrices only")
    at = _t(a)
    if m >= n:
        return solve(matmul(at, a), at)
    return _t(solve(matmul(a, at), a))

