"""Section 15.1: online gradient descent against an arbitrary sequence (Theorem 15.1)."""
from __future__ import annotations

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import T, dist_u_sq, eta, sum_g_sq, sum_gu, sum_gw, t

s = sp.Symbol("s", real=True)           # log10 of the step size, drawn per instance
x, g = sp.symbols("x g", real=True)     # one coordinate of w_t - w* and of g_t
a = sp.Function("a")                    # a_t = ||w_t - w*||^2

T15_1 = Spec(
    id="T15.1",
    title="Online gradient descent: regret against an arbitrary sequence",
    source=Source(section="15", line=2061),
    statement=("Suppose g_1, ..., g_T is a completely arbitrary sequence of vectors. Define w_t by "
               "w_{t+1} = w_t - eta g_t. Then for any w*: sum_{t=1}^T <g_t, w_t - w*> <= "
               "||w* - w_1||^2/(2 eta) + (eta/2) sum_{t=1}^T ||g_t||^2."),
    assumptions=frozenset(),
    settings=(Setting("ogd", "OnlineGD", hyper={"eta": 10 ** s}, free={"s": (-3.0, 3.0)}, online="free"),),
    claims=(
        Claim("regret", "sure", sum_gw - sum_gu, dist_u_sq / (2 * eta) + eta / 2 * sum_g_sq, "ogd",
              "sum_t <g_t, w_t - w*> <= ||w* - w_1||^2/(2 eta) + (eta/2) sum_t ||g_t||^2 for every sequence "
              "(random, adaptive, lower-bound) and every w* (w_{T+1}, where it is an equality, and points around it)"),
    ),
    proof_steps=(
        ProofStep("expanding one coordinate: (x - eta g)^2 = x^2 - 2 eta g x + eta^2 g^2",
                  (x - eta * g) ** 2, x ** 2 - 2 * eta * g * x + eta ** 2 * g ** 2),
        ProofStep("rearranged: g x = (x^2 - (x - eta g)^2)/(2 eta) + (eta/2) g^2",
                  g * x, (x ** 2 - (x - eta * g) ** 2) / (2 * eta) + eta / 2 * g ** 2),
        ProofStep("telescoping: sum_{t=1}^T (a_t - a_{t+1}) = a_1 - a_{T+1}",
                  lambda: sp.Sum(a(t) - a(t + 1), (t, 1, T)).doit(), a(1) - a(T + 1)),
    ),
)

SPECS = (T15_1,)
