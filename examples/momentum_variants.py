"""A user's own momentum variant, checked against section 20 (L20.1, L20.2, T20.3).

``NesterovMomentum`` is Algorithm 16 with the gradient taken at the look-ahead point
w_t - eta (1 - alpha) m_{t-1}. Like any algorithm factory it is called with the theorem's
hyper-parameters (``eta``, ``alpha``) and returns an object with ``init``/``step``; ``estimate``
exposes its momentum buffer m_t, so the lemmas about eps_t = m_t - grad L(w_t) can check it too::

    theorycheck check T20.3 --algorithm examples.momentum_variants:NesterovMomentum --variant-setting tuned
    theorycheck check L20.1 --algorithm examples.momentum_variants:NesterovMomentum

The first holds (the rate does not need the gradient at w_t). L20.1's pointwise inequality holds
for any m_t, so it holds too. torch's own SGD, as Algorithm 16 (algorithms/momentum.py)::

    theorycheck check T20.3 --algorithm algorithms.momentum:TorchMomentum
    theorycheck check T20.3 --algorithm torch.optim.SGD --option momentum=0.9 --option dampening=0.9
"""
from __future__ import annotations

from typing import Any

import torch

from algorithms import as_schedule


class NesterovMomentum:
    """m_t = (1 - alpha) m_{t-1} + alpha g(w_t - eta (1 - alpha) m_{t-1}), w_{t+1} = w_t - eta m_t (m_0 = 0)."""

    returns_fresh_iterates = True

    def __init__(self, eta: Any, alpha: Any, **ignored: Any) -> None:
        self.eta, self.alpha = as_schedule(eta), as_schedule(alpha)

    def init(self, w1: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(w1)

    def step(self, w: torch.Tensor, m: torch.Tensor, oracle: Any, t: int) -> tuple[torch.Tensor, torch.Tensor]:
        eta, alpha = self.eta(t), self.alpha(t)
        m = (1 - alpha) * m + alpha * oracle(w - eta * (1 - alpha) * m)
        return w - eta * m, m

    @staticmethod
    def estimate(m: torch.Tensor) -> torch.Tensor:
        """The momentum buffer m_t, the estimate of grad L(w_t)."""
        return m
