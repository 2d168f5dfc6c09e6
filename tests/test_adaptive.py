"""Algorithms 7, 8 and 9 (algorithms/adaptive.py) against hand-computed loops, and against
torch.optim where one matches: in d = 1, Algorithm 7 is torch.optim.Adagrad with lr = c,
initial_accumulator_value = eps^2 and eps = 0, and Algorithm 8 with eps = 0 is
torch.optim.RMSprop with alpha = beta, lr = c sqrt(1 - beta) and eps = 0."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from algorithms import ALGORITHMS, AdaGradNorm, CorrectedEMAAdaptive, EMAAdaptive, run, torch_optimizer
from problems import FAMILIES, ORACLES

F64 = torch.float64


class Scripted:
    """An oracle returning g_t = s_t (w - a) + u_t at step t: a scripted stochastic gradient."""

    def __init__(self, a: np.ndarray, scales: np.ndarray, shifts: np.ndarray) -> None:
        self.a, self.scales, self.shifts, self.k = a, scales, shifts, 0

    def grad(self, w: np.ndarray, k: int) -> np.ndarray:
        return self.scales[k] * (w - self.a) + self.shifts[k]

    def __call__(self, w: torch.Tensor, m: int = 1) -> torch.Tensor:
        self.k += 1
        return torch.as_tensor(self.grad(w.numpy(), self.k - 1))


def script(T: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=d), rng.uniform(0.2, 3.0, T), rng.normal(size=(T, d)), rng.normal(size=d)


def ours(algorithm, w1: np.ndarray, oracle, T: int) -> tuple[list[np.ndarray], list[float]]:
    """The iterates w_1..w_{T+1} and step sizes eta_1..eta_T of ``algorithm`` on one instance."""
    w = torch.as_tensor(w1)[None, None, :].clone()
    state = algorithm.init(w)
    iterates, steps = [w[0, 0].numpy().copy()], []
    for t in range(1, T + 1):
        w, state = algorithm.step(w, state, oracle, t)
        iterates.append(w[0, 0].numpy().copy())
        steps.append(float(algorithm.step_size(state).reshape(-1)[0]))
    return iterates, steps


def hand(rule: str, w1: np.ndarray, oracle: Scripted, T: int, c: float, eps: float, beta: float) -> tuple[list, list]:
    """The notes' pseudocode, line by line, in numpy."""
    w, A, Bsum, total = w1.copy(), 0.0, eps ** 2, 0.0
    iterates, steps = [w.copy()], []
    for t in range(1, T + 1):
        g = oracle.grad(w, t - 1)
        sq = float(g @ g)
        if rule == "alg7":
            total += sq
            eta = c / math.sqrt(eps ** 2 + total)
        elif rule == "alg8":
            A = beta * A + sq
            eta = c / math.sqrt(eps ** 2 + A)
        else:
            A = beta * A + sq
            Bsum = max(Bsum, t * A)
            eta = c / math.sqrt(Bsum)
        w = w - eta * g
        iterates.append(w.copy())
        steps.append(eta)
    return iterates, steps


@pytest.mark.parametrize("rule,cls", [("alg7", AdaGradNorm), ("alg8", EMAAdaptive), ("alg9", CorrectedEMAAdaptive)])
@pytest.mark.parametrize("d", [1, 4])
def test_matches_the_notes_pseudocode(rule: str, cls, d: int) -> None:
    T, c, eps, beta = 12, 0.7, 0.3, 0.6
    a, scales, shifts, w1 = script(T, d, 3 + d)
    algorithm = cls(c, eps) if rule == "alg7" else cls(c, eps, beta)
    got, got_steps = ours(algorithm, w1, Scripted(a, scales, shifts), T)
    want, want_steps = hand(rule, w1, Scripted(a, scales, shifts), T, c, eps, beta)
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_steps, want_steps, rtol=1e-12)


def test_step_size_rules_on_hand_numbers() -> None:
    """g_1 = 3, g_2 = 4 (d = 1, scripted so that g does not depend on w), c = 1, eps = 0, beta = 1/2:
    Algorithm 7: 1/3, 1/5; Algorithm 8: 1/3, 1/sqrt(4.5 + 16); Algorithm 9: 1/3, 1/sqrt(2 (4.5 + 16))."""
    oracle = lambda: Scripted(np.zeros(1), np.zeros(2), np.array([[3.0], [4.0]]))  # noqa: E731
    w1 = np.zeros(1)
    assert ours(AdaGradNorm(1.0, 0.0), w1, oracle(), 2)[1] == pytest.approx([1 / 3, 1 / 5], rel=1e-15)
    assert ours(EMAAdaptive(1.0, 0.0, 0.5), w1, oracle(), 2)[1] == pytest.approx([1 / 3, 1 / math.sqrt(20.5)], rel=1e-15)
    assert ours(CorrectedEMAAdaptive(1.0, 0.0, 0.5), w1, oracle(), 2)[1] == pytest.approx(
        [1 / 3, 1 / math.sqrt(41.0)], rel=1e-15)


def _torch_loop(optimizer_cls, w1: np.ndarray, oracle: Scripted, T: int, **kwargs) -> list[np.ndarray]:
    p = torch.tensor(w1, dtype=F64, requires_grad=True)
    opt = optimizer_cls([p], **kwargs)
    out = [w1.copy()]
    for t in range(T):
        p.grad = torch.as_tensor(oracle.grad(p.detach().numpy(), t))
        opt.step()
        out.append(p.detach().numpy().copy())
    return out


def test_algorithm_7_is_torch_adagrad_in_one_dimension() -> None:
    T, c, eps = 15, 0.8, 0.25
    a, scales, shifts, w1 = script(T, 1, 21)
    got, _ = ours(AdaGradNorm(c, eps), w1, Scripted(a, scales, shifts), T)
    want = _torch_loop(torch.optim.Adagrad, w1, Scripted(a, scales, shifts), T, lr=c,
                       initial_accumulator_value=eps ** 2, eps=0.0)
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-12, atol=1e-13)


def test_algorithm_8_is_torch_rmsprop_in_one_dimension() -> None:
    T, c, beta = 15, 0.8, 0.7
    a, scales, shifts, w1 = script(T, 1, 22)
    got, _ = ours(EMAAdaptive(c, 0.0, beta), w1, Scripted(a, scales, shifts), T)
    want = _torch_loop(torch.optim.RMSprop, w1, Scripted(a, scales, shifts), T, lr=c * math.sqrt(1 - beta),
                       alpha=beta, eps=0.0)
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-12, atol=1e-13)


def test_algorithm_9_steps_never_increase_while_algorithm_8_steps_can() -> None:
    """Gradients that shrink (1, then 0.01 for ever) make Algorithm 8's eta_t grow (it forgets the
    large gradient) while Algorithm 9's eta_t is non-increasing (line 1821's remark)."""
    T = 20
    shifts = np.array([[1.0]] + [[0.01]] * (T - 1))
    oracle = lambda: Scripted(np.zeros(1), np.zeros(T), shifts)  # noqa: E731
    steps8 = ours(EMAAdaptive(1.0, 1e-4, 0.5), np.zeros(1), oracle(), T)[1]
    steps9 = ours(CorrectedEMAAdaptive(1.0, 1e-4, 0.5), np.zeros(1), oracle(), T)[1]
    assert steps8[-1] > 50 * steps8[0]
    assert all(b <= a for a, b in zip(steps9, steps9[1:]))


def test_registered_and_batched_run_matches_scalar_runs() -> None:
    """The registry names them, and one batched run (B instances x R replicas, per-instance c)
    equals, on each instance, the run with that instance's c as a number (the norms are per
    instance and replica)."""
    assert {"AdaGradNorm", "EMAAdaptive", "CorrectedEMAAdaptive"} <= set(ALGORITHMS)
    problem = FAMILIES["quadratic-sc"].sample(3, 4, torch.Generator().manual_seed(5))
    oracle = ORACLES["exact"].bind(problem, torch.Generator().manual_seed(6))
    cs = [0.1, 1.0, 3.0]
    whole = run(AdaGradNorm(torch.tensor(cs, dtype=F64).reshape(3, 1, 1), 0.5), problem, oracle, 9, replicas=2)
    for b, c in enumerate(cs):
        alone = run(AdaGradNorm(c, 0.5), problem, oracle, 9, replicas=2)
        torch.testing.assert_close(whole.loss[b], alone.loss[b], rtol=1e-12, atol=1e-12)


def test_adam_runs_through_the_adapter_with_lr_c() -> None:
    """The factory signature the specs use (eta = c, eps) accepts torch.optim.Adam via the adapter."""
    gen = torch.Generator().manual_seed(1)
    problem = FAMILIES["quadratic-sc"].sample(2, 3, gen)
    algorithm = torch_optimizer(torch.optim.Adam)(eta=torch.tensor(0.1, dtype=F64), eps=0.5)
    trace = run(algorithm, problem, ORACLES["exact"].bind(problem, gen), 5)
    assert torch.isfinite(trace.loss).all()
