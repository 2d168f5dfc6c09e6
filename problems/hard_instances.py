"""Known hard instances from the literature, each a ``ProblemBatch`` (or an oracle) with exact
constants, for tests, adversary seeds and demonstrations of what a guarantee does not cover.

- ``nesterov_chain``: the worst-case quadratic for first-order methods (Nesterov, *Introductory
  Lectures on Convex Optimization*, 2004, section 2.1.2, Theorem 2.1.7).
- ``drori_teboulle``: the one-dimensional Huber function on which gradient descent with step 1/H
  attains its exact worst case H R^2 / (4N + 2) after N steps (Drori and Teboulle, *Performance
  of first-order methods for smooth convex minimization: a novel approach*, Math. Programming
  145, 2014, Theorem 3.1 and its tightness example).
- ``lessard_recht_packard``: a 1-strongly convex, 25-smooth function of one variable on which
  the heavy-ball method, tuned as for quadratics, cycles instead of converging (Lessard, Recht
  and Packard, *Analysis and design of optimization algorithms via integral quadratic
  constraints*, SIAM J. Optim. 26, 2016, section 4.6).
- ``reddi_kale_kumar``: the online linear problem on [-1, 1] on which Adam with beta1 = 0 and
  beta2 = 1/(1 + C^2) converges to the worst point +1 (Reddi, Kale and Kumar, *On the convergence
  of Adam and beyond*, ICLR 2018, Theorem 1).
- ``SkewedNoise``: unbiased, bounded, two-point noise with exact variance under which sign
  descent drifts to a point where every gradient coordinate equals a p/(1-p) > 0, while SGD still
  converges (the sign of an unbiased estimate is a biased estimate of the sign; see Bernstein et
  al., *signSGD: compressed optimisation for non-convex problems*, ICML 2018, on why signSGD
  needs unimodal symmetric noise).
"""
from __future__ import annotations

import math
from typing import Any, Callable

import torch

from problems._batch import ProblemBatch
from problems.oracles import BoundOracle, constant_variance, noise_classes

Tensor = torch.Tensor


def _batch(name: str, classes: set[str], loss: Callable[[Tensor], Tensor], grad: Callable[[Tensor], Tensor],
           constants: dict[str, float], w1: Tensor, w_star: Tensor, params: dict[str, Any]) -> ProblemBatch:
    """One instance (B = 1) with its scalar constants as (1,) tensors and Delta, D computed."""
    w1, w_star = w1[None, :], w_star[None, :]
    as_tensor = {k: torch.tensor([v], dtype=w1.dtype, device=w1.device) for k, v in constants.items()}
    as_tensor["D"] = torch.linalg.vector_norm(w1 - w_star, dim=-1)
    as_tensor["Delta"] = loss(w1[:, None, :])[:, 0] - as_tensor["Lstar"]
    return ProblemBatch(name, frozenset(classes), loss, grad, as_tensor, w1, w_star,
                        {"family": name, "batch_size": 1, "dim": int(w1.shape[1]), **params},
                        lambda b: dict(params))


def nesterov_chain(k: int, L: float = 1.0, device: torch.device | str = "cpu",
                   dtype: torch.dtype = torch.float64) -> ProblemBatch:
    """f(x) = L/4 (1/2 [x_1^2 + sum_{i<n} (x_i - x_{i+1})^2 + x_n^2] - x_1) on R^n, n = 2k + 1,
    started at x_1 = 0. Every method whose iterates stay in the span of the gradients seen so far
    has f(x_k) - f* >= 3 L ||x_1 - x*||^2 / (32 (k + 1)^2) after k steps (Theorem 2.1.7).

    Exact constants: the Hessian is L/4 A with A = tridiag(-1, 2, -1), whose eigenvalues are
    4 sin^2(j pi / (2 (n + 1))), j = 1..n; x*_i = 1 - i/(n + 1); f* = L/8 (1/(n + 1) - 1).
    """
    if k < 1:
        raise ValueError(f"nesterov_chain: k must be >= 1, got {k}")
    n = 2 * k + 1
    A = (2 * torch.eye(n, dtype=dtype, device=device) - torch.diag(torch.ones(n - 1, dtype=dtype, device=device), 1)
         - torch.diag(torch.ones(n - 1, dtype=dtype, device=device), -1))
    e1 = torch.zeros(n, dtype=dtype, device=device)
    e1[0] = 1.0

    def loss(w: Tensor) -> Tensor:
        return L / 8 * torch.einsum("bri,ij,brj->br", w, A, w) - L / 4 * w[..., 0]

    def grad(w: Tensor) -> Tensor:
        return L / 4 * (w @ A - e1)

    i = torch.arange(1, n + 1, dtype=dtype, device=device)
    w_star = 1 - i / (n + 1)

    def eigenvalue(j: int) -> float:
        return L * math.sin(j * math.pi / (2 * (n + 1))) ** 2

    constants = {"H": eigenvalue(n), "mu": eigenvalue(1), "Lstar": L / 8 * (1 / (n + 1) - 1)}
    return _batch("nesterov-chain", {"cvx", "sc", "smooth", "lb", "minimizer"}, loss, grad, constants,
                  torch.zeros(n, dtype=dtype, device=device), w_star, {"k": k, "L": L})


def nesterov_lower_bound(k: int, L: float, distance_sq: float) -> float:
    """3 L ||x_1 - x*||^2 / (32 (k + 1)^2): Nesterov's lower bound after k steps (Theorem 2.1.7)."""
    return 3 * L * distance_sq / (32 * (k + 1) ** 2)


def drori_teboulle(N: int, H: float = 1.0, R: float = 1.0, device: torch.device | str = "cpu",
                   dtype: torch.dtype = torch.float64) -> ProblemBatch:
    """The Huber function f(x) = H tau |x| - H tau^2 / 2 for |x| >= tau and H x^2 / 2 inside,
    tau = R / (2N + 1), started at x_1 = R: gradient descent with step 1/H moves by tau per step,
    so f(x_{N+1}) = H R^2 / (4N + 2), the exact worst case over H-smooth convex functions with
    ||x_1 - x*|| <= R (Drori and Teboulle 2014). Constants: H, G = H tau, x* = 0, f* = 0.
    """
    if N < 1 or H <= 0 or R <= 0:
        raise ValueError(f"drori_teboulle: need N >= 1, H > 0 and R > 0, got N={N}, H={H}, R={R}")
    tau = R / (2 * N + 1)

    def loss(w: Tensor) -> Tensor:
        x = w[..., 0].abs()
        return torch.where(x >= tau, H * tau * x - H * tau ** 2 / 2, H * x ** 2 / 2)

    def grad(w: Tensor) -> Tensor:
        return H * w.clamp(-tau, tau)

    constants = {"H": H, "mu": 0.0, "G": H * tau, "Lstar": 0.0}
    one = torch.ones(1, dtype=dtype, device=device)
    return _batch("drori-teboulle", {"cvx", "smooth", "lip", "lb", "minimizer"}, loss, grad, constants,
                  R * one, 0 * one, {"N": N, "H": H, "R": R})


def drori_teboulle_worst_case(N: int, H: float, R: float) -> float:
    """H R^2 / (4N + 2): the largest f(x_{N+1}) - f* of gradient descent with step 1/H."""
    return H * R ** 2 / (4 * N + 2)


def lessard_recht_packard(x1: float = 3.3, device: torch.device | str = "cpu",
                          dtype: torch.dtype = torch.float64) -> ProblemBatch:
    """The piecewise quadratic with f'(x) = 25x (x < 1), x + 24 (1 <= x < 2), 25x - 24 (x >= 2):
    1-strongly convex and 25-smooth, minimiser 0. Heavy ball with the quadratic tuning
    eta = 4 / (sqrt(H) + sqrt(mu))^2 = 1/9 and beta = ((sqrt(kappa) - 1)/(sqrt(kappa) + 1))^2 = 4/9
    falls into a cycle of period 3 from x1 in about [3.07, 3.46] (Lessard et al. 2016, 4.6)."""

    def loss(w: Tensor) -> Tensor:
        x = w[..., 0]
        return torch.where(x < 1, 12.5 * x ** 2, torch.where(x < 2, 0.5 * x ** 2 + 24 * x - 12,
                                                            12.5 * x ** 2 - 24 * x + 36))

    def grad(w: Tensor) -> Tensor:
        return torch.where(w < 1, 25 * w, torch.where(w < 2, w + 24, 25 * w - 24))

    one = torch.ones(1, dtype=dtype, device=device)
    return _batch("lessard-recht-packard", {"cvx", "sc", "smooth", "lb", "minimizer"}, loss, grad,
                  {"H": 25.0, "mu": 1.0, "Lstar": 0.0}, x1 * one, 0 * one, {"x1": x1})


class SkewedNoise:
    """Additive noise, independent per coordinate: +a with probability p, -a p/(1 - p) otherwise.

    Unbiased, with exact variance sigma^2 = d p a^2 / (1 - p) and ||z|| <= sqrt(d) a surely
    (p <= 1/2). For a gradient coordinate gamma in (-a, a p/(1 - p)) the sign of gamma + z is +1
    only with probability p, so E sign(g) = 2p - 1 < 0: sign descent climbs each coordinate until
    its gradient reaches a p/(1 - p), a point that is not a minimiser."""

    name = "skewed"
    classes = frozenset({"var", "bdd", "m2"})
    finite_variance = True

    def __init__(self, sigma: float = 1.0, p: float = 0.1) -> None:
        if not 0 < p <= 0.5 or sigma <= 0:
            raise ValueError(f"SkewedNoise: need 0 < p <= 1/2 and sigma > 0, got p={p}, sigma={sigma}")
        self.sigma, self.p = sigma, p

    def amplitude(self, dim: int) -> float:
        """a such that d p a^2 / (1 - p) = sigma^2."""
        return self.sigma * math.sqrt((1 - self.p) / (dim * self.p))

    def bind(self, problem: ProblemBatch, generator: torch.Generator) -> BoundOracle:
        w1 = problem.w1
        B, d = w1.shape
        a, p = self.amplitude(d), self.p
        constants = {"sigma": torch.full((B,), self.sigma, dtype=w1.dtype, device=w1.device)}
        if "G" in problem.constants:
            constants["G"] = problem.constants["G"] + math.sqrt(d) * a

        def sample(w: Tensor, m: int = 1) -> Tensor:
            up = torch.rand((m, *w.shape), generator=generator, device=w.device, dtype=w.dtype) < p
            z = torch.where(up, a, -a * p / (1 - p)).to(w.dtype)
            return problem.grad(w) + z.mean(0)

        return BoundOracle(self.name, noise_classes(self.classes, problem.classes), constants, sample,
                           constant_variance(constants["sigma"] ** 2))


def reddi_kale_kumar(C: float = 3.0, device: torch.device | str = "cpu",
                     dtype: torch.dtype = torch.float64) -> tuple[ProblemBatch, BoundOracle]:
    """f_t(x) = C x when t = 1 mod 3 and -x otherwise, on the interval [-1, 1] (C > 2), as a
    problem L(x) = (C - 2)/3 x (the average over a period; minimiser x* = -1 on [-1, 1]) and a
    deterministic oracle that returns the gradients C, -1, -1, C, ... call after call. Adam with
    beta1 = 0, beta2 = 1/(1 + C^2) and projection onto [-1, 1] converges to +1 (Theorem 1 of
    Reddi et al. 2018); projected SGD converges to -1. ``params["domain"]`` is the interval."""
    if C <= 2:
        raise ValueError(f"reddi_kale_kumar: needs C > 2, got {C}")
    slope = (C - 2) / 3

    def loss(w: Tensor) -> Tensor:
        return slope * w[..., 0]

    def grad(w: Tensor) -> Tensor:
        return torch.full_like(w, slope)

    one = torch.ones(1, dtype=dtype, device=device)
    problem = _batch("reddi-kale-kumar", {"cvx", "lip", "lb", "minimizer"}, loss, grad,
                     {"G": slope, "Lstar": -slope}, 0 * one, -one, {"C": C, "domain": (-1.0, 1.0)})
    calls = [0]

    def sample(w: Tensor, m: int = 1) -> Tensor:
        calls[0] += 1
        return torch.full_like(w, C if calls[0] % 3 == 1 else -1.0)

    oracle = BoundOracle("cyclic", frozenset(), {"sigma": torch.full((1,), math.nan, dtype=dtype, device=device)}, sample)
    return problem, oracle
