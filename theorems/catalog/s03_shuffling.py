"""Section 3, Algorithm 3 (line 385): SGD over epochs with random reshuffling.

The notes state no theorem for Algorithm 3 (CATALOG kind "behaviour"). What is encoded is what
can be proved and checked. On a finite sum L = (1/N) sum_i l_i of convex terms, each
G-Lipschitz (||grad l_i|| <= G), with a constant step eta and T = K N (K full epochs), every
order of the terms inside every epoch (so every realisation of the shuffles) satisfies the
deterministic incremental-gradient bound

    sum_{t=1}^T L(w_t) - L(w*) <= D^2/(2 eta) + eta G^2 T (2N - 1)/2.

Proof: in epoch k with start x_k and iterates psi_0 = x_k, ..., psi_N = x_{k+1},
||psi_j - w*||^2 <= ||psi_{j-1} - w*||^2 - 2 eta (l_{pi(j)}(psi_{j-1}) - l_{pi(j)}(w*)) + eta^2 G^2 and
l_{pi(j)}(psi_{j-1}) >= l_{pi(j)}(x_k) - (j - 1) eta G^2; summing over the epoch (each term once)
gives ||x_{k+1} - w*||^2 <= ||x_k - w*||^2 - 2 eta N (L(x_k) - L*) + eta^2 G^2 N^2, so
sum_k (L(x_k) - L*) <= D^2/(2 eta N) + K eta G^2 N/2; inside an epoch L(psi_{j-1}) <= L(x_k) +
(j - 1) eta G^2 (L is G-Lipschitz), and summing gives the bound (the algebra is a proof step).
It is the bound of Theorem 3.2's proof, D^2/(2 eta) + eta T G^2/2, with G^2 multiplied by 2N - 1:
the comparison with with-replacement SGD, whose Theorem 3.2 guarantee holds only in expectation,
is the second claim (SGD with the same finite-sum oracle drawing terms uniformly with replacement).
"""
from __future__ import annotations

import sympy as sp

from theorems.language.spec import Claim, ProofStep, Setting, Source, Spec
from theorems.language.symbols import D, G, N, T, c, eta, sum_subopt

_K = sp.Symbol("K", positive=True, integer=True)  # the number of epochs, T = K N

A3 = Spec(
    id="A3",
    title="SGD with random reshuffling over epochs (Algorithm 3) on convex Lipschitz finite sums",
    source=Source(section="3", line=385),
    statement=("Algorithm 3: for each epoch, draw a uniformly random permutation of the N terms and take one "
               "SGD step on each term in that order. No theorem in the notes; encoded: with a constant eta, "
               "after K full epochs (T = K N), sum_{t=1}^T L(w_t) - L(w*) <= D^2/(2 eta) + eta G^2 T (2N - 1)/2 "
               "surely (any order), for convex terms with ||grad l_i|| <= G; with-replacement SGD on the same "
               "terms keeps Theorem 3.2's E sum_t L(w_t) - L(w*) <= D G sqrt(T)."),
    assumptions=frozenset({"cvx", "fsum", "bdd", "minimizer"}),
    settings=(
        Setting("shuffled", "ShuffledSGD", hyper={"eta": c * D / (G * sp.sqrt(T))}, free={"c": (0.05, 3.0)},
                noise=("finite-sum",)),
        Setting("with-replacement", "SGD", hyper={"eta": D / (G * sp.sqrt(T))}, noise=("finite-sum",)),
    ),
    claims=(
        Claim("full-epochs-any-order", "sure", sum_subopt, D ** 2 / (2 * eta) + eta * G ** 2 * T * (2 * N - 1) / 2,
              "shuffled", "after K full epochs (T = K N): sum_{t=1}^T L(w_t) - L(w*) <= D^2/(2 eta) + eta G^2 T (2N-1)/2 "
              "for every realisation of the shuffles", when=sp.Eq(sp.Mod(T, N), 0)),
        Claim("with-replacement-expected-sum", "expect", sum_subopt, D * G * sp.sqrt(T), "with-replacement",
              "with-replacement SGD on the same finite sum: E[sum_{t=1}^T L(w_t) - L(w*)] <= D G sqrt(T) (Theorem 3.2)"),
    ),
    proof_steps=(
        ProofStep("N sum_k (L(x_k) - L*) + K eta G^2 N(N-1)/2, with sum_k (L(x_k) - L*) <= D^2/(2 eta N) + K eta G^2 N/2 "
                  "and T = K N, equals D^2/(2 eta) + eta G^2 T (2N - 1)/2",
                  N * (D ** 2 / (2 * eta * N) + _K * eta * G ** 2 * N / 2) + _K * eta * G ** 2 * N * (N - 1) / 2,
                  D ** 2 / (2 * eta) + eta * G ** 2 * T * (2 * N - 1) / 2, {T: _K * N}),
        ProofStep("per epoch: 2 eta^2 G^2 sum_{j=1}^N (j - 1) + N eta^2 G^2 = eta^2 G^2 N^2",
                  2 * eta ** 2 * G ** 2 * N * (N - 1) / 2 + N * eta ** 2 * G ** 2, eta ** 2 * G ** 2 * N ** 2),
    ),
)

SPECS = (A3,)
