"""The finite-sum oracle, the heavy-tailed oracle, Algorithm 3 (ShuffledSGD) and the A3 spec."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from algorithms import ALGORITHMS, SGD, ShuffledSGD, run
from problems import FAMILIES, ORACLES, FiniteSumSampling, HeavyTailedNoise
from problems.oracles import noise_classes
from theorems.catalog import CATALOG
from theorems.engine.checker import NOT_APPLICABLE, check
from theorems.language.spec import Claim, Setting, Source, Spec
from theorems.language.symbols import Delta, H, T, c, eta, sigma, sum_grad_sq

F64 = torch.float64
L1 = FAMILIES["l1-regression"]


def bound(seed: int, B: int = 3, d: int = 3, family=L1):
    p = family.sample(B, d, torch.Generator().manual_seed(seed), dtype=F64)
    return p, FiniteSumSampling().bind(p, torch.Generator().manual_seed(seed + 1))


def test_finite_sum_oracle_unbiased_and_variance_below_sigma_squared() -> None:
    p, o = bound(0)
    R = 20000
    w = (p.w1 + torch.randn(p.w1.shape, generator=torch.Generator().manual_seed(5), dtype=F64))[:, None, :]
    w = w.expand(-1, R, -1).contiguous()
    g = o.sample(w)
    truth = p.grad(w)
    se = g.std(1) / math.sqrt(R)
    assert ((g.mean(1) - truth[:, 0]).abs() <= 5 * se + 1e-12).all()
    # the exact variance (1/N) sum_i ||grad l_i - grad L||^2 by enumeration, and the Monte Carlo estimate
    N = o.sample.num_terms
    every = torch.stack([o.sample.term_grad(w[:, :1], torch.full((3, 1), i)) for i in range(N)])
    exact = (every - truth[None, :, :1]).square().sum(-1).mean(0)[:, 0]
    mc = (g - truth).square().sum(-1).mean(1)
    assert ((mc - exact).abs() <= 6 * (g - truth).square().sum(-1).std(1) / math.sqrt(R)).all()
    assert (exact <= o.constants["sigma"] ** 2).all()
    assert (g.norm(dim=-1) <= o.constants["G"][:, None] * (1 + 1e-12)).all()
    assert (o.constants["N"] == N).all()


def test_finite_sum_oracle_classes() -> None:
    p, o = bound(1)
    assert o.classes == {"fsum", "var", "bdd", "m2"}
    with pytest.raises(ValueError, match="needs a finite-sum family"):
        FiniteSumSampling().bind(FAMILIES["log-cosh"].sample(2, 2, torch.Generator().manual_seed(0)),
                                 torch.Generator())
    # a finite sum that is not Lipschitz (least squares) gets neither var nor bdd nor m2
    assert noise_classes(FiniteSumSampling.classes, frozenset({"cvx", "smooth", "fsum"})) == {"fsum"}
    assert noise_classes(FiniteSumSampling.classes, frozenset({"cvx", "lip"})) == frozenset()


def test_permutations_cover_every_term_once() -> None:
    p, o = bound(2)
    w = p.w1[:, None, :].expand(-1, 7, -1)
    perm = o.sample.permutations(w)
    N = o.sample.num_terms
    assert perm.shape == (3, 7, N)
    assert torch.equal(perm.sort(-1).values, torch.arange(N).expand(3, 7, N))


def test_shuffled_sgd_matches_a_hand_computed_loop() -> None:
    p, o = bound(3, B=2, d=2)
    N = o.sample.num_terms
    T, R, eta = 2 * N + 1, 3, 0.05
    w = p.w1[:, None, :].expand(-1, R, -1).clone()
    algorithm = ShuffledSGD(eta)
    state = algorithm.init(w)
    for t in range(1, T + 1):
        w, state = algorithm.step(w, state, o.sample, t)
    # the same permutations (same generator seed and calls), the subgradient written out in numpy
    gen = torch.Generator().manual_seed(3 + 1)
    orders = [torch.rand((2, R, N), generator=gen).argsort(-1).numpy() for _ in range(3)]
    for b in range(2):
        desc = p.describe(b)
        A, y = np.asarray(desc["A"]), np.asarray(desc["b"])
        for r in range(R):
            x = np.asarray(desc["w1"], dtype=float)
            for t in range(1, T + 1):
                i = orders[(t - 1) // N][b, r, (t - 1) % N]
                x = x - eta * np.sign(A[i] @ x - y[i]) * A[i]
            np.testing.assert_allclose(w[b, r].numpy(), x, rtol=1e-12, atol=1e-12)


def test_shuffled_sgd_needs_a_finite_sum_oracle() -> None:
    p = L1.sample(2, 2, torch.Generator().manual_seed(0))
    o = ORACLES["gaussian"].bind(p, torch.Generator())
    with pytest.raises(ValueError, match="finite-sum oracle"):
        run(ShuffledSGD(0.1), p, o, 3)
    assert ALGORITHMS["ShuffledSGD"] is ShuffledSGD


def test_a3_claim_holds_and_is_not_vacuous() -> None:
    """The claim holds on every applicable instance, and half its bound is violated on the same
    runs: the check can fail."""
    spec = CATALOG["A3"]
    claim = spec.claim("full-epochs-any-order")
    from theorems.engine.claims import evaluate_claim
    from theorems.engine.round_data import RoundKey
    from theorems.engine.rounds import build_round
    halved = Claim("halved", "sure", claim.measured, claim.bound / 2, "shuffled", "", when=claim.when)
    seen_violation, applicable = False, 0
    for seed in range(6):
        key = RoundKey("A3", "shuffled", "l1-regression", "finite-sum", seed, 64, 1, 16, 8, "cpu", None)
        data = build_round(spec, key)
        applicable += evaluate_claim(claim, data, 0.01, 1e-9, 1e-12).applicable
        assert evaluate_claim(claim, data, 0.01, 1e-9, 1e-12).violation is None
        seen_violation |= evaluate_claim(halved, data, 0.01, 1e-9, 1e-12).violation is not None
    assert applicable > 0 and seen_violation


def test_heavy_tailed_oracle_declares_no_class_and_var_claims_are_not_applicable(tmp_path) -> None:
    assert HeavyTailedNoise.classes == frozenset() and "heavy-tailed" in ORACLES
    p = FAMILIES["cosine-wells"].sample(2, 3, torch.Generator().manual_seed(0))
    o = ORACLES["heavy-tailed"].bind(p, torch.Generator().manual_seed(1))
    assert o.classes == frozenset() and "sigma" not in o.constants
    # infinite variance: the sample second moment of ||g - grad L|| keeps growing with the sample size
    w = p.w1[:, None, :].expand(-1, 200000, -1).contiguous()
    noise_sq = (o.sample(w) - p.grad(w)).square().sum(-1)
    assert (noise_sq.max(1).values > 1e3 * noise_sq.median(1).values).all()
    settings = (Setting("fixed", "SGD", hyper={"eta": c / H}, free={"c": (0.0, 1.0)},
                        noise=("heavy-tailed", "gaussian")),)
    needs_var = Spec("X.var", "needs var", Source("6", 1009), frozenset({"smooth", "var", "lb"}), settings,
                     (Claim("sum", "expect", sum_grad_sq, 2 * Delta / eta + H * T * eta * sigma ** 2, "fixed", ""),))
    result = check(needs_var, families=["cosine-wells"], counterexample_dir=tmp_path)
    assert result.claims[0].verdict != NOT_APPLICABLE
    assert result.claims[0].families == {"cosine-wells/gaussian"}
    heavy_only = Spec("X.heavy", "needs var", Source("6", 1009), frozenset({"smooth", "var", "lb"}),
                      (Setting("fixed", "SGD", hyper={"eta": c / H}, free={"c": (0.0, 1.0)}, noise=("heavy-tailed",)),),
                      (Claim("sum", "expect", sum_grad_sq, 2 * Delta / eta + H * T * eta * sigma ** 2, "fixed", ""),))
    assert check(heavy_only, families=["cosine-wells"], counterexample_dir=tmp_path).claims[0].verdict == NOT_APPLICABLE


def test_state_dependent_noise_variance_is_rho_times_squared_gradient() -> None:
    from problems import StateDependentNoise
    p = FAMILIES["cosine-wells"].sample(3, 4, torch.Generator().manual_seed(0))
    o = StateDependentNoise().bind(p, torch.Generator().manual_seed(1))
    assert o.classes == {"sdn"} and "D_sdn" in o.constants and "sdn" not in ORACLES["gaussian"].classes
    R = 40000
    w = torch.stack([p.w1, p.w1 + 1.0], 1).repeat_interleave(R, 1)  # two points per instance
    g, truth = o.sample(w), p.grad(w)
    err = (g - truth).square().sum(-1).reshape(3, 2, R)
    target = o.constants["D_sdn"][:, None] * truth.square().sum(-1).reshape(3, 2, R)[..., 0]
    se = err.std(-1) / math.sqrt(R)
    assert ((err.mean(-1) - target).abs() <= 5 * se).all()
    assert ((g - truth).mean(1).abs() <= 5 * (g - truth).std(1) / math.sqrt(2 * R)).all()
    # at a stationary point the noise vanishes
    centre = torch.tensor([p.describe(b)["m"] for b in range(3)], dtype=F64)[:, None, :]
    assert torch.allclose(o.sample(centre), p.grad(centre), atol=1e-12)
