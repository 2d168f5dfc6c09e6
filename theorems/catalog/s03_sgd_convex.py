"""Section 3: stochastic gradient descent on convex losses: the unbiased oracle (Proposition 3.1),
SGD (Theorem 3.2) and its single pass over fresh samples (section 3.1)."""
from __future__ import annotations

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import D, G, T, eta, oracle_bias_w, sum_subopt

_w, _z, _m = sp.symbols("w z m", real=True)
_s = sp.Symbol("s", positive=True)
_density = sp.exp(-(_z - _m) ** 2 / (2 * _s ** 2)) / sp.sqrt(2 * sp.pi * _s ** 2)
_loss = sp.exp(_w * _z)   # l(w, z) = exp(w z), z ~ N(m, s^2): the interchange is not trivial here

P3_1 = Spec(
    id="P3.1",
    title="The stochastic gradient is an unbiased estimate of the gradient",
    source=Source(section="3", line=263),
    statement=("If L(w) = E_z[l(w, z)] and l(w, z) is differentiable in w for all z, then grad L(w) = "
               "E_z[grad l(w, z)]. Checked for every stochastic oracle on every family as the identity "
               "E[g] = grad L(w) at sampled points w: two one-sided expectation claims per coordinate, "
               "E[g_i - (grad L(w))_i] <= 0 and >= 0, where the replicas of an instance are independent draws "
               "g at one shared w. Per coordinate is the more powerful reading: a bias b is caught once its "
               "largest coordinate, at least ||b||/sqrt(d), stands out of the noise (the oracles' noise is "
               "isotropic, sigma/sqrt(d) per coordinate), at the price of a Bonferroni factor d; one random "
               "unit direction u sees only <b, u>, of size about ||b||/sqrt(d) but often near 0, and averaging "
               "u over replicas would see nothing (E<b, u> = 0)."),
    assumptions=frozenset(),
    settings=(Setting("points", "pointwise", noise=("gaussian", "sphere")),),
    claims=(
        Claim("mean-at-most-gradient", "expect", oracle_bias_w, sp.Integer(0), "points",
              "E[g_i] - (grad L(w))_i <= 0 for every coordinate i, g = grad l(w, z) at a sampled w"),
        Claim("mean-at-least-gradient", "expect", -oracle_bias_w, sp.Integer(0), "points",
              "(grad L(w))_i - E[g_i] <= 0 for every coordinate i, g = grad l(w, z) at a sampled w"),
    ),
    proof_steps=(
        ProofStep("interchanging differentiation and integration: d/dw E[exp(w z)] = E[d/dw exp(w z)] "
                  "for z ~ N(m, s^2)",
                  lambda: sp.diff(sp.integrate(_loss * _density, (_z, -sp.oo, sp.oo)), _w),
                  lambda: sp.integrate(sp.diff(_loss, _w) * _density, (_z, -sp.oo, sp.oo))),
    ),
)

T3_2 = Spec(
    id="T3.2",
    title="SGD on convex losses with G-Lipschitz stochastic losses",
    source=Source(section="3", line=305),
    statement=("Suppose L is convex and l(w, z) is G-Lipschitz, ||w1 - w*|| <= D, eta = D/(G sqrt(T)). "
               "Then E[sum_{t=1}^T L(w_t) - L(w*)] <= D G sqrt(T), and for w_hat uniform on w_1..w_T, "
               "E[L(w_hat) - L(w*)] <= D G / sqrt(T)."),
    assumptions=frozenset({"cvx", "bdd", "minimizer"}),
    settings=(Setting("tuned", "SGD", hyper={"eta": D / (G * sp.sqrt(T))}, noise=("sphere",)),),
    claims=(
        Claim("expected-sum-suboptimality", "expect", sum_subopt, D * G * sp.sqrt(T), "tuned",
              "E[sum_{t=1}^T L(w_t) - L(w*)] <= D G sqrt(T)"),
        Claim("random-iterate", "expect", sum_subopt / T, D * G / sp.sqrt(T), "tuned",
              "E[L(w_hat) - L(w*)] <= D G / sqrt(T), w_hat uniform on w_1..w_T"),
    ),
    proof_steps=(
        ProofStep("eta = D/(G sqrt T) turns D^2/(2 eta) + eta T G^2/2 into D G sqrt(T)",
                  D ** 2 / (2 * eta) + eta * T * G ** 2 / 2, D * G * sp.sqrt(T), {eta: D / (G * sp.sqrt(T))}),
    ),
)

S3_1 = Spec(
    id="S3.1",
    title="A single pass of SGD over N fresh samples bounds the population loss",
    source=Source(section="3.1", line=367),
    statement=("Given i.i.d. z_1, ..., z_N, run SGD for N steps using each sample once, with Theorem 3.2's "
               "eta = D/(G sqrt(N)); a uniformly random iterate w_hat satisfies E[L(w_hat) - L(w*)] <= DG/sqrt(N) "
               "for the population loss L(w) = E_z[l(w, z)], not the empirical risk. Encoded with the oracles' "
               "stochastic loss l(w, z) = L(w) + <z, w>, E z = 0, whose population loss is exactly L: each oracle "
               "call draws a fresh z, so the run's T = N steps use N fresh i.i.d. samples, each once. l is "
               "(G_L + sigma)-Lipschitz on a G_L-Lipschitz family with the sphere oracle (class bdd(G)). "
               "E over w_hat is the exact average (1/N) sum_t of the population suboptimality of the iterates."),
    assumptions=frozenset({"cvx", "bdd", "minimizer"}),
    settings=(Setting("single-pass", "SGD", hyper={"eta": D / (G * sp.sqrt(T))}, noise=("sphere",)),),
    claims=(
        Claim("population-random-iterate", "expect", sum_subopt / T, D * G / sp.sqrt(T), "single-pass",
              "E[L(w_hat) - L(w*)] <= D G / sqrt(N) for the population loss, N = T fresh samples used once"),
    ),
    proof_steps=(
        ProofStep("eta = D/(G sqrt N) turns (D^2/(2 eta) + eta N G^2/2)/N into D G/sqrt(N)",
                  (D ** 2 / (2 * eta) + eta * T * G ** 2 / 2) / T, D * G / sp.sqrt(T), {eta: D / (G * sp.sqrt(T))}),
    ),
)

SPECS = (P3_1, T3_2, S3_1)
