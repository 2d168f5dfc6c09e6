"""Section 17's identities exactly, by sympy: every sign sequence of a two-point law is enumerated
and pushed through Algorithm 12's recursion in rationals. E[v_hat_t] = g^2 (S17.1); Var(m_hat_t)
is sigma^2 (1 - b)^2 (1 - b^(2t)) / ((1 - b^2)(1 - b^t)^2), not the display (S17.2); and the
skewed witness of S17.3, with the probability of a wrong-way step and the expected loss change
computed exactly, against Adam with beta1 = beta2 = 0 run on every path."""
from __future__ import annotations

import itertools

import pytest
import sympy as sp
import torch

from algorithms.adam import Adam
from theorems.catalog.s17_adam import displayed_factor, variance_factor
from theorems.language.symbols import t as t_symbol

R = sp.Rational


def moments_by_enumeration(values: tuple, probabilities: tuple, beta1, beta2, steps: int) -> list[list]:
    """Exact E[m_hat_t], E[m_hat_t^2], E[v_hat_t], t = 1..steps, over all len(values)^steps paths."""
    out = [[0, 0, 0] for _ in range(steps)]
    for path in itertools.product(range(len(values)), repeat=steps):
        weight = sp.Mul(*[probabilities[k] for k in path])
        m = v = 0
        for t, k in enumerate(path, start=1):
            g = values[k]
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g ** 2
            m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
            for i, x in enumerate((m_hat, m_hat ** 2, v_hat)):
                out[t - 1][i] += weight * x
    return out


@pytest.mark.parametrize("beta1, beta2", [(R(1, 2), R(3, 4)), (R(9, 10), R(999, 1000)), (0, R(1, 3))])
def test_bias_corrected_moments_exactly(beta1, beta2) -> None:
    mu, sigma, steps = R(1, 3), R(2), 6
    values, probabilities = (mu + sigma, mu - sigma), (R(1, 2), R(1, 2))
    for t, (m1, m2, v) in enumerate(moments_by_enumeration(values, probabilities, beta1, beta2, steps), start=1):
        assert v == mu ** 2 + sigma ** 2                          # S17.1: E v_hat_t = g^2
        assert m1 == mu                                           # E m_hat_t = E g
        variance = m2 - m1 ** 2
        assert variance == sigma ** 2 * variance_factor(sp.sympify(beta1)).subs(t_symbol, t)   # S17.2, corrected
        if beta1 != 0:
            assert variance != sigma ** 2 * displayed_factor(sp.sympify(beta1)).subs(t_symbol, t)


def test_displayed_variance_at_t_1_is_not_the_variance_of_one_gradient() -> None:
    b = sp.Symbol("b", positive=True)
    assert sp.simplify(displayed_factor(b).subs(t_symbol, 1) - 1 / (1 - b ** 2)) == 0
    assert sp.simplify(variance_factor(b).subs(t_symbol, 1)) == 1


def test_skewed_witness_exactly() -> None:
    """g = 1 w.p. 3/4, -4 w.p. 1/4: E g = -1/4 < 0 (descent is +), sign(g) = +1 w.p. 3/4, so a sign
    step goes the wrong way with probability exactly 3/4 and E[L(w_{t+1}) - L(w_t)] = eta/8 > 0 for
    L(w) = E[g] w. Enumerating T = 4 steps of Adam(beta1 = beta2 = 0) on every path: E[L(w_5) - L(w_1)]
    = 4 eta/8 exactly, and every path's iterate is w_1 - eta sum_t sign(g_t)."""
    p, a, eta = R(3, 4), 4, R(1, 10)
    values, probabilities = (1, -a), (p, 1 - p)
    mean = sum(x * q for x, q in zip(values, probabilities))
    wrong = sum(q for x, q in zip(values, probabilities) if sp.sign(x) != sp.sign(mean))  # step -eta sign(g) goes uphill
    assert mean == R(-1, 4) and wrong == R(3, 4)
    expected_change = 0
    for path in itertools.product(range(2), repeat=4):
        weight = sp.Mul(*[probabilities[k] for k in path])
        gradients = [torch.tensor([[[float(values[k])]]], dtype=torch.float64) for k in path]
        algorithm, w = Adam(float(eta), beta1=0.0, beta2=0.0), torch.zeros(1, 1, 1, dtype=torch.float64)
        state = algorithm.init(w)
        for t, g in enumerate(gradients, start=1):
            w, state = algorithm.step(w, state, lambda x, m=1, g=g: g, t)
        drift = -eta * sum(sp.sign(values[k]) for k in path)
        assert abs(float(w) - float(drift)) < 1e-15
        expected_change += weight * mean * drift
    assert expected_change == 4 * eta * R(1, 8)
