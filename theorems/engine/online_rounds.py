"""Rounds of online settings (Theorem 15.1, Theorems 16.2-16.3, section 16's example, section 17).

The family slot of the round key names an adversary of ``problems.online.ADVERSARIES`` and the
oracle slot the feasible set (``problems.projections.SETS``). A round draws B instances (a radius
log-uniform in [1e-3, 1e3]; w1 inside the set, or anywhere for a ``start_anywhere`` setting) and
runs the setting's algorithm (or the user's variant) under the batched protocol with the
adversary as its oracle: before step t the adversary sees w_t and picks a_t; the oracle returns
g_t = a_t, plus Gaussian noise of a per-instance level under the setting's ``gaussian`` noise,
whatever point it is asked at (the losses are linear). With ``resample`` each replica draws its
own adversary randomness (the noise names are ``theorems.language.spec.ONLINE_NOISE``).

Symbols (theorems.language.symbols.ONLINE):
- the regret sum_t <g_t, w_t - u> is ``sum_gw - sum_gu`` (a difference, so that the checker's
  rounding allowance follows both terms), against the worst comparator u of the set for the
  sequence (for the free set u is drawn: w_{T+1}, where Theorem 15.1 is an equality, or a point
  around it); ``sum_aw - sum_au`` = sum_t <a_t, w_t - u_a>, with u_a the worst comparator of the
  mean sequence averaged over the replicas, is sum_t L_t(w_t) - L_t(w*) of the expected losses;
- ``sum_g_sq``, ``sum_coord_root`` = sum_i sqrt(sum_t g_t[i]^2), ``g_max`` = max_t ||g_t||_inf,
  ``dist_u_sq`` = ||u - w1||^2, ``drift`` = the mean over coordinates of w_{T+1} - w_1;
- per step t, the first coordinate of an algorithm's estimates (``mhat_t``, ``vhat_t``: Adam's
  m_hat_t, v_hat_t, from its ``estimate(state)``);
- the exact moments of a stationary adversary (problems/online.py; its coordinates are i.i.d., so
  its rounds run one coordinate whatever the key's dimension);
- the radii ``D_2`` (the set's l2 radius: D_2, or sqrt(d) D_inf for the box) and ``D_inf``, and the dimension ``d``.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import sympy as sp
import torch

from algorithms import ProtocolError
from problems import _random as rnd
from problems.online import ADVERSARIES, STATIONARY, Context
from problems.projections import SETS
from theorems.engine.loading import build_algorithm
from theorems.engine.online_ascent import ascend
from theorems.engine.round_data import RoundKey
from theorems.engine.seeding import derive_seed, draw_free
from theorems.language.evaluate import evaluate
from theorems.language.spec import Setting, SpecError

Tensor = torch.Tensor

@dataclasses.dataclass(frozen=True)
class OnlineBatch:
    """What the round ran on, for counterexamples: each instance's radius and w1."""

    radius: Tensor
    w1: Tensor
    adversary: str
    feasible: str

    def describe(self, b: int) -> dict[str, Any]:
        return {"adversary": self.adversary, "feasible_set": self.feasible, "radius": float(self.radius[b]),
                "w1": self.w1[b].tolist()}


def combinations(setting: Setting) -> list[tuple[str, str]]:
    """(adversary, feasible set) pairs: the setting's adversaries (when it names none, all but the
    stationary ones, and but the gradient ascent on the free set, which has no worst comparator);
    an unknown adversary is a SpecError."""
    unknown = sorted(set(setting.adversaries) - set(ADVERSARIES))
    if unknown:
        raise SpecError(f"setting {setting.name!r} names unknown adversaries {unknown}; use {sorted(ADVERSARIES)}")
    names = setting.adversaries or tuple(n for n in ADVERSARIES if n not in STATIONARY
                                         and not (n == "ascent" and setting.online == "free"))
    return [(name, setting.online) for name in names]


def _factory_hyper(key: RoundKey, values: dict[str, Tensor], like: Tensor,
                   hyper: Mapping[str, sp.Expr]) -> dict[str, Any]:
    """The algorithm's hyper-parameters: a tensor per instance (also put in ``values`` for the
    claims), or a schedule t -> tensor for an expression of t."""
    from theorems.engine.traces import schedule
    out: dict[str, Any] = {}
    for name, expr in hyper.items():
        if "t" in {s.name for s in sp.sympify(expr).free_symbols}:
            out[name] = schedule(sp.sympify(expr), values, like, key.horizon)
        else:
            values[name] = out[name] = evaluate(expr, values, like)
    return out


def _algorithm(setting: Setting, key: RoundKey, hyper: dict[str, Any]) -> Any:
    """The setting's algorithm, or the key's variant (whose failures are ProtocolErrors: exit 2)."""
    return build_algorithm(key.algorithm or setting.algorithm, key.options, hyper, key.algorithm is not None,
                           "the hyper-parameters")


def build(setting: Setting, key: RoundKey, hyper: Mapping[str, sp.Expr]) -> tuple[OnlineBatch, dict[str, Tensor], int]:
    """Run the round; returns the batch description, every symbol's value and the replicas."""
    device, dtype = torch.device(key.device), torch.float64
    generator = torch.Generator(device=device).manual_seed(key.seed)
    B, T = key.batch_size, key.horizon
    d = 1 if key.family in STATIONARY else key.dim  # i.i.d. coordinates: one is run, the dimension is moot
    noise = setting.noise[derive_seed(key.seed, "online noise") % len(setting.noise)]
    R = 1 if noise == "exact" else key.replicas
    feasible = SETS[key.oracle]
    radius = rnd.log_uniform((B, 1, 1), 1e-3, 1e3, generator, device, dtype)
    if key.oracle == "free":
        w1 = rnd.normal((B, 1, d), generator, device, dtype) * rnd.log_uniform((B, 1, 1), 1e-3, 1e3, generator,
                                                                                 device, dtype)
    else:
        w1 = feasible.inside((B, 1, d), radius, generator)
        if setting.start_anywhere:  # up to 1e3 radii away, in a random direction
            w1 = w1 + rnd.normal((B, 1, d), generator, device, dtype) * radius * rnd.log_uniform(
                (B, 1, 1), 1e-2, 1e3, generator, device, dtype)
    bounded = radius if key.oracle != "free" else radius * float("nan")   # the free set has no radius
    values: dict[str, Tensor] = {
        "T": torch.tensor(float(T), dtype=dtype, device=device), "d": torch.tensor(float(d), dtype=dtype, device=device),
        "D_2": bounded * (d ** 0.5 if key.oracle == "linf-box" else 1.0), "D_inf": bounded}
    for name, (low, high) in setting.free.items():
        values[name] = draw_free(B, low, high, generator, device, dtype).reshape(B, 1, 1)
    like = torch.zeros(B, 1, 1, dtype=dtype, device=device)
    factory_hyper = _factory_hyper(key, values, like, hyper)
    algorithm = _algorithm(setting, key, factory_hyper)
    adversary_generator = torch.Generator(device=device).manual_seed(derive_seed(key.seed, "adversary"))
    sequence = None
    if key.family == "ascent":
        sequence, w1 = ascend(lambda: _algorithm(setting, key, factory_hyper), w1, radius, key.oracle, T,
                              adversary_generator)
    context = Context(B, R if noise == "resample" else 1, d, T, radius, key.oracle, adversary_generator,
                      sequence=sequence)
    rule = ADVERSARIES[key.family].start(context)
    values.update(context.moments)
    noise_generator = torch.Generator(device=device).manual_seed(derive_seed(key.seed, "online noise draws"))
    level = rnd.log_uniform((B, 1, 1), 1e-2, 1e2, noise_generator, device, dtype)
    values.update(_play(algorithm, rule, w1.expand(B, R, d).clone(), T, noise == "gaussian", level, noise_generator,
                        key, radius, generator))
    return OnlineBatch(radius.reshape(B), w1.reshape(B, d), key.family, key.oracle), values, R


def _play(algorithm: Any, rule: Any, w: Tensor, T: int, noisy: bool, level: Tensor, noise_generator: torch.Generator,
          key: RoundKey, radius: Tensor, generator: torch.Generator) -> dict[str, Tensor]:
    """Run T rounds and return the regret symbols."""
    B, R, d = w.shape
    w1 = w.clone()
    sum_g, sum_a, sq = torch.zeros_like(w), torch.zeros_like(w), torch.zeros_like(w)
    sum_gw = torch.zeros(B, R, 1, dtype=w.dtype, device=w.device)
    sum_aw, g_max = torch.zeros_like(sum_gw), torch.zeros_like(sum_gw)
    estimates: list[tuple[Tensor, Tensor]] = []
    with torch.no_grad():
        state = _call(key, lambda: algorithm.init(w.clone()))
        for t in range(1, T + 1):
            a = torch.broadcast_to(rule(t, w), w.shape)
            g = a + level * torch.randn(w.shape, generator=noise_generator, dtype=w.dtype,
                                        device=w.device) if noisy else a
            result = _call(key, lambda: algorithm.step(w.clone(), state, lambda point, m=1: g.clone(), t))
            if not (type(result) is tuple and len(result) == 2 and isinstance(result[0], Tensor)
                    and result[0].shape == w.shape):
                raise ProtocolError(f"step {t} must return (w, state) with w of shape {tuple(w.shape)}")
            sum_g += g
            sum_a += a
            sum_gw += (g * w).sum(-1, keepdim=True)
            sum_aw += (a * w).sum(-1, keepdim=True)
            sq += g * g
            g_max = torch.maximum(g_max, g.abs().amax(-1, keepdim=True))
            w, state = result[0].clone(), result[1]
            estimates.append(_estimate(algorithm, state, w))
    if key.oracle == "free":
        u = u_a = _free_comparator(w, generator)
    else:
        worst = SETS[key.oracle].worst
        u, u_a = worst(sum_g, radius), worst(sum_a.mean(1, keepdim=True), radius).expand_as(sum_a)
    return {"sum_gw": sum_gw, "sum_gu": (sum_g * u).sum(-1, keepdim=True),
            "sum_aw": sum_aw, "sum_au": (sum_a * u_a).sum(-1, keepdim=True),
            "sum_g_sq": sq.sum(-1, keepdim=True), "sum_coord_root": sq.sqrt().sum(-1, keepdim=True),
            "g_max": g_max, "dist_u_sq": (u - w1).square().sum(-1, keepdim=True),
            "drift": (w - w1).mean(-1, keepdim=True),
            "t": torch.arange(1, T + 1, dtype=w.dtype, device=w.device).reshape(1, 1, T),
            "mhat_t": torch.cat([m for m, _ in estimates], -1), "vhat_t": torch.cat([v for _, v in estimates], -1)}


def _estimate(algorithm: Any, state: Any, w: Tensor) -> tuple[Tensor, Tensor]:
    """(m_hat_t[1], v_hat_t[1]) of an algorithm with ``estimate(state)`` (algorithms.adam), (B, R, 1);
    NaN for an algorithm without one (claims on them are then violated as non-finite)."""
    if not callable(getattr(algorithm, "estimate", None)):
        nan = torch.full_like(w[..., :1], float("nan"))
        return nan, nan
    m_hat, v_hat = algorithm.estimate(state)
    return m_hat[..., :1].clone(), v_hat[..., :1].clone()


def _free_comparator(w: Tensor, generator: torch.Generator) -> Tensor:
    """For the free set: w_{T+1} (Theorem 15.1's equality case) on a third of the instances, else
    w_{T+1} plus a perturbation of log-uniform size in [1e-3, 1e3]."""
    B = w.shape[0]
    z = torch.randn(w.shape, generator=generator, dtype=w.dtype, device=w.device)
    size = rnd.log_uniform((B, 1, 1), 1e-3, 1e3, generator, w.device, w.dtype)
    exact = (torch.arange(B, device=w.device) % 3 == 0).reshape(B, 1, 1)
    return torch.where(exact, w, w + size * z)


def _call(key: RoundKey, thunk: Any) -> Any:
    """Run the algorithm's code; a user's variant that raises is a ProtocolError (exit 2)."""
    try:
        return thunk()
    except ProtocolError:
        raise
    except (Exception, SystemExit) as exc:
        if key.algorithm is None:
            raise
        raise ProtocolError(f"algorithm {key.algorithm} raised {type(exc).__name__}: {exc}") from None
