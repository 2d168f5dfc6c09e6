"""Independent certification of the Huber family's constants (problems/huber.py).

The loss is rewritten with scipy.special.huber from describe()'s parameters; H, mu against
eigenvalues of autograd Hessians; G against autograd gradient norms (sampled, and at a point
where every rotated coordinate is past its threshold, where it is attained); w*, L* against a
scipy solve; D, Delta by direct recomputation; the Drori-Teboulle instance against the value
H R^2 / (4N + 2) of their paper.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, special

from problems import FAMILIES, ORACLES, Huber
from problems.parametric import OutsideClassError, certify

F64 = torch.float64
SETTINGS = settings(max_examples=15, deadline=None)
seeds = st.integers(0, 2 ** 32 - 1)
dims = st.integers(1, 6)
HUBER = Huber()


def make(seed: int, B: int, d: int):
    return HUBER.sample(B, d, torch.Generator().manual_seed(seed))


def autograd_grad(p, w: torch.Tensor) -> torch.Tensor:
    x = w.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(p.loss(x).sum(), x)
    return g


def hessians(p, w: torch.Tensor) -> torch.Tensor:
    """torch.autograd.functional.hessian of each single (instance, point) loss: (B, R, d, d)."""
    B, R, d = w.shape
    out = torch.empty(B, R, d, d, dtype=F64)
    for b in range(B):
        for r in range(R):
            def f(x: torch.Tensor, b=b, r=r) -> torch.Tensor:
                ww = w.clone()
                ww[b, r] = x
                return p.loss(ww)[b, r]
            out[b, r] = torch.autograd.functional.hessian(f, w[b, r].clone())
    return out


def np_loss(desc: dict, x: np.ndarray) -> float:
    """The documented formula, with scipy's Huber function."""
    u = np.asarray(desc["Q"]).T @ (x - np.asarray(desc["w_star"]))
    return float(np.sum(np.asarray(desc["c"]) * special.huber(np.asarray(desc["delta"]), u)) + desc["Lstar"])


def points(p, gen: torch.Generator, R: int) -> torch.Tensor:
    """Points around w* at log-uniform radii relative to D, from 1e-3 D to 1e3 D."""
    B, d = p.w1.shape
    direction = torch.randn(B, R, d, generator=gen, dtype=F64)
    direction = direction / direction.norm(dim=-1, keepdim=True)
    radius = torch.exp(torch.empty(B, R, 1, dtype=F64).uniform_(math.log(1e-3), math.log(1e3), generator=gen))
    return p.w_star[:, None, :] + p.constants["D"][:, None, None] * radius * direction


def test_declared_classes_and_registration() -> None:
    assert FAMILIES["huber"].classes == frozenset({"cvx", "smooth", "lip", "lb", "minimizer"})
    p = make(0, 3, 4)
    assert set(p.constants) == {"H", "mu", "G", "D", "Delta", "Lstar"}


def test_sample_is_build_of_draw_and_replays() -> None:
    a = make(5, 4, 3)
    params = HUBER.draw(4, 3, torch.Generator().manual_seed(5))
    b = HUBER.build(params)
    for name in a.constants:
        assert torch.equal(a.constants[name], b.constants[name])
    assert torch.equal(a.w1, b.w1)


@SETTINGS
@given(seed=seeds, d=dims)
def test_loss_matches_scipy_huber_and_grad_matches_autograd(seed: int, d: int) -> None:
    p = make(seed, 3, d)
    w = points(p, torch.Generator().manual_seed(seed + 1), 8)
    values = p.loss(w)
    for b in range(3):
        desc = p.describe(b)
        for r in range(8):
            x = w[b, r].numpy()
            assert float(values[b, r]) == pytest.approx(np_loss(desc, x), rel=1e-12, abs=1e-12)
    ref = autograd_grad(p, w)
    assert ((p.grad(w) - ref).norm(dim=-1) <= 1e-12 * (1 + ref.norm(dim=-1))).all()


@SETTINGS
@given(seed=seeds, d=dims)
def test_H_exact_and_mu_zero(seed: int, d: int) -> None:
    p = make(seed, 3, d)
    H, mu = p.constants["H"], p.constants["mu"]
    at_star = torch.linalg.eigvalsh(hessians(p, p.w_star[:, None, :]))[:, 0]
    torch.testing.assert_close(at_star[:, -1], H, rtol=1e-12, atol=0)
    w = points(p, torch.Generator().manual_seed(seed + 2), 6)
    eig = torch.linalg.eigvalsh(hessians(p, w))
    assert (eig.amax(dim=(-1, -2)) <= H * (1 + 1e-12)).all()
    assert (eig.amin(dim=(-1, -2)) >= mu * (1 - 1e-12) - 1e-12 * H).all()
    # far out every rotated coordinate is past its threshold: the Hessian vanishes, so mu = 0
    # is the largest valid strong-convexity constant
    far = p.w_star[:, None, :] + 1e6 * (p.constants["D"] + p.constants["G"] / H)[:, None, None] \
        * torch.nn.functional.normalize(torch.randn(3, 1, d, generator=torch.Generator().manual_seed(seed), dtype=F64), dim=-1)
    far_eig = torch.linalg.eigvalsh(hessians(p, far))[:, 0]
    torch.testing.assert_close(far_eig[:, 0], mu, rtol=0, atol=1e-12 * float(H.max()))


@SETTINGS
@given(seed=seeds, d=dims)
def test_G_bounds_gradients_and_is_attained(seed: int, d: int) -> None:
    p = make(seed, 3, d)
    G = p.constants["G"]
    w = points(p, torch.Generator().manual_seed(seed + 3), 64)
    assert (autograd_grad(p, w).norm(dim=-1) <= G[:, None] * (1 + 1e-12)).all()
    for b in range(3):
        desc = p.describe(b)
        Q, delta = np.asarray(desc["Q"]), np.asarray(desc["delta"])
        signs = np.where(np.arange(d) % 2 == 0, 1.0, -1.0)
        x = torch.as_tensor(np.asarray(desc["w_star"]) + Q @ (2 * delta * signs))
        ww = p.w1[:, None, :].clone()
        ww[b, 0] = x
        assert float(autograd_grad(p, ww)[b, 0].norm()) == pytest.approx(float(G[b]), rel=1e-12)


@SETTINGS
@given(seed=seeds, d=dims)
def test_scipy_confirms_w_star_Lstar_D_Delta(seed: int, d: int) -> None:
    p = make(seed, 3, d)
    for b in range(3):
        desc = p.describe(b)
        w1, ws = np.asarray(desc["w1"]), np.asarray(desc["w_star"])
        scale = np.asarray(desc["c"]).max() * np.linalg.norm(w1 - ws) ** 2 + 1.0
        res = optimize.minimize(lambda x: np_loss(desc, x), w1, method="Powell",
                                options={"xtol": 1e-12, "ftol": 1e-15, "maxiter": 200000, "maxfev": 200000})
        Lstar = float(p.constants["Lstar"][b])
        assert res.fun >= Lstar - 1e-12 * scale
        assert np_loss(desc, ws) == pytest.approx(Lstar, abs=1e-12 * scale)
        g = autograd_grad(p, p.w_star[:, None, :])[b, 0]
        assert float(g.norm()) <= 1e-12 * (1 + float(p.constants["G"][b]))
        assert float(p.constants["D"][b]) == pytest.approx(np.linalg.norm(w1 - ws), rel=1e-12)
        assert float(p.constants["Delta"][b]) == pytest.approx(np_loss(desc, w1) - Lstar, rel=1e-9, abs=1e-12 * scale)


@SETTINGS
@given(seed=seeds, d=dims)
def test_midpoint_convex(seed: int, d: int) -> None:
    p = make(seed, 4, d)
    gen = torch.Generator().manual_seed(seed + 4)
    x, y = points(p, gen, 128), points(p, gen, 128)
    lx, ly, lm = p.loss(x), p.loss(y), p.loss(0.5 * (x + y))
    assert ((0.5 * (lx + ly) - lm) >= -1e-12 * (lx.abs() + ly.abs() + 1)).all()


@pytest.mark.parametrize("N", [1, 2, 4, 8, 16])
def test_drori_teboulle_worst_case_of_gradient_descent(N: int) -> None:
    """GD with step 1/H for N steps from |w1 - w*| = R ends at L* + H R^2/(4N + 2) (Drori and
    Teboulle 2014, Theorem 3.1 and its matching example), simulated by hand."""
    H, R = 2.5, 1.5
    p = HUBER.build(Huber.drori_teboulle(N, H=H, R=R))
    certify(p)
    assert float(p.constants["H"][0]) == H and float(p.constants["D"][0]) == R
    desc = p.describe(0)
    x = R
    for _ in range(N):
        x = x - (H * np.clip(x, -desc["delta"][0], desc["delta"][0])) / H  # step 1/H times h'
    assert np_loss(desc, np.array([x])) == pytest.approx(H * R ** 2 / (4 * N + 2), rel=1e-12)
    assert x > 0  # every iterate stays on the linear part until the end


def test_project_maps_into_the_class_and_certify_catches_outsiders() -> None:
    params = HUBER.draw(4, 3, torch.Generator().manual_seed(9))
    bad = dict(params)
    bad["c"] = params["c"] * torch.tensor([1.0, -1.0, 1.0])  # a negative curvature: non-convex
    bad["Q"] = params["Q"] * 1.5  # no longer orthogonal: H and G are wrong
    with pytest.raises(OutsideClassError):
        certify(HUBER.build(bad))
    projected = HUBER.project(bad)
    certify(HUBER.build(projected))
    assert torch.allclose(projected["Q"] @ projected["Q"].transpose(-1, -2), torch.eye(3, dtype=F64).expand(4, 3, 3))
    assert (projected["c"] > 0).all() and (projected["delta"] > 0).all()


def test_runs_under_the_exact_oracle() -> None:
    p = make(3, 2, 2)
    o = ORACLES["exact"].bind(p, torch.Generator())
    w = p.w1[:, None, :]
    assert torch.equal(o.sample(w), p.grad(w))
