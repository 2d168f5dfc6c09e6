"""Section 8.1 (S8.1, line 1201): learning-rate schedules.

The notes define schedules, not theorems. What each one does is encoded twice:

- as runs: SGD with the notes' formula for eta_t (a sympy expression of t, the spec's own
  hyper-parameter) and SGD with the ready-made schedule of ``algorithms.schedules`` (registered as
  ``SGD-step-decay``, ``SGD-cosine``, ``SGD-cosine-restarts``, ``SGD-warmup``) run side by side from
  the same w1 on the same samples; they must end at the same point at every horizon of the profile
  (up to T = 256, where the step decay has acted eight times and the restarts twelve times), so the
  implementation takes the notes' step at every t. Equality is written ||w - w'|| + ||w|| + ||w'|| <=
  ||w|| + ||w'||, so that rounding is judged relative to the iterates;
- as sympy proof steps: the behaviour each formula has (cosine annealing starts at eta_max and ends
  at eta_min; the step decay divides by 10 every 30 steps; each restart ends its phase at its
  decayed eta_min and jumps back up; the warm-up reaches eta0 at T_warmup, where the following
  1/sqrt schedule starts), and the batch-size scaling rule: Theorem 7.2's tuned step with batch B
  and T/B steps (the same number of gradients) is B times the step with batch 1 and T steps, and
  the notes' sqrt(B)/sqrt(T/B) = B/sqrt(T).
"""
from __future__ import annotations

import sympy as sp

from theorems.language.spec import Claim, Coupled, ProofStep, Setting, Source, Spec
from theorems.language.symbols import B, H, T, c, coupled_dist, coupled_scale, sigma, t

_m = sp.Symbol("m", nonnegative=True)         # eta_min / eta_max
_i = sp.Symbol("i", nonnegative=True, integer=True)
_eta0 = sp.Symbol("eta0", positive=True)
_eta_min, _eta_max = sp.symbols("eta_min eta_max", positive=True)
_EVERY, _FACTOR = 30, sp.Rational(1, 10)       # the notes' example: divide by 10 every 30 epochs
_PERIOD, _DECAY = 20, sp.Rational(1, 2)        # restart phases: length 20, ranges halved each phase
_WARMUP = 10


def _cosine(low: sp.Expr, high: sp.Expr, step: sp.Expr, length: sp.Expr) -> sp.Expr:
    """eta_min + (eta_max - eta_min)(1 + cos(pi t/T))/2, the notes' cosine annealing."""
    return low + (high - low) * (1 + sp.cos(sp.pi * step / length)) / 2


def _periods(step: sp.Expr, length: int) -> sp.Expr:
    """The number of whole periods before step t, floor((t - 1)/length), written floor((t - 1/2)/length)
    (equal for integer t): its argument then stays 1/(2 length) away from an integer, so rounding in
    float64 cannot move the floor (floor(t/30 - 1/30) is 0 at t = 31 in floating point)."""
    return sp.floor((step - sp.Rational(1, 2)) / length)


def _step_decay(eta0: sp.Expr, step: sp.Expr) -> sp.Expr:
    return eta0 * _FACTOR ** _periods(step, _EVERY)


def _restarts(low: sp.Expr, high: sp.Expr, step: sp.Expr) -> sp.Expr:
    phase = _periods(step, _PERIOD)
    return _DECAY ** phase * _cosine(low, high, step - _PERIOD * phase, _PERIOD)


def _warmup(eta0: sp.Expr, step: sp.Expr) -> sp.Expr:
    return sp.Piecewise((step * eta0 / _WARMUP, step <= _WARMUP), (eta0 / sp.sqrt(step - _WARMUP), True))


def _same(name: str, formula: sp.Expr, algorithm: str, hyper: dict) -> Setting:
    return Setting(name, "SGD", hyper={"eta": formula}, free={"c": (0.0, 1.0), "m": (0.0, 1.0)}, noise=("exact",),
                   coupled=Coupled(algorithm, hyper=hyper, horizon=T, shared_samples=True))


_LOW, _HIGH = _m * c / H, c / H
_SETTINGS = (
    _same("step-decay", _step_decay(_HIGH, t), "SGD-step-decay", {"eta0": _HIGH, "factor": _FACTOR, "every": _EVERY}),
    _same("cosine", _cosine(_LOW, _HIGH, t, T), "SGD-cosine", {"eta_min": _LOW, "eta_max": _HIGH, "horizon": T}),
    _same("cosine-restarts", _restarts(_LOW, _HIGH, t), "SGD-cosine-restarts",
          {"eta_min": _LOW, "eta_max": _HIGH, "decay": _DECAY, "period": _PERIOD, "horizon": T}),
    _same("warm-up", _warmup(_HIGH, t), "SGD-warmup", {"eta0": _HIGH, "warmup": _WARMUP}),
)
_EQUAL = coupled_dist + coupled_scale
_TUNED = 1 / (sigma * sp.sqrt(H * T / B))      # Theorem 7.2's step when the noise term dominates

S8_1 = Spec(
    id="S8.1",
    title="Learning-rate schedules: step decay, cosine annealing (with restarts), linear warm-up, batch-size scaling",
    source=Source(section="8.1", line=1201),
    statement=("Exponential (step) decay: decrease the learning rate by a constant factor every so many epochs (e.g. by "
               "10 every 30). Cosine annealing: eta_t = eta_min + (eta_max - eta_min)(1 + cos(pi t/T))/2; with "
               "restarts, phase i re-indexes t from 1 and uses eta_min,i, eta_max,i and T_i, so the rate increases at "
               "the start of each phase. Linear warm-up: eta_t = t eta0/T_warmup for t <= T_warmup, then another "
               "schedule whose first rate is eta0 (here eta0/sqrt(t - T_warmup)). Batch-size scaling: with batch B "
               "and the same number of epochs, multiply the learning rate by B. Encoded with eta_max = eta0 = c/H, "
               "eta_min = m c/H (c, m in [0, 1]), decay by 10 every 30 steps, restart phases of 20 steps with ranges "
               "halved each phase, T_warmup = 10."),
    assumptions=frozenset({"smooth"}),
    settings=_SETTINGS,
    claims=tuple(Claim(s.name, "sure", _EQUAL, coupled_scale, s.name,
                       f"SGD with the {s.name} schedule of algorithms.schedules ({s.coupled.algorithm}) takes the notes' "
                       f"step eta_t at every t: it ends where SGD on the formula ends, ||w_{{T+1}} - w'_{{T+1}}|| = 0")
                 for s in _SETTINGS),
    proof_steps=(
        ProofStep("cosine annealing ends at eta_min: t = T", _cosine(_eta_min, _eta_max, T, T), _eta_min),
        ProofStep("cosine annealing starts from eta_max: t = 0", _cosine(_eta_min, _eta_max, 0, T), _eta_max),
        ProofStep("step decay divides by 10 every 30 steps: eta_{t+30} = eta_t/10 (t = 30 i + 1)",
                  _step_decay(_eta0, _EVERY * _i + 1 + _EVERY), _step_decay(_eta0, _EVERY * _i + 1) / 10),
        ProofStep("restart phase i ends at its decayed eta_min: t = 20 (i + 1)",
                  _restarts(_eta_min, _eta_max, _PERIOD * (_i + 1)), _DECAY ** _i * _eta_min),
        ProofStep("the next phase starts back up near its decayed eta_max: t = 20 (i + 1) + 1",
                  _restarts(_eta_min, _eta_max, _PERIOD * (_i + 1) + 1),
                  _DECAY ** (_i + 1) * _cosine(_eta_min, _eta_max, 1, _PERIOD)),
        ProofStep("warm-up reaches eta0 at t = T_warmup", _warmup(_eta0, _WARMUP), _eta0),
        ProofStep("after the warm-up the 1/sqrt schedule starts at eta0", _warmup(_eta0, _WARMUP + 1), _eta0),
        ProofStep("batch-size scaling: Theorem 7.2's tuned step with batch B and T/B steps is B times the step with "
                  "batch 1 and T steps", _TUNED.subs(T, T / B), B * _TUNED.subs(B, 1)),
        ProofStep("the notes' O(sqrt(B)/sqrt(T/B)) = O(B/sqrt(T))", sp.sqrt(B) / sp.sqrt(T / B), B / sp.sqrt(T)),
    ),
)

SPECS = (S8_1,)
