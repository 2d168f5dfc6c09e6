"""Instances far from the origin (issue 15): the families translate their minimisers by shifts of
norm up to 1e3 (problems._random.shift), so an optimizer that pulls towards the origin, such as
gradient descent with weight decay 1e-6, is caught on Theorem 2.4, while plain gradient descent
still holds; the strategies translate the centres too, and a shift changes no certified constant."""
from __future__ import annotations

from typing import Any

import torch
from hypothesis import given, settings

from algorithms import SGD
from floating_point import assert_rounded_descent
from problems import FAMILIES
from problems.strategies import instances
from theorems import CATALOG
from theorems.engine.checker import check

F64 = torch.float64
#: The families translated by the shift (parametric ones are rebuilt from translated parameters).
SHIFTED = ("huber", "pseudo-huber", "log-cosh", "cosine-wells", "piecewise-quadratic", "log-cosh-l2", "quadratic-sc",
           "quadratic-convex")


class WeightDecayGD:
    """Gradient descent with weight decay 1e-6: w_{t+1} = w_t - eta (g_t + 1e-6 w_t)."""

    def __init__(self, eta: Any, weight_decay: float = 1e-6) -> None:
        self.eta, self.weight_decay = eta, weight_decay

    def init(self, w1: torch.Tensor) -> None:
        return None

    def step(self, w: torch.Tensor, state: None, oracle: Any, t: int) -> tuple[torch.Tensor, None]:
        eta = self.eta(t) if callable(self.eta) else self.eta
        return w - eta * (oracle(w) + self.weight_decay * w), state


def test_weight_decay_is_caught_on_T2_4_and_plain_gd_holds(tmp_path) -> None:
    """Quick profile, seed 0: the weight-decay variant violates a claim of T2.4 on a translated
    instance; plain GD (the spec's own algorithm, and SGD with the same step) holds."""
    spec = CATALOG["T2.4"]
    decayed = check(spec, profile="quick", algorithm="test_far_from_origin:WeightDecayGD",
                    counterexample_dir=tmp_path)
    violations = [c.violation for c in decayed.claims if c.violation is not None]
    assert violations, [(c.name, c.verdict, c.tightness) for c in decayed.claims]
    assert all(c.verdict == "holds" for c in check(spec, profile="quick", counterexample_dir=tmp_path).claims)
    plain = check(spec, profile="quick", algorithm="algorithms:SGD", counterexample_dir=tmp_path)
    assert all(c.verdict == "holds" for c in plain.claims), [(c.name, c.verdict) for c in plain.claims]


def test_weight_decay_variant_is_plain_gd_without_decay() -> None:
    """The variant with weight_decay=0 takes exactly SGD's steps (so the violation is the decay's)."""
    p = FAMILIES["huber"].sample(4, 3, torch.Generator().manual_seed(0))
    w = p.w1[:, None, :].clone()
    ours = WeightDecayGD(0.1, weight_decay=0.0)
    ref = SGD(0.1)
    a, _ = ours.step(w, ours.init(w), p.grad, 1)
    b, _ = ref.step(w.clone(), ref.init(w.clone()), p.grad, 1)
    eta = torch.full_like(w, 0.1)
    assert_rounded_descent(a, w, eta, p.grad(w))  # w - eta g, rounded twice by the variant
    assert_rounded_descent(b, w, eta, p.grad(w))  # ... once or twice by SGD's fused update


def test_sampled_minimisers_reach_far_from_the_origin() -> None:
    """Every shifted family places minimisers (or centres) both within 10 and beyond 100 of the
    origin, with w1 - w* as before (the shift moves both)."""
    for name in SHIFTED:
        p = FAMILIES[name].sample(64, 3, torch.Generator().manual_seed(1))
        centre = p.w_star if p.w_star is not None else p.w1
        norms = torch.linalg.vector_norm(centre, dim=-1)
        assert float(norms.max()) > 100 and float(norms.min()) < 10, (name, float(norms.min()), float(norms.max()))
        assert float(norms.max()) <= 1e3 + 100, name


@settings(max_examples=30, deadline=None)
@given(problem=instances("huber"))
def test_strategy_instances_reach_far_from_the_origin_and_keep_constants(problem) -> None:
    """Drawn by hypothesis, the Huber family's w* may lie up to 1e3 from the origin, and its
    constants stay certified there: L(w*) = L*, grad L(w*) = 0, D = ||w1 - w*||."""
    w_star = problem.w_star[:, None, :]
    assert float(torch.linalg.vector_norm(problem.w_star)) <= 1e3 + 20
    torch.testing.assert_close(problem.loss(w_star)[:, 0], problem.constants["Lstar"], rtol=1e-12, atol=1e-12)
    assert float(problem.grad(w_star).abs().max()) == 0.0
    torch.testing.assert_close(problem.constants["D"], torch.linalg.vector_norm(problem.w1 - problem.w_star, dim=-1))


def test_strategies_draw_far_minimisers() -> None:
    """Among hypothesis draws of a parametric family, some minimisers lie beyond 100 from the origin
    (the drawn coordinates alone stay within 10 sqrt(d))."""
    far = []

    @settings(max_examples=100, deadline=None, database=None, derandomize=True)
    @given(problem=instances("huber", dim=2))
    def record(problem) -> None:
        far.append(float(torch.linalg.vector_norm(problem.w_star)))

    record()
    assert max(far) > 100, sorted(far)[-5:]
