"""Performance-estimation problems (PEPs) of the notes' first-order methods, solved with PEPit.

Each function returns the exact worst case of one quantity of one algorithm over a function class,
normalised (smoothness or Lipschitz constant 1, initial distance or gap 1), or, where marked, an
upper bound on it from a relaxation. They serve the checker's exact-worst-case columns
(theorems/engine/exact_worst_case.py) and benchmarks/adversary_bench.py, and are cached per
parameter tuple. PEPit, cvxpy and clarabel are the optional ``bench`` extra: nothing here imports
them before a PEP is solved (``available`` says whether they are installed).

Sizes: a PEP with T steps has a Gram matrix of order about T + 2 and O(T^2) interpolation
constraints; with CLARABEL on one core T = 16 takes about 0.5 s, T = 32 about 3 s, T = 64 about
30 s, hence ``MAX_STEPS``.
"""
from __future__ import annotations

import importlib
import math
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

#: The largest number of algorithm steps a PEP is built for (see the module's timings).
MAX_STEPS = 16

#: Significant digits a real parameter is rounded to before solving (the cache key).
DIGITS = 10


def available() -> bool:
    """Whether PEPit, cvxpy and clarabel import (the ``bench`` extra); called only when a PEP is
    about to be solved, so importing this module imports none of them."""
    try:
        for name in ("PEPit", "cvxpy", "clarabel"):
            importlib.import_module(name)
    except ImportError:
        return False
    return True


def rounded(x: float) -> float:
    """``x`` to ``DIGITS`` significant digits, so nearby parameters share a cached PEP."""
    return float(f"{x:.{DIGITS}g}")


def _classes() -> Any:
    from PEPit import PEP, functions
    return PEP, functions


#: CLARABEL's gap and feasibility tolerances (its defaults, 1e-8, left PEP values 1e-8 to 6e-8
#: off the closed forms; with 1e-10 they are within about 5e-9, at the same cost).
SOLVER_TOLERANCE = 1e-10
#: The relative accuracy claimed for a PEP value (tests/test_exact_worst_case.py checks it
#: against the closed forms).
ACCURACY = 1e-8

#: PEPit's dimension-reduction heuristics, tried in turn for a low-rank worst case (a later
#: iteration of log-det can fail to converge; the trace heuristic is one more solve).
REDUCTIONS = ("logdet3", "trace", None)


class PEPFailed(RuntimeError):
    """The SDP solver did not converge on a PEP."""


def _solve(problem: Any, reduce: bool = False) -> float:
    """Solve with CLARABEL (SCS's default accuracy, about 1e-4 relative, is too coarse for an exact
    reference); ``reduce`` asks PEPit for a low-rank worst case (``REDUCTIONS`` in turn)."""
    from cvxpy.error import SolverError
    for heuristic in REDUCTIONS if reduce else (None,):
        extra = {} if heuristic is None else {"dimension_reduction_heuristic": heuristic}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return float(problem.solve(wrapper="cvxpy", solver="CLARABEL", verbose=0, tol_gap_abs=SOLVER_TOLERANCE,
                                           tol_gap_rel=SOLVER_TOLERANCE, tol_feas=SOLVER_TOLERANCE, **extra))
        except SolverError as error:
            if heuristic is None:
                raise PEPFailed(str(error)) from error
    raise AssertionError("unreachable: the last attempt re-raises")


def _sum(terms: list[Any]) -> Any:
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


@lru_cache(maxsize=None)
def gd_lipschitz_convex_sum(T: int) -> float:
    """T2.4: max sum_{t=1}^T f(w_t) - f* over convex 1-Lipschitz f with ||w1 - w*|| <= 1,
    (sub)gradient descent with step 1/sqrt(T). Exact."""
    PEP, F = _classes()
    problem = PEP()
    f = problem.declare_function(F.ConvexLipschitzFunction, M=1.0)
    xs = f.stationary_point()
    fs = f(xs)
    x = problem.set_initial_point()
    problem.set_initial_condition((x - xs) ** 2 <= 1)
    terms = []
    for _ in range(T):
        g, fx = f.oracle(x)
        terms.append(fx - fs)
        x = x - g / math.sqrt(T)
    problem.set_performance_metric(_sum(terms))
    return _solve(problem)


def _smooth_convex_run(T: int, c: float) -> tuple[Any, Any, Any, list[Any]]:
    """A PEP over 1-smooth convex f with ||w1 - w*|| <= 1 and the iterates w_1..w_{T+1} of GD with
    step c: (problem, f, f(w*), iterates)."""
    PEP, F = _classes()
    problem = PEP()
    f = problem.declare_function(F.SmoothConvexFunction, L=1.0)
    xs = f.stationary_point()
    x = problem.set_initial_point()
    problem.set_initial_condition((x - xs) ** 2 <= 1)
    iterates = [x]
    for _ in range(T):
        x = x - c * f.gradient(x)
        iterates.append(x)
    return problem, f, f(xs), iterates


@lru_cache(maxsize=None)
def gd_smooth_convex_sum(T: int, c: float) -> float:
    """T13.3 (c = 1/2): max sum_{t=1}^T f(w_t) - f* over 1-smooth convex f, ||w1 - w*|| <= 1, GD
    step c. Exact (1/2 at T = 1)."""
    problem, f, fs, xs = _smooth_convex_run(T - 1, c)
    problem.set_performance_metric(_sum([f(x) - fs for x in xs]))
    return _solve(problem)


@lru_cache(maxsize=None)
def gd_smooth_convex_average(T: int, c: float) -> float:
    """T13.3: max f((1/T) sum_{t=1}^T w_t) - f*, same class and method. Exact."""
    problem, f, fs, xs = _smooth_convex_run(T - 1, c)
    problem.set_performance_metric(f(_sum(xs) / T) - fs)
    return _solve(problem)


@lru_cache(maxsize=None)
def gd_smooth_convex_last(N: int, c: float) -> float:
    """max f(w_{N+1}) - f*, same class and method. Exact; 1/(4 N c + 2) for c <= 1 (Drori and
    Teboulle 2014)."""
    problem, f, fs, xs = _smooth_convex_run(N, c)
    problem.set_performance_metric(f(xs[-1]) - fs)
    return _solve(problem)


@lru_cache(maxsize=None)
def gd_strongly_convex_last(t: int, kappa: float) -> float:
    """T21.6: max f(w_{t+1}) - f* over 1-smooth kappa-strongly convex f with f(w1) - f* <= 1, GD
    step 1. Exact; (1 - kappa)^(2t) (de Klerk, Glineur and Taylor 2017, Theorem 1.2, per step)."""
    PEP, F = _classes()
    problem = PEP()
    f = problem.declare_function(F.SmoothStronglyConvexFunction, mu=kappa, L=1.0)
    xs = f.stationary_point()
    fs = f(xs)
    x = problem.set_initial_point()
    problem.set_initial_condition(f(x) - fs <= 1)
    for _ in range(t):
        x = x - f.gradient(x)
    problem.set_performance_metric(f(x) - fs)
    return _solve(problem)


@lru_cache(maxsize=None)
def gd_smooth_one_step(c: float) -> float:
    """L5.7: max f(w_2) - f(w_1) over 1-smooth f with ||grad f(w_1)|| = 1, one GD step c. Exact
    (two points): -(1 - c/2) c, the descent lemma with equality."""
    PEP, F = _classes()
    problem = PEP()
    f = problem.declare_function(F.SmoothFunction, L=1.0)
    x = problem.set_initial_point()
    g, fx = f.oracle(x)
    problem.set_initial_condition(g ** 2 == 1)
    problem.set_performance_metric(f(x - c * g) - fx)
    return _solve(problem)


@dataclass(frozen=True)
class WorstCase:
    """A PEP's value and its worst case as data: the iterates' coordinates ``x`` (T+1, r), the
    gradients ``g`` (T+1, r) and the losses ``f`` (T+1,) at w_1..w_{T+1} (r the rank found)."""

    value: float
    x: np.ndarray
    g: np.ndarray
    f: np.ndarray


def _smooth_gd_case(T: int, c: float, metric: str, reduce: bool) -> WorstCase:
    """Over 1-smooth f with f(w1) - (f(w_{T+1}) - ||grad f(w_{T+1})||^2 / 2) <= 1 (a relaxation of
    f(w1) - inf f <= 1: inf f <= f(w) - ||grad f(w)||^2 / (2H) for every H-smooth f), GD step c:
    the max of sum_{t=1}^T ||grad f(w_t)||^2 (``metric="sum"``) or of min_t of them (``"min"``)."""
    PEP, F = _classes()
    problem = PEP()
    f = problem.declare_function(F.SmoothFunction, L=1.0)
    x = problem.set_initial_point()
    points = []
    for _ in range(T + 1):
        g, fx = f.oracle(x)
        points.append((x, g, fx))
        x = x - c * g
    _, g_end, f_end = points[-1]
    problem.set_initial_condition(points[0][2] - f_end + 0.5 * g_end ** 2 <= 1)
    if metric == "sum":
        problem.set_performance_metric(_sum([g ** 2 for _, g, _ in points[:-1]]))
    else:
        for _, g, _ in points[:-1]:
            problem.set_performance_metric(g ** 2)
    value = _solve(problem, reduce)
    xs = np.array([np.atleast_1d(p.eval()) for p, _, _ in points])
    return WorstCase(value, xs - xs[0], np.array([np.atleast_1d(g.eval()) for _, g, _ in points]),
                     np.array([float(fx.eval()) for _, _, fx in points]))


@lru_cache(maxsize=None)
def gd_smooth_sum_grad_sq(T: int, c: float) -> float:
    """T5.8: an upper bound on max sum_{t=1}^T ||grad f(w_t)||^2 over 1-smooth f with
    f(w1) - inf f <= 1, GD step c (``_smooth_gd_case``'s relaxation; 2 at T = 1, attained)."""
    return _smooth_gd_case(T, c, "sum", reduce=False).value


@lru_cache(maxsize=None)
def gd_smooth_sum_grad_sq_case(T: int, c: float) -> WorstCase:
    """``gd_smooth_sum_grad_sq`` with its low-rank worst case (log-det dimension reduction)."""
    return _smooth_gd_case(T, c, "sum", reduce=True)


@lru_cache(maxsize=None)
def gd_smooth_min_grad_sq_case(N: int) -> WorstCase:
    """benchmarks/adversary_bench.py row (b): min_{t <= N+1} ||grad f(w_t)||^2, step 1, with its
    low-rank worst case; equals 4 / (3N + 2), which a 1-D function attains."""
    return _smooth_gd_case(N + 1, 1.0, "min", reduce=True)


# Results another helper is encoding (issue 12: T13.1, T15.2, T22.3), wired by their claim names
# on branch h-accel in ``exact_worst_case.FORMULATIONS``.

@lru_cache(maxsize=None)
def gd_convex_sum_given_grad_sq(T: int, c: float, s: float) -> float:
    """T13.1 (convex form): max sum_{t=1}^T f(w_t) - f* over 1-smooth convex f with ||w1 - w*|| <= 1
    and sum_{t=1}^T ||grad f(w_t)||^2 = s (the instance's), GD step c (any c > 0). Exact;
    sqrt(s) - s/2 at T = 1 for s <= 1 (f(w1) - f* <= <g, w1 - w*> - ||g||^2/2, a Huber function
    attains it)."""
    problem, f, fs, xs = _smooth_convex_run(T - 1, c)
    values, norms = [], []
    for x in xs:
        g, fx = f.oracle(x)
        values.append(fx - fs)
        norms.append(g ** 2)
    problem.set_initial_condition(_sum(norms) == s)
    problem.set_performance_metric(_sum(values))
    return _solve(problem)


def alg11_weights(T: int) -> list[float]:
    """Algorithm 11's alpha_1..alpha_T: alpha_1 = 1, alpha_{t+1}^2 - alpha_{t+1} = sum_{i<=t} alpha_i."""
    alphas = [1.0]
    while len(alphas) < T:
        alphas.append((1 + math.sqrt(1 + 4 * sum(alphas))) / 2)
    return alphas


def agd_run(T: int, c: float) -> tuple[Any, Any, Any, list[tuple[Any, Any]], Any]:
    """T15.2's PEP before its metric: over 1-smooth convex f with ||w1 - w*|| <= 1, Algorithm 11 with
    eta = c: (problem, f, w*, the oracle calls (x_t, grad f(x_t)) in order, w_{T+1})."""
    PEP, F = _classes()
    problem = PEP()
    f = problem.declare_function(F.SmoothConvexFunction, L=1.0)
    xs = f.stationary_point()
    w = y = problem.set_initial_point()
    problem.set_initial_condition((w - xs) ** 2 <= 1)
    alphas, calls = alg11_weights(T), []
    for t, alpha in enumerate(alphas, 1):
        tau = alpha / sum(alphas[:t])
        x = (1 - tau) * w + tau * y
        g = f.gradient(x)
        calls.append((x, g))
        y = y - c * alpha * g
        w = x - c * g
    return problem, f, xs, calls, w


@lru_cache(maxsize=None)
def agd_last(T: int, c: float) -> float:
    """T15.2: max f(w_{T+1}) - f* over 1-smooth convex f with ||w1 - w*|| <= 1 for Algorithm 11
    with eta = c (tau_t = alpha_t / sum_{i<=t} alpha_i). Exact; at T = 1 it is one GD step,
    1/(4c + 2)."""
    problem, f, xs, _, w = agd_run(T, c)
    problem.set_performance_metric(f(w) - f(xs))
    return _solve(problem)


def agd_strongly_convex_run(T: int, kappa: float, gap: float | None = None
                            ) -> tuple[Any, Any, Any, list[tuple[Any, Any]], Any]:
    """T22.3's PEP before its metric: over 1-smooth kappa-strongly convex f with ||w1 - w*|| <= 1
    (and f(w1) - f* <= ``gap`` when given), Nesterov's constant-step scheme (w_{t+1} = x_t -
    grad f(x_t), x_{t+1} = w_{t+1} + beta (w_{t+1} - w_t), beta = (1 - sqrt kappa)/(1 + sqrt
    kappa), x_1 = w_1): (problem, f, w*, the oracle calls (x_t, grad f(x_t)), w_{T+1})."""
    PEP, F = _classes()
    problem = PEP()
    f = problem.declare_function(F.SmoothStronglyConvexFunction, mu=kappa, L=1.0)
    xs = f.stationary_point()
    x = w = problem.set_initial_point()
    problem.set_initial_condition((x - xs) ** 2 <= 1)
    if gap is not None:
        problem.set_initial_condition(f(w) - f(xs) <= gap)
    beta = (1 - math.sqrt(kappa)) / (1 + math.sqrt(kappa))
    calls = []
    for _ in range(T):
        g = f.gradient(x)
        calls.append((x, g))
        w_next = x - g
        x = w_next + beta * (w_next - w)
        w = w_next
    return problem, f, xs, calls, w


@lru_cache(maxsize=None)
def agd_strongly_convex(T: int, kappa: float, metric: str, gap: float | None = None) -> float:
    """T22.3 (``agd_strongly_convex_run``) after T steps: the max of f(w_{T+1}) - f*
    (``metric="value"``) or of ||grad f(w_{T+1})||^2 (``"grad"``). Exact; at T = 0 they are 1/2
    and 1 (smoothness, attained by a quadratic)."""
    problem, f, xs, _, w = agd_strongly_convex_run(T, kappa, gap)
    problem.set_performance_metric(f(w) - f(xs) if metric == "value" else f.gradient(w) ** 2)
    return _solve(problem)
