"""Adversarial loss sequences for online settings (Theorems 15.1, 16.2, 16.3; section 16's example).

A regret bound quantifies over every sequence of convex losses; linear losses l_t(w) = <g_t, w>
attain the worst case (the gradient of a convex loss at w_t is such a g_t), so an adversary here
is a rule that picks g_t. Oblivious adversaries draw the whole sequence in advance; adaptive
ones see the learner's iterate w_t before choosing g_t. Each draws per instance a scale G
(log-uniform in [1e-3, 1e3]) and per-coordinate scales (log-uniform over 4 decades), so that
coordinates differ as AdaGrad's analysis allows.

- ``gaussian``: i.i.d. Gaussian vectors with a magnitude (t/T)^p, p in {-1, -1/2, 0, 1/2, 1}
  (decaying, flat or growing gradients).
- ``one-hot``: section 16's rare-feature example: g_t = +-G e_i with P(i) proportional to 1/i^2.
- ``rademacher``: i.i.d. signs, the sequence of the classical lower bound (Abernethy et al. 2008,
  "Optimal strategies and minimax lower bounds for online convex games"): every learner has
  expected regret Omega(D G sqrt(T)) against it.
- ``two-phase``: one vector v for the first ceil(T/2) steps, then -v: the lower-bound sequence for
  a fixed step size, under which the learner walks out and must walk back.
- ``chase`` (adaptive): g_t[i] = s_i sign(w_t[i] - u[i]) towards a target u the adversary drew on
  the boundary of the set, so the learner is pushed towards u while paying for its distance.
- ``oscillate`` (adaptive): g_t[i] = s_i sign(w_t[i]) (sign 0 = +1): every step pushes the learner
  back across the origin, so it keeps overshooting.
- ``escape`` (adaptive): g_t[i] = -s_i sign(w_t[i]) for t < T - 1 (pushing the learner outwards,
  against the boundary), -rho s_i sign(w_t[i]) at t = T - 1 (a push that dominates the step size's
  history) and r rho s_i sign(w_t[i]) at t = T, with rho and r log-uniform in [1, 1e4]: a learner
  that has left the set is charged there r times more than it was pushed.

- ``ascent``: the gradient adversary (theorems/engine/online_ascent.py): it moves the whole
  sequence and w_1 by gradient ascent through the round's algorithm; its rule here only plays
  the sequence the ascent found (``context.sequence``).

Stationary sequences (section 17: i.i.d. gradients, every coordinate drawn from one per-instance
distribution; each replica draws its own sequence) put their exact moments in ``context.moments``
(shape (B, 1, 1)); their rules draw step by step, so they must be called for t = 1, 2, ... in
turn. ``g_mean`` = E g, ``g_var`` = Var g, ``g_sq_mean`` = E g^2, and for the
two-point laws ``sign_mean`` = E sign(g).

- ``stationary-gaussian``: g = mu + sigma xi, xi standard normal.
- ``stationary-two-point``: g = mu +- sigma with probability 1/2 each.
- ``skewed``: g = s with probability p, -a s with probability 1 - p, p in [0.55, 0.95] and
  a = k p/(1 - p), k in [1.05, 3]: E g = s p (1 - k) < 0 while E sign(g) = 2p - 1 > 0, the
  distribution under which sign descent moves uphill (section 17.2).

``start(context)`` returns the rule ``step(t, w) -> a_t`` of shape (B, R, d); ``shared`` rules
give every replica the same a_t unless it depends on w.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from problems import _random as rnd
from problems.projections import SETS

Tensor = torch.Tensor
Rule = Callable[[int, Tensor], Tensor]


@dataclass(frozen=True)
class Context:
    """What an adversary may use: the batch shape, the horizon, each instance's radius (B, 1, 1),
    the feasible set's name and the round's generator."""

    batch: int
    replicas: int
    dim: int
    horizon: int
    radius: Tensor
    feasible: str
    generator: torch.Generator
    moments: dict[str, Tensor] = field(default_factory=dict)
    sequence: Tensor | None = None

    def draw(self, *shape: int) -> Tensor:
        return torch.randn(shape, generator=self.generator, dtype=self.radius.dtype, device=self.radius.device)

    def uniform(self, *shape: int) -> Tensor:
        return torch.rand(shape, generator=self.generator, dtype=self.radius.dtype, device=self.radius.device)

    def scales(self) -> Tensor:
        """G_b s_{b,i}: one scale per instance and coordinate, shape (B, 1, d)."""
        dtype, device = self.radius.dtype, self.radius.device
        G = rnd.log_uniform((self.batch, 1, 1), 1e-3, 1e3, self.generator, device, dtype)
        return G * rnd.log_uniform((self.batch, 1, self.dim), 1e-2, 1e2, self.generator, device, dtype)


def _gaussian(ctx: Context) -> Rule:
    s = ctx.scales()
    powers = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0], dtype=s.dtype, device=s.device)
    p = powers[torch.randint(0, 5, (ctx.batch,), generator=ctx.generator, device=s.device)].reshape(-1, 1, 1)
    z = ctx.draw(ctx.horizon, ctx.batch, 1, ctx.dim)
    return lambda t, w: s * (t / ctx.horizon) ** p * z[t - 1]


def one_hot_probabilities(dim: int, dtype: torch.dtype = torch.float64) -> Tensor:
    """P(i) = (1/i^2) / sum_j 1/j^2, i = 1..d (section 16's example)."""
    weights = 1.0 / torch.arange(1, dim + 1, dtype=dtype) ** 2
    return weights / weights.sum()


def one_hot_sequence(batch: int, replicas: int, dim: int, horizon: int, generator: torch.Generator,
                     dtype: torch.dtype = torch.float64) -> Tensor:
    """(T, B, R, d) one-hot vectors +-e_i with P(i) proportional to 1/i^2 and a fair sign."""
    p = one_hot_probabilities(dim, dtype)
    index = torch.multinomial(p, horizon * batch * replicas, replacement=True, generator=generator)
    signs = torch.randint(0, 2, (horizon * batch * replicas,), generator=generator).to(dtype) * 2 - 1
    out = torch.zeros(horizon * batch * replicas, dim, dtype=dtype)
    out[torch.arange(out.shape[0]), index] = signs
    return out.reshape(horizon, batch, replicas, dim)


def _one_hot(ctx: Context) -> Rule:
    G = rnd.log_uniform((ctx.batch, 1, 1), 1e-3, 1e3, ctx.generator, ctx.radius.device, ctx.radius.dtype)
    sequence = one_hot_sequence(ctx.batch, 1, ctx.dim, ctx.horizon, ctx.generator, ctx.radius.dtype)
    sequence = sequence.to(ctx.radius.device)
    return lambda t, w: G * sequence[t - 1]


def _rademacher(ctx: Context) -> Rule:
    s = ctx.scales()
    signs = torch.sign(ctx.uniform(ctx.horizon, ctx.batch, 1, ctx.dim) - 0.5)
    return lambda t, w: s * signs[t - 1]


def _two_phase(ctx: Context) -> Rule:
    v = ctx.scales() * torch.sign(ctx.uniform(ctx.batch, 1, ctx.dim) - 0.5)
    half = (ctx.horizon + 1) // 2
    return lambda t, w: v if t <= half else -v


def _target(ctx: Context) -> Tensor:
    """A point on the boundary of the set (a vertex of the box, a point of the sphere), or for the
    free set a point at distance up to 1e3 from the origin."""
    z = ctx.draw(ctx.batch, 1, ctx.dim)
    if ctx.feasible == "linf-box":
        return ctx.radius * torch.sign(z)
    direction = z / torch.linalg.vector_norm(z, dim=-1, keepdim=True)
    if ctx.feasible == "l2-ball":
        return ctx.radius * direction
    return direction * rnd.log_uniform((ctx.batch, 1, 1), 1e-3, 1e3, ctx.generator, z.device, z.dtype)


def _sign(x: Tensor) -> Tensor:
    return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


def _chase(ctx: Context) -> Rule:
    s, u = ctx.scales(), _target(ctx)
    return lambda t, w: s * _sign(w - u)


def _oscillate(ctx: Context) -> Rule:
    s = ctx.scales()
    return lambda t, w: s * _sign(w)


def _escape(ctx: Context) -> Rule:
    s = ctx.scales()
    rho, r = (rnd.log_uniform((ctx.batch, 1, 1), 1.0, 1e4, ctx.generator, s.device, s.dtype) for _ in range(2))
    T = ctx.horizon

    def rule(t: int, w: Tensor) -> Tensor:
        factor = -1.0 if t < T - 1 else (-rho if t == T - 1 else r * rho)
        return factor * s * _sign(w)

    return rule


def _moment_draws(ctx: Context) -> tuple[Tensor, Tensor]:
    """mu (log-uniform magnitude in [1e-3, 1e3], either sign, 0 for a quarter) and sigma."""
    dtype, device = ctx.radius.dtype, ctx.radius.device
    mu = rnd.log_uniform((ctx.batch, 1, 1), 1e-3, 1e3, ctx.generator, device, dtype)
    mu = mu * torch.sign(ctx.uniform(ctx.batch, 1, 1) - 0.5) * (ctx.uniform(ctx.batch, 1, 1) > 0.25)
    return mu, rnd.log_uniform((ctx.batch, 1, 1), 1e-3, 1e3, ctx.generator, device, dtype)


def _stationary(ctx: Context, two_point: bool) -> Rule:
    mu, sigma = _moment_draws(ctx)
    ctx.moments.update(g_mean=mu, g_var=sigma ** 2, g_sq_mean=mu ** 2 + sigma ** 2)
    shape = (ctx.batch, ctx.replicas, ctx.dim)
    return lambda t, w: mu + sigma * (torch.sign(ctx.uniform(*shape) - 0.5) if two_point else ctx.draw(*shape))


def _skewed(ctx: Context) -> Rule:
    dtype, device = ctx.radius.dtype, ctx.radius.device
    s = rnd.log_uniform((ctx.batch, 1, 1), 1e-3, 1e3, ctx.generator, device, dtype)
    p = rnd.uniform((ctx.batch, 1, 1), 0.55, 0.95, ctx.generator, device, dtype)
    a = rnd.uniform((ctx.batch, 1, 1), 1.05, 3.0, ctx.generator, device, dtype) * p / (1 - p)
    mean = s * (p - a * (1 - p))
    ctx.moments.update(g_mean=mean, g_var=s ** 2 * (p + a ** 2 * (1 - p)) - mean ** 2,
                       g_sq_mean=s ** 2 * (p + a ** 2 * (1 - p)), sign_mean=2 * p - 1)
    return lambda t, w: torch.where(ctx.uniform(ctx.batch, ctx.replicas, ctx.dim) < p, s, -a * s)


def _ascent(ctx: Context) -> Rule:
    if ctx.sequence is None:
        raise ValueError("the ascent adversary plays the sequence its round's gradient ascent found; none was given")
    sequence = ctx.sequence
    return lambda t, w: sequence[:, t - 1][:, None, :]


@dataclass(frozen=True)
class Adversary:
    """A rule for the loss sequence: ``start(context)`` gives ``step(t, w_t) -> g_t``."""

    name: str
    adaptive: bool
    start: Callable[[Context], Rule]


#: The adversaries of online settings, by name (the ``family`` slot of an online round).
ADVERSARIES = {a.name: a for a in (
    Adversary("gaussian", False, _gaussian), Adversary("one-hot", False, _one_hot),
    Adversary("rademacher", False, _rademacher), Adversary("two-phase", False, _two_phase),
    Adversary("chase", True, _chase), Adversary("oscillate", True, _oscillate),
    Adversary("escape", True, _escape), Adversary("ascent", False, _ascent),
    Adversary("stationary-gaussian", False, lambda ctx: _stationary(ctx, False)),
    Adversary("stationary-two-point", False, lambda ctx: _stationary(ctx, True)),
    Adversary("skewed", False, _skewed))}

#: The adversaries whose sequences are i.i.d. with exact moments (section 17), which only settings
#: that name them run (a regret setting that names no adversary runs the others).
STATIONARY = ("stationary-gaussian", "stationary-two-point", "skewed")

#: The feasible sets an online setting may name.
FEASIBLE = tuple(SETS)
