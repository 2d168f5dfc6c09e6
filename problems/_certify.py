"""Minimisers solved to machine precision and certified by strong convexity (Lemmas 21.5 and 21.8).

For a loss that is mu-strongly convex (globally, or on a ball that provably holds a minimiser) and
any point w_hat with g = grad L(w_hat): ||w_hat - w*|| <= ||g|| / mu and
0 <= L(w_hat) - L* <= ||g||^2 / (2 mu). ``newton_minimise`` drives ||g|| to its rounding floor and
``certify`` turns the gradient norm into these two errors and decides whether they are negligible
against the claims' tolerance; an instance whose certificate is not negligible is marked
``uncertified`` (a constant of the batch, 1.0 where dropped), and the checker leaves it out of
every claim and counts it (theorems/rounds.py).

Negligible means below ``NEGLIGIBLE`` = 1/10 of the tolerance that a sure claim allows for
rounding, ``CLAIM_RTOL`` (|measured| + |bound|) + ``CLAIM_ATOL`` (the checker's profiles use these):
- L*: the reported L* = L(w_hat) - ||g||^2/(2 mu) is within dL = ||g||^2/(2 mu) below the true one;
  dL <= NEGLIGIBLE (CLAIM_RTOL |L(w_hat)| + CLAIM_ATOL);
- w*: a squared distance r^2 = ||w - w_hat||^2 is off from ||w - w*||^2 by at most 2 r e + e^2 with
  e = ||g|| / mu, and 2 r e + e^2 <= NEGLIGIBLE (CLAIM_RTOL r^2 + CLAIM_ATOL) for every r >= 0 iff
  e^2 (1 + 1 / (NEGLIGIBLE CLAIM_RTOL)) <= NEGLIGIBLE CLAIM_ATOL (the left side less
  NEGLIGIBLE CLAIM_RTOL r^2 is largest at r = e / (NEGLIGIBLE CLAIM_RTOL)): ``MAX_W_STAR_ERROR``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

Tensor = torch.Tensor

#: The rounding tolerance of a sure claim, rtol (|measured| + |bound|) + atol (theorems/profiles.py).
CLAIM_RTOL, CLAIM_ATOL = 1e-9, 1e-12
#: The share of that tolerance a certificate may use.
NEGLIGIBLE = 0.1
#: The largest certified ||w_hat - w*|| that moves no squared distance by NEGLIGIBLE of the tolerance.
MAX_W_STAR_ERROR = math.sqrt(NEGLIGIBLE * CLAIM_ATOL / (1 + 1 / (NEGLIGIBLE * CLAIM_RTOL)))

#: Newton steps after which an instance whose small gradient norm has not halved stops.
STALL = 5
#: Trial steps 2^-k of the line search, k = 0..59.
_STEPS = 2.0 ** -torch.arange(0, 60, dtype=torch.float64)


def newton_minimise(grad: Callable[[Tensor], Tensor], hessian: Callable[[Tensor], Tensor], w: Tensor,
                    iterations: int = 200) -> Tensor:
    """Minimisers (B, d) of strictly convex losses by Newton's method from w (B, d), globalised by
    a backtracking line search on the gradient norm (the merit function of Newton's method for
    grad L = 0: along the Newton direction p, d/ds ||grad L(w - s p)||^2 = -2 ||grad L(w)||^2 at s = 0).

    ``grad`` takes points (B, K, d) and returns gradients (B, K, d); ``hessian`` takes (B, d) and
    returns (B, d, d). Each instance takes the largest step 2^-k with
    ||g(w - 2^-k p)|| < (1 - 1e-4 2^-k) ||g(w)|| (the full step first, then, if an instance still
    running refuses it, all trial points at once) and stops when no trial step lowers its
    gradient norm, or when ``STALL`` steps have not halved it once it is below 1e-6 of its start
    (both: its rounding floor; far from the minimiser damped steps may take longer to halve it). Unlike a line search on L, which
    stalls where loss differences are lost to rounding, this one reaches the gradient's floor."""
    steps = _STEPS.to(device=w.device, dtype=w.dtype)
    rows = torch.arange(w.shape[0], device=w.device)
    g = grad(w[:, None, :])[:, 0]
    norm = torch.linalg.vector_norm(g, dim=-1)
    active = norm > 0
    history = [norm]
    for _ in range(iterations):
        if not bool(active.any()):
            break
        direction = torch.linalg.solve(hessian(w), g[..., None])[..., 0]
        trial = w[:, None, :] - direction[:, None, :]
        g_trial = grad(trial)
        if not bool((_accepted(g_trial, norm, steps[:1])[:, 0] | ~active).all()):
            trial = w[:, None, :] - steps[None, :, None] * direction[:, None, :]
            g_trial = grad(trial)
        ok = _accepted(g_trial, norm, steps[:trial.shape[1]])
        first = ok.to(torch.int64).argmax(-1)
        active = active & ok.any(-1) & (norm > 0)
        w = torch.where(active[:, None], trial[rows, first], w)
        g = torch.where(active[:, None], g_trial[rows, first], g)
        norm = torch.linalg.vector_norm(g, dim=-1)
        history.append(norm)
        if len(history) > STALL:
            stalled = (norm > 0.5 * history[-1 - STALL]) & (norm < 1e-6 * history[0])
            active = active & ~stalled
    return w


def _accepted(g_trial: Tensor, norm: Tensor, steps: Tensor) -> Tensor:
    """Which trial steps (B, K) lower the gradient norm strictly by Armijo's factor 1 - 1e-4 step."""
    n_trial = torch.linalg.vector_norm(g_trial, dim=-1)
    return torch.isfinite(n_trial) & (n_trial < (1 - 1e-4 * steps)[None, :] * norm[:, None])


@dataclass(frozen=True)
class Certificate:
    """The certified minimiser of each instance: ``w_star`` (B, d), ``Lstar`` (B,) a proven lower
    bound on inf L, the proven errors ``w_star_error`` >= ||w_star - w*|| and ``Lstar_error`` >=
    L* - Lstar >= 0, and ``certified`` (B,), True where both errors are negligible."""

    w_star: Tensor
    Lstar: Tensor
    w_star_error: Tensor
    Lstar_error: Tensor
    certified: Tensor

    def constants(self) -> dict[str, Tensor]:
        """The batch constants it adds: ``Lstar``, ``w_star_error``, ``Lstar_error`` and
        ``uncertified`` (1.0 where the checker must drop the instance)."""
        return {"Lstar": self.Lstar, "w_star_error": self.w_star_error, "Lstar_error": self.Lstar_error,
                "uncertified": (~self.certified).to(self.Lstar.dtype)}


def certify(w_hat: Tensor, loss_at: Tensor, grad_at: Tensor, mu: Tensor, extra_error: Tensor | None = None) -> Certificate:
    """Certificate (Lemmas 21.5 and 21.8) of w_hat (B, d) with L(w_hat) = ``loss_at`` (B,),
    grad L(w_hat) = ``grad_at`` (B, d) and a proven modulus ``mu`` (B,) of strong convexity on a
    region holding w_hat and a minimiser; ``extra_error`` (B,) adds a proven bound on how far the
    reported w_hat is from the point where the gradient was taken (e.g. the rounding of a shift).
    An instance is certified when mu > 0, every value is finite and both errors are negligible
    (module docstring)."""
    g = torch.linalg.vector_norm(grad_at, dim=-1)
    safe_mu = torch.where(mu > 0, mu, torch.ones_like(mu))
    error = torch.where(mu > 0, g / safe_mu, torch.full_like(g, math.inf))
    if extra_error is not None:
        error = error + extra_error
    dL = torch.where(mu > 0, g ** 2 / (2 * safe_mu), torch.full_like(g, math.inf))
    finite = torch.isfinite(loss_at) & torch.isfinite(w_hat).all(-1) & torch.isfinite(error) & torch.isfinite(dL)
    certified = finite & (error <= MAX_W_STAR_ERROR) & (dL <= NEGLIGIBLE * (CLAIM_RTOL * loss_at.abs() + CLAIM_ATOL))
    return Certificate(w_hat, loss_at - torch.nan_to_num(dL, posinf=0.0), error, dL, certified)
