"""Certified constants of the online settings: the projections are the Euclidean projections
(checked against scipy), the worst comparators minimise the linear loss (scipy's LP and SLSQP),
every round's w1, comparator and projected iterates lie in the set whose radius D_2 / D_inf the
claims use, the regret symbols equal a direct per-step computation, and the stationary
adversaries have the moments they declare (Monte Carlo, with the engine's test)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.optimize import linprog, minimize

from algorithms.adagrad_diag import DiagonalAdaGrad
from problems.online import ADVERSARIES, Context
from problems.projections import SETS, project_box, project_l2_ball, worst_in_box, worst_in_l2_ball
from theorems.catalog import CATALOG
from theorems.engine import loading, statistics
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round

GEN = torch.Generator().manual_seed(11)


def points(n: int = 20, d: int = 3, scale: float = 3.0) -> torch.Tensor:
    return torch.randn(n, 1, d, generator=GEN, dtype=torch.float64) * scale


@pytest.mark.parametrize("project, inside", [(project_l2_ball, lambda u, r: np.linalg.norm(u) <= r),
                                             (project_box, lambda u, r: np.abs(u).max() <= r)])
def test_projections_are_the_nearest_points(project, inside) -> None:
    """Against scipy's SLSQP on min ||u - w||^2 over the set, and idempotent."""
    radius = torch.tensor(1.3, dtype=torch.float64)
    w = points()
    p = project(w, radius)
    assert torch.allclose(project(p, radius), p, rtol=1e-15, atol=0)   # up to the rounding of the rescaling
    for wi, pi in zip(w.reshape(-1, 3).numpy(), p.reshape(-1, 3).numpy()):
        if project is project_l2_ball:
            constraint = {"type": "ineq", "fun": lambda u: 1.3 ** 2 - u @ u}
            found = minimize(lambda u: ((u - wi) ** 2).sum(), np.zeros(3), constraints=[constraint], tol=1e-14)
        else:
            found = minimize(lambda u: ((u - wi) ** 2).sum(), np.zeros(3), bounds=[(-1.3, 1.3)] * 3, tol=1e-14)
        assert inside(pi, 1.3 + 1e-12)
        assert np.allclose(found.x, pi, atol=1e-6)


def test_worst_comparators_minimise_the_linear_loss() -> None:
    """<s, u> over the box by scipy's LP; over the ball by SLSQP (and Cauchy-Schwarz: -r ||s||)."""
    radius = torch.tensor(0.7, dtype=torch.float64)
    s = points(10, 4)
    box, ball = worst_in_box(s, radius), worst_in_l2_ball(s, radius)
    for si, bi, li in zip(s.reshape(-1, 4).numpy(), box.reshape(-1, 4).numpy(), ball.reshape(-1, 4).numpy()):
        lp = linprog(si, bounds=[(-0.7, 0.7)] * 4)
        assert math.isclose(lp.fun, si @ bi, rel_tol=1e-9)
        sq = minimize(lambda u: si @ u, np.zeros(4), constraints=[{"type": "ineq", "fun": lambda u: 0.49 - u @ u}],
                      tol=1e-14)
        assert sq.fun >= si @ li - 1e-7 and math.isclose(si @ li, -0.7 * np.linalg.norm(si), rel_tol=1e-12)
    assert torch.equal(worst_in_l2_ball(torch.zeros(1, 1, 2, dtype=torch.float64), radius), torch.zeros(1, 1, 2,
                                                                                                       dtype=torch.float64))


def _round(spec_id: str, setting: str, adversary: str, seed: int, horizon: int, dim: int):
    spec = CATALOG[spec_id]
    key = RoundKey(spec_id, setting, adversary, spec.setting(setting).online, seed, horizon, dim, 16, 8, "cpu", None)
    return build_round(spec, key)


@pytest.mark.parametrize("spec_id, feasible", [("T16.2", "l2-ball"), ("T16.3", "linf-box")])
@pytest.mark.parametrize("adversary", ["gaussian", "chase", "escape", "two-phase"])
def test_rounds_certify_their_radii(spec_id: str, feasible: str, adversary: str) -> None:
    """w1 lies in the set; D_2 is the set's l2 radius (sqrt(d) D_inf for the box, attained at its
    vertices), D_inf its l_inf radius; the worst comparator is in the set, and the regret uses it."""
    data = _round(spec_id, "adversarial", adversary, 3, 8, 4)
    v, batch = data.values, data.problem
    w1, r = batch.w1, batch.radius
    assert torch.allclose(v["D_inf"].reshape(-1), r)
    if feasible == "l2-ball":
        assert bool((torch.linalg.vector_norm(w1, dim=-1) <= r * (1 + 1e-12)).all())
        assert torch.allclose(v["D_2"].reshape(-1), r)
    else:
        assert bool((w1.abs().amax(-1) <= r * (1 + 1e-12)).all())
        assert torch.allclose(v["D_2"].reshape(-1), 2 * r)          # d = 4: the vertex (r, r, r, r) has norm 2 r
        vertex = worst_in_box(torch.ones(1, 1, 4, dtype=torch.float64), r[:1].reshape(1, 1, 1))
        assert torch.allclose(torch.linalg.vector_norm(vertex), 2 * r[0])


class Recording(DiagonalAdaGrad):
    """Diagonal AdaGrad that keeps every (w_t, g_t) it sees."""

    seen: list = []

    def step(self, w, state, oracle, t):
        g = oracle(w)
        Recording.seen.append((w.clone(), g.clone()))
        return super().step(w, state, lambda p, m=1: g, t)


@pytest.mark.parametrize("adversary", ["chase", "oscillate", "rademacher", "one-hot"])
def test_regret_symbols_match_a_direct_computation(adversary: str, monkeypatch) -> None:
    """sum_gw - sum_gu equals sum_t <g_t, w_t - u> computed step by step, with u the LP's minimiser
    of <sum_t g_t, u> over the box; the iterates stay in the box."""
    Recording.seen = []
    monkeypatch.setattr(loading, "load_algorithm", lambda reference, options=None: Recording)
    data = _round("T16.3", "adversarial", adversary, 7, 6, 3)
    ws = torch.stack([w for w, _ in Recording.seen])        # (T, B, 1, d)
    gs = torch.stack([g for _, g in Recording.seen])
    r = data.problem.radius
    assert bool((ws.abs().amax(-1).amax(0).reshape(-1) <= r * (1 + 1e-12)).all())
    for b in range(r.shape[0]):
        total = gs[:, b, 0].sum(0).numpy()
        lp = linprog(total, bounds=[(-float(r[b]), float(r[b]))] * 3)
        direct = float((gs[:, b, 0] * ws[:, b, 0]).sum()) - lp.fun
        measured = float(data.values["sum_gw"][b, 0, 0] - data.values["sum_gu"][b, 0, 0])
        assert math.isclose(measured, direct, rel_tol=1e-9, abs_tol=1e-9 * float((gs[:, b].abs() * r[b]).sum()))


@pytest.mark.parametrize("name", ["stationary-gaussian", "stationary-two-point", "skewed"])
def test_stationary_adversaries_have_their_declared_moments(name: str) -> None:
    """The Monte Carlo mean of g, g^2 and sign(g) over 4096 draws per instance is not significantly
    off the declared moments in either direction (the engine's one-sided test, Bonferroni)."""
    B, R = 16, 4096
    ctx = Context(B, R, 1, 1, torch.ones(B, 1, 1, dtype=torch.float64), "free", torch.Generator().manual_seed(4))
    g = ADVERSARIES[name].start(ctx)(1, torch.zeros(B, R, 1, dtype=torch.float64))
    checks = [(g, "g_mean"), (g * g, "g_sq_mean")] + ([(torch.sign(g), "sign_mean")] if name == "skewed" else [])
    level = 0.01 / (2 * len(checks) * B)
    for sample, moment in checks:
        target = ctx.moments[moment].reshape(B, 1)
        slack = 1e-12 * target.abs()   # a constant sample (two-point law, mean 0: g^2 = sigma^2) differs by rounding
        assert bool((statistics.p_values(sample, target + slack) > level).all()), moment
        assert bool((statistics.p_values(-sample, -target + slack) > level).all()), moment
    assert torch.allclose(ctx.moments["g_var"], ctx.moments["g_sq_mean"] - ctx.moments["g_mean"] ** 2, rtol=1e-12)
    if name == "skewed":
        assert bool((ctx.moments["g_mean"] < 0).all() and (ctx.moments["sign_mean"] > 0).all())


def test_every_set_is_registered_with_its_projection() -> None:
    assert set(SETS) == {"l2-ball", "linf-box", "free"}
    w = points(3, 2, 100.0)
    assert torch.equal(SETS["free"].project(w, torch.tensor(1.0)), w)


@pytest.mark.parametrize("feasible, make", [
    ("linf-box", lambda: DiagonalAdaGrad(math.sqrt(2) * 0.5, radius=0.5)),
    ("l2-ball", lambda: __import__("algorithms.online_gd", fromlist=["x"]).ProjectedAdaptiveGD(math.sqrt(2) * 0.5,
                                                                                            radius=0.5))])
def test_the_gradient_adversary_raises_the_normalised_regret(feasible: str, make) -> None:
    """The ascent ends with a larger regret / (D sqrt(sum ||g||^2)) than the sequence it started
    from, keeps w_1 in the set, and is deterministic (so its rounds replay)."""
    from theorems.engine.online_ascent import _objective, ascend
    radius = torch.full((8, 1, 1), 0.5, dtype=torch.float64)
    w1 = SETS[feasible].inside((8, 1, 3), radius, torch.Generator().manual_seed(1))
    runs = [ascend(make, w1, radius, feasible, 6, torch.Generator().manual_seed(2)) for _ in range(2)]
    assert torch.equal(runs[0][0], runs[1][0]) and torch.equal(runs[0][1], runs[1][1])
    generator = torch.Generator().manual_seed(2)
    from problems import _random as rnd
    scale = rnd.log_uniform((8, 1, 1), 1e-3, 1e3, generator, "cpu", torch.float64)
    start = scale * torch.randn((8, 6, 3), generator=generator, dtype=torch.float64)
    before = _objective(make, start, w1, radius, feasible)
    after = _objective(make, runs[0][0], runs[0][1], radius, feasible)
    assert float(after.mean()) > float(before.mean()) + 0.05
    inside = runs[0][1].abs().amax(-1) if feasible == "linf-box" else torch.linalg.vector_norm(runs[0][1], dim=-1)
    assert bool((inside <= 0.5 * (1 + 1e-12)).all())


def test_the_gradient_adversary_runs_on_a_non_differentiable_variant() -> None:
    """torch.optim.Adagrad updates in place under no_grad: the ascent's gradient flows only through
    the regret's explicit terms, and it still returns a finite sequence and a w_1 in the box."""
    from algorithms import torch_optimizer
    from theorems.engine.online_ascent import ascend
    radius = torch.full((2, 1, 1), 1.0, dtype=torch.float64)
    w1 = torch.zeros(2, 1, 2, dtype=torch.float64)
    make = lambda: torch_optimizer(torch.optim.Adagrad, eps=0.0)(eta=radius)   # noqa: E731
    sequence, start = ascend(make, w1, radius, "linf-box", 3, torch.Generator().manual_seed(0))
    assert bool(torch.isfinite(sequence).all()) and bool((start.abs() <= 1.0).all())
