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
# state-dependent noise (section 11, class sdn): E||g - grad L(w)||^2 <= D_sdn ||grad L(w)||^2 (the notes call it D)
D_sdn = sp.Symbol("D_sdn", nonnegative=True)
gamma = sp.Symbol("gamma", nonnegative=True)  # gamma-almost convex: Hess L >= -gamma I (section 22)
J = sp.Symbol("J", nonnegative=True)  # J-second-order smooth: ||Hess L(x) - Hess L(y)||_op <= J ||x - y|| (Definition 25.1)
# every sampled loss l(., z) is H_ell-smooth (the oracle certifies it: max_i H_i for the finite-sum
# oracle, H for the additive-noise oracles, whose l(w, z) = L(w) + <z, w>; sections 23-24)
H_ell = sp.Symbol("H_ell", positive=True)
CONSTANTS = {s.name: s for s in (G, H, mu, sigma, D, Delta, Lstar, N, D_sdn, gamma, J, H_ell)}

# The minibatch size (settings with ``minibatch`` sizes; each round draws one).
B = sp.Symbol("B", positive=True, integer=True)

# The horizon and the step index.
T = sp.Symbol("T", positive=True, integer=True)
# The dimension of w (each round draws one from the profile's dims).
dim = sp.Symbol("d", positive=True, integer=True)
t = sp.Symbol("t", positive=True, integer=True)

# Trace quantities (a run of T steps): scalars per replica.
sum_subopt = sp.Symbol("sum_subopt", real=True)      # sum_{t=1}^T L(w_t) - L*
sum_grad_sq = sp.Symbol("sum_grad_sq", nonnegative=True)  # sum_{t=1}^T ||grad L(w_t)||^2
sum_grad_norm = sp.Symbol("sum_grad_norm", nonnegative=True)  # sum_{t=1}^T ||grad L(w_t)||
avg_iterate_subopt = sp.Symbol("avg_iterate_subopt", real=True)  # L((1/T) sum_{t<=T} w_t) - L*
last_subopt = sp.Symbol("last_subopt", real=True)    # L(w_{T+1}) - L*
L1 = sp.Symbol("L1", real=True)                      # L(w_1)
min_grad_sq = sp.Symbol("min_grad_sq", nonnegative=True)  # min_{t=1}^{T+1} ||grad L(w_t)||^2
# Trace quantities per step t = 1..T (one comparison per step).
L_t = sp.Symbol("L_t", real=True)                    # L(w_t)
L_next = sp.Symbol("L_next", real=True)              # L(w_{t+1})
grad_sq_t = sp.Symbol("grad_sq_t", nonnegative=True)  # ||grad L(w_t)||^2
grad_sq_1 = sp.Symbol("grad_sq_1", nonnegative=True)  # ||grad L(w_1)||^2
# The conditional noise variance of step t, sigma_t^2 = E[||g - grad L(w)||^2 | w] of the first oracle
# call oracle(w, m) of the step (for SGD: of g_t at w_t; section 11), exact as the oracle reports it
# (algorithms.run); per replica, so the replica mean of sum_noise_var estimates E[sum_t sigma_t^2].
# Only oracles of finite variance admit claims that use them (not the heavy-tailed one).
noise_var_t = sp.Symbol("noise_var_t", nonnegative=True)      # sigma_t^2
sum_noise_var = sp.Symbol("sum_noise_var", nonnegative=True)  # sum_{t=1}^T sigma_t^2
# The error of an algorithm's gradient estimate m_t (a momentum buffer, ``estimate(state)``;
# algorithms.run): the notes' epsilon_t = m_t - grad L(w_t) (section 20), per step t = 1..T.
eps_sq_t = sp.Symbol("eps_sq_t", nonnegative=True)        # ||epsilon_t||^2
eps_sq_next = sp.Symbol("eps_sq_next", nonnegative=True)  # ||epsilon_{t+1}||^2
# Probes of an algorithm's state at step t (algorithms.run, ``probe``; sections 23-24): the gradient
# estimate m_t the step used, the anchor (snapshot) v of the step, and the exact conditional second
# moment E[||g_t||^2 | w_t, v] of a finite-sum variance-reduced estimate g_t.
est_err_t = sp.Symbol("est_err_t", nonnegative=True)        # ||m_t - grad L(w_t)||
anchor_subopt_t = sp.Symbol("anchor_subopt_t", real=True)   # L(v_t) - L*
est_sq_t = sp.Symbol("est_sq_t", nonnegative=True)          # E[||g_t||^2 | w_t, v_t]
PROBES = {s.name: s for s in (est_err_t, anchor_subopt_t, est_sq_t)}
TRACE = {s.name: s for s in (sum_subopt, sum_grad_sq, sum_grad_norm, avg_iterate_subopt,
                             last_subopt, L1, min_grad_sq, L_t, L_next, grad_sq_t, t, grad_sq_1,
                             noise_var_t, sum_noise_var, eps_sq_t, eps_sq_next, *PROBES.values())}
#: The trace symbols that need the recorded error of the algorithm's gradient estimate.
ESTIMATE_ERROR = {s.name: s for s in (eps_sq_t, eps_sq_next)}
#: The trace symbols that need the recorded noise variance (``run(..., noise_variance=True)``).
NOISE_VARIANCE = {s.name: s for s in (noise_var_t, sum_noise_var)}
#: The symbols that make a claim compare at every step t = 1..T rather than at the horizon T.
PER_STEP = {s.name: s for s in (L_t, L_next, grad_sq_t, t, noise_var_t, eps_sq_t, eps_sq_next, *PROBES.values())}

# Coupled runs (settings with ``coupled``): the same instances, from the same w1, run by a second
# algorithm (theorems.language.spec.Coupled), e.g. section 8.2's B small steps against one big-batch step.
coupled_dist = sp.Symbol("coupled_dist", nonnegative=True)  # ||w_{T+1} - w'_{T'+1}||, w' the coupled run
# ||w_{T+1}|| + ||w'_{T'+1}||: the scale of the two endpoints, so that a claim that they are equal,
# coupled_dist + coupled_scale <= coupled_scale, gets the checker's rounding allowance relative to
# the iterates (theorems.evaluate.magnitude), as L(w) - L* does relative to L(w) and L*
coupled_scale = sp.Symbol("coupled_scale", nonnegative=True)
COUPLED = {s.name: s for s in (coupled_dist, coupled_scale)}

# Pointwise quantities at sampled points w and directions v.
L_w = sp.Symbol("L_w", real=True)                    # L(w)
L_wv = sp.Symbol("L_wv", real=True)                  # L(w + v)
grad_sq_w = sp.Symbol("grad_sq_w", nonnegative=True)  # ||grad L(w)||^2
inner_grad_v = sp.Symbol("inner_grad_v", real=True)  # <grad L(w), v>
v_sq = sp.Symbol("v_sq", nonnegative=True)           # ||v||^2
dist_sq_w = sp.Symbol("dist_sq_w", nonnegative=True)  # ||w - w*||^2
noise_sq_w = sp.Symbol("noise_sq_w", nonnegative=True)  # ||g - grad L(w)||^2, g the mean of B oracle draws at w
# g_i - (grad L(w))_i for each coordinate i = 1..d (one comparison per coordinate), g the mean of B
# oracle draws at a point w that all replicas of an instance share (Proposition 3.1: E g = grad L(w))
oracle_bias_w = sp.Symbol("oracle_bias_w", real=True)
POINTWISE = {s.name: s for s in (L_w, L_wv, grad_sq_w, inner_grad_v, v_sq, dist_sq_w, noise_sq_w, oracle_bias_w)}

# Common hyper-parameter and free-parameter symbols.
eta = sp.Symbol("eta", positive=True)
c = sp.Symbol("c", nonnegative=True)

# Distribution quantities (settings of kind "distribution", theorems/engine/distribution_rounds.py): a
# finite distribution of K = T + 1 atoms x_k in R^d with weights p_k, a point Y in R^d and the
# mass sum_i a_i (a_k = mass p_k); every expectation below is the exact weighted sum. X is the
# random vector, X_1 its first coordinate (the scalar of Markov and Chebyshev), A = X_1 and
# B = X_d the pair of Proposition 10.6, f the round's function (a convex family's loss for
# Jensen, a non-increasing function for Lemma 10.2). Shapes: one value per instance, except the
# threshold quantities (one comparison per threshold y) and the atom quantities (one per atom).
E_X1 = sp.Symbol("E_X1", real=True)                       # E[X_1]
var_X1 = sp.Symbol("var_X1", nonnegative=True)            # E[(X_1 - E X_1)^2]
E_sq_dist_Y = sp.Symbol("E_sq_dist_Y", nonnegative=True)  # E||X - Y||^2
bias_sq = sp.Symbol("bias_sq", nonnegative=True)          # ||Y - E X||^2
var_X = sp.Symbol("var_X", nonnegative=True)              # E||X - E X||^2
E_AB = sp.Symbol("E_AB", real=True)                       # E[X_1 X_d]
E_A_sq = sp.Symbol("E_A_sq", nonnegative=True)            # E[X_1^2]
E_B_sq = sp.Symbol("E_B_sq", nonnegative=True)            # E[X_d^2]
norm_Y = sp.Symbol("norm_Y", nonnegative=True)            # ||Y||
Ef_X = sp.Symbol("Ef_X", real=True)                       # E f(X) = sum_k a_k f(x_k) / sum_k a_k
f_EX = sp.Symbol("f_EX", real=True)                       # f(E X) = f(sum_k a_k x_k / sum_k a_k)
sum_f_atoms = sp.Symbol("sum_f_atoms", real=True)         # sum_{k=1}^K f(x_k) (unweighted)
f_xbar_notes = sp.Symbol("f_xbar_notes", real=True)       # f((1/sum_i a_i) sum_k x_k), Corollary A.4's x_bar
sum_a = sp.Symbol("sum_a", positive=True)                 # sum_i a_i
sum_xf = sp.Symbol("sum_xf", real=True)                   # sum_{t=1}^T x_t f(S_t), x_t = X_1 of atom t, S_t = x_0 + ... + x_t
F_end = sp.Symbol("F_end", real=True)                     # F(S_T), F an antiderivative of f
F_start = sp.Symbol("F_start", real=True)                 # F(x_0)
# Per atom k (one comparison each).
norm_x = sp.Symbol("norm_x", nonnegative=True)            # ||x_k||
inner_xY = sp.Symbol("inner_xY", real=True)               # <x_k, Y>
# Per threshold (one comparison each): thr are 2K adversarial thresholds > 0 (|x_{k,1}| and
# |x_{k,1} - E X_1|, a zero replaced by 1); y is the setting's threshold (hyper-parameter y,
# default thr) and the probabilities are taken at y.
thr = sp.Symbol("thr", positive=True)
y = sp.Symbol("y", real=True)
P_X_ge_y = sp.Symbol("P_X_ge_y", nonnegative=True)        # P[X_1 >= y] (event A of the union bound)
P_Xd_le_neg_y = sp.Symbol("P_Xd_le_neg_y", nonnegative=True)  # P[X_d <= -y] (event B)
P_union = sp.Symbol("P_union", nonnegative=True)          # P[X_1 >= y or X_d <= -y]
P_dev_ge_y = sp.Symbol("P_dev_ge_y", nonnegative=True)    # P[|X_1 - E X_1| >= y]
DISTRIBUTION = {s.name: s for s in (E_X1, var_X1, E_sq_dist_Y, bias_sq, var_X, E_AB, E_A_sq, E_B_sq, norm_Y,
                                    Ef_X, f_EX, sum_f_atoms, f_xbar_notes, sum_a, sum_xf, F_end, F_start,
                                    norm_x, inner_xY, thr, y, P_X_ge_y, P_Xd_le_neg_y, P_union, P_dev_ge_y)}
#: The distribution symbols a distribution setting's hyper-parameters may use (known before y).
DISTRIBUTION_HYPER = {thr.name: thr}

# Pointwise function-class quantities (Propositions 5.2 and B.1, Theorem 5.3), computed only for
# settings whose claims use them (theorems/language/function_classes.py).
grad_diff_sq = sp.Symbol("grad_diff_sq", nonnegative=True)  # ||grad L(w + v) - grad L(w)||^2
hess_v_sq = sp.Symbol("hess_v_sq", nonnegative=True)  # ||Hess L(w) v||^2
hess_power_sq = sp.Symbol("hess_power_sq", nonnegative=True)  # ||Hess L(w) u||^2, u unit from power iteration
curv_v = sp.Symbol("curv_v", real=True)              # <v, Hess L(w) v>
rho = sp.Symbol("rho", nonnegative=True)             # Hess L >= -rho I (0 for convex families, H for smooth ones)
# The Moreau envelope L_hat with parameter H_env (a setting's hyper-parameter): certified brackets
# lo <= L_hat <= hi at w, w + v and w - v, and a certified upper bound on ||grad L_hat(w + v) - grad L_hat(w)||.
H_env = sp.Symbol("H_env", positive=True)
env_w_lo, env_w_hi, env_wv_lo, env_wv_hi, env_wmv_lo, env_wmv_hi = sp.symbols(
    "env_w_lo env_w_hi env_wv_lo env_wv_hi env_wmv_lo env_wmv_hi", real=True)
env_certified = sp.Symbol("env_certified", nonnegative=True)  # 1 where the envelope values of (w, v) are certified
env_grad_diff = sp.Symbol("env_grad_diff", nonnegative=True)
POINTWISE.update({s.name: s for s in (grad_diff_sq, hess_v_sq, hess_power_sq, curv_v, rho, env_w_lo, env_w_hi,
                                      env_wv_lo, env_wv_hi, env_wmv_lo, env_wmv_hi, env_grad_diff,
                                      env_certified)})

# Online quantities (settings with ``online``, theorems/engine/online_rounds.py): an adversary's
# sequence g_1..g_T (a_t its mean when the setting adds noise) against the learner's w_1..w_T,
# and a comparator u (the worst point of the feasible set for the sequence).
sum_gw = sp.Symbol("sum_gw", real=True)                    # sum_t <g_t, w_t>
sum_gu = sp.Symbol("sum_gu", real=True)                    # <sum_t g_t, u>; the regret is sum_gw - sum_gu
sum_aw = sp.Symbol("sum_aw", real=True)                    # sum_t <a_t, w_t>
sum_au = sp.Symbol("sum_au", real=True)                    # <sum_t a_t, u_a>, u_a worst for the mean sequence
sum_g_sq = sp.Symbol("sum_g_sq", nonnegative=True)         # sum_t ||g_t||^2
sum_coord_root = sp.Symbol("sum_coord_root", nonnegative=True)  # sum_i sqrt(sum_t g_t[i]^2)
g_max = sp.Symbol("g_max", nonnegative=True)               # max_t ||g_t||_inf
dist_u_sq = sp.Symbol("dist_u_sq", nonnegative=True)       # ||u - w_1||^2
D_2 = sp.Symbol("D_2", positive=True)                      # l2 radius of the feasible set
D_inf = sp.Symbol("D_inf", positive=True)                  # l_inf radius of the feasible set
dim = sp.Symbol("d", positive=True, integer=True)          # the dimension d (as main names it)
drift = sp.Symbol("drift", real=True)                      # mean_i (w_{T+1} - w_1)[i]
# Per step t (one comparison each): the first coordinate of an algorithm's bias-corrected estimates (Adam's).
mhat_t = sp.Symbol("mhat_t", real=True)                    # m_hat_t[1]
vhat_t = sp.Symbol("vhat_t", nonnegative=True)             # v_hat_t[1]
# Exact moments of a stationary adversary's i.i.d. gradient coordinates (problems/online.py).
g_mean = sp.Symbol("g_mean", real=True)                    # E g
g_var = sp.Symbol("g_var", nonnegative=True)               # Var g
g_sq_mean = sp.Symbol("g_sq_mean", nonnegative=True)       # E g^2
sign_mean = sp.Symbol("sign_mean", real=True)              # E sign(g)
ONLINE = {s.name: s for s in (sum_gw, sum_gu, sum_aw, sum_au, sum_g_sq, sum_coord_root, g_max, dist_u_sq, D_2,
                              D_inf, dim, drift, mhat_t, vhat_t, g_mean, g_var, g_sq_mean, sign_mean, t)}
#: The online symbols a hyper-parameter may use (known before the run).
ONLINE_HYPER = {s.name: s for s in (D_2, D_inf, dim)}
PER_STEP.update({s.name: s for s in (mhat_t, vhat_t)})
# Second-order quantities (section 25). Trace, per step t = 1..T: lambda(w) = -lambda_min(Hess L(w)) (the
# notes' lambda(w), Theorem 25.8) at w_t and w_{t+1}, ||grad L(w_{t+1})||^2 and the step ||w_{t+1} - w_t||^2;
# per replica, the smallest eps for which some w_{t+1}, t = 1..T, is an (eps, 2 sqrt(eps))-second-order
# stationary point (Definition 25.6): min_t max(||grad L(w_{t+1})||, max(lambda(w_{t+1}), 0)^2 / 4), and the
# same with the gradient weighted by the instance's J: min_t max(J ||grad L(w_{t+1})||, max(lambda, 0)^2 / 4).
lam_t = sp.Symbol("lam_t", real=True)
lam_next = sp.Symbol("lam_next", real=True)
grad_sq_next = sp.Symbol("grad_sq_next", nonnegative=True)
step_sq_t = sp.Symbol("step_sq_t", nonnegative=True)
sosp_eps = sp.Symbol("sosp_eps", nonnegative=True)
sosp_eps_J = sp.Symbol("sosp_eps_J", nonnegative=True)
# 8 d eps ||Hess L(w_{t+1})||_op ||w_{t+1}||: the rounding level of the gradient computed at w_{t+1} (a claim
# whose bound vanishes at a stationary point, such as ||grad L(w_{t+1})|| <= J ||w_{t+1} - w_t||^2, adds it)
grad_floor_next = sp.Symbol("grad_floor_next", nonnegative=True)
SECOND_ORDER_PER_STEP = {s.name: s for s in (lam_t, lam_next, grad_sq_next, step_sq_t, grad_floor_next)}
TRACE.update({**SECOND_ORDER_PER_STEP, sosp_eps.name: sosp_eps, sosp_eps_J.name: sosp_eps_J})
PER_STEP.update(SECOND_ORDER_PER_STEP)
# Pointwise: ||grad L(w + v) - grad L(w) - Hess L(w) v||^2 (Lemma 25.5) and ||Hess L(w + v) - Hess L(w)||_op
# (Definition 25.1, Proposition 25.3).
taylor_grad_sq = sp.Symbol("taylor_grad_sq", nonnegative=True)
hess_diff_op = sp.Symbol("hess_diff_op", nonnegative=True)
POINTWISE.update({taylor_grad_sq.name: taylor_grad_sq, hess_diff_op.name: hess_diff_op})
