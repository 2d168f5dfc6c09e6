"""False-alarm rate and power of the checker's expectation test (theorems/engine/calibration.py).

    python benchmarks/statistics_bench.py [--repetitions N] [--level A]

Each repetition checks one round of B = 32 instances at family-wise level A. factor 1 is a true
claim whose bound is attained (rejections are false alarms); factor 1/1.05 a 5% violation
(rejections are detections).
"""
from __future__ import annotations

import argparse
import math
import time

from theorems.engine.calibration import rejection_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=400)
    parser.add_argument("--level", type=float, default=0.01)
    args = parser.parse_args()
    print(f"level {args.level}, B = 32 instances per round, {args.repetitions} rounds per row")
    print(f"{'claim':>22s} {'replicas R':>10s} {'rejection rate':>15s} {'95% interval':>17s} {'seconds':>8s}")
    for factor, label in ((1.0, "attained (false alarm)"), (1 / 1.05, "5% violated (power)")):
        for replicas in (128, 1024, 8192):
            started = time.perf_counter()
            r = rejection_rate(factor, replicas=replicas, batch_size=32, repetitions=args.repetitions, level=args.level)
            half = 1.96 * math.sqrt(max(r.rate * (1 - r.rate), 1e-12) / r.repetitions)
            print(f"{label:>22s} {replicas:>10d} {r.rate:>15.4f} [{max(r.rate - half, 0):.4f}, {min(r.rate + half, 1):.4f}]"
                  f" {time.perf_counter() - started:>8.1f}")


if __name__ == "__main__":
    main()
