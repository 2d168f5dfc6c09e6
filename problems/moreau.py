"""The Moreau envelope of Theorem 5.3, L_hat(x) = inf_y L(y) + H/2 ||x - y||^2, with a certified
inner solve.

If Hess L >= -rho I with rho < H (rho = 0 for a convex L; rho = H_L for an H_L-smooth L), the
inner objective phi_x(y) = L(y) + H/2 ||x - y||^2 is m-strongly convex with m = H - rho, so for
every y (however it was found):
  phi_x(y) - ||grad phi_x(y)||^2 / (2m) <= L_hat(x) <= phi_x(y)  and  ||prox(x) - y|| <= ||grad phi_x(y)|| / m,
where prox(x) is the unique minimiser, and grad L_hat(x) = H (x - prox(x)). y comes from damped
Newton steps with Hessians from ``ProblemBatch.hvp``, and where they stall (H far below the
curvature of L) from Newton steps with a line search on phi_x. Instances with rho >= H get no certificate:
their values are NaN. A batch with a piecewise-linear ``polyhedral`` structure (the non-smooth
l1-regression and hinge families) has no Hessians; its envelope comes from the concave dual of
the prox problem instead (problems/moreau_polyhedral.py), with the same kind of bracket.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from problems._batch import ProblemBatch, hessians
from problems.moreau_polyhedral import PolyhedralProx

Tensor = torch.Tensor

#: Step lengths 1, 1/4, ..., 4^(1 - LINE_SEARCH) tried by ``MoreauEnvelope.descent``.
LINE_SEARCH = 16
#: At most this many blocks of line-search Newton steps in ``MoreauEnvelope.descent``.
DESCENT_BLOCKS = 25


@dataclass(frozen=True)
class EnvelopeBracket:
    """L_hat at points x (B, R, d): ``lower <= L_hat(x) <= upper`` (B, R), and the approximate
    proximal point ``prox`` (B, R, d) within ``radius`` (B, R) of the exact one; for a polyhedral
    batch also the certified ``face`` (B, R, n) of the exact one (problems/moreau_polyhedral.py)."""

    lower: Tensor
    upper: Tensor
    prox: Tensor
    radius: Tensor
    face: Tensor | None = None

    def points(self, start: int, stop: int) -> EnvelopeBracket:
        """The bracket of the points start..stop - 1 (dimension 1)."""
        return EnvelopeBracket(*(None if t is None else t[:, start:stop]
                                 for t in (self.lower, self.upper, self.prox, self.radius, self.face)))


def weak_convexity(problem: ProblemBatch) -> Tensor:
    """rho (B,) with Hess L >= -rho I: 0 for a convex family, the certified constant ``gamma`` of a
    gamma-almost-convex one (section 22), its H for another smooth one, inf otherwise."""
    zeros = torch.zeros_like(problem.w1[:, 0])
    if "cvx" in problem.classes:
        return zeros
    if "gamma" in problem.constants:
        return problem.constants["gamma"].clone()
    if "smooth" in problem.classes:
        return problem.constants["H"].clone()
    return zeros + torch.inf


class MoreauEnvelope:
    """The envelope with parameter ``H_env`` (B,) of a batch whose Hessians are >= -rho I, or of
    a convex batch with a ``polyhedral`` structure (solved by its dual)."""

    def __init__(self, problem: ProblemBatch, H_env: Tensor, rho: Tensor | None = None,
                 iterations: int = 8, rounds: int = 5) -> None:
        self.problem = problem
        self.H_env = H_env
        self.modulus = H_env - (weak_convexity(problem) if rho is None else rho)
        self.iterations = iterations
        self.rounds = rounds

    def inner(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """phi_x(y) (B, R) and grad phi_x(y) (B, R, d)."""
        H = self.H_env[:, None, None]
        value = self.problem.loss(y) + H[..., 0] / 2 * (x - y).square().sum(-1)
        return value, self.problem.grad(y) + H * (y - x)

    def __call__(self, x: Tensor) -> EnvelopeBracket:
        if self.problem.polyhedral is not None:
            return EnvelopeBracket(*PolyhedralProx(self.problem.polyhedral, self.H_env)(x))
        y = self.solve(x)
        value = self.inner(x, y)[0]
        radius = self.radius(x, y)
        radius = torch.where(self.is_open(x, radius), torch.nan, radius)
        upper = torch.where(torch.isnan(radius), radius, value)
        return EnvelopeBracket(upper - self.modulus[:, None] * radius ** 2 / 2, upper, y, radius)

    @staticmethod
    def is_open(x: Tensor, radius: Tensor) -> Tensor:
        """Points (B, R) whose certified radius is above the target 1e-9 (1 + ||x||): the solve
        has not pinned the proximal point down, so ``__call__`` gives them no certificate (NaN,
        as for rho >= H_env) rather than a wide bracket whose upper side could pass for a
        violation."""
        return radius > 1e-9 * (1 + torch.linalg.vector_norm(x, dim=-1))

    def gradient_difference(self, x0: Tensor, x1: Tensor, at0: EnvelopeBracket, at1: EnvelopeBracket) -> Tensor:
        """A certified upper bound (B, R) on ||grad L_hat(x1) - grad L_hat(x0)|| from the brackets
        at x0 and x1, with grad L_hat(x) = H_env (x - prox(x)): H_env (||x1 - x0 - (y1 - y0)|| +
        r0 + r1), or, for a polyhedral batch where both proximal points lie on one certified
        face, the exact difference there (free of the radii's absolute rounding)."""
        H = self.H_env[:, None]
        moved = torch.linalg.vector_norm(x1 - x0 - (at1.prox - at0.prox), dim=-1)
        bound = H * (moved + at0.radius + at1.radius)
        if at0.face is None or at1.face is None:
            return bound
        exact = PolyhedralProx(self.problem.polyhedral, self.H_env).face_difference(x1 - x0, at0.face, at1.face)
        return torch.where(torch.isnan(exact), bound, exact)

    def solve(self, x: Tensor) -> Tensor:
        """Approximate proximal points: rounds of ``newton`` steps, each round on the points
        whose certified radius is still above 1e-9 (1 + ||x||) (gathered per instance, so the
        slow few do not keep the whole batch busy), then ``descent`` for those still open."""
        y = self.newton(x, x.clone())
        for _ in range(self.rounds - 1):
            y = self.on_open(x, y, self.newton)
        return self.on_open(x, y, self.descent)

    def on_open(self, x: Tensor, y: Tensor, step: Callable[[Tensor, Tensor], Tensor]) -> Tensor:
        """y with ``step(x, y)`` applied to the points whose radius is above 1e-9 (1 + ||x||)."""
        order = self.open_points(x, y)
        if order is None:
            return y
        return y.scatter(1, order, step(x.gather(1, order), y.gather(1, order)))

    def open_points(self, x: Tensor, y: Tensor) -> Tensor | None:
        """Indices (B, W, d) into the points that gather, per instance, those whose radius is
        above 1e-9 (1 + ||x||) first (W the most of any instance); None when there are none."""
        open_ = self.is_open(x, self.radius(x, y))
        width = int(open_.sum(1).max())
        if width == 0:
            return None
        return torch.argsort((~open_).to(torch.int8), dim=1, stable=True)[:, :width, None].expand(-1, -1, x.shape[-1])

    def descent(self, x: Tensor, y: Tensor) -> Tensor:
        """The fallback for the points where the gradient-merit steps of ``newton`` stall (a
        curvature that jumps or fades, as Huber's or log-cosh's, with H_env << H, where the full
        step overshoots by orders of magnitude): ``armijo`` steps from x, and after every
        ``iterations`` of them a ``newton`` finish from the current point (it takes over where
        phi_x's rounding stops the line search), kept where its radius beats the best so far
        (y to begin with); each block works on the points still open, for at most
        DESCENT_BLOCKS blocks."""
        z = x.clone()
        for _ in range(DESCENT_BLOCKS):
            order = self.open_points(x, y)
            if order is None:
                break
            xo, yo, zo = x.gather(1, order), y.gather(1, order), z.gather(1, order)
            for _ in range(self.iterations):
                zo = self.armijo(xo, zo)
            finish = self.newton(xo, zo)
            yo = torch.where((self.radius(xo, finish) < self.radius(xo, yo))[..., None], finish, yo)
            y, z = y.scatter(1, order, yo), z.scatter(1, order, zo)
        return y

    def armijo(self, x: Tensor, y: Tensor) -> Tensor:
        """One Newton step with a backtracking (Armijo) line search on the value phi_x, which
        decreases along the Newton direction since phi_x is strongly convex: the longest of the
        steps 1, 1/4, ..., 4^(1 - LINE_SEARCH) with sufficient decrease (none: y stays)."""
        B, R, d = x.shape
        eye = torch.eye(d, dtype=x.dtype, device=x.device)
        active = (self.modulus > 0)[:, None, None, None]
        steps = 4.0 ** -torch.arange(LINE_SEARCH, dtype=x.dtype, device=x.device)
        value, g = self.inner(x, y)
        system = torch.where(active, hessians(self.problem, y) + self.H_env[:, None, None, None] * eye, eye)
        direction = torch.linalg.solve(system, g)
        trial = y[:, :, None, :] - steps[:, None] * direction[:, :, None, :]
        trial_value = self.problem.loss(trial.reshape(B, -1, d)).reshape(B, R, -1)
        trial_value = trial_value + self.H_env[:, None, None] / 2 * (x[:, :, None, :] - trial).square().sum(-1)
        ok = trial_value <= value[..., None] - 1e-4 * steps * (g * direction).sum(-1, keepdim=True)
        first = torch.argmax(ok.to(torch.int8), dim=-1)
        chosen = trial.gather(2, first[..., None, None].expand(B, R, 1, d))[:, :, 0]
        return torch.where(ok.any(-1, keepdim=True), chosen, y)

    def radius(self, x: Tensor, y: Tensor) -> Tensor:
        """||grad phi_x(y)|| / m (B, R): the certified distance from y to prox(x); NaN if m <= 0."""
        m = self.modulus[:, None]
        return torch.where(m > 0, torch.linalg.vector_norm(self.inner(x, y)[1], dim=-1) / m, torch.nan)

    def newton(self, x: Tensor, y: Tensor) -> Tensor:
        """Levenberg-Marquardt-damped Newton steps on phi_x from y with ||grad phi_x|| as the
        merit function (it is what the certificate needs, and it is not hidden by the rounding of
        phi_x near the minimiser): a step is kept when it shrinks the gradient, and the damping
        is divided by 4 after a kept step and raised to max(4 damping, H_env) after a rejected
        one. Along -(Hess phi + damping I)^(-1) grad phi, ||grad phi||^2 decreases at rate
        2 g^T Hess phi (Hess phi + damping I)^(-1) g > 0, so enough damping always finds a step."""
        B, R, d = x.shape
        eye = torch.eye(d, dtype=x.dtype, device=x.device)
        H = self.H_env[:, None].expand(B, R)
        active = (self.modulus > 0)[:, None].expand(B, R)
        g = self.inner(x, y)[1]
        gnorm = torch.linalg.vector_norm(g, dim=-1)
        damping = torch.zeros_like(gnorm)
        for _ in range(self.iterations):
            system = hessians(self.problem, y) + (H + damping)[..., None, None] * eye
            system = torch.where(active[..., None, None], system, eye)
            candidate = y - torch.where(active[..., None], torch.linalg.solve(system, g), torch.zeros_like(g))
            c_g = self.problem.grad(candidate) + H[..., None] * (candidate - x)
            c_norm = torch.linalg.vector_norm(c_g, dim=-1)
            keep = active & (c_norm < gnorm)
            y = torch.where(keep[..., None], candidate, y)
            g, gnorm = torch.where(keep[..., None], c_g, g), torch.where(keep, c_norm, gnorm)
            damping = torch.where(keep, damping / 4, torch.maximum(4 * damping, H))
        return y
