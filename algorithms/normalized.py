"""Normalized SGD with momentum and with variance-reduced momentum (section 24 of the notes,
lines 3436 and 3600), batched over instances and replicas.

Normalized SGD with momentum (Lemma 24.1, Theorem 24.3):

    m_1 = grad l(w_1, z_1),  m_t = (1 - alpha) m_{t-1} + alpha grad l(w_t, z_t),
    w_{t+1} = w_t - eta m_t / ||m_t||.

With variance-reduced momentum (Lemma 24.4, Theorem 24.5) the same sample z_t is also evaluated at
the previous iterate:

    m_t = (1 - alpha)(m_{t-1} + grad l(w_t, z_t) - grad l(w_{t-1}, z_t)) + alpha grad l(w_t, z_t).

The second needs an oracle that evaluates one sample at two points (``paired``, e.g.
``algorithms.coupled.PairedSamples``, which the checker provides to algorithms that set
``needs_paired_samples``). Where m_t = 0 the step is 0 (the notes leave m_t / ||m_t|| undefined
there). Both expose ``probe`` (algorithms.run): the estimate m_t of step t.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from algorithms.protocol import HyperParameter, Oracle, as_schedule

Tensor = torch.Tensor


def normalized(m: Tensor) -> Tensor:
    """m / ||m|| over the last axis, 0 where m = 0."""
    norm = torch.linalg.vector_norm(m, dim=-1, keepdim=True)
    return torch.where(norm > 0, m / torch.where(norm > 0, norm, torch.ones_like(norm)), torch.zeros_like(m))


class NormalizedSGDMomentum:
    """Normalized SGD with momentum (section 24): step ``eta``, momentum weight ``alpha`` in (0, 1]."""

    returns_fresh_iterates = True  # algorithms.protocol

    def __init__(self, eta: HyperParameter, alpha: HyperParameter) -> None:
        self.eta, self.alpha = as_schedule(eta), as_schedule(alpha)

    def init(self, w1: Tensor) -> Any:
        return {"m": None}

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        g = oracle(w)
        m = g if state["m"] is None else (1 - self.alpha(t)) * state["m"] + self.alpha(t) * g
        return w - self.eta(t) * normalized(m), {"m": m}

    def probe(self, w: Tensor, state: Any, oracle: Oracle) -> Mapping[str, Tensor]:
        """The estimate m_t that step t used."""
        return {"estimate": state["m"]}


class NormalizedSGDVR:
    """Normalized SGD with variance-reduced momentum (section 24.1): step ``eta``, weight ``alpha``."""

    returns_fresh_iterates = True  # algorithms.protocol
    needs_paired_samples = True  # the checker hands it an oracle with ``paired`` (theorems/rounds.py)

    def __init__(self, eta: HyperParameter, alpha: HyperParameter) -> None:
        self.eta, self.alpha = as_schedule(eta), as_schedule(alpha)

    def init(self, w1: Tensor) -> Any:
        return {"m": None, "previous": None}

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        if state["m"] is None:
            m = oracle(w)
        else:
            if not callable(getattr(oracle, "paired", None)):
                raise ValueError("NormalizedSGDVR needs an oracle that evaluates one sample at two points "
                                 "(oracle.paired(w_a, w_b); algorithms.coupled.PairedSamples)")
            g, g_previous = oracle.paired(w, state["previous"])
            alpha = self.alpha(t)
            m = (1 - alpha) * (state["m"] + g - g_previous) + alpha * g
        return w - self.eta(t) * normalized(m), {"m": m, "previous": w}

    def probe(self, w: Tensor, state: Any, oracle: Oracle) -> Mapping[str, Tensor]:
        """The estimate m_t that step t used."""
        return {"estimate": state["m"]}
