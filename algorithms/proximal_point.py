"""Regularised and proximal methods of sections 21-22, batched over instances and replicas.

- ``RegularizedGD`` (S21.1): gradient descent on F(w) = L(w) + lam/2 ||w - w_1||^2. The notes start
  at w_1 = 0 and regularise towards the origin; translating the coordinates so that w_1 is the
  origin changes neither L's constants nor the iterates' losses, so the regulariser is centred at w_1.
- ``ProximalSolve`` (L21.1, L21.2): one certified solve of min_w L(w) + lam/2 ||w - w_1||^2, i.e.
  w*_lam in the same translated coordinates; every later step keeps it.
- ``ProximalPoint`` (S22.1): w_{t+1} = w_t + delta_t, delta_t an approximate minimiser of
  F_t(delta) = L(w_t + delta) + gamma ||delta||^2, which is gamma-strongly convex and
  (H + 2 gamma)-smooth when L is gamma-almost convex and H-smooth.

Every solve is ``solve_regularized``: Nesterov's constant-momentum method for a mu_F-strongly convex,
H_F-smooth F, stopped at the first point y whose gradient norm ||grad F(y)|| is at most a target.
That norm certifies the answer: by Lemmas 21.5 and 21.8, ||y - y*|| <= ||grad F(y)|| / mu_F and
F(y) - F(y*) <= ||grad F(y)||^2 / (2 mu_F). The gradients are the oracle's: an exact oracle is needed
for the certificate (the catalog runs these algorithms under the exact oracle only).
"""
from __future__ import annotations

from typing import Any

import torch

from algorithms.projected_sgd import ProjectedSGD
from algorithms.protocol import HyperParameter, Oracle, as_schedule
from algorithms.sgd import descend

Tensor = torch.Tensor

#: Iterations after which a solve gives up (a target below the gradient's rounding floor).
MAX_ITERATIONS = 20_000
#: The target of ``ProximalSolve``: this fraction of ||grad F(w_1)|| = ||grad L(w_1)||, or the
#: gradient's rounding floor, where the smallest norm has not fallen for ``PATIENCE`` iterations.
RELATIVE_TARGET = 1e-13
PATIENCE = 50
#: ``ProximalPoint`` moves only instances with gamma >= GAMMA_FLOOR H.
GAMMA_FLOOR = 1e-2


class SolveError(RuntimeError):
    """A regularised solve did not reach its certified gradient norm."""


def _norm(x: Tensor) -> Tensor:
    return torch.linalg.vector_norm(x, dim=-1, keepdim=True)


def solve_regularized(oracle: Oracle, center: Tensor, lam: Tensor, mu_F: Tensor, H_F: Tensor,
                      target: Tensor, patience: int | None = None) -> Tensor:
    """A point y (B, R, d) with ||grad F(y)|| <= target (B, R, 1) for F(w) = L(w) + lam/2 ||w - center||^2,
    F mu_F-strongly convex and H_F-smooth (all (B, 1, 1) or broadcastable): Nesterov's method from
    ``center`` with step 1/H_F and momentum (sqrt(k) - 1)/(sqrt(k) + 1), k = H_F/mu_F. Each instance
    and replica stops at its first point below its target. With ``patience``, a point whose smallest
    gradient norm has not fallen for that many iterations stops at the point of that smallest norm
    (the gradient's rounding floor: its certificate is that norm, which the caller may check).
    Raises ``SolveError`` if some point is still running after ``MAX_ITERATIONS`` iterations."""
    root = torch.sqrt(H_F / mu_F)
    beta = (root - 1) / (root + 1)
    x = center.clone()
    y = x
    best = torch.full_like(target, float("inf"))
    answer = center.clone()
    since = torch.zeros(target.shape, dtype=torch.long, device=x.device)
    done = torch.zeros(target.shape, dtype=torch.bool, device=x.device)
    for _ in range(MAX_ITERATIONS):
        g = oracle(y) + lam * (y - center)
        norm = _norm(g)
        better = (norm < best) & ~done
        answer = torch.where(better, y, answer)
        best = torch.where(better, norm, best)
        since = torch.where(better, torch.zeros_like(since), since + 1)
        done = done | (best <= target)
        if patience is not None:
            done = done | (since >= patience)
        if bool(done.all()):
            return answer
        x_next = descend(y, 1 / H_F, g)
        y = x_next + beta * (x_next - x)
        x = x_next
    raise SolveError(f"a regularised solve left {int((~done).sum())} points above their target gradient norm "
                     f"after {MAX_ITERATIONS} iterations")


class RegularizedGD:
    """w_{t+1} = w_t - eta_t (g_t + lam (w_t - w_1)): gradient descent on L + lam/2 ||w - w_1||^2 (S21.1)."""

    returns_fresh_iterates = True  # algorithms.protocol

    def __init__(self, eta: HyperParameter, lam: Tensor | float) -> None:
        self.eta = as_schedule(eta)
        self.lam = lam

    def init(self, w1: Tensor) -> Any:
        return w1.clone()

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        return descend(w, self.eta(t), oracle(w) + self.lam * (w - state)), state


class ProximalSolve:
    """Step 1 moves to w*_lam = argmin L(w) + lam/2 ||w - w_1||^2 for a convex, H-smooth L (certified:
    ||grad F|| <= ``relative_target`` ||grad F(w_1)||, so ||w - w*_lam|| <= that / lam); later steps stay.
    Lemmas 21.1 and 21.2 measure ||w*_lam - w_1||, w*_lam's norm in coordinates centred at w_1."""

    def __init__(self, lam: Tensor | float, H: Tensor | float) -> None:
        self.lam, self.H = lam, H

    def init(self, w1: Tensor) -> Any:
        return None

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        if state is not None:
            return w.clone(), state
        lam = torch.as_tensor(self.lam, dtype=w.dtype, device=w.device)
        target = RELATIVE_TARGET * _norm(oracle(w))
        return solve_regularized(oracle, w, lam, lam, self.H + lam, target, PATIENCE), "solved"


class ProximalPoint:
    """Section 22's scheme for a gamma-almost-convex, H-smooth L: w_{t+1} = w_t + delta_t with
    ||grad F_t(delta_t)|| <= eps sqrt(gamma / (3 H)), F_t(delta) = L(w_t + delta) + gamma ||delta||^2.
    F_t is gamma-strongly convex, so that norm certifies both conditions the proof needs:
    ||grad F_t(delta_t)|| <= eps and F_t(delta_t) - min F_t <= eps^2 / (6 H). Instances with
    gamma = 0 (convex: F_t is not strongly convex and the tuned eps is 0) do not move."""

    def __init__(self, gamma: Tensor, H: Tensor, eps: Tensor) -> None:
        self.gamma, self.H, self.eps = gamma, H, eps

    def init(self, w1: Tensor) -> Any:
        return None

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        gamma = torch.as_tensor(self.gamma, dtype=w.dtype, device=w.device)
        active = gamma >= GAMMA_FLOOR * self.H
        safe = torch.where(active, gamma, torch.ones_like(gamma))
        target = torch.where(active, self.eps * torch.sqrt(safe / (3 * self.H)), torch.full_like(gamma, float("inf")))
        target = target.expand(*w.shape[:-1], 1)
        return solve_regularized(oracle, w, 2 * safe, safe, self.H + 2 * safe, target), state


#: The algorithms of sections 21-22 by the names their specs use (registered in ``algorithms.ALGORITHMS``).
SECTIONS_21_22 = {"RegularizedGD": RegularizedGD, "ProximalSolve": ProximalSolve, "ProximalPoint": ProximalPoint,
                  "ProjectedSGD": ProjectedSGD}
