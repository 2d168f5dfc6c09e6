"""Strength of the adversaries against exact worst cases (issue 4, "Measured strength").

    pip install -e ".[bench]"            # pepit==0.5.1, cvxpy==1.8.2, clarabel
    python benchmarks/adversary_bench.py [--profile thorough] [--rows a,b,c] [--steps 1,2,4,8,16]

Each row is a claim whose bound is the exact worst case, so an adversary's tightness is the
fraction of the worst case it reached:
(a) GD with step 1/H on H-smooth convex functions: L(w_{N+1}) - L* <= H D^2 / (4N + 2) (Drori and
    Teboulle 2014), in closed form;
(b) GD with step 1/H on H-smooth functions: min_{t <= N+1} ||grad L(w_t)||^2 <= 4 H Delta / (3N + 2)
    with Delta = L(w1) - inf L, in closed form: PEPit's worst case under L(w1) - L(w_{N+2}) <= Delta
    (one more step, which stays above inf L) is an upper bound and equals it to solver accuracy,
    and a one-dimensional piecewise quadratic attains it (gradient g at every iterate, curvature
    +H then -H between iterates, a convex bowl after the last), so it is exact;
(c) Theorem 13.3's quantity, sum_{t=1}^N L(w_t) - L* with step 1/(2H), exact worst case from PEPit
    (N/(N + 1) H D^2; the theorem's bound is 2 H D^2).
Column ``pep/ex.`` is PEPit's value over the exact one (1 for row c by definition).
The adversaries: the checker's random rounds, the hypothesis search with ``target`` and the
gradient adversary started from the random rounds' best instances, each at horizon N on every
admissible registered family, with the chosen profile's budget; ``fraction`` is the best of the
three. For these columns the piecewise-quadratic family draws no planted staircases (row b's
worst case), so they measure the searches, not the draw. Column ``pep-seed`` (row b) is the
gradient adversary started from PEPit's worst case made a family member (``pep_seed``), as issue
4 suggests: PEPit's worst cases seed the adversaries. SDPs are solved with CLARABEL (SCS's
default accuracy, about 1e-4 relative, is too coarse for an exact reference). The PEPs are the
product's (theorems/engine/pep.py), shared with the checker's exact-worst-case columns.
"""
from __future__ import annotations

import argparse
import time
from contextlib import contextmanager
from dataclasses import replace
from typing import Iterator

import sympy as sp
import torch

from problems import FAMILIES
from problems.parametric import Params
from problems.piecewise_quadratic import PiecewiseQuadratic
from theorems.engine import pep
from theorems.engine.adversaries import ascend
from theorems.engine.checker import check
from theorems.engine.exact_worst_case import piecewise_seed
from theorems.engine.hypothesis_search import hypothesis_search
from theorems.engine.profiles import PROFILES, Profile
from theorems.engine.round_data import RoundKey
from theorems.language.spec import Claim, Setting, Source, Spec
from theorems.language.symbols import D, Delta, H, last_subopt, min_grad_sq, sum_subopt


def pep_convex_last(N: int) -> float:
    """max L(w_{N+1}) - L* over 1-smooth convex L with ||w1 - w*|| <= 1, GD step 1."""
    return pep.gd_smooth_convex_last(N, 1.0)


def exact_nonconvex_min_grad(N: int) -> float:
    """The closed form 4 / (3N + 2) of row (b), which PEPit's value confirms."""
    return 4 / (3 * N + 2)


def pep_seed(N: int) -> Params:
    """A 1-D member of the piecewise-quadratic family from PEPit's worst case of row (b)
    (``exact_worst_case.piecewise_seed``: the iterates on a line joined by a 1-smooth C^1
    piecewise quadratic, exactly where the data are interpolable in one dimension)."""
    return piecewise_seed(pep.gd_smooth_min_grad_sq_case(N), 1.0)


def pep_sum_suboptimality(N: int) -> float:
    """max sum_{t=1}^N L(w_t) - L* over 1-smooth convex L with ||w1 - w*|| <= 1, GD step 1/2
    (Theorem 13.3's quantity; the checker's exact-worst-case column uses the same PEP)."""
    return pep.gd_smooth_convex_sum(N, 0.5)


def row_spec(row: str, exact: float) -> Spec:
    """The benchmark claim of a row: measured <= exact * scale, so tightness = fraction reached."""
    value = sp.Float(exact, 17)
    if row == "a":
        return Spec("BENCH.a", "GD 1/H, smooth convex, last iterate", Source("13", 1945),
                    frozenset({"cvx", "smooth", "minimizer"}), (Setting("eta-1/H", "GD", hyper={"eta": 1 / H}),),
                    (Claim("exact", "sure", last_subopt, value * H * D ** 2, "eta-1/H", "exact worst case"),))
    if row == "b":
        return Spec("BENCH.b", "GD 1/H, smooth non-convex, min gradient", Source("5", 917),
                    frozenset({"smooth", "lb"}), (Setting("eta-1/H", "GD", hyper={"eta": 1 / H}),),
                    (Claim("exact", "sure", min_grad_sq, value * H * Delta, "eta-1/H", "exact worst case"),))
    return Spec("BENCH.c", "Theorem 13.3's sum of suboptimality", Source("13", 1945),
                frozenset({"cvx", "smooth", "minimizer"}), (Setting("eta-1/(2H)", "GD", hyper={"eta": 1 / (2 * H)}),),
                (Claim("exact", "sure", sum_subopt, value * H * D ** 2, "eta-1/(2H)", "exact worst case"),))


#: Rows whose exact worst case is known in closed form (PEPit's value is printed beside it).
CLOSED_FORM = {"a": lambda N: 1 / (4 * N + 2), "b": lambda N: 4 / (3 * N + 2)}
PEP_VALUE = {"a": pep_convex_last, "b": lambda N: pep.gd_smooth_min_grad_sq_case(N).value, "c": pep_sum_suboptimality}


@contextmanager
def unplanted_staircases() -> Iterator[None]:
    """The registered piecewise-quadratic family without the planted worst cases of row (b), so
    the random, hypothesis and gradient columns measure the searches, not the family's draw."""
    planted = FAMILIES["piecewise-quadratic"]
    FAMILIES["piecewise-quadratic"] = PiecewiseQuadratic(planted.breakpoints, staircases=0.0)
    try:
        yield
    finally:
        FAMILIES["piecewise-quadratic"] = planted


def bench_row(row: str, N: int, profile: Profile) -> dict[str, float]:
    """Exact value, PEPit's value and each adversary's best fraction of the exact value at horizon N.
    Row (b) also runs the gradient adversary from PEPit's worst case (``pep_seed``)."""
    pep = PEP_VALUE[row](N)
    exact = CLOSED_FORM[row](N) if row in CLOSED_FORM else pep
    spec = row_spec(row, exact)
    claim = spec.claims[0]
    at_N = replace(profile, horizons=(N,), gradient_max_horizon=max(N, profile.gradient_max_horizon))
    started = time.perf_counter()
    with unplanted_staircases():
        result = check(spec, profile=at_N, counterexample_dir="/tmp/theorycheck-bench").claims[0]
        searched = hypothesis_search(spec, claim, at_N, horizons=(N,), gradient=False)
        seeded = float("nan")
        if row == "b":
            key = RoundKey(spec.id, claim.setting, "piecewise-quadratic", "exact", 0, N, 1, 1, 1, "cpu", None)
            seeded = ascend(spec, claim, key, pep_seed(N), profile.gradient_steps, profile.gradient_lr,
                            profile.rtol, profile.atol, profile.level).best
    best = result.best_by_search
    return {"exact": exact, "pep": pep / exact, "random": best.get("random", float("nan")),
            "hypothesis": searched.worst.tightness if searched.worst is not None else float("nan"),
            "gradient": best.get("gradient", float("nan")), "pep-seeded": seeded,
            "family": result.worst.key.family if result.worst is not None else "-",
            "seconds": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="thorough", choices=sorted(PROFILES))
    parser.add_argument("--rows", default="a,b,c")
    parser.add_argument("--steps", default="1,2,4,8,16")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: the batches are small, and on a shared machine two threads "
                             "made batched LAPACK calls about 100 times slower)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    profile = PROFILES[args.profile]
    names = {"a": "GD convex last", "b": "GD non-convex min grad", "c": "T13.3 sum"}
    print(f"profile {profile.name}: random {profile.rounds} rounds x {profile.batch_size} instances per family; "
          f"gradient {profile.gradient_steps} steps x {profile.gradient_batch} instances per family")
    print(f"{'row':<24s} {'N':>3s} {'exact':>10s} {'pep/ex.':>8s} {'random':>8s} {'hypoth.':>8s} {'gradient':>8s} "
          f"{'fraction':>8s} {'pep-seed':>8s} {'best family':>16s} {'sec':>6s}")
    for row in args.rows.split(","):
        for N in (int(n) for n in args.steps.split(",")):
            r = bench_row(row, N, profile)
            best = max(r["random"], r["hypothesis"], r["gradient"])
            print(f"{names[row]:<24s} {N:>3d} {r['exact']:>10.6f} {r['pep']:>8.6f} {r['random']:>8.4f} "
                  f"{r['hypothesis']:>8.4f} {r['gradient']:>8.4f} {best:>8.4f} {r['pep-seeded']:>8.4f} "
                  f"{r['family']:>16s} {r['seconds']:>6.1f}", flush=True)


if __name__ == "__main__":
    main()
