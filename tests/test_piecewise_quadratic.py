"""Independent certification of the piecewise-quadratic family (problems/piecewise_quadratic.py).

The reference loss is the jump form p s + a_0 s^2/2 + sum_k (a_{k+1} - a_k) (s - t_k)_+^2 / 2 in
numpy, from the drawn parameters (not the family's cell anchors); H and gamma against
finite-difference curvature on dense grids along every rotated axis (bounding it, and attained);
the declared curvatures against autograd second derivatives at cell midpoints; inf L against
scipy's bounded Brent search on every cell (1-D) and their sum plus multistart L-BFGS-B (d-D);
Delta, D recomputed; certify() from problems/parametric.py. Every check is also run on a copy
with a deliberately wrong constant (H x 0.99, gamma x 0.99, inf L + 1e-6), which it must reject.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from scipy import optimize

from problems import FAMILIES, PiecewiseQuadratic
from problems.moreau import MoreauEnvelope, weak_convexity
from problems.parametric import certify, select
from problems.piecewise_quadratic import interpolate, sorted_cells

F64 = torch.float64
FAMILY = PiecewiseQuadratic()
CASES = [(0, 1), (1, 1), (2, 3), (3, 2)]
B = 8


def make(seed: int, d: int):
    params = FAMILY.draw(B, d, torch.Generator().manual_seed(seed))
    return params, FAMILY.build(params)


def centre(params) -> torch.Tensor:
    """The centre m of the instances as built: the drawn m translated by the drawn shift."""
    return params["m"] + params["shift"]


def phi_np(s: np.ndarray, t: np.ndarray, a: np.ndarray, p: float) -> np.ndarray:
    """The jump form of one coordinate's function at the points s."""
    s = np.asarray(s, dtype=float)
    jumps = np.diff(a)
    ramps = np.maximum(s[..., None] - t, 0.0)
    return p * s + a[0] * s ** 2 / 2 + (jumps * ramps ** 2 / 2).sum(-1)


def dphi_np(s: np.ndarray, t: np.ndarray, a: np.ndarray, p: float) -> np.ndarray:
    """The derivative of the jump form."""
    s = np.asarray(s, dtype=float)
    return p + a[0] * s + (np.diff(a) * np.maximum(s[..., None] - t, 0.0)).sum(-1)


def coords(params, b: int, w: np.ndarray) -> np.ndarray:
    return params["Q"][b].numpy().T @ (w - centre(params)[b].numpy())


def loss_np(params, b: int, w: np.ndarray) -> float:
    u = coords(params, b, w)
    return float(sum(phi_np(u[j], params["t"][b, j].numpy(), params["a"][b, j].numpy(), float(params["p"][b, j]))
                     for j in range(u.shape[0])))


def cell_minima(t: np.ndarray, a: np.ndarray, p: float) -> float:
    """min phi by scipy's bounded Brent search on every cell; the tails are searched out to ten times
    the distance at which their own quadratic is stationary."""
    order = np.argsort(t)
    t, a = t[order], np.concatenate([a[:1], a[0] + np.cumsum(np.diff(a)[order])])
    slope = p + a[0] * t[[0, -1]] + (np.diff(a) * np.maximum(t[[0, -1], None] - t, 0.0)).sum(-1)
    far = 10 * (t[-1] - t[0] + 1.0) + 10 * max(abs(slope[0]) / a[0], abs(slope[1]) / a[-1])
    edges = np.concatenate([[t[0] - far], t, [t[-1] + far]])
    best = np.inf
    for lo, hi in zip(edges[:-1], edges[1:]):
        if hi > lo:
            r = optimize.minimize_scalar(lambda s: float(phi_np(s, t, a, p)), bounds=(lo, hi), method="bounded",
                                         options={"xatol": 1e-13 * (1 + abs(lo) + abs(hi))})
            best = min(best, r.fun, float(phi_np(lo, t, a, p)), float(phi_np(hi, t, a, p)))
    return best


def with_constant(problem, name: str, factor: float = 1.0, shift: float = 0.0):
    constants = dict(problem.constants)
    constants[name] = constants[name] * factor + shift
    return dataclasses.replace(problem, constants=constants)


# ------------------------------------------------------------------------------------------
# checks (each returns silently or raises AssertionError)

def axis_curvatures(params, problem) -> torch.Tensor:
    """Finite-difference curvatures <grad L(w + h q_j) - grad L(w), q_j> / h on a dense grid of
    4000 points along every rotated axis through w1 (B, d, 4000)."""
    Q, w1 = params["Q"], problem.w1
    t = params["t"]
    span = (t[..., -1] - t[..., 0])
    lo, hi = t[..., 0] - span / 2, t[..., -1] + span / 2
    grid = lo[..., None] + (hi - lo)[..., None] * torch.linspace(0, 1, 4000, dtype=F64)
    u1 = torch.einsum("bde,bd->be", Q, w1 - centre(params))
    h = 1e-7 * span
    out = []
    for j in range(w1.shape[1]):
        q = Q[:, :, j]
        w = w1[:, None, :] + (grid[:, j, :] - u1[:, j, None])[..., None] * q[:, None, :]
        dg = problem.grad(w + h[:, j, None, None] * q[:, None, :]) - problem.grad(w)
        out.append((dg * q[:, None, :]).sum(-1) / h[:, j, None])
    return torch.stack(out, 1)


def check_H_and_gamma(params, problem) -> None:
    curv = axis_curvatures(params, problem).flatten(1)
    H, gamma = problem.constants["H"], problem.constants["gamma"]
    assert (curv.abs().amax(-1) <= H * (1 + 1e-6)).all(), "finite-difference curvature above H"
    assert (curv.abs().amax(-1) >= H * (1 - 1e-6)).all(), "H not attained"
    assert (curv.amin(-1) >= -gamma - 1e-6 * H).all(), "finite-difference curvature below -gamma"
    assert ((-curv.amin(-1)).clamp_min(0) >= gamma - 1e-6 * H).all(), "gamma not attained"


def check_inf(params, problem) -> None:
    Lstar = problem.constants["Lstar"]
    B, d = problem.w1.shape
    for b in range(B):
        exact = sum(cell_minima(params["t"][b, j].numpy(), params["a"][b, j].numpy(), float(params["p"][b, j]))
                    for j in range(d))
        tol = 1e-11 * (1 + abs(exact))
        assert abs(float(Lstar[b]) - exact) <= tol, f"inf L {float(Lstar[b])} != scipy's {exact}"
        w_star = problem.w_star[b].numpy()
        assert abs(loss_np(params, b, w_star) - exact) <= tol, "L(w*) != inf L"


def check_delta_and_D(params, problem) -> None:
    for b in range(problem.batch_size):
        w1 = problem.w1[b].numpy()
        Delta = loss_np(params, b, w1) - float(problem.constants["Lstar"][b])
        assert abs(float(problem.constants["Delta"][b]) - Delta) <= 1e-11 * (1 + abs(Delta)), "Delta"
        D = np.linalg.norm(w1 - problem.w_star[b].numpy())
        assert abs(float(problem.constants["D"][b]) - D) <= 1e-12 * (1 + D), "D"


# ------------------------------------------------------------------------------------------

def test_registered_and_classes() -> None:
    assert FAMILIES["piecewise-quadratic"].classes == frozenset({"smooth", "lb"})


@pytest.mark.parametrize("seed,d", CASES)
def test_loss_matches_jump_form_and_grad_matches_autograd(seed: int, d: int) -> None:
    params, problem = make(seed, d)
    w = problem.w1[:, None, :] + 3 * torch.randn(B, 16, d, dtype=F64, generator=torch.Generator().manual_seed(seed))
    ours = problem.loss(w)
    for b in range(B):
        ref = np.array([loss_np(params, b, w[b, r].numpy()) for r in range(16)])
        np.testing.assert_allclose(ours[b].numpy(), ref, rtol=1e-11, atol=1e-11)
    x = w.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(problem.loss(x).sum(), x)
    torch.testing.assert_close(problem.grad(w), g, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("seed,d", CASES)
def test_c1_at_breakpoints(seed: int, d: int) -> None:
    """Value and gradient continuous across every breakpoint: jumps over a gap 2e vanish like e."""
    params, problem = make(seed, d)
    t, Q, m = params["t"], params["Q"], centre(params)
    H = problem.constants["H"]
    K = t.shape[-1]
    for e in (1e-4, 1e-7):
        for j in range(d):
            u = torch.einsum("bde,bd->be", Q, problem.w1 - m)[:, None, :].expand(B, K, d).clone()
            u[..., j] = t[:, j, :]
            w = m[:, None, :] + torch.einsum("bde,bke->bkd", Q, u)
            step = e * Q[:, None, :, j]
            dv = (problem.loss(w + step) - problem.loss(w - step)).abs()
            dg = (problem.grad(w + step) - problem.grad(w - step)).norm(dim=-1)
            slope = problem.grad(w).norm(dim=-1)
            assert (dv <= 2 * e * slope + 2 * H[:, None] * e ** 2 + 1e-9 * (1 + problem.loss(w).abs())).all()
            assert (dg <= 2 * H[:, None] * e * (1 + 1e-6) + 1e-9 * (1 + slope)).all()


@pytest.mark.parametrize("seed,d", CASES)
def test_autograd_second_derivative_is_the_cell_curvature(seed: int, d: int) -> None:
    """At the midpoints of sorted cell k in every rotated coordinate, Q^T Hess L Q = diag(a_k)."""
    params, problem = make(seed, d)
    t, a = sorted_cells(params["t"], params["a"])
    Q, m = params["Q"], centre(params)
    for k in range(1, t.shape[-1]):
        u = (t[..., k - 1] + t[..., k]) / 2
        w = (m + torch.einsum("bde,be->bd", Q, u))[:, None, :]
        hess = torch.stack([torch.autograd.functional.hessian(lambda x, b=b: problem.loss(
            torch.cat([w[:b], x[None, None], w[b + 1:]]))[b, 0], w[b, 0]) for b in range(B)])
        rotated = Q.transpose(1, 2) @ hess @ Q
        torch.testing.assert_close(rotated, torch.diag_embed(a[..., k]), rtol=1e-9, atol=1e-9 * float(a.abs().max()))


@pytest.mark.parametrize("seed,d", CASES)
def test_H_and_gamma_exact(seed: int, d: int) -> None:
    params, problem = make(seed, d)
    check_H_and_gamma(params, problem)
    for name in ("H", "gamma"):
        with pytest.raises(AssertionError):
            check_H_and_gamma(params, with_constant(problem, name, factor=0.99))


def test_draws_cover_nonconvex_and_almost_convex_members() -> None:
    problem = make(5, 2)[1]
    ratio = problem.constants["gamma"] / problem.constants["H"]
    assert (ratio == 1).any() and ((ratio > 0) & (ratio < 1)).any() and (ratio == 0).any()


@pytest.mark.parametrize("seed,d", CASES)
def test_inf_and_minimiser_exact(seed: int, d: int) -> None:
    params, problem = make(seed, d)
    check_inf(params, problem)
    with pytest.raises(AssertionError):
        check_inf(params, with_constant(problem, "Lstar", shift=1e-6))


@pytest.mark.parametrize("seed,d", [(2, 3), (3, 2)])
def test_no_local_search_below_inf(seed: int, d: int) -> None:
    """Multistart L-BFGS-B on the numpy reference (scipy's finite-difference gradient) never goes
    below L*."""
    params, problem = make(seed, d)
    rng = np.random.default_rng(seed)
    for b in range(B):
        Lstar = float(problem.constants["Lstar"][b])
        starts = problem.w_star[b].numpy() + 10 * rng.standard_normal((10, d))
        values = [optimize.minimize(lambda w: loss_np(params, b, w), x0, method="L-BFGS-B").fun for x0 in starts]
        assert min(values) >= Lstar - 1e-9 * (1 + abs(Lstar))


@pytest.mark.parametrize("seed,d", CASES)
def test_delta_and_D(seed: int, d: int) -> None:
    params, problem = make(seed, d)
    check_delta_and_D(params, problem)
    with pytest.raises(AssertionError):
        check_delta_and_D(params, with_constant(problem, "Delta", shift=1e-6))


@pytest.mark.parametrize("seed,d", CASES)
def test_certify_and_projection(seed: int, d: int) -> None:
    params, problem = make(seed, d)
    certify(problem)
    moved = {k: v + 0.3 * torch.randn(v.shape, dtype=F64, generator=torch.Generator().manual_seed(seed))
             for k, v in params.items()}
    moved["a"][..., 0] = -moved["a"][..., 0].abs()
    projected = FAMILY.project(moved)
    assert (projected["t"].diff(dim=-1) >= 0).all() and (projected["a"][..., [0, -1]] > 0).all()
    certify(FAMILY.build(projected))
    noise = torch.Generator().manual_seed(seed + 1)
    nudged = FAMILY.project({k: v + 1e-3 * torch.randn(v.shape, dtype=F64, generator=noise) for k, v in params.items()})
    check_inf(nudged, FAMILY.build(nudged))


def test_unbounded_tails_rejected() -> None:
    params = FAMILY.draw(2, 1, torch.Generator().manual_seed(0))
    params["a"][..., -1] = -1.0
    with pytest.raises(ValueError, match="outer curvatures"):
        FAMILY.build(params)


def test_alternating_staircase_is_the_worst_case_of_gradient_descent() -> None:
    """On the staircases of ``draw``, gradient descent with step 1/H has the same gradient at the
    first M + 1 iterates and min_t ||grad||^2 = 4 H Delta / (3M + 2) (PEPit's exact worst case)."""
    params, problem = make(7, 1)
    H, Delta = problem.constants["H"], problem.constants["Delta"]
    w = problem.w1[:, None, :]
    norms = []
    for _ in range(24):
        g = problem.grad(w)
        norms.append(g.square().sum(-1)[:, 0])
        w = w - g / H[:, None, None]
    norms = torch.stack(norms, 1)
    M = ((params["a"][:, 0] < 0).sum(-1))
    widths = params["t"][:, 0].diff(dim=-1)
    stair = (widths.amax(-1) - widths.amin(-1) <= 1e-12 * widths.amax(-1)) & (M > 0)
    assert stair.sum() >= 2
    for b in stair.nonzero()[:, 0].tolist():
        m = int(M[b])
        first = norms[b, : m + 1]
        torch.testing.assert_close(first, first[:1].expand(m + 1), rtol=1e-9, atol=0.0)
        torch.testing.assert_close(first[0], 4 * H[b] * Delta[b] / (3 * m + 2), rtol=1e-9, atol=0.0)


def test_weak_convexity_is_gamma_and_certifies_the_moreau_envelope() -> None:
    """problems/moreau.py takes rho = gamma (not H), so an envelope with gamma < H_env < H is
    certified; its bracket contains min_y L(y) + H_env/2 (x - y)^2 found on a dense grid (1-D,
    grid error at most (H + H_env) step^2 / 8)."""
    params, problem = make(11, 1)
    gamma, H = problem.constants["gamma"], problem.constants["H"]
    torch.testing.assert_close(weak_convexity(problem), gamma)
    finite = gamma < H
    assert ((gamma > 0) & finite).any()
    H_env = (gamma + H) / 2
    x = problem.w1[:, None, :] + torch.linspace(-3, 3, 7, dtype=F64)[None, :, None]
    bracket = MoreauEnvelope(problem, H_env)(x)
    assert torch.isfinite(bracket.upper[finite]).all()
    step = 1e-3
    for b in finite.nonzero()[:, 0].tolist():
        one = FAMILY.build(select(params, [b]))
        y = x[b, :, 0, None] + step * torch.arange(-200000, 200001, dtype=F64)
        inner = one.loss(y.reshape(1, -1, 1)).reshape(y.shape) + H_env[b] / 2 * (x[b, :, 0, None] - y) ** 2
        best = inner.argmin(-1)
        assert ((best > 0) & (best < y.shape[-1] - 1)).all(), "grid too narrow"
        grid = inner.amin(-1)
        slack = 1e-9 * (1 + grid.abs())
        assert (bracket.lower[b] <= grid + slack).all()
        assert (grid - (H[b] + H_env[b]) * step ** 2 / 8 <= bracket.upper[b] + slack).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_interpolate_reproduces_data_of_any_member(seed: int) -> None:
    """Data (x, phi'(x), phi(x)) taken from a 1-D member with curvature bound H are interpolable, and
    ``interpolate`` returns a member with curvatures in [-H, H] whose slopes and value differences at
    the points match them (checked with the numpy jump form, not the family's evaluation)."""
    params = PiecewiseQuadratic(staircases=0.0).draw(4, 1, torch.Generator().manual_seed(seed))
    rng = np.random.default_rng(seed)
    for b in range(4):
        t, a, p = params["t"][b, 0].numpy(), params["a"][b, 0].numpy(), float(params["p"][b, 0])
        H = float(np.abs(a).max())
        x = np.sort(rng.uniform(t[0] - 1, t[-1] + 1, size=9))
        f, g = phi_np(x, t, a, p), dphi_np(x, t, a, p)
        piece = interpolate(*(torch.tensor(v, dtype=F64) for v in (x, g, f)), H)
        ti, ai, pi = piece["t"].numpy(), piece["a"].numpy(), float(piece["p"][0])
        assert np.abs(ai).max() <= H * (1 + 1e-12)
        fi, gi = phi_np(x, ti, ai, pi), dphi_np(x, ti, ai, pi)
        np.testing.assert_allclose(gi, g, rtol=0, atol=1e-12 * (1 + np.abs(g).max()))
        np.testing.assert_allclose(fi - fi[0], f - f[0], rtol=0, atol=1e-12 * (1 + np.abs(f).max()))


def test_interpolate_stays_in_the_class_on_data_no_member_fits() -> None:
    """Data with a value jump no H-smooth function allows: the result is still a member (curvatures in
    [-H, H], C^1 with the prescribed slopes), the values are only approximated; bad input is a ValueError."""
    x, g, f = (torch.tensor(v, dtype=F64) for v in ([0.0, 1.0, 2.0], [0.0, 0.0, 0.0], [0.0, 5.0, 0.0]))
    piece = interpolate(x, g, f, 1.0)
    assert float(piece["a"].abs().max()) <= 1.0
    gi = dphi_np(x.numpy(), piece["t"].numpy(), piece["a"].numpy(), float(piece["p"][0]))
    np.testing.assert_allclose(gi, 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="strictly increasing"):
        interpolate(x.flip(0), g, f, 1.0)
    with pytest.raises(ValueError, match="same length"):
        interpolate(x, g[:2], f, 1.0)
