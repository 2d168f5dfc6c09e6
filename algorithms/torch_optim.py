"""Run any ``torch.optim.Optimizer`` subclass under the batched protocol.

``torch_optimizer(torch.optim.SGD, momentum=0.9)`` is an algorithm factory: called with the
theorem's hyper-parameters it maps ``eta`` to the optimizer's ``lr``. Each instance gets its own
parameter group (theorems prescribe a learning rate per instance); the R replicas of an
instance share it. Schedules set each group's ``lr`` before every step.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from algorithms.protocol import HyperParameter, Oracle, as_schedule

Tensor = torch.Tensor


class TorchOptimizer:
    """The protocol around one torch.optim optimizer class with per-instance learning rates."""

    def __init__(self, optimizer_cls: type[torch.optim.Optimizer], eta: HyperParameter,
                 **optimizer_kwargs: Any) -> None:
        self.optimizer_cls = optimizer_cls
        self.eta = as_schedule(eta)
        self.optimizer_kwargs = optimizer_kwargs

    def _learning_rates(self, t: int, batch: int) -> list[float]:
        values = torch.as_tensor(self.eta(t), dtype=torch.float64).detach().reshape(-1).cpu()
        if values.numel() == 1:
            values = values.expand(batch)
        if values.numel() != batch:
            raise ValueError(f"TorchOptimizer: eta has {values.numel()} values for {batch} instances")
        return values.tolist()

    def init(self, w1: Tensor) -> Any:
        params = [w1[b].detach().clone().requires_grad_(True) for b in range(w1.shape[0])]
        lrs = self._learning_rates(1, len(params))
        groups = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs)]
        return params, self.optimizer_cls(groups, **self.optimizer_kwargs)

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        params, optimizer = state
        g = oracle(w)
        for group, lr in zip(optimizer.param_groups, self._learning_rates(t, len(params))):
            group["lr"] = lr
        for b, p in enumerate(params):
            p.grad = g[b].detach().clone()
        optimizer.step()
        with torch.no_grad():
            return torch.stack([p.detach() for p in params]), state


def torch_optimizer(optimizer_cls: type[torch.optim.Optimizer], **optimizer_kwargs: Any) -> Callable[..., TorchOptimizer]:
    """An algorithm factory for ``optimizer_cls``: ``factory(eta=...)`` -> TorchOptimizer."""
    if not (isinstance(optimizer_cls, type) and issubclass(optimizer_cls, torch.optim.Optimizer)):
        raise TypeError(f"torch_optimizer: expected a torch.optim.Optimizer subclass, got {optimizer_cls!r}")

    def factory(eta: HyperParameter, **ignored: Any) -> TorchOptimizer:
        return TorchOptimizer(optimizer_cls, eta, **optimizer_kwargs)

    factory.__name__ = f"torch_optimizer({optimizer_cls.__name__})"
    factory.__qualname__ = factory.__name__
    return factory
