"""The batched optimizers (algorithms/): iterates against hand computations, the torch.optim
adapter against built-in SGD and a hand-written heavy ball, and the trace ``run`` records."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import algorithms
from floating_point import assert_rounded_descent
from algorithms import GD, SGD, MinibatchSGD, ProtocolError, run, torch_optimizer
from problems import BoundOracle, CosineWells, Exact, GaussianNoise, ProblemBatch, PseudoHuber, Quadratic

F64 = torch.float64
SETTINGS = settings(max_examples=12, deadline=None)
seeds = st.integers(0, 2 ** 32 - 1)
FAMILIES = [Quadratic(strongly_convex=True), PseudoHuber(), CosineWells()]


# ---------------------------------------------------------------------------------------------
# a tiny hand-built problem: L_b(w) = a_b / 2 * (w - c_b)^2 in one dimension

def tiny(a: list[float], c: list[float], w1: list[float]) -> ProblemBatch:
    A = torch.tensor(a, dtype=F64)[:, None, None]
    C = torch.tensor(c, dtype=F64)[:, None]

    def loss(w: torch.Tensor) -> torch.Tensor:
        return 0.5 * (A * (w - C[:, None, :]) ** 2).sum(-1)

    def grad(w: torch.Tensor) -> torch.Tensor:
        return A * (w - C[:, None, :])

    B = len(a)
    consts = {"H": torch.tensor(a, dtype=F64), "Lstar": torch.zeros(B, dtype=F64)}
    return ProblemBatch("tiny", frozenset({"smooth"}), loss, grad, consts,
                        torch.tensor(w1, dtype=F64)[:, None], C, {"family": "tiny"})


class Scripted:
    """An oracle whose noise is a fixed list: each call adds the mean of the next m values
    (the same value to every instance and replica); records the m of each call."""

    def __init__(self, problem: ProblemBatch, noise: list[float]) -> None:
        self.problem, self.noise, self.calls = problem, list(noise), []

    def __call__(self, w: torch.Tensor, m: int = 1) -> torch.Tensor:
        self.calls.append(m)
        draws, self.noise = self.noise[:m], self.noise[m:]
        assert len(draws) == m, "script exhausted"
        return self.problem.grad(w) + sum(draws) / m

    def bound(self) -> BoundOracle:
        return BoundOracle("scripted", frozenset(), {}, self)


def exact_oracle(problem: ProblemBatch) -> BoundOracle:
    return BoundOracle("exact", frozenset(), {}, lambda w, m=1: problem.grad(w))


def iterates(algorithm, w1: torch.Tensor, oracle, T: int) -> list[torch.Tensor]:
    """w_1 .. w_{T+1} by calling the protocol directly."""
    w, state = w1.clone(), algorithm.init(w1.clone())
    out = [w]
    for t in range(1, T + 1):
        w, state = algorithm.step(w, state, oracle, t)
        out.append(w)
    return out


def values(ws: list[torch.Tensor], b: int) -> list[float]:
    return [float(w[b, 0, 0]) for w in ws]


def test_gd_constant_step_by_hand() -> None:
    p = tiny([2.0, 0.5], [0.0, 1.0], [1.0, 3.0])
    ws = iterates(GD(eta=0.1), p.w1[:, None, :], exact_oracle(p).sample, 3)
    # instance 0: w <- w - 0.1 * 2 w = 0.8 w
    assert values(ws, 0) == pytest.approx([1.0, 0.8, 0.64, 0.512], abs=1e-15)
    # instance 1: w <- w - 0.1 * 0.5 (w - 1)
    assert values(ws, 1) == pytest.approx([3.0, 2.9, 2.805, 2.71475], abs=1e-14)


def test_gd_per_instance_step_by_hand() -> None:
    p = tiny([2.0, 0.5], [0.0, 1.0], [1.0, 3.0])
    eta = torch.tensor([0.1, 0.4], dtype=F64)[:, None, None]
    ws = iterates(GD(eta=eta), p.w1[:, None, :], exact_oracle(p).sample, 3)
    assert values(ws, 0) == pytest.approx([1.0, 0.8, 0.64, 0.512], abs=1e-15)
    # instance 1 with eta = 0.4: w <- w - 0.2 (w - 1): 3 -> 2.6 -> 2.28 -> 2.024
    assert values(ws, 1) == pytest.approx([3.0, 2.6, 2.28, 2.024], abs=1e-14)


def test_gd_schedule_c_over_sqrt_t_by_hand() -> None:
    p = tiny([1.0], [0.0], [1.0])
    ws = iterates(GD(eta=lambda t: 0.5 / math.sqrt(t)), p.w1[:, None, :], exact_oracle(p).sample, 3)
    # w_{t+1} = w_t (1 - 0.5 / sqrt(t))
    w2 = 1.0 * (1 - 0.5)
    w3 = w2 * (1 - 0.5 / math.sqrt(2))
    w4 = w3 * (1 - 0.5 / math.sqrt(3))
    assert values(ws, 0) == pytest.approx([1.0, w2, w3, w4], abs=1e-15)
    assert w4 == pytest.approx(0.2299168, abs=1e-7)


def test_sgd_with_scripted_noise_by_hand() -> None:
    p = tiny([2.0], [0.0], [1.0])
    oracle = Scripted(p, [0.5, -1.0, 0.25])
    ws = iterates(SGD(eta=0.1), p.w1[:, None, :], oracle, 3)
    # g1 = 2 + 0.5 = 2.5 -> 0.75; g2 = 1.5 - 1 = 0.5 -> 0.7; g3 = 1.4 + 0.25 = 1.65 -> 0.535
    assert values(ws, 0) == pytest.approx([1.0, 0.75, 0.7, 0.535], abs=1e-15)
    assert oracle.calls == [1, 1, 1]


def test_minibatch_sgd_by_hand() -> None:
    p = tiny([2.0], [0.0], [1.0])
    oracle = Scripted(p, [1, 2, 3, 4, -1, -1, -1, -1, 0, 0, 0, 0.4])
    ws = iterates(MinibatchSGD(eta=0.1, batch_size=4), p.w1[:, None, :], oracle, 3)
    # noise means 2.5, -1, 0.1: g1 = 4.5 -> 0.55; g2 = 0.1 -> 0.54; g3 = 1.18 -> 0.422
    assert values(ws, 0) == pytest.approx([1.0, 0.55, 0.54, 0.422], abs=1e-15)
    assert oracle.calls == [4, 4, 4]


def test_minibatch_sgd_rejects_bad_batch_size() -> None:
    with pytest.raises(ValueError):
        MinibatchSGD(eta=0.1, batch_size=0)


def test_registry() -> None:
    assert algorithms.ALGORITHMS["GD"] is GD and algorithms.ALGORITHMS["SGD"] is SGD
    assert algorithms.ALGORITHMS["MinibatchSGD"] is MinibatchSGD
    assert isinstance(SGD(eta=0.1), algorithms.Algorithm)
    with pytest.raises(TypeError):
        torch_optimizer(object)


@SETTINGS
@given(seed=seeds, d=st.integers(1, 5), k=st.sampled_from(range(3)))
def test_gd_with_exact_oracle_is_w_minus_eta_grad(seed: int, d: int, k: int) -> None:
    p = FAMILIES[k].sample(3, d, torch.Generator().manual_seed(seed), dtype=F64)
    o = Exact().bind(p, torch.Generator().manual_seed(seed))
    eta = 1.0 / p.constants["H"][:, None, None] * torch.tensor([0.3, 0.7, 1.0], dtype=F64)[:, None, None]
    w = p.w1[:, None, :].expand(-1, 2, -1).clone()
    ws = iterates(GD(eta=eta), w, o.sample, 4)
    for t in range(4):
        assert_rounded_descent(ws[t + 1], ws[t], eta.expand_as(ws[t]), p.grad(ws[t]))



# ---------------------------------------------------------------------------------------------
# the torch.optim adapter

def _noisy(seed: int, d: int, k: int, B: int = 3):
    p = FAMILIES[k].sample(B, d, torch.Generator().manual_seed(seed), dtype=F64)
    o1 = GaussianNoise().bind(p, torch.Generator().manual_seed(seed + 1))
    o2 = GaussianNoise().bind(p, torch.Generator().manual_seed(seed + 1))
    gen = torch.Generator().manual_seed(seed + 2)
    eta = (0.05 + 0.9 * torch.rand(B, 1, 1, generator=gen, dtype=F64)) / p.constants["H"][:, None, None]
    return p, o1, o2, eta


@SETTINGS
@given(seed=seeds, d=st.integers(1, 5), k=st.sampled_from(range(3)), schedule=st.booleans())
def test_torch_sgd_adapter_matches_builtin_sgd(seed: int, d: int, k: int, schedule: bool) -> None:
    p, o1, o2, eta0 = _noisy(seed, d, k)
    eta = (lambda t: eta0 / math.sqrt(t)) if schedule else eta0
    R, T = 2, 6
    w1 = p.w1[:, None, :].expand(-1, R, -1).clone()
    ours = iterates(SGD(eta=eta), w1, o1.sample, T)
    theirs = iterates(torch_optimizer(torch.optim.SGD)(eta=eta), w1, o2.sample, T)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(b, a, rtol=1e-13, atol=1e-13)
    # and the same through run()
    o1 = GaussianNoise().bind(p, torch.Generator().manual_seed(seed + 1))
    o2 = GaussianNoise().bind(p, torch.Generator().manual_seed(seed + 1))
    t1 = run(SGD(eta=eta), p, o1, T, replicas=R)
    t2 = run(torch_optimizer(torch.optim.SGD)(eta=eta, batch_size=7), p, o2, T, replicas=R)
    for name in ("loss", "grad_sq", "dist_sq", "avg_iterate_loss"):
        torch.testing.assert_close(getattr(t2, name), getattr(t1, name), rtol=1e-12, atol=1e-12, equal_nan=True)


@SETTINGS
@given(seed=seeds, d=st.integers(1, 5), k=st.sampled_from(range(3)))
def test_torch_momentum_adapter_matches_hand_heavy_ball(seed: int, d: int, k: int) -> None:
    p, o1, o2, eta = _noisy(seed, d, k)
    eta = eta * 0.1  # keep the heavy ball stable
    assert len(set(eta.flatten().tolist())) == 3  # a different learning rate per instance
    R, T = 3, 8
    w1 = p.w1[:, None, :].expand(-1, R, -1).clone()
    theirs = iterates(torch_optimizer(torch.optim.SGD, momentum=0.9)(eta=eta), w1, o1.sample, T)
    # torch's convention: v = 0.9 v + g; w = w - eta v (v starts at 0, so v_1 = g_1)
    w, v = w1.clone(), torch.zeros_like(w1)
    for t in range(T):
        torch.testing.assert_close(theirs[t], w, rtol=1e-12, atol=1e-12)
        v = 0.9 * v + o2.sample(w)
        w = w - eta * v
    torch.testing.assert_close(theirs[T], w, rtol=1e-12, atol=1e-12)
    # the momentum run really differs from plain SGD
    assert not torch.allclose(theirs[T], iterates(SGD(eta=eta), w1, Exact().bind(p, None).sample, T)[T])


def test_torch_adapter_rejects_wrong_number_of_learning_rates() -> None:
    p = tiny([1.0, 2.0], [0.0, 0.0], [1.0, 1.0])
    algo = torch_optimizer(torch.optim.SGD)(eta=torch.tensor([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError):
        algo.init(p.w1[:, None, :])


# ---------------------------------------------------------------------------------------------
# run(): the recorded trace

@SETTINGS
@given(seed=seeds, d=st.integers(1, 5), k=st.sampled_from(range(3)), T=st.integers(1, 6),
       R=st.integers(1, 3))
def test_run_records_trace_by_hand(seed: int, d: int, k: int, T: int, R: int) -> None:
    p, o1, o2, eta = _noisy(seed, d, k)
    B = p.batch_size
    trace = run(SGD(eta=eta), p, o1, T, replicas=R)
    assert trace.loss.shape == trace.grad_sq.shape == trace.dist_sq.shape == (B, R, T + 1)
    assert trace.avg_iterate_loss.shape == (B, R) and trace.horizon == T
    ws = iterates(SGD(eta=eta), p.w1[:, None, :].expand(-1, R, -1).clone(), o2.sample, T)
    loss = torch.stack([p.loss(w) for w in ws], -1)
    grad_sq = torch.stack([(p.grad(w) ** 2).sum(-1) for w in ws], -1)
    torch.testing.assert_close(trace.loss, loss, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(trace.grad_sq, grad_sq, rtol=1e-12, atol=1e-12)
    if p.w_star is None:
        assert torch.isnan(trace.dist_sq).all()
    else:
        dist_sq = torch.stack([((w - p.w_star[:, None, :]) ** 2).sum(-1) for w in ws], -1)
        torch.testing.assert_close(trace.dist_sq, dist_sq, rtol=1e-12, atol=1e-12)
    # the averaged iterate is (1/T) sum_{t=1}^{T} w_t: w_1 included, w_{T+1} not
    avg = sum(ws[:T]) / T
    torch.testing.assert_close(trace.avg_iterate_loss, p.loss(avg), rtol=1e-10, atol=1e-12)
    # the start point of the problem is untouched
    assert torch.equal(p.w1, FAMILIES[k].sample(3, d, torch.Generator().manual_seed(seed), dtype=F64).w1)


def test_run_averaged_iterate_on_tiny_problem() -> None:
    p = tiny([2.0], [0.0], [1.0])
    trace = run(GD(eta=0.1), p, exact_oracle(p), 3)
    # iterates 1, 0.8, 0.64, 0.512; average of the first three = 0.8133..., loss = w^2
    assert trace.loss[0, 0].tolist() == pytest.approx([1.0, 0.64, 0.4096, 0.262144], abs=1e-15)
    assert trace.grad_sq[0, 0].tolist() == pytest.approx([4.0, 2.56, 1.6384, 1.048576], abs=1e-14)
    assert trace.dist_sq[0, 0].tolist() == pytest.approx([1.0, 0.64, 0.4096, 0.262144], abs=1e-15)
    assert float(trace.avg_iterate_loss[0, 0]) == pytest.approx((2.44 / 3) ** 2, abs=1e-15)


def test_run_rejects_nonpositive_horizon() -> None:
    p = tiny([2.0], [0.0], [1.0])
    with pytest.raises(ValueError):
        run(GD(eta=0.1), p, exact_oracle(p), 0)


class _Broken:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def init(self, w1):
        return None

    def step(self, w, state, oracle, t):
        if self.kind == "bare tensor":
            return w - 0.1 * oracle(w)
        if self.kind == "wrong shape":
            return w[:, :1] if w.shape[1] > 1 else w[..., :0], state
        if self.kind == "list":
            return [w, state]
        if self.kind == "triple":
            return w, state, None
        if self.kind == "not a tensor":
            return w.tolist(), state
        if self.kind == "late wrong shape":
            return (w if t < 3 else w[None]), state
        raise AssertionError


@pytest.mark.parametrize("kind", ["bare tensor", "wrong shape", "list", "triple", "not a tensor",
                                  "late wrong shape"])
def test_run_raises_protocol_error(kind: str) -> None:
    p = FAMILIES[0].sample(2, 3, torch.Generator().manual_seed(0), dtype=F64)
    o = Exact().bind(p, torch.Generator().manual_seed(0))
    with pytest.raises(ProtocolError):
        run(_Broken(kind), p, o, 4, replicas=2)
    assert issubclass(ProtocolError, TypeError)
