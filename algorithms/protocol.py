"""The batched optimizer protocol every algorithm (built-in or a user's variant) follows.

An *algorithm factory* is called with the hyper-parameters a theorem prescribes, by name
(``eta`` for the learning rate, plus e.g. ``batch_size``), and returns an *algorithm*:

    algorithm = factory(eta=eta)            # eta: Tensor (B, 1, 1), float, or a schedule t -> eta_t
    state = algorithm.init(w1)              # w1: Tensor (B, R, d), B instances x R replicas
    w, state = algorithm.step(w, state, oracle, t)   # t = 1, 2, ..., T

``oracle(w, m=1)`` returns the mean of m fresh stochastic gradients at each iterate (shape
(B, R, d)); every call draws new noise. One ``step`` advances all instances and replicas at once.
An algorithm whose ``step`` never modifies a tensor in place that it received as w or returned
as an iterate may say so with the class attribute ``returns_fresh_iterates = True``: the runner
then keeps its iterates without copying them (algorithms.run).
This is the shape of optax's ``init``/``update`` pair, with the oracle handed in because some
algorithms query it several times per step.
"""
from __future__ import annotations

from typing import Any, Callable, Protocol, Union, runtime_checkable

import torch

Tensor = torch.Tensor
Oracle = Callable[..., Tensor]
Schedule = Callable[[int], Union[Tensor, float]]
HyperParameter = Union[Tensor, float, Schedule]


@runtime_checkable
class Algorithm(Protocol):
    """One batched optimizer: ``init`` builds the state, ``step`` makes one iteration."""

    def init(self, w1: Tensor) -> Any:
        ...

    def step(self, w: Tensor, state: Any, oracle: Oracle, t: int) -> tuple[Tensor, Any]:
        ...


def as_schedule(value: HyperParameter) -> Callable[[int], Tensor | float]:
    """A hyper-parameter as a function of the step t: constants become constant schedules."""
    if callable(value) and not isinstance(value, Tensor):
        return value
    return lambda t: value
