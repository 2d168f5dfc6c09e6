"""SGD with momentum (Algorithm 16, algorithms/momentum.py) and the specs of section 20 (L20.1,
L20.2, T20.3): the iterates by hand, torch.optim.SGD as Algorithm 16 under the stated change of
variables, the recorded momentum error ||m_t - grad L(w_t)||^2, the claims failing once their
bounds are made smaller, and the scaling of every claim's two sides."""
from __future__ import annotations

import dataclasses

import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from algorithms import MomentumSGD, ProtocolError, SGD, TorchMomentum, run, torch_optimizer
from algorithms.momentum import momentum_sgd_as_printed
from problems import FAMILIES, GaussianNoise
from theorems.catalog import CATALOG
from theorems.engine.profiles import PROFILES
from theorems.engine.claims import evaluate_claim
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round
from theorems.engine.seeding import derive_seed
from theorems.language.symbols import (Delta, H, L_next, L_t, T, eps_sq_next, eps_sq_t, eta, grad_sq_t, sigma, sum_grad_sq)

F64 = torch.float64
QUICK = PROFILES["quick"]
seeds = st.integers(0, 2 ** 32 - 1)


def iterates(algorithm, w1: torch.Tensor, oracle, T: int) -> list[torch.Tensor]:
    """w_1 .. w_{T+1} through the protocol."""
    w, state = w1.clone(), algorithm.init(w1.clone())
    out = [w]
    for t in range(1, T + 1):
        w, state = algorithm.step(w, state, oracle, t)
        out.append(w)
    return out


def noisy_pair(seed: int, d: int, B: int = 3):
    """A smooth batch and two Gaussian oracles that draw the same noise."""
    p = FAMILIES["quadratic-sc"].sample(B, d, torch.Generator().manual_seed(seed))
    o1 = GaussianNoise().bind(p, torch.Generator().manual_seed(seed + 1))
    o2 = GaussianNoise().bind(p, torch.Generator().manual_seed(seed + 1))
    return p, o1, o2


def test_algorithm16_by_hand() -> None:
    """L(w) = w^2/2 (grad = w), noise +1, -1, +2: m_1 = g_1, m_t = (1 - a) m_{t-1} + a g_t, w_{t+1} = w_t - eta m_t."""
    noise = iter([1.0, -1.0, 2.0])
    oracle = lambda w, m=1: w + next(noise)  # noqa: E731
    w1 = torch.full((1, 1, 1), 4.0, dtype=F64)
    ws = iterates(MomentumSGD(eta=0.5, alpha=0.25), w1, oracle, 3)
    m1 = 4 + 1
    w2 = 4 - 0.5 * m1
    m2 = 0.75 * m1 + 0.25 * (w2 - 1)
    w3 = w2 - 0.5 * m2
    m3 = 0.75 * m2 + 0.25 * (w3 + 2)
    assert [float(w) for w in ws] == pytest.approx([4, w2, w3, w3 - 0.5 * m3], rel=1e-15)
    noise = iter([1.0])
    printed = iterates(momentum_sgd_as_printed(eta=0.5, alpha=0.25), w1, oracle, 1)
    assert float(printed[1]) == 4 - 5  # the printed first step w_2 = w_1 - m_1 has no eta


@settings(max_examples=10, deadline=None)
@given(seed=seeds, d=st.integers(1, 4), alpha=st.floats(0.01, 1.0))
def test_torch_sgd_with_dampening_is_algorithm16(seed: int, d: int, alpha: float) -> None:
    """SGD(lr=eta, momentum=1 - alpha, dampening=1 - alpha): torch's buffer is m_t, iterate for iterate."""
    p, o1, o2 = noisy_pair(seed, d)
    eta = 0.5 / p.constants["H"][:, None, None]
    w1 = p.w1[:, None, :].expand(-1, 2, -1).clone()
    ours = iterates(MomentumSGD(eta=eta, alpha=alpha), w1, o1.sample, 12)
    beta = 1 - alpha
    theirs = iterates(torch_optimizer(torch.optim.SGD, momentum=beta, dampening=beta)(eta=eta), w1, o2.sample, 12)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(b, a, rtol=1e-12, atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(seed=seeds, d=st.integers(1, 4), alpha=st.floats(0.01, 1.0))
def test_torch_default_sgd_is_algorithm16_from_a_zero_buffer(seed: int, d: int, alpha: float) -> None:
    """SGD(lr=alpha eta, momentum=1 - alpha) (dampening 0): b_t = m_t/alpha with m_0 = 0."""
    p, o1, o2 = noisy_pair(seed, d)
    eta = 0.5 / p.constants["H"][:, None, None]
    w1 = p.w1[:, None, :].expand(-1, 2, -1).clone()
    ours = iterates(MomentumSGD(eta=eta, alpha=alpha, buffer_start="zero"), w1, o1.sample, 12)
    theirs = iterates(torch_optimizer(torch.optim.SGD, momentum=1 - alpha)(eta=alpha * eta), w1, o2.sample, 12)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(b, a, rtol=1e-11, atol=1e-11)


def test_torch_momentum_runs_a_different_alpha_per_instance() -> None:
    """TorchMomentum gives each instance torch's SGD with its own momentum = dampening = 1 - alpha_b."""
    p, o1, o2 = noisy_pair(5, 3)
    alpha = torch.tensor([0.05, 0.5, 1.0], dtype=F64)[:, None, None]
    eta = 0.3 / p.constants["H"][:, None, None]
    w1 = p.w1[:, None, :].expand(-1, 2, -1).clone()
    ours = iterates(MomentumSGD(eta=eta, alpha=alpha), w1, o1.sample, 10)
    torch_run = TorchMomentum(eta=eta, alpha=alpha)
    theirs = iterates(torch_run, w1, o2.sample, 10)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(b, a, rtol=1e-12, atol=1e-12)
    # its estimate is the momentum buffer, also for alpha = 1 where torch keeps none
    p, o1, o2 = noisy_pair(6, 3)
    traces = [run(algorithm, p, oracle, 6, replicas=2, record=("estimate_err_sq",)) for algorithm, oracle in
              ((MomentumSGD(eta=eta, alpha=alpha), o1), (TorchMomentum(eta=eta, alpha=alpha), o2))]
    torch.testing.assert_close(traces[1].estimate_err_sq, traces[0].estimate_err_sq, rtol=1e-10, atol=1e-12)


def test_recorded_momentum_error_by_hand() -> None:
    """Trace.estimate_err_sq is ||m_t - grad L(w_t)||^2 for t = 1..T+1 (the last from one extra step)."""
    p, o1, o2 = noisy_pair(11, 2)
    trace = run(MomentumSGD(eta=0.1 / p.constants["H"][:, None, None], alpha=0.3), p, o1, 5, replicas=2,
                record=("estimate_err_sq", "grad_sq"))
    assert trace.estimate_err_sq.shape == (3, 2, 6) and trace.loss is None
    w = p.w1[:, None, :].expand(-1, 2, -1).clone()
    m = None
    eta = 0.1 / p.constants["H"][:, None, None]
    for t in range(6):
        g = o2.sample(w)
        m = g if m is None else 0.7 * m + 0.3 * g
        torch.testing.assert_close(trace.estimate_err_sq[..., t], (m - p.grad(w)).square().sum(-1), rtol=1e-12, atol=1e-12)
        w = w - eta * m
    with pytest.raises(ProtocolError, match="estimate"):
        run(SGD(eta=0.1), p, o1, 3, record=("estimate_err_sq",))


def violated(spec_id: str, claim, family: str, oracle: str, horizon: int, dim: int = 2, rounds: int = 2) -> bool:
    """Whether the quick profile's comparison finds a violation of ``claim`` in a few rounds."""
    spec = CATALOG[spec_id]
    for i in range(rounds):
        key = RoundKey(spec.id, claim.setting, family, oracle, derive_seed("can-fail", spec_id, claim.name, i), horizon,
                       dim, QUICK.batch_size, QUICK.replicas, "cpu", None)
        if evaluate_claim(claim, build_round(spec, key), QUICK.level, QUICK.rtol, QUICK.atol).violation is not None:
            return True
    return False


#: (result, claim, family, oracle, T, the too-small bound as a function of the claim's bound)
TOO_SMALL = [
    # progress: with a small eps_t the step gains about eta ||grad||^2, not only eta/4 of it
    ("L20.1", "one-step-progress-surely", "quadratic-sc", "time-varying", 16, lambda b: b - eta * grad_sq_t),
    ("L20.1", "one-step-progress", "quadratic-sc", "time-varying", 16, lambda b: b - eta * grad_sq_t),
    # without the noise term: at the noise floor E||eps_t||^2 no longer drops, so 3 eta/4 E||eps_t||^2 > 0 remains
    ("L20.2", "recursion", "quadratic-sc", "time-varying", 64, lambda b: b - 6 * sp.sqrt(3) * H * eta ** 2 * sigma ** 2),
    ("T20.3", "mean-grad-sq", "quadratic-sc", "gaussian", 16, lambda b: b / 100),
    ("T20.3", "mean-grad-sq-eta-alpha/(8H)", "quadratic-sc", "gaussian", 16, lambda b: b / 400),
    ("T20.3", "mean-grad-sq-alpha-below-half", "quadratic-sc", "gaussian", 64, lambda b: b / 100),
]


@pytest.mark.parametrize("spec_id, name, family, oracle, horizon, shrink", TOO_SMALL,
                         ids=[f"{s}:{n}" for s, n, *_ in TOO_SMALL])
def test_claim_holds_but_fails_with_a_smaller_bound(spec_id, name, family, oracle, horizon, shrink) -> None:
    claim = CATALOG[spec_id].claim(name)
    assert not violated(spec_id, claim, family, oracle, horizon)
    smaller = dataclasses.replace(claim, bound=shrink(claim.bound))
    assert sp.simplify(smaller.bound - claim.bound) != 0
    assert violated(spec_id, smaller, family, oracle, horizon)


# Scaling the loss by k (L -> k L) multiplies H, Delta, sigma and gradients by k, squared gradient
# norms and ||eps||^2 by k^2, and divides every admissible step size by k; rescaling space (w -> k w,
# L unchanged) divides gradients and sigma by k and H by k^2, and multiplies step sizes by k^2.
# alpha is unitless.
_k = sp.Symbol("k", positive=True)
_alpha = sp.Symbol("alpha", positive=True)
LOSS = {H: _k * H, Delta: _k * Delta, sigma: _k * sigma, grad_sq_t: _k ** 2 * grad_sq_t, eps_sq_t: _k ** 2 * eps_sq_t,
        eps_sq_next: _k ** 2 * eps_sq_next, L_t: _k * L_t, L_next: _k * L_next, sum_grad_sq: _k ** 2 * sum_grad_sq,
        eta: eta / _k}
SPACE = {H: H / _k ** 2, sigma: sigma / _k, grad_sq_t: grad_sq_t / _k ** 2, eps_sq_t: eps_sq_t / _k ** 2,
         eps_sq_next: eps_sq_next / _k ** 2, sum_grad_sq: sum_grad_sq / _k ** 2, eta: eta * _k ** 2}


def _factor(expr: sp.Expr, scaling: dict) -> sp.Expr:
    """expr(scaled) / expr when that ratio is a power of k alone, else None (the sides mix units)."""
    ratio = sp.simplify(sp.sympify(expr).xreplace(scaling) / expr)
    return ratio if ratio.free_symbols <= {_k} else None


MOMENTUM_CLAIMS = [(s, c.name) for s in ("L20.1", "L20.2", "T20.3") for c in CATALOG[s].claims]


@pytest.mark.parametrize("spec_id, name", MOMENTUM_CLAIMS, ids=[f"{s}:{n}" for s, n in MOMENTUM_CLAIMS])
@pytest.mark.parametrize("scaling", [LOSS, SPACE], ids=["loss-times-k", "space-times-k"])
def test_both_sides_scale_alike_and_so_does_the_step_size(spec_id: str, name: str, scaling: dict) -> None:
    """Each side of every claim scales by the same power of k, and the setting's step size scales as
    an admissible one (1/k with the loss, k^2 with space) exactly where the claim is not an erratum
    of the step size (the printed alpha/sqrt(48H) does not)."""
    spec = CATALOG[spec_id]
    claim = spec.claim(name)
    alpha_expr = spec.setting(claim.setting).hyper["alpha"]
    sides = [claim.measured, claim.bound.xreplace({_alpha: alpha_expr})]
    factors = [_factor(side, scaling) for side in sides if side != 0]  # a zero side fits any scale
    assert factors and None not in factors and all(sp.simplify(f - factors[0]) == 0 for f in factors)
    assert sp.simplify(alpha_expr.xreplace(scaling) - alpha_expr) == 0
    step = spec.setting(claim.setting).hyper["eta"]
    step_ok = sp.simplify(step.xreplace(scaling) / step - scaling[eta] / eta) == 0
    assert step_ok == (claim.setting != "printed-eta" and claim.setting != "as-printed")


@pytest.mark.parametrize("name", [c.name for c in CATALOG["T20.3"].claims])
def test_rate_bounds_are_finite_and_positive_at_T_equal_1(name: str) -> None:
    """T = 1: alpha = min(1/2, ...) and each bound stay finite and positive for every sigma > 0."""
    spec = CATALOG["T20.3"]
    claim = spec.claim(name)
    alpha_expr = spec.setting(claim.setting).hyper["alpha"]
    bound = claim.bound.xreplace({_alpha: alpha_expr}).subs(T, 1)
    for h, dl, s in [(1, 1, 1), (100, 1e-3, 10), (1e-3, 1e3, 1e-2)]:
        value = float(bound.subs({H: h, Delta: dl, sigma: s}))
        assert 0 < value < float("inf")


def _exact_recursion_sides(h: float, alpha: float, x1: float, sd: list[float], noise_coef: float, grad_coef: float):
    """Algorithm 16 on L(x) = h x^2/2 with Gaussian noise of standard deviation sd[t-1] at step t, eta =
    alpha/(sqrt(48) h): the exact second moments of the state s_t = (x_{t+1}, m_t) give, per step t,
    (left side, right side) of L20.2 written as E[sqrt(3)/(8h) (eps_{t+1}^2 - eps_t^2) + 3 eta/4 eps_t^2 -
    grad_coef eta grad_t^2] <= noise_coef sqrt(3) h eta^2 sigma^2, sigma = max sd (no Monte Carlo)."""
    import numpy as np

    eta_ = alpha / (np.sqrt(48) * h)
    u = np.array([-h, 1 - h * eta_])      # eps_t = m_t - h x_t with x_t = x_{t+1} + eta m_t
    v = np.array([h, h * eta_])           # grad_t = h x_t
    step = np.array([[1 - eta_ * alpha * h, -eta_ * (1 - alpha)], [alpha * h, 1 - alpha]])
    mean = np.array([x1 - eta_ * h * x1, h * x1])
    S = np.outer(mean, mean) + sd[0] ** 2 * np.outer([-eta_, 1.0], [-eta_, 1.0])
    moments = [S]
    for s in sd[1:]:
        n = np.array([-eta_ * alpha * s, alpha * s])
        S = step @ S @ step.T + np.outer(n, n)
        moments.append(S)
    eps = [u @ S @ u for S in moments]
    grad = [v @ S @ v for S in moments]
    noise = noise_coef * np.sqrt(3) * h * eta_ ** 2 * max(sd) ** 2
    return [(np.sqrt(3) / (8 * h) * (eps[t + 1] - eps[t]) + 3 * eta_ / 4 * eps[t] - grad_coef * eta_ * grad[t], noise)
            for t in range(len(sd) - 1)]


@settings(max_examples=60, deadline=None)
@given(log_h=st.floats(-3, 3), alpha=st.floats(0.01, 0.5), x1=st.sampled_from([0.0, 1e-3, 1.0, 1e2]),
       quiet=st.integers(0, 40))
def test_corrected_recursion_holds_exactly_on_quadratics(log_h: float, alpha: float, x1: float, quiet: int) -> None:
    """The corrected L20.2 (eta/4, 6 sqrt(3) H eta^2 sigma^2) holds with exact expectations, also when
    the noise is off for ``quiet`` steps and then bursts (the states the time-varying oracle reaches)."""
    sd = [0.0] * quiet + [1.0] * (60 - quiet)
    for left, right in _exact_recursion_sides(10.0 ** log_h, alpha, x1, sd, noise_coef=6, grad_coef=0.25):
        assert left <= right * (1 + 1e-9) + 1e-12


def test_printed_constants_fail_exactly_after_a_quiet_stretch() -> None:
    """With the printed eta/8 and 3 sqrt(3) H eta^2 sigma^2: at the optimum (x1 = 0), after a quiet
    stretch eps_t = 0, and the first noisy step gives alpha^2 sigma^2 > alpha^2 sigma^2/2 (scaled)."""
    sides = _exact_recursion_sides(1.0, 0.25, 0.0, [0.0] * 5 + [1.0] * 5, noise_coef=3, grad_coef=0.125)
    left, right = sides[4]
    assert left == pytest.approx(2 * right, rel=1e-12)
    assert all(lhs <= rhs * (1 + 1e-12) for lhs, rhs in
               _exact_recursion_sides(1.0, 0.25, 0.0, [0.0] * 5 + [1.0] * 5, noise_coef=6, grad_coef=0.25))


@pytest.mark.parametrize("argv", [
    ["--algorithm", "algorithms.momentum:TorchMomentum"],
    ["--algorithm", "torch.optim.SGD", "--option", "momentum=0.9", "--option", "dampening=0.9"],
    ["--algorithm", "examples.momentum_variants:NesterovMomentum"],
], ids=["TorchMomentum", "torch.optim.SGD", "example-Nesterov"])
def test_one_command_checks_torch_sgd_against_the_rate(monkeypatch, capsys, argv: list[str]) -> None:
    """``theorycheck check T20.3 --algorithm ...`` runs torch's SGD (or a user's variant) in the tuned setting."""
    from theorems.engine.profiles import Profile
    from theorems.frontends.cli import main

    monkeypatch.setitem(PROFILES, "quick", Profile("quick", batch_size=4, replicas=16, rounds=1, horizons=(1, 8),
                                                   dims=(2,)))
    code = main(["check", "T20.3", *argv, "--variant-setting", "tuned", "--claim", "mean-grad-sq",
                 "--family", "quadratic-sc", "--jobs", "1"])
    out = capsys.readouterr().out
    assert code == 0 and "mean-grad-sq" in out and " holds " in out
