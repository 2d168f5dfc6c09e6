"""Exact worst cases beside the theorem's bound and the adversaries' best (issue 12, "Exact worst
cases").

For a deterministic first-order claim, performance estimation (theorems/engine/pep.py) gives the
largest value the measured quantity can take over the whole function class, on the parameters of
an instance the checker ran (its horizon T, step t, constants H, D, Delta, mu, G and step-size
factor c). ``compare`` puts three numbers side by side, per horizon, at the worst instance the
searches found there: the theorem's bound, that exact worst case, and the measured value found.
exact / bound says how loose the theorem is, found / exact how close the search came.

PEPit is optional: without it (or for a variant algorithm, whose method the PEP does not model)
the comparison says "not computed" and why. ``seed_params`` turns PEPit's low-rank worst case
into a member of a parametric family, a starting point for the gradient adversary
(theorems/engine/adversaries.py ``ascend``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

import numpy as np
import torch

from problems.parametric import Params
from theorems.engine import pep
from theorems.engine.claims import Evidence
from theorems.engine.round_data import RoundKey
from theorems.engine.rounds import build_round, sample_round
from theorems.language.spec import Claim, Spec

COMPUTED, NOT_COMPUTED = "computed", "not computed"
#: The oracle of a deterministic run (PEPs model exact gradients).
EXACT_ORACLE = "exact"

Values = Mapping[str, float]


@dataclass(frozen=True)
class Formulation:
    """How a claim's measured quantity is a PEP: ``steps`` (the algorithm steps it unrolls) and
    ``worst`` (the largest measured value over the class), both from the values of one comparison
    (constants, hyper-parameters, T, t and the per-step symbols); ``exact`` is False where the PEP
    is a relaxation, so ``worst`` is an upper bound on the worst case."""

    method: str
    steps: Callable[[Values], int]
    worst: Callable[[Values], float]
    exact: bool = True


def _T(v: Values) -> int:
    return int(round(v["T"]))


def _t(v: Values) -> int:
    return int(round(v["t"]))


_T24 = Formulation("PEP: subgradient descent, convex G-Lipschitz, ||w1 - w*|| <= D", _T,
                   lambda v: v["G"] * v["D"] * pep.gd_lipschitz_convex_sum(_T(v)))
_T58 = Formulation("PEP: GD with eta = c/H on H-smooth L, L(w1) - inf L <= Delta (relaxed: inf L <= L(w) - "
                   "||grad L(w)||^2/(2H) at w_{T+1})", _T,
                   lambda v: v["H"] * v["Delta"] * pep.gd_smooth_sum_grad_sq(_T(v), pep.rounded(v["c"])), exact=False)
_L57 = Formulation("PEP: one GD step eta = c/H on H-smooth L given L(w_t) and ||grad L(w_t)||", lambda v: 1,
                   lambda v: v["L_t"] - v["Lstar"] + v["grad_sq_t"] / v["H"] * pep.gd_smooth_one_step(
                       pep.rounded(v["c"])))
_T133 = Formulation("PEP: GD eta = 1/(2H), H-smooth convex, ||w1 - w*|| <= D", _T,
                    lambda v: v["H"] * v["D"] ** 2 * pep.gd_smooth_convex_sum(_T(v), 0.5))
_T133_AVG = Formulation("PEP: GD eta = 1/(2H), H-smooth convex, ||w1 - w*|| <= D", _T,
                        lambda v: v["H"] * v["D"] ** 2 * pep.gd_smooth_convex_average(_T(v), 0.5))
_T216 = Formulation("PEP: GD eta = 1/H, H-smooth mu-strongly convex, given L(w1) - L*", _t,
                    lambda v: (v["L1"] - v["Lstar"]) * pep.gd_strongly_convex_last(_t(v), pep.rounded(v["mu"] / v["H"])))

# Results being encoded on branch h-accel (issue 12), by their claim names there.
_T131 = Formulation("PEP: GD eta = c/H, H-smooth convex, ||w1 - w*|| <= D, given sum_t ||grad L(w_t)||^2", _T,
                    lambda v: v["H"] * v["D"] ** 2 * pep.gd_convex_sum_given_grad_sq(
                        _T(v), pep.rounded(v["c"]), pep.rounded(v["sum_grad_sq"] / (v["H"] * v["D"]) ** 2)))
_T152 = Formulation("PEP: Algorithm 11, eta = c/H, H-smooth convex, ||w1 - w*|| <= D", _T,
                    lambda v: v["H"] * v["D"] ** 2 * pep.agd_last(_T(v), pep.rounded(v["eta"] * v["H"])))
_AGD_SC = "PEP: Nesterov's constant-step scheme, H-smooth mu-strongly convex, ||w1 - w*|| <= D"


def _kappa(v: Values) -> float:
    return pep.rounded(v["mu"] / v["H"])


_PENDING = {
    ("T13.1", "convex-form"): _T131,
    ("T15.2", "last-iterate"): _T152,
    ("T15.2", "proof-bound"): _T152,
    ("T15.2", "last-iterate-eta-one-over-H"): _T152,
    ("T22.3", "suboptimality-eps"): Formulation(
        _AGD_SC, _t, lambda v: v["H"] * v["D"] ** 2 * pep.agd_strongly_convex(_t(v), _kappa(v), "value")),
    ("T22.3", "method-guarantee"): Formulation(
        _AGD_SC + ", L(w1) - L* at most the instance's", _t,
        lambda v: v["H"] * v["D"] ** 2 * pep.agd_strongly_convex(
            _t(v), _kappa(v), "value", pep.rounded((v["L1"] - v["Lstar"]) / (v["H"] * v["D"] ** 2)))),
    ("T22.3", "gradient-eps"): Formulation(
        _AGD_SC + " (gradient at w_t, after t - 1 steps)", lambda v: _t(v) - 1,
        lambda v: (v["H"] * v["D"]) ** 2 * pep.agd_strongly_convex(_t(v) - 1, _kappa(v), "grad")),
}

#: The claims with a PEP, by (result ID, claim name); a result not in the catalog is never looked up.
FORMULATIONS: dict[tuple[str, str], Formulation] = {
    **_PENDING,
    ("T2.4", "sum-suboptimality"): _T24,
    ("T2.4", "random-iterate"): Formulation(_T24.method, _T, lambda v: _T24.worst(v) / v["T"]),
    ("T5.8", "sum-grad-sq"): _T58,
    ("L5.7", "one-step"): _L57,
    ("L5.7", "one-step-small-eta"): _L57,
    ("T13.3", "sum-suboptimality"): _T133,
    ("T13.3", "averaged-iterate"): _T133_AVG,
    ("T21.6", "linear-rate"): _T216,
}


@dataclass(frozen=True)
class Row:
    """The three numbers at one comparison: the theorem's ``bound``, the ``exact`` worst case on the
    same parameters and the value ``found`` by the searches (at horizon T, step t)."""

    T: int
    step: int | None
    family: str
    instance: int
    bound: float
    exact: float
    found: float

    def as_dict(self) -> dict[str, Any]:
        return {"T": self.T, "step": self.step, "family": self.family, "instance": self.instance,
                "bound": self.bound, "exact": self.exact, "found": self.found,
                "exact_over_bound": _ratio(self.exact, self.bound), "found_over_exact": _ratio(self.found, self.exact)}


@dataclass(frozen=True)
class Comparison:
    """A claim's exact-worst-case columns: ``status`` computed or not computed (``reason``), the
    PEP's ``method``, whether it is ``exact`` (else an upper bound), and one ``Row`` per horizon."""

    status: str
    reason: str = ""
    method: str = ""
    exact: bool = True
    rows: tuple[Row, ...] = field(default_factory=tuple)

    @property
    def headline(self) -> Row | None:
        """The row at the largest horizon computed."""
        return self.rows[-1] if self.rows else None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.reason:
            out["reason"] = self.reason
        if self.status == COMPUTED:
            out.update({"method": self.method, "exact": self.exact, "rows": [r.as_dict() for r in self.rows]})
        return out


def _ratio(a: float, b: float) -> float | None:
    return a / b if b > 0 and math.isfinite(a) and math.isfinite(b) else None


def formulation(spec: Spec, claim: Claim) -> Formulation | None:
    """The PEP of ``claim`` of ``spec`` (None when it has none)."""
    return FORMULATIONS.get((spec.id, claim.name))


def comparison_values(spec: Spec, evidence: Evidence) -> dict[str, float]:
    """Every symbol's value at the comparison of ``evidence`` (its round rebuilt from its key)."""
    data = build_round(spec, evidence.key)
    index = (evidence.instance, evidence.replica or 0, 0 if evidence.step is None else evidence.step - 1)
    out = {}
    for name, value in data.values.items():
        if not torch.is_tensor(value) or value.dim() not in (0, 3):
            continue
        at = tuple(min(i, n - 1) for i, n in zip(index, value.shape))
        out[name] = float(value[at]) if value.dim() else float(value)
    out["T"], out["t"] = float(evidence.key.horizon), float(evidence.step or 1)
    return out


def compare(spec: Spec, claim: Claim, by_horizon: Mapping[int, Evidence], *, variant: bool = False,
            max_steps: int = pep.MAX_STEPS) -> Comparison | None:
    """The exact-worst-case columns of a claim from the worst comparison found at each horizon
    (``ClaimResult.by_horizon``); None for a claim without a PEP. Not computed: without PEPit, for
    a ``variant`` algorithm or hyper-parameters, and where every PEP would unroll more than
    ``max_steps`` steps or no horizon ran the exact oracle."""
    form = formulation(spec, claim)
    if form is None:
        return None
    if not pep.available():
        return Comparison(NOT_COMPUTED, "PEPit is not installed (pip install -e '.[exact]')")
    if variant:
        return Comparison(NOT_COMPUTED, "the PEP models the spec's algorithm, not the variant")
    rows, failures = [], []
    for T, evidence in sorted(by_horizon.items()):
        if evidence.key.oracle != EXACT_ORACLE or not math.isfinite(evidence.measured):
            continue
        values = comparison_values(spec, evidence)
        if form.steps(values) > max_steps:
            continue
        try:
            worst = form.worst(values)
        except (pep.PEPFailed, ArithmeticError) as error:
            failures.append(f"T={T}: {type(error).__name__}")
            continue
        rows.append(Row(T, evidence.step, evidence.key.family, evidence.instance, evidence.bound, worst,
                        evidence.measured))
    if not rows:
        return Comparison(NOT_COMPUTED, f"no deterministic comparison with at most {max_steps} steps"
                          + (f" that the solver could solve ({', '.join(failures)})" if failures else ""))
    reason = f"the solver failed at {', '.join(failures)}" if failures else ""
    return Comparison(COMPUTED, reason, form.method, form.exact, tuple(rows))


#: Comparisons already computed, by the ids of the result and claim result (each kept beside
#: its comparison, so an id is not reused while it is a key here).
_MEMO: dict[tuple[int, int], tuple[Any, Comparison | None]] = {}


def for_result(result: Any, claim_result: Any) -> Comparison | None:
    """``compare`` for a claim of a ``CheckResult``, computed once per claim result (the CLI's text
    and JSON and the report's three formats share it)."""
    spec = result.spec
    if (spec.id, claim_result.name) not in FORMULATIONS:
        return None
    key = (id(result), id(claim_result))
    if key not in _MEMO:
        claim = spec.claim(claim_result.name)
        comparison = compare(spec, claim, claim_result.by_horizon, variant=claim.setting in result.replaced)
        _MEMO[key] = ((result, claim_result), comparison)
    return _MEMO[key][1]


# ----------------------------------------------------------------------------------------------
# Seeding the gradient adversary


def piecewise_seed(case: pep.WorstCase, c: float) -> Params | None:
    """One instance of the piecewise-quadratic family (problems/piecewise_quadratic.py) with H = 1
    from a PEP's worst case of GD with step c: the iterates projected on the leading direction of
    their span (exact when PEPit's worst case has rank one), joined by ``interpolate``; None when
    the projected iterates hold fewer than two distinct points (nothing to interpolate)."""
    from problems.piecewise_quadratic import interpolate
    stacked = np.concatenate([case.x, case.g])
    u = np.linalg.svd(stacked, full_matrices=False)[2][0]
    x, g = case.x @ u, case.g @ u
    order = np.argsort(x)
    keep = np.concatenate([[True], np.diff(x[order]) > 1e-12])
    if int(keep.sum()) < 2:
        return None
    x, g, f = (torch.tensor(a[order][keep], dtype=torch.float64) for a in (x, g, case.f))
    piece = interpolate(x, g, f, 1.0)
    return {"t": piece["t"][None, None], "a": piece["a"][None, None], "p": piece["p"][None],
            "Q": torch.ones(1, 1, 1, dtype=torch.float64), "m": torch.zeros(1, 1, dtype=torch.float64),
            "w1": torch.zeros(1, 1, dtype=torch.float64)}


def _seed_T58(spec: Spec, key: RoundKey) -> Params | None:
    """T5.8 sum-grad-sq: the round draws c from its seed, so the PEP is solved at that c."""
    from problems import FAMILIES
    probe = piecewise_seed(pep.gd_smooth_sum_grad_sq_case(key.horizon, 1.0), 1.0)
    if probe is None:
        return None
    sampled = sample_round(spec, _single(key), FAMILIES[key.family].build(probe))
    c = pep.rounded(float(sampled.values["c"].reshape(-1)[0]))
    return piecewise_seed(pep.gd_smooth_sum_grad_sq_case(key.horizon, c), c)


def _single(key: RoundKey) -> RoundKey:
    return replace(key, batch_size=1, replicas=1, params={})


#: Seed builders by (result ID, claim name, family).
SEEDS: dict[tuple[str, str, str], Callable[[Spec, RoundKey], Params | None]] = {
    ("T5.8", "sum-grad-sq", "piecewise-quadratic"): _seed_T58,
}


def seed_params(spec: Spec, claim: Claim, key: RoundKey) -> Params | None:
    """Parameters of one instance of ``key.family`` built from PEPit's worst case of ``claim`` at
    ``key.horizon`` (a start for ``adversaries.ascend`` with ``key``), or None when there is no
    seed for the claim and family or PEPit is not installed."""
    build = SEEDS.get((spec.id, claim.name, key.family))
    if build is None or not pep.available() or key.horizon > pep.MAX_STEPS:
        return None
    return build(spec, key)


def seeded_ascent(spec: Spec, claim: Claim, key: RoundKey, profile: Any, level: float) -> Any:
    """The gradient adversary (``adversaries.ascend``) with the profile's budget, started from
    ``seed_params`` on round ``key`` (one instance); None when there is no seed."""
    from theorems.engine.adversaries import ascend
    start = seed_params(spec, claim, key)
    if start is None:
        return None
    return ascend(spec, claim, replace(key, batch_size=1), start, profile.gradient_steps, profile.gradient_lr,
                  profile.rtol, profile.atol, level)


# ----------------------------------------------------------------------------------------------
# What the frontends show


def annotate(result: Any, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (``CheckResult.as_dict()``) with ``exact_worst_case`` added to each claim
    that has a PEP."""
    for claim_result, entry in zip(result.claims, document.get("claims", [])):
        comparison = for_result(result, claim_result)
        if comparison is not None:
            entry["exact_worst_case"] = comparison.as_dict()
    return document


def summary(comparison: Comparison) -> str:
    """One line: the three numbers at the headline row, or why they were not computed."""
    row = comparison.headline
    if comparison.status != COMPUTED or row is None:
        return f"exact worst case: {NOT_COMPUTED} ({comparison.reason})"
    where = f"T={row.T}" + ("" if row.step is None else f", t={row.step}")
    kind, short = ("exact worst case", "exact") if comparison.exact else ("worst case (a PEP upper bound)", "PEP")
    return (f"{kind} at {where}: bound {row.bound:.6g}, {short} {row.exact:.6g} ({_fmt(_ratio(row.exact, row.bound))} "
            f"of the bound), found {row.found:.6g} ({_fmt(_ratio(row.found, row.exact))} of the {short})")


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"
