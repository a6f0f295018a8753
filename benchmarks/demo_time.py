"""How long `quolum-bot demo` takes, wall clock, from a fresh process each time (the CI smoke test must
stay under 30 s on a 2-core machine). Prints one line per run and the median; never fails.

    python benchmarks/demo_time.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    times = []
    for n in range(1, args.runs + 1):
        started = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "bot.cli", "demo"], env=env, capture_output=True, text=True
        )
        elapsed = time.perf_counter() - started
        times.append(elapsed)
        summary = (run.stdout.strip().splitlines() or ["(no output)"])[-1]
        print(f"run {n}: {elapsed:.1f} s wall, exit {run.returncode}: {summary}")
    print(
        f"median {statistics.median(times):.1f} s, max {max(times):.1f} s over {len(times)} runs (budget 30 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
