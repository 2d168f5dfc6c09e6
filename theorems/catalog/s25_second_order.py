"""Section 25: second-order smoothness and cubic regularisation. Proposition 25.3, Lemmas 25.4 and
25.5, Theorem 25.7 (the negative-curvature step) and Theorem 25.8 (cubic-regularised Newton), with
the erratum of Theorem 25.8 (its bound does not scale with L, and its proof's third case has the
wrong sign) and the corrected claim."""
from __future__ import annotations

from pathlib import Path

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import (J, L_next, L_t, L_w, L_wv, T, Delta, curv_v, grad_floor_next, grad_sq_next,
                                       hess_diff_op, inner_grad_v, lam_next, lam_t, sosp_eps, sosp_eps_J, step_sq_t,
                                       taylor_grad_sq, v_sq)

_ERRATA = Path(__file__).parent / "errata"
_x, _h, _t, _k, _alpha, _omega = sp.symbols("x h t k alpha omega", real=True)
_r, _eps, _lam, _eta, _delta = sp.symbols("r epsilon lambda eta delta", positive=True)
_Jp, _Tp, _Dp = sp.symbols("J T Delta", positive=True)

P25_3 = Spec(
    id="P25.3",
    title="A bounded third derivative makes a function second-order smooth",
    source=Source(section="25", line=3766),
    statement=("Suppose L is thrice differentiable. Then L is J-second-order smooth if ||nabla^3 L(w)||_op <= J for "
               "all w. Checked on the families of class so, whose J is proven as a bound on the third derivative "
               "(the cosine wells: sup_u |sum_j alpha_j omega_j^3 sin(omega_j u_j) x_j y_j z_j| <= max_j alpha_j "
               "omega_j^3; the regression losses: sup|phi'''| max_i ||a_i|| ||A||_op^2 / n; 0 for the quadratics; "
               "tests/test_second_order_constants.py): the conclusion ||Hess L(w + v) - Hess L(w)||_op <= J ||v|| "
               "at sampled points w and directions v (the operator norm from the eigenvalues of the difference). "
               "The proof's mean value theorem is applied entry by entry, with a point z that depends on the entry; "
               "the statement holds (apply it to t -> v^T Hess L(x + t (y - x)) w instead)."),
    assumptions=frozenset({"so"}),
    settings=(Setting("pairs", "pointwise"),),
    claims=(
        Claim("second-order-smooth", "sure", hess_diff_op, J * sp.sqrt(v_sq), "pairs",
              "||Hess L(w + v) - Hess L(w)||_op <= J ||v|| (Definition 25.1)"),
    ),
    proof_steps=(
        ProofStep("for L = alpha (1 - cos(omega x)), int_0^1 L'''(x + t h) h dt = L''(x + h) - L''(x)",
                  lambda: sp.integrate(sp.diff(_alpha * (1 - sp.cos(_omega * _x)), _x, 3).subs(_x, _x + _t * _h) * _h,
                                       (_t, 0, 1)),
                  _alpha * _omega ** 2 * (sp.cos(_omega * (_x + _h)) - sp.cos(_omega * _x))),
    ),
)

L25_4 = Spec(
    id="L25.4",
    title="The cubic upper model of a second-order smooth function",
    source=Source(section="25", line=3782),
    statement=("Suppose L is J-second-order smooth. Then for any x and delta: L(x + delta) <= L(x) + <grad L(x), delta> "
               "+ delta^T Hess L(x) delta / 2 + J ||delta||^3 / 6 (checked at sampled x = w, delta = v)."),
    assumptions=frozenset({"so"}),
    settings=(Setting("points", "pointwise"),),
    claims=(
        Claim("cubic-upper-model", "sure", L_wv - L_w - inner_grad_v - curv_v / 2, J * v_sq ** sp.Rational(3, 2) / 6,
              "points", "L(w + v) - L(w) - <grad L(w), v> - v^T Hess L(w) v / 2 <= J ||v||^3 / 6"),
    ),
    proof_steps=(
        ProofStep("int_0^1 int_0^1 t^2 k J ||delta||^3 dk dt = J ||delta||^3 / 6",
                  lambda: sp.integrate(_t ** 2 * _k * _Jp * _delta ** 3, (_k, 0, 1), (_t, 0, 1)), _Jp * _delta ** 3 / 6),
    ),
)

L25_5 = Spec(
    id="L25.5",
    title="The gradient's Taylor remainder under second-order smoothness",
    source=Source(section="25", line=3794),
    statement=("Suppose L is J-second order smooth. Then for any w and delta: "
               "||grad L(w + delta) - (grad L(w) + Hess L(w) delta)|| <= J ||delta||^2 / 2. Instances with J > 0: "
               "for a quadratic (J = 0) the remainder is 0 and its computed value is rounding in the difference "
               "of gradients, which no bound of 0 can judge."),
    assumptions=frozenset({"so"}),
    settings=(Setting("points", "pointwise"),),
    claims=(
        Claim("gradient-remainder", "sure", sp.sqrt(taylor_grad_sq), J * v_sq / 2, "points",
              "||grad L(w + v) - grad L(w) - Hess L(w) v|| <= J ||v||^2 / 2", when=sp.Gt(J, 0)),
    ),
    proof_steps=(
        ProofStep("int_0^1 J t ||delta||^2 dt = J ||delta||^2 / 2",
                  lambda: sp.integrate(_Jp * _t * _delta ** 2, (_t, 0, 1)), _Jp * _delta ** 2 / 2),
    ),
)

_c = sp.Symbol("c", nonnegative=True)
_LAM_T = sp.Max(lam_t, 0)

T25_7 = Spec(
    id="T25.7",
    title="A direction of negative curvature decreases L by 2 lambda^3 / (3 J^2)",
    source=Source(section="25", line=3847),
    statement=("Suppose L is J-second-order smooth, and for some w there is a unit vector v with v^T Hess L(w) v < "
               "-lambda for some lambda >= 0. Let delta = -(2 lambda / J) v sign(<v, grad L(w)>). Then "
               "L(w + delta) <= L(w) - 2 lambda^3 / (3 J^2). Run as an algorithm (NegativeCurvature, M = J) from w1 "
               "for T steps: at each w_t, v is a unit eigenvector of lambda_min(Hess L(w_t)) and lambda = c "
               "max(0, -lambda_min) with c drawn in [0, 1] (c = 1 is the limit lambda -> -v^T Hess L v, where the "
               "bound holds by continuity); lambda(w_t) = -lambda_min is measured independently from the Hessian. "
               "Instances with J > 0 (the bound divides by J)."),
    assumptions=frozenset({"so"}),
    settings=(Setting("nc-step", "NegativeCurvature", hyper={"M": J, "c": _c}, free={"c": (0.0, 1.0)}),),
    claims=(
        Claim("decrease", "sure", 2 * (_c * _LAM_T) ** 3 / (3 * J ** 2), L_t - L_next, "nc-step",
              "2 lambda^3 / (3 J^2) <= L(w_t) - L(w_t + delta), lambda = c max(0, -lambda_min(Hess L(w_t)))",
              when=sp.Gt(J, 0)),
    ),
    proof_steps=(
        ProofStep("eta = 2 lambda / J turns -eta^2 lambda / 2 + J eta^3 / 6 into -2 lambda^3 / (3 J^2)",
                  -_eta ** 2 * _lam / 2 + _Jp * _eta ** 3 / 6, -2 * _lam ** 3 / (3 * _Jp ** 2), {_eta: 2 * _lam / _Jp}),
        ProofStep("delta^T H delta / 2 + J ||delta||^3 / 6 = -2 lambda^3 / (3 J^2) with delta^T H delta = "
                  "-4 lambda^3/J^2, ||delta|| = 2 lambda/J",
                  -4 * _lam ** 3 / _Jp ** 2 / 2 + _Jp * (2 * _lam / _Jp) ** 3 / 6, -2 * _lam ** 3 / (3 * _Jp ** 2)),
    ),
)

#: The notes' epsilon (proof of Theorem 25.8) and the corrected one.
EPS_NOTES = 6 ** sp.Rational(2, 3) * Delta ** sp.Rational(2, 3) * J ** sp.Rational(4, 3) / T ** sp.Rational(2, 3)
EPS_CORRECTED = (12 * J ** 2 * Delta / T) ** sp.Rational(2, 3)
_ERRATUM = ("as written the bound does not scale with L: multiplying L by s > 0 multiplies ||grad L||, Delta and J by "
            "s (the cubic Newton iterates do not change) but the gradient bound 6^(2/3) Delta^(2/3) J^(4/3) / T^(2/3) "
            "by s^2, so it fails for small s. The proof's case ||delta|| <= sqrt(eps)/J gives ||grad L(w_{t+1})|| <= "
            "J ||delta||^2 <= eps / J, not eps, and its third case bounds P_t(delta*) by sqrt(eps) ||delta||^2 / 2 - "
            "J ||delta||^3 / 3 < +eps^(3/2) / (6 J^2), which is no decrease; the global minimiser's condition "
            "Hess L(w_t) + (J/2) ||delta|| I >= 0 gives P_t(delta*) <= -J ||delta||^3 / 12 instead")

T25_8 = Spec(
    id="T25.8",
    title="Cubic-regularised Newton finds an (eps, 2 sqrt(eps)) second-order stationary point",
    source=Source(section="25", line=3879),
    statement=("After T steps of cubic-regularized newton step, there must exist some t in {1, ..., T} such that "
               "||grad L(w_{t+1})|| <= 6^(2/3) Delta^(2/3) J^(4/3) / T^(2/3) and lambda(w_{t+1}) <= "
               "2 6^(1/3) Delta^(1/3) J^(2/3) / T^(1/3), lambda(w) = -lambda_min(Hess L(w)), Delta = L(w1) - L(w*). "
               "Since the second bound is 2 sqrt of the first, the claim is sosp_eps = min_t max(||grad L(w_{t+1})||, "
               "max(lambda(w_{t+1}), 0)^2 / 4) <= the first bound. The step is the certified global minimiser of the "
               "cubic model with M = J (algorithms/cubic_subproblem.py); Hessians and lambda are measured from "
               "autograd Hessians. Corrected (the proof with P_t(delta*) <= -J ||delta||^3 / 12 and ||grad|| <= "
               "eps / J): with eps = (12 J^2 Delta / T)^(2/3) some w_{t+1} has ||grad L(w_{t+1})|| <= eps / J and "
               "lambda(w_{t+1}) <= 2 sqrt(eps), i.e. min_t max(J ||grad L(w_{t+1})||, max(lambda, 0)^2 / 4) <= eps. "
               "The proof's per-step facts are checked at every step. Instances with J > 0."),
    assumptions=frozenset({"so", "lb"}),
    settings=(Setting("cubic-newton", "CubicNewton", hyper={"M": J}),),
    claims=(
        Claim("sosp", "sure", sosp_eps, EPS_NOTES, "cubic-newton",
              "some w_{t+1}, t <= T, is a (6^(2/3) Delta^(2/3) J^(4/3) / T^(2/3), 2 6^(1/3) Delta^(1/3) J^(2/3) / "
              "T^(1/3))-second-order stationary point, as written", when=sp.Gt(J, 0),
              erratum=_ERRATUM, corrected_by="sosp-corrected", witness=str(_ERRATA / "T25.8-sosp.json")),
        Claim("sosp-corrected", "sure", sosp_eps_J, EPS_CORRECTED, "cubic-newton",
              "some w_{t+1}, t <= T, has ||grad L(w_{t+1})|| <= eps / J and lambda(w_{t+1}) <= 2 sqrt(eps), "
              "eps = (12 J^2 Delta / T)^(2/3)", when=sp.Gt(J, 0)),
        Claim("gradient-by-step", "sure", sp.sqrt(grad_sq_next), J * step_sq_t + grad_floor_next, "cubic-newton",
              "||grad L(w_{t+1})|| <= J ||delta_t*||^2 at every step (equation (11) and Lemma 25.5), up to the "
              "rounding level of the computed gradient (grad_floor_next: once the iterates converge, "
              "w_t + delta_t* rounds to w_t)", when=sp.Gt(J, 0)),
        Claim("curvature-by-step", "sure", lam_next, lam_t + J * sp.sqrt(step_sq_t), "cubic-newton",
              "lambda(w_{t+1}) <= lambda(w_t) + J ||delta_t*|| at every step (Definition 25.1)", when=sp.Gt(J, 0)),
        Claim("negative-curvature-decrease", "sure", 2 * _LAM_T ** 3 / (3 * J ** 2), L_t - L_next, "cubic-newton",
              "L(w_t) - L(w_{t+1}) >= 2 max(lambda(w_t), 0)^3 / (3 J^2) at every step (Theorem 25.7, Lemma 25.4)",
              when=sp.Gt(J, 0)),
        Claim("cubic-decrease", "sure", J * step_sq_t ** sp.Rational(3, 2) / 12, L_t - L_next, "cubic-newton",
              "L(w_t) - L(w_{t+1}) >= J ||delta_t*||^3 / 12 at every step (the corrected third case)",
              when=sp.Gt(J, 0)),
    ),
    proof_steps=(
        ProofStep("the notes' eps solves T eps^(3/2) / (6 J^2) = Delta",
                  _Tp * (EPS_NOTES ** sp.Rational(3, 2)).subs({J: _Jp, T: _Tp, Delta: _Dp}) / (6 * _Jp ** 2), _Dp),
        ProofStep("the corrected eps solves T eps^(3/2) / (12 J^2) = Delta",
                  _Tp * (EPS_CORRECTED ** sp.Rational(3, 2)).subs({J: _Jp, T: _Tp, Delta: _Dp}) / (12 * _Jp ** 2), _Dp),
        ProofStep("||delta|| = sqrt(eps)/J gives J ||delta||^2 = eps / J (the notes write eps)",
                  _Jp * _r ** 2, _eps / _Jp, {_r: sp.sqrt(_eps) / _Jp}),
        ProofStep("the notes' third-case bound at ||delta|| = sqrt(eps)/J is +eps^(3/2)/(6 J^2) (no decrease)",
                  sp.sqrt(_eps) * _r ** 2 / 2 - _r ** 3 * _Jp / 3, _eps ** sp.Rational(3, 2) / (6 * _Jp ** 2),
                  {_r: sp.sqrt(_eps) / _Jp}),
        ProofStep("with delta^T H delta >= -(J/2) ||delta||^3: -delta^T H delta / 2 - J ||delta||^3 / 3 <= "
                  "-J ||delta||^3 / 12", _Jp * _r ** 3 / 4 - _Jp * _r ** 3 / 3, -_Jp * _r ** 3 / 12),
    ),
)

SPECS = (P25_3, L25_4, L25_5, T25_7, T25_8)
