"""The specs of section 21's regularisation results (theorems/catalog/s21_regularization.py): each
claim holds on a round and is violated there once its bound is made smaller (or its modulus larger);
every claim scales like its left side when the loss or the parameter is rescaled; the regularised
solve behind L21.1 and L21.2 lands on the closed-form w*_lam of a quadratic, within a certified error
negligible against the checker's tolerance."""
from __future__ import annotations

import dataclasses

import pytest
import sympy as sp
import torch

from algorithms.proximal_point import ProximalSolve
from problems import FAMILIES, ORACLES
from problems._batch import hessians
from theorems.catalog import CATALOG
from theorems.catalog.s21_regularization import lam
from theorems.engine.claims import evaluate_claim
from theorems.engine.profiles import PROFILES
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round
from theorems.language.evaluate import evaluate
from theorems.language.symbols import D, G, H, mu, t

QUICK = PROFILES["quick"]
F64 = torch.float64


def _smaller(factor: float):
    return lambda claim: dataclasses.replace(claim, bound=factor * claim.bound)


def _stronger(symbol: sp.Symbol, factor: float):
    """The claim with a larger modulus on its measured side (a smaller bound in effect)."""
    return lambda claim: dataclasses.replace(claim, measured=claim.measured.subs(symbol, factor * symbol))


#: (result, claim, family, T, dimension, the claim made too strong)
ROUNDS = [
    ("L21.1", "norm-below-unregularised", "quadratic-sc", 1, 2, _smaller(0.95)),
    ("L21.2", "ball", "huber", 1, 2, _smaller(0.99)),
    ("L21.2", "ball", "pseudo-huber", 1, 2, _smaller(0.99)),
    ("L21.4", "quadratic-lower-bound", "quadratic-sc", 1, 2, _stronger(mu, 1.01)),
    ("L21.4", "hessian", "quadratic-sc", 1, 2, _stronger(mu, 1.01)),
    ("L21.7", "quadratic-lower-bound", "pseudo-huber", 1, 2, _stronger(lam, 1.01)),
    ("L21.7", "hessian", "pseudo-huber", 1, 2, _stronger(lam, 1.01)),
    ("S21.1", "trade-off", "quadratic-convex", 4, 2, _smaller(0.99)),
    ("S21.1", "tuned", "huber", 64, 2, _smaller(0.25)),
]


def _round(spec_id: str, name: str, family: str, horizon: int, dim: int):
    spec = CATALOG[spec_id]
    claim = spec.claim(name)
    key = RoundKey(spec_id, claim.setting, family, "exact", 0, horizon, dim, QUICK.batch_size, QUICK.replicas, "cpu",
                   None)
    return claim, build_round(spec, key)


@pytest.mark.parametrize("spec_id, name, family, horizon, dim, stronger", ROUNDS,
                         ids=[f"{r[0]}:{r[1]}:{r[2]}" for r in ROUNDS])
def test_claim_holds_but_fails_when_made_stronger(spec_id, name, family, horizon, dim, stronger) -> None:
    claim, data = _round(spec_id, name, family, horizon, dim)
    held = evaluate_claim(claim, data, QUICK.level, QUICK.rtol, QUICK.atol)
    assert held.applicable > 0 and held.violation is None
    assert evaluate_claim(stronger(claim), data, QUICK.level, QUICK.rtol, QUICK.atol).violation is not None


def test_every_claim_of_the_module_is_made_to_fail() -> None:
    ids = {"L21.1", "L21.2", "L21.4", "L21.7", "S21.1"}
    claims = {(s.id, c.name) for s in CATALOG.values() if s.id in ids for c in s.claims}
    assert claims == {(r[0], r[1]) for r in ROUNDS}


# ---------------------------------------------------------------------------------------------
# scaling: L -> s L multiplies H, G, mu, lam (= c H), every loss value, <grad L, v> and <v, Hess v>
# by s; w -> r w (the loss L(w / r)) multiplies D and ||w*_lam - w_1|| by r, ||v||^2 by r^2, G by
# 1/r and H, mu, lam by 1/r^2, and leaves losses, <grad L, v> and <v, Hess v> unchanged.

_s, _r = sp.symbols("s r", positive=True)
_LOSS = {"L_t": 1, "Lstar": 1, "last_subopt": 1, "L_w": 1, "L_wv": 1, "inner_grad_v": 1, "curv_v": 1,
         "coupled_dist": 0, "v_sq": 0, "t": 0, "T": 0}
_SPACE = {"L_t": 0, "Lstar": 0, "last_subopt": 0, "L_w": 0, "L_wv": 0, "inner_grad_v": 0, "curv_v": 0,
          "coupled_dist": 1, "v_sq": 2, "t": 0, "T": 0}


def _scaled(expr: sp.Expr, loss: bool) -> sp.Expr:
    k = _s if loss else _r
    table = _LOSS if loss else _SPACE
    subs = {H: _s * H if loss else H / _r ** 2, G: _s * G if loss else G / _r,
            mu: _s * mu if loss else mu / _r ** 2, lam: _s * lam if loss else lam / _r ** 2,
            D: D if loss else _r * D}
    for symbol in sp.sympify(expr).free_symbols:
        if symbol.name in table:
            subs[symbol] = k ** table[symbol.name] * symbol
    return sp.sympify(expr).subs(subs, simultaneous=True)


@pytest.mark.parametrize("loss", [True, False], ids=["loss-scale", "parameter-scale"])
@pytest.mark.parametrize("spec_id, name", [(r[0], r[1]) for r in ROUNDS if r[2] != "pseudo-huber"],
                         ids=[f"{r[0]}:{r[1]}" for r in ROUNDS if r[2] != "pseudo-huber"])
def test_claims_scale_like_their_left_side(spec_id: str, name: str, loss: bool) -> None:
    claim = CATALOG[spec_id].claim(name)
    side = claim.measured - claim.bound
    ratio = sp.simplify(_scaled(side, loss) / side)
    assert not ratio.free_symbols - {_s, _r}


def test_a_bound_that_does_not_scale_is_caught() -> None:
    """The scaling test can fail: ||w*_lam|| <= G/lam^2 is not scale-free."""
    side = sp.Symbol("coupled_dist") - G / lam ** 2
    assert sp.simplify(_scaled(side, True) / side).free_symbols - {_s, _r}


# ---------------------------------------------------------------------------------------------
# the regularised solve


def test_proximal_solve_is_the_closed_form_on_quadratics() -> None:
    """On quadratic-sc, w*_lam = w_1 + (A + lam I)^{-1} A (w* - w_1), A from Hessian-vector products."""
    problem = FAMILIES["quadratic-sc"].sample(8, 4, torch.Generator().manual_seed(11))
    oracle = ORACLES["exact"].bind(problem, torch.Generator().manual_seed(12)).sample
    lam_ = 0.05 * problem.constants["H"].reshape(-1, 1, 1)
    w1 = problem.w1[:, None, :]
    w2, _ = ProximalSolve(lam_, problem.constants["H"].reshape(-1, 1, 1)).step(w1, None, oracle, 1)
    A = hessians(problem, w1)[:, 0]
    eye = torch.eye(4, dtype=F64)
    exact = problem.w1 + torch.linalg.solve(A + lam_ * eye, A @ (problem.w_star - problem.w1)[..., None])[..., 0]
    error = torch.linalg.vector_norm(w2[:, 0] - exact, dim=-1)
    scale = torch.linalg.vector_norm(exact - problem.w1, dim=-1)
    assert bool((error <= 1e-10 * scale + 1e-12).all())


@pytest.mark.parametrize("family", ["huber", "logistic", "log-cosh-l2", "quadratic-convex"])
def test_the_certified_error_of_the_solve_is_negligible(family: str) -> None:
    """||w - w*_lam|| <= ||grad F(w)|| / lam: on the catalog's draws it is below a tenth of the
    rounding a sure claim allows on ||w*_lam - w_1|| <= D (the smallest right side of L21.1/L21.2)."""
    problem = FAMILIES[family].sample(32, 3, torch.Generator().manual_seed(5))
    oracle = ORACLES["exact"].bind(problem, torch.Generator().manual_seed(6)).sample
    H_ = problem.constants["H"].reshape(-1, 1, 1)
    for c in (0.03, 1.0, 100.0):
        w1 = problem.w1[:, None, :]
        w2, _ = ProximalSolve(c * H_, H_).step(w1, None, oracle, 1)
        grad_F = oracle(w2) + c * H_ * (w2 - w1)
        certified = torch.linalg.vector_norm(grad_F, dim=-1) / (c * H_[:, :, 0])
        dist = torch.linalg.vector_norm(w2 - w1, dim=-1)
        assert bool((certified <= 0.1 * (QUICK.rtol * dist + QUICK.atol)).all()), (c, float((certified / dist).max()))


# ---------------------------------------------------------------------------------------------
# t = 1 and extreme constants: L(w_1) - L* <= H D^2/2 on an H-smooth L, so S21.1's bounds at t = 1
# must be at least H D^2/2 for every H, D and lam = c H (c over the claim's range and beyond)

_GRID = [10.0 ** k for k in (-6, -3, -1, 0, 2, 4, 6)]


def _covers_first_iterate(bound: sp.Expr, tuned: bool) -> bool:
    """Whether the bound at t = 1 (trade-off) or at t = T + 1 = 2 with the tuned lam = 0 is at least
    H D^2/2 on a grid of H, D and lam = c H."""
    H_, D_, c_ = (torch.tensor(v, dtype=F64) for v in zip(*[(h, d, c) for h in _GRID for d in _GRID
                                                            for c in (1e-3, 1e-1, 1.0, 10.0)]))
    values = {"H": H_, "D": D_, "lam": torch.zeros_like(H_) if tuned else c_ * H_, "t": torch.ones_like(H_),
              "T": torch.ones_like(H_)}
    return bool((evaluate(bound, values, H_) >= H_ * D_ ** 2 / 2 * (1 - 1e-12)).all())


@pytest.mark.parametrize("name", ["trade-off", "tuned"])
def test_s21_1_bounds_cover_the_first_iterate(name: str) -> None:
    assert _covers_first_iterate(CATALOG["S21.1"].claim(name).bound, name == "tuned")


def test_a_bound_below_the_first_iterate_is_caught() -> None:
    """Without its + lam term the trade-off bound is below H D^2/2 at t = 1."""
    assert not _covers_first_iterate(D ** 2 / 2 * H * sp.exp(-lam * t / (H + lam)), False)


@pytest.mark.parametrize("family", ["huber", "log-cosh", "quadratic-convex"])
def test_lemma_21_1_along_a_path_of_lambdas(family: str) -> None:
    """Lemma 21.1 for lam_1 >= lam_2 > 0 (the catalog encodes lam_2 = 0): along lam = H 10^k, k = 2..-1,
    ||w*_lam - w_1|| never decreases as lam decreases (up to the solves' certified errors)."""
    problem = FAMILIES[family].sample(16, 3, torch.Generator().manual_seed(13))
    oracle = ORACLES["exact"].bind(problem, torch.Generator().manual_seed(14)).sample
    H_ = problem.constants["H"].reshape(-1, 1, 1)
    w1 = problem.w1[:, None, :]
    norms = []
    for k in torch.linspace(2, -1, 7).tolist():
        w, _ = ProximalSolve(10 ** k * H_, H_).step(w1, None, oracle, 1)
        norms.append(torch.linalg.vector_norm(w - w1, dim=-1)[:, 0])
    norms = torch.stack(norms, -1)
    assert bool((norms[:, 1:] >= norms[:, :-1] * (1 - 1e-9)).all())
    assert bool((norms[:, -1] > norms[:, 0]).all())  # the path moves: the check is not vacuous
