"""Independent certification of the non-smooth families (problems/nonsmooth.py).

L* is confirmed without the LP: a convex piecewise-linear function of full-column-rank A that
is bounded below attains its minimum at a vertex of the hyperplane arrangement {r_i = 0}, so
enumerating every d-subset of rows gives inf L exactly. G is confirmed against the exact
maximum of ||A^T s|| / n over the sign vectors s (a convex function's maximum over the box of
subgradient coefficients), and against sampled subgradients; the subgradient against the
subgradient inequality L(v) >= L(w) + <g(w), v - w> at random pairs.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from problems import FAMILIES, PiecewiseLinearRegression, ProblemBatch

F64 = torch.float64
SETTINGS = settings(max_examples=10, deadline=None)
seeds = st.integers(0, 2 ** 32 - 1)
KINDS = [PiecewiseLinearRegression("l1-regression"), PiecewiseLinearRegression("hinge")]
kind = st.sampled_from(range(2))


def make(k: int, seed: int, B: int, d: int) -> ProblemBatch:
    return KINDS[k].sample(B, d, torch.Generator().manual_seed(seed), dtype=F64)


def points(p: ProblemBatch, gen: torch.Generator, R: int) -> torch.Tensor:
    B, d = p.w1.shape
    u = torch.randn(B, R, d, generator=gen, dtype=F64)
    u = u / u.norm(dim=-1, keepdim=True)
    radius = torch.exp(torch.empty(B, R, 1, dtype=F64).uniform_(math.log(1e-3), math.log(1e3), generator=gen))
    return p.w_star[:, None, :] + radius * u


def data(p: ProblemBatch, b: int) -> tuple[np.ndarray, np.ndarray, float]:
    desc = p.describe(b)
    alpha = -1.0 if desc["kind"] == "l1-regression" else 0.0
    return np.asarray(desc["A"]), np.asarray(desc["b"]), alpha


def enumerated_minimum(A: np.ndarray, b: np.ndarray, alpha: float) -> float:
    """min over the arrangement's vertices (every invertible d x d subsystem A_S w = b_S)."""
    n, d = A.shape
    best = math.inf
    for rows in itertools.combinations(range(n), d):
        sub = A[list(rows)]
        if abs(np.linalg.det(sub)) < 1e-12 * np.prod(np.linalg.norm(sub, axis=1)):
            continue
        r = A @ np.linalg.solve(sub, b[list(rows)]) - b
        best = min(best, float(np.maximum(r, alpha * r).mean()))
    return best


def test_registered_and_declared() -> None:
    for family in KINDS:
        assert FAMILIES[family.name] is not None
        assert family.classes == {"cvx", "lip", "lb", "minimizer", "fsum"}
        assert "smooth" not in family.classes
    with pytest.raises(ValueError, match="kind must be one of"):
        PiecewiseLinearRegression("l2")


@SETTINGS
@given(seed=seeds, d=st.integers(1, 4), k=kind)
def test_Lstar_and_w_star_match_vertex_enumeration(seed: int, d: int, k: int) -> None:
    p = make(k, seed, 3, d)
    for b in range(3):
        A, y, alpha = data(p, b)
        exact = enumerated_minimum(A, y, alpha)
        scale = 1.0 + exact + float(np.abs(y).mean())
        Lstar, gap = float(p.constants["Lstar"][b]), float(p.constants["Lstar_gap"][b])
        assert Lstar <= exact + 1e-12 * scale          # a lower bound on inf L
        assert exact - Lstar <= 1e-10 * scale          # and a tight one
        assert 0 <= gap <= 1e-10 * scale               # w* attains it up to the certified gap
        L_ws = float(p.loss(p.w_star[:, None, :])[b, 0])
        assert L_ws == pytest.approx(Lstar + gap, rel=1e-12, abs=1e-15)


@SETTINGS
@given(seed=seeds, d=st.integers(1, 6), k=kind)
def test_nothing_below_Lstar(seed: int, d: int, k: int) -> None:
    p = make(k, seed, 4, d)
    w = points(p, torch.Generator().manual_seed(seed + 1), 256)
    assert (p.loss(w) >= p.constants["Lstar"][:, None] * (1 - 1e-12) - 1e-14).all()


@SETTINGS
@given(seed=seeds, d=st.integers(1, 6), k=kind)
def test_grad_is_a_subgradient(seed: int, d: int, k: int) -> None:
    p = make(k, seed, 4, d)
    gen = torch.Generator().manual_seed(seed + 2)
    w, v = points(p, gen, 64), points(p, gen, 64)
    # include kinks: w* is a vertex with d zero residuals
    w = torch.cat([w, p.w_star[:, None, :]], dim=1)
    v = torch.cat([v, p.w1[:, None, :]], dim=1)
    lhs, rhs = p.loss(v), p.loss(w) + (p.grad(w) * (v - w)).sum(-1)
    scale = p.loss(v).abs() + p.loss(w).abs() + 1.0
    assert (lhs >= rhs - 1e-12 * scale).all()
    # off the kinks it is the gradient: torch.autograd of the loss agrees
    x = w[:, :-1].clone().requires_grad_(True)
    (g,) = torch.autograd.grad(p.loss(x).sum(), x)
    torch.testing.assert_close(p.grad(w[:, :-1]), g, rtol=1e-12, atol=1e-12)


@SETTINGS
@given(seed=seeds, d=st.integers(1, 4), k=kind)
def test_G_bounds_the_vertex_maximum_and_sampled_subgradients(seed: int, d: int, k: int) -> None:
    p = make(k, seed, 3, d)
    G = p.constants["G"]
    for b in range(3):
        A, _, alpha = data(p, b)
        n = A.shape[0]
        signs = np.array(list(itertools.product([alpha, 1.0], repeat=n))) if n <= 14 else None
        if signs is not None:
            vertex_max = np.linalg.norm(signs @ A, axis=1).max() / n
            assert vertex_max <= float(G[b]) * (1 + 1e-12)
            # not vacuous: within sqrt(n) of the sup over the box for l1 (G <= ||A||_op/sqrt(n))
            if alpha < 0:
                assert float(G[b]) <= vertex_max * math.sqrt(n) * (1 + 1e-12)
    gen = torch.Generator().manual_seed(seed + 3)
    w = torch.cat([points(p, gen, 128), p.w_star[:, None, :] + 1e8 * torch.randn(3, 8, d, generator=gen, dtype=F64)], 1)
    assert (p.grad(w).norm(dim=-1) <= G[:, None] * (1 + 1e-12)).all()
    x, y = points(p, gen, 128), points(p, gen, 128)
    assert ((p.loss(x) - p.loss(y)).abs() <= G[:, None] * (x - y).norm(dim=-1) * (1 + 1e-10) + 1e-12).all()


@SETTINGS
@given(seed=seeds, d=st.integers(1, 6), k=kind)
def test_D_Delta_and_terms_recomputed(seed: int, d: int, k: int) -> None:
    p = make(k, seed, 3, d)
    for b in range(3):
        A, y, alpha = data(p, b)
        desc = p.describe(b)
        w1, ws = np.asarray(desc["w1"]), np.asarray(desc["w_star"])
        r = A @ w1 - y
        L1 = float(np.maximum(r, alpha * r).mean())
        assert float(p.constants["D"][b]) == pytest.approx(np.linalg.norm(w1 - ws), rel=1e-12)
        assert float(p.constants["Delta"][b]) == pytest.approx(L1 - desc["Lstar"], rel=1e-10, abs=1e-13)
        assert p.constants["Delta"][b] >= 0
    terms = p.terms
    n = terms.num_terms
    w = points(p, torch.Generator().manual_seed(seed + 4), 5)
    every = torch.stack([terms.term_loss(w, torch.full((3, 5), i)) for i in range(n)], -1)
    torch.testing.assert_close(every.mean(-1), p.loss(w), rtol=1e-12, atol=1e-12)
    grads = torch.stack([terms.term_grad(w, torch.full((3, 5), i)) for i in range(n)], -1)
    torch.testing.assert_close(grads.mean(-1), p.grad(w), rtol=1e-12, atol=1e-12)
    # G_i = ||a_i|| bounds each term's subgradient: it is |phi'(r_i)| ||a_i|| with |phi'| in {0, 1}
    G_i = terms.constants["G_i"][:, None, :]
    A_rows = torch.stack([torch.as_tensor(data(p, b)[0]) for b in range(3)])
    torch.testing.assert_close(G_i[:, 0], A_rows.norm(dim=-1), rtol=1e-14, atol=0)
    norms = grads.norm(dim=-2)
    assert (norms <= G_i * (1 + 1e-12)).all()
    assert ((norms == 0) | ((norms - G_i).abs() <= 1e-12 * G_i)).all()


@SETTINGS
@given(seed=seeds, d=st.integers(1, 6), k=kind)
def test_midpoint_convex(seed: int, d: int, k: int) -> None:
    p = make(k, seed, 4, d)
    gen = torch.Generator().manual_seed(seed + 5)
    x, y = points(p, gen, 256), points(p, gen, 256)
    gap = 0.5 * (p.loss(x) + p.loss(y)) - p.loss(0.5 * (x + y))
    assert (gap >= -1e-12 * (p.loss(x).abs() + p.loss(y).abs() + 1)).all()


def test_float32_and_device_respected() -> None:
    p = KINDS[0].sample(2, 3, torch.Generator().manual_seed(0), dtype=torch.float32)
    assert p.w1.dtype == torch.float32 and all(v.dtype == torch.float32 for v in p.constants.values())
    assert p.loss(p.w1[:, None, :]).dtype == torch.float32
