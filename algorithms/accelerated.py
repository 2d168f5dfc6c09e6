"""Momentum as an integrator and accelerated gradient descent (sections 14, 15 and 22 of the notes).

- ``Momentum``: Algorithm 10 (A10), gradient descent with momentum, with the Euler step
  (g_t = grad L(w_t)) or the two-step / look-ahead integrator (g_t = grad L(x_t), x_t the point the
  momentum alone would reach). ``signs="corrected"`` (the default) moves *down* the gradient:

      x_t = w_t + beta_t v_{t-1},  v_t = beta_t v_{t-1} - eta_t g_t,  w_{t+1} = w_t + v_t   (v_0 = 0),

  which is gradient descent for beta = 0 and the form Section 15 derives (S15.1).
  ``signs="as-printed"`` runs the notes' equations (5)-(6) and Algorithm 10 as printed,
  w_{t+1/2} = w_t - beta_t v_{t-1}, v_t = beta_t v_{t-1} - eta_t g_t, w_{t+1} = w_t - v_t: with
  beta = 0 that is w_{t+1} = w_t + eta grad L(w_t), gradient *ascent* (the erratum of A10).
- ``AcceleratedGD``: Algorithm 11 (accelerated gradient descent via momentum, T15.2), with
  alpha_0 = 0, alpha_1 = 1 and alpha_{t+1}^2 - alpha_{t+1} = sum_{i<=t} alpha_i (``alpha_sequence``).
- ``algorithm11_momentum``: the two-step form of Algorithm 11 (S15.1): beta_1 = 0,
  beta_t = alpha_{t-2}^2 / (alpha_t alpha_{t-1}).
- ``strongly_convex_agd``: the accelerated method for mu-strongly convex, H-smooth losses that
  Theorem 22.3 runs (the notes leave it to a homework): Nesterov's constant step scheme
  (Introductory Lectures on Convex Optimization, 2004, scheme (2.2.22)), the two-step form with
  eta = 1/H and beta = (sqrt(H) - sqrt(mu)) / (sqrt(H) + sqrt(mu)); it guarantees
  L(w_{t+1}) - L* <= (1 - sqrt(mu/H))^t (L(w_1) - L* + mu ||w_1 - w*||^2 / 2) (Theorem 2.2.3 there).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import sympy as sp
import torch

from algorithms.protocol import HyperParameter, Oracle, as_schedule
from theorems.language.sequences import S_alpha, alpha_sequence, alpha_sums, alpha_t

Tensor = torch.Tensor
INTEGRATORS = ("euler", "two-step")
SIGNS = ("corrected", "as-printed")


def algorithm11_beta(t: int) -> float:
    """S15.1's beta_t: 0 for t = 1, alpha_{t-2}^2 / (alpha_t alpha_{t-1}) for t >= 2."""
    if t <= 1:
        return 0.0
    a = alpha_sequence(max(t, 1 << (t - 1).bit_length()))
    return a[t - 2] ** 2 / (a[t] * a[t - 1])


class Momentum:
    """Algorithm 10 (module docstring): Euler or two-step integrator, corrected or printed signs."""

    returns_fresh_iterates = True  # algorithms.protocol

    def __init__(self, eta: HyperParameter, beta: HyperParameter, integrator: str = "two-step",
                 signs: str = "corrected") -> None:
        if integrator not in INTEGRATORS or signs not in SIGNS:
            raise ValueError(f"Momentum: integrator must be one of {INTEGRATORS} and signs one of {SIGNS}, "
                             f"got {integrator!r}, {signs!r}")
        self.eta, self.beta = as_schedule(eta), as_schedule(beta)
        self.integrator, self.direction = integrator, 1.0 if signs == "corrected" else -1.0

    def init(self, w1: Tensor) -> Tensor:
        return torch.zeros_like(w1)

    def step(self, w: Tensor, v: Tensor, oracle: Oracle, t: int) -> tuple[Tensor, Tensor]:
        carried = self.beta(t) * v
        point = w + self.direction * carried if self.integrator == "two-step" else w
        v_next = carried - self.eta(t) * oracle(point)
        return w + self.direction * v_next, v_next


class AcceleratedGD:
    """Algorithm 11: x_t = (1 - tau_t) w_t + tau_t y_t with tau_t = alpha_t / sum_{i<=t} alpha_i,
    y_{t+1} = y_t - eta alpha_t grad L(x_t), w_{t+1} = x_t - eta grad L(x_t); y_1 = w_1. The state
    is (y_t, alpha_t, sum_{i<t} alpha_i)."""

    returns_fresh_iterates = True  # algorithms.protocol

    def __init__(self, eta: HyperParameter) -> None:
        self.eta = as_schedule(eta)

    def init(self, w1: Tensor) -> tuple[Tensor, float, float]:
        return w1.clone(), 1.0, 0.0

    def step(self, w: Tensor, state: tuple[Tensor, float, float], oracle: Oracle,
             t: int) -> tuple[Tensor, tuple[Tensor, float, float]]:
        y, alpha, before = state
        total = before + alpha
        tau = alpha / total
        x = (1.0 - tau) * w + tau * y
        g = oracle(x)
        eta = self.eta(t)
        nxt = (1.0 + math.sqrt(1.0 + 4.0 * total)) / 2.0
        return x - eta * g, (y - eta * alpha * g, nxt, total)


def euler_momentum(eta: HyperParameter, beta: HyperParameter) -> Momentum:
    """Algorithm 10 with the Euler step, signs corrected (w_{t+1} = w_t + v_t)."""
    return Momentum(eta, beta, "euler")


def two_step_momentum(eta: HyperParameter, beta: HyperParameter) -> Momentum:
    """Algorithm 10 with the two-step (look-ahead) integrator, signs corrected."""
    return Momentum(eta, beta, "two-step")


def euler_momentum_as_printed(eta: HyperParameter, beta: HyperParameter) -> Momentum:
    """Equations (5)-(6) exactly as printed: v_t = beta v_{t-1} - eta grad L(w_t), w_{t+1} = w_t - v_t."""
    return Momentum(eta, beta, "euler", "as-printed")


def two_step_momentum_as_printed(eta: HyperParameter, beta: HyperParameter) -> Momentum:
    """Algorithm 10's two-step integrator exactly as printed (w_{t+1/2} = w_t - beta v, w_{t+1} = w_t - v_t)."""
    return Momentum(eta, beta, "two-step", "as-printed")


def algorithm11_momentum(eta: HyperParameter) -> Momentum:
    """S15.1: Algorithm 11 rewritten as the (corrected) two-step integrator with beta_t of ``algorithm11_beta``."""
    return Momentum(eta, algorithm11_beta, "two-step")


def algorithm11_as_algorithm10(eta: HyperParameter) -> Momentum:
    """S15.1 as written: Algorithm 10's two-step integrator *as printed* with beta_t of ``algorithm11_beta``."""
    return Momentum(eta, algorithm11_beta, "two-step", "as-printed")


def strongly_convex_beta(H: Tensor | float, mu: Tensor | float) -> Tensor | float:
    """(sqrt(H) - sqrt(mu)) / (sqrt(H) + sqrt(mu)), the momentum of Nesterov's constant step scheme."""
    root_h, root_mu = (torch.sqrt(torch.as_tensor(x, dtype=torch.float64)) for x in (H, mu))
    return (root_h - root_mu) / (root_h + root_mu)


def strongly_convex_agd(eta: HyperParameter, beta: HyperParameter) -> Momentum:
    """The section-22 accelerated method: the two-step integrator with constant eta = 1/H and
    beta = ``strongly_convex_beta(H, mu)`` (the spec passes both as hyper-parameters)."""
    return Momentum(eta, beta, "two-step")


#: The factories above by the names specs use (registered in ``algorithms.ALGORITHMS``).
ACCELERATED: dict[str, Callable[..., Any]] = {
    "Momentum-Euler": euler_momentum, "Momentum-two-step": two_step_momentum,
    "Momentum-Euler-as-printed": euler_momentum_as_printed,
    "Momentum-two-step-as-printed": two_step_momentum_as_printed,
    "AcceleratedGD": AcceleratedGD, "Algorithm11-momentum": algorithm11_momentum,
    "Algorithm11-as-Algorithm10": algorithm11_as_algorithm10, "AGD-strongly-convex": strongly_convex_agd,
}
