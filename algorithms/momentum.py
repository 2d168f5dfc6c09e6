"""SGD with momentum (Algorithm 16 of the notes, section 20), batched over instances and replicas.

Algorithm 16 keeps an exponential moving average of the stochastic gradients,

    m_1 = g_1,    m_t = (1 - alpha) m_{t-1} + alpha g_t  (t >= 2),    w_{t+1} = w_t - eta m_t,

with g_t = grad l(w_t, z_t). The notes print the first step as w_2 = w_1 - m_1, without eta (every
later step, and the proofs of Lemma 20.1 and Theorem 20.3, use w_{t+1} = w_t - eta m_t);
``first_step="as-printed"`` runs it as printed, for the erratum of Theorem 20.3.

The momentum buffer m_t is the algorithm's state and its gradient estimate: ``estimate(state)``
returns the m_t of the step just taken, which ``algorithms.run`` compares with grad L(w_t)
(``Trace.estimate_err_sq``: the notes' ||epsilon_t||^2 = ||m_t - grad L(w_t)||^2).

``torch.optim.SGD`` is Algorithm 16 under a change of variables (tests/test_momentum.py runs both
iterate for iterate on the same samples):

- ``SGD(lr=eta, momentum=1 - alpha, dampening=1 - alpha)``: torch's buffer b_1 = g_1,
  b_t = (1 - alpha) b_{t-1} + alpha g_t is m_t itself, so the iterates are Algorithm 16's;
- ``SGD(lr=alpha eta, momentum=1 - alpha)`` (dampening 0, torch's default): b_t = g_t + (1 - alpha) b_{t-1}
  with b_1 = g_1 is m_t/alpha for the buffer started at m_0 = 0 (``buffer_start="zero"``: m_1 =
  alpha g_1), so lr b_t = eta m_t and w_{t+1} = w_t - eta m_t.
"""
from __future__ import annotations

from typing import Any

import torch

from algorithms.protocol import HyperParameter, Oracle, as_schedule
from algorithms.torch_optim import TorchOptimizer

Tensor = torch.Tensor
FIRST_STEPS = ("eta", "as-printed")
BUFFER_STARTS = ("gradient", "zero")


class MomentumSGD:
    """Algorithm 16 (section 20): m_t = (1 - alpha) m_{t-1} + alpha g_t, w_{t+1} = w_t - eta m_t.

    ``buffer_start="gradient"`` is the notes' m_1 = g_1; ``"zero"`` starts from m_0 = 0 (m_1 =
    alpha g_1, torch's undampened buffer up to the factor alpha). ``first_step="as-printed"``
    takes the first step w_2 = w_1 - m_1 exactly as the notes print it (no eta)."""

    returns_fresh_iterates = True  # algorithms.protocol

    def __init__(self, eta: HyperParameter, alpha: HyperParameter, buffer_start: str = "gradient",
                 first_step: str = "eta") -> None:
        if buffer_start not in BUFFER_STARTS or first_step not in FIRST_STEPS:
            raise ValueError(f"MomentumSGD: buffer_start must be one of {BUFFER_STARTS} and first_step one of "
                             f"{FIRST_STEPS}, got {buffer_start!r}, {first_step!r}")
        self.eta, self.alpha = as_schedule(eta), as_schedule(alpha)
        self.buffer_start, self.first_step = buffer_start, first_step

    def init(self, w1: Tensor) -> Any:
        return None

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Tensor]:
        g = oracle(w)
        alpha = self.alpha(t)
        if state is None:
            m = g if self.buffer_start == "gradient" else alpha * g
        else:
            m = (1 - alpha) * state + alpha * g
        step = m if (state is None and self.first_step == "as-printed") else self.eta(t) * m
        return w - step, m

    @staticmethod
    def estimate(state: Tensor) -> Tensor:
        """The gradient estimate m_t of the step just taken (the momentum buffer)."""
        return state


def momentum_sgd_as_printed(eta: HyperParameter, alpha: HyperParameter) -> MomentumSGD:
    """Algorithm 16 exactly as the notes print it: the first step is w_2 = w_1 - m_1 (no eta)."""
    return MomentumSGD(eta, alpha, first_step="as-printed")


class TorchMomentum(TorchOptimizer):
    """``torch.optim.SGD(lr=eta, momentum=1 - alpha, dampening=1 - alpha)`` with one parameter group
    per instance, so each instance runs torch's own SGD with its own alpha: Algorithm 16 under the
    change of variables of the module docstring. ``theorycheck check T20.3 --algorithm
    algorithms.momentum:TorchMomentum`` checks torch's implementation against Theorem 20.3."""

    def __init__(self, eta: HyperParameter, alpha: HyperParameter, **ignored: Any) -> None:
        super().__init__(torch.optim.SGD, eta)
        self.alpha = as_schedule(alpha)

    def init(self, w1: Tensor) -> Any:
        params, optimizer = super().init(w1)
        betas = 1 - torch.as_tensor(self.alpha(1), dtype=torch.float64).detach().reshape(-1).cpu()
        betas = betas.expand(len(params)) if betas.numel() == 1 else betas
        for group, beta in zip(optimizer.param_groups, betas.tolist()):
            group["momentum"], group["dampening"] = beta, beta
        return params, optimizer

    @staticmethod
    def estimate(state: Any) -> Tensor:
        """torch's momentum buffers (one per instance), which are Algorithm 16's m_t; with alpha = 1
        (momentum 0) torch keeps no buffer and m_t is the gradient itself."""
        params, optimizer = state
        return torch.stack([optimizer.state[p].get("momentum_buffer", p.grad) for p in params])
