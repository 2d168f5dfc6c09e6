"""Rotated separable Huber functions with tunable thresholds: smooth, convex, Lipschitz.

L(w) = L* + sum_j c_j h_{delta_j}(u_j), u = Q^T (w - w*), with the Huber function
h_delta(s) = s^2/2 for |s| <= delta and delta (|s| - delta/2) otherwise (scipy.special.huber).
h_delta is convex and C^1 with h' = clip(s, -delta, delta), so in the rotated coordinates the
Hessian is diag(c_j 1{|u_j| < delta_j}) wherever it exists; hence every constant is exact:
- H = max_j c_j (the curvature at w*), mu = 0 (no curvature once every |u_j| > delta_j);
- G = sqrt(sum_j c_j^2 delta_j^2), the gradient norm wherever every |u_j| >= delta_j;
- w* is the unique minimiser (every c_j > 0), L* its value, D = ||w1 - w*||, Delta = L(w1) - L*.

The family contains the worst case of gradient descent with step 1/H on H-smooth convex
functions: Y. Drori and M. Teboulle, "Performance of first-order methods for smooth convex
minimization: a novel approach", Math. Program. 145 (2014) 451-482, section 3.1: in one
dimension, c = H and delta = R/(2N+1) with |w1 - w*| = R give L(w_{N+1}) - L* = H R^2/(4N+2),
which matches their upper bound (``drori_teboulle``). Used by every smooth convex result.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from problems import _random as rnd
from problems._batch import ProblemBatch
from problems.parametric import Params, clamp_relative, nearest_orthogonal

Tensor = torch.Tensor

#: Smallest curvature and threshold kept by ``project``, relative to the instance's largest.
FLOOR = 1e-6


def huber(s: Tensor, delta: Tensor) -> Tensor:
    """h_delta(s) elementwise: s^2/2 inside [-delta, delta], delta (|s| - delta/2) outside."""
    a = s.abs()
    return torch.where(a <= delta, 0.5 * s * s, delta * (a - 0.5 * delta))


class Huber:
    """Family of rotated separable Huber functions; ``threshold_range`` is the range of
    delta_j / ||w1 - w*|| drawn by ``sample`` (log-uniform)."""

    name = "huber"
    classes = frozenset({"cvx", "smooth", "lip", "lb", "minimizer"})

    def __init__(self, threshold_range: tuple[float, float] = (0.01, 10.0)) -> None:
        if not 0 < threshold_range[0] <= threshold_range[1]:
            raise ValueError(f"Huber: threshold_range must satisfy 0 < low <= high, got {threshold_range}")
        self.threshold_range = threshold_range

    def sample(self, batch_size: int, dim: int, generator: torch.Generator,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> ProblemBatch:
        return self.build(self.draw(batch_size, dim, generator, device, dtype))

    def draw(self, batch_size: int, dim: int, generator: torch.Generator,
             device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> Params:
        """Random parameters: H log-uniform in [0.01, 1000] (attained by c_1), the other c_j in
        [1e-3 H, H], ||w1 - w*|| log-uniform in [0.01, 100], thresholds relative to it; ``shift``
        translates w* and w1 (``_random.shift``, norm up to 1e3; added by ``build``), which changes
        no constant."""
        B, d = batch_size, dim
        H = rnd.log_uniform((B, 1), 0.01, 1000.0, generator, device, dtype)
        c = H * rnd.log_uniform((B, d), 1e-3, 1.0, generator, device, dtype)
        c[:, 0] = H[:, 0]
        r = rnd.log_uniform((B, 1), 0.01, 100.0, generator, device, dtype)
        delta = r * rnd.log_uniform((B, d), *self.threshold_range, generator, device, dtype)
        Q = rnd.orthogonal(B, d, generator, device, dtype)
        w_star = rnd.log_uniform((B, 1), 0.1, 10.0, generator, device, dtype) * rnd.normal((B, d), generator, device, dtype)
        w1 = w_star + r * rnd.random_radius_directions(B, d, generator, device, dtype)
        Lstar = rnd.uniform((B,), -5.0, 5.0, generator, device, dtype)
        shift = rnd.shift(B, d, rnd.MAX_SHIFT, generator, device, dtype)
        return {"c": c, "delta": delta, "Q": Q, "w_star": w_star, "w1": w1, "Lstar": Lstar, "shift": shift}

    def project(self, params: Mapping[str, Tensor]) -> Params:
        """Curvatures and thresholds positive (at least FLOOR times the instance's largest), Q
        the nearest orthogonal matrix."""
        with torch.no_grad():
            out = {k: v.detach().clone() for k, v in params.items()}
            out["c"] = clamp_relative(out["c"].abs(), FLOOR)
            out["delta"] = clamp_relative(out["delta"].abs(), FLOOR)
            out["Q"] = nearest_orthogonal(out["Q"])
        return out

    def build(self, params: Mapping[str, Tensor]) -> ProblemBatch:
        """The batch of the parameters; differentiable in every parameter."""
        c, delta, Q = params["c"], params["delta"], params["Q"]
        shift = rnd.translation(params)
        w_star, w1, Lstar = params["w_star"] + shift, params["w1"] + shift, params["Lstar"]
        B, d = w1.shape

        def coords(w: Tensor) -> Tensor:
            return torch.einsum("brd,bde->bre", w - w_star[:, None, :], Q)

        def loss(w: Tensor) -> Tensor:
            return (c[:, None, :] * huber(coords(w), delta[:, None, :])).sum(-1) + Lstar[:, None]

        def grad(w: Tensor) -> Tensor:
            u = coords(w)
            dl = delta[:, None, :]
            gu = c[:, None, :] * torch.maximum(torch.minimum(u, dl), -dl)
            return torch.einsum("bre,bde->brd", gu, Q)

        constants = {
            "H": c.amax(dim=-1),
            "mu": torch.zeros_like(Lstar),
            "G": torch.sqrt((c * delta).square().sum(-1)),
            "D": torch.linalg.vector_norm(w1 - w_star, dim=-1),
            "Delta": loss(w1[:, None, :])[:, 0] - Lstar,
            "Lstar": Lstar,
        }

        def describe(b: int) -> dict[str, Any]:
            return {"c": c[b].tolist(), "delta": delta[b].tolist(), "Q": Q[b].tolist(),
                    "w_star": w_star[b].tolist(), "w1": w1[b].tolist(), "Lstar": float(Lstar[b])}

        return ProblemBatch(self.name, self.classes, loss, grad, constants, w1, w_star,
                            {"family": self.name, "batch_size": B, "dim": d}, describe)

    @staticmethod
    def drori_teboulle(steps: int, H: float = 1.0, R: float = 1.0, dtype: torch.dtype = torch.float64) -> Params:
        """The one-dimensional worst case of gradient descent with step 1/H after ``steps``
        steps (Drori and Teboulle 2014, section 3.1): c = H, delta = R/(2 steps + 1), w* = 0,
        w1 = R, L* = 0."""
        one = torch.ones(1, 1, dtype=dtype)
        return {"c": H * one, "delta": R / (2 * steps + 1) * one, "Q": one[:, :, None].clone(),
                "w_star": 0 * one, "w1": R * one, "Lstar": torch.zeros(1, dtype=dtype)}
