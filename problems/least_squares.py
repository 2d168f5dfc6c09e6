"""Least squares as a finite sum of N smooth convex terms (class fsum), plain or ridge-regularised.

L(w) = (1/N) sum_i l_i(w), l_i(w) = 1/2 (<a_i, w> - b_i)^2 + lam/2 ||w||^2 (lam = 0 for the
plain family ``least-squares``, lam > 0 for ``least-squares-l2``). The design is drawn through
its SVD, A = U diag(s) V^T (U: N x d with orthonormal columns, V orthogonal), so the spectrum
of the Hessian A^T A / N + lam I = V diag(s^2/N + lam) V^T is exact: H = max s^2/N + lam and
mu = min s^2/N + lam (strong convexity, class sc, declared by the ridge family only); the Hessian
is constant, so J = 0 (Definition 25.1, class so).
Spectra of A^T A / N are uniform, at the two ends or geometric between H and H/kappa, kappa
log-uniform up to 1e4 (both ends attained), with exact zeros in 20% of the geometric draws
(for the ridge family lam is log-uniform in [h/1e4, h], h = max s^2/N), the rows of U
have heterogeneous norms (leverage scores), so the per-term constants H_i = ||a_i||^2 + lam (the
exact largest eigenvalue of Hess l_i = a_i a_i^T + lam I) range from about H up to N H.
b = A w_center + e with a residual e that is zero for 20% of the instances (interpolation: every
term is minimised at w*). In the coordinates x = V^T w and c = U^T b, L separates:
x*_j = s_j c_j / (s_j^2 + lam N) where s_j^2 + lam N > 0, and x*_j = (V^T w1)_j on the kernel
(the minimiser nearest to w1, as gradient steps never move the kernel component), and
L* = ||b - U c||^2/(2N) + sum_j c_j^2/(2N) * lam N / (s_j^2 + lam N) (the ratio 1 on the kernel),
Delta = 1/2 sum_j (s_j^2/N + lam) (x1_j - x*_j)^2 (L is quadratic around w*), D = ||w1 - w*||:
all exact, and differentiable in the parameters (problems.parametric).
Used by the smooth convex results on finite sums (section 23's SVRG) and by every smooth convex
spec (T13.3, L13.2, ...).
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from problems import _random as rnd
from problems import _spectral as spectral
from problems._batch import FiniteSum, ProblemBatch
from problems._regression import gather_rows, sample_rows
from problems.parametric import Params, nearest_orthogonal

Tensor = torch.Tensor


class LeastSquares:
    """Family of least-squares finite sums; ``ridge`` adds lam/2 ||w||^2 to every term."""

    def __init__(self, ridge: bool = False, max_condition: float = 1e4) -> None:
        self.ridge = ridge
        self.max_condition = max_condition
        self.name = "least-squares-l2" if ridge else "least-squares"
        tags = {"cvx", "smooth", "so", "lb", "minimizer", "fsum"}
        if ridge:
            tags.add("sc")
        self.classes = frozenset(tags)

    def sample(self, batch_size: int, dim: int, generator: torch.Generator,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> ProblemBatch:
        return self.build(self.draw(batch_size, dim, generator, device, dtype))

    def draw(self, batch_size: int, dim: int, generator: torch.Generator,
             device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> Params:
        """Random parameters: the SVD ``U``, ``s``, ``V`` of the design, the centre ``w_center``
        and residual ``e`` of b = A w_center + e, the start ``w1`` and (ridge) ``ridge`` = lam."""
        B, d = batch_size, dim
        N = sample_rows(d, generator, extra_low=1, spread=3)
        top = rnd.log_uniform((B,), 0.01, 1000.0, generator, device, dtype)
        low = top / rnd.log_uniform((B,), 1.0, self.max_condition, generator, device, dtype)
        eig = spectral.spectrum(top, low, d, False, generator, device, dtype)
        s = torch.sqrt(N * eig)
        spread = rnd.uniform((B, 1, 1), 0.0, 1.5, generator, device, dtype)
        rows = torch.exp(spread * rnd.normal((B, N, 1), generator, device, dtype))
        U = torch.linalg.qr(rows * rnd.normal((B, N, d), generator, device, dtype)).Q
        V = rnd.orthogonal(B, d, generator, device, dtype)
        w_center = rnd.log_uniform((B, 1), 0.1, 10.0, generator, device, dtype) * rnd.normal((B, d), generator, device, dtype)
        noise = rnd.log_uniform((B, 1), 1e-3, 10.0, generator, device, dtype)
        noise = noise * (rnd.uniform((B, 1), 0.0, 1.0, generator, device, dtype) >= 0.2).to(dtype)
        e = noise * rnd.normal((B, N), generator, device, dtype)
        w1 = spectral.start(w_center, V, eig, generator, device, dtype)
        params = {"U": U, "s": s, "V": V, "w_center": w_center, "e": e, "w1": w1}
        if self.ridge:
            params["ridge"] = top * rnd.log_uniform((B,), 1.0 / self.max_condition, 1.0, generator, device, dtype)
        return params

    def project(self, params: Mapping[str, Tensor]) -> Params:
        """Singular values >= 0, U and V with orthonormal columns, and (ridge) lam at least
        max s^2/N / max_condition (and positive)."""
        with torch.no_grad():
            out = {k: v.detach().clone() for k, v in params.items()}
            out["s"] = out["s"].abs()
            out["U"] = nearest_orthogonal(out["U"])
            out["V"] = nearest_orthogonal(out["V"])
            if self.ridge:
                N = out["U"].shape[1]
                floor = (out["s"].amax(-1) ** 2 / N / self.max_condition).clamp_min(torch.finfo(out["s"].dtype).tiny)
                out["ridge"] = torch.maximum(out["ridge"].abs(), floor)
        return out

    def build(self, params: Mapping[str, Tensor]) -> ProblemBatch:
        """The batch of the parameters; differentiable in every parameter."""
        U, s, V, w_center, e, w1 = (params[k] for k in ("U", "s", "V", "w_center", "e", "w1"))
        B, N, d = U.shape
        lam = params["ridge"] if self.ridge else torch.zeros_like(s[:, 0])
        A = torch.einsum("bnk,bk,bdk->bnd", U, s, V)
        b = torch.einsum("bnd,bd->bn", A, w_center) + e
        eig = s ** 2 / N
        c = torch.einsum("bnk,bn->bk", U, b)
        den = s ** 2 + lam[:, None] * N
        positive = den > 0
        safe = torch.where(positive, den, torch.ones_like(den))
        x1 = torch.einsum("bd,bdk->bk", w1, V)
        x_star = torch.where(positive, s * c / safe, x1)
        w_star = torch.einsum("bk,bdk->bd", x_star, V)
        e_perp = e - torch.einsum("bnk,bk->bn", U, torch.einsum("bnk,bn->bk", U, e))
        kept = torch.where(positive, lam[:, None] * N / safe, torch.ones_like(den))
        Lstar = (e_perp.square().sum(-1) + (c.square() * kept).sum(-1)) / (2 * N)

        def loss(w: Tensor) -> Tensor:
            r = torch.einsum("bnd,brd->brn", A, w) - b[:, None, :]
            return 0.5 * r.square().mean(-1) + 0.5 * lam[:, None] * w.square().sum(-1)

        def grad(w: Tensor) -> Tensor:
            r = torch.einsum("bnd,brd->brn", A, w) - b[:, None, :]
            return torch.einsum("bnd,brn->brd", A, r) / N + lam[:, None, None] * w

        def fused(w: Tensor) -> tuple[Tensor, Tensor]:
            r = torch.einsum("bnd,brd->brn", A, w) - b[:, None, :]
            ridge = lam[:, None, None] * w
            return (0.5 * r.square().mean(-1) + 0.5 * lam[:, None] * w.square().sum(-1),
                    torch.einsum("bnd,brn->brd", A, r) / N + ridge)

        def term_loss(w: Tensor, idx: Tensor) -> Tensor:
            a, bi = gather_rows(A, b, idx)
            return 0.5 * ((a * w).sum(-1) - bi).square() + 0.5 * lam[:, None] * w.square().sum(-1)

        def term_grad(w: Tensor, idx: Tensor) -> Tensor:
            a, bi = gather_rows(A, b, idx)
            return ((a * w).sum(-1) - bi)[..., None] * a + lam[:, None, None] * w

        constants = {
            "H": eig.amax(-1) + lam,
            "mu": eig.amin(-1) + lam,
            "J": torch.zeros_like(lam),
            "D": torch.linalg.vector_norm(w1 - w_star, dim=-1),
            "Delta": 0.5 * ((eig + lam[:, None]) * (x1 - x_star).square()).sum(-1),
            "Lstar": Lstar,
        }
        terms = FiniteSum(N, term_loss, term_grad, {"H_i": A.square().sum(-1) + lam[:, None]})

        def describe(i: int) -> dict[str, Any]:
            return {"N": N, "A": A[i].tolist(), "b": b[i].tolist(), "lam": float(lam[i]),
                    "singular_values": s[i].tolist(), "w_star": w_star[i].tolist(), "w1": w1[i].tolist(),
                    "Lstar": float(Lstar[i])}

        return ProblemBatch(self.name, self.classes, loss, grad, constants, w1, w_star,
                            {"family": self.name, "batch_size": B, "dim": d}, describe, terms=terms,
                            fused=fused)
