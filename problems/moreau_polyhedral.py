"""The Moreau envelope (Theorem 5.3) of a piecewise-linear L(y) = (1/n) sum_i phi(<a_i, y> - b_i),
phi(r) = max over u in [alpha, 1] of u r (``problems._batch.Polyhedral``), by its concave dual.

With c = (A x - b)/n the prox problem min_y L(y) + H/2 ||x - y||^2 = min_y max_u ... has the dual
  D(u) = <u, A x - b>/n - ||A^T u||^2 / (2 n^2 H),  u in [alpha, 1]^n,
whose inner minimiser is y(u) = x - A^T u/(n H), and grad D(u) = (A y(u) - b)/n. For every box u
and every y (weak duality) D(u) <= L_hat(x) <= phi_x(y) = L(y) + H/2 ||x - y||^2, and phi_x is
H-strongly convex, so ||y - prox(x)||^2 <= 2 (phi_x(y) - D(u))/H (the gap radius). That radius
is only the square root of the rounding level, so a second, linear certificate is used when it
applies (the KKT radius): let Z be a set of rows with A_Z A_Z^T >= lambda I, lambda > 0, and
y = y(u). The point y' = y + delta with delta = -A_Z^T (A_Z A_Z^T)^(-1) r_Z(y) lies on the kinks
r_Z = 0, ||delta|| <= ||r_Z(y)||/sqrt(lambda) =: dbar, and each r_i moves by at most ||a_i|| dbar.
If u_i in [alpha, 1] on Z and u_i = phi'(t) for every |t - r_i(y)| <= ||a_i|| dbar off Z, then
u_i is in the subdifferential of phi at r_i(y') for every i, so
e + H delta = H (y' - x) + A^T u/n is a subgradient of phi_x at y' (e = H (y - x) + A^T u/n, zero
up to rounding), and ||y - prox(x)|| <= ||delta|| + ||e + H delta||/H <= ||e||/H + 2 dbar.
A third, the face radius, also proves on which face prox(x) lies: the computed (y, u_Z) solve the
linear system of the face (Z, u_N) (A_Z y = b_Z, H (y - x) + A^T u/n = 0) up to the residuals
r_Z(y) and e, so its exact solution (y0, u0) has ||u_Z - u0_Z|| <= n (||A||_op ||e|| + H ||r_Z||)
/ lambda =: du and ||y - y0|| <= ||A||_op du/(n H) + ||e||/H (the face radius). If u_Z lies in
[alpha + du, 1 - du] and every row off Z keeps its side within the face radius, (y0, u0) meets the
optimality conditions exactly, so y0 = prox(x): on a common face, prox(x + v) - prox(x) is v
projected onto ker A_Z, which ``face_difference`` evaluates to relative rounding.
The dual solution is followed exactly along h from inf (y = x) down to H (``homotopy``): between
events the kink rows Z and u off Z are fixed and u_Z is affine in h; every certificate is checked
at the end, whatever the path did.
"""
from __future__ import annotations

import torch

from problems._batch import Polyhedral

Tensor = torch.Tensor


class PolyhedralProx:
    """Certified prox brackets of a ``Polyhedral`` L with envelope parameter ``H`` (B,)."""

    def __init__(self, structure: Polyhedral, H: Tensor, max_events: int | None = None) -> None:
        self.A, self.b, self.alpha = structure.A, structure.b, structure.alpha
        self.n = self.A.shape[1]
        self.H = H
        self.gram = self.A @ self.A.transpose(-1, -2)
        self.op_sq = torch.linalg.matrix_norm(self.A, ord=2) ** 2
        self.row_norms = torch.linalg.vector_norm(self.A, dim=-1)
        self.max_events = 4 * self.n + 8 if max_events is None else max_events

    def __call__(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """(lower, upper, prox, radius, face) at points x (B, R, d): lower <= L_hat(x) <= upper,
        ||prox - prox(x)|| <= radius, and the certified face of prox(x) (``certify``)."""
        u, held = self.homotopy(x)
        return self.certify(x, u, held)

    def primal(self, x: Tensor, u: Tensor) -> Tensor:
        """y(u) = x - A^T u/(n H) (B, R, d)."""
        return x - torch.einsum("bnd,brn->brd", self.A, u) / (self.n * self.H[:, None, None])

    def residual(self, y: Tensor) -> Tensor:
        """r(y) = A y - b (B, R, n)."""
        return torch.einsum("bnd,brd->brn", self.A, y) - self.b[:, None, :]

    def dual(self, x: Tensor, u: Tensor) -> Tensor:
        """D(u) (B, R), a lower bound on L_hat(x) for every u in the box."""
        H = self.H[:, None]
        return (u * self.residual(x)).sum(-1) / self.n - H / 2 * (x - self.primal(x, u)).square().sum(-1)

    def value(self, x: Tensor, y: Tensor) -> Tensor:
        """phi_x(y) = L(y) + H/2 ||x - y||^2 (B, R), an upper bound on L_hat(x)."""
        r = self.residual(y)
        return torch.maximum(r, self.alpha * r).mean(-1) + self.H[:, None] / 2 * (x - y).square().sum(-1)

    def masked(self, gram: Tensor, op_sq: Tensor, z: Tensor) -> Tensor:
        """A_Z A_Z^T on Z (z the 0/1 indicator of Z, gram = A A^T) and ||A||_op^2 >= every
        eigenvalue of A_Z A_Z^T on the diagonal off Z: its smallest eigenvalue is that of A_Z A_Z^T."""
        pad = op_sq[..., None, None] * torch.eye(self.n, dtype=z.dtype, device=z.device)
        return z[..., :, None] * z[..., None, :] * gram + (1 - z)[..., None] * pad

    def homotopy(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The dual solution u and its kink rows Z (B, R, n) at h = H, followed from h = inf
        (where y = x, Z = the rows with r_i(x) = 0 and u = phi'(r(x)) off Z) down to H. Between events Z and u off Z are fixed, and
        r_Z(y) = 0 makes u_Z affine in h, u_Z(h) = h p + q with A_Z A_Z^T p = n c_Z and
        A_Z A_Z^T q = -A_Z A_N^T u_N (c = A x - b), while r(h) = beta + gamma/h off Z. Events,
        as h decreases: a row of Z reaches a bound of the box moving outwards (it leaves Z, u_i
        held at the bound), or a row off Z reaches r_i = 0 moving towards the side of its u_i
        (it joins Z). Only the points with an event left are carried to the next step."""
        B, R, n = x.shape[0], x.shape[1], self.n
        alpha = self.alpha
        c = self.residual(x).reshape(B * R, n)
        u = torch.where(c > 0, torch.ones_like(c), torch.full_like(c, alpha))
        held = c == 0
        instance = torch.arange(B, device=x.device).repeat_interleave(R)
        h = torch.full((B * R,), torch.inf, dtype=c.dtype, device=c.device)
        live = torch.arange(B * R, device=x.device)
        for _ in range(self.max_events):
            b = instance[live]
            gram, cl, ul, zl = self.gram[b], c[live], u[live], held[live]
            p, q = self.affine(gram, self.op_sq[b], cl, ul, zl)
            z = zl.to(c.dtype)
            off = ul * (1 - z)
            beta = cl - (gram @ p[..., None])[..., 0] / n
            gamma = -(gram @ (off + q)[..., None])[..., 0] / n
            leave = torch.where(p < 0, 1 - q, alpha - q) / p
            join = torch.where((ul == 1) == (gamma < 0), -gamma / beta, -torch.inf)
            events = torch.where(zl, torch.where(p == 0, -torch.inf, leave), join)
            events = torch.where(torch.isfinite(events) & (events > 0) & (events < h[live, None]), events, -torch.inf)
            nxt, i = events.max(-1)
            happens = nxt > self.H[b]
            if not bool(happens.any()):
                break
            live, nxt, i, p = live[happens], nxt[happens], i[happens], p[happens]
            rows = torch.arange(len(live), device=x.device)
            was_held = held[live, i]
            bound = torch.where(p[rows, i] < 0, torch.ones_like(nxt), torch.full_like(nxt, alpha))
            u[live, i] = torch.where(was_held, bound, u[live, i])
            held[live, i] = ~was_held
            h[live] = nxt
        p, q = self.affine(self.gram[instance], self.op_sq[instance], c, u, held)
        u = torch.where(held, (self.H[instance, None] * p + q).clamp(alpha, 1.0), u)
        return u.reshape(B, R, n), held.reshape(B, R, n)

    def affine(self, gram: Tensor, op_sq: Tensor, c: Tensor, u: Tensor, held: Tensor) -> tuple[Tensor, Tensor]:
        """p and q (P, n), zero off Z, of u_Z(h) = h p + q for points with Gram matrices ``gram``
        (P, n, n), ||A||_op^2 ``op_sq`` (P,), c = A x - b, u off Z and Z = ``held``."""
        z = held.to(c.dtype)
        off = u * (1 - z)
        rhs = torch.stack([self.n * c * z, -z * (gram @ off[..., None])[..., 0]], dim=-1)
        p, q = torch.linalg.solve(self.masked(gram, op_sq, z), rhs).unbind(-1)
        return p * z, q * z

    def certify(self, x: Tensor, u: Tensor, held: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """(D(u), phi_x(y(u)), y(u), radius, face) for u in the box and Z = ``held``. The radius
        is the smallest of the gap radius and, where their conditions hold (and A_Z A_Z^T is
        clear of rounding: lambda > 1e-10 ||A||_op^2), the KKT and face radii of the module
        docstring. ``face`` (B, R, n) is u off Z and 2 on Z where the face certificate holds (the
        exact prox then lies on that face), NaN elsewhere."""
        y = self.primal(x, u)
        lower, upper = self.dual(x, u), self.value(x, y)
        H = self.H[:, None]
        gap_radius = torch.sqrt(2 * (upper - lower).clamp(min=0) / H)
        r = self.residual(y)
        z = held.to(x.dtype)
        smallest = torch.linalg.eigvalsh(self.masked(self.gram[:, None], self.op_sq[:, None], z))[..., 0]
        conditioned = smallest > 1e-10 * self.op_sq[:, None]
        lam = torch.where(conditioned, smallest, torch.ones_like(smallest))
        r_held = torch.linalg.vector_norm(r * z, dim=-1)
        e = torch.linalg.vector_norm(H[..., None] * (y - x) + torch.einsum("bnd,brn->brd", self.A, u) / self.n, dim=-1)
        dbar = r_held / lam.sqrt()
        kkt_radius = e / H + 2 * dbar
        u_error = self.n * (self.op_sq[:, None].sqrt() * e + H * r_held) / lam
        face_radius = self.op_sq[:, None].sqrt() * u_error / (self.n * H) + e / H
        kkt = conditioned & self.off_face_signs(u, r, held, dbar)
        face = (conditioned & self.off_face_signs(u, r, held, face_radius)
                & (~held | ((u >= self.alpha + u_error[..., None]) & (u <= 1 - u_error[..., None]))).all(-1))
        radius = torch.minimum(gap_radius, torch.where(kkt, kkt_radius, torch.inf))
        radius = torch.minimum(radius, torch.where(face, face_radius, torch.inf))
        code = torch.where(face[..., None], torch.where(held, torch.full_like(u, 2.0), u), torch.nan)
        return lower, upper, y, radius, code

    def off_face_signs(self, u: Tensor, r: Tensor, held: Tensor, reach: Tensor) -> Tensor:
        """(B, R): every row off Z keeps the side of its u_i (1: r_i > 0, alpha: r_i < 0) within
        ``reach`` of y, i.e. |r_i| > ||a_i|| reach with the sign of u_i."""
        margin = self.row_norms[:, None, :] * reach[..., None]
        return (held | ((u == 1) & (r > margin)) | ((u == self.alpha) & (r < -margin))).all(-1)

    def face_difference(self, v: Tensor, face0: Tensor, face1: Tensor) -> Tensor:
        """||grad L_hat(x + v) - grad L_hat(x)|| (B, R) where both proximal points are certified
        on the same face (Z, u off Z), NaN elsewhere: there prox(x) = P(x - A_N^T u_N/(n H)) with P
        the projection onto {A_Z y = b_Z}, so prox(x + v) - prox(x) is v projected onto ker A_Z
        and the difference is H ||P_rows(A_Z) v|| = H ||A_Z^T (A_Z A_Z^T)^(-1) A_Z v||, computed
        to relative rounding."""
        same = (face0 == face1).all(-1)
        z = (face0 == 2).to(v.dtype)
        Av = torch.einsum("bnd,brd->brn", self.A, v) * z
        w = torch.linalg.solve(self.masked(self.gram[:, None], self.op_sq[:, None], z), Av[..., None])[..., 0] * z
        rows = torch.linalg.vector_norm(torch.einsum("bnd,brn->brd", self.A, w), dim=-1)
        return torch.where(same, self.H[:, None] * rows, torch.nan)
