"""Section 14: momentum as an integrator (Algorithm 10, A10): the Euler step and the two-step
(look-ahead) integrator. The catalog checks the notes' first behaviour on every smooth family,
'with beta = 0, the update is identical to regular gradient descent', for both integrators and for
equations (5)-(6) as printed (an erratum: with w_{t+1} = w_t - v_t they climb the gradient). The
eigenvalue picture on quadratics is computed exactly in tests/test_accelerated_specs.py from the
algorithms' own steps; two of its consequences run here on the quadratic instances (a certified
J = 0: the Hessian is constant), with eta = 1/H and no friction (beta = 1), h = lambda/H for each
Hessian eigenvalue lambda and e_t the component of w_t - w* along its eigenvector:

- Euler: e_{t+1} = (2 - h) e_t - e_{t-1} (e_0 = e_1, as v_0 = 0) conserves
  Q = e_{t+1}^2 + e_t^2 - (2 - h) e_{t+1} e_t = h e_1^2, and h (a^2 + b^2)/2 <= Q <= (4 - h)(a^2 + b^2)/2
  give 2 mu/(4H - mu) (L(w_1) - L*) <= (L(w_t) - L*) + (L(w_{t+1}) - L*) <= 2 (L(w_1) - L*) at every
  t: the ball neither settles nor escapes ('zero progress').
- two-step: e_{t+1} = (1 - h)(2 e_t - e_{t-1}) has the roots sqrt(1 - h) e^{+-i theta}, cos theta =
  sqrt(1 - h), and e_1, e_2 = (1 - h) e_1 give e_{T+1} = (1 - h)^(T/2) cos(T theta) e_1, so
  L(w_{t+1}) - L* <= (1 - mu/H)^t (L(w_1) - L*) at every t: the look-ahead alone damps the motion.
"""
from __future__ import annotations

from pathlib import Path

import sympy as sp

from theorems.language.spec import Claim, Coupled, Setting, Source, Spec
from theorems.language.symbols import H, J, L1, L_next, L_t, Lstar, T, c, coupled_dist, coupled_scale, eta, mu, t

_EQUAL = coupled_dist + coupled_scale
_QUADRATIC = J <= 0  # a certified J = 0: the Hessian is constant
_GAP_1 = L1 - Lstar


def _against_gd(name: str, algorithm: str) -> Setting:
    """``algorithm`` with beta = 0 and eta = c/H (c in [0.01, 1]), next to gradient descent with the same eta."""
    return Setting(name, algorithm, hyper={"eta": c / H, "beta": sp.Integer(0)}, free={"c": (0.01, 1.0)},
                   coupled=Coupled("GD", hyper={"eta": eta}, horizon=T))


A10 = Spec(
    id="A10",
    title="Gradient descent with momentum: the Euler and the two-step (look-ahead) integrators",
    source=Source(section="14", line=2003),
    statement=("v_t = beta v_{t-1} - eta grad L(w_t), w_{t+1} = w_t - v_t (5)-(6); the two-step integrator evaluates "
               "the gradient at w_{t+1/2} = w_t - beta v_{t-1}. 'beta = 0 corresponds to infinite friction ... with "
               "beta = 0, the update is identical to regular gradient descent. beta = 1 corresponds to zero friction' "
               "(the ball 'will happily roll uphill exactly as far as it has rolled downhill and make zero progress'). "
               "Section 15 derives the two-step form with w_{t+1} = w_t + v_t and the look-ahead w_t + beta v_{t-1}; "
               "the corrected integrators use those signs (algorithms/accelerated.py)."),
    assumptions=frozenset({"smooth"}),  # the no-friction claims need J and L*: they run on families of class so, lb
    settings=(_against_gd("euler", "Momentum-Euler"), _against_gd("two-step", "Momentum-two-step"),
              _against_gd("euler-as-printed", "Momentum-Euler-as-printed"),
              Setting("no-friction-euler", "Momentum-Euler", hyper={"eta": 1 / H, "beta": sp.Integer(1)}),
              Setting("no-friction-two-step", "Momentum-two-step", hyper={"eta": 1 / H, "beta": sp.Integer(1)})),
    claims=(
        Claim("euler-beta-0-is-gd", "sure", _EQUAL, coupled_scale, "euler",
              "the Euler integrator (signs corrected) with beta = 0 takes gradient descent's iterates"),
        Claim("two-step-beta-0-is-gd", "sure", _EQUAL, coupled_scale, "two-step",
              "the two-step integrator (signs corrected) with beta = 0 takes gradient descent's iterates"),
        Claim("as-printed-beta-0-is-gd", "sure", _EQUAL, coupled_scale, "euler-as-printed",
              "equations (5)-(6) as printed with beta = 0 take gradient descent's iterates",
              erratum=("with beta = 0, (5)-(6) give w_{t+1} = w_t - v_t = w_t + eta grad L(w_t): gradient ascent, not "
                       "descent; the velocity must enter as w_{t+1} = w_t + v_t (as Section 15 derives), and the "
                       "equation of motion as dv/dt = -(1 - beta) v - eta grad L(w)"),
              corrected_by="euler-beta-0-is-gd", witness=str(Path(__file__).parent / "errata" / "A10-as-printed.json")),
        Claim("no-friction-euler-keeps-moving", "sure", 2 * mu / (4 * H - mu) * _GAP_1,
              (L_t - Lstar) + (L_next - Lstar), "no-friction-euler",
              "quadratics, beta = 1, eta = 1/H, Euler: (L(w_t) - L*) + (L(w_{t+1}) - L*) >= "
              "2 mu/(4H - mu) (L(w_1) - L*)",
              when=_QUADRATIC),
        Claim("no-friction-euler-stays-bounded", "sure", (L_t - Lstar) + (L_next - Lstar), 2 * _GAP_1,
              "no-friction-euler",
              "quadratics, beta = 1, eta = 1/H, Euler: (L(w_t) - L*) + (L(w_{t+1}) - L*) <= 2 (L(w_1) - L*)",
              when=_QUADRATIC),
        Claim("no-friction-two-step-converges", "sure", L_next - Lstar, (1 - mu / H) ** t * _GAP_1,
              "no-friction-two-step",
              "quadratics, beta = 1, eta = 1/H, two-step: L(w_{t+1}) - L* <= (1 - mu/H)^t (L(w_1) - L*) at every t",
              when=_QUADRATIC),
    ),
)

SPECS = (A10,)
