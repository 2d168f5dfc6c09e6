"""Section 10: the sum-integral comparison (Lemma 10.2) and the auxiliary results of section 10.3
(bias-variance decomposition, Young and Cauchy-Schwarz), on generated finite distributions with
exact expectations (theorems/engine/distribution_rounds.py)."""
from __future__ import annotations

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import (E_A_sq, E_AB, E_B_sq, E_sq_dist_Y, F_end, F_start, bias_sq, inner_xY, norm_Y,
                              norm_x, sum_xf, var_X)

_DISTRIBUTIONS = Setting("distributions", "distribution")

_S0, _S1, _S2, _S3, _eps, _total = sp.symbols("S_0 S_1 S_2 S_3 epsilon S", positive=True)
_F = sp.Function("F")

L10_2 = Spec(
    id="L10.2",
    title="A sum weighted by a decreasing function of the partial sums is at most an integral",
    source=Source(section="10.1", line=1483),
    statement=("Suppose x_0, ..., x_T are arbitrary non-negative values and f is an arbitrary decreasing function. "
               "Then sum_{t=1}^T x_t f(sum_{i=0}^t x_i) <= int_{x_0}^{sum_{i=0}^T x_i} f(x) dx. Read carefully: "
               "'decreasing' is non-increasing (the proof only uses (b - a) f(b) <= int_a^b f), so constant f, "
               "the equality case, is included. Checked on the first coordinates of the atoms of non-negative "
               "generators (x_t = X_1 of atom t, T + 1 atoms) with non-increasing f from problems.decreasing, "
               "whose integrals are exact antiderivatives computed by sympy."),
    assumptions=frozenset({"nonneg", "decreasing"}),
    settings=(_DISTRIBUTIONS,),
    claims=(
        Claim("sum-below-integral", "sure", sum_xf, F_end - F_start, "distributions",
              "sum_{t=1}^T x_t f(S_t) <= int_{x_0}^{S_T} f(x) dx = F(S_T) - F(x_0), S_t = sum_{i<=t} x_i"),
    ),
    proof_steps=(
        ProofStep("the integrals over [S_{t-1}, S_t] telescope to the integral over [S_0, S_T] (T = 3)",
                  sum((_F(b) - _F(a) for a, b in ((_S0, _S1), (_S1, _S2), (_S2, _S3))), sp.Integer(0)),
                  _F(_S3) - _F(_S0)),
        ProofStep("the corollary's integral: int_{eps^2}^{S} dx/x = log(S/eps^2)",
                  lambda: sp.integrate(1 / _S0, (_S0, _eps ** 2, _total)), sp.log(_total / _eps ** 2)),
    ),
)

_m, _x, _yv = sp.symbols("m x y", real=True)
_p1, _p2, _x1, _x2, _x3 = sp.symbols("p_1 p_2 x_1 x_2 x_3", real=True)
_mean3 = _p1 * _x1 + _p2 * _x2 + (1 - _p1 - _p2) * _x3

P10_4 = Spec(
    id="P10.4",
    title="Bias-variance decomposition",
    source=Source(section="10.3", line=1617),
    statement=("Suppose X in R^d is some random variable. Then for any deterministic value Y: "
               "E||X - Y||^2 = ||Y - E X||^2 + E||X - E X||^2. The identity is checked as two sure inequalities "
               "(<= both ways) on finite distributions, every expectation an exact weighted sum."),
    assumptions=frozenset(),
    settings=(_DISTRIBUTIONS,),
    claims=(
        Claim("mse-at-most-bias-plus-variance", "sure", E_sq_dist_Y, bias_sq + var_X, "distributions",
              "E||X - Y||^2 <= ||Y - E X||^2 + E||X - E X||^2"),
        Claim("bias-plus-variance-at-most-mse", "sure", bias_sq + var_X, E_sq_dist_Y, "distributions",
              "||Y - E X||^2 + E||X - E X||^2 <= E||X - Y||^2"),
    ),
    proof_steps=(
        ProofStep("expanding the square, per coordinate: (x - y)^2 = (x - m)^2 + (m - y)^2 + 2 (x - m)(m - y)",
                  (_x - _yv) ** 2, (_x - _m) ** 2 + (_m - _yv) ** 2 + 2 * (_x - _m) * (_m - _yv)),
        ProofStep("the cross term vanishes: E[X - E X] = 0 (three atoms, weights p_1, p_2, 1 - p_1 - p_2)",
                  _p1 * (_x1 - _mean3) + _p2 * (_x2 - _mean3) + (1 - _p1 - _p2) * (_x3 - _mean3), 0),
    ),
)

_p, _lam, _q = sp.Symbol("p", positive=True), sp.Symbol("lam", positive=True), sp.Symbol("q", positive=True)
_log_p1, _log_lam = sp.Symbol("log_p1", real=True), sp.Symbol("log_lam", real=True)
_a, _b = sp.symbols("a b", positive=True)
_Q = _p / (_p - 1)
_YOUNG_RHS = _a ** _p / (_p * _lam ** _p) + _lam ** _Q * _b ** _Q / _Q


def _young(norm_x_expr: sp.Expr, norm_y_expr: sp.Expr, p: sp.Expr) -> sp.Expr:
    q = p / (p - 1)
    return norm_x_expr ** p / (p * _lam ** p) + _lam ** q * norm_y_expr ** q / q


P10_5 = Spec(
    id="P10.5",
    title="Young inequality",
    source=Source(section="10.3", line=1629),
    statement=("Suppose X and Y are arbitrary vectors. Then for any lambda > 0 and any non-negative p and q with "
               "1/p + 1/q = 1, <X, Y> <= ||X||^p/(p lambda^p) + lambda^q ||Y||^q/q. Checked with X each atom x_k "
               "and Y the generated point (on the ray generator Y is parallel to every atom, the equality case at "
               "the minimising lambda), lambda = 10^u with u in [-3, 3], p = 1 + 10^v with v in [-2, 2] (and "
               "p = q = 2), q = p/(p - 1)."),
    assumptions=frozenset(),
    settings=(
        Setting("any-p", "distribution", hyper={"p": 1 + 10 ** _log_p1, "lam": 10 ** _log_lam},
                free={"log_p1": (-2.0, 2.0), "log_lam": (-3.0, 3.0)}),
        Setting("p-2", "distribution", hyper={"p": sp.Integer(2), "lam": 10 ** _log_lam}, free={"log_lam": (-3.0, 3.0)}),
    ),
    claims=(
        Claim("young", "sure", inner_xY, _young(norm_x, norm_Y, _p), "any-p",
              "<X, Y> <= ||X||^p/(p lambda^p) + lambda^q ||Y||^q/q, 1/p + 1/q = 1"),
        Claim("young-p-2", "sure", inner_xY, _young(norm_x, norm_Y, _p), "p-2",
              "<X, Y> <= ||X||^2/(2 lambda^2) + lambda^2 ||Y||^2/2 (p = q = 2)"),
    ),
    proof_steps=(
        ProofStep("1/p + 1/q = 1 gives pq/(p + q) = 1", _p * _q / (_p + _q), 1, {_q: _Q}),
        ProofStep("the derivative of the right side in lambda is -||X||^p/lambda^(p+1) + lambda^(q-1) ||Y||^q",
                  sp.diff(_YOUNG_RHS, _lam), -_a ** _p / _lam ** (_p + 1) + _lam ** (_Q - 1) * _b ** _Q),
        ProofStep("at lambda = ||X||^(p/(p+q))/||Y||^(q/(p+q)) the right side equals ||X|| ||Y||",
                  _YOUNG_RHS, _a * _b, {_lam: _a ** (_p / (_p + _Q)) / _b ** (_Q / (_p + _Q))}),
        ProofStep("p = q = 2: ||X||^2/(2 eps) + eps ||Y||^2/2 - ||X|| ||Y|| = (||X||/sqrt(eps) - sqrt(eps) ||Y||)^2/2 >= 0",
                  _a ** 2 / (2 * _lam) + _lam * _b ** 2 / 2 - _a * _b, (_a / sp.sqrt(_lam) - sp.sqrt(_lam) * _b) ** 2 / 2),
    ),
)

P10_6 = Spec(
    id="P10.6",
    title="Cauchy-Schwarz for random variables",
    source=Source(section="10.3", line=1657),
    statement=("Suppose A and B are arbitrary real random variables. Then E[AB] <= sqrt(E[A^2] E[B^2]). Checked with "
               "A = X_1 and B = X_d, the first and last coordinates of the generated X (A = B when d = 1; on the "
               "ray generator A and B are proportional, the equality case). The proof's choice "
               "'lambda = E[A^2]/E[B^2]' does not give the result; Young's bound E[A^2]/(2 lambda^2) + "
               "lambda^2 E[B^2]/2 is minimised at lambda^2 = sqrt(E[A^2]/E[B^2]), which the proof step checks."),
    assumptions=frozenset(),
    settings=(_DISTRIBUTIONS,),
    claims=(
        Claim("cauchy-schwarz", "sure", E_AB, sp.sqrt(E_A_sq * E_B_sq), "distributions",
              "E[AB] <= sqrt(E[A^2] E[B^2])"),
    ),
    proof_steps=(
        ProofStep("with lambda = (E[A^2]/E[B^2])^(1/4), E[A^2]/(2 lambda^2) + lambda^2 E[B^2]/2 = sqrt(E[A^2] E[B^2])",
                  _a / (2 * _lam ** 2) + _lam ** 2 * _b / 2, sp.sqrt(_a * _b), {_lam: (_a / _b) ** sp.Rational(1, 4)}),
    ),
)

SPECS = (L10_2, P10_4, P10_5, P10_6)
