"""Start-up time of the command line (issue 14, item 5): ``theorycheck --help`` and
``theorycheck list``, each the median wall time of ``--runs`` fresh subprocesses
(``python -m theorems.cli ...`` from the repository root, one torch thread).

    PYTHONPATH=. python benchmarks/startup_bench.py [--runs 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {"--help": ["--help"], "list": ["list"]}


def wall_time(args: list[str]) -> float:
    """Seconds one ``python -m theorems.cli *args`` takes, start to exit."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "theorems.cli", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="subprocess runs per command (median reported)")
    runs = parser.parse_args(argv).runs
    print(f"{'command':<20}{'median s':>10}{'min s':>10}{'max s':>10}")
    for name, args in COMMANDS.items():
        times = [wall_time(args) for _ in range(runs)]
        print(f"theorycheck {name:<8}{statistics.median(times):>10.2f}{min(times):>10.2f}{max(times):>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
