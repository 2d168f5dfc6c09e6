"""The vocabulary of sympy symbols a spec may use, and what each one means.

Constants are certified per instance by the problem family and the oracle (problems/).
Hyper-parameter and free-parameter symbols are declared by the spec's settings. Trace symbols
are measured by running the algorithm (``algorithms.run``); pointwise symbols by evaluating the
loss at sampled points w and w + v (for lemmas that hold at every point).
"""
from __future__ import annotations

import sympy as sp

# Certified constants of an instance (problems/): bounds and exact values.
# G bounds the gradients in the strongest sense the oracle gives: ||grad L|| <= G (exact oracle),
# ||g|| <= G surely (sphere oracle, class bdd), E||g||^2 <= G^2 (every oracle on a Lipschitz loss, class m2).
G = sp.Symbol("G", positive=True)
H = sp.Symbol("H", positive=True)            # H-smooth
mu = sp.Symbol("mu", nonnegative=True)       # mu-strongly convex
sigma = sp.Symbol("sigma", nonnegative=True)  # E||g - grad L||^2 <= sigma^2
D = sp.Symbol("D", nonnegative=True)         # ||w1 - w*||
Delta = sp.Symbol("Delta", nonnegative=True)  # L(w1) - inf L
Lstar = sp.Symbol("Lstar", real=True)        # L(w*) = inf L
N = sp.Symbol("N", positive=True, integer=True)  # number of terms of a finite sum (the finite-sum oracle)
# state-dependent noise (section 11, class sdn): E||g - grad L(w)||^2 <= rho ||grad L(w)||^2; the notes call it D
rho = sp.Symbol("rho", nonnegative=True)
CONSTANTS = {s.name: s for s in (G, H, mu, sigma, D, Delta, Lstar, N, rho)}

# The minibatch size (settings with ``minibatch`` sizes; each round draws one).
B = sp.Symbol("B", positive=True, integer=True)

# The horizon and the step index.
T = sp.Symbol("T", positive=True, integer=True)
t = sp.Symbol("t", positive=True, integer=True)

# Trace quantities (a run of T steps): scalars per replica.
sum_subopt = sp.Symbol("sum_subopt", real=True)      # sum_{t=1}^T L(w_t) - L*
sum_grad_sq = sp.Symbol("sum_grad_sq", nonnegative=True)  # sum_{t=1}^T ||grad L(w_t)||^2
sum_grad_norm = sp.Symbol("sum_grad_norm", nonnegative=True)  # sum_{t=1}^T ||grad L(w_t)||
avg_iterate_subopt = sp.Symbol("avg_iterate_subopt", real=True)  # L((1/T) sum_{t<=T} w_t) - L*
last_subopt = sp.Symbol("last_subopt", real=True)    # L(w_{T+1}) - L*
L1 = sp.Symbol("L1", real=True)                      # L(w_1)
# Trace quantities per step t = 1..T (one comparison per step).
L_t = sp.Symbol("L_t", real=True)                    # L(w_t)
L_next = sp.Symbol("L_next", real=True)              # L(w_{t+1})
grad_sq_t = sp.Symbol("grad_sq_t", nonnegative=True)  # ||grad L(w_t)||^2
TRACE = {s.name: s for s in (sum_subopt, sum_grad_sq, sum_grad_norm, avg_iterate_subopt,
                             last_subopt, L1, L_t, L_next, grad_sq_t, t)}

# Pointwise quantities at sampled points w and directions v.
L_w = sp.Symbol("L_w", real=True)                    # L(w)
L_wv = sp.Symbol("L_wv", real=True)                  # L(w + v)
grad_sq_w = sp.Symbol("grad_sq_w", nonnegative=True)  # ||grad L(w)||^2
inner_grad_v = sp.Symbol("inner_grad_v", real=True)  # <grad L(w), v>
v_sq = sp.Symbol("v_sq", nonnegative=True)           # ||v||^2
dist_sq_w = sp.Symbol("dist_sq_w", nonnegative=True)  # ||w - w*||^2
noise_sq_w = sp.Symbol("noise_sq_w", nonnegative=True)  # ||g - grad L(w)||^2, g the mean of B oracle draws at w
POINTWISE = {s.name: s for s in (L_w, L_wv, grad_sq_w, inner_grad_v, v_sq, dist_sq_w, noise_sq_w)}

# Common hyper-parameter and free-parameter symbols.
eta = sp.Symbol("eta", positive=True)
c = sp.Symbol("c", nonnegative=True)
