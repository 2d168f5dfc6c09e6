"""The spec language: a result of the notes as data (DESIGN.md, theorems/).

A ``Spec`` states the result's id and source, the classes it assumes, the algorithm runs it
needs (``Setting``: algorithm, hyper-parameters as sympy expressions of the constants, free
parameters drawn per instance, admissible oracles), its ``Claim``s (measured quantity and bound
as sympy expressions, kind sure / expect), and the ``ProofStep``s whose algebra sympy checks.
A malformed spec fails when it is defined, with a ``SpecError`` naming the result and the fix;
the names it takes from the torch-backed registries (algorithms, oracles, class tags) are
checked by ``validate_names`` before it runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import sympy as sp

from theorems.language import symbols as S

KINDS = ("sure", "expect")
#: The noise names and feasible sets of online settings (theorems/engine/online_rounds.py,
#: problems/projections.py).
ONLINE_NOISE = ("exact", "gaussian", "resample")
ONLINE_SETS = ("l2-ball", "linf-box", "free")
POINTWISE = "pointwise"
DISTRIBUTION = "distribution"


class SpecError(ValueError):
    """A spec is malformed; the message names the result, what is wrong and the fix."""


@dataclass(frozen=True)
class Source:
    """Where the result is in the notes."""

    section: str
    line: int


@dataclass(frozen=True)
class Coupled:
    """A second run on the same instances from the same w1, compared with the setting's run
    through the trace symbol ``coupled_dist`` = ||w_{T+1} - w'_{T'+1}|| (section 8.2 compares B
    steps of SGD with one step of batch-B SGD). ``algorithm`` names a built-in algorithm,
    ``hyper`` its hyper-parameters as sympy expressions (of the constants, T, B, the setting's
    free parameters and hyper-parameters), ``horizon`` T' and ``batch_size`` expressions of T.
    With ``shared_samples`` the coupled run's k-th stochastic gradient uses the same sample z as
    the setting's run's k-th one (common random numbers, as in the notes' coupling); otherwise
    its samples are fresh and independent."""

    algorithm: str
    hyper: Mapping[str, sp.Expr] = field(default_factory=dict)
    horizon: sp.Expr = sp.Integer(1)
    batch_size: sp.Expr | None = None
    shared_samples: bool = True


@dataclass(frozen=True)
class Setting:
    """One way to run the result: an algorithm (a name in ``algorithms.ALGORITHMS``,
    ``"pointwise"`` for a lemma that holds at every point, or ``"distribution"`` for a fact about
    random variables, checked on generated finite distributions with exact expectations,
    theorems/engine/distribution_rounds.py), its hyper-parameters as sympy
    expressions, free parameters drawn per instance in [low, high] (endpoints included with
    positive probability), the oracles under which the result is claimed, and ``minibatch``
    sizes: each round draws one, passes it to the algorithm as ``batch_size`` and binds the
    symbol ``B`` to it (pointwise settings average that many oracle draws in ``noise_sq_w``); a
    size is a positive integer or a sympy expression of the horizon T (e.g. ``T``: B = T).
    ``coupled``: a second run to compare with (``Coupled``). ``min_replicas``: at least this many
    replicas per instance in every profile, for an expectation attained with equality (an identity
    such as Proposition 7.1), whose estimates must be precise enough to sit near their bound.
    ``online``: the feasible set of an online setting (``problems.projections.SETS``), whose losses
    are an adversary's sequence (``adversaries``: when empty, every non-stationary one of
    ``problems.online.ADVERSARIES``), whose ``noise`` is one of ``ONLINE_NOISE``
    (theorems/engine/online_rounds.py) and whose w_1 is drawn in the set, or anywhere with
    ``start_anywhere`` (for a statement that does not restrict it)."""

    name: str
    algorithm: str
    hyper: Mapping[str, sp.Expr] = field(default_factory=dict)
    free: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    noise: tuple[str, ...] = ("exact",)
    minibatch: tuple[int | sp.Expr, ...] = ()
    coupled: Coupled | None = None
    min_replicas: int = 1
    online: str | None = None
    adversaries: tuple[str, ...] = ()
    start_anywhere: bool = False

    @property
    def pointwise(self) -> bool:
        return self.algorithm == POINTWISE

    @property
    def distribution(self) -> bool:
        return self.algorithm == DISTRIBUTION

    @property
    def runs_algorithm(self) -> bool:
        """False for pointwise and distribution settings, which run no algorithm."""
        return not (self.pointwise or self.distribution)

    @property
    def stochastic(self) -> bool:
        return any(n != "exact" for n in self.noise)


@dataclass(frozen=True)
class Claim:
    """``measured <= bound`` on every instance (kind ``sure``) or in expectation over the
    algorithm's randomness (kind ``expect``); ``when`` restricts the claim to the instances
    where a sympy condition on constants and parameters holds.

    ``erratum`` marks a statement that is false as written (DESIGN.md, errata): it says what is
    wrong and names the corrected claim of the same spec (``corrected_by``). The checker reports
    such a claim as ``erratum`` with its counterexample when it falsifies it; ``witness`` is the
    path of a stored counterexample file that replays the violation deterministically, so the
    erratum stays demonstrated even when a run's random search misses it (the pytest item
    fails if neither shows the violation)."""

    name: str
    kind: str
    measured: sp.Expr
    bound: sp.Expr
    setting: str
    statement: str
    when: sp.Basic | None = None
    erratum: str | None = None
    corrected_by: str | None = None
    witness: str | None = None


@dataclass(frozen=True)
class ProofStep:
    """An algebraic step of the proof: ``lhs == rhs`` after substituting ``subs``. A side that is
    costly to build (e.g. a ``sympy.integrate``) may be given as a function of no arguments
    returning it: it is then built when the step is verified, not when the catalog is imported."""

    description: str
    lhs: sp.Expr | Callable[[], sp.Expr]
    rhs: sp.Expr | Callable[[], sp.Expr]
    subs: Mapping[sp.Symbol, sp.Expr] = field(default_factory=dict)

    def verify(self) -> bool:
        """True when sympy proves lhs - rhs simplifies to 0."""
        lhs, rhs = (side if isinstance(side, sp.Basic) or not callable(side) else side() for side in (self.lhs, self.rhs))
        difference = (sp.sympify(lhs) - sp.sympify(rhs)).subs(dict(self.subs))
        return sp.simplify(difference) == 0


@dataclass(frozen=True)
class Spec:
    """A result of the notes as an executable specification."""

    id: str
    title: str
    source: Source
    assumptions: frozenset[str]
    settings: tuple[Setting, ...]
    claims: tuple[Claim, ...]
    proof_steps: tuple[ProofStep, ...] = ()
    statement: str = ""

    def __post_init__(self) -> None:
        _validate(self)

    def setting(self, name: str) -> Setting:
        for s in self.settings:
            if s.name == name:
                return s
        raise KeyError(f"{self.id} has no setting {name!r}; its settings are {[s.name for s in self.settings]}")

    def claim(self, name: str) -> Claim:
        for c in self.claims:
            if c.name == name:
                return c
        raise KeyError(f"{self.id} has no claim {name!r}; its claims are {[c.name for c in self.claims]}")


def _validate(spec: Spec) -> None:
    def fail(message: str) -> None:
        raise SpecError(f"{spec.id}: {message}")

    names = [s.name for s in spec.settings]
    if len(set(names)) != len(names):
        fail(f"setting names must be unique, got {names}")
    for s in spec.settings:
        if s.distribution and (s.minibatch or tuple(s.noise) != ("exact",)):
            fail(f"setting {s.name!r} is a distribution setting: its expectations are exact sums, so it takes "
                 "no oracles and no minibatch sizes")
        if not (isinstance(s.min_replicas, int) and not isinstance(s.min_replicas, bool) and s.min_replicas >= 1):
            fail(f"setting {s.name!r}: min_replicas must be a positive integer, got {s.min_replicas!r}")
        if s.online is not None:
            _validate_online(s, fail)
        allowed = set(S.CONSTANTS) | {"T", "d"} | set(s.free) | ({"B"} if s.minibatch else set())
        if s.distribution:
            allowed = {"T"} | set(s.free) | set(S.DISTRIBUTION_HYPER)
        if s.online is not None:
            allowed = {"T"} | set(s.free) | set(S.ONLINE_HYPER)
        for hname, expr in s.hyper.items():
            extra = {x.name for x in sp.sympify(expr).free_symbols} - allowed - {"t"}
            if extra:
                fail(f"hyper-parameter {hname!r} of setting {s.name!r} uses undeclared symbols "
                     f"{sorted(extra)}; declare them in `free` or use {sorted(allowed - set(s.free))}")
        if any(not (isinstance(m, int) and m >= 1) and not (isinstance(m, sp.Expr) and m.free_symbols <= {S.T})
               for m in s.minibatch):
            fail(f"setting {s.name!r}: minibatch sizes must be positive integers or expressions of T, got {s.minibatch}")
        if s.coupled is not None:
            _validate_coupled(s, allowed | set(s.hyper), fail)
        for fname, (low, high) in s.free.items():
            if not low <= high:
                fail(f"free parameter {fname!r} has an empty range [{low}, {high}]")
    claim_names = [c.name for c in spec.claims]
    if len(set(claim_names)) != len(claim_names):
        fail(f"claim names must be unique, got {claim_names}")
    for c in spec.claims:
        if c.kind not in KINDS:
            fail(f"claim {c.name!r} has kind {c.kind!r}; use one of {KINDS}")
        if c.setting not in names:
            fail(f"claim {c.name!r} refers to setting {c.setting!r}; the settings are {names}")
        s = spec.setting(c.setting)
        vocabulary = set(S.CONSTANTS) | {"T", "d"} | set(s.free) | set(s.hyper) | ({"B"} if s.minibatch else set())
        vocabulary |= set(S.POINTWISE) if s.pointwise else set(S.TRACE)
        if s.distribution:
            vocabulary = {"T"} | set(s.free) | set(s.hyper) | set(S.DISTRIBUTION)
        if s.online is not None:
            vocabulary = {"T"} | set(s.free) | set(s.hyper) | set(S.ONLINE)
        vocabulary |= set(S.COUPLED) if s.coupled is not None else set()
        for label, expr in (("measured", c.measured), ("bound", c.bound), ("when", c.when)):
            if expr is None:
                continue
            extra = {x.name for x in sp.sympify(expr).free_symbols} - vocabulary
            if extra:
                fail(f"claim {c.name!r}: {label} uses {sorted(extra)}, which setting {s.name!r} does not "
                     f"provide; available symbols are {sorted(vocabulary)} (theorems/language/symbols.py)")
        if (c.erratum is None) != (c.corrected_by is None):
            fail(f"claim {c.name!r}: an erratum needs both `erratum` (what is wrong) and `corrected_by` "
                 "(the name of the corrected claim)")
        if c.witness is not None and (c.erratum is None or not Path(c.witness).is_file()):
            fail(f"claim {c.name!r}: witness {c.witness!r} must be an existing counterexample file of an erratum")
        if c.corrected_by is not None and c.corrected_by not in claim_names:
            fail(f"claim {c.name!r} is corrected by {c.corrected_by!r}, which is not a claim of {spec.id}")
        if c.kind == "expect" and s.distribution:
            fail(f"claim {c.name!r}: expectations over distribution setting {s.name!r} are exact weighted sums; "
                 "use kind 'sure'")
        if c.kind == "expect" and not s.stochastic:
            fail(f"claim {c.name!r} is an expectation but setting {s.name!r} has no stochastic oracle; use kind 'sure'")


def _validate_online(s: Setting, fail) -> None:
    """An online setting names one of ``ONLINE_SETS``, runs one algorithm, without minibatch sizes
    or a coupled run, under one of the online noises; its adversaries are checked against the
    registry (problems/online.py, which needs torch) when its rounds are planned."""
    if s.online not in ONLINE_SETS:
        fail(f"setting {s.name!r}: an online setting names a feasible set of {list(ONLINE_SETS)}, got {s.online!r}")
    if not s.runs_algorithm or s.minibatch or s.coupled is not None or not set(s.noise) <= set(ONLINE_NOISE):
        fail(f"setting {s.name!r}: an online setting runs one algorithm, without minibatch sizes or a coupled run, "
             f"under noise {list(ONLINE_NOISE)}")


def validate_names(spec: Spec) -> None:
    """Check the names a spec takes from the registries: class tags, algorithms (also of coupled
    runs) and oracles. Separate from the checks at definition because the registries live with
    torch (problems/, algorithms/): ``theorycheck list`` imports the catalog without torch, and
    the checker calls this before it runs a spec."""
    from algorithms import ALGORITHMS
    from problems import CLASS_TAGS, ORACLES
    from problems.decreasing import DECREASING_CLASSES
    from problems.distributions import DISTRIBUTION_CLASSES

    def fail(message: str) -> None:
        raise SpecError(f"{spec.id}: {message}")

    tags = CLASS_TAGS | DISTRIBUTION_CLASSES | DECREASING_CLASSES
    unknown = set(spec.assumptions) - tags
    if unknown:
        fail(f"unknown class tags {sorted(unknown)}; use tags from {sorted(tags)}")
    for s in spec.settings:
        if s.runs_algorithm and s.algorithm not in ALGORITHMS:
            fail(f"setting {s.name!r} names algorithm {s.algorithm!r}; use 'pointwise', 'distribution' or one of "
                 f"{sorted(ALGORITHMS)}")
        if s.coupled is not None and s.coupled.algorithm not in ALGORITHMS:
            fail(f"setting {s.name!r}: a coupled run needs a built-in coupled algorithm (one of {sorted(ALGORITHMS)}), "
                 f"got {s.coupled.algorithm!r}")
        bad_noise = set(s.noise) - set(ORACLES) - (set(ONLINE_NOISE) if s.online is not None else set())
        if bad_noise:
            fail(f"setting {s.name!r} names unknown oracles {sorted(bad_noise)}; use {sorted(ORACLES)}")


def _validate_coupled(s: Setting, allowed: set[str], fail) -> None:
    c = s.coupled
    if s.pointwise:
        fail(f"setting {s.name!r}: a coupled run needs an algorithm setting")
    for label, expr in [*c.hyper.items(), ("horizon", c.horizon), ("batch_size", c.batch_size)]:
        symbols = set() if expr is None else {x.name for x in sp.sympify(expr).free_symbols}
        extra = symbols - (allowed if label not in ("horizon", "batch_size") else {"T"})
        if extra:
            fail(f"setting {s.name!r}: coupled {label!r} uses {sorted(extra)}; it may use "
                 f"{sorted(allowed) if label not in ('horizon', 'batch_size') else ['T']}")
