"""The envelope of the piecewise-linear families (problems/moreau_polyhedral.py, Theorem 5.3)
against independent exact solutions: the Huber function (the envelope of |a y - b| in one
dimension) and a brute-force KKT enumeration in numpy over every face of the prox problem
(each row below, on or above its kink). The brackets must contain the exact value and be tight,
the radius must cover the exact proximal point, and the same-face gradient difference must be
the exact one; deliberately broken duals must be caught by the same checks."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from problems import FAMILIES, ProblemBatch
from problems._batch import Polyhedral
from problems.moreau import MoreauEnvelope
from problems.moreau_polyhedral import PolyhedralProx


def piecewise(A: torch.Tensor, b: torch.Tensor, alpha: float) -> ProblemBatch:
    """L(w) = (1/n) sum_i max(alpha r_i, r_i), r = A w - b, with its polyhedral structure."""
    def loss(w: torch.Tensor) -> torch.Tensor:
        r = torch.einsum("bnd,brd->brn", A, w) - b[:, None, :]
        return torch.maximum(r, alpha * r).mean(-1)

    def grad(w: torch.Tensor) -> torch.Tensor:
        r = torch.einsum("bnd,brd->brn", A, w) - b[:, None, :]
        return torch.einsum("bnd,brn->brd", A, torch.where(r > 0, 1.0, alpha)) / A.shape[1]

    return ProblemBatch("piecewise", frozenset({"cvx", "lip"}), loss, grad, {}, torch.zeros_like(A[:, 0]), None, {},
                        polyhedral=Polyhedral(A, b, alpha))


def exact_prox(A: np.ndarray, b: np.ndarray, alpha: float, H: float, x: np.ndarray) -> tuple[np.ndarray, float]:
    """(prox(x), L_hat(x)) by enumerating the faces: for rows below / on / above their kink
    (u_i = alpha / free / 1) solve H (y - x) + A^T u/n = 0, A_Z y = b_Z, and keep the solution
    whose u_Z lies in [alpha, 1] and whose other residuals have the assumed sides."""
    n, d = A.shape
    best, best_value = None, np.inf
    for pattern in itertools.product((0, 1, 2), repeat=n):
        side = np.array(pattern)
        Z = np.flatnonzero(side == 1)
        if len(Z) > d:
            continue
        u = np.where(side == 2, 1.0, alpha)
        N = side != 1
        system = np.block([[H * np.eye(d), A[Z].T / n], [A[Z], np.zeros((len(Z), len(Z)))]])
        rhs = np.concatenate([H * x - A[N].T @ u[N] / n, b[Z]])
        try:
            sol = np.linalg.solve(system, rhs)
        except np.linalg.LinAlgError:
            continue
        y, uZ = sol[:d], sol[d:]
        r = A @ y - b
        tol = 1e-10 * (1 + np.abs(A) @ np.abs(y) + np.abs(b))
        if np.any(uZ < alpha - 1e-10) or np.any(uZ > 1 + 1e-10):
            continue
        if np.any(r[side == 2] < -tol[side == 2]) or np.any(r[side == 0] > tol[side == 0]):
            continue
        value = float(np.maximum(r, alpha * r).mean() + H / 2 * np.sum((x - y) ** 2))
        if value < best_value:
            best, best_value = y, value
    assert best is not None, "no face satisfies the optimality conditions"
    return best, best_value


def batch_and_points(family: str, d: int, seed: int) -> tuple[ProblemBatch, torch.Tensor, torch.Tensor]:
    """A small batch of ``family``, envelope parameters 10^s G (s in [-2, 2]) and points at
    distances 1e-2..1e2 from w*, as the T5.3 rounds draw them."""
    g = torch.Generator().manual_seed(seed)
    problem = FAMILIES[family].sample(4, d, g)
    H = problem.constants["G"] * 10 ** torch.linspace(-2, 2, 4, dtype=torch.float64)
    u = torch.randn(4, 6, d, generator=g, dtype=torch.float64)
    scale = 10 ** (4 * torch.rand(4, 6, 1, generator=g, dtype=torch.float64) - 2)
    return problem, H, problem.w_star[:, None, :] + scale * u / u.norm(dim=-1, keepdim=True)


def mismatches(problem: ProblemBatch, H: torch.Tensor, x: torch.Tensor,
               solver: type[PolyhedralProx] = PolyhedralProx) -> list[str]:
    """Every way the solver's brackets disagree with the enumeration: an exact value outside
    [lower, upper], a bracket wider than 1e-9 (1 + |L_hat|), an exact prox farther than the
    radius, or a radius above 1e-9 (1 + ||x||)."""
    s = problem.polyhedral
    lower, upper, prox, radius, _ = solver(s, H)(x)
    found = []
    for i, r in itertools.product(range(x.shape[0]), range(x.shape[1])):
        y, value = exact_prox(s.A[i].numpy(), s.b[i].numpy(), s.alpha, float(H[i]), x[i, r].numpy())
        scale = 1 + abs(value)
        lo, hi, rad = float(lower[i, r]), float(upper[i, r]), float(radius[i, r])
        if not lo - 1e-12 * scale <= value <= hi + 1e-12 * scale:
            found.append(f"{i},{r}: L_hat {value} outside [{lo}, {hi}]")
        if hi - lo > 1e-9 * scale:
            found.append(f"{i},{r}: bracket width {hi - lo}")
        distance = float(np.linalg.norm(prox[i, r].numpy() - y))
        if distance > rad + 1e-12 * (1 + np.linalg.norm(y)):
            found.append(f"{i},{r}: prox {distance} away, radius {rad}")
        if rad > 1e-9 * (1 + float(x[i, r].norm())):
            found.append(f"{i},{r}: radius {rad}")
    return found


def test_envelope_of_one_absolute_value_is_huber() -> None:
    """L(y) = |a y - b| = |a| |y - b/a|: L_hat(x) = huber(x - b/a) with slope |a|, prox explicit."""
    a = torch.tensor([0.3, -2.0, 7.0], dtype=torch.float64)
    b = torch.tensor([1.0, 0.5, -3.0], dtype=torch.float64)
    H = torch.tensor([0.05, 1.0, 40.0], dtype=torch.float64)
    problem = piecewise(a[:, None, None], b[:, None], -1.0)
    x = torch.linspace(-30, 30, 241, dtype=torch.float64).expand(3, 241)[..., None]
    bracket = MoreauEnvelope(problem, H)(x)
    t = x[..., 0] - (b / a)[:, None]
    G, h = a.abs()[:, None], H[:, None]
    exact = torch.where(t.abs() <= G / h, h * t ** 2 / 2, G * t.abs() - G ** 2 / (2 * h))
    prox = (b / a)[:, None] + torch.where(t.abs() <= G / h, torch.zeros_like(t), t - torch.sign(t) * G / h)
    scale = 1 + exact.abs()
    assert torch.all(bracket.lower <= exact + 1e-13 * scale) and torch.all(exact <= bracket.upper + 1e-13 * scale)
    assert torch.all(bracket.upper - bracket.lower <= 1e-12 * scale)
    assert torch.all((bracket.prox[..., 0] - prox).abs() <= bracket.radius + 1e-13 * (1 + prox.abs()))
    assert torch.all(bracket.radius <= 1e-12 * (1 + x[..., 0].abs()))


@pytest.mark.parametrize("family, d, seed", [("l1-regression", 1, 0), ("l1-regression", 2, 1), ("l1-regression", 3, 2),
                                             ("hinge", 1, 3), ("hinge", 2, 4), ("hinge", 3, 5)])
def test_brackets_against_face_enumeration(family: str, d: int, seed: int) -> None:
    problem, H, x = batch_and_points(family, d, seed)
    assert mismatches(problem, H, x) == []


class _DualWithoutOneOverN(PolyhedralProx):
    def dual(self, x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return super().dual(x, u) + (u * self.residual(x)).sum(-1) * (1 - 1 / self.n)


class _PrimalWithWrongSign(PolyhedralProx):
    def primal(self, x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return 2 * x - super().primal(x, u)


class _SidesIgnored(PolyhedralProx):
    def off_face_signs(self, u: torch.Tensor, r: torch.Tensor, held: torch.Tensor, reach: torch.Tensor) -> torch.Tensor:
        return torch.ones_like(r[..., 0], dtype=torch.bool)


@pytest.mark.parametrize("broken", [_DualWithoutOneOverN, _PrimalWithWrongSign])
def test_broken_duals_are_caught(broken: type[PolyhedralProx]) -> None:
    """The checks above have teeth: a dual without its 1/n (lower bounds above L_hat) and the
    primal point y(u) with the wrong sign each produce mismatches."""
    problem, H, x = batch_and_points("l1-regression", 2, 1)
    assert mismatches(problem, H, x, broken) != []


def wrong_face_distances(solver: PolyhedralProx, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(||y - prox(x)||, certified radius of y) (B, R) for y the solution on a wrong face: the
    right face with the first row off Z moved to the other side (u_i = 1 <-> alpha) and u_Z
    solved again, so that the face equations hold and only the sides are wrong."""
    B, R, n = x.shape[0], x.shape[1], solver.n
    u, held = solver.homotopy(x)
    first = torch.argmax((~held).to(torch.int8), dim=-1, keepdim=True)
    flipped = torch.where(u.gather(-1, first) == 1, torch.full_like(u[..., :1], solver.alpha), torch.ones_like(u[..., :1]))
    u = u.scatter(-1, first, flipped).reshape(B * R, n)
    instance = torch.arange(B).repeat_interleave(R)
    c = solver.residual(x).reshape(B * R, n)
    p, q = solver.affine(solver.gram[instance], solver.op_sq[instance], c, u, held.reshape(B * R, n))
    u = torch.where(held.reshape(B * R, n), solver.H[instance, None] * p + q, u).clamp(solver.alpha, 1.0)
    _, _, y, radius, _ = solver.certify(x, u.reshape(B, R, n), held)
    s = solver
    exact = torch.stack([torch.stack([torch.as_tensor(exact_prox(s.A[i].numpy(), s.b[i].numpy(), s.alpha, float(s.H[i]),
                                                                 x[i, r].numpy())[0]) for r in range(R)]) for i in range(B)])
    return torch.linalg.vector_norm(y - exact, dim=-1), radius


@pytest.mark.parametrize("solver, honest", [(PolyhedralProx, True), (_SidesIgnored, False)])
def test_wrong_faces_get_honest_radii(solver: type[PolyhedralProx], honest: bool) -> None:
    """A point on a wrong face is certified only within its true distance to prox(x) (its
    radius falls back to the gap radius): the KKT and face certificates check the sides of the
    rows off Z; without those checks they certify the wrong point to rounding."""
    problem, H, x = batch_and_points("l1-regression", 2, 1)
    distance, radius = wrong_face_distances(solver(problem.polyhedral, H), x)
    wrong = distance > 1e-6  # on a vertex (|Z| = d) the flip changes u only, and y is still prox(x)
    assert int(wrong.sum()) >= 6
    assert bool((distance[wrong] <= radius[wrong] * (1 + 1e-9)).all()) == honest


def test_same_face_gradient_difference_is_exact() -> None:
    """Where the proximal points of w and w + v share a certified face, the gradient difference
    is H ||v - (prox(w + v) - prox(w))|| of the enumeration, to relative rounding; it is
    exercised on nearby pairs (most share a face) and agrees on all of them."""
    problem, H, x = batch_and_points("l1-regression", 2, 7)
    v = 1e-3 * torch.randn(x.shape, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    envelope = MoreauEnvelope(problem, H)
    at0, at1 = envelope(x), envelope(x + v)
    difference = envelope.gradient_difference(x, x + v, at0, at1)
    same = (at0.face == at1.face).all(-1)
    assert int(same.sum()) >= x.shape[0] * x.shape[1] // 2
    s = problem.polyhedral
    for i, r in zip(*torch.nonzero(same, as_tuple=True)):
        p0, _ = exact_prox(s.A[i].numpy(), s.b[i].numpy(), s.alpha, float(H[i]), x[i, r].numpy())
        p1, _ = exact_prox(s.A[i].numpy(), s.b[i].numpy(), s.alpha, float(H[i]), (x + v)[i, r].numpy())
        exact = float(H[i]) * np.linalg.norm(v[i, r].numpy() - (p1 - p0))
        assert float(difference[i, r]) == pytest.approx(exact, rel=1e-7, abs=1e-12 * float(H[i]))
