"""Start-up time of the command line (issue 14, item 5): ``theorycheck --help`` and
``theorycheck list``, each the median wall time of ``--runs`` fresh subprocesses
(``python -m theorems ...`` from the repository root, one torch thread).

    PYTHONPATH=. python benchmarks/startup_bench.py [--runs 5] [--root OTHER_CHECKOUT ...]

With several ``--root`` checkouts (e.g. an export of the code before a change) the runs of
each command alternate between them, so that both see the same machine load.
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


def wall_time(args: list[str], root: Path = ROOT) -> float:
    """Seconds one ``python -m theorems *args`` run in checkout ``root`` takes, start to exit."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(root)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "theorems", *args], cwd=root, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="subprocess runs per command (median reported)")
    parser.add_argument("--root", action="append", type=Path, help="checkout to time (repeatable; default this one)")
    options = parser.parse_args(argv)
    roots = options.root or [ROOT]
    print(f"{'command':<20}{'median s':>10}{'min s':>10}{'max s':>10}  checkout")
    for name, args in COMMANDS.items():
        times: dict[Path, list[float]] = {root: [] for root in roots}
        for _ in range(options.runs):
            for root in roots:
                times[root].append(wall_time(args, root))
        for root, ts in times.items():
            print(f"theorycheck {name:<8}{statistics.median(ts):>10.2f}{min(ts):>10.2f}{max(ts):>10.2f}  {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
