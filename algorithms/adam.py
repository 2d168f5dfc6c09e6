"""Adam (Algorithm 12 of the notes), batched over instances and replicas.

m_t = beta1 m_{t-1} + (1 - beta1) g_t, m_hat_t = m_t / (1 - beta1^t); v_t = beta2 v_{t-1} +
(1 - beta2) g_t^2, v_hat_t = v_t / (1 - beta2^t); w_{t+1} = w_t - eta_t m_hat_t / sqrt(v_hat_t),
with m_0 = v_0 = 0. Algorithm 12 has no eps in the update (it sets A_0 = eps^2, which nothing
uses); ``eps`` > 0 adds it to the root as torch.optim.Adam does, so that Adam(eps=e) is
torch.optim.Adam(eps=e) iterate for iterate (tests/test_adam.py). With beta1 = beta2 = 0 it is
sign descent, w_{t+1} = w_t - eta_t sign(g_t) (section 17.2). A coordinate with v_hat = 0 (all
its gradients 0, eps = 0) stays. ``estimate(state)`` is (m_hat_t, v_hat_t) of the last step.
"""
from __future__ import annotations

from typing import Any

import torch

from algorithms.online_gd import _safe_ratio
from algorithms.protocol import HyperParameter, Oracle, as_schedule

Tensor = torch.Tensor


class Adam:
    """Algorithm 12; state (m_t, v_t, m_hat_t, v_hat_t). beta1 and beta2 are numbers or tensors
    with one value per instance (B, 1, 1)."""

    returns_fresh_iterates = True

    def __init__(self, eta: HyperParameter, beta1: float | Tensor = 0.9, beta2: float | Tensor = 0.999,
                 eps: float = 0.0, **ignored: Any) -> None:
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not bool(torch.all((torch.as_tensor(beta) >= 0) & (torch.as_tensor(beta) < 1))):
                raise ValueError(f"Adam: {name} must lie in [0, 1), got {beta}")
        if eps < 0:
            raise ValueError(f"Adam: eps must be >= 0, got {eps}")
        self.eta = as_schedule(eta)
        self.beta1, self.beta2, self.eps = beta1, beta2, float(eps)

    def init(self, w1: Tensor) -> Any:
        zero = torch.zeros_like(w1)
        return zero, zero, zero, zero

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        m, v, _, _ = state
        g = oracle(w)
        m = self.beta1 * m + (1 - self.beta1) * g
        v = self.beta2 * v + (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1 ** t)
        v_hat = v / (1 - self.beta2 ** t)
        direction = _safe_ratio(m_hat, v_hat.sqrt() + self.eps)
        return w - self.eta(t) * direction, (m, v, m_hat, v_hat)

    @staticmethod
    def estimate(state: Any) -> tuple[Tensor, Tensor]:
        """(m_hat_t, v_hat_t) of the step just taken."""
        return state[2], state[3]


def _registered() -> dict[str, Any]:
    from algorithms.adagrad_diag import DiagonalAdaGrad, diagonal_adagrad_as_printed
    from algorithms.online_gd import OnlineGD, ProjectedAdaptiveGD, projected_adaptive_gd_as_printed
    return {"OnlineGD": OnlineGD, "ProjectedAdaptiveGD": ProjectedAdaptiveGD, "DiagonalAdaGrad": DiagonalAdaGrad,
            "ProjectedAdaptiveGD-as-printed": projected_adaptive_gd_as_printed,
            "DiagonalAdaGrad-as-printed": diagonal_adagrad_as_printed, "Adam": Adam}


#: The algorithms of sections 15.1, 16 and 17, registered in ``algorithms.ALGORITHMS``.
REGISTERED = _registered()
