"""Section 19 (CATALOG: A13, line 2579): parallel minibatch SGD (Algorithm 13).

In step t processor i computes the sum g_{t,i} of the gradients of its B/M samples z_{t,j},
j = iB/M .. (i+1)B/M - 1; after all finish, g_t = (1/B) sum_i g_{t,i} and w_{t+1} = w_t - eta g_t.
The notes' point ("data parallelism is essentially a fancy name for minibatching") is that this is
minibatch SGD (Algorithm 6): g_t = (1/B) sum_{j<B} grad l(w_t, z_{t,j}). Checked by running both on
the same samples (common random numbers, algorithms.coupled: minibatch SGD draws the samples and
Algorithm 13 replays them, so the j-th draw of step t is the same z in both runs) and comparing
the endpoints at every horizon T of the profile; M = B/2 workers of two samples each (M = 1, 3, 6
for B = 2, 6, 12), under the finite-sum oracle, whose samples are terms of the loss (so each draw's
gradient depends on w, unlike additive noise). The index bounds iB/M need M to divide B.
"""
from __future__ import annotations

from theorems.language.spec import Claim, Coupled, Setting, Source, Spec
from theorems.language.symbols import B, H, T, c, coupled_dist, coupled_scale

A13 = Spec(
    id="A13",
    title="Parallel minibatch SGD (Algorithm 13) is minibatch SGD",
    source=Source(section="19", line=2579),
    statement=("Algorithm 13: for t = 1..T, processor i = 0..M-1 computes g_{t,i} = sum_{j=iB/M}^{(i+1)B/M-1} "
               "grad l(w_t, z_{t,j}); wait for all; g_t = (1/B) sum_i g_{t,i}; w_{t+1} = w_t - eta g_t. It computes "
               "the minibatch gradient g_t = (1/B) sum_{i=1}^B grad l(w_t, z_{t,i}) of minibatch SGD in parallel, so "
               "on the same samples both produce the same iterates: ||w_{T+1} - w'_{T+1}|| = 0, checked as "
               "||w_{T+1} - w'_{T+1}|| + ||w_{T+1}|| + ||w'_{T+1}|| <= ||w_{T+1}|| + ||w'_{T+1}|| so that rounding "
               "is judged relative to the iterates. Encoded with eta = c/H, c in [0, 1], M = B/2."),
    assumptions=frozenset({"smooth", "var"}),
    settings=(Setting("same-samples", "MinibatchSGD", hyper={"eta": c / H}, free={"c": (0.0, 1.0)},
                      noise=("finite-sum",), minibatch=(2, 6, 12),
                      coupled=Coupled("ParallelMinibatchSGD", hyper={"eta": c / H, "workers": B / 2, "per_worker": 2},
                                      horizon=T, shared_samples=True)),),
    claims=(
        Claim("same-iterates", "sure", coupled_dist + coupled_scale, coupled_scale, "same-samples",
              "on the same samples, parallel minibatch SGD with M workers ends where minibatch SGD with batch B "
              "ends: ||w_{T+1} - w'_{T+1}|| = 0 at every horizon T"),
    ),
)

SPECS = (A13,)
