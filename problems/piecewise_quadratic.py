"""Rotated separable C^1 piecewise quadratics: smooth, non-convex, bounded below, gamma-almost-convex.

L(w) = sum_j phi_j(u_j), u = Q^T (w - m), where each phi_j is a C^1 function of one variable
that is quadratic with curvature a_{j,k} on the k-th cell of the sorted breakpoints
t_{j,0} <= ... <= t_{j,K-1} (cell 0 = (-inf, t_0], cell K = [t_{K-1}, inf)), with slope p_j + a_{j,0} s
left of t_0; the outer curvatures a_{j,0}, a_{j,K} are positive, so phi_j is coercive.
In the rotated coordinates the Hessian is diag(a_{j, cell of u_j}) wherever it exists, hence:
- H = max_{j,k} |a_{j,k}|, exact (attained on any cell of positive width) and the Lipschitz
  constant of grad L (phi_j' is continuous and piecewise linear with slopes a_{j,k});
- gamma = max(0, -min_{j,k} a_{j,k}), exact: Hess L >= -gamma I (section 22's gamma-almost-convex
  class; convex exactly when gamma = 0, which the family does not declare);
- inf L = sum_j min phi_j, exact: on a cell of positive curvature the minimum of the cell's
  quadratic is its stationary point clamped to the cell, on any other cell an endpoint, so
  min phi_j is the least of K + 1 closed-form values; w* = m + Q u* is a global minimiser;
- Delta = L(w1) - inf L, D = ||w1 - w*||.

The family contains the exact worst case of gradient descent with step 1/H on H-smooth functions
for min_t ||grad L(w_t)||^2 given L(w1) - inf L = Delta, 4 H Delta / (3N + 2) after N steps (the value
PEPit computes, benchmarks/adversary_bench.py row b): in one dimension, curvature +H then -H on
the two halves of every step, so the gradient is the same at every iterate, then a convex tail of
curvature H that ends at the minimum one step later.
``draw`` makes a fraction of the instances such alternating staircases of a random length, and
its ``shift`` translates the centre m and w1 (``_random.shift``, norm up to 1e3; added by
``build``), which changes no constant.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from problems import _random as rnd
from problems._batch import ProblemBatch
from problems.parametric import Params, nearest_orthogonal

Tensor = torch.Tensor

#: Breakpoints per coordinate drawn by ``sample`` (enough for alternating staircases of 19 steps).
BREAKPOINTS = 40

#: Smallest outer (tail) curvature kept by ``project``, relative to the instance's H.
FLOOR = 1e-6


def sorted_cells(t: Tensor, a: Tensor) -> tuple[Tensor, Tensor]:
    """Breakpoints (..., K) sorted and the curvatures (..., K+1) of the cells between them.

    Breakpoint k carries the curvature jump a_{k+1} - a_k; sorting moves the jumps with their
    breakpoints, so the function (p s + a_0 s^2/2 + sum_k jump_k (s - t_k)_+^2 / 2) is unchanged."""
    order = torch.argsort(t, dim=-1)
    jumps = torch.gather(a.diff(dim=-1), -1, order)
    return torch.gather(t, -1, order), torch.cat([a[..., :1], a[..., :1] + jumps.cumsum(-1)], -1)


def knots(t: Tensor, a: Tensor, p: Tensor) -> tuple[Tensor, Tensor]:
    """Values V (..., K) and slopes S (..., K) of phi at the sorted breakpoints t, curvatures a."""
    t0 = t[..., :1]
    h = t.diff(dim=-1)
    S0 = p[..., None] + a[..., :1] * t0
    S = torch.cat([S0, S0 + (a[..., 1:-1] * h).cumsum(-1)], -1)
    V0 = p[..., None] * t0 + a[..., :1] * t0 ** 2 / 2
    V = torch.cat([V0, V0 + (S[..., :-1] * h + a[..., 1:-1] * h ** 2 / 2).cumsum(-1)], -1)
    return V, S


def cell_pieces(t: Tensor, a: Tensor, p: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """For every cell k = 0..K: its anchor x_k (t_0 for k = 0, else t_{k-1}), phi(x_k), phi'(x_k)
    and curvature a_k, each (..., K+1): phi(s) = V + S (s - x) + a (s - x)^2 / 2 on cell k."""
    V, S = knots(t, a, p)
    anchor = torch.cat([t[..., :1], t], -1)
    return anchor, torch.cat([V[..., :1], V], -1), torch.cat([S[..., :1], S], -1), a


def minimum(t: Tensor, a: Tensor, p: Tensor) -> tuple[Tensor, Tensor]:
    """min phi and a minimiser (...,): the least over the cells of the cell quadratic's stationary
    point clamped to the cell (positive curvature) or the cell's anchor (otherwise)."""
    x, V, S, c = cell_pieces(t, a, p)
    inf = torch.full_like(t[..., :1], torch.inf)
    lo, hi = torch.cat([-inf, t], -1), torch.cat([t, inf], -1)
    convex = c > 0
    step = -S / torch.where(convex, c, torch.ones_like(c))
    s = torch.where(convex, torch.minimum(torch.maximum(x + step, lo), hi), x)
    value = V + S * (s - x) + c * (s - x) ** 2 / 2
    best = value.argmin(-1, keepdim=True)
    return torch.gather(value, -1, best)[..., 0], torch.gather(s, -1, best)[..., 0]


def evaluate(u: Tensor, t: Tensor, a: Tensor, p: Tensor) -> tuple[Tensor, Tensor]:
    """phi_j(u_j) and phi_j'(u_j) for u (B, R, d) and per-coordinate pieces t (B, d, K), a, p."""
    x, V, S, c = cell_pieces(t, a, p)
    cell = torch.searchsorted(t.contiguous(), u.transpose(1, 2).contiguous())  # (B, d, R) in 0..K
    x, V, S, c = (torch.gather(z, -1, cell).transpose(1, 2) for z in (x, V, S, c))
    r = u - x
    return V + S * r + c * r ** 2 / 2, S + c * r


def interpolate(x: Tensor, g: Tensor, f: Tensor, H: float) -> dict[str, Tensor]:
    """One coordinate's breakpoints ``t`` (K,), curvatures ``a`` (K+1,) and slope ``p`` of a C^1
    piecewise quadratic phi with |phi''| <= H, phi'(x_i) = g_i and phi(x_i) - phi(x_0) = f_i - f_0,
    for 1-D data (x, g, f) sorted by x that some H-smooth function interpolates.

    On each gap [x_i, x_j] (width h) phi' runs between the two H-Lipschitz extremes from g_i to
    g_j: the tent (slope +H, then -H; breakpoint at (g_j - g_i + H h) / (2H)) with the largest
    integral and the valley (-H, then +H) with the least. Every H-smooth interpolant's integral
    f_j - f_i lies between theirs, so a convex combination of the two, a 3-cell piecewise linear
    phi' with slopes in [-H, H], matches it (the weight is clamped to [0, 1] when the data are
    not interpolable: still a member, with the values only approximated). The tails have
    curvature H. This is how a worst case computed as data (PEPit's,
    benchmarks/adversary_bench.py) becomes a member of the family.
    """
    if x.dim() != 1 or x.shape != g.shape or x.shape != f.shape or x.numel() < 2:
        raise ValueError("interpolate: x, g and f must be 1-D of the same length >= 2")
    if bool((x.diff() <= 0).any()):
        raise ValueError("interpolate: x must be strictly increasing")
    h = x.diff()
    g0, g1 = g[:-1], g[1:]
    s_tent = ((g1 - g0 + H * h) / (2 * H)).clamp(torch.zeros_like(h), h)
    s_valley = ((g0 - g1 + H * h) / (2 * H)).clamp(torch.zeros_like(h), h)

    def integral(s: Tensor, up: float) -> Tensor:
        return g0 * h + up * H * (s ** 2 / 2 + s * (h - s)) - up * H * (h - s) ** 2 / 2

    tent, valley = integral(s_tent, 1.0), integral(s_valley, -1.0)
    lam = ((f.diff() - valley) / torch.where(tent > valley, tent - valley, torch.ones_like(h))).clamp(0.0, 1.0)
    first, second = torch.minimum(s_tent, s_valley), torch.maximum(s_tent, s_valley)
    cuts = torch.stack([x[:-1], x[:-1] + first, x[:-1] + second], -1)  # (gaps, 3)
    mids = torch.stack([first / 2, (first + second) / 2, (second + h) / 2], -1)
    up = torch.full_like(mids, H)
    slope_tent = torch.where(mids <= s_tent[:, None], up, -up)
    slope_valley = torch.where(mids <= s_valley[:, None], -up, up)
    curv = lam[:, None] * slope_tent + (1 - lam[:, None]) * slope_valley
    t = torch.cat([cuts.reshape(-1), x[-1:]])
    a = torch.cat([torch.full_like(x[:1], H), curv.reshape(-1), torch.full_like(x[:1], H)])
    return {"t": t, "a": a, "p": g[:1] - H * x[:1]}


class PiecewiseQuadratic:
    """Family of rotated separable C^1 piecewise quadratics with ``breakpoints`` per coordinate;
    ``staircases`` is the fraction of instances ``draw`` makes alternating staircases."""

    name = "piecewise-quadratic"
    classes = frozenset({"smooth", "lb"})

    def __init__(self, breakpoints: int = BREAKPOINTS, staircases: float = 0.5) -> None:
        if breakpoints < 3:
            raise ValueError(f"PiecewiseQuadratic: breakpoints must be >= 3, got {breakpoints}")
        if not 0.0 <= staircases <= 1.0:
            raise ValueError(f"PiecewiseQuadratic: staircases must be in [0, 1], got {staircases}")
        self.breakpoints = breakpoints
        self.staircases = staircases

    def sample(self, batch_size: int, dim: int, generator: torch.Generator,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> ProblemBatch:
        return self.build(self.draw(batch_size, dim, generator, device, dtype))

    def draw(self, batch_size: int, dim: int, generator: torch.Generator,
             device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> Params:
        """Random parameters: breakpoints ``t`` (B, d, K), cell curvatures ``a`` (B, d, K+1),
        slopes ``p`` (B, d), rotation ``Q``, centre ``m`` and start ``w1``.

        H is log-uniform in [0.1, 10]. A fraction ``staircases`` of the instances are
        alternating staircases: equal widths h, curvatures H, -H, H, ... on 2M cells left of
        t_{K-1} (M uniform in 1..(K-1)//2) and H elsewhere, slope 2hH at u1 = t_{K-1}, so gradient
        descent with step 1/H keeps the same gradient for M steps. The others have random widths, a lowest
        curvature -gamma with gamma = 0, H or uniform in [0, H] (a third each; gamma < H gives
        the gamma-almost-convex members of section 22), curvatures H, -gamma or uniform in
        [-gamma, H] (a third each), tails in [0.1 H, H], u1 uniform around the breakpoints."""
        B, d, K = batch_size, dim, self.breakpoints
        args = (generator, device, dtype)
        H = rnd.log_uniform((B, 1, 1), 0.1, 10.0, *args)
        scale = rnd.log_uniform((B, 1, 1), 0.1, 10.0, *args)
        widths = scale * rnd.log_uniform((B, d, K - 1), 0.05, 1.0, *args)
        t = torch.cat([torch.zeros_like(widths[..., :1]), widths.cumsum(-1)], -1)
        t = t - rnd.uniform((B, d, 1), 0.0, 1.0, *args) * t[..., -1:]
        level = torch.randint(0, 3, (B, 1, 1), generator=generator, device=device)
        gamma = H * torch.where(level == 0, 0.0, torch.where(level == 1, 1.0, rnd.uniform((B, 1, 1), 0.0, 1.0, *args)))
        kind = torch.randint(0, 3, (B, d, K + 1), generator=generator, device=device)
        free = rnd.uniform((B, d, K + 1), 0.0, 1.0, *args)
        a = torch.where(kind == 0, H, torch.where(kind == 1, -gamma, -gamma + (H + gamma) * free))
        tails = H * rnd.uniform((B, d, 2), 0.1, 1.0, *args)
        a = torch.cat([tails[..., :1], a[..., 1:-1], tails[..., 1:]], -1)
        p = H[..., 0] * scale[..., 0] * rnd.uniform((B, d), -1.0, 1.0, *args)
        span = t[..., -1] - t[..., 0]
        u1 = t[..., 0] + span * rnd.uniform((B, d), -0.25, 1.25, *args)

        h = scale / 4
        t_alt = h * torch.arange(K, device=device, dtype=dtype).expand(B, d, K)
        M = torch.randint(1, (K - 1) // 2 + 1, (B, 1, 1), generator=generator, device=device)
        below = (K - 1) - torch.arange(K + 1, device=device)  # cell k lies `below` cells left of t_{K-1}
        sign = torch.where((below >= 0) & (below < 2 * M) & (below % 2 == 1), -1.0, 1.0).to(dtype)
        a_alt = H * sign.expand(B, d, K + 1)
        p_alt = 2 * h[..., 0] * H[..., 0] - knots(t_alt, a_alt, torch.zeros_like(p))[1][..., -1]
        alternating = torch.rand((B, 1, 1), generator=generator, device=device) < self.staircases
        t = torch.where(alternating, t_alt, t)
        a = torch.where(alternating, a_alt, a)
        p = torch.where(alternating[..., 0], p_alt, p)
        u1 = torch.where(alternating[..., 0], t_alt[..., -1], u1)

        Q = rnd.orthogonal(B, d, *args)
        m = rnd.normal((B, d), *args)
        w1 = m + torch.einsum("bde,be->bd", Q, u1)
        return {"t": t, "a": a, "p": p, "Q": Q, "m": m, "w1": w1, "shift": rnd.shift(B, d, rnd.MAX_SHIFT, *args)}

    def project(self, params: Mapping[str, Tensor]) -> Params:
        """Breakpoints sorted (curvature jumps moving with them), outer curvatures at least
        FLOOR times the instance's H, Q the nearest orthogonal matrix."""
        with torch.no_grad():
            out = {k: v.detach().clone() for k, v in params.items()}
            t, a = sorted_cells(out["t"], out["a"])
            H = a.abs().amax(dim=(-1, -2), keepdim=True).clamp_min(torch.finfo(a.dtype).tiny)
            a[..., 0] = torch.maximum(a[..., 0], FLOOR * H[..., 0])
            a[..., -1] = torch.maximum(a[..., -1], FLOOR * H[..., 0])
            out["t"], out["a"] = t, a
            out["Q"] = nearest_orthogonal(out["Q"])
        return out

    def build(self, params: Mapping[str, Tensor]) -> ProblemBatch:
        """The batch of the parameters; differentiable in every parameter. Outer curvatures must be
        positive (``project`` ensures it)."""
        t, a = sorted_cells(params["t"], params["a"])
        shift = rnd.translation(params)
        p, Q, m, w1 = params["p"], params["Q"], params["m"] + shift, params["w1"] + shift
        if not bool(((a[..., 0] > 0) & (a[..., -1] > 0)).all()):
            raise ValueError("PiecewiseQuadratic: outer curvatures must be positive (L is not bounded below)")
        B, d = w1.shape

        def coords(w: Tensor) -> Tensor:
            return torch.einsum("brd,bde->bre", w - m[:, None, :], Q)

        def loss(w: Tensor) -> Tensor:
            return evaluate(coords(w), t, a, p)[0].sum(-1)

        def grad(w: Tensor) -> Tensor:
            return torch.einsum("bre,bde->brd", evaluate(coords(w), t, a, p)[1], Q)

        low, u_star = minimum(t, a, p)
        Lstar = low.sum(-1)
        w_star = m + torch.einsum("bde,be->bd", Q, u_star)
        constants = {
            "H": a.abs().amax(dim=(-1, -2)),
            "gamma": (-a.amin(dim=(-1, -2))).clamp_min(0.0),
            "D": torch.linalg.vector_norm(w1 - w_star, dim=-1),
            "Delta": loss(w1[:, None, :])[:, 0] - Lstar,
            "Lstar": Lstar,
        }

        def describe(b: int) -> dict[str, Any]:
            return {"t": t[b].tolist(), "a": a[b].tolist(), "p": p[b].tolist(), "m": m[b].tolist(),
                    "w1": w1[b].tolist()}

        return ProblemBatch(self.name, self.classes, loss, grad, constants, w1, w_star,
                            {"family": self.name, "batch_size": B, "dim": d}, describe)
