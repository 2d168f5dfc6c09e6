"""The cubic-regularised Newton subproblem of section 25 (the notes' delta_t^*), solved globally.

    m(s) = <g, s> + s^T H s / 2 + J ||s||^3 / 6,        H symmetric, J >= 0.

A step s is a global minimiser of m if and only if (Nesterov and Polyak 2006, Theorem 10; Cartis,
Gould and Toint 2011, Theorem 3.1)

    (H + (J/2) ||s|| I) s = -g    and    H + (J/2) ||s|| I is positive semi-definite.

``solve_cubic`` finds it from the eigendecomposition H = Q diag(lam) Q^T (g~ = Q^T g): for
r >= r_min = max(0, -2 lam_1 / J) the vector s(r) = -Q (g~ / (lam + J r / 2)) satisfies the first
condition with r in place of ||s||, and ||s(r)|| decreases in r, so r is the root of the monotone
secular function r / ||s(r)|| - 1 on [r_min, r_hi] (r_hi below), found for all instances at once
by safeguarded Newton steps (``_newton``), and by scipy's bracketing ``elementwise.find_root``
(Chandrupatla) for any instance they leave unconverged. The "hard case" (g~ has no
component, up to 1e-11 ||g||, on the eigenvectors whose shifted eigenvalue vanishes at r_min, and
||s(r_min)|| <= r_min) takes r = r_min and adds the bottom eigenvector to reach ||s|| = r_min.
For J = 0 the model is quadratic and s is the minimum-norm solution of H s = -g on the eigenvalues
above 1e-12 max|lam| (a minimiser when H >= 0 and g is in its range, as the certificate checks).

Every answer is certified by the two optimality conditions (``certificate``); ``solve_cubic``
raises ``CubicCertificateError`` when a solve fails them, so a step is never a local guess.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

Tensor = torch.Tensor

#: Relative tolerance of the certificate (residual and positive semi-definiteness).
CERT_RTOL = 1e-8
#: Components of g~ below this fraction of ||g|| on a vanishing shifted eigenvalue are dropped (hard case).
HARD_CASE_RTOL = 1e-11


class CubicCertificateError(ArithmeticError):
    """A computed step does not satisfy the global optimality conditions of the cubic model."""


@dataclass(frozen=True)
class CubicSolution:
    """The global minimiser ``step`` (..., d) of m, its norm, the model value m(step), and the
    certificate: ``residual`` = ||(H + (J/2)||s|| I) s + g|| and ``shifted_min`` =
    lambda_min(H) + (J/2) ||s|| (>= 0 at a global minimiser), with the scales they are judged on."""

    step: Tensor
    norm: Tensor
    model: Tensor
    residual: Tensor
    shifted_min: Tensor
    residual_scale: Tensor
    eigen_scale: Tensor
    residual_floor: Tensor | float = 0.0

    @property
    def certified(self) -> Tensor:
        """True where both optimality conditions hold to ``CERT_RTOL`` of their scales (the residual
        also to ``residual_floor``, the rounding level of the gradient the caller computed)."""
        tiny = torch.finfo(self.step.dtype).tiny
        return ((self.residual <= CERT_RTOL * self.residual_scale + self.residual_floor + tiny)
                & (self.shifted_min >= -CERT_RTOL * self.eigen_scale - tiny))


def cubic_model(g: Tensor, hess: Tensor, J: Tensor | float, s: Tensor) -> Tensor:
    """m(s) = <g, s> + s^T H s / 2 + J ||s||^3 / 6, shape (...)."""
    J = torch.as_tensor(J, dtype=s.dtype, device=s.device)
    quad = torch.einsum("...i,...ij,...j->...", s, hess, s)
    return (g * s).sum(-1) + quad / 2 + J * torch.linalg.vector_norm(s, dim=-1) ** 3 / 6


def certificate(g: Tensor, hess: Tensor, J: Tensor | float, s: Tensor) -> CubicSolution:
    """The optimality conditions of s for m (``CubicSolution``), computed independently of any solve."""
    J = torch.as_tensor(J, dtype=s.dtype, device=s.device).expand(s.shape[:-1])
    r = torch.linalg.vector_norm(s, dim=-1)
    shift = J * r / 2
    residual = torch.linalg.vector_norm(torch.einsum("...ij,...j->...i", hess, s) + shift[..., None] * s + g, dim=-1)
    lam = torch.linalg.eigvalsh(hess)
    op = lam.abs().amax(-1)
    scale = torch.linalg.vector_norm(g, dim=-1) + op * r + J * r ** 2
    return CubicSolution(s, r, cubic_model(g, hess, J, s), residual, lam[..., 0] + shift, scale, op + J * r)


def _ratio(mu: np.ndarray, gap: np.ndarray, gt: np.ndarray, l1: np.ndarray, J: np.ndarray) -> np.ndarray:
    """The secular function r / ||s|| - 1 at shifts mu (elementwise), with den = gap + mu and
    r = 2 (mu - lam_1) / J."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        comp = np.where(gt == 0, 0.0, gt / (gap + mu[..., None]))
        return 2 * (mu - l1) / J / np.sqrt((comp ** 2).sum(-1)) - 1


def _solve_flat(g: np.ndarray, hess: np.ndarray, J: np.ndarray) -> np.ndarray:
    """Global minimisers (n, d) for n instances (module docstring). The unknown is the shift
    mu = lam_1 + J r / 2 of the bottom eigenvalue, so that the denominators lam_i + J r / 2 =
    (lam_i - lam_1) + mu carry no cancellation next to the hard case."""
    lam, Q = np.linalg.eigh(hess)
    gt = np.einsum("nji,nj->ni", Q, g)
    gnorm = np.linalg.norm(g, axis=-1)
    scale = np.abs(lam).max(-1) + np.finfo(g.dtype).tiny
    positive_J = J > 0
    l1 = lam[:, 0]
    gap = lam - l1[:, None]
    mu_min = np.where(positive_J, np.maximum(l1, 0.0), l1)
    r_min = np.where(positive_J, 2 * (mu_min - l1) / np.where(positive_J, J, 1.0), 0.0)
    den_min = gap + mu_min[:, None]
    vanishing = den_min <= 1e-12 * scale[:, None]
    dropped = np.linalg.norm(np.where(vanishing, gt, 0.0), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kept = np.where(vanishing, 0.0, gt / np.where(vanishing, 1.0, den_min))
    kept_norm = np.linalg.norm(kept, axis=-1)
    # J = 0: the minimum-norm solution of H s = -g on the non-vanishing eigenvalues (the certificate judges it)
    hard = ~positive_J | ((dropped <= HARD_CASE_RTOL * gnorm) & (kept_norm <= r_min))
    step_t = -kept
    tau = np.sqrt(np.maximum(r_min ** 2 - kept_norm ** 2, 0.0))
    step_t[:, 0] += np.where(hard & positive_J, tau, 0.0)
    easy = np.flatnonzero(~hard)
    if easy.size:
        mu = _secular_root(gap[easy], gt[easy], l1[easy], J[easy], gnorm[easy], mu_min[easy])
        step_t[easy] = -gt[easy] / (gap[easy] + mu[:, None])
    return np.einsum("nij,nj->ni", Q, step_t)


def _secular_root(gap: np.ndarray, gt: np.ndarray, l1: np.ndarray, J: np.ndarray, gnorm: np.ndarray,
                  mu_min: np.ndarray) -> np.ndarray:
    """The root mu of the secular function on [mu_min, mu_hi] (J > 0, not the hard case)."""
    root = np.sqrt(l1 ** 2 + 2 * J * gnorm)
    # r (lam_1 + J r / 2) >= ||g|| at r_hi, so ||s(r_hi)|| <= ||g|| / (lam_1 + J r_hi / 2) <= r_hi
    with np.errstate(divide="ignore", invalid="ignore"):
        r_hi = np.where(l1 > 0, 2 * gnorm / (l1 + root), (root - l1) / J)
    mu_hi = np.maximum(l1 + J * r_hi / 2, mu_min) * (1 + 1e-12) + np.finfo(gt.dtype).tiny
    with np.errstate(divide="ignore", invalid="ignore"):
        # H > 0: ||s(mu)|| < ||H^-1 g|| = r_N for mu > lam_1, so mu = lam_1 + J r_N / 2 is right of the root
        newton_norm = np.linalg.norm(gt / np.where(l1[:, None] > 0, gap + l1[:, None], 1.0), axis=-1)
        mu_hi = np.where(l1 > 0, np.minimum(mu_hi, (l1 + J * newton_norm / 2) * (1 + 1e-12)), mu_hi)
    for _ in range(60):
        low = _ratio(mu_hi, gap, gt, l1, J) < 0
        if not low.any():
            break
        mu_hi = np.where(low, 2 * mu_hi, mu_hi)
    mu, done = _newton(gap, gt, l1, J, mu_min.copy(), mu_hi.copy())
    if not done.all():
        from scipy.optimize import elementwise  # imported here: `theorycheck list` imports no scipy

        rest = np.flatnonzero(~done)
        res = elementwise.find_root(lambda x, i: _ratio(x, gap[i.astype(np.int64)], gt[i.astype(np.int64)],
                                                        l1[i.astype(np.int64)], J[i.astype(np.int64)]),
                                    (mu_min[rest], mu_hi[rest]), args=(rest.astype(np.float64),))
        if not np.all(res.success):
            raise CubicCertificateError(f"the secular equation's root was not found (scipy status {res.status})")
        mu[rest] = res.x
    return mu


def _newton(gap: np.ndarray, gt: np.ndarray, l1: np.ndarray, J: np.ndarray, lo: np.ndarray, hi: np.ndarray,
            iterations: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Safeguarded Newton steps on F(mu) = 1/||s(mu)|| - J / (2 (mu - lam_1)), concave and increasing
    (1/||(Lambda + sigma I)^-1 g~|| is concave in sigma, More and Sorensen 1983), inside the bracket
    [lo, hi] (F(lo) < 0 <= F(hi)): from the right one step lands left of the root and the steps then
    increase to it; a step outside the bracket is replaced by its midpoint. Returns the roots and
    which converged (|r / ||s|| - 1| <= 1e-12, far inside the certificate, or a bracket a few ulps
    wide); the others go to scipy's bracketing solver."""
    mu = hi.copy()
    done = np.zeros(mu.shape, dtype=bool)
    eps = np.finfo(gt.dtype).eps
    for _ in range(iterations):
        den = gap + mu[:, None]
        r = 2 * (mu - l1) / J
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            comp = np.where(gt == 0, 0.0, gt / den)
            norm = np.sqrt((comp ** 2).sum(-1))
            ratio = r / norm - 1
            lo = np.where(ratio < 0, mu, lo)
            hi = np.where(ratio >= 0, mu, hi)
            done = (np.isfinite(ratio) & (np.abs(ratio) <= 1e-12)) | (hi - lo <= 4 * eps * np.abs(hi))
            if done.all():
                break
            value = 1 / norm - 1 / r
            slope = (np.where(gt == 0, 0.0, gt ** 2 / den ** 3)).sum(-1) / norm ** 3 + 2 / J / r ** 2
            step = mu - value / slope
        inside = np.isfinite(step) & (step > lo) & (step < hi)
        mu = np.where(done, mu, np.where(inside, step, (lo + hi) / 2))
    return mu, done


def solve_cubic(g: Tensor, hess: Tensor, J: Tensor | float, check: bool = True,
                residual_floor: Tensor | float = 0.0) -> CubicSolution:
    """The certified global minimiser of m for every instance: g (..., d), hess (..., d, d), J
    broadcastable to (...). Raises ``CubicCertificateError`` if a step fails the optimality
    conditions (``check=False`` returns it with its certificate instead). ``residual_floor`` (...)
    is the rounding level of g, below which the residual is not judged: a gradient computed at a
    point w is only known to about machine epsilon times ||H|| ||w||, so at a stationary point its
    direction is noise (``CubicNewton`` passes that level)."""
    batch = g.shape[:-1]
    d = g.shape[-1]
    Jt = torch.as_tensor(J, dtype=g.dtype, device=g.device).expand(batch)
    flat = _solve_flat(g.detach().reshape(-1, d).cpu().numpy(), hess.detach().reshape(-1, d, d).cpu().numpy(),
                       Jt.detach().reshape(-1).cpu().numpy())
    s = torch.as_tensor(flat, dtype=g.dtype, device=g.device).reshape(*batch, d)
    solution = dataclasses.replace(certificate(g, (hess + hess.transpose(-1, -2)) / 2, Jt, s),
                                   residual_floor=residual_floor)
    if check and not bool(solution.certified.all()):
        bad = int((~solution.certified).reshape(-1).nonzero()[0])
        raise CubicCertificateError(
            f"cubic step {bad} is not certified: residual {float(solution.residual.reshape(-1)[bad]):.3g} "
            f"(scale {float(solution.residual_scale.reshape(-1)[bad]):.3g}), lambda_min + J||s||/2 = "
            f"{float(solution.shifted_min.reshape(-1)[bad]):.3g}")
    return solution
