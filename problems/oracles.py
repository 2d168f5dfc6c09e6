"""Stochastic gradient oracles with exact noise constants (DESIGN.md, problems/).

Each oracle is the gradient of a stochastic loss l(w, z) = L(w) + <z, w> with E z = 0, so it is
unbiased (Proposition 3.1) and its variance E||g - grad L||^2 is known exactly:
- ``Exact``: z = 0, sigma = 0.
- ``GaussianNoise``: z ~ N(0, sigma^2/d I), so E||z||^2 = sigma^2 exactly (Theorem 6.1's class),
  and on a G_L-Lipschitz loss E||g||^2 = ||grad L||^2 + sigma^2 <= G_L^2 + sigma^2 =: G^2 (the
  second-moment class m2 of Theorem 6.2).
- ``SphereNoise``: z uniform on the sphere of radius sigma, so ||z|| = sigma surely and
  ||g|| <= G_L + sigma =: G surely when L is G_L-Lipschitz (Theorem 3.2's class, bdd(G)).
- ``HeavyTailedNoise``: z = s t / sqrt(d) with t a vector of independent Student-t variables with
  2 degrees of freedom: E z = 0 but E||z||^2 = infinity, so it declares no class at all (no var,
  no m2, no bdd) and every claim that needs one is not applicable to it.
- ``StateDependentNoise``: z = sqrt(D_sdn/d) ||grad L(w)|| xi, xi ~ N(0, I), so
  E||g - grad L(w)||^2 = D_sdn ||grad L(w)||^2 exactly (class sdn, the "virtuous cycle" noise of
  section 11 whose constant the notes call D; here ``D_sdn``, as D is ||w1 - w*||).
- ``FiniteSumSampling``: the gradient of a uniformly drawn term of a finite sum (class fsum),
  g = grad l_i(w), i ~ U{1..N}, unbiased. Its variance at w is (1/N) sum_i ||grad l_i(w) - grad L(w)||^2,
  unbounded over w for e.g. least squares, so it declares bdd, m2 and var (with G = sigma =
  max_i G_i) only where every term is G_i-Lipschitz (the family is ``lip`` and gives ``G_i``).
- ``TimeVaryingNoise``: z ~ N(0, sigma^2 s(t)/d I) at step t, with a per-instance schedule
  0 < s(t) <= 1 drawn at bind time (``NoiseSchedule``: decaying, growing or in bursts), so
  sigma_t^2 = E||g_t - grad L(w_t)||^2 = sigma^2 s(t) varies with t (section 11, Theorem 11.1) while
  the class var with the constant sigma = max_t sigma_t still holds.

Every bound oracle reports the exact conditional variance of a call, ``variance(w, m)`` =
E||g - grad L(w)||^2 for g = ``sample(w, m)`` (inf for the heavy-tailed oracle), and may take the
current step from the runner through ``begin_step(t)`` (algorithms.run calls it before each step;
only the time-varying oracle uses it). Draws come from a seeded torch.Generator so every run replays.
A minibatch of m Gaussian draws (gaussian, state-dependent, time-varying) is one normal draw of
the iterate's shape scaled by 1/sqrt(m), exactly the distribution of the mean of m draws
(``minibatch_normal``), and a finite-sum minibatch evaluates its m terms in one call.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping

import torch

from problems import _random as rnd
from problems._batch import ProblemBatch

Tensor = torch.Tensor


def noise_classes(oracle_classes: frozenset[str], family_classes: frozenset[str]) -> frozenset[str]:
    """The classes an oracle gives on a family: surely bounded gradients (bdd) and a bounded
    second moment (m2) need a Lipschitz family, since ||g|| <= G_L + sigma. A finite-sum sampler
    (oracle class fsum) gives nothing on a family that is not a finite sum, and its variance
    (var) too needs Lipschitz terms (finite-sum families declare ``lip`` only when every term is)."""
    if "fsum" in oracle_classes and "fsum" not in family_classes:
        return frozenset()
    if "lip" in family_classes:
        return oracle_classes
    return oracle_classes - ({"bdd", "m2", "var"} if "fsum" in oracle_classes else {"bdd", "m2"})


@dataclass(frozen=True)
class BoundOracle:
    """An oracle bound to a batch: ``sample(w, m)`` returns the mean of m fresh stochastic
    gradients at each iterate w (shape (B, R, d)); ``constants`` are the noise constants (B,).

    ``variance(w, m)`` (shape (B, R)) is the exact E||sample(w, m) - grad L(w)||^2 given w, at the
    oracle's current step (None: the oracle does not know it); ``on_step(t)`` receives the step
    t = 1, 2, ... that the runner is about to make (None: the noise does not depend on t).
    """

    name: str
    classes: frozenset[str]
    constants: Mapping[str, Tensor]
    sample: Callable[..., Tensor]
    variance: Callable[[Tensor, int], Tensor] | None = None
    on_step: Callable[[int], None] | None = None

    def begin_step(self, t: int) -> None:
        """Tell the oracle that the calls that follow belong to step t (algorithms.run)."""
        if self.on_step is not None:
            self.on_step(t)

    def noise_variance(self, w: Tensor, m: int = 1) -> Tensor:
        """E||g - grad L(w)||^2 (B, R) of g = ``sample(w, m)``, exactly."""
        if self.variance is None:
            raise ValueError(f"oracle {self.name!r} does not report its noise variance")
        return self.variance(w, m)


def constant_variance(per_draw: Tensor) -> Callable[[Tensor, int], Tensor]:
    """``variance(w, m)`` of m independent draws of noise with E||z||^2 = per_draw (B,): per_draw / m."""

    def variance(w: Tensor, m: int = 1) -> Tensor:
        return (per_draw[:, None] / m).to(w.dtype).expand(w.shape[:-1])

    return variance


def minibatch_normal(w: Tensor, m: int, generator: torch.Generator) -> Tensor:
    """The mean of m independent standard normal vectors of w's shape, drawn in one call: the mean
    of m i.i.d. N(0, I) is exactly N(0, I/m) in distribution, so one draw scaled by 1/sqrt(m)
    (for m = 1, the very draw ``randn`` returns, as before minibatches were drawn this way)."""
    z = torch.randn(w.shape, generator=generator, device=w.device, dtype=w.dtype)
    return z if m == 1 else z / math.sqrt(m)


def additive_smoothness(problem: ProblemBatch, constants: dict[str, Tensor]) -> None:
    """An additive-noise oracle's l(w, z) = L(w) + <z, w> is H-smooth for every z when L is: record
    H_ell = H (sections 23-24 assume every sampled loss smooth)."""
    if "H" in problem.constants:
        constants["H_ell"] = problem.constants["H"]


class Exact:
    """The exact gradient: the deterministic setting of gradient descent."""

    name = "exact"
    classes = frozenset({"exact", "var", "bdd", "m2"})
    finite_variance = True

    def bind(self, problem: ProblemBatch, generator: torch.Generator) -> BoundOracle:
        sigma = torch.zeros_like(problem.w1[:, 0])
        constants = {"sigma": sigma}
        if "G" in problem.constants:
            constants["G"] = problem.constants["G"]
        additive_smoothness(problem, constants)

        given: list = [None]

        def sample(w: Tensor, m: int = 1) -> Tensor:
            # the family's remembered gradient (the runner measures it), but never one tensor twice:
            # an algorithm may modify its gradient in place
            g = problem.grad(w)
            if g is given[0]:
                return g.clone()
            given[0] = g
            return g

        return BoundOracle(self.name, noise_classes(self.classes, problem.classes), constants, sample,
                           constant_variance(sigma ** 2))


class GaussianNoise:
    """Additive Gaussian noise with variance exactly sigma^2, sigma log-uniform per instance."""

    name = "gaussian"
    classes = frozenset({"var", "m2"})
    finite_variance = True

    def __init__(self, sigma_range: tuple[float, float] = (0.01, 10.0)) -> None:
        self.sigma_range = sigma_range

    def bind(self, problem: ProblemBatch, generator: torch.Generator) -> BoundOracle:
        w1 = problem.w1
        B, d = w1.shape
        sigma = rnd.log_uniform((B,), *self.sigma_range, generator, w1.device, w1.dtype)
        scale = (sigma / math.sqrt(d))[:, None, None]
        constants = {"sigma": sigma}
        if "G" in problem.constants:
            constants["G"] = torch.sqrt(problem.constants["G"] ** 2 + sigma ** 2)
        additive_smoothness(problem, constants)

        def sample(w: Tensor, m: int = 1) -> Tensor:
            return problem.grad(w) + scale * minibatch_normal(w, m, generator)

        return BoundOracle(self.name, noise_classes(self.classes, problem.classes), constants, sample,
                           constant_variance(sigma ** 2))


class SphereNoise:
    """Noise uniform on the sphere of radius sigma: bounded stochastic gradients.

    Needs a Lipschitz problem: the oracle's G = G_L + sigma bounds ||g|| surely, and replaces
    the problem's G in the constants, as Theorem 3.2's G bounds the stochastic gradients.
    """

    name = "sphere"
    classes = frozenset({"var", "bdd", "m2"})
    finite_variance = True

    def __init__(self, sigma_range: tuple[float, float] = (0.01, 10.0)) -> None:
        self.sigma_range = sigma_range

    def bind(self, problem: ProblemBatch, generator: torch.Generator) -> BoundOracle:
        w1 = problem.w1
        B, d = w1.shape
        sigma = rnd.log_uniform((B,), *self.sigma_range, generator, w1.device, w1.dtype)
        constants = {"sigma": sigma}
        if "G" in problem.constants:
            constants["G"] = problem.constants["G"] + sigma
        additive_smoothness(problem, constants)

        def sample(w: Tensor, m: int = 1) -> Tensor:
            z = torch.randn((m, *w.shape), generator=generator, device=w.device, dtype=w.dtype)
            z = z / torch.linalg.vector_norm(z, dim=-1, keepdim=True)
            return problem.grad(w) + sigma[:, None, None] * z.mean(0)

        return BoundOracle(self.name, noise_classes(self.classes, problem.classes), constants, sample,
                           constant_variance(sigma ** 2))


class HeavyTailedNoise:
    """Additive Student-t noise with 2 degrees of freedom: unbiased, infinite variance."""

    name = "heavy-tailed"
    classes: frozenset[str] = frozenset()
    finite_variance = False

    def __init__(self, scale_range: tuple[float, float] = (0.01, 10.0)) -> None:
        self.scale_range = scale_range

    def bind(self, problem: ProblemBatch, generator: torch.Generator) -> BoundOracle:
        w1 = problem.w1
        B, d = w1.shape
        scale = rnd.log_uniform((B,), *self.scale_range, generator, w1.device, w1.dtype)
        factor = (scale / math.sqrt(d))[:, None, None]

        def sample(w: Tensor, m: int = 1) -> Tensor:
            shape = (m, *w.shape)
            z = torch.randn(shape, generator=generator, device=w.device, dtype=w.dtype)
            u = torch.rand(shape, generator=generator, device=w.device, dtype=w.dtype)
            chi2 = -2 * torch.log1p(-u)  # chi-square with 2 degrees of freedom: twice an Exp(1)
            return problem.grad(w) + factor * (z / torch.sqrt(chi2 / 2)).mean(0)

        return BoundOracle(self.name, noise_classes(self.classes, problem.classes), {"scale": scale}, sample,
                           constant_variance(torch.full_like(scale, math.inf)))


class StateDependentNoise:
    """Gaussian noise whose variance is exactly D_sdn ||grad L(w)||^2, D_sdn log-uniform per instance."""

    name = "state-dependent"
    classes = frozenset({"sdn"})
    finite_variance = True

    def __init__(self, rho_range: tuple[float, float] = (0.01, 10.0)) -> None:
        self.rho_range = rho_range

    def bind(self, problem: ProblemBatch, generator: torch.Generator) -> BoundOracle:
        w1 = problem.w1
        B, d = w1.shape
        rho = rnd.log_uniform((B,), *self.rho_range, generator, w1.device, w1.dtype)
        factor = torch.sqrt(rho / d)[:, None, None]

        def sample(w: Tensor, m: int = 1) -> Tensor:
            g = problem.grad(w)
            return g + factor * torch.linalg.vector_norm(g, dim=-1, keepdim=True) * minibatch_normal(w, m, generator)

        def variance(w: Tensor, m: int = 1) -> Tensor:
            return rho[:, None] * problem.grad(w).square().sum(-1) / m

        return BoundOracle(self.name, noise_classes(self.classes, problem.classes), {"D_sdn": rho}, sample,
                           variance)


#: The kinds of variance schedule of ``TimeVaryingNoise``, in the order of ``NoiseSchedule.kind``.
SCHEDULE_KINDS = ("decaying", "growing", "bursts")


@dataclass(frozen=True)
class NoiseSchedule:
    """Per-instance variance schedules s(t) in [0, 1], t = 1, 2, ...; every field has shape (B,).

    ``kind`` indexes SCHEDULE_KINDS: decaying s(t) = t^(-beta) (s(1) = 1); growing
    s(t) = min(1, t / tau) (1 from t = tau on); bursts s(t) = 1 when (t - 1 + phase) mod period < width
    and ``floor`` otherwise. The fields a kind does not use are ignored.
    """

    kind: Tensor
    beta: Tensor
    tau: Tensor
    period: Tensor
    width: Tensor
    phase: Tensor
    floor: Tensor

    def __post_init__(self) -> None:
        checks = {"kind in 0..2": (self.kind >= 0) & (self.kind < len(SCHEDULE_KINDS)), "beta >= 0": self.beta >= 0,
                  "tau > 0": self.tau > 0, "period >= 1": self.period >= 1, "width >= 0": self.width >= 0,
                  "0 <= floor <= 1": (self.floor >= 0) & (self.floor <= 1)}
        for what, ok in checks.items():
            if not bool(ok.all()):
                raise ValueError(f"NoiseSchedule: every instance needs {what}")

    def __call__(self, t: int) -> Tensor:
        """s(t) for every instance, shape (B,)."""
        if t < 1:
            raise ValueError(f"NoiseSchedule: steps start at t = 1, got {t}")
        step = torch.full_like(self.beta, float(t))
        decaying = step ** (-self.beta)
        growing = torch.clamp(step / self.tau, max=1.0)
        bursts = torch.where(torch.remainder(step - 1 + self.phase, self.period) < self.width,
                             torch.ones_like(self.floor), self.floor)
        return torch.where(self.kind == 0, decaying, torch.where(self.kind == 1, growing, bursts))

    @staticmethod
    def draw(batch: int, kinds: tuple[str, ...], generator: torch.Generator, device: torch.device | str,
             dtype: torch.dtype) -> "NoiseSchedule":
        """One schedule per instance, of a kind drawn uniformly from ``kinds``: beta in [0, 2],
        tau log-uniform in [1, 1000], an integer period in 2..50 with bursts of 1..period-1 steps
        at a uniform phase, and a floor log-uniform in [1e-4, 1e-1]."""
        allowed = torch.tensor([SCHEDULE_KINDS.index(k) for k in kinds], device=device)
        kind = allowed[rnd.choice(batch, len(kinds), generator, device)]
        beta = rnd.uniform((batch,), 0.0, 2.0, generator, device, dtype)
        tau = rnd.log_uniform((batch,), 1.0, 1000.0, generator, device, dtype)
        period = (2 + rnd.choice(batch, 49, generator, device)).to(dtype)
        width = 1 + torch.floor(rnd.uniform((batch,), 0.0, 1.0, generator, device, dtype) * (period - 1))
        phase = torch.floor(rnd.uniform((batch,), 0.0, 1.0, generator, device, dtype) * period)
        floor = rnd.log_uniform((batch,), 1e-4, 1e-1, generator, device, dtype)
        return NoiseSchedule(kind, beta, tau, period, width, phase, floor)


class TimeVaryingNoise:
    """Gaussian noise whose variance at step t is exactly sigma_t^2 = sigma^2 s(t), s a per-instance
    schedule in [0, 1] (section 11's sigma_t, Theorem 11.1), sigma log-uniform per instance.

    The class var holds with the constant sigma = max_t sigma_t, and m2 with G^2 = G_L^2 + sigma^2
    on a G_L-Lipschitz loss, as for ``GaussianNoise``. The oracle takes t from the runner
    (``BoundOracle.begin_step``, called by algorithms.run before each step, so several calls in one
    step share sigma_t); before the first step, e.g. for pointwise draws, it is at t = 1.
    """

    name = "time-varying"
    classes = frozenset({"var", "m2"})
    finite_variance = True

    def __init__(self, sigma_range: tuple[float, float] = (0.01, 10.0),
                 kinds: tuple[str, ...] = SCHEDULE_KINDS) -> None:
        unknown = set(kinds) - set(SCHEDULE_KINDS)
        if not kinds or unknown:
            raise ValueError(f"TimeVaryingNoise: kinds must be a non-empty subset of {SCHEDULE_KINDS}, got {kinds}")
        self.sigma_range = sigma_range
        self.kinds = tuple(kinds)

    def bind(self, problem: ProblemBatch, generator: torch.Generator,
             schedule: NoiseSchedule | None = None) -> BoundOracle:
        """Bind to ``problem``; ``schedule`` (default: drawn from ``generator``) fixes s."""
        w1 = problem.w1
        B, d = w1.shape
        sigma = rnd.log_uniform((B,), *self.sigma_range, generator, w1.device, w1.dtype)
        if schedule is None:
            schedule = NoiseSchedule.draw(B, self.kinds, generator, w1.device, w1.dtype)
        constants = {"sigma": sigma}
        if "G" in problem.constants:
            constants["G"] = torch.sqrt(problem.constants["G"] ** 2 + sigma ** 2)
        additive_smoothness(problem, constants)
        current = [sigma ** 2 * schedule(1)]  # sigma_t^2 (B,) at the current step

        def on_step(t: int) -> None:
            current[0] = sigma ** 2 * schedule(t)

        def sample(w: Tensor, m: int = 1) -> Tensor:
            return problem.grad(w) + torch.sqrt(current[0] / d)[:, None, None] * minibatch_normal(w, m, generator)

        def variance(w: Tensor, m: int = 1) -> Tensor:
            return (current[0][:, None] / m).expand(w.shape[:-1])

        return BoundOracle(self.name, noise_classes(self.classes, problem.classes), constants, sample,
                           variance, on_step)


class FiniteSumSampler:
    """``sample`` of a finite-sum oracle: ``sampler(w, m)`` averages m term gradients at indices
    drawn uniformly with replacement; ``term_grad(w, idx)`` is the gradient of the chosen terms
    (idx a LongTensor (B, R)); ``permutations(w)`` draws one uniform permutation of the N terms per
    instance and replica, shape (B, R, N), from the oracle's generator (Algorithm 3's epochs)."""

    def __init__(self, problem: ProblemBatch, generator: torch.Generator) -> None:
        self.terms = problem.terms
        self.num_terms = problem.terms.num_terms
        self.generator = generator
        self.grad = problem.grad

    def term_grad(self, w: Tensor, idx: Tensor) -> Tensor:
        return self.terms.term_grad(w, idx)

    def permutations(self, w: Tensor) -> Tensor:
        keys = torch.rand((*w.shape[:-1], self.num_terms), generator=self.generator, device=w.device)
        return keys.argsort(-1)

    def __call__(self, w: Tensor, m: int = 1) -> Tensor:
        idx = torch.randint(0, self.num_terms, (m, *w.shape[:-1]), generator=self.generator, device=w.device)
        if m == 1:
            return self.term_grad(w, idx[0])
        B, R, d = w.shape  # the m draws of each point in one call: draw j of point r at j * R + r
        every = self.term_grad(w.repeat(1, m, 1), idx.permute(1, 0, 2).reshape(B, m * R))
        return every.reshape(B, m, R, d).mean(1)

    def variance(self, w: Tensor, m: int = 1) -> Tensor:
        """E||g - grad L(w)||^2 (B, R) of ``self(w, m)``: with every term gradient at w (one batched
        call over the N terms), ||mean_i grad l_i - grad L||^2 + (1/N) sum_i ||grad l_i - mean||^2 / m
        (m draws with replacement; the first part is 0 up to rounding, the oracle being unbiased)."""
        B, R, d = w.shape
        N = self.num_terms
        idx = torch.arange(N, device=w.device).repeat(B, R)  # (B, R * N): term j of point r at r * N + j
        every = self.term_grad(w.repeat_interleave(N, dim=1), idx).reshape(B, R, N, d)
        mean = every.mean(2)
        spread = (every - mean[:, :, None, :]).square().sum(-1).mean(-1)
        return (mean - self.grad(w)).square().sum(-1) + spread / m


class FiniteSumSampling:
    """Uniform sampling of one term of a finite sum per draw (SGD on a finite sum)."""

    name = "finite-sum"
    classes = frozenset({"fsum", "var", "bdd", "m2"})
    finite_variance = True

    def bind(self, problem: ProblemBatch, generator: torch.Generator) -> BoundOracle:
        if problem.terms is None:
            raise ValueError(f"the finite-sum oracle needs a finite-sum family (class fsum); {problem.family} is not one")
        constants: dict[str, Tensor] = {}
        G_i = problem.terms.constants.get("G_i")
        classes = noise_classes(self.classes, problem.classes)
        if G_i is None:
            classes = classes - {"var", "bdd", "m2"}
        else:
            # ||grad l_i|| <= G_i surely; E||g - grad L||^2 <= E||g||^2 <= max_i G_i^2
            constants["G"] = G_i.max(-1).values
            constants["sigma"] = constants["G"].clone()
        constants["N"] = torch.full_like(problem.w1[:, 0], float(problem.terms.num_terms))
        H_i = problem.terms.constants.get("H_i")
        if H_i is not None:
            constants["H_ell"] = H_i.max(-1).values  # every term l_i is H_i-smooth
        sampler = FiniteSumSampler(problem, generator)
        return BoundOracle(self.name, classes, constants, sampler, sampler.variance)
