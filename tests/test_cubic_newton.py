"""Cubic-regularised Newton and the negative-curvature step (algorithms/cubic_newton.py) against hand
computations and independent autograd Hessians, and the runner's second-order records (curvature,
step_sq, grad_floor) and trace symbols (lam_t, sosp_eps, ...) against values computed here."""
from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from algorithms import ALGORITHMS, ProtocolError, Trace, run
from algorithms.cubic_newton import CubicNewton, NegativeCurvature, SecondOrderOracle
from algorithms.cubic_subproblem import certificate
from problems import FAMILIES, ORACLES
from problems.cosine_wells import CosineWells
from theorems.engine.traces import second_order_values

F64 = torch.float64


def well(alpha: float, omega: float, u1: float) -> object:
    """A 1-d cosine well alpha (1 - cos(omega (w - m))) with m = 0, started at u1."""
    params = {"alpha": torch.tensor([[alpha]], dtype=F64), "omega": torch.tensor([[omega]], dtype=F64),
              "Q": torch.ones(1, 1, 1, dtype=F64), "m": torch.zeros(1, 1, dtype=F64),
              "w1": torch.tensor([[u1]], dtype=F64), "shift": torch.zeros(1, 1, dtype=F64)}
    return CosineWells().build(params)


def second_order_oracle(problem) -> SecondOrderOracle:
    bound = ORACLES["exact"].bind(problem, torch.Generator().manual_seed(0))
    return SecondOrderOracle(bound.sample, problem)


def autograd_hessian(problem, w: torch.Tensor) -> torch.Tensor:
    """Hess L(w) (B, R, d, d) by torch.autograd.functional.hessian of each point's loss."""
    B, R, d = w.shape
    out = torch.empty(B, R, d, d, dtype=w.dtype)
    for b in range(B):
        for r in range(R):
            def f(x: torch.Tensor, b: int = b, r: int = r) -> torch.Tensor:
                full = w.detach().clone()
                full[b, r] = x
                return problem.loss(full)[b, r]
            out[b, r] = torch.autograd.functional.hessian(f, w[b, r].detach().clone())
    return out


def test_registered_by_name() -> None:
    assert ALGORITHMS["CubicNewton"] is CubicNewton and ALGORITHMS["NegativeCurvature"] is NegativeCurvature


def test_negative_curvature_step_at_the_top_of_a_well_by_hand() -> None:
    """At u = pi/omega: grad 0 (sign taken +1), Hess = -alpha omega^2, so with c = 1 the step is
    -(2 alpha omega^2 / J) and L drops by alpha (1 - cos(2 omega^2 alpha / J))."""
    alpha, omega, J = 2.0, 1.5, 5.0
    problem = well(alpha, omega, math.pi / omega)
    w = problem.w1[:, None, :]
    w2, _ = NegativeCurvature(J, 1.0).step(w, None, second_order_oracle(problem), 1)
    step = -2 * alpha * omega ** 2 / J
    assert float(w2 - w) == pytest.approx(step, rel=1e-12)
    drop = float(problem.loss(w) - problem.loss(w2))
    assert drop == pytest.approx(alpha * (1 - math.cos(omega * step)), rel=1e-9)
    assert drop >= 2 * (alpha * omega ** 2) ** 3 / (3 * J ** 2)


def test_negative_curvature_step_follows_the_sign_rule_and_c() -> None:
    """Off the top the gradient decides the direction: delta = -(2 lambda/J) v sign(<v, g>), lambda = c lambda(w)."""
    alpha, omega, J, c = 1.0, 1.0, 1.0, 0.3
    problem = well(alpha, omega, 2.5)  # cos(2.5) < 0: negative curvature, sin(2.5) > 0: g > 0
    w = problem.w1[:, None, :]
    curvature = alpha * omega ** 2 * math.cos(2.5)
    w2, _ = NegativeCurvature(J, c).step(w, None, second_order_oracle(problem), 1)
    assert float(w2 - w) == pytest.approx(-2 * c * (-curvature) / J, rel=1e-12)
    problem = well(alpha, omega, -2.5)
    w = problem.w1[:, None, :]
    w2, _ = NegativeCurvature(J, c).step(w, None, second_order_oracle(problem), 1)
    assert float(w2 - w) == pytest.approx(2 * c * (-curvature) / J, rel=1e-12)


def test_negative_curvature_step_is_zero_without_negative_curvature() -> None:
    problem = well(1.0, 1.0, 0.5)
    w = problem.w1[:, None, :]
    w2, _ = NegativeCurvature(1.0, 1.0).step(w, None, second_order_oracle(problem), 1)
    assert torch.equal(w2, w)


@pytest.mark.parametrize("family", ["cosine-wells", "pseudo-huber", "log-cosh"])
def test_cubic_newton_step_is_the_certified_minimiser_of_the_model_with_autograd_hessians(family: str) -> None:
    problem = FAMILIES[family].sample(4, 3, torch.Generator().manual_seed(5), dtype=F64)
    w = problem.w1[:, None, :].expand(4, 2, 3).clone()
    J = problem.constants["J"].reshape(4, 1, 1)
    w2, _ = CubicNewton(J).step(w, None, second_order_oracle(problem), 1)
    hess = autograd_hessian(problem, w)
    cert = certificate(problem.grad(w), hess, J[..., 0].expand(4, 2), w2 - w)
    assert bool((cert.residual <= 1e-7 * cert.residual_scale).all())
    assert bool((cert.shifted_min >= -1e-8 * cert.eigen_scale).all())


def test_cubic_newton_in_one_dimension_by_hand() -> None:
    """1-d well at u = 1: g = alpha omega sin(omega), h = alpha omega^2 cos(omega), s solves
    g + h s - M s^2 / 2 = 0 with s < 0 (g > 0)."""
    alpha, omega, M = 1.0, 1.0, 0.8
    problem = well(alpha, omega, 1.0)
    w = problem.w1[:, None, :]
    w2, _ = CubicNewton(M).step(w, None, second_order_oracle(problem), 1)
    g, h = math.sin(1.0), math.cos(1.0)
    assert float(w2 - w) == pytest.approx(-2 * g / (h + math.sqrt(h * h + 2 * M * g)), rel=1e-12)


def test_second_order_algorithms_need_a_hessian_oracle() -> None:
    problem = well(1.0, 1.0, 1.0)
    sample = ORACLES["exact"].bind(problem, torch.Generator().manual_seed(0)).sample
    for algorithm in (CubicNewton(1.0), NegativeCurvature(1.0)):
        with pytest.raises(ProtocolError, match="second-order oracle"):
            algorithm.step(problem.w1[:, None, :], None, sample, 1)


def test_runner_records_curvature_steps_and_floor_and_the_trace_symbols() -> None:
    problem = FAMILIES["cosine-wells"].sample(3, 2, torch.Generator().manual_seed(2), dtype=F64)
    oracle = ORACLES["exact"].bind(problem, torch.Generator().manual_seed(0))
    J = problem.constants["J"].reshape(3, 1, 1)
    T = 5
    iterates = [problem.w1[:, None, :]]
    algorithm = CubicNewton(J)
    second = SecondOrderOracle(oracle.sample, problem)
    for t in range(1, T + 1):
        iterates.append(algorithm.step(iterates[-1], None, second, t)[0])
    W = torch.stack(iterates, 2)  # (B, 1, T+1, d)
    trace = run(CubicNewton(J), problem, dataclasses.replace(oracle, sample=second), T,
                record=["grad_sq", "curvature", "step_sq", "grad_floor"])
    hess = torch.stack([autograd_hessian(problem, W[:, :, k]) for k in range(T + 1)], 2)
    eig = torch.linalg.eigvalsh(hess)
    torch.testing.assert_close(trace.curvature, -eig[..., 0], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(trace.step_sq, (W[:, :, 1:] - W[:, :, :-1]).square().sum(-1))
    floor = 8 * 2 * torch.finfo(F64).eps * eig.abs().amax(-1) * W.norm(dim=-1)
    torch.testing.assert_close(trace.grad_floor, floor, rtol=1e-10, atol=0)
    values = second_order_values(trace, {"J": J})
    grad = trace.grad_sq[..., 1:].sqrt()
    lam_plus = torch.clamp(-eig[..., 1:, 0], min=0)
    by_hand = torch.maximum(grad, lam_plus ** 2 / 4).amin(-1, keepdim=True)
    torch.testing.assert_close(values["sosp_eps"], by_hand, rtol=1e-10, atol=1e-14)
    by_hand_J = torch.maximum(J * grad, lam_plus ** 2 / 4).amin(-1, keepdim=True)
    torch.testing.assert_close(values["sosp_eps_J"], by_hand_J, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(values["lam_t"], -eig[..., :T, 0], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(values["grad_sq_next"], trace.grad_sq[..., 1:])


def test_sosp_eps_on_a_synthetic_trace() -> None:
    """sosp_eps = min_t max(||grad L(w_{t+1})||, max(lambda(w_{t+1}), 0)^2 / 4) (Definition 25.6 with
    beta = 2 sqrt(alpha)), w_1 left out; sosp_eps_J weights the gradient by J."""
    grad_sq = torch.tensor([[[0.0, 4.0, 0.01, 1.0]]], dtype=F64)   # ||grad|| = 0, 2, 0.1, 1 at w_1..w_4
    curvature = torch.tensor([[[-5.0, -1.0, 2.0, 0.2]]], dtype=F64)  # lambda(w_t)
    trace = Trace(3, grad_sq=grad_sq, curvature=curvature)
    values = second_order_values(trace, {"J": torch.tensor([[[3.0]]], dtype=F64)})
    # t = 1: max(2, 0) = 2; t = 2: max(0.1, 1) = 1; t = 3: max(1, 0.01) = 1
    assert float(values["sosp_eps"]) == pytest.approx(1.0)
    # with J = 3: t = 1: 6; t = 2: max(0.3, 1) = 1; t = 3: max(3, 0.01) = 3
    assert float(values["sosp_eps_J"]) == pytest.approx(1.0)
    trace = Trace(3, grad_sq=grad_sq, curvature=torch.tensor([[[-5.0, -1.0, 1.0, 0.2]]], dtype=F64))
    assert float(second_order_values(trace, {})["sosp_eps"]) == pytest.approx(0.25)
    torch.testing.assert_close(values["lam_next"], curvature[..., 1:])
    torch.testing.assert_close(values["lam_t"], curvature[..., :3])
