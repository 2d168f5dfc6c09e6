"""Bring your own loss: a problem family from a loss written once in numpy (issue 16).

``from_numpy_loss`` turns a batched numpy loss into a family usable wherever the built-in ones
are (``problems.register`` it, or name its module in ``THEORYCHECK_FAMILIES``). Gradients and
Hessian-vector products come from ``autodiff`` (section 4 of the notes), as for ``logistic-l2``.

Every constant a theorem may use carries a stated certificate, or is left out:

- ``Certified(value, proof)``: a bound the user proved (H, G, mu, a lower bound of L), given
  per instance as a function of the data. It is also checked on samples: at points drawn around
  w1 and the reference point of each instance (``sample_points``), the Hessian spectrum must lie
  in [mu, H] (in [-H, H] without mu; P5.2: H-smooth iff ||Hess L||_op <= H; PB.1 for convexity,
  mu = 0), gradient norms must be <= G (P2.3) and losses >= the lower bound;
  a sample that contradicts the proof raises ``CertificateError``. Samples cannot prove a bound:
  the certificate is the proof, the samples only catch a wrong one.
- ``Estimated()``: the maximum over the sampled points (largest |eigenvalue| for H, largest
  gradient norm for G), labelled "estimated, not certified". An estimated constant is NOT put
  into the batch's constants and its class (``smooth`` for H, ``lip`` for G) is not declared, so
  the family is not admissible for any claim that needs it (such claims report
  ``not-applicable`` on it). The estimate is shown in ``describe`` and in ``certificates``.
- w*, L*, D: only where certified. With a certified mu > 0 (class sc) a damped Newton solve
  gives w_hat, and strong convexity certifies ||w_hat - w*|| <= ||g||/mu and
  L(w_hat) - L* <= ||g||^2/(2 mu), g = grad L(w_hat) (L21.5, and L21.8 with L21.5); L* is reported as
  the lower bound L(w_hat) - ||g||^2/(2 mu) and D as ||w1 - w_hat|| + ||g||/mu. In any class, a
  user's candidate minimiser (``minimizer``) is certified when its loss is within
  ``MINIMIZER_GAP`` (relative) of the certified lower bound, which then is L*. Otherwise the
  family provides no w*, L* nor D; Delta = L(w1) - (lower bound) is an upper bound whenever a
  lower bound is certified.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import torch

import autodiff
import autodiff.numpy as anp
from problems._batch import ProblemBatch

Tensor = torch.Tensor
Data = Mapping[str, np.ndarray]
#: ``sample_data(rng, B, d)``: the data of B instances of dimension d, arrays with leading axis B.
Sampler = Callable[[np.random.Generator, int, int], Data]
#: A constant given per instance: a number, or a function of the batch's data (arrays (B, ...)) giving (B,).
Value = float | Callable[[Data], np.ndarray]

#: Relative rounding allowance of every sample check (as the checker's sure claims: 1e-9 of the magnitudes).
RTOL, ATOL = 1e-9, 1e-12
#: A candidate minimiser is certified when L(w) - lower bound <= MINIMIZER_GAP * max(1, L(w1) - lower bound).
MINIMIZER_GAP = 1e-12


class CertificateError(ValueError):
    """A certified constant is contradicted by a sample, or a certificate cannot be given."""


@dataclass(frozen=True)
class Certified:
    """A proven constant: ``value`` (a number or a function of the data giving one per instance)
    and ``proof``, one line saying why it holds; checked on sampled points (module docstring)
    unless ``checked=False`` (the proof alone is trusted, and the certificate says so)."""

    value: Value
    proof: str
    checked: bool = True


@dataclass(frozen=True)
class Estimated:
    """A constant estimated on sampled points, not certified: the family is not admissible for
    claims that need it (module docstring)."""


def _per_instance(value: Value, data: Data, batch: int, what: str) -> np.ndarray:
    """The constant as a finite float array (B,)."""
    out = np.broadcast_to(np.asarray(value(data) if callable(value) else value, dtype=float), (batch,)).copy()
    if not np.isfinite(out).all():
        raise CertificateError(f"{what} is not finite on instance {int(np.flatnonzero(~np.isfinite(out))[0])}")
    return out


class NumpyLossFamily:
    """A family built by ``from_numpy_loss``; ``certificates`` states how each constant is known."""

    def __init__(self, name: str, loss: Callable[..., Any], sample_data: Sampler,
                 H: Certified | Estimated | None, G: Certified | Estimated | None, mu: Certified | None,
                 convex: str | None, lower_bound: Certified | None,
                 minimizer: Callable[[Data], np.ndarray] | None, samples: int) -> None:
        self.name, self.user_loss, self.sample_data = name, loss, sample_data
        self.H, self.G, self.mu, self.convex, self.lower_bound = H, G, mu, convex, lower_bound
        self.minimizer, self.samples = minimizer, samples
        classes = {"smooth"} if isinstance(H, Certified) else set()
        classes |= {"lip"} if isinstance(G, Certified) else set()
        classes |= {"cvx"} if convex or mu is not None else set()
        classes |= {"sc"} if mu is not None else set()
        classes |= {"lb"} if lower_bound is not None or mu is not None else set()
        classes |= {"minimizer"} if mu is not None or (minimizer is not None and lower_bound is not None) else set()
        self.classes = frozenset(classes)
        self.certificates = self._certificates()

    def _certificates(self) -> dict[str, str]:
        """One line per constant: how it is known."""
        out: dict[str, str] = {}

        def checked(record: Certified) -> str:
            return (f"checked on {self.samples} sampled points per instance" if record.checked
                    else "NOT checked on samples: the proof alone is trusted")

        for symbol, record, what in (("H", self.H, "max |eigenvalue| of the Hessian"),
                                     ("G", self.G, "max gradient norm")):
            if isinstance(record, Certified):
                out[symbol] = f"certified: {record.proof} ({checked(record)})"
            elif isinstance(record, Estimated):
                out[symbol] = (f"estimated, not certified ({what} over {self.samples} sampled points per instance); "
                               f"claims that need {symbol} are not applicable to this family")
        if self.mu is not None:
            out["mu"] = f"certified: {self.mu.proof} ({checked(self.mu)})"
        elif self.convex:
            out["convex"] = f"certified: {self.convex} (checked on {self.samples} sampled points per instance)"
        if self.mu is not None:
            out["w*"] = ("certified: damped Newton solve; ||w_hat - w*|| <= ||grad L(w_hat)||/mu, "
                         "L* >= L(w_hat) - ||grad L(w_hat)||^2/(2 mu)")
        elif "minimizer" in self.classes:
            out["w*"] = (f"certified: the candidate's loss is within {MINIMIZER_GAP:g} (relative) of the proven "
                         "lower bound, which is reported as L*")
        else:
            out["w*"] = "not provided (no certified solve for this class): no w*, L* nor D"
        if self.lower_bound is not None:
            out["lower bound"] = (f"certified: {self.lower_bound.proof} ({checked(self.lower_bound)}); "
                                  "Delta = L(w1) - lower bound")
        return out

    def batch_loss(self, w: np.ndarray, data: Data) -> Any:
        """The user's loss of every (instance, replica) at w (B, R, d): data arrays as (B, 1, ...)."""
        return self.user_loss(w, **{k: v[:, None] for k, v in data.items()})

    def sample(self, batch_size: int, dim: int, generator: torch.Generator,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> ProblemBatch:
        """B instances with certified constants (module docstring); raises CertificateError."""
        return _build(self, batch_size, dim, generator, device, dtype)


def from_numpy_loss(name: str, loss: Callable[..., Any], sample_data: Sampler, *,
                    H: Certified | Estimated | None = None, G: Certified | Estimated | None = None,
                    mu: Certified | None = None, convex: str | None = None, lower_bound: Certified | None = None,
                    minimizer: Callable[[Data], np.ndarray] | None = None, samples: int = 32) -> NumpyLossFamily:
    """A problem family (``problems.Family``) from a numpy loss, with certified constants.

    ``loss(w, **data)``: w has shape (B, R, d) (B instances, R points each), every data array
    arrives as (B, 1, ...) so that it broadcasts against w; returns (B, R). Write it with
    ``autodiff.numpy`` (``import autodiff.numpy as anp``), which traces it for gradients and
    Hessian-vector products. ``sample_data(rng, B, d)`` draws the data of B instances of dimension
    d: a dict of arrays with leading axis B. ``H``, ``G``: ``Certified`` (a proof, checked on samples),
    ``Estimated`` (not admissible for claims that need it) or None. ``mu``: a certified modulus of
    strong convexity (classes cvx, sc; w* by a certified Newton solve); ``convex``: the one-line
    proof that L is convex (class cvx). ``lower_bound``: a proven lower bound of L (class lb,
    Delta). ``minimizer(data) -> (B, d)``: candidate minimisers, certified against the lower bound
    (class minimizer). ``samples``: points per instance for the sample checks and the estimates.
    Which constants each choice certifies, and how: the module docstring and ``certificates``.
    """
    if not name or "/" in name or not name.isprintable():
        raise ValueError(f"family name {name!r} must be a non-empty printable name without '/'")
    if minimizer is not None and lower_bound is None and mu is None:
        raise CertificateError(f"family {name!r}: a candidate minimiser needs a certified lower bound to certify it")
    for what, record in (("H", H), ("G", G)):
        if record is not None and not isinstance(record, (Certified, Estimated)):
            raise TypeError(f"family {name!r}: {what} must be Certified(...), Estimated() or None")
    if mu is not None and not isinstance(mu, Certified):
        raise TypeError(f"family {name!r}: mu must be Certified(...) (a proven modulus of strong convexity)")
    if samples < 1:
        raise ValueError(f"family {name!r}: samples must be >= 1")
    return NumpyLossFamily(name, loss, sample_data, H, G, mu, convex, lower_bound, minimizer, samples)


def grad_np(family: NumpyLossFamily, w: np.ndarray, data: Data) -> np.ndarray:
    """Gradients (B, R, d) of every (instance, replica) loss at once (the losses are separable)."""
    return autodiff.grad(lambda v: anp.sum(family.batch_loss(v, data)))(w)


def hvp_np(family: NumpyLossFamily, w: np.ndarray, u: np.ndarray, data: Data) -> np.ndarray:
    """Hessian-vector products (B, R, d) of every (instance, replica) loss at once."""
    return autodiff.hessian_vector_product(lambda v: anp.sum(family.batch_loss(v, data)))(w, u)


def hessians_np(family: NumpyLossFamily, w: np.ndarray, data: Data) -> np.ndarray:
    """Dense symmetrised Hessians (B, R, d, d) from d Hessian-vector products."""
    d = w.shape[-1]
    eye = np.eye(d)
    columns = np.stack([hvp_np(family, w, np.broadcast_to(eye[j], w.shape).copy(), data) for j in range(d)], -1)
    return (columns + np.swapaxes(columns, -1, -2)) / 2


def certificate_lines(families: Any) -> list[str]:
    """``family: constant certificate`` lines for the registered user families among ``families``
    (names, or ``family/oracle`` pairs as in a check's results); built-in families state theirs in
    their module docstrings."""
    from problems import FAMILIES
    names = sorted({str(f).split("/")[0] for f in families})
    return [f"{n}: {symbol} {text}" for n in names
            for symbol, text in getattr(FAMILIES.get(n), "certificates", {}).items()]


def sample_points(rng: np.random.Generator, w1: np.ndarray, reference: np.ndarray, count: int) -> np.ndarray:
    """The sampled region of each instance, (B, count, d): w1, the reference point (w_hat, the
    candidate minimiser or 0), points near the segment between them and points in a ball of
    radius 2 (||w1 - reference|| + 1) around the reference (Gaussian draws)."""
    B, d = w1.shape
    radius = np.linalg.norm(w1 - reference, axis=-1)[:, None, None] + 1.0
    along = rng.uniform(0.0, 1.0, (B, count, 1))
    noise = rng.standard_normal((B, count, d)) / np.sqrt(d)
    near = reference[:, None] + along * (w1 - reference)[:, None] + 0.25 * radius * noise
    ball = reference[:, None] + 2.0 * radius * rng.standard_normal((B, count, d)) / np.sqrt(d)
    points = np.where(np.arange(count)[None, :, None] % 2 == 0, near, ball)
    points[:, 0] = w1
    if count > 1:
        points[:, 1] = reference
    return points


def _losses(family: NumpyLossFamily, w: np.ndarray, data: Data) -> np.ndarray:
    """The user's loss at w (B, R, d) as a float array (B, R), with a clear error for a wrong shape."""
    out = np.asarray(family.batch_loss(w, data), dtype=float)
    if out.shape != w.shape[:-1]:
        raise ValueError(f"family {family.name!r}: loss(w, **data) returned shape {out.shape} for w of shape "
                         f"{w.shape}; it must return one value per point, shape {w.shape[:-1]}")
    return out


def _newton(family: NumpyLossFamily, start: np.ndarray, data: Data, iterations: int = 100) -> np.ndarray:
    """Minimisers (B, d) of strongly convex losses: Newton steps, halved until the loss decreases
    (Armijo) or the gradient norm halves (near w*, where loss values no longer resolve the progress);
    an instance stops once ||g|| <= 1e-13 max(1, ||g(start)||) or where 40 halvings find neither."""
    w = start[:, None, :].copy()
    active, floor = np.ones(w.shape[:-1], dtype=bool), None
    for _ in range(iterations):
        g = grad_np(family, w, data)
        g_norm = np.linalg.norm(g, axis=-1)
        floor = 1e-13 * np.maximum(1.0, g_norm) if floor is None else floor
        active &= g_norm > floor
        if not active.any():
            break
        step = np.linalg.solve(hessians_np(family, w, data), g[..., None])[..., 0]
        value, slope = _losses(family, w, data), np.sum(g * step, axis=-1)
        t = np.ones(w.shape[:-1] + (1,))
        ok = ~active
        for _ in range(40):
            trial = w - t * step
            ok |= ((_losses(family, trial, data) <= value - 1e-4 * t[..., 0] * slope)
                   | (np.linalg.norm(grad_np(family, trial, data), axis=-1) <= g_norm / 2))
            if ok.all():
                break
            t = np.where(ok[..., None], t, t / 2)
        active &= ok
        w = w - np.where(active[..., None], t, 0.0) * step
    return w[:, 0]


def _check(family: NumpyLossFamily, bad: np.ndarray, message: Callable[[int], str]) -> None:
    """Raise CertificateError with ``message(b)`` for the first instance b where ``bad``."""
    if bad.any():
        raise CertificateError(f"family {family.name!r}: {message(int(np.flatnonzero(bad)[0]))}")


def _build(family: NumpyLossFamily, B: int, d: int, generator: torch.Generator, device: torch.device | str,
           dtype: torch.dtype) -> ProblemBatch:
    """Sample the data, solve or certify w*, check the certified constants on sampled points."""
    seed = int(torch.randint(0, 2 ** 62, (1,), generator=generator, device=generator.device).item())
    rng = np.random.default_rng(seed)
    data = {k: np.asarray(v, dtype=float) for k, v in family.sample_data(rng, B, d).items()}
    for k, v in data.items():
        if v.ndim == 0 or v.shape[0] != B:
            raise ValueError(f"family {family.name!r}: data {k!r} has shape {v.shape}; "
                             f"its leading axis must be B = {B}")
    value = {name: _per_instance(rec.value, data, B, f"{family.name}: {name}")
             for name, rec in (("H", family.H), ("G", family.G), ("mu", family.mu), ("lower", family.lower_bound))
             if isinstance(rec, Certified)}
    reference = np.zeros((B, d))
    if family.minimizer is not None:
        reference = np.asarray(family.minimizer(data), dtype=float).reshape(B, d)
    if family.mu is not None:
        _check(family, ~(value["mu"] > 0), lambda b: f"mu = {value['mu'][b]:.6g} is not > 0 on instance {b}")
        reference = _newton(family, reference, data)
    direction = rng.standard_normal((B, d))
    direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
    w1 = reference + np.exp(rng.uniform(np.log(0.1), np.log(10.0), (B, 1))) * direction
    points = sample_points(rng, w1, reference, family.samples)
    eig = np.linalg.eigvalsh(hessians_np(family, points, data))
    sampled = {"H": np.abs(eig).max(axis=(-1, -2)), "G": np.linalg.norm(grad_np(family, points, data), axis=-1).max(-1),
               "eig_min": eig[..., 0].min(axis=-1), "loss": _losses(family, points, data)}
    _check_on_samples(family, value, sampled)
    L1 = _losses(family, w1[:, None], data)[:, 0]
    constants: dict[str, np.ndarray] = {k: value[k] for k in ("H", "G", "mu") if k in value}
    w_star = None if family.mu is None and family.minimizer is None else reference
    if w_star is not None:
        constants.update(_minimiser_constants(family, value, w_star, w1, L1, data))
    if "Lstar" in constants or "lower" in value:
        constants["Delta"] = L1 - constants.get("Lstar", value.get("lower"))
    estimates = {f"{name}_estimated": sampled[name] for name in ("H", "G")
                 if isinstance(getattr(family, name), Estimated)}
    return _problem_batch(family, data, w1, w_star, constants, estimates,
                          {k: sampled[k] for k in ("H", "G")}, device, dtype)


def _minimiser_constants(family: NumpyLossFamily, value: Mapping[str, np.ndarray], w_hat: np.ndarray,
                         w1: np.ndarray, L1: np.ndarray, data: Data) -> dict[str, np.ndarray]:
    """L*, D (and ``w_star_error``) of a certified minimiser w_hat (B, d): by strong convexity
    (L21.5: L(w_hat) - L* <= ||g||^2/(2 mu); L21.8 with L21.5: ||w_hat - w*|| <= ||g||/mu) when mu
    is certified, else by a candidate whose loss meets the certified lower bound (CertificateError if not)."""
    at_hat = _losses(family, w_hat[:, None], data)[:, 0]
    if family.mu is not None:
        g_norm = np.linalg.norm(grad_np(family, w_hat[:, None], data)[:, 0], axis=-1)
        error = g_norm / value["mu"]
        lstar = at_hat - g_norm ** 2 / (2 * value["mu"])
        lstar = np.maximum(lstar, value["lower"]) if "lower" in value else lstar
        return {"Lstar": lstar, "w_star_error": error, "D": np.linalg.norm(w1 - w_hat, axis=-1) + error}
    gap = at_hat - value["lower"]
    _check(family, gap > MINIMIZER_GAP * np.maximum(1.0, L1 - value["lower"]),
           lambda b: f"the candidate minimiser of instance {b} is not certified: L(w) - lower bound = {gap[b]:.3g}")
    return {"Lstar": value["lower"], "D": np.linalg.norm(w1 - w_hat, axis=-1)}


def _check_on_samples(family: NumpyLossFamily, value: Mapping[str, np.ndarray],
                      sampled: Mapping[str, np.ndarray]) -> None:
    """Raise CertificateError where a sampled point contradicts a checked certificate: the largest
    |eigenvalue| ``H`` above H (P5.2), the smallest ``eig_min`` below mu or 0 (PB.1), a gradient norm
    ``G`` above G (P2.3), a ``loss`` (B, K) below the lower bound; rounding allowance RTOL, ATOL."""
    for name in ("H", "G"):
        if name in value and getattr(family, name).checked:
            _check(family, sampled[name] > value[name] * (1 + RTOL) + ATOL,
                   lambda b: f"certified {name} = {value[name][b]:.6g} is contradicted on instance {b}: a sampled "
                             f"point has {name} {sampled[name][b]:.6g} ({getattr(family, name).proof})")
    B = len(sampled["H"])
    floor = value["mu"] if family.mu is not None and family.mu.checked else np.zeros(B) if family.convex else None
    if floor is not None:
        _check(family, sampled["eig_min"] < floor - RTOL * (np.abs(floor) + sampled["H"]) - ATOL,
               lambda b: f"{'mu = %.6g' % floor[b] if family.mu else 'convexity'} is contradicted on instance {b}: a "
                         f"sampled Hessian has eigenvalue {sampled['eig_min'][b]:.6g}")
    if "lower" in value and family.lower_bound.checked:
        losses = sampled["loss"]
        allowance = RTOL * (np.abs(value["lower"]) + np.abs(losses).max(-1)) + ATOL
        _check(family, losses.min(-1) < value["lower"] - allowance,
               lambda b: f"lower bound {value['lower'][b]:.6g} is contradicted on instance {b}: a sampled loss is "
                         f"{losses.min(-1)[b]:.6g}")


def _problem_batch(family: NumpyLossFamily, data: Data, w1: np.ndarray, w_star: np.ndarray | None,
                   constants: Mapping[str, np.ndarray], estimates: Mapping[str, np.ndarray],
                   sampled: Mapping[str, np.ndarray], device: torch.device | str, dtype: torch.dtype) -> ProblemBatch:
    """The torch face of a batch: loss, gradient and HVP through autodiff, constants as tensors."""

    def to_torch(a: np.ndarray) -> Tensor:
        return torch.as_tensor(np.asarray(a, dtype=float), dtype=dtype, device=device)

    def numpy(w: Tensor) -> np.ndarray:
        return w.detach().cpu().numpy().astype(float)

    def loss(w: Tensor) -> Tensor:
        return to_torch(_losses(family, numpy(w), data))

    def grad(w: Tensor) -> Tensor:
        return to_torch(grad_np(family, numpy(w), data))

    def hvp(w: Tensor, u: Tensor) -> Tensor:
        return to_torch(hvp_np(family, numpy(w), numpy(u), data))

    def describe(b: int) -> dict[str, Any]:
        out: dict[str, Any] = {k: v[b].tolist() for k, v in data.items()}
        out.update({k: float(v[b]) for k, v in estimates.items()})
        out.update({f"{k}_sampled_max": float(v[b]) for k, v in sampled.items()})
        out["w1"] = w1[b].tolist()
        if w_star is not None:
            out["w_star"] = w_star[b].tolist()
        return out

    return ProblemBatch(family.name, family.classes, loss, grad, {k: to_torch(v) for k, v in constants.items()},
                        to_torch(w1), None if w_star is None else to_torch(w_star),
                        {"family": family.name, "batch_size": int(w1.shape[0]), "dim": int(w1.shape[1])},
                        describe, hvp=hvp)
