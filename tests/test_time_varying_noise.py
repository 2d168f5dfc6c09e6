"""Time-varying noise and the recorded noise variance (section 11, Theorem 11.1's sigma_t^2).

Every bound oracle reports the exact conditional variance E||g - grad L(w)||^2 of a call
(``BoundOracle.noise_variance``), checked here by Monte Carlo over R replicas at one point per
instance; ``TimeVaryingNoise`` has variance sigma^2 s(t) / m at step t, which the runner tells it;
``run(..., noise_variance=True)`` records sigma_t^2 of the first call of each step, and the trace
symbols ``noise_var_t`` / ``sum_noise_var`` reach the claims of a spec.
"""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from algorithms import SGD, MinibatchSGD, ShuffledSGD, run
from problems import FAMILIES, ORACLES, NoiseSchedule, TimeVaryingNoise
from problems.hard_instances import SkewedNoise
from problems.strategies import noise_schedules, time_varying_oracles
from theorems.engine.checker import check
from theorems.engine.profiles import Profile
from theorems.engine.plan import combinations
from theorems.language.spec import Claim, Setting, Source, Spec
from theorems.language.symbols import (B, D_sdn, Delta, H, T, c, eta, grad_sq_t, last_subopt, noise_var_t, sigma, sum_grad_sq,
                              sum_noise_var)

F64 = torch.float64
Z = 5.0  # |z| threshold of a Monte Carlo comparison: a false alarm has probability ~6e-7 per comparison
R = 4000


def point(problem, seed: int, replicas: int = R) -> torch.Tensor:
    """One random point per instance near w1, repeated along the replica axis: (B, replicas, d)."""
    gen = torch.Generator().manual_seed(seed)
    x = problem.w1 + 3.0 * torch.randn(problem.w1.shape, generator=gen, dtype=F64)
    return x[:, None, :].expand(-1, replicas, -1).contiguous()


def z_scores(samples: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(mean over axis 1 - target) / its standard error, for samples (B, N, ...)."""
    return (samples.mean(1) - target) / (samples.std(dim=1) / math.sqrt(samples.shape[1]))


def assert_variance_matches(oracle, problem, w: torch.Tensor, m: int) -> torch.Tensor:
    """Monte Carlo: the mean of ||g - grad L(w)||^2 over the replicas is the reported variance, within
    Z standard errors plus the rounding of (grad + noise) - grad (sphere noise with m = 1 has ||z|| =
    sigma surely, so no spread at all)."""
    reported = oracle.noise_variance(w, m)
    assert reported.shape == w.shape[:-1]
    assert torch.equal(reported, reported[:, :1].expand_as(reported))  # one point per instance
    grad = problem.grad(w)
    err = (oracle.sample(w, m) - grad).square().sum(-1)
    se = err.std(dim=1) / math.sqrt(err.shape[1])
    rounding = 1e-9 * (reported[:, 0] + grad[:, 0].square().sum(-1))
    gap = (err.mean(1) - reported[:, 0]).abs()
    assert (gap <= Z * se + rounding).all(), (gap / se, err.mean(1), reported[:, 0])
    return reported[:, 0]


def schedule(kind, beta=0.0, tau=1.0, period=1.0, width=1.0, phase=0.0, floor=1.0) -> NoiseSchedule:
    """A NoiseSchedule from per-instance lists (scalars are broadcast)."""
    n = len(kind)
    col = lambda v: torch.tensor(v if isinstance(v, list) else [v] * n, dtype=F64)  # noqa: E731
    return NoiseSchedule(torch.tensor(kind), col(beta), col(tau), col(period), col(width), col(phase), col(floor))


def s_by_hand(sch: NoiseSchedule, t: int) -> list[float]:
    """s(t) from the docstring's formulas, in plain Python floats."""
    out = []
    for b in range(len(sch.kind)):
        kind, beta, tau = int(sch.kind[b]), float(sch.beta[b]), float(sch.tau[b])
        period, width, phase, floor = (float(sch.period[b]), float(sch.width[b]), float(sch.phase[b]),
                                       float(sch.floor[b]))
        if kind == 0:
            out.append(t ** -beta)
        elif kind == 1:
            out.append(min(1.0, t / tau))
        else:
            out.append(1.0 if (t - 1 + phase) % period < width else floor)
    return out


# --- every oracle reports its exact per-call variance --------------------------------------------

@pytest.mark.parametrize("family, oracle, m", [
    ("huber", "gaussian", 1), ("quadratic-convex", "gaussian", 4),
    ("cosine-wells", "sphere", 1), ("pseudo-huber", "sphere", 3),
    ("quadratic-sc", "state-dependent", 1), ("huber", "state-dependent", 5),
    ("l1-regression", "finite-sum", 1), ("hinge", "finite-sum", 3),
    ("log-cosh", "time-varying", 1), ("quadratic-convex", "time-varying", 4),
])
def test_reported_variance_is_the_monte_carlo_variance(family: str, oracle: str, m: int) -> None:
    p = FAMILIES[family].sample(3, 3, torch.Generator().manual_seed(11), dtype=F64)
    o = ORACLES[oracle].bind(p, torch.Generator().manual_seed(12))
    reported = assert_variance_matches(o, p, point(p, 13), m)
    assert (reported > 0).all()
    if oracle in ("gaussian", "sphere"):
        torch.testing.assert_close(reported, o.constants["sigma"] ** 2 / m, rtol=1e-14, atol=0)


def test_finite_sum_variance_is_the_enumerated_sampling_variance() -> None:
    """(1/N) sum_i ||grad l_i(w) - grad L(w)||^2 / m, with the N term gradients enumerated one by one."""
    p = FAMILIES["l1-regression"].sample(3, 2, torch.Generator().manual_seed(3), dtype=F64)
    o = ORACLES["finite-sum"].bind(p, torch.Generator().manual_seed(4))
    w = point(p, 5, replicas=2)
    terms = torch.stack([p.terms.term_grad(w, torch.full((3, 2), i)) for i in range(p.terms.num_terms)])
    by_hand = (terms - p.grad(w)[None]).square().sum(-1).mean(0)
    for m in (1, 3):
        torch.testing.assert_close(o.noise_variance(w, m), by_hand / m, rtol=1e-12, atol=1e-15)


def test_skewed_noise_reports_its_variance() -> None:
    p = FAMILIES["huber"].sample(2, 4, torch.Generator().manual_seed(6), dtype=F64)
    o = SkewedNoise(sigma=0.7, p=0.2).bind(p, torch.Generator().manual_seed(7))
    reported = assert_variance_matches(o, p, point(p, 8), 2)
    torch.testing.assert_close(reported, torch.full((2,), 0.49 / 2, dtype=F64), rtol=1e-14, atol=0)


def test_exact_oracle_reports_zero_and_heavy_tailed_infinity() -> None:
    p = FAMILIES["huber"].sample(3, 2, torch.Generator().manual_seed(0), dtype=F64)
    w = point(p, 1, replicas=5)
    exact = ORACLES["exact"].bind(p, torch.Generator())
    assert torch.equal(exact.noise_variance(w, 3), torch.zeros(3, 5, dtype=F64))
    assert torch.equal(exact.sample(w, 3), p.grad(w))
    heavy = ORACLES["heavy-tailed"].bind(p, torch.Generator())
    assert torch.isinf(heavy.noise_variance(w)).all()
    assert [n for n, o in ORACLES.items() if not o.finite_variance] == ["heavy-tailed"]


# --- the time-varying oracle ---------------------------------------------------------------------

SCHEDULES = schedule([0, 0, 1, 2, 2], beta=[0.5, 2.0, 0.0, 0.0, 0.0], tau=[1.0, 1.0, 30.0, 1.0, 1.0],
                     period=[1.0, 1.0, 1.0, 5.0, 2.0], width=[1.0, 1.0, 1.0, 2.0, 1.0],
                     phase=[0.0, 0.0, 0.0, 3.0, 0.0], floor=[1.0, 1.0, 1.0, 1e-3, 0.05])


@pytest.mark.parametrize("t, m", [(1, 1), (2, 3), (7, 4), (40, 2)])
def test_time_varying_variance_at_step_t_is_sigma_squared_s_t_over_m(t: int, m: int) -> None:
    p = FAMILIES["pseudo-huber"].sample(5, 3, torch.Generator().manual_seed(t), dtype=F64)
    o = TimeVaryingNoise().bind(p, torch.Generator().manual_seed(100 + t), SCHEDULES)
    o.begin_step(t)
    expected = o.constants["sigma"] ** 2 * torch.tensor(s_by_hand(SCHEDULES, t), dtype=F64) / m
    reported = assert_variance_matches(o, p, point(p, t), m)
    torch.testing.assert_close(reported, expected, rtol=1e-13, atol=0)


@pytest.mark.parametrize("t", [1, 2, 9])
def test_time_varying_oracle_is_unbiased(t: int) -> None:
    p = FAMILIES["cosine-wells"].sample(5, 3, torch.Generator().manual_seed(20 + t), dtype=F64)
    o = TimeVaryingNoise().bind(p, torch.Generator().manual_seed(30 + t), SCHEDULES)
    o.begin_step(t)
    w = point(p, t)
    for m in (1, 3):
        z = z_scores(o.sample(w, m), p.grad(w)[:, 0])
        assert (z.abs() < Z).all(), z


def test_drawn_schedules_never_exceed_sigma() -> None:
    """The class var with the constant sigma is honest: sigma_t^2 <= sigma^2 at every step, for
    schedules of every kind drawn at bind time, and each kind occurs and varies."""
    p = FAMILIES["huber"].sample(600, 2, torch.Generator().manual_seed(1), dtype=F64)
    gen = torch.Generator().manual_seed(2)
    o = TimeVaryingNoise().bind(p, gen)
    sch = NoiseSchedule.draw(600, TimeVaryingNoise().kinds, torch.Generator().manual_seed(3), "cpu", F64)
    assert set(sch.kind.tolist()) == {0, 1, 2}
    w = p.w1[:, None, :]
    sigma2 = o.constants["sigma"] ** 2
    seen = []
    for t in [*range(1, 200), 1000, 54321, 10 ** 7]:
        o.begin_step(t)
        v = o.noise_variance(w, 1)[:, 0]
        assert (v >= 0).all() and (v <= sigma2).all(), t
        s = sch(t)
        assert (s >= 0).all() and (s <= 1).all(), t
        torch.testing.assert_close(s, torch.tensor(s_by_hand(sch, t), dtype=F64), rtol=1e-13, atol=0)
        seen.append(v / sigma2)
    ratios = torch.stack(seen)
    assert (ratios.amax(0) - ratios.amin(0) > 0.1).float().mean() > 0.5  # most instances' sigma_t really vary


@settings(max_examples=40, deadline=None)
@given(sch=noise_schedules(3), t=st.integers(1, 10 ** 6))
def test_every_schedule_the_strategy_draws_is_in_zero_one(sch: NoiseSchedule, t: int) -> None:
    s = sch(t)
    assert (s >= 0).all() and (s <= 1).all()
    torch.testing.assert_close(s, torch.tensor(s_by_hand(sch, t), dtype=F64), rtol=1e-13, atol=0)


@settings(max_examples=10, deadline=None)
@given(st.data())
def test_time_varying_oracles_strategy_binds_with_the_drawn_schedule(data) -> None:
    p = FAMILIES["log-cosh"].sample(3, 2, torch.Generator().manual_seed(data.draw(st.integers(0, 99))), dtype=F64)
    o = data.draw(time_varying_oracles(p))
    w = p.w1[:, None, :]
    for t in (1, 5):
        o.begin_step(t)
        assert (o.noise_variance(w, 1)[:, 0] <= o.constants["sigma"] ** 2).all()
    assert o.name == "time-varying" and o.sample(w).shape == w.shape


def test_bad_schedules_and_kinds_are_one_line_errors() -> None:
    with pytest.raises(ValueError, match="0 <= floor <= 1"):
        schedule([2], floor=1.5)
    with pytest.raises(ValueError, match="kinds must be"):
        TimeVaryingNoise(kinds=("wobbly",))
    with pytest.raises(ValueError, match="start at t = 1"):
        SCHEDULES(0)


# --- the runner tells the oracle the step and records sigma_t^2 ---------------------------------

class TwoCallsPerStep:
    """SGD that queries the oracle twice per step, a minibatch of 3 then one draw (both at w_t),
    keeping each call's squared noise ||g - grad L(w_t)||^2."""

    def __init__(self, problem, eta: torch.Tensor) -> None:
        self.problem, self.eta, self.noise = problem, eta, []

    def init(self, w1: torch.Tensor) -> None:
        return None

    def step(self, w, state, oracle, t):
        grad = self.problem.grad(w)
        first, second = oracle(w, 3), oracle(w)
        self.noise.append(((first - grad).square().sum(-1), (second - grad).square().sum(-1)))
        return w - self.eta * second, state


def test_noise_follows_the_step_not_the_number_of_calls() -> None:
    """Bursts of period 2 (s = 1 at odd t, 1e-2 at even t) and a decay 1/t: both calls of step t
    have variance sigma^2 s(t) / m, which a call counter (two calls a step) would get wrong, and
    the trace records that of the first call, sigma^2 s(t) / 3."""
    sch = schedule([2, 0], beta=[0.0, 1.0], period=[2.0, 1.0], width=[1.0, 1.0], floor=[1e-2, 1.0])
    p = FAMILIES["quadratic-sc"].sample(2, 3, torch.Generator().manual_seed(5), dtype=F64)
    o = TimeVaryingNoise().bind(p, torch.Generator().manual_seed(6), sch)
    algorithm = TwoCallsPerStep(p, 0.3 / p.constants["H"][:, None, None])
    trace = run(algorithm, p, o, 4, replicas=R, noise_variance=True)
    sigma2 = o.constants["sigma"] ** 2
    for t in range(1, 5):
        s_t = torch.tensor(s_by_hand(sch, t), dtype=F64)
        first, second = algorithm.noise[t - 1]
        for err, m in ((first, 3), (second, 1)):
            z = z_scores(err, sigma2 * s_t / m)
            assert (z.abs() < Z).all(), (t, m, z)
        torch.testing.assert_close(trace.noise_var[..., t - 1], (sigma2 * s_t / 3)[:, None].expand(2, R),
                                   rtol=1e-14, atol=0)


class Recorded:
    """An algorithm that also keeps its iterates w_1..w_T."""

    def __init__(self, inner) -> None:
        self.inner, self.iterates = inner, []

    def init(self, w1):
        return self.inner.init(w1)

    def step(self, w, state, oracle, t):
        self.iterates.append(w.clone())
        return self.inner.step(w, state, oracle, t)


@pytest.mark.parametrize("family, batch", [("quadratic-convex", 1), ("huber", 1), ("pseudo-huber", 4)])
def test_trace_records_state_dependent_variance_along_the_run(family: str, batch: int) -> None:
    """On StateDependentNoise the recorded sigma_t^2 is D_sdn ||grad L(w_t)||^2 / m at every iterate,
    ||grad L(w_t)||^2 by torch.autograd on the loss at the stored iterates."""
    p = FAMILIES[family].sample(4, 3, torch.Generator().manual_seed(9), dtype=F64)
    o = ORACLES["state-dependent"].bind(p, torch.Generator().manual_seed(10))
    eta = 0.5 / (p.constants["H"] * (1 + o.constants["D_sdn"] / batch))[:, None, None]
    algorithm = Recorded(SGD(eta) if batch == 1 else MinibatchSGD(eta, batch))
    trace = run(algorithm, p, o, 12, replicas=6, noise_variance=True)
    w = torch.stack(algorithm.iterates, -2).requires_grad_(True)  # (B, R, T, d)
    (grads,) = torch.autograd.grad(p.loss(w.flatten(1, 2)).sum(), w)
    expected = o.constants["D_sdn"][:, None, None] * grads.square().sum(-1) / batch
    assert trace.noise_var.shape == (4, 6, 12) and (expected[..., -1] < expected[..., 0]).any()
    torch.testing.assert_close(trace.noise_var, expected, rtol=1e-10, atol=0)
    torch.testing.assert_close(trace.noise_var, o.constants["D_sdn"][:, None, None] * trace.grad_sq[..., :12] / batch,
                               rtol=1e-12, atol=0)


def test_the_variance_is_recorded_only_on_request_and_nan_without_an_oracle_call() -> None:
    p = FAMILIES["l1-regression"].sample(2, 2, torch.Generator().manual_seed(0), dtype=F64)
    o = ORACLES["finite-sum"].bind(p, torch.Generator().manual_seed(1))
    assert run(SGD(0.01), p, o, 3, replicas=2).noise_var is None
    assert torch.isnan(run(ShuffledSGD(0.01), p, o, 3, replicas=2, noise_variance=True).noise_var).all()
    recorded = run(SGD(0.01), p, o, 3, replicas=2, noise_variance=True).noise_var
    assert recorded.shape == (2, 2, 3) and torch.isfinite(recorded).all() and (recorded > 0).all()


# --- claims can use sum_noise_var ------------------------------------------------------------------

TINY = Profile("tiny", batch_size=8, replicas=64, rounds=1, horizons=(4, 16), dims=(2,))
#: E[L(w_{T+1})] <= L(w_1) - eta (1 - H eta/2) E sum ||grad L(w_t)||^2 + (H eta^2/2) E sum sigma_t^2: the
#: descent lemma (Lemma 5.4) in conditional expectation (E||g_t||^2 = ||grad L(w_t)||^2 + sigma_t^2), summed.
DESCENT = last_subopt + eta * (1 - H * eta / 2) * sum_grad_sq - H * eta ** 2 / 2 * sum_noise_var
NOISY = ("gaussian", "time-varying", "state-dependent", "heavy-tailed")


def tiny_spec() -> Spec:
    settings_ = (
        Setting("sgd", "SGD", hyper={"eta": c / H}, free={"c": (0.1, 1.5)}, noise=NOISY),
        Setting("minibatch", "MinibatchSGD", hyper={"eta": c / H}, free={"c": (0.1, 1.0)},
                noise=("gaussian", "time-varying", "heavy-tailed"), minibatch=(1, 4)),
        Setting("sdn", "SGD", hyper={"eta": c / H}, free={"c": (0.1, 1.0)}, noise=("state-dependent",)),
        Setting("plain", "SGD", hyper={"eta": c / H}, free={"c": (0.1, 1.0)}, noise=NOISY),
    )
    claims = (
        Claim("descent", "expect", DESCENT, Delta, "sgd", "the summed descent lemma with sigma_t^2"),
        Claim("descent-noiseless", "expect", DESCENT.subs(sum_noise_var, 0), Delta, "sgd",
              "false: the same without the noise term"),
        Claim("var-class", "sure", sum_noise_var, sigma ** 2 * T / B, "minibatch", "sum sigma_t^2 <= T sigma^2/B"),
        Claim("half-var", "sure", sum_noise_var, sigma ** 2 * T / (2 * B), "minibatch", "false: half of it"),
        Claim("sdn-identity", "sure", sum_noise_var, D_sdn * sum_grad_sq, "sdn", "sigma_t^2 = D ||grad L(w_t)||^2"),
        Claim("sdn-identity-rev", "sure", D_sdn * sum_grad_sq, sum_noise_var, "sdn", "the other direction"),
        Claim("sdn-per-step", "sure", noise_var_t, D_sdn * grad_sq_t, "sdn", "sigma_t^2 = D ||grad L(w_t)||^2 at each t"),
        Claim("plain", "sure", sum_grad_sq, sum_grad_sq + 1, "plain", "uses no noise variance"),
    )
    return Spec("X11", "noise variance", Source("11", 1669), frozenset({"smooth", "lb"}), settings_, claims, ())


def test_claims_on_sum_noise_var_evaluate(tmp_path) -> None:
    spec = tiny_spec()
    families = ("quadratic-convex", "huber")
    assert {o for _, o in combinations(spec, spec.setting("sgd"), families)} == {"gaussian", "time-varying",
                                                                                 "state-dependent"}
    assert "heavy-tailed" in {o for _, o in combinations(spec, spec.setting("plain"), families)}
    result = {cl.name: cl for cl in check(spec, profile=TINY, families=families, counterexample_dir=tmp_path).claims}
    verdicts = {name: cl.verdict for name, cl in result.items()}
    assert verdicts == {"descent": "holds", "descent-noiseless": "violated", "var-class": "holds", "half-var": "violated", "sdn-identity": "holds",
                        "sdn-identity-rev": "holds", "sdn-per-step": "holds", "plain": "holds"}, verdicts
    assert not any("heavy-tailed" in f for name, cl in result.items() if name != "plain" for f in cl.families)
    assert {f.split("/")[1] for f in result["descent"].families} == {"gaussian", "time-varying", "state-dependent"}
    for name in ("var-class", "sdn-identity", "sdn-identity-rev", "sdn-per-step"):
        assert abs(result[name].tightness - 1) < 1e-9, (name, result[name].tightness)
    assert result["descent"].instances > 0
