"""A collection benchmark's stand-in in a child process (its CPU is not the client's): started with
`--serve --now T` and the benchmark's options, it prints one JSON line when ready and another (what it
saw) when the benchmark closes its stdin."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from harness import ROOT


def benchmark_now() -> datetime:
    """An hour ago, to the second: the seed's "now", so that nothing it holds is in the future."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


class StandInChild:
    def __init__(self, script: str, now: datetime, **options: object) -> None:
        command = [sys.executable, script, "--serve", "--now", str(now.timestamp())]
        for name, value in options.items():
            command += [f"--{name.replace('_', '-')}", str(value)]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True
        )
        self.ready = json.loads(self.process.stdout.readline())

    def finish(self) -> dict:
        """Close the child's stdin; what it printed last."""
        self.process.stdin.close()
        seen = json.loads(self.process.stdout.readline())
        self.process.wait()
        return seen


def best_and_median(runs: list[dict]) -> tuple[float, float, int, float]:
    """Wall best and median, and the calls and CPU of the runs after the first (which opens connections)."""
    walls = sorted(run["wall"] for run in runs)
    warm = runs[1:] or runs
    return (
        walls[0],
        statistics.median(walls),
        sum(r["calls"] for r in warm) // len(warm),
        sum(r["cpu"] for r in warm) / sum(r["calls"] for r in warm),
    )


def collection_parser(doc: str, *, repeat: int) -> argparse.ArgumentParser:
    """The options every collection benchmark has: latency, repeat, and the child's own two."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument(
        "--repeat", type=int, default=repeat, help="collections in a row: the best and the median"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--now", type=float, help=argparse.SUPPRESS)
    return parser
