"""Independent certification of log-cosh regression and the l2-regularised families
(problems/log_cosh.py, problems/regularized.py): gradients against autograd, H, mu against
autograd Hessian eigenvalues, G against sampled gradient norms, w* / L* against a scipy BFGS
solve checked through strong convexity (||x - w*|| <= ||grad L(x)|| / mu)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from problems import FAMILIES, LogCosh, PiecewiseLinearRegression, ProblemBatch, PseudoHuber, Quadratic, Regularized
from test_families import autograd_grad, hessians, random_points, single_instance

F64 = torch.float64
SETTINGS = settings(max_examples=10, deadline=None)
seeds = st.integers(0, 2 ** 32 - 1)
dims = st.integers(1, 5)
LOGCOSH = LogCosh()
REGULARIZED = [Regularized(LogCosh()), Regularized(PseudoHuber()), Regularized(Quadratic())]
ALL = [LOGCOSH, *REGULARIZED]
family_index = st.sampled_from(range(len(ALL)))
reg_index = st.sampled_from(range(len(REGULARIZED)))


def make(family, seed: int, B: int, d: int) -> ProblemBatch:
    return family.sample(B, d, torch.Generator().manual_seed(seed), dtype=F64)


def test_registered_and_classes() -> None:
    assert FAMILIES["log-cosh"].classes == {"cvx", "smooth", "so", "lip", "lb", "minimizer"}
    assert FAMILIES["log-cosh-l2"].classes == {"cvx", "sc", "smooth", "so", "lb", "minimizer"}
    with pytest.raises(ValueError, match="convex and smooth"):
        Regularized(PiecewiseLinearRegression("hinge"))


@SETTINGS
@given(seed=seeds, d=dims, k=family_index)
def test_grad_matches_autograd(seed: int, d: int, k: int) -> None:
    p = make(ALL[k], seed, 3, d)
    w = random_points(p, torch.Generator().manual_seed(seed + 1), 16)
    ref = autograd_grad(p, w)
    assert ((p.grad(w) - ref).norm(dim=-1) <= 1e-10 * ref.norm(dim=-1) + 1e-12).all()


@SETTINGS
@given(seed=seeds, d=dims, k=family_index)
def test_hessian_between_mu_and_H(seed: int, d: int, k: int) -> None:
    p = make(ALL[k], seed, 3, d)
    gen = torch.Generator().manual_seed(seed + 2)
    w = torch.cat([random_points(p, gen, 12), random_points(p, gen, 12, centre=p.w_star)], 1)
    eig = torch.linalg.eigvalsh(hessians(p, w))
    H, mu = p.constants["H"][:, None], p.constants["mu"][:, None]
    assert (eig[..., -1] <= H * (1 + 1e-10)).all()
    assert (eig[..., 0] >= mu * (1 - 1e-10) - 1e-12 * H).all()


@SETTINGS
@given(seed=seeds, d=dims)
def test_log_cosh_H_attained_at_w_star_and_L_star_zero(seed: int, d: int) -> None:
    p = make(LOGCOSH, seed, 4, d)
    top = torch.linalg.eigvalsh(hessians(p, p.w_star[:, None, :]))[:, 0, -1]
    torch.testing.assert_close(top, p.constants["H"], rtol=1e-9, atol=0)
    assert (p.loss(p.w_star[:, None, :]).abs() <= 1e-12).all() and (p.constants["Lstar"] == 0).all()
    w = random_points(p, torch.Generator().manual_seed(seed + 3), 64)
    assert (p.loss(w) >= 0).all()


@SETTINGS
@given(seed=seeds, d=dims)
def test_log_cosh_G_bounds_sampled_gradients(seed: int, d: int) -> None:
    p = make(LOGCOSH, seed, 4, d)
    gen = torch.Generator().manual_seed(seed + 4)
    far = p.w1[:, None, :] + 1e8 * torch.randn(4, 8, d, generator=gen, dtype=F64)
    w = torch.cat([random_points(p, gen, 64), far], 1)
    norms = autograd_grad(p, w).norm(dim=-1)
    G = p.constants["G"][:, None]
    assert (norms <= G * (1 + 1e-10)).all()
    # not vacuous: far along the top Hessian eigenvector the gradient norm is >= G / sqrt(n)
    assert (norms.amax(1) >= p.constants["G"] / np.sqrt(2 * d + 1) * 0.5).all()


@SETTINGS
@given(seed=seeds, d=dims, k=reg_index)
def test_regularized_w_star_and_L_star_by_scipy(seed: int, d: int, k: int) -> None:
    p = make(REGULARIZED[k], seed, 3, d)
    mu = p.constants["mu"]
    for b in range(3):
        fun, jac = single_instance(p, b)
        res = optimize.minimize(fun, p.w1[b].numpy(), jac=jac, method="BFGS", options={"gtol": 1e-10, "maxiter": 20000})
        gx = np.linalg.norm(jac(res.x))
        m = float(mu[b])
        Lstar, err = float(p.constants["Lstar"][b]), float(p.constants["w_star_error"][b])
        scale = 1.0 + abs(Lstar)
        # strong convexity: L* lies in [L(x) - ||g(x)||^2/(2 mu), L(x)]; Lstar is a lower bound within that slack
        assert Lstar <= res.fun + 1e-12 * scale
        assert res.fun - gx ** 2 / (2 * m) <= Lstar + 1e-9 * scale + 1e-12
        assert res.fun - Lstar <= 1e-7 * scale
        # ||x - w*|| <= ||g(x)||/mu and ||w_hat - w*|| <= err, so ||x - w_hat|| <= both
        ws = p.w_star[b].numpy()
        assert np.linalg.norm(res.x - ws) <= gx / m + err + 1e-9 * (1 + np.linalg.norm(ws))
        D = float(p.constants["D"][b])
        assert D >= np.linalg.norm(p.w1[b].numpy() - res.x) - gx / m - 1e-9 * (1 + D)
        assert D <= np.linalg.norm(p.w1[b].numpy() - ws) + err + 1e-13 * (1 + D)
        assert err <= 1e-8 * (1 + D)


@SETTINGS
@given(seed=seeds, d=dims, k=reg_index)
def test_regularized_is_base_plus_ridge(seed: int, d: int, k: int) -> None:
    family = REGULARIZED[k]
    p, base = make(family, seed, 3, d), make(family.base, seed, 3, d)
    w = random_points(p, torch.Generator().manual_seed(seed + 5), 8)
    lam = torch.tensor([p.describe(b)["lam"] for b in range(3)], dtype=F64)
    shift = torch.tensor([p.describe(b)["shift"] for b in range(3)], dtype=F64)
    u = w - shift[:, None, :]
    torch.testing.assert_close(p.loss(w), base.loss(u) + lam[:, None] / 2 * u.square().sum(-1), rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(p.constants["H"], base.constants["H"] + lam, rtol=1e-15, atol=0)
    torch.testing.assert_close(p.constants["mu"], base.constants["mu"] + lam, rtol=1e-15, atol=0)
    Delta = p.loss(p.w1[:, None, :])[:, 0] - p.constants["Lstar"]
    torch.testing.assert_close(p.constants["Delta"], Delta, rtol=1e-12, atol=1e-14)


def test_log_cosh_matches_the_textbook_formula() -> None:
    """Value and autograd first and second derivatives against log(cosh x) where cosh does not overflow."""
    from problems.log_cosh import log_cosh
    x = torch.linspace(-20, 20, 2001, dtype=F64).requires_grad_(True)
    ref_x = x.detach().clone().requires_grad_(True)
    ours, ref = log_cosh(x), torch.log(torch.cosh(ref_x))
    torch.testing.assert_close(ours, ref, rtol=1e-13, atol=1e-15)
    (g,) = torch.autograd.grad(ours.sum(), x, create_graph=True)
    (g_ref,) = torch.autograd.grad(ref.sum(), ref_x, create_graph=True)
    torch.testing.assert_close(g, g_ref, rtol=1e-12, atol=1e-15)
    (h,) = torch.autograd.grad(g.sum(), x)
    (h_ref,) = torch.autograd.grad(g_ref.sum(), ref_x)
    torch.testing.assert_close(h, h_ref, rtol=1e-9, atol=1e-15)
    assert torch.isfinite(log_cosh(torch.tensor([1e300, -1e300], dtype=F64))).all()
