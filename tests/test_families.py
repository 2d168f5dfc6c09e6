"""Independent certification of every family's constants (DESIGN.md, problems/).

Nothing here re-runs a family's own formula for a constant: gradients are checked against
torch.autograd of the loss, H and mu against eigenvalues of autograd Hessians, G against sampled
gradient norms (and, where exact, a point built from the Hessian's eigenvectors), w* and L*
against a scipy solve started at w1, D and Delta by direct recomputation, and convexity along
random segments.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from problems import CLASS_TAGS, CosineWells, ProblemBatch, PseudoHuber, Quadratic

F64 = torch.float64
SETTINGS = settings(max_examples=15, deadline=None)
seeds = st.integers(0, 2 ** 32 - 1)
dims = st.integers(1, 6)

QUAD_C = Quadratic(strongly_convex=False)
QUAD_SC = Quadratic(strongly_convex=True)
HUBER = PseudoHuber()
WELLS = CosineWells()
ALL = [QUAD_C, QUAD_SC, HUBER, WELLS]
CONVEX = [QUAD_C, QUAD_SC, HUBER]
family_index = st.sampled_from(range(len(ALL)))


def make(family, seed: int, B: int, d: int) -> ProblemBatch:
    return family.sample(B, d, torch.Generator().manual_seed(seed), dtype=F64)


def autograd_grad(problem: ProblemBatch, w: torch.Tensor) -> torch.Tensor:
    x = w.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(problem.loss(x).sum(), x)
    return g


def hessians(problem: ProblemBatch, w: torch.Tensor) -> torch.Tensor:
    """Autograd Hessians of every single-instance loss at w (B, R, d): shape (B, R, d, d).

    The summed loss is separable over (b, r), so its Hessian is block diagonal; column k of each
    block is d/dw of the k-th partial derivative. Cross-checked against
    torch.autograd.functional.hessian in ``test_batched_hessian_matches_functional_hessian``.
    """
    x = w.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(problem.loss(x).sum(), x, create_graph=True)
    cols = []
    for k in range(w.shape[-1]):
        (hk,) = torch.autograd.grad(g[..., k].sum(), x, retain_graph=True)
        cols.append(hk)
    Hs = torch.stack(cols, -1)
    return 0.5 * (Hs + Hs.transpose(-1, -2))


def random_points(problem: ProblemBatch, gen: torch.Generator, R: int, centre: torch.Tensor | None = None
                  ) -> torch.Tensor:
    """Points around ``centre`` (default w1) at log-uniform radii from 1e-3 to 1e3, shape (B, R, d)."""
    B, d = problem.w1.shape
    c = problem.w1 if centre is None else centre
    direction = torch.randn(B, R, d, generator=gen, dtype=F64)
    direction = direction / direction.norm(dim=-1, keepdim=True)
    radius = torch.exp(torch.empty(B, R, 1, dtype=F64).uniform_(math.log(1e-3), math.log(1e3), generator=gen))
    return c[:, None, :] + radius * direction


def single_instance(problem: ProblemBatch, b: int):
    """Instance b's loss and gradient as numpy functions of x (d,), for scipy."""
    B, d = problem.w1.shape

    def embed(x: np.ndarray) -> torch.Tensor:
        w = problem.w1[:, None, :].clone()
        w[b, 0] = torch.as_tensor(x, dtype=F64)
        return w

    def fun(x: np.ndarray) -> float:
        return float(problem.loss(embed(x))[b, 0])

    def jac(x: np.ndarray) -> np.ndarray:
        return autograd_grad(problem, embed(x))[b, 0].numpy()

    return fun, jac


def wells_frame(problem: ProblemBatch, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """alpha, omega, m of instance b (from describe) and its rotation Q recovered, up to column
    signs, from the eigenvectors of the autograd Hessian at m, Q diag(alpha omega^2) Q^T."""
    desc = problem.describe(b)
    alpha, omega, m = (np.asarray(desc[k]) for k in ("alpha", "omega", "m"))
    w = problem.w1[:, None, :].clone()
    w[b, 0] = torch.as_tensor(m)
    Hm = hessians(problem, w)[b, 0].numpy()
    vals, vecs = np.linalg.eigh(Hm)
    curv = alpha * omega ** 2
    # match each coordinate j to the eigenvector whose eigenvalue is alpha_j omega_j^2
    order = np.argsort(curv)
    Q = np.empty_like(vecs)
    Q[:, order] = vecs
    np.testing.assert_allclose(vals, curv[order], rtol=1e-9, atol=1e-12)
    return alpha, omega, m, Q


# ---------------------------------------------------------------------------------------------
# shapes, classes, declared constants

@SETTINGS
@given(seed=seeds, d=dims, B=st.integers(1, 5), k=family_index)
def test_batch_shapes_and_declared_constants(seed: int, d: int, B: int, k: int) -> None:
    family = ALL[k]
    p = make(family, seed, B, d)
    assert p.family == family.name and p.classes == family.classes
    assert p.classes <= CLASS_TAGS
    assert p.w1.shape == (B, d) and p.batch_size == B and p.dim == d
    for name, value in p.constants.items():
        assert value.shape == (B,), name
        assert torch.isfinite(value).all(), name
    # every class tag brings the constants its theorems need
    if "smooth" in p.classes:
        assert (p.constants["H"] > 0).all()
    if "sc" in p.classes:
        assert (p.constants["mu"] > 0).all()
    if "lip" in p.classes:
        assert (p.constants["G"] > 0).all()
    if "lb" in p.classes:
        assert "Lstar" in p.constants and (p.constants["Delta"] >= 0).all()
    if "minimizer" in p.classes:
        assert p.w_star is not None and p.w_star.shape == (B, d) and "D" in p.constants
    w = torch.randn(B, 3, d, generator=torch.Generator().manual_seed(seed), dtype=F64)
    assert p.loss(w).shape == (B, 3) and p.grad(w).shape == (B, 3, d)


def test_declared_classes() -> None:
    assert QUAD_SC.classes >= {"cvx", "sc", "smooth", "lb", "minimizer"}
    assert "sc" not in QUAD_C.classes and "cvx" in QUAD_C.classes
    assert HUBER.classes >= {"cvx", "smooth", "lip", "lb", "minimizer"} and "sc" not in HUBER.classes
    assert WELLS.classes >= {"smooth", "lip", "lb"}
    assert not WELLS.classes & {"cvx", "sc", "minimizer"}
    # a quadratic is not Lipschitz, so it must not claim 'lip' / a G
    assert "lip" not in QUAD_C.classes and "lip" not in QUAD_SC.classes


def test_same_seed_same_batch() -> None:
    for family in ALL:
        a, b = make(family, 7, 3, 4), make(family, 7, 3, 4)
        assert torch.equal(a.w1, b.w1)
        for name in a.constants:
            assert torch.equal(a.constants[name], b.constants[name])


# ---------------------------------------------------------------------------------------------
# gradients and Hessians

@SETTINGS
@given(seed=seeds, d=dims, k=family_index)
def test_grad_matches_autograd(seed: int, d: int, k: int) -> None:
    p = make(ALL[k], seed, 4, d)
    gen = torch.Generator().manual_seed(seed + 1)
    w = random_points(p, gen, 16)
    ours, ref = p.grad(w), autograd_grad(p, w)
    scale = ref.norm(dim=-1, keepdim=True) + 1e-300
    assert ((ours - ref).norm(dim=-1, keepdim=True) <= 1e-10 * scale + 1e-13).all()


def test_batched_hessian_matches_functional_hessian() -> None:
    for family in ALL:
        p = make(family, 11, 2, 3)
        w = random_points(p, torch.Generator().manual_seed(12), 2)
        ours = hessians(p, w)
        for b in range(2):
            for r in range(2):
                def f(x: torch.Tensor, b=b, r=r) -> torch.Tensor:
                    ww = w.clone()
                    ww[b, r] = x
                    return p.loss(ww)[b, r]
                ref = torch.autograd.functional.hessian(f, w[b, r].clone())
                torch.testing.assert_close(ours[b, r], ref, rtol=1e-10, atol=1e-12)


@SETTINGS
@given(seed=seeds, d=dims, k=family_index)
def test_hessian_spectrum_bounded_by_H(seed: int, d: int, k: int) -> None:
    family = ALL[k]
    p = make(family, seed, 4, d)
    gen = torch.Generator().manual_seed(seed + 2)
    if p.w_star is not None:
        centre = p.w_star
    else:  # the cosine wells' centre m, where the curvature is largest
        centre = torch.tensor([p.describe(b)["m"] for b in range(4)], dtype=F64)
    w = torch.cat([random_points(p, gen, 12), random_points(p, gen, 12, centre=centre)], dim=1)
    eig = torch.linalg.eigvalsh(hessians(p, w))
    H = p.constants["H"]
    assert (eig.abs().amax(dim=(-1, -2)) <= H * (1 + 1e-10) + 1e-12).all()
    if "cvx" in p.classes:
        assert (eig.amin(dim=(-1, -2)) >= -1e-10 * H).all()


@SETTINGS
@given(seed=seeds, d=dims, sc=st.booleans())
def test_quadratic_H_and_mu_exact(seed: int, d: int, sc: bool) -> None:
    p = make(QUAD_SC if sc else QUAD_C, seed, 6, d)
    w = random_points(p, torch.Generator().manual_seed(seed + 3), 3)
    eig = torch.linalg.eigvalsh(hessians(p, w))
    H, mu = p.constants["H"], p.constants["mu"]
    # the Hessian is constant: its extreme eigenvalues are H and mu at every point
    torch.testing.assert_close(eig[..., -1], H[:, None].expand(-1, 3), rtol=1e-8, atol=0)
    torch.testing.assert_close(eig[..., 0], mu[:, None].expand(-1, 3), rtol=1e-8, atol=1e-10 * float(H.max()))
    if sc:
        assert (mu > 0).all() and (eig[..., 0] >= mu[:, None] * (1 - 1e-8)).all()


@SETTINGS
@given(seed=seeds, d=dims)
def test_pseudo_huber_H_attained_at_w_star(seed: int, d: int) -> None:
    p = make(HUBER, seed, 5, d)
    eig = torch.linalg.eigvalsh(hessians(p, p.w_star[:, None, :]))[:, 0]
    torch.testing.assert_close(eig[:, -1], p.constants["H"], rtol=1e-8, atol=0)


@SETTINGS
@given(seed=seeds, d=dims)
def test_cosine_wells_H_attained_at_centre_and_nonconvex(seed: int, d: int) -> None:
    p = make(WELLS, seed, 4, d)
    for b in range(4):
        alpha, omega, m, Q = wells_frame(p, b)
        H = float(p.constants["H"][b])
        w = p.w1[:, None, :].clone()
        w[b, 0] = torch.as_tensor(m)
        Hm = torch.linalg.eigvalsh(hessians(p, w)[b, 0])
        assert float(Hm[-1]) == pytest.approx(H, rel=1e-8)
        # the top well flipped: u_j = pi / omega_j along its axis has curvature -H
        j = int(np.argmax(alpha * omega ** 2))
        w[b, 0] = torch.as_tensor(m + Q[:, j] * math.pi / omega[j])
        Hflip = torch.linalg.eigvalsh(hessians(p, w)[b, 0])
        assert float(Hflip[0]) == pytest.approx(-H, rel=1e-8)


# ---------------------------------------------------------------------------------------------
# G: sampled gradient norms, attainment for the cosine wells

@SETTINGS
@given(seed=seeds, d=dims, lipschitz=st.sampled_from([HUBER, WELLS]))
def test_gradient_norm_bounded_by_G(seed: int, d: int, lipschitz) -> None:
    p = make(lipschitz, seed, 4, d)
    gen = torch.Generator().manual_seed(seed + 4)
    B = 4
    far = p.w1[:, None, :] + 1e8 * torch.randn(B, 8, d, generator=gen, dtype=F64)
    w = torch.cat([random_points(p, gen, 64), far], dim=1)
    norms = autograd_grad(p, w).norm(dim=-1)
    G = p.constants["G"]
    assert (norms <= G[:, None] * (1 + 1e-10)).all()


@SETTINGS
@given(seed=seeds, d=dims)
def test_pseudo_huber_G_is_not_vacuous(seed: int, d: int) -> None:
    """G is a min of two proven bounds, not exact; check it is within sqrt(n) <= sqrt(3d) of
    a gradient norm actually reached: far along the top eigenvector v of the Hessian at w*
    (A^T A / n), <grad, v> -> delta sum_i |a_i . v| / n >= delta ||A||_op / n >= G / sqrt(n)."""
    p = make(HUBER, seed, 3, d)
    vals, vecs = torch.linalg.eigh(hessians(p, p.w_star[:, None, :])[:, 0])
    v = vecs[:, :, -1]
    w = (p.w_star + 1e9 * v)[:, None, :]
    norm = autograd_grad(p, w)[:, 0].norm(dim=-1)
    G = p.constants["G"]
    assert (norm <= G * (1 + 1e-10)).all()
    assert (norm >= G / math.sqrt(3 * d) * (1 - 1e-3)).all()


@SETTINGS
@given(seed=seeds, d=dims)
def test_cosine_wells_G_exact_and_attained(seed: int, d: int) -> None:
    p = make(WELLS, seed, 4, d)
    for b in range(4):
        alpha, omega, m, Q = wells_frame(p, b)
        w = p.w1[:, None, :].clone()
        w[b, 0] = torch.as_tensor(m + Q @ (math.pi / (2 * omega)))
        norm = float(autograd_grad(p, w)[b, 0].norm())
        assert norm == pytest.approx(float(p.constants["G"][b]), rel=1e-8)


# ---------------------------------------------------------------------------------------------
# w*, L*, D, Delta

def _solve(p: ProblemBatch, b: int) -> optimize.OptimizeResult:
    fun, jac = single_instance(p, b)
    x0 = p.w1[b].numpy()
    res = optimize.minimize(fun, x0, jac=jac, method="BFGS", options={"gtol": 1e-12, "maxiter": 20000})
    return res


@SETTINGS
@given(seed=seeds, d=dims, k=st.sampled_from(range(3)))
def test_scipy_solve_confirms_w_star_and_Lstar(seed: int, d: int, k: int) -> None:
    family = CONVEX[k]
    p = make(family, seed, 3, d)
    for b in range(3):
        res = _solve(p, b)
        Lstar = float(p.constants["Lstar"][b])
        scale = 1.0 + abs(Lstar) + float(p.constants["Delta"][b])
        # nothing goes below L*
        assert res.fun >= Lstar - 1e-10 * scale
        # and L* is reached
        assert res.fun <= Lstar + 1e-7 * scale
        ws = p.w_star[b].numpy()
        D = float(p.constants["D"][b])
        if family is QUAD_SC:
            # strong convexity certifies ||x - w*|| <= ||grad L(x)|| / mu
            gx = np.linalg.norm(single_instance(p, b)[1](res.x))
            bound = gx / float(p.constants["mu"][b])
            assert np.linalg.norm(res.x - ws) <= bound * (1 + 1e-6) + 1e-12 * (1 + np.linalg.norm(ws))
            assert np.linalg.norm(res.x - ws) <= 1e-4 * (1 + D + np.linalg.norm(ws))
        else:
            # BFGS from w1 moves only within w1 + range(A) for a quadratic: it finds the
            # minimiser nearest to w1; pseudo-huber's minimiser is unique
            assert np.linalg.norm(res.x - ws) <= 1e-4 * (1 + D + np.linalg.norm(ws))


@SETTINGS
@given(seed=seeds, d=dims, k=st.sampled_from(range(3)))
def test_w_star_is_stationary_with_value_Lstar(seed: int, d: int, k: int) -> None:
    p = make(CONVEX[k], seed, 5, d)
    ws = p.w_star[:, None, :]
    g = autograd_grad(p, ws)[:, 0]
    G_scale = autograd_grad(p, p.w1[:, None, :])[:, 0].norm(dim=-1)
    assert (g.norm(dim=-1) <= 1e-10 * (1 + G_scale)).all()
    torch.testing.assert_close(p.loss(ws)[:, 0], p.constants["Lstar"], rtol=0, atol=1e-10)


@SETTINGS
@given(seed=seeds, d=dims)
def test_convex_quadratic_w_star_nearest_to_w1(seed: int, d: int) -> None:
    p = make(QUAD_C, seed, 8, d)
    _check_nearest(p)


def test_convex_quadratic_with_kernel_w_star_nearest_to_w1() -> None:
    """Seeds where some instance has a non-trivial kernel, so the check above is not vacuous."""
    seen = 0
    for seed in range(40):
        p = make(QUAD_C, seed, 8, 5)
        seen += _check_nearest(p)
    assert seen >= 5


def _check_nearest(p: ProblemBatch) -> int:
    """w1 - w* lies in range(A) (orthogonal to the kernel of the autograd Hessian); return the
    number of instances with a kernel."""
    Hs = hessians(p, p.w1[:, None, :])[:, 0]
    vals, vecs = torch.linalg.eigh(Hs)
    H = p.constants["H"]
    kernel = vals <= 1e-12 * H[:, None]
    diff = p.w1 - p.w_star
    proj = torch.einsum("bd,bde->be", diff, vecs) * kernel
    assert (proj.norm(dim=-1) <= 1e-10 * (1 + diff.norm(dim=-1))).all()
    # and every other minimiser w* + k (k in the kernel) is farther from w1
    return int(kernel.any(-1).sum())


@SETTINGS
@given(seed=seeds, d=dims, k=family_index)
def test_D_and_Delta_recomputed(seed: int, d: int, k: int) -> None:
    family = ALL[k]
    p = make(family, seed, 4, d)
    for b in range(4):
        desc = p.describe(b)
        w1 = np.asarray(desc["w1"])
        np.testing.assert_array_equal(w1, p.w1[b].numpy())
        if family is HUBER:
            # the loss written out from the documented formula with describe()'s data
            A, delta, ws = np.asarray(desc["A"]), desc["delta"], np.asarray(desc["w_star"])
            r = A @ (w1 - ws)
            L1 = np.mean(delta ** 2 * (np.sqrt(1 + (r / delta) ** 2) - 1))
            Lstar = 0.0
        elif family is WELLS:
            alpha, omega, m, Q = wells_frame(p, b)
            u = Q.T @ (w1 - m)
            L1 = float(np.sum(alpha * (1 - np.cos(omega * u))))
            Lstar = 0.0
            # L* = 0 is attained at m (loss >= 0 by construction: each term is >= 0)
            w = p.w1[:, None, :].clone()
            w[b, 0] = torch.as_tensor(m)
            assert abs(float(p.loss(w)[b, 0])) <= 1e-14
        else:
            # quadratic: L(w1) - L* = 1/2 (w1 - w*)^T Hess (w1 - w*), Hessian by autograd
            ws = np.asarray(desc["w_star"])
            Hs = hessians(p, p.w1[:, None, :])[b, 0].numpy()
            L1 = 0.5 * (w1 - ws) @ Hs @ (w1 - ws) + desc["Lstar"]
            Lstar = desc["Lstar"]
            np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(Hs)), np.sort(desc["eigenvalues"]),
                                       rtol=1e-9, atol=1e-12 * max(desc["eigenvalues"]))
        assert float(p.constants["Lstar"][b]) == pytest.approx(Lstar, abs=1e-15)
        assert float(p.constants["Delta"][b]) == pytest.approx(L1 - Lstar, rel=1e-9, abs=1e-12 * (1 + abs(L1)))
        if "minimizer" in p.classes:
            D = np.linalg.norm(w1 - np.asarray(desc["w_star"]))
            assert float(p.constants["D"][b]) == pytest.approx(D, rel=1e-12)
        else:
            assert p.w_star is None and "D" not in p.constants


# ---------------------------------------------------------------------------------------------
# convexity

def _midpoint_gaps(p: ProblemBatch, gen: torch.Generator, R: int) -> torch.Tensor:
    """(L(x) + L(y))/2 - L((x + y)/2) on R random segments per instance, relative to the scale."""
    x = random_points(p, gen, R)
    y = random_points(p, gen, R)
    lx, ly, lm = p.loss(x), p.loss(y), p.loss(0.5 * (x + y))
    scale = lx.abs() + ly.abs() + 1.0
    return (0.5 * (lx + ly) - lm) / scale


@SETTINGS
@given(seed=seeds, d=dims, k=st.sampled_from(range(3)))
def test_convex_families_are_midpoint_convex(seed: int, d: int, k: int) -> None:
    p = make(CONVEX[k], seed, 4, d)
    gaps = _midpoint_gaps(p, torch.Generator().manual_seed(seed + 6), 256)
    assert (gaps >= -1e-12).all()


@SETTINGS
@given(seed=seeds, d=dims)
def test_cosine_wells_not_convex(seed: int, d: int) -> None:
    p = make(WELLS, seed, 3, d)
    for b in range(3):
        alpha, omega, m, Q = wells_frame(p, b)
        # a short segment centred on the crest of well j: the midpoint is the maximum
        j = 0
        crest = m + Q[:, j] * math.pi / omega[j]
        s = 0.5 / omega[j]
        w = p.w1[:, None, :].expand(-1, 3, -1).clone()
        w[b] = torch.as_tensor(np.stack([crest - s * Q[:, j], crest + s * Q[:, j], crest]))
        lx, ly, lm = p.loss(w)[b].tolist()
        assert lm > 0.5 * (lx + ly) + 1e-3 * alpha[j]
    # and random segments find violations too
    gaps = _midpoint_gaps(p, torch.Generator().manual_seed(seed + 7), 512)
    assert (gaps < -1e-6).any()
