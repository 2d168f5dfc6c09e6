"""Convex, Lipschitz, non-smooth finite sums: absolute-value (l1) regression and the hinge loss.

Both are L(w) = (1/n) sum_i phi(<a_i, w> - b_i) with a piecewise-linear phi(r) = max(alpha r, r):
- ``l1-regression``: alpha = -1, phi(r) = |r|; A Gaussian (column scales), b = A w_true + noise;
- ``hinge``: alpha = 0, phi(r) = max(0, r), a_i = -y_i x_i, b_i = -1, so the terms are
  max(0, 1 - y_i <x_i, w>); labels from a random linear rule with 20% flipped.
``grad`` returns the subgradient A^T s / n with s_i = phi'(r_i) off the kinks and s_i = 0 at a kink
(0 lies in [alpha, 1], so this is a subgradient everywhere; the two kinds of Theorem 2.4 and 3.2
only need a subgradient). Constants, all certified:
- G = min(mean_i ||a_i||, ||A||_op / sqrt(n)) bounds every subgradient (``unit_slope_lipschitz``);
- w*: a minimiser from an exact LP solve (HiGHS, scipy.optimize.linprog) of
  min (1/n) sum_i xi_i s.t. xi_i >= r_i(w), xi_i >= alpha r_i(w). The minimiser set need not be a
  single point: w* is the LP's (vertex) solution and D = ||w1 - w*|| for that w*. The theorems'
  D bounds ||w1 - w*|| for the comparator w* of their proofs, and any minimiser serves there.
- L*: the LP dual certifies it. For every y with A^T y = 0 and alpha/n <= y_i <= 1/n,
  L(w) >= sum_i y_i r_i(w) = -<b, y> for all w (weak duality). The LP's multipliers give such a y
  after an exact repair (projection onto ker A^T on their support, then a scaling into the box),
  so Lstar = max(0, -<b, y>) is a proven lower bound on inf L; ``Lstar_gap`` = L(w*) - Lstar >= 0
  is the certified duality gap (about 1e-15 relative), and Delta = L(w1) - Lstar.
Finite sum (class fsum): l_i(w) = phi(<a_i, w> - b_i), each G_i = ||a_i||-Lipschitz.
The batch carries (A, b, alpha) as its ``polyhedral`` structure (phi(r) = max over u in
[alpha, 1] of u r), from which problems/moreau_polyhedral.py computes the Moreau envelope.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from problems import _random as rnd
from problems._batch import FiniteSum, Polyhedral, ProblemBatch
from problems._regression import design, gather_rows, sample_rows, unit_slope_lipschitz

Tensor = torch.Tensor

_SLOPES = {"l1-regression": -1.0, "hinge": 0.0}


def lp_minimiser(A: np.ndarray, b: np.ndarray, alpha: float) -> tuple[np.ndarray, float]:
    """(w*, certified lower bound on inf_w (1/n) sum_i max(alpha r_i, r_i)), r = A w - b, by HiGHS.

    The lower bound is the better of two dual vectors, each repaired to satisfy A^T y = 0 and
    alpha/n <= y <= 1/n exactly (up to rounding): the LP's multipliers y = -(mu_hi + alpha mu_lo)
    and the complementary-slackness vector at the polished vertex; a vector the repair cannot
    fix gives the trivial bound 0 (phi >= 0).
    """
    n, d = A.shape
    eye = np.eye(n)
    c = np.concatenate([np.zeros(d), np.full(n, 1.0 / n)])
    A_ub = np.block([[A, -eye], [alpha * A, -eye]])
    b_ub = np.concatenate([b, alpha * b])
    from scipy.optimize import linprog   # imported on first use: scipy.optimize is slow to import
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=(None, None), method="highs")
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed on a {n}x{d} piecewise-linear regression: {res.message}")
    mu = res.ineqlin.marginals
    w = _polish(A, b, res.x[:d], alpha)
    return w, max(_dual_bound(A, b, -(mu[:n] + alpha * mu[n:]), alpha), _dual_bound(A, b, _vertex_dual(A, b, w, alpha), alpha))


def _vertex_dual(A: np.ndarray, b: np.ndarray, w: np.ndarray, alpha: float) -> np.ndarray:
    """The dual vector of complementary slackness at a vertex w: y_i = phi'(r_i)/n off the d
    active rows Z (smallest |r_i|), and A_Z^T y_Z = -A_N^T y_N on them."""
    n, d = A.shape
    r = A @ w - b
    order = np.argsort(np.abs(r))
    active, rest = order[:d], order[d:]
    y = np.zeros(n)
    y[rest] = np.where(r[rest] > 0, 1.0, alpha) / n
    y[active] = np.linalg.lstsq(A[active].T, -A[rest].T @ y[rest], rcond=None)[0]
    return y


def _polish(A: np.ndarray, b: np.ndarray, w: np.ndarray, alpha: float) -> np.ndarray:
    """The LP vertex recomputed from its d smallest residuals (solver tolerances are ~1e-9),
    kept only when it lowers the loss."""
    d = A.shape[1]

    def value(x: np.ndarray) -> float:
        r = A @ x - b
        return float(np.maximum(r, alpha * r).mean())

    active = np.argsort(np.abs(A @ w - b))[:d]
    try:
        vertex = np.linalg.solve(A[active], b[active])
    except np.linalg.LinAlgError:
        return w
    return vertex if value(vertex) < value(w) else w


def _dual_bound(A: np.ndarray, b: np.ndarray, y: np.ndarray, alpha: float) -> float:
    """-<b, y'> for y' the repair of y: projected onto ker A^T on its support, then scaled into the
    box alpha/n <= y' <= 1/n; 0 (the trivial bound) when no scaling can repair it."""
    n = A.shape[0]
    support = np.abs(y) > 1e-12 / n
    fixed = np.zeros(n)
    if support.any():
        A_s, y_s = A[support], y[support]
        fixed[support] = y_s - A_s @ np.linalg.lstsq(A_s, y_s, rcond=None)[0]
    if (fixed < 0).any() and alpha == 0.0:
        return 0.0
    ratio = np.where(fixed > 0, fixed * n, np.where(fixed < 0, fixed * n / alpha if alpha else 0.0, 0.0))
    fixed = fixed / max(1.0, float(ratio.max(initial=0.0)))
    return max(0.0, float(-(b @ fixed)))


class PiecewiseLinearRegression:
    """Family of l1 regressions (``kind="l1-regression"``) or hinge-loss classifiers (``"hinge"``)."""

    classes = frozenset({"cvx", "lip", "lb", "minimizer", "fsum"})

    def __init__(self, kind: str = "l1-regression") -> None:
        if kind not in _SLOPES:
            raise ValueError(f"PiecewiseLinearRegression: kind must be one of {sorted(_SLOPES)}, got {kind!r}")
        self.name = kind
        self.alpha = _SLOPES[kind]

    def _data(self, B: int, n: int, d: int, generator: torch.Generator, device: torch.device | str,
              dtype: torch.dtype) -> tuple[Tensor, Tensor, Tensor]:
        """(A, b, a centre for w1): the rows a_i and offsets b_i of r = A w - b."""
        X = design(B, n, d, generator, device, dtype)
        w_true = rnd.log_uniform((B, 1), 0.1, 10.0, generator, device, dtype) * rnd.normal((B, d), generator, device, dtype)
        clean = torch.einsum("bnd,bd->bn", X, w_true)
        if self.alpha < 0:
            noise = rnd.log_uniform((B, 1), 0.01, 10.0, generator, device, dtype) * rnd.normal((B, n), generator, device, dtype)
            return X, clean + noise, w_true
        y = torch.where(clean >= 0, torch.ones_like(clean), -torch.ones_like(clean))
        flip = rnd.uniform((B, n), 0.0, 1.0, generator, device, dtype) < 0.2
        y = torch.where(flip, -y, y)
        return -y[..., None] * X, -torch.ones_like(clean), w_true / w_true.norm(dim=-1, keepdim=True)

    def sample(self, batch_size: int, dim: int, generator: torch.Generator,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> ProblemBatch:
        B, d = batch_size, dim
        n = sample_rows(d, generator, extra_low=1, spread=1)
        A, b, centre = self._data(B, n, d, generator, device, dtype)
        radius = rnd.log_uniform((B, 1), 0.01, 100.0, generator, device, dtype)
        w1 = centre + radius * rnd.random_radius_directions(B, d, generator, device, dtype)
        alpha = self.alpha
        A_np, b_np = A.detach().cpu().double().numpy(), b.detach().cpu().double().numpy()
        solved = [lp_minimiser(A_np[i], b_np[i], alpha) for i in range(B)]
        w_star = torch.as_tensor(np.stack([s[0] for s in solved]), device=device, dtype=dtype)
        Lstar = torch.as_tensor([s[1] for s in solved], device=device, dtype=dtype)

        def slope(res: Tensor) -> Tensor:
            return (res > 0).to(res.dtype) + alpha * (res < 0).to(res.dtype)

        def phi(res: Tensor) -> Tensor:
            return torch.maximum(res, alpha * res)

        def loss(w: Tensor) -> Tensor:
            return phi(torch.einsum("bnd,brd->brn", A, w) - b[:, None, :]).mean(-1)

        def grad(w: Tensor) -> Tensor:
            res = torch.einsum("bnd,brd->brn", A, w) - b[:, None, :]
            return torch.einsum("bnd,brn->brd", A, slope(res)) / n

        def term_loss(w: Tensor, idx: Tensor) -> Tensor:
            a, bi = gather_rows(A, b, idx)
            return phi((a * w).sum(-1) - bi)

        def term_grad(w: Tensor, idx: Tensor) -> Tensor:
            a, bi = gather_rows(A, b, idx)
            return slope((a * w).sum(-1) - bi)[..., None] * a

        L_w_star = loss(w_star[:, None, :])[:, 0]
        Lstar = torch.minimum(Lstar, L_w_star)  # a dual bound above L(w*) is rounding: keep gap >= 0
        constants = {
            "G": unit_slope_lipschitz(A),
            "D": torch.linalg.vector_norm(w1 - w_star, dim=-1),
            "Delta": loss(w1[:, None, :])[:, 0] - Lstar,
            "Lstar": Lstar,
            "Lstar_gap": L_w_star - Lstar,
        }
        terms = FiniteSum(n, term_loss, term_grad, {"G_i": torch.linalg.vector_norm(A, dim=-1)})

        def describe(i: int) -> dict[str, Any]:
            return {"n": n, "kind": self.name, "A": A[i].tolist(), "b": b[i].tolist(), "w_star": w_star[i].tolist(),
                    "w1": w1[i].tolist(), "Lstar": float(Lstar[i]), "Lstar_gap": float(constants["Lstar_gap"][i])}

        return ProblemBatch(self.name, self.classes, loss, grad, constants, w1, w_star,
                            {"family": self.name, "batch_size": B, "dim": d}, describe, terms=terms,
                            polyhedral=Polyhedral(A, b, alpha))
