"""What one measurement window recorded (latencies, errors, CPU) and the statistics over it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from harness.machine import machine_cpu_seconds
from harness.processes import Server

MAX_SEND_LAG_MS = 10.0  # open loop: beyond this the load generator, not the server, sets the pace


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil(n * p / 100)
    return sorted_values[int(rank) - 1]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@dataclass
class RunResult:
    name: str
    mode: str  # "open" or "closed"
    seconds: float  # measured window: first scheduled send to last answer (open), T (closed)
    latencies_ms: list[float] = field(default_factory=list)  # successful requests only
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    offered: int = 0  # requests sent
    send_lag_ms: list[float] = field(default_factory=list)  # open loop: actual minus scheduled send
    offered_rate: float | None = None  # open loop: requests sent per second, as achieved
    server_cpu: float | None = None  # server CPU seconds / wall seconds (1.0 = one core busy)
    client_cpu: float | None = None  # this process's CPU seconds / wall seconds
    other_cpu: float | None = None  # every other process on the machine, in cores (noise)
    steal: float | None = None  # CPU the hypervisor took from this VM, in cores

    def kept_timetable(self, rate: float) -> bool:
        """Open loop: did the load generator send at the rate asked, on time (lag p99 ≤ 10 ms)?"""
        if self.offered_rate is None:
            return True
        return (
            self.offered_rate >= 0.97 * rate and percentile(sorted(self.send_lag_ms), 99) <= MAX_SEND_LAG_MS
        )

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    def stats(self) -> dict[str, float]:
        values = sorted(self.latencies_ms)
        return {
            "p50": percentile(values, 50),
            "p90": percentile(values, 90),
            "p99": percentile(values, 99),
            "max": values[-1] if values else float("nan"),
        }

    def as_dict(self) -> dict:
        lag = sorted(self.send_lag_ms)
        return {
            "name": self.name,
            "mode": self.mode,
            "seconds": round(self.seconds, 3),
            "requests": self.offered,
            "ok": self.ok,
            "errors": self.errors,
            "statuses": self.statuses,
            "throughput_rps": round(self.throughput, 1),
            "latency_ms": {k: round(v, 2) for k, v in self.stats().items()},
            "send_lag_p99_ms": round(percentile(lag, 99), 2) if lag else None,
            "offered_rps": None if self.offered_rate is None else round(self.offered_rate, 1),
            "server_cpu_cores": None if self.server_cpu is None else round(self.server_cpu, 2),
            "client_cpu_cores": None if self.client_cpu is None else round(self.client_cpu, 2),
            "other_processes_cpu_cores": None if self.other_cpu is None else round(self.other_cpu, 2),
            "steal_cores": None if self.steal is None else round(self.steal, 2),
        }


class CpuMeter:
    """CPU used during a window by the server, by this process (the load generator and the Slack
    stand-in) and by everything else on the machine, in cores (CPU seconds per wall second)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.wall = time.monotonic()
        self.client = time.process_time()
        self.server_cpu = server.cpu_seconds()
        self.machine = machine_cpu_seconds()

    def record(self, result: RunResult) -> None:
        wall = time.monotonic() - self.wall
        if wall <= 0:
            return
        result.client_cpu = (time.process_time() - self.client) / wall
        server_cpu = self.server.cpu_seconds()
        if self.server_cpu is not None and server_cpu is not None:
            result.server_cpu = (server_cpu - self.server_cpu) / wall
        machine = machine_cpu_seconds()
        if self.machine is not None and machine is not None and result.server_cpu is not None:
            busy = (machine[0] - self.machine[0]) / wall
            result.other_cpu = max(0.0, busy - result.server_cpu - result.client_cpu)
            result.steal = (machine[1] - self.machine[1]) / wall


@dataclass
class Target:
    """One server under test and what was measured on it."""

    label: str
    server: Server
    auth_calls: int = 0
    open: RunResult | None = None
    closed: list[RunResult] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return median([r.throughput for r in self.closed]) if self.closed else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        """Server CPU per answered request over every closed-loop window (less noisy than throughput)."""
        windows = [r for r in self.closed if r.server_cpu is not None]
        answered = sum(r.ok for r in windows)
        cpu_seconds = sum(r.server_cpu * r.seconds for r in windows)
        return cpu_seconds / answered * 1000 if answered else float("nan")
