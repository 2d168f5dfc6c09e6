"""Section 23: variance reduction for convex finite sums (SVRG, Algorithm 17).

Both results assume every term l_i of L = (1/N) sum_i l_i convex and H-smooth; H here is the
finite-sum oracle's ``H_ell`` = max_i H_i (the per-term constants the families certify), not the
smoothness of L. The expectations over the sampled term are exact: Lemma 23.1's left side is the
average over all N terms (``est_sq_t``), so the lemma is checked surely, at every step of SVRG runs
whose snapshot period is drawn per instance (1 to 4N + 1 steps), so that the checkpoint v is taken
at many times of a run, not only at the notes' epoch ends (the lemma holds for every v).

Lemma 23.1 holds as stated, but its proof drops a factor 2: after E||g||^2 <= 2 E||X - E X||^2 +
4H(L(w) - L*) and E||X - E X||^2 <= 4H(L(w) - L* + L(v) - L*), the chain gives 12H(L(w) - L*) +
8H(L(v) - L*), not the stated 8H(.) + 4H(.). The statement is rescued by the exact decomposition
E||g||^2 = ||grad L(w)||^2 + E||X - E X||^2 (g is unbiased), which gives 6H(L(w) - L*) + 4H(L(v) - L*)
(proof steps below); so the stated bound is attained at most up to the factor 3/4 in the w-term.
"""
from __future__ import annotations

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import D, Delta, H_ell, L_t, Lstar, N, T, anchor_subopt_t, c, est_sq_t, eta, sum_subopt

_k = sp.Symbol("k", nonnegative=True)  # the snapshot period is floor(k N) + 1 steps
_a, _b = sp.symbols("a b", nonnegative=True)  # L(w) - L*, L(v) - L*
_c_notes = eta * sp.sqrt(N)  # the notes' c in eta = c / sqrt(N)

L23_1 = Spec(
    id="L23.1",
    title="SVRG's gradient estimate: second moment at most 8H(L(w) - L*) + 4H(L(v) - L*)",
    source=Source(section="23", line=3316),
    statement=("Suppose l(w, z) is an H-smooth convex function of w for all z. Then "
               "E||grad l(w, z) - grad l(v, z) + grad L(v)||^2 <= 8H(L(w) - L(w*)) + 4H(L(v) - L(w*))."),
    assumptions=frozenset({"cvx", "smooth", "fsum", "minimizer"}),
    settings=(
        Setting("any-checkpoint", "SVRG", hyper={"eta": c / (8 * H_ell), "epoch": sp.floor(_k * N) + 1},
                free={"c": (0.01, 8.0), "k": (0.0, 4.0)}, noise=("finite-sum",)),
    ),
    claims=(
        Claim("second-moment", "sure", est_sq_t, 8 * H_ell * (L_t - Lstar) + 4 * H_ell * anchor_subopt_t, "any-checkpoint",
              "at every step t of SVRG, with w = w_t and the checkpoint v in use: E_i||grad l_i(w) - grad l_i(v) + "
              "grad L(v)||^2 <= 8H(L(w) - L*) + 4H(L(v) - L*), the expectation over the term i exact"),
    ),
    proof_steps=(
        ProofStep("the notes' chain: 2 * 4H(a + b) + 4H a = 12 H a + 8 H b (weaker than the statement)",
                  2 * 4 * H_ell * (_a + _b) + 4 * H_ell * _a, 12 * H_ell * _a + 8 * H_ell * _b),
        ProofStep("with E||g||^2 = ||grad L(w)||^2 + E||X - E X||^2: 2H a + 2(2H a) + 2(2H b) = 6H a + 4H b",
                  2 * H_ell * _a + 2 * (2 * H_ell * _a) + 2 * (2 * H_ell * _b), 6 * H_ell * _a + 4 * H_ell * _b),
        ProofStep("and 8H a + 4H b - (6H a + 4H b) = 2H a >= 0",
                  8 * H_ell * _a + 4 * H_ell * _b - (6 * H_ell * _a + 4 * H_ell * _b), 2 * H_ell * _a),
    ),
)

T23_2 = Spec(
    id="T23.2",
    title="SVRG (Algorithm 17) on smooth convex finite sums: O(sqrt(N)/T)",
    source=Source(section="23", line=3346),
    statement=("Suppose L = (1/N) sum_i l(w, z_i) with each l(w, z) H-smooth and convex in w, T a multiple of N, "
               "eta = c/sqrt(N) and eta <= 1/(8H). Then Algorithm 17 guarantees E[(1/T) sum_{t=1}^T L(w_t) - L(w*)] "
               "<= sqrt(N) [8 c H (L(w_1) - L(w*)) + (2/c) ||w_1 - w*||^2] / T."),
    assumptions=frozenset({"cvx", "smooth", "fsum", "minimizer"}),
    settings=(
        Setting("algorithm-17", "SVRG", hyper={"eta": c / (8 * H_ell)}, free={"c": (0.01, 1.0)},
                noise=("finite-sum",)),
    ),
    claims=(
        Claim("average-suboptimality", "expect", sum_subopt / T,
              sp.sqrt(N) * (8 * _c_notes * H_ell * Delta + 2 / _c_notes * D ** 2) / T, "algorithm-17",
              "for T a multiple of N and eta = c/sqrt(N) <= 1/(8H): E[(1/T) sum_t L(w_t) - L*] <= "
              "sqrt(N) [8 c H Delta + (2/c) D^2] / T", when=sp.Eq(sp.Mod(T, N), 0)),
    ),
    proof_steps=(
        ProofStep("eta <= 1/(8H) makes (eta/2) 8H = 1/2 at the largest step", eta / 2 * 8 * H_ell, sp.Rational(1, 2),
                  {eta: 1 / (8 * H_ell)}),
        ProofStep("and (eta/2) 4H N = N/4 there", eta / 2 * 4 * H_ell * N, N / 4, {eta: 1 / (8 * H_ell)}),
        ProofStep("(1/4) S <= D^2/(2 eta) + 2 eta H N Delta gives S/T <= 2 D^2/(eta T) + 8 eta H N Delta / T",
                  4 * (D ** 2 / (2 * eta) + 2 * eta * H_ell * N * Delta) / T,
                  2 * D ** 2 / (eta * T) + 8 * eta * H_ell * N * Delta / T),
        ProofStep("eta = c/sqrt(N) turns it into sqrt(N) [8 c H Delta + (2/c) D^2] / T",
                  2 * D ** 2 / (eta * T) + 8 * eta * H_ell * N * Delta / T,
                  sp.sqrt(N) * (8 * c * H_ell * Delta + 2 / c * D ** 2) / T, {eta: c / sp.sqrt(N)}),
    ),
)

SPECS = (L23_1, T23_2)
