"""Shuffled-epoch SGD (Algorithm 3) against with-replacement SGD on finite sums.

    python benchmarks/shuffling_bench.py [--batch 64] [--replicas 32] [--dim 5] [--seed 0]

Both run on the same instances (l1-regression and hinge, problems/nonsmooth.py) with the same
finite-sum oracle and the same constant step eta = D / (G sqrt(T_max)), T_max = 32 epochs. The
table gives the mean over instances and replicas of the final relative suboptimality
(L(w) - L*) / (L(w1) - L*) after K epochs (K N steps), for both samplers and their ratio.
"""
from __future__ import annotations

import argparse
import time

import torch

from algorithms import SGD, ShuffledSGD, run
from problems import FAMILIES, FiniteSumSampling

EPOCHS = (1, 2, 4, 8, 16, 32)


def relative_suboptimality(family: str, algorithm: type, batch: int, replicas: int, dim: int,
                           seed: int) -> tuple[torch.Tensor, int]:
    """Mean relative suboptimality after each number of epochs in EPOCHS, and N."""
    problem = FAMILIES[family].sample(batch, dim, torch.Generator().manual_seed(seed))
    oracle = FiniteSumSampling().bind(problem, torch.Generator().manual_seed(seed + 1))
    N = problem.terms.num_terms
    horizon = EPOCHS[-1] * N
    c = problem.constants
    eta = (c["D"] / (oracle.constants["G"] * horizon ** 0.5))[:, None, None]
    trace = run(algorithm(eta), problem, oracle, horizon, replicas)
    gap = (trace.loss - c["Lstar"][:, None, None]) / c["Delta"].clamp_min(1e-300)[:, None, None]
    return torch.stack([gap[..., K * N].mean() for K in EPOCHS]), N


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--replicas", type=int, default=32)
    parser.add_argument("--dim", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"mean (L(w) - L*) / (L(w1) - L*) after K epochs; {args.batch} instances x {args.replicas} replicas, d = {args.dim}")
    print(f"{'family':>14s} {'N':>3s} {'K':>3s} {'shuffled':>10s} {'w/ replacement':>15s} {'ratio':>7s}")
    for family in ("l1-regression", "hinge"):
        started = time.perf_counter()
        shuffled, N = relative_suboptimality(family, ShuffledSGD, args.batch, args.replicas, args.dim, args.seed)
        replaced, _ = relative_suboptimality(family, SGD, args.batch, args.replicas, args.dim, args.seed)
        for K, s, r in zip(EPOCHS, shuffled.tolist(), replaced.tolist()):
            print(f"{family:>14s} {N:>3d} {K:>3d} {s:>10.4g} {r:>15.4g} {s / r:>7.3f}")
        print(f"{'':>14s} ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
