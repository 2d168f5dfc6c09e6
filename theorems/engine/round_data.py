"""What a round is: the key that determines it (so a counterexample replays it) and the values
of every symbol it gives (DESIGN.md, "The flow of data"). Shared by every module that builds or
reads rounds, ordinary or distribution rounds."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import torch

from problems import ProblemBatch
from problems.distributions import DistributionBatch

Tensor = torch.Tensor


@dataclass(frozen=True)
class RoundKey:
    """Everything that determines a round. ``params`` (nested lists, problems.parametric), when
    not empty, are the continuous parameters of the batch, built instead of sampled: the
    instances an adversary found replay from them."""

    spec_id: str
    setting: str
    family: str
    oracle: str
    seed: int
    horizon: int
    dim: int
    batch_size: int
    replicas: int
    device: str
    algorithm: str | None
    options: Mapping[str, Any] = field(default_factory=dict)
    hyper: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["options"], out["hyper"], out["params"] = dict(self.options), dict(self.hyper), dict(self.params)
        return out


@dataclass(frozen=True)
class RoundData:
    """The values of every symbol of the round, broadcastable to (B, R, K)."""

    key: RoundKey
    problem: ProblemBatch | DistributionBatch
    values: Mapping[str, Tensor]
    like: Tensor
    instance_values: Callable[[int], dict[str, float]]
