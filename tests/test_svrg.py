"""SVRG (Algorithm 17, algorithms/svrg.py) against a hand computation in numpy, its probes (the
checkpoint and the exact second moment of Lemma 23.1), and the section-23 specs: each claim holds
on a round and is violated there once its bound is made smaller."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from algorithms import ALGORITHMS, SVRG, run
from problems import FAMILIES, ORACLES, FiniteSumSampling
from theorems.catalog import CATALOG
from theorems.engine.claims import evaluate_claim
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round
from theorems.engine.profiles import PROFILES

F64 = torch.float64
QUICK = PROFILES["quick"]


def least_squares(seed: int, B: int = 2, d: int = 2, ridge: bool = True):
    p = FAMILIES["least-squares-l2" if ridge else "least-squares"].sample(B, d, torch.Generator().manual_seed(seed),
                                                                         dtype=F64)
    return p, FiniteSumSampling().bind(p, torch.Generator().manual_seed(seed + 1))


def hand_svrg(desc: dict, x1: np.ndarray, eta: float, epoch: int, indices: list[int]):
    """Algorithm 17 written out: iterates w_1..w_{T+1}, checkpoints v_{e_t} and the exact
    (1/N) sum_i ||grad l_i(w_t) - grad l_i(v) + grad L(v)||^2 of every step."""
    A, y, lam, N = np.asarray(desc["A"]), np.asarray(desc["b"]), desc["lam"], desc["N"]

    def term(x, i):
        return (A[i] @ x - y[i]) * A[i] + lam * x

    def full(x):
        return A.T @ (A @ x - y) / N + lam * x

    x, v = x1.copy(), x1.copy()
    mu, window, xs, vs, moments = full(v), [], [x1.copy()], [], []
    for t, i in enumerate(indices, start=1):
        vs.append(v.copy())
        moments.append(np.mean([np.sum((term(x, j) - term(v, j) + mu) ** 2) for j in range(N)]))
        window.append(x.copy())
        x = x - eta * (term(x, i) - term(v, i) + mu)
        if t % epoch == 0:
            v = np.mean(window[-epoch:], axis=0)
            mu = full(v)
        xs.append(x.copy())
    return np.array(xs), np.array(vs), np.array(moments)


@pytest.mark.parametrize("epochs", [None, (2, 3)])
def test_svrg_matches_a_hand_computed_loop(epochs) -> None:
    p, o = least_squares(3)
    N = o.sample.num_terms
    T, R, eta = 2 * N + 3, 3, 0.01
    epoch = None if epochs is None else torch.tensor(epochs, dtype=F64)[:, None, None]
    algorithm = SVRG(eta, epoch)
    w = p.w1[:, None, :].expand(-1, R, -1).clone()
    state = algorithm.init(w)
    iterates = [w]
    for t in range(1, T + 1):
        w, state = algorithm.step(w, state, o.sample, t)
        iterates.append(w)
    gen = torch.Generator().manual_seed(3 + 1)
    idx = [torch.randint(0, N, (2, R), generator=gen).numpy() for _ in range(T)]
    for b in range(2):
        desc = p.describe(b)
        for r in range(R):
            xs, _, _ = hand_svrg(desc, np.asarray(desc["w1"]), eta, N if epochs is None else epochs[b],
                                 [int(i[b, r]) for i in idx])
            np.testing.assert_allclose(torch.stack(iterates, 2)[b, r].numpy(), xs, rtol=1e-10, atol=1e-10)


def test_svrg_probes_are_the_checkpoint_loss_and_the_exact_second_moment() -> None:
    p, o = least_squares(4)
    N = o.sample.num_terms
    T, R, eta = 2 * N + 1, 2, 0.02
    trace = run(SVRG(eta), p, o, T, R, record=("est_sq", "anchor_loss"))
    gen = torch.Generator().manual_seed(4 + 1)
    idx = [torch.randint(0, N, (2, R), generator=gen).numpy() for _ in range(T)]
    for b in range(2):
        desc = p.describe(b)
        A, y, lam = np.asarray(desc["A"]), np.asarray(desc["b"]), desc["lam"]
        for r in range(R):
            _, vs, moments = hand_svrg(desc, np.asarray(desc["w1"]), eta, N, [int(i[b, r]) for i in idx])
            np.testing.assert_allclose(trace.est_sq[b, r].numpy(), moments, rtol=1e-10)
            losses = [0.5 * np.mean((A @ v - y) ** 2) + 0.5 * lam * v @ v for v in vs]
            np.testing.assert_allclose(trace.anchor_loss[b, r].numpy(), losses, rtol=1e-10)


def test_svrg_needs_a_finite_sum_oracle() -> None:
    p = FAMILIES["least-squares"].sample(2, 2, torch.Generator().manual_seed(0))
    o = ORACLES["gaussian"].bind(p, torch.Generator())
    with pytest.raises(ValueError, match="finite-sum oracle"):
        run(SVRG(0.1), p, o, 3)
    assert ALGORITHMS["SVRG"] is SVRG


def test_finite_sum_oracle_certifies_the_largest_term_smoothness() -> None:
    p, o = least_squares(5)
    assert torch.equal(o.constants["H_ell"], p.terms.constants["H_i"].max(-1).values)
    assert (o.constants["H_ell"] >= p.constants["H"] * (1 - 1e-12)).all()  # each term is at least as curved as L


#: (claim, setting's family, T, dimension, the measured tightness of that round is above ``factor``)
ROUNDS = [
    ("L23.1", "second-moment", "least-squares", 16, 2, 0.5),
    ("T23.2", "average-suboptimality", "least-squares", 16, 1, 0.05),
]


def _round(spec_id: str, name: str, family: str, T: int, dim: int, seed: int = 0):
    spec = CATALOG[spec_id]
    claim = spec.claim(name)
    key = RoundKey(spec_id, claim.setting, family, "finite-sum", seed, T, dim, QUICK.batch_size, QUICK.replicas,
                   "cpu", None)
    return claim, build_round(spec, key)


@pytest.mark.parametrize("spec_id, name, family, T, dim, factor", ROUNDS, ids=[f"{r[0]}:{r[1]}" for r in ROUNDS])
def test_claim_holds_but_fails_with_a_smaller_bound(spec_id, name, family, T, dim, factor) -> None:
    claim, data = _round(spec_id, name, family, T, dim)
    held = evaluate_claim(claim, data, QUICK.level, QUICK.rtol, QUICK.atol)
    assert held.applicable > 0 and held.violation is None
    assert held.worst.tightness > factor
    shrunk = dataclasses.replace(claim, bound=claim.bound * factor / 2)
    assert evaluate_claim(shrunk, data, QUICK.level, QUICK.rtol, QUICK.atol).violation is not None
