"""Section 5: function classes. Proposition 5.2 (H-smooth iff the Hessian is bounded by H) and
Theorem 5.3 (the Moreau envelope of a G-Lipschitz function), with its erratum."""
from __future__ import annotations

from pathlib import Path

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import (G, H, H_env, L_w, env_certified, env_grad_diff, env_w_hi, env_w_lo, env_wmv_hi,
                              env_wmv_lo, env_wv_hi, env_wv_lo, grad_diff_sq, hess_power_sq, hess_v_sq, rho, v_sq)

P5_2 = Spec(
    id="P5.2",
    title="A twice-differentiable function is H-smooth iff its Hessian is bounded by H",
    source=Source(section="5", line=823),
    statement=("Suppose L is twice differentiable. Then L is H-smooth if and only if ||Hess L(w)||_op <= H for all w. "
               "Both directions are checked on the smooth families, whose H is certified as a bound on the Hessian: "
               "the Hessian bound along sampled directions v and along the direction reached by power iteration "
               "(where ||Hess L(w) u|| approaches ||Hess L(w)||_op), and the smoothness definition "
               "||grad L(w + v) - grad L(w)|| <= H ||v||."),
    assumptions=frozenset({"smooth"}),
    # one setting per claim, so that each claim's rounds compute only its own symbols
    settings=(Setting("directions", "pointwise"), Setting("power", "pointwise"), Setting("differences", "pointwise")),
    claims=(
        Claim("hessian-bounded", "sure", sp.sqrt(hess_v_sq), H * sp.sqrt(v_sq), "directions",
              "||Hess L(w) v|| <= H ||v|| at every sampled w and direction v"),
        Claim("hessian-bounded-power", "sure", sp.sqrt(hess_power_sq), H, "power",
              "||Hess L(w) u|| <= H for the unit u reached by 8 power-iteration steps from v (the attained direction)"),
        Claim("smooth", "sure", sp.sqrt(grad_diff_sq), H * sp.sqrt(v_sq), "differences",
              "||grad L(w + v) - grad L(w)|| <= H ||v|| at every sampled w and v (Definition 5.1)"),
    ),
)

_s = sp.Symbol("s", real=True)
#: The envelope's smoothness constant when Hess L >= -rho I and H_env > rho: max(H_env, H_env rho/(H_env - rho)),
#: which is H_env for a convex L (rho = 0).
_H_HAT = sp.Max(H_env, H_env * rho / (H_env - rho))
#: Certified instances: H_env > rho, and the inner solve pinned down the proximal point of every
#: sampled point (problems/moreau.py gives the others NaN, which would otherwise read as a violation).
_CERTIFIED = sp.And(sp.Gt(H_env, rho), sp.Gt(env_certified, sp.Rational(1, 2)))
_GAP = sp.Max(L_w - env_w_lo, env_w_hi - L_w)
_LIPSCHITZ = sp.Max(env_wv_hi - env_w_lo, env_w_hi - env_wv_lo)
_SECOND_DIFFERENCE = sp.Max(env_wv_hi + env_wmv_hi - 2 * env_w_lo, 2 * env_w_hi - env_wv_lo - env_wmv_lo)
_ERRATUM = ("as written the envelope of a non-convex G-Lipschitz L need not be H-smooth: where the inner problem "
            "has two minimisers (e.g. at the top of a cosine well when H < rho) L_hat has a concave kink, and for "
            "rho < H < 2 rho its curvature there is -H rho/(H - rho), below -H; the notes' proof needs convexity")
_ERRATA = Path(__file__).parent / "errata"

_c, _r = sp.symbols("c r", positive=True)

T5_3 = Spec(
    id="T5.3",
    title="The Moreau envelope of a Lipschitz function is smooth, Lipschitz and close to it",
    source=Source(section="5", line=839),
    statement=("Let L be G-Lipschitz. For any H, L_hat(x) = inf_y L(y) + H/2 ||x - y||^2 is H-smooth and "
               "G-Lipschitz, and |L_hat(x) - L(x)| <= G^2/H. The envelope's parameter is written H_env here (H is "
               "a smooth family's own constant); it is drawn as H_env = 10^s G, s in [-1, 1], from the one constant "
               "every G-Lipschitz family certifies: the points w are sampled at distances 1e-2..1e2 from w* (or "
               "w1) and the prox moves x by at most G/H_env, so G/H_env in [0.1, 10] spans the middle of those "
               "distances (points near w* whose prox lands on w*'s face, where the smoothness bound is attained, "
               "and far points where L_hat = L - ||grad L||^2/(2 H_env) on a linear piece), and G^2/H_env the "
               "loss's variation G ||w - w*|| there, on smooth and non-smooth families alike (on cosine wells "
               "H/G = omega is in [0.3, 3], so H_env also crosses the erratum's range (rho, 2 rho)). "
               "L_hat is computed with a certified inner solve (problems/moreau.py): when Hess L >= -rho I with "
               "rho < H_env (rho = 0 for a convex L, the family's H for a smooth one), any y brackets L_hat(x) in "
               "[phi(y) - ||grad phi(y)||^2/(2 (H_env - rho)), phi(y)] and the proximal point within "
               "||grad phi(y)||/(H_env - rho); for the piecewise-linear l1-regression and hinge families the "
               "brackets come from the prox problem's concave dual instead (problems/moreau_polyhedral.py: weak "
               "duality for the values, strong convexity and an exact KKT point for the proximal point). Every "
               "claim compares the side of the brackets that makes a violation "
               "real, on the instances with H_env > rho. Smaller H_env (kinks of non-convex envelopes, and the Huber "
               "envelope of |x|) are checked by tests/test_moreau.py with global 1-d solves. As written, H-smoothness "
               "fails for non-convex L (erratum with a stored witness); the corrected claims use the envelope's "
               "smoothness constant max(H_env, H_env rho/(H_env - rho)), which is H_env for a convex L. The bound "
               "G^2/H is kept as written although the proof gives G^2/(2H), since L(y) >= L(x) - G ||x - y||."),
    assumptions=frozenset({"lip"}),
    settings=(Setting("envelope", "pointwise", hyper={"H_env": G * 10 ** _s}, free={"s": (-1.0, 1.0)}),),
    claims=(
        Claim("close", "sure", _GAP, G ** 2 / H_env, "envelope",
              "|L_hat(w) - L(w)| <= G^2/H_env at every sampled w", when=_CERTIFIED),
        Claim("lipschitz", "sure", _LIPSCHITZ, G * sp.sqrt(v_sq), "envelope",
              "|L_hat(w + v) - L_hat(w)| <= G ||v|| at every sampled w and v", when=_CERTIFIED),
        Claim("smooth", "sure", env_grad_diff, H_env * sp.sqrt(v_sq), "envelope",
              "||grad L_hat(w + v) - grad L_hat(w)|| <= H_env ||v|| (grad L_hat(x) = H_env (x - prox(x)))",
              when=_CERTIFIED, erratum=_ERRATUM, corrected_by="smooth-corrected",
              witness=str(_ERRATA / "T5.3-smooth.json")),
        Claim("smooth-second-difference", "sure", _SECOND_DIFFERENCE, H_env * v_sq, "envelope",
              "|L_hat(w + v) + L_hat(w - v) - 2 L_hat(w)| <= H_env ||v||^2 (implied by H_env-smoothness; values only)",
              when=_CERTIFIED, erratum=_ERRATUM, corrected_by="second-difference-corrected",
              witness=str(_ERRATA / "T5.3-smooth-second-difference.json")),
        Claim("smooth-corrected", "sure", env_grad_diff, _H_HAT * sp.sqrt(v_sq), "envelope",
              "corrected: ||grad L_hat(w + v) - grad L_hat(w)|| <= max(H_env, H_env rho/(H_env - rho)) ||v|| "
              "when Hess L >= -rho I, rho < H_env (H_env for a convex L)", when=_CERTIFIED),
        Claim("second-difference-corrected", "sure", _SECOND_DIFFERENCE, _H_HAT * v_sq, "envelope",
              "corrected: |L_hat(w + v) + L_hat(w - v) - 2 L_hat(w)| <= max(H_env, H_env rho/(H_env - rho)) ||v||^2",
              when=_CERTIFIED),
    ),
    proof_steps=(
        ProofStep("L(y) + H/2 r^2 >= L(x) - G r + H/2 r^2 with r = ||x - y||, whose minimum -G^2/(2H) is at r = G/H",
                  (-G * _r + H_env / 2 * _r ** 2).subs(_r, G / H_env), -G ** 2 / (2 * H_env)),
        ProofStep("prox = P(c x) with P firmly nonexpansive and c = H/(H - rho) gives the constant H (c - 1) = "
                  "H rho/(H - rho) when c > 2", H_env * (_c - 1), H_env * rho / (H_env - rho), {_c: H_env / (H_env - rho)}),
    ),
)

SPECS = (P5_2, T5_3)
