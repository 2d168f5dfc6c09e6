"""Smooth convex finite sums: least squares (plain and ridge) and logistic regression (plain and l2).

Every constant is confirmed by means independent of the family's formulas: H and mu against
numpy eigenvalues of torch.func.hessian of a loss written out here in torch from ``describe``'s
data (A, b, lam or X, y, lam), the per-term H_i against torch.func.hessian of each term, w* and L*
against numpy lstsq (least squares) or scipy BFGS (logistic), G_i and G against the data, the
finite-sum oracle's exact variance (1/N) sum_i ||grad l_i - grad L||^2 against Monte Carlo, and
mean_i l_i = L. Each check is a function that raises AssertionError, and each test also shows
that its check rejects the constant moved by 1% in the unsafe direction (it can fail).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize
from torch.func import hessian

from problems import FAMILIES, FiniteSumSampling, ProblemBatch
from problems.logistic import certified_modulus
from problems.parametric import certify
from problems.strategies import batches, instances, oracles

F64 = torch.float64
LSQ = ("least-squares", "least-squares-l2")
LOGISTIC = ("logistic", "logistic-l2")
SMOOTH_FSUM = LSQ + LOGISTIC
SETTINGS = settings(max_examples=8, deadline=None)
seeds = st.integers(0, 2 ** 32 - 1)
dims = st.integers(1, 5)


def make(name: str, seed: int, B: int, d: int) -> ProblemBatch:
    return FAMILIES[name].sample(B, d, torch.Generator().manual_seed(seed))


def data(p: ProblemBatch, b: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(rows, targets, lam) of instance b from ``describe``: (A, b) for least squares, (X, y)
    for logistic regression."""
    desc = p.describe(b)
    rows, targets = ("A", "b") if "A" in desc else ("X", "y")
    return torch.tensor(desc[rows], dtype=F64), torch.tensor(desc[targets], dtype=F64), float(desc["lam"])


def term_losses(p: ProblemBatch, b: int, x: torch.Tensor) -> torch.Tensor:
    """Every term l_i(x), shape (N,), written out in torch from the documented formulas."""
    rows, targets, lam = data(p, b)
    if p.family in LSQ:
        base = 0.5 * (rows @ x - targets) ** 2
    else:
        base = torch.nn.functional.softplus(-targets * (rows @ x))
    return base + lam / 2 * x.dot(x)


def loss_hessian(p: ProblemBatch, b: int, x: torch.Tensor) -> np.ndarray:
    return hessian(lambda u: term_losses(p, b, u).mean())(x).numpy()


def term_hessians(p: ProblemBatch, b: int, x: torch.Tensor) -> np.ndarray:
    """Hess l_i(x) for every term, shape (N, d, d)."""
    return hessian(lambda u: term_losses(p, b, u))(x).numpy()


def far_points(p: ProblemBatch, b: int, gen: torch.Generator, k: int = 6) -> list[torch.Tensor]:
    """w1, 0 and points at radii 1e-2 to 1e3 around w1 (random directions)."""
    d = p.dim
    out = [p.w1[b].clone(), torch.zeros(d, dtype=F64)]
    for j in range(k):
        u = torch.randn(d, generator=gen, dtype=F64)
        out.append(p.w1[b] + 10.0 ** (j - 2) * u / u.norm())
    return out


# ---------------------------------------------------------------------------------------------
# checks (each raises AssertionError)

def check_H(p: ProblemBatch, H: torch.Tensor, gen: torch.Generator) -> None:
    """Every Hessian eigenvalue at the sampled points is <= H, and H is attained: at w = 0 for
    logistic regression (every margin 0), anywhere for least squares (constant Hessian)."""
    for b in range(p.batch_size):
        tops = [np.linalg.eigvalsh(loss_hessian(p, b, x))[-1] for x in far_points(p, b, gen)]
        assert max(tops) <= float(H[b]) * (1 + 1e-10), (b, max(tops), float(H[b]))
        assert tops[1] >= float(H[b]) * (1 - 1e-10), (b, tops[1], float(H[b]))


def check_mu(p: ProblemBatch, mu: torch.Tensor, gen: torch.Generator) -> None:
    """Every Hessian eigenvalue at the sampled points is >= mu, and mu is approached: exactly for
    least squares, at the farthest point (where every margin is large) for logistic regression."""
    for b in range(p.batch_size):
        bottoms = [np.linalg.eigvalsh(loss_hessian(p, b, x))[0] for x in far_points(p, b, gen)]
        H = float(p.constants["H"][b])
        assert min(bottoms) >= float(mu[b]) - 1e-10 * H, (b, min(bottoms), float(mu[b]))
        assert bottoms[-1] <= float(mu[b]) * (1 + 1e-3) + 1e-10 * H, (b, bottoms[-1], float(mu[b]))


def check_H_i(p: ProblemBatch, H_i: torch.Tensor, gen: torch.Generator) -> None:
    """Every term's Hessian eigenvalues are <= H_i at the sampled points, and H_i is attained
    (at w = 0, where every logistic margin is 0)."""
    for b in range(p.batch_size):
        tops = np.stack([np.linalg.eigvalsh(term_hessians(p, b, x))[:, -1] for x in far_points(p, b, gen)])
        bound = H_i[b].numpy()
        assert (tops <= bound * (1 + 1e-10)).all(), b
        assert (tops[1] >= bound * (1 - 1e-10)).all(), b


def reference_minimiser(p: ProblemBatch, b: int) -> np.ndarray:
    """w* by numpy lstsq (least squares; the minimiser nearest to w1: w1 plus the minimum-norm
    correction) or scipy BFGS from w1 polished by Newton steps (logistic regression, strictly convex)."""
    rows, targets, lam = data(p, b)
    A, y, w1 = rows.numpy(), targets.numpy(), p.w1[b].numpy()
    if p.family in LSQ:
        N, d = A.shape
        stacked = np.vstack([A, math.sqrt(N * lam) * np.eye(d)])
        rhs = np.concatenate([y - A @ w1, -math.sqrt(N * lam) * w1])
        return w1 + np.linalg.lstsq(stacked, rhs, rcond=None)[0]

    def fun(u: np.ndarray) -> float:
        return float(term_losses(p, b, torch.tensor(u)).mean())

    def jac(u: np.ndarray) -> np.ndarray:
        t = torch.tensor(u, requires_grad=True)
        term_losses(p, b, t).mean().backward()
        return t.grad.numpy()

    res = optimize.minimize(fun, w1, jac=jac, method="BFGS", options={"gtol": 1e-13, "maxiter": 20000})
    x = torch.tensor(res.x)
    for _ in range(3):  # Newton polish with torch.func (BFGS stops at ||grad|| ~ 1e-12)
        x = x - torch.linalg.solve(torch.tensor(loss_hessian(p, b, x)), torch.func.grad(lambda u: term_losses(p, b, u).mean())(x))
    return x.numpy()


def check_minimiser(p: ProblemBatch, Lstar: torch.Tensor, D: torch.Tensor, Delta: torch.Tensor) -> None:
    """The reported w* is the reference minimiser (w* exact for least squares, within the
    certified w_star_error for logistic regression), grad L(w*) = 0, L* = L(w_ref) (a lower bound
    for logistic regression), D = ||w1 - w*|| (an upper bound), Delta = L(w1) - L*."""
    exact = p.family in LSQ
    for b in range(p.batch_size):
        ref = torch.tensor(reference_minimiser(p, b))
        ws = p.w_star[b]
        x = ws.clone().requires_grad_(True)
        term_losses(p, b, x).mean().backward()
        grad_scale = 1 + float(p.grad(p.w1[b:b + 1, None].expand(p.batch_size, 1, -1).contiguous())[b, 0].norm())
        assert float(x.grad.norm()) <= 1e-9 * grad_scale, b
        L_ref, L1 = float(term_losses(p, b, ref).mean()), float(term_losses(p, b, p.w1[b]).mean())
        scale = 1 + abs(L_ref) + abs(L1)
        error = 0.0 if exact else float(p.constants["w_star_error"][b])
        assert float((ws - ref).norm()) <= 1e-6 * (1 + float(ref.norm())) + error, b
        true_D = float((p.w1[b] - ref).norm())
        assert float(Lstar[b]) <= L_ref + 1e-12 * scale, b
        assert float(Lstar[b]) >= L_ref - 1e-10 * scale, b
        assert float(D[b]) >= true_D - 1e-7 * (1 + true_D), b
        assert float(D[b]) <= true_D + 1e-7 * (1 + true_D) + error, b
        assert abs(float(Delta[b]) - (L1 - float(Lstar[b]))) <= 1e-10 * scale, b


def check_G(p: ProblemBatch, G: torch.Tensor, G_i: torch.Tensor, gen: torch.Generator) -> None:
    """Per-term gradient norms <= G_i, approached along -y_i x_i (a saturated term has gradient
    -y_i x_i; at margin -100 the deficit is e^-100, whatever ||x_i||); gradients of L <= G at every
    sampled point, far ones included."""
    R = 64
    for b in range(p.batch_size):
        rows, targets, _ = data(p, b)
        d = p.dim
        u = torch.randn(R, d, generator=gen, dtype=F64)
        pts = p.w1[b] + 10.0 ** torch.linspace(-2, 6, R, dtype=F64)[:, None] * u / u.norm(dim=-1, keepdim=True)
        pts = torch.cat([pts, -100 * targets[:, None] * rows / rows.square().sum(-1, keepdim=True)])  # saturates term i
        for x in pts:
            xg = x.clone().requires_grad_(True)
            terms = term_losses(p, b, xg)
            jac = torch.stack([torch.autograd.grad(t, xg, retain_graph=True)[0] for t in terms])
            assert (jac.norm(dim=-1) <= G_i[b] * (1 + 1e-12)).all(), b
            assert float(jac.mean(0).norm()) <= float(G[b]) * (1 + 1e-12), b
        xg = pts[-len(rows):].clone()
        saturated = torch.stack([torch.func.grad(lambda v, i=i: term_losses(p, b, v)[i])(xg[i]) for i in range(len(rows))])
        assert (saturated.norm(dim=-1) >= G_i[b] * (1 - 1e-10)).all(), b


def shifted(constants, name: str, factor: float) -> dict:
    return {**constants, name: constants[name] * factor}


# ---------------------------------------------------------------------------------------------
# tests

def test_declared_classes() -> None:
    assert FAMILIES["least-squares"].classes == {"cvx", "smooth", "so", "lb", "minimizer", "fsum"}
    assert FAMILIES["least-squares-l2"].classes == {"cvx", "sc", "smooth", "so", "lb", "minimizer", "fsum"}
    assert FAMILIES["logistic"].classes == {"cvx", "lip", "smooth", "so", "lb", "minimizer", "fsum"}
    assert FAMILIES["logistic-l2"].classes == {"cvx", "sc", "smooth", "so", "lb", "minimizer", "fsum"}
    for name in SMOOTH_FSUM:
        p = make(name, 0, 2, 3)
        assert p.terms is not None and set(p.terms.constants) >= {"H_i"}
        assert ("G_i" in p.terms.constants) == ("lip" in p.classes) == ("G" in p.constants)


@SETTINGS
@given(seed=seeds, d=dims, name=st.sampled_from(SMOOTH_FSUM))
def test_H_and_mu_against_autograd_hessians(seed: int, d: int, name: str) -> None:
    p = make(name, seed, 3, d)
    c = p.constants
    check_H(p, c["H"], torch.Generator().manual_seed(seed))
    with pytest.raises(AssertionError):
        check_H(p, c["H"] * 0.99, torch.Generator().manual_seed(seed))
    if "sc" in p.classes or name in LSQ:
        check_mu(p, c["mu"], torch.Generator().manual_seed(seed))
        with pytest.raises(AssertionError):
            check_mu(p, c["mu"] * 1.01 + 1e-6 * c["H"], torch.Generator().manual_seed(seed))
    if "sc" in p.classes:
        assert (c["mu"] > 0).all()


@SETTINGS
@given(seed=seeds, d=dims, name=st.sampled_from(SMOOTH_FSUM))
def test_per_term_H_i_against_autograd_hessians(seed: int, d: int, name: str) -> None:
    p = make(name, seed, 2, d)
    H_i = p.terms.constants["H_i"]
    check_H_i(p, H_i, torch.Generator().manual_seed(seed))
    with pytest.raises(AssertionError):
        check_H_i(p, H_i * 0.99, torch.Generator().manual_seed(seed))
    # mean_i H_i bounds H (the Hessian is the mean of the terms')
    assert (p.constants["H"] <= H_i.mean(-1) * (1 + 1e-12)).all()


@SETTINGS
@given(seed=seeds, d=dims, name=st.sampled_from(SMOOTH_FSUM))
def test_w_star_Lstar_D_Delta_against_lstsq_and_scipy(seed: int, d: int, name: str) -> None:
    p = make(name, seed, 3, d)
    c = p.constants
    check_minimiser(p, c["Lstar"], c["D"], c["Delta"])
    offset = 0.01 * (1 + c["Lstar"].abs() + c["Delta"])
    for wrong in ({**c, "Lstar": c["Lstar"] + offset}, shifted(c, "D", 0.99),
                  {**c, "Delta": c["Delta"] - offset}):
        with pytest.raises(AssertionError):
            check_minimiser(p, wrong["Lstar"], wrong["D"], wrong["Delta"])


def test_least_squares_draws_are_ill_conditioned_rank_deficient_and_interpolating() -> None:
    """The generator reaches the hard corners: condition numbers >= 1e3, kernels (plain family),
    L* = 0 (interpolation) and per-term H_i far above H."""
    p = make("least-squares", 0, 64, 5)
    eig = np.stack([np.linalg.eigvalsh(loss_hessian(p, b, torch.zeros(5, dtype=F64))) for b in range(64)])
    positive = np.where(eig > 1e-12 * eig[:, -1:], eig, np.inf).min(-1)
    assert (eig[:, -1] / positive >= 1e3).sum() >= 5
    assert (eig[:, 0] <= 1e-12 * eig[:, -1]).sum() >= 3
    assert (p.constants["Lstar"] <= 1e-20).sum() >= 5
    assert (p.terms.constants["H_i"].amax(-1) >= 4 * p.constants["H"]).sum() >= 10
    kernel = p.constants["mu"] == 0
    assert kernel.sum() >= 3
    check_minimiser(p, p.constants["Lstar"], p.constants["D"], p.constants["Delta"])  # w* nearest to w1
    q = make("least-squares-l2", 0, 64, 5)
    assert (q.constants["H"] / q.constants["mu"] >= 1e3).sum() >= 5


@settings(max_examples=4, deadline=None)
@given(seed=seeds, d=dims, name=st.sampled_from(LOGISTIC))
def test_logistic_minimiser_certificate_is_sound_and_sharp(seed: int, d: int, name: str) -> None:
    """``certified_modulus`` at points w near the scipy minimiser w_ref, moved along the Hessian's
    bottom eigenvector: ||w - w_ref|| <= ||g|| / mu and L(w) - ||g||^2/(2 mu) <= L(w_ref) (g = grad L(w))
    wherever it certifies (always right next to w*); the distance bound is nearly attained there,
    so 1.5 mu would break it."""
    p = make(name, seed, 2, d)
    sharp = []
    for b in range(2):
        rows, targets, lam = data(p, b)
        w_ref = torch.tensor(reference_minimiser(p, b))
        L_ref = float(term_losses(p, b, w_ref).mean())
        bottom = torch.tensor(np.linalg.eigh(loss_hessian(p, b, w_ref))[1][:, 0])
        for eps in (1e-7, 1e-5, 1e-3):
            w = w_ref + eps * (1 + float(w_ref.norm())) * bottom
            x = w.clone().requires_grad_(True)
            value = term_losses(p, b, x).mean()
            (g,) = torch.autograd.grad(value, x)
            try:
                mu = certified_modulus(rows[None].numpy(), targets[None].numpy(), np.array([lam]), w[None].numpy(),
                                       g[None].numpy())[0]
            except RuntimeError:  # no ball certifies far from w* (lam = 0): allowed, but not next to w*
                assert eps > 1e-7, b
                continue
            dist, g_norm = float((w - w_ref).norm()), float(g.norm())
            assert dist <= g_norm / mu * (1 + 1e-6) + 1e-9, (b, eps)
            assert float(value.detach()) - g_norm ** 2 / (2 * mu) <= L_ref + 1e-12 * (1 + abs(L_ref)), (b, eps)
            sharp.append(dist > g_norm / (1.5 * mu) + 1e-9)
    assert any(sharp)


@SETTINGS
@given(seed=seeds, d=dims)
def test_logistic_G_and_G_i_against_sampled_term_gradients(seed: int, d: int) -> None:
    p = make("logistic", seed, 2, d)
    G, G_i = p.constants["G"], p.terms.constants["G_i"]
    check_G(p, G, G_i, torch.Generator().manual_seed(seed))
    with pytest.raises(AssertionError):
        check_G(p, G, G_i * 0.99, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", SMOOTH_FSUM)
def test_terms_average_to_the_loss_and_match_autograd(name: str) -> None:
    p = make(name, 3, 3, 4)
    N = p.terms.num_terms
    w = p.w1[:, None, :] + torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(1), dtype=F64)
    every = [torch.full((3, 5), i) for i in range(N)]
    values = torch.stack([p.terms.term_loss(w, idx) for idx in every])
    grads = torch.stack([p.terms.term_grad(w, idx) for idx in every])
    torch.testing.assert_close(values.mean(0), p.loss(w), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grads.mean(0), p.grad(w), rtol=1e-10, atol=1e-12)
    for b in range(3):
        for r in range(5):
            x = w[b, r].clone().requires_grad_(True)
            mine = term_losses(p, b, x)
            jac = torch.stack([torch.autograd.grad(t, x, retain_graph=True)[0] for t in mine])
            torch.testing.assert_close(values[:, b, r], mine.detach(), rtol=1e-12, atol=1e-12)
            torch.testing.assert_close(grads[:, b, r], jac, rtol=1e-10, atol=1e-12)
    # mixed indices per (instance, replica) pick the right rows
    idx = torch.randint(0, N, (3, 5), generator=torch.Generator().manual_seed(2))
    picked = p.terms.term_grad(w, idx)
    expected = grads[idx, torch.arange(3)[:, None], torch.arange(5)[None, :]]
    torch.testing.assert_close(picked, expected, rtol=0, atol=0)


@pytest.mark.parametrize("name", SMOOTH_FSUM)
def test_finite_sum_oracle_exact_variance_against_monte_carlo(name: str) -> None:
    p = make(name, 4, 3, 3)
    o = FiniteSumSampling().bind(p, torch.Generator().manual_seed(5))
    R = 20000
    w = (p.w1 + torch.randn(p.w1.shape, generator=torch.Generator().manual_seed(6), dtype=F64))[:, None, :]
    truth = p.grad(w)
    N = p.terms.num_terms
    every = torch.stack([p.terms.term_grad(w, torch.full((3, 1), i)) for i in range(N)])
    exact = (every - truth[None]).square().sum(-1).mean(0)[:, 0]  # (1/N) sum_i ||grad l_i - grad L||^2
    g = o.sample(w.expand(-1, R, -1).contiguous())
    sq = (g - truth).square().sum(-1)
    se = sq.std(1) / math.sqrt(R)
    assert ((sq.mean(1) - exact).abs() <= 5 * se).all()
    assert (((g - truth).mean(1)).abs() <= 5 * g.std(1) / math.sqrt(R) + 1e-12).all()  # unbiased
    assert ((sq.mean(1) - exact * 1.05).abs() > 5 * se).any()  # 5% off would be seen
    if "lip" in p.classes:
        assert o.classes == {"fsum", "var", "bdd", "m2"}
        assert (g.norm(dim=-1) <= o.constants["G"][:, None] * (1 + 1e-12)).all()
        assert (exact <= o.constants["sigma"] ** 2).all()
    else:
        assert o.classes == {"fsum"} and "sigma" not in o.constants


@pytest.mark.parametrize("name", LSQ)
def test_least_squares_instances_certify_and_project(name: str) -> None:
    family = FAMILIES[name]
    params = family.draw(8, 4, torch.Generator().manual_seed(7))
    certify(family.build(params))
    bad = family.project(params)
    bad["V"] = bad["V"] * 1.1  # not orthogonal: the SVD constants no longer describe the loss
    with pytest.raises(AssertionError):
        certify(family.build(bad))


@settings(max_examples=10, deadline=None)
@given(st.data())
def test_strategies_draw_the_new_families(data) -> None:
    problem = data.draw(instances(data.draw(st.sampled_from(LSQ)), dim=data.draw(st.integers(1, 4))))
    certify(problem)
    name = data.draw(st.sampled_from(SMOOTH_FSUM))
    batch = data.draw(batches(name, batch_size=2, dim=2))
    oracle = data.draw(oracles(batch, ("finite-sum", "exact")))
    assert oracle.sample(batch.w1[:, None, :]).shape == (2, 1, 2)
