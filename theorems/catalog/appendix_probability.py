"""Appendix A: probability background (Markov, Chebyshev, Jensen, its discrete form, the union
bound), on generated finite distributions whose expectations and probabilities are exact
weighted sums (theorems/engine/distribution_rounds.py), so every claim is sure."""
from __future__ import annotations

from pathlib import Path

import sympy as sp

from theorems.language.spec import Claim, Setting, Source, Spec
from theorems.language.symbols import (E_X1, Ef_X, P_X_ge_y, P_Xd_le_neg_y, P_dev_ge_y, P_union, f_EX, f_xbar_notes, sum_a,
                              sum_f_atoms, thr, var_X1, y)

_ERRATA = Path(__file__).parent / "errata"
_DISTRIBUTIONS = Setting("distributions", "distribution")
_sign = sp.Symbol("sign", real=True)

PA_1 = Spec(
    id="PA.1",
    title="Markov inequality",
    source=Source(section="A", line=3983),
    statement=("Suppose X is a random variable such that X >= 0 with probability 1 and E[X] < inf. Then for all "
               "y > 0: P[X >= y] <= E[X]/y. Checked on X = X_1 of non-negative generators at thresholds y at every "
               "atom and every deviation |x_k - E X| (a zero replaced by 1): the equality case is X in {0, v} "
               "with y = v."),
    assumptions=frozenset({"nonneg"}),
    settings=(_DISTRIBUTIONS,),
    claims=(
        Claim("markov", "sure", P_X_ge_y, E_X1 / y, "distributions", "P[X >= y] <= E[X]/y for y > 0"),
    ),
)

PA_2 = Spec(
    id="PA.2",
    title="Chebyshev inequality",
    source=Source(section="A", line=3989),
    statement=("Suppose X is a random variable with variance sigma^2 = E[(X - E X)^2]. Then for all y: "
               "P[|X - E X| >= y] <= sigma^2/y^2. As written 'for all y' includes y < 0, where the left side is 1 "
               "and the right side can be anything small; the proof ('|X - E X| >= y iff Z >= y^2') needs y >= 0 "
               "and Markov needs y^2 > 0, so the corrected claim is for y > 0. Checked on X = X_1 at the "
               "thresholds of Markov (y = sign * thr, sign in [-1, 1], for the statement as written); the "
               "equality case is the symmetric three-point law."),
    assumptions=frozenset(),
    settings=(
        Setting("signed-y", "distribution", hyper={"y": _sign * thr}, free={"sign": (-1.0, 1.0)}),
        Setting("positive-y", "distribution"),
    ),
    claims=(
        Claim("all-y", "sure", P_dev_ge_y, var_X1 / y ** 2, "signed-y",
              "P[|X - E X| >= y] <= sigma^2/y^2 for all y (as written)",
              erratum=("for y < 0 the event |X - E X| >= y is sure while sigma^2/y^2 can be below 1 (e.g. any X with "
                       "sigma^2 < y^2); the statement needs y > 0"),
              corrected_by="positive-y",
              witness=str(_ERRATA / "PA.2-all-y.json")),
        Claim("positive-y", "sure", P_dev_ge_y, var_X1 / y ** 2, "positive-y",
              "corrected: P[|X - E X| >= y] <= sigma^2/y^2 for all y > 0"),
    ),
)

PA_3 = Spec(
    id="PA.3",
    title="Jensen inequality",
    source=Source(section="A", line=3995),
    statement=("Suppose X is a random variable and f is a convex function. Then E[f(X)] >= f(E[X]). Checked with f "
               "the loss of each convex problem family (problems.FAMILIES, class cvx), evaluated at the atoms in "
               "R^d; point masses are the equality case."),
    assumptions=frozenset({"cvx"}),
    settings=(_DISTRIBUTIONS,),
    claims=(
        Claim("jensen", "sure", f_EX, Ef_X, "distributions", "f(E[X]) <= E[f(X)] for convex f"),
    ),
)

CA_4 = Spec(
    id="CA.4",
    title="Jensen inequality in the discrete case",
    source=Source(section="A", line=4013),
    statement=("Suppose x_1, ..., x_N in R^d and a_1, ..., a_N are non-negative real numbers. Define "
               "x_bar = (1/sum_i a_i) sum_i x_i. Then if f is convex, (1/sum_i a_i) sum_i f(x_i) >= f(x_bar). "
               "Encoded exactly as written (no a_i inside either sum), with x_i the N = T + 1 atoms (zero-weight "
               "atoms included) and sum_i a_i the generated mass. The proof's X takes x_i with probability "
               "a_i/sum_j a_j, so E[X] = sum_i a_i x_i / sum_j a_j: the corrected claim weights both sums by a_i, "
               "(1/sum_i a_i) sum_i a_i f(x_i) >= f(sum_i a_i x_i / sum_i a_i)."),
    assumptions=frozenset({"cvx"}),
    settings=(_DISTRIBUTIONS,),
    claims=(
        Claim("as-written", "sure", f_xbar_notes, sum_f_atoms / sum_a, "distributions",
              "f((1/sum a_i) sum x_i) <= (1/sum a_i) sum f(x_i) (as written, unweighted sums)",
              erratum=("the sums lack the weights a_i: as written the claim only holds when sum_i a_i = N; e.g. "
                       "f = 1 and sum_i a_i > N gives N/sum_i a_i < 1 = f(x_bar)"),
              corrected_by="weighted",
              witness=str(_ERRATA / "CA.4-as-written.json")),
        Claim("weighted", "sure", f_EX, Ef_X, "distributions",
              "corrected: f(sum a_i x_i / sum a_i) <= (1/sum a_i) sum a_i f(x_i)"),
    ),
)

PA_5 = Spec(
    id="PA.5",
    title="Union bound",
    source=Source(section="A", line=4019),
    statement=("Suppose A and B are two events. Then P[A or B] <= P[A] + P[B]. Checked with the threshold events "
               "A = {X_1 >= y} and B = {X_d <= -y} at the thresholds y of Markov (disjoint when d = 1, the "
               "equality case)."),
    assumptions=frozenset(),
    settings=(_DISTRIBUTIONS,),
    claims=(
        Claim("union", "sure", P_union, P_X_ge_y + P_Xd_le_neg_y, "distributions", "P[A or B] <= P[A] + P[B]"),
    ),
)

SPECS = (PA_1, PA_2, PA_3, CA_4, PA_5)
