"""The fast paths of the engine (issue 14) give what the plain ones give: ``loss_and_grad``,
``run(record=...)``, ``run_in_chunks``, minibatch noise drawn in one call, and rounds that record
only the fields their claims use."""
from __future__ import annotations

import importlib
import math

import pytest
import sympy as sp
import torch
from scipy import stats

from theorems.engine import claims, plan, rounds, traces
from algorithms import FIELDS, GD, run, run_in_chunks
from algorithms.sgd import descend
from problems import FAMILIES, Exact, FiniteSumSampling, GaussianNoise, StateDependentNoise, TimeVaryingNoise
from problems.oracles import FiniteSumSampler
from theorems.catalog import CATALOG
from theorems.language.evaluate import evaluate
from theorems.engine.profiles import PROFILES

F64 = torch.float64
QUICK = PROFILES["quick"]
RUN_MODULE = importlib.import_module("algorithms.run")


@pytest.fixture(params=["short-blocks", "default-blocks"])
def blocks(request, monkeypatch) -> None:
    """Runs measured in blocks of 16 iterates (the shortest), so that horizons cross block ends,
    or in the default blocks."""
    if request.param == "short-blocks":
        monkeypatch.setattr(RUN_MODULE, "BLOCK_VALUES", 0)


def _points(problem, replicas: int, seed: int) -> torch.Tensor:
    """Points (B, R, d) around w1 at scales 1e-3..10."""
    gen = torch.Generator().manual_seed(seed)
    B, d = problem.w1.shape
    scale = 10.0 ** (4 * torch.rand(B, replicas, 1, generator=gen, dtype=F64) - 3)
    return problem.w1[:, None, :] + scale * torch.randn(B, replicas, d, generator=gen, dtype=F64)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_loss_and_grad_is_loss_and_grad(family: str) -> None:
    """The fused evaluation: the gradient bit for bit, and the loss bit for bit too, or, for a
    family that takes it from the gradient (a quadratic: 1/2 <w - w*, grad L(w)> + L*), that
    formula's value, within 1e-12 of the loss's magnitude |L(w)| + |L*|."""
    problem = FAMILIES[family].sample(5, 3, torch.Generator().manual_seed(11))
    w = _points(problem, 4, 12)
    loss, grad = problem.loss_and_grad(w)
    reference = problem.loss(w)
    assert torch.equal(grad, problem.grad(w))
    if problem.loss_given_grad is None:
        assert torch.equal(loss, reference)
    else:
        assert torch.equal(loss, problem.loss_given_grad(w, grad))
        scale = reference.abs() + problem.constants["Lstar"].abs()[:, None]
        assert bool(((loss - reference).abs() <= 1e-12 * scale).all()), (loss - reference).abs().max()


@pytest.mark.parametrize("family", list(FAMILIES))
def test_exact_oracle_gradients_are_new_tensors(family: str) -> None:
    """The exact oracle hands the family's gradient over without a copy: changing it in place
    changes neither the family nor the next call's gradient."""
    problem = FAMILIES[family].sample(3, 2, torch.Generator().manual_seed(2))
    oracle = Exact().bind(problem, torch.Generator())
    w = _points(problem, 2, 2)
    expected = problem.grad(w).clone()
    first = oracle.sample(w)
    first.mul_(-3.0).add_(1.0)
    torch.testing.assert_close(oracle.sample(w), expected, rtol=0, atol=0)
    torch.testing.assert_close(problem.grad(w), expected, rtol=0, atol=0)


@pytest.mark.parametrize("family", ["quadratic-sc", "quadratic-convex", "least-squares-l2"])
def test_fused_quadratic_loss_is_exact_at_known_points(family: str) -> None:
    """At w* the fused loss is L* and the gradient 0; at w1 the loss is L* + Delta (certified)."""
    problem = FAMILIES[family].sample(6, 4, torch.Generator().manual_seed(3))
    c = problem.constants
    loss, grad = problem.loss_and_grad(torch.stack([problem.w_star, problem.w1], 1))
    scale = c["Lstar"].abs() + c["Delta"]
    assert bool(((loss[:, 0] - c["Lstar"]).abs() <= 1e-12 * scale).all())
    assert bool((grad[:, 0].abs() <= 1e-12 * (1 + c["H"][:, None] * problem.w_star.abs())).all())
    assert bool(((loss[:, 1] - c["Lstar"] - c["Delta"]).abs() <= 1e-12 * scale).all())


def _gd(problem):
    return GD(eta=0.9 / problem.constants["H"][:, None, None])


CASES = [("quadratic-sc", Exact()), ("least-squares", FiniteSumSampling()), ("logistic-l2", GaussianNoise()),
         ("huber", TimeVaryingNoise())]


@pytest.mark.parametrize("family, oracle", CASES, ids=[f"{f}-{o.name}" for f, o in CASES])
@pytest.mark.parametrize("horizon", [1, 15, 31, 40])
def test_run_records_the_subset_of_the_full_run(blocks, family: str, oracle, horizon: int) -> None:
    """Every subset of FIELDS: the recorded fields equal the full run's bit for bit (same draws),
    the others are None, the last iterate is kept and the horizon is known."""
    problem = FAMILIES[family].sample(4, 3, torch.Generator().manual_seed(5))

    def go(record=FIELDS):
        bound = oracle.bind(problem, torch.Generator().manual_seed(6))
        return run(_gd(problem), problem, bound, horizon, replicas=3, record=record)

    full = go()
    for record in [(), ("loss",), ("grad_sq",), ("dist_sq",), ("avg_iterate_loss",), ("loss", "avg_iterate_loss")]:
        part = go(record)
        assert part.horizon == horizon and torch.equal(part.last_iterate, full.last_iterate)
        for name in FIELDS:
            got = getattr(part, name)
            assert (got is None) == (name not in record), name
            if got is not None:
                torch.testing.assert_close(got, getattr(full, name), rtol=0, atol=0, equal_nan=True)


def test_run_rejects_unknown_fields() -> None:
    problem = FAMILIES["quadratic-sc"].sample(2, 2, torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="cannot record"):
        run(_gd(problem), problem, Exact().bind(problem, torch.Generator()), 3, record=("loss", "gradient"))


@pytest.mark.parametrize("family", ["quadratic-sc", "logistic-l2"])
def test_trace_is_the_iterates_measured_one_by_one(blocks, family: str) -> None:
    """The block-wise measurement equals L, ||grad L||^2 and ||w - w*||^2 at each iterate of a
    hand-written GD loop, and the averaged iterate's loss (T = 70: with short blocks, four of 16
    iterates and a partial one)."""
    problem = FAMILIES[family].sample(4, 3, torch.Generator().manual_seed(8))
    T, eta = 70, 0.9 / problem.constants["H"][:, None, None]
    trace = run(GD(eta=eta), problem, Exact().bind(problem, torch.Generator()), T, replicas=2)
    w = problem.w1[:, None, :].expand(4, 2, 3).clone()
    ws = [w]
    for _ in range(T):
        w = descend(w, eta, problem.grad(w))  # GD's own update (its rounding is tested in test_algorithms)
        ws.append(w)
    W = torch.stack(ws, 2)
    assert torch.equal(trace.last_iterate, ws[-1])
    loss = torch.stack([problem.loss(x) for x in ws], -1)
    scale = loss.abs() + problem.constants["Lstar"].abs()[:, None, None]
    assert bool(((trace.loss - loss).abs() <= 1e-12 * scale).all())
    grad_sq = torch.stack([problem.grad(x).square().sum(-1) for x in ws], -1)
    torch.testing.assert_close(trace.grad_sq, grad_sq, rtol=1e-12, atol=0)
    torch.testing.assert_close(trace.dist_sq, (W - problem.w_star[:, None, None, :]).square().sum(-1),
                               rtol=1e-12, atol=0)
    torch.testing.assert_close(trace.avg_iterate_loss, problem.loss(W[:, :, :T].mean(2)), rtol=1e-12, atol=1e-12)


class _InPlaceGD:
    """GD that scales the oracle's gradient in place (as an optimizer may): the runner must not
    measure the changed tensor as grad L(w_t)."""

    def __init__(self, eta: torch.Tensor) -> None:
        self.eta = eta

    def init(self, w1: torch.Tensor) -> None:
        return None

    def step(self, w, state, oracle, t):
        g = oracle(w)
        g.mul_(self.eta)
        return w - g, state


@pytest.mark.parametrize("family", ["quadratic-sc", "logistic-l2"])
@pytest.mark.parametrize("oracle", [Exact(), GaussianNoise()], ids=["exact", "gaussian"])
def test_gradients_changed_in_place_are_measured_again(blocks, family: str, oracle) -> None:
    """The runner reuses the oracle's gradient at w_t only while it is unchanged: an algorithm that
    scales it in place gets the same trace (to rounding: other batched products) as one that
    does not, and both equal the loss and gradient at the iterates."""
    problem = FAMILIES[family].sample(4, 3, torch.Generator().manual_seed(13))
    eta = 0.5 / problem.constants["H"][:, None, None]
    traces = [run(algorithm, problem, oracle.bind(problem, torch.Generator().manual_seed(14)), 40, replicas=2)
              for algorithm in (GD(eta=eta), _InPlaceGD(eta))]
    W = traces[0].last_iterate
    torch.testing.assert_close(traces[1].last_iterate, W, rtol=1e-13, atol=0)
    torch.testing.assert_close(traces[1].grad_sq, traces[0].grad_sq, rtol=1e-12, atol=0)
    torch.testing.assert_close(traces[1].loss, traces[0].loss, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(traces[0].grad_sq[..., -1], problem.grad(W).square().sum(-1), rtol=1e-12, atol=0)


@pytest.mark.parametrize("family", ["quadratic-sc", "least-squares-l2"])
@pytest.mark.parametrize("chunk", [1, 3, 16])
def test_run_in_chunks_equals_one_run(blocks, family: str, chunk: int) -> None:
    """Deterministic oracle: the chunked trace is the whole-batch trace, bit for bit."""
    source = FAMILIES[family]
    params = source.draw(10, 4, torch.Generator().manual_seed(9))
    problem = source.build(params)

    def make(part: slice):
        piece = source.build({k: v[part] for k, v in params.items()})
        return _gd(piece), piece, Exact().bind(piece, torch.Generator())

    whole = run(_gd(problem), problem, Exact().bind(problem, torch.Generator()), 40, replicas=2)
    chunked = run_in_chunks(make, 10, 40, chunk=chunk, replicas=2)
    assert chunked.horizon == 40
    for name in (*FIELDS, "last_iterate"):
        assert torch.equal(getattr(chunked, name), getattr(whole, name)), name


GAUSSIAN = [GaussianNoise(), StateDependentNoise(), TimeVaryingNoise()]


@pytest.mark.parametrize("oracle", GAUSSIAN, ids=[o.name for o in GAUSSIAN])
@pytest.mark.parametrize("m", [1, 4, 25])
def test_minibatch_noise_has_mean_zero_and_variance_over_m(oracle, m: int) -> None:
    """g - grad L(w) of ``sample(w, m)`` is N(0, v/(d m) I) with v the per-draw variance: per
    instance, the replica-and-coordinate sum of squares over v/(d m) is chi^2(R d) and the sum over
    sqrt(n v/(d m)) is N(0, 1). Two-sided tests at 1e-4 per instance and test (Bonferroni over the
    16 instances and the 2 tests: false-alarm rate at most 1e-4 for the whole test)."""
    problem = FAMILIES["quadratic-sc"].sample(16, 5, torch.Generator().manual_seed(m))
    bound = oracle.bind(problem, torch.Generator().manual_seed(100 + m))
    bound.begin_step(3)
    R, d = 400, 5
    w = _points(problem, 1, m).expand(16, R, d).clone()
    noise = bound.sample(w, m) - problem.grad(w)
    per_coordinate = (bound.noise_variance(w, m) / d)[..., None]  # (B, R, 1): exact v / (d m)
    alpha = 1e-4 / (16 * 2)
    q = (noise.square() / per_coordinate).sum((1, 2)).numpy()
    chi2 = stats.chi2(R * d)
    p_var = 2 * torch.minimum(torch.tensor(chi2.cdf(q)), torch.tensor(chi2.sf(q)))
    z = (noise / per_coordinate.sqrt()).sum((1, 2)) / math.sqrt(R * d)
    p_mean = 2 * torch.tensor(stats.norm.sf(z.abs().numpy()))
    assert bool((p_var > alpha).all()), p_var.min()
    assert bool((p_mean > alpha).all()), p_mean.min()


def test_minibatch_noise_is_one_draw_scaled() -> None:
    """m > 1 draws one normal of w's shape and scales it by 1/sqrt(m); m = 1 is the draw itself."""
    problem = FAMILIES["quadratic-sc"].sample(3, 4, torch.Generator().manual_seed(1))
    generator = torch.Generator().manual_seed(2)
    bound = GaussianNoise().bind(problem, generator)
    w = _points(problem, 2, 3)
    scale = (bound.constants["sigma"] / 2.0)[:, None, None]  # sigma / sqrt(d), d = 4
    for m in (1, 9):
        state = generator.get_state()
        got = bound.sample(w, m)
        generator.set_state(state)
        z = torch.randn(w.shape, generator=generator, dtype=F64)
        expected = problem.grad(w) + scale * (z if m == 1 else z / 3.0)
        torch.testing.assert_close(got, expected, rtol=0, atol=0)


def test_finite_sum_minibatch_is_the_mean_of_the_drawn_terms() -> None:
    """One term_grad call for the m draws gives the mean of the m drawn terms' gradients."""
    problem = FAMILIES["least-squares"].sample(4, 3, torch.Generator().manual_seed(4))
    w = _points(problem, 5, 4)
    for m in (1, 6):
        sampler = FiniteSumSampler(problem, torch.Generator().manual_seed(8))
        got = sampler(w, m)
        idx = torch.randint(0, problem.terms.num_terms, (m, 4, 5), generator=torch.Generator().manual_seed(8))
        expected = torch.stack([problem.terms.term_grad(w, idx[j]) for j in range(m)]).mean(0)
        torch.testing.assert_close(got, expected, rtol=1e-14, atol=0)


def test_precomputed_schedule_equals_evaluating_at_each_step() -> None:
    t, H, c = sp.symbols("t H c", positive=True)
    values = {"H": torch.tensor([1.0, 3.0, 7.5], dtype=F64).reshape(3, 1, 1),
              "c": torch.tensor([0.5, 0.9, 1.0], dtype=F64).reshape(3, 1, 1)}
    like = torch.zeros(3, 1, 1, dtype=F64)
    for expr in (c / (H * sp.sqrt(t)), sp.Min(1 / H, 1 / t ** 2), c / (H * t ** sp.Rational(3, 4))):
        schedule = traces.schedule(expr, values, like, 50)
        for step in (1, 2, 17, 50, 51):
            direct = evaluate(expr, {**values, "t": torch.tensor(float(step), dtype=F64)}, like)
            torch.testing.assert_close(schedule(step), direct, rtol=1e-15, atol=0)


SAMPLED = [("T5.8", "eta-1/H"), ("T5.8", "eta-at-most-1/H"), ("T6.1", "tuned"), ("T6.2", "c/sqrt(t)"),
           ("S8.2", "shared-samples"), ("E7.3", "optimal-eta"), ("T3.2", "tuned"), ("L5.7", "any-eta"),
           ("T13.3", "eta-1/(2H)"), ("T21.6", "eta-1/H"), ("A3", "shuffled")]


@pytest.mark.parametrize("spec_id, setting_name", SAMPLED, ids=[f"{s}:{n}" for s, n in SAMPLED])
def test_rounds_with_the_restricted_record_judge_as_with_the_full_one(monkeypatch, spec_id: str,
                                                                   setting_name: str) -> None:
    """Rounds record only the fields their claims use; every claim's measured values, bounds and
    outcome are those of the same round recording every field."""
    spec = CATALOG[spec_id]
    setting = spec.setting(setting_name)
    keys = [plan.round_key(spec, setting, combo, 21 + i, 24, 3, QUICK, "cpu")
            for i, combo in enumerate(plan.combinations(spec, setting)[:3])]
    restricted = [rounds.build_round(spec, key) for key in keys]
    plain_run, plain_coupled = traces.run, traces.run_coupled
    recorded: list = []

    def full_run(*args, record=FIELDS, **kwargs):
        recorded.append(tuple(record))
        return plain_run(*args, **kwargs)

    def full_coupled(*args):
        recorded.append(tuple(args[-1]))
        return plain_coupled(*args[:-1])

    monkeypatch.setattr(traces, "run", full_run)
    monkeypatch.setattr(traces, "run_coupled", full_coupled)
    full = [rounds.build_round(spec, key) for key in keys]
    assert recorded and all(set(r) < set(FIELDS) for r in recorded)  # the rounds did restrict the record
    for a, b in zip(restricted, full):
        for claim in (c for c in spec.claims if c.setting == setting_name):
            for side_a, side_b in zip(claims.sides(claim, a, QUICK.rtol, QUICK.atol),
                                      claims.sides(claim, b, QUICK.rtol, QUICK.atol)):
                torch.testing.assert_close(side_a, side_b, rtol=0, atol=0, equal_nan=True)
            outcome_a = claims.evaluate_claim(claim, a, QUICK.level, QUICK.rtol, QUICK.atol)
            outcome_b = claims.evaluate_claim(claim, b, QUICK.level, QUICK.rtol, QUICK.atol)
            assert (outcome_a.applicable, outcome_a.comparisons, outcome_a.tightness) == \
                (outcome_b.applicable, outcome_b.comparisons, outcome_b.tightness)
            assert (outcome_a.violation is None) == (outcome_b.violation is None)
