"""A collection benchmark's client CPU, with the HTTP stack taken out: what is above it, what it costs.

    python benchmarks/cpu_layers.py zoom_collection canned --repeat 12 --floor-rounds 0
    python benchmarks/cpu_layers.py slack_seats_collection real --repeat 10

Runs the named collection benchmark (a module of this folder, with its own options after the mode)
with its measured windows timed here as well, and prints the median and mean client CPU of a warm run
(the runs after the first) and the garbage collector's time and collections in those windows
(`gc.callbacks`). The mode says what answers a request:

- `real`: the benchmark unchanged (the HTTP stack, the stand-in behind it);
- `canned`: from the second run on, `ProviderHTTP.request` answers the first run's response for the
  same request after `asyncio.sleep(latency)`: the provider's own work (decoding, judging, the report)
  and one wait a call, without httpx, aiohttp or `ProviderHTTP` (nor its limiter);
- `canned0`: the same without the wait.

`real` minus `canned` is the HTTP stack's CPU in the collection's own pattern of chained requests;
`canned` minus `canned0` the waits' (a process woken from a wait is billed for it, and its caches are
cold). A provider that keeps a decoded body on the response (Slack seats) decodes it once, so its
`canned` lines leave decoding out. The benchmark's own "calls a run" figure is meaningless in the
canned modes (the requests it counts are httpx's); read the lines this script prints. Figures and
what they showed: benchmarks/README.md, "6 December 2026, second round".
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import statistics
import sys
import time
import types
from typing import Any

import harness  # noqa: F401  (puts the repository on sys.path)

from providers.http import ProviderHTTP  # noqa: E402

MODES = ("real", "canned", "canned0")


class Windows:
    """Stands in for the benchmark module's `time`: its `process_time()` calls come in pairs around
    each run, so every second call closes a window. The collector is timed from the second window on."""

    def __init__(self) -> None:
        self.calls, self.cpu, self.started = 0, [], 0.0
        self.gc_cpu, self.gc_counts, self._gc_started, self._counting = 0.0, [0, 0, 0], 0.0, False

    def module(self) -> types.SimpleNamespace:
        shim = types.SimpleNamespace(**{k: getattr(time, k) for k in dir(time) if not k.startswith("__")})
        shim.process_time = self.process_time
        return shim

    def process_time(self) -> float:
        now = time.process_time()
        self.calls += 1
        if self.calls % 2:
            self.started = now
            self._counting = self.calls >= 3
        else:
            self.cpu.append(now - self.started)
            self._counting = False
        return now

    def collected(self, phase: str, info: dict[str, Any]) -> None:
        if not self._counting:
            return
        if phase == "start":
            self._gc_started = time.process_time()
        else:
            self.gc_cpu += time.process_time() - self._gc_started
            self.gc_counts[info["generation"]] += 1


def canned(latency: float | None) -> None:
    """`ProviderHTTP.request` answering the first response of each request again (see the docstring)."""
    sent = ProviderHTTP.request
    answers: dict[tuple, Any] = {}

    async def request(self: ProviderHTTP, method: str, url: Any, **kwargs: Any) -> Any:
        key = (
            method,
            str(url),
            repr(sorted((kwargs.get("params") or {}).items())),
            kwargs.get("account_key"),
        )
        if key in answers:
            if latency is not None:
                await asyncio.sleep(latency)
            return answers[key]
        answers[key] = await sent(self, method, url, **kwargs)
        return answers[key]

    ProviderHTTP.request = request  # type: ignore[method-assign]


def main() -> int:
    if len(sys.argv) < 3 or sys.argv[2] not in MODES:
        print(f"usage: {sys.argv[0]} <benchmark module> {{{','.join(MODES)}}} [its options]", file=sys.stderr)
        return 2
    name, mode = sys.argv[1], sys.argv[2]
    sys.argv = [name, *sys.argv[3:]]
    if mode != "real":
        latency = sys.argv[sys.argv.index("--latency") + 1] if "--latency" in sys.argv else "0.05"
        canned(float(latency) if mode == "canned" else None)
    benchmark = importlib.import_module(name)
    windows = Windows()
    benchmark.time = windows.module()
    gc.callbacks.append(windows.collected)
    try:
        benchmark.main()
    except ZeroDivisionError:  # a canned run's httpx request count is 0: its own summary cannot divide
        pass
    warm = windows.cpu[1:]
    if not warm:
        print("no warm run (--repeat 2 at least)")
        return 1
    print(
        f"{mode}: {len(warm)} warm runs, client CPU a run median {statistics.median(warm) * 1000:.2f} ms,"
        f" mean {statistics.mean(warm) * 1000:.2f} ms; garbage collection {windows.gc_cpu / len(warm) * 1000:.2f}"
        f" ms a run, collections by generation {windows.gc_counts}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
