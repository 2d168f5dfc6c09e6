"""Normalized SGD with momentum and with variance-reduced momentum (algorithms/normalized.py)
against hand computations, the same-sample oracle (algorithms.coupled.PairedSamples) and the
momentum-error probe that run() records."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from algorithms import ALGORITHMS, NormalizedSGDMomentum, NormalizedSGDVR, run
from algorithms.coupled import PairedSamples
from problems import FAMILIES, ORACLES, FiniteSumSampling

F64 = torch.float64


class RandomQuadratics:
    """A scripted stochastic loss l(w, z_k) = s_k/2 ||w - c||^2 + <u_k, w>: the k-th draw uses the
    k-th (s_k, u_k) at every point it is evaluated (``paired``), so its gradient noise depends on w."""

    def __init__(self, c: np.ndarray, scales: list[float], shifts: list[np.ndarray]) -> None:
        self.c, self.scales, self.shifts, self.k = c, scales, shifts, 0

    def grad(self, w: torch.Tensor, k: int) -> torch.Tensor:
        return self.scales[k] * (w - torch.as_tensor(self.c)) + torch.as_tensor(self.shifts[k])

    def __call__(self, w: torch.Tensor, m: int = 1) -> torch.Tensor:
        self.k += 1
        return self.grad(w, self.k - 1)

    def paired(self, w_a: torch.Tensor, w_b: torch.Tensor, m: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        self.k += 1
        return self.grad(w_a, self.k - 1), self.grad(w_b, self.k - 1)


def script(T: int, d: int, seed: int) -> tuple[np.ndarray, list[float], list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=d), list(rng.uniform(0.5, 2.0, T)), [rng.normal(size=d) for _ in range(T)], rng.normal(size=d)


@pytest.mark.parametrize("vr", [False, True])
def test_normalized_momentum_matches_a_hand_computed_loop(vr: bool) -> None:
    T, d, eta, alpha = 7, 3, 0.3, 0.25
    c, scales, shifts, w1 = script(T, d, 11)
    algorithm = (NormalizedSGDVR if vr else NormalizedSGDMomentum)(eta, alpha)
    oracle = RandomQuadratics(c, scales, shifts)
    w = torch.as_tensor(w1)[None, None, :].clone()
    state = algorithm.init(w)
    ours = [w[0, 0].numpy()]
    for t in range(1, T + 1):
        w, state = algorithm.step(w, state, oracle, t)
        ours.append(w[0, 0].numpy())
    x, prev, m = w1.copy(), None, None
    for t in range(T):
        g = scales[t] * (x - c) + shifts[t]
        if m is None:
            m = g
        elif vr:
            m = (1 - alpha) * (m + g - (scales[t] * (prev - c) + shifts[t])) + alpha * g
        else:
            m = (1 - alpha) * m + alpha * g
        prev, x = x, x - eta * m / np.linalg.norm(m)
        np.testing.assert_allclose(ours[t + 1], x, rtol=1e-12, atol=1e-12)
        assert np.isclose(np.linalg.norm(ours[t + 1] - ours[t]), eta)  # ||w_{t+1} - w_t|| = eta


def test_a_zero_estimate_takes_no_step() -> None:
    w = torch.ones(1, 1, 2, dtype=F64)
    algorithm = NormalizedSGDMomentum(0.5, 1.0)
    moved, _ = algorithm.step(w, algorithm.init(w), lambda x, m=1: torch.zeros_like(x), 1)
    assert torch.equal(moved, w)


@pytest.mark.parametrize("oracle", ["gaussian", "sphere", "time-varying", "finite-sum"])
def test_paired_samples_use_one_sample_at_two_points_and_keep_the_stream(oracle: str) -> None:
    p = FAMILIES["logistic"].sample(3, 2, torch.Generator().manual_seed(0), dtype=F64)
    gen = torch.Generator().manual_seed(1)
    bound = ORACLES[oracle].bind(p, gen)
    paired = PairedSamples(bound.sample, gen)
    w = p.w1[:, None, :].expand(-1, 4, -1).clone()
    v = w + 0.3
    state = gen.get_state()
    plain = bound.sample(w)
    after_plain = bound.sample(w)
    gen.set_state(state)
    a, b = paired.paired(w, v)
    assert torch.equal(a, plain) and torch.equal(paired(w), after_plain)
    if oracle == "finite-sum":  # the same term at both points: the difference is that term's gradient difference
        gen.set_state(state)
        idx = torch.randint(0, p.terms.num_terms, (3, 4), generator=gen)
        expected = p.terms.term_grad(w, idx) - p.terms.term_grad(v, idx)
    else:  # additive noise cancels
        expected = p.grad(w) - p.grad(v)
    torch.testing.assert_close(a - b, expected, rtol=1e-12, atol=1e-12)


def test_finite_sum_paired_samples_differ_from_the_full_gradient_difference() -> None:
    """On a finite sum the noise depends on w, so s_t of Lemma 24.4 is not identically 0 there."""
    p = FAMILIES["logistic"].sample(3, 2, torch.Generator().manual_seed(0), dtype=F64)
    gen = torch.Generator().manual_seed(1)
    paired = PairedSamples(FiniteSumSampling().bind(p, gen).sample, gen)
    w = p.w1[:, None, :].expand(-1, 64, -1).clone()
    a, b = paired.paired(w, w + 0.5)
    assert (a - b - (p.grad(w) - p.grad(w + 0.5))).abs().max() > 1e-3


def test_the_variance_reduced_algorithm_needs_paired_samples() -> None:
    p = FAMILIES["quadratic-sc"].sample(2, 2, torch.Generator().manual_seed(0))
    o = ORACLES["gaussian"].bind(p, torch.Generator())
    with pytest.raises(ValueError, match="one sample at two points"):
        run(NormalizedSGDVR(0.1, 0.5), p, o, 3)
    assert ALGORITHMS["NormalizedSGDVR"] is NormalizedSGDVR and ALGORITHMS["NormalizedSGDMomentum"] is NormalizedSGDMomentum


def test_probe_records_the_momentum_error() -> None:
    """Exact gradients: m_t = (1 - alpha) m_{t-1} + alpha grad L(w_t), written out in numpy."""
    p = FAMILIES["quadratic-sc"].sample(2, 3, torch.Generator().manual_seed(4), dtype=F64)
    o = ORACLES["exact"].bind(p, torch.Generator())
    T, eta, alpha = 6, 0.05, 0.3
    trace = run(NormalizedSGDMomentum(eta, alpha), p, o, T, record=("est_err",))
    assert trace.est_err.shape == (2, 1, T) and trace.loss is None
    x = p.w1[:, None, :].clone()
    m = None
    for t in range(T):
        g = p.grad(x)
        m = g if m is None else (1 - alpha) * m + alpha * g
        np.testing.assert_allclose(trace.est_err[:, 0, t].numpy(), (m - g).norm(dim=-1)[:, 0].numpy(), rtol=1e-10,
                                   atol=1e-14)
        x = x - eta * m / m.norm(dim=-1, keepdim=True)
    assert float(trace.est_err[:, :, 0].abs().max()) == 0.0  # m_1 = grad L(w_1)
