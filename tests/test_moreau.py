"""The Moreau envelope (problems/moreau.py, Theorem 5.3): certified brackets against closed forms
(the Huber function is the envelope of G|x|, a quadratic's envelope is a quadratic) and against
scipy.optimize; and, with certified global 1-d solves independent of the module, that the
envelope of a non-convex Lipschitz function is not H-smooth (the erratum of T5.3)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import optimize

from problems import FAMILIES, ProblemBatch
from problems.moreau import MoreauEnvelope, weak_convexity

ERRATA = Path(__file__).parents[1] / "theorems" / "catalog" / "errata"


def absolute_value(G: torch.Tensor) -> ProblemBatch:
    """L(x) = G |x| in one dimension (convex, G-Lipschitz, not differentiable at 0)."""
    B = G.shape[0]
    w1 = torch.zeros(B, 1, dtype=torch.float64)
    return ProblemBatch("abs", frozenset({"cvx", "lip"}), lambda w: G[:, None] * w.abs().sum(-1),
                        lambda w: G[:, None, None] * torch.sign(w), {"G": G}, w1, None, {})


def huber(x: np.ndarray, G: np.ndarray, H: np.ndarray) -> np.ndarray:
    return np.where(np.abs(x) <= G / H, H * x ** 2 / 2, G * np.abs(x) - G ** 2 / (2 * H))


def test_envelope_of_absolute_value_is_huber() -> None:
    G = torch.tensor([0.5, 1.0, 3.0], dtype=torch.float64)
    H = torch.tensor([0.2, 1.0, 10.0], dtype=torch.float64)
    x = torch.linspace(-20, 20, 201, dtype=torch.float64).expand(3, 201)[..., None]
    bracket = MoreauEnvelope(absolute_value(G), H)(x)
    exact = torch.as_tensor(huber(x[..., 0].numpy(), G[:, None].numpy(), H[:, None].numpy()))
    # points the solve does not pin down (at the kink of |x|) get no certificate: NaN, never a wrong bracket
    certified = torch.isfinite(bracket.lower) & torch.isfinite(bracket.upper)
    assert torch.equal(certified, torch.isfinite(bracket.radius))
    assert torch.all(bracket.lower[certified] <= exact[certified] + 1e-12)
    assert torch.all(exact[certified] <= bracket.upper[certified] + 1e-12)
    far = x[..., 0].abs() > G[:, None] / H[:, None]
    assert certified[far].all() and certified.float().mean() > 0.9
    assert torch.allclose(bracket.upper[far], exact[far], rtol=1e-12, atol=1e-12)
    assert torch.allclose(bracket.prox[..., 0][far], (x[..., 0] - torch.sign(x[..., 0]) * G[:, None] / H[:, None])[far])


def test_envelope_of_a_quadratic() -> None:
    """L = 1/2 (w - w*)^T A (w - w*) + L*: L_hat(x) = 1/2 (x - w*)^T A (I + A/H)^(-1) (x - w*) + L*."""
    problem = FAMILIES["quadratic-convex"].sample(6, 3, torch.Generator().manual_seed(2))
    H_env = problem.constants["H"] * torch.tensor([0.01, 0.1, 1.0, 3.0, 10.0, 100.0], dtype=torch.float64)
    x = problem.w1[:, None, :] + torch.randn(6, 5, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    eye = torch.eye(3, dtype=torch.float64)
    A = problem.hvp(problem.w1[:, None, :].expand(6, 3, 3), eye.expand(6, 3, 3))
    M = A @ torch.linalg.inv(eye + A / H_env[:, None, None])
    u = x - problem.w_star[:, None, :]
    exact = 0.5 * torch.einsum("bri,bij,brj->br", u, M, u) + problem.constants["Lstar"][:, None]
    bracket = MoreauEnvelope(problem, H_env)(x)
    scale = exact.abs() + 1
    assert torch.all(bracket.lower <= exact + 1e-12 * scale) and torch.all(exact <= bracket.upper + 1e-12 * scale)
    assert torch.all(bracket.upper - bracket.lower <= 1e-12 * scale)


@pytest.mark.parametrize("family", ["pseudo-huber", "cosine-wells", "logistic-l2"])
def test_envelope_against_scipy(family: str) -> None:
    B, d = 4, 2
    problem = FAMILIES[family].sample(B, d, torch.Generator().manual_seed(7))
    rho = weak_convexity(problem)
    H_env = torch.maximum(problem.constants["H"] * 0.3, rho * 1.5)
    x = problem.w1[:, None, :] + 3 * torch.randn(B, 3, d, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    bracket = MoreauEnvelope(problem, H_env, rho)(x)
    assert torch.all(torch.isfinite(bracket.lower))
    for b in range(B):
        for r in range(3):
            def phi(y: np.ndarray) -> float:
                yt = torch.as_tensor(y, dtype=torch.float64).expand(B, 1, d).contiguous()
                return float(problem.loss(yt)[b, 0]) + float(H_env[b]) / 2 * float(np.sum((x[b, r].numpy() - y) ** 2))
            result = optimize.minimize(phi, x[b, r].numpy(), method="Nelder-Mead",
                                       options={"xatol": 1e-12, "fatol": 1e-14, "maxiter": 20000})
            scale = 1e-9 * (abs(result.fun) + 1)
            assert float(bracket.lower[b, r]) <= result.fun + scale  # scipy's value is attained, so >= L_hat
            assert abs(float(bracket.upper[b, r]) - result.fun) <= 1e-7 * (abs(result.fun) + 1)
            assert np.linalg.norm(result.x - bracket.prox[b, r].numpy()) <= 1e-4 * (1 + np.linalg.norm(result.x))


def test_uncertified_instances_are_nan() -> None:
    problem = FAMILIES["cosine-wells"].sample(2, 1, torch.Generator().manual_seed(0))
    H_env = problem.constants["H"] * torch.tensor([0.5, 2.0], dtype=torch.float64)
    bracket = MoreauEnvelope(problem, H_env)(problem.w1[:, None, :])
    assert torch.isnan(bracket.lower[0]).all() and torch.isfinite(bracket.lower[1]).all()


def global_envelope_1d(L, G: float, H: float, x: float, points: int = 400_001) -> tuple[float, float]:
    """Certified bracket of inf_y L(y) + H/2 (x - y)^2 for a G-Lipschitz 1-d L, independent of
    problems/moreau.py: minimisers lie within 2G/H of x (beyond, phi(y) > L(x) = phi(x)), phi is
    3G-Lipschitz there, so the grid minimum minus 3G h/2 is a lower bound; the upper bound is
    phi at the grid minimiser refined by a bounded scalar search."""
    radius = 2 * G / H
    grid = np.linspace(x - radius, x + radius, points)
    values = L(grid) + H / 2 * (x - grid) ** 2
    i = int(np.argmin(values))
    h = grid[1] - grid[0]
    refined = optimize.minimize_scalar(lambda y: L(np.array([y]))[0] + H / 2 * (x - y) ** 2,
                                       bounds=(grid[max(i - 1, 0)], grid[min(i + 1, points - 1)]), method="bounded",
                                       options={"xatol": 1e-14})
    upper = min(values[i], refined.fun)
    return values[i] - 3 * G * h / 2, upper


def second_difference_lower(L, G: float, H: float, x: float, v: float) -> float:
    """A certified lower bound on |L_hat(x + v) + L_hat(x - v) - 2 L_hat(x)| from the concave side."""
    lo_p, hi_p = global_envelope_1d(L, G, H, x + v)
    lo_m, hi_m = global_envelope_1d(L, G, H, x - v)
    lo_0, _ = global_envelope_1d(L, G, H, x)
    return 2 * lo_0 - hi_p - hi_m


@pytest.mark.parametrize("ratio", [0.25, 0.5, 0.9, 1.3, 1.8])
def test_cosine_envelope_is_not_H_smooth(ratio: float) -> None:
    """L(x) = alpha (1 - cos(omega x)): at the top of the well x0 = pi/omega, for H = ratio * rho
    (rho = alpha omega^2) the envelope has a concave kink (ratio < 1) or curvature
    -H rho/(H - rho) < -H (1 < ratio < 2), so its second difference exceeds H v^2."""
    alpha, omega = 2.0, 1.5
    rho, G = alpha * omega ** 2, alpha * omega
    H = ratio * rho

    def L(y: np.ndarray) -> np.ndarray:
        return alpha * (1 - np.cos(omega * y))

    v = 0.05
    assert second_difference_lower(L, G, H, np.pi / omega, v) > 1.2 * H * v ** 2


def test_envelope_of_minus_absolute_value_has_a_kink() -> None:
    """L(x) = -G|x| (G-Lipschitz, concave): L_hat(x) = -G|x| - G^2/(2H) exactly, not differentiable
    at 0 for any H; the global solve confirms the formula and the second difference 2 G |v| > H v^2."""
    G = 1.5
    for H in (0.1, 1.0, 10.0):
        def L(y: np.ndarray) -> np.ndarray:
            return -G * np.abs(y)

        for x in (-1.0, -0.01, 0.0, 0.3, 2.0):
            lo, hi = global_envelope_1d(L, G, H, x)
            assert lo - 1e-9 <= -G * abs(x) - G ** 2 / (2 * H) <= hi + 1e-9
        v = 0.5 * G / H
        assert second_difference_lower(L, G, H, 0.0, v) > H * v ** 2


def test_witness_instance_is_not_H_smooth_by_a_global_solve() -> None:
    """The stored T5.3 witness (1-d cosine well with rho < H_env < 2 rho): a global solve,
    independent of problems/moreau.py, confirms that its envelope breaks the second-difference bound."""
    document = json.loads((ERRATA / "T5.3-smooth-second-difference.json").read_text())
    params, constants = document["instance_parameters"], document["constants_and_parameters"]
    alpha, omega, m = params["alpha"][0], params["omega"][0], params["m"][0]
    H, rho = constants["H_env"], constants["rho"]
    assert rho < H < 2 * rho and rho == pytest.approx(alpha * omega ** 2)

    def L(y: np.ndarray) -> np.ndarray:
        return alpha * (1 - np.cos(omega * (y - m)))

    v = 0.05 / omega
    assert second_difference_lower(L, alpha * omega, H, m + np.pi / omega, v) > 1.2 * H * v ** 2


def test_envelope_of_a_huber_function_far_below_its_curvature() -> None:
    """L = L* + c h_delta(w - w*) in one dimension with H_env = 3e-6 c (where the damped Newton
    steps stall and the line-search fallback takes over): L_hat(x) - L* is c H t^2/(2 (c + H))
    for |t| <= delta (c + H)/H and c delta |t| - c delta^2/2 - c^2 delta^2/(2 H) beyond (t = x - w*)."""
    c, delta, w_star, Lstar = 12.658234616198827, 2.851571885698971e-4, -1.5507622164185677, 1.8017526803914823
    params = {"c": torch.tensor([[c]], dtype=torch.float64), "delta": torch.tensor([[delta]], dtype=torch.float64),
              "Q": torch.tensor([[[-1.0]]], dtype=torch.float64), "w_star": torch.tensor([[w_star]], dtype=torch.float64),
              "w1": torch.tensor([[-1.54]], dtype=torch.float64), "Lstar": torch.tensor([Lstar], dtype=torch.float64)}
    problem = FAMILIES["huber"].build(params)
    H = torch.tensor([3.609586595413408e-05], dtype=torch.float64)
    x = (w_star + torch.cat([-torch.logspace(-4, 2, 60, dtype=torch.float64), torch.logspace(-4, 2, 60, dtype=torch.float64),
                             torch.tensor([-47.50000927900571 - w_star], dtype=torch.float64)]))[None, :, None]
    bracket = MoreauEnvelope(problem, H)(x)
    t, h = (x[..., 0] - w_star).abs(), float(H)
    exact = Lstar + torch.where(t <= delta * (c + h) / h, c * h * t ** 2 / (2 * (c + h)),
                                c * delta * t - c * delta ** 2 / 2 - c ** 2 * delta ** 2 / (2 * h))
    scale = 1e-12 * (1 + exact.abs())
    assert torch.all(bracket.lower <= exact + scale) and torch.all(exact <= bracket.upper + scale)
    assert torch.all(bracket.upper - bracket.lower <= scale)
    assert torch.all(bracket.radius <= 1e-9 * (1 + x[..., 0].abs()))
