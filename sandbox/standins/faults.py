"""Fault injection and rate-limit bookkeeping shared by the provider stand-ins.

Tests call `fail_next(...)`, `hang_next(...)` or set `latency` from the test
thread; the stand-in's request handlers call `apply(path)` from the server
thread, so every piece of state here is guarded by a lock.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.responses import Response


@dataclass
class Fault:
    path_prefix: str
    remaining: int
    status: int | None = None  # None: no response substitution (a pure delay)
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    method: str | None = None  # None: any method


class FaultInjector:
    """Per-stand-in list of faults to inject, consumed in order of registration."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.latency = 0.0  # seconds added to every response
        self.injected = 0  # how many faults were served

    def fail_next(
        self,
        path_prefix: str = "",
        *,
        status: int = 503,
        body: object = None,
        headers: dict[str, str] | None = None,
        count: int = 1,
        method: str | None = None,
    ) -> None:
        """Answer the next `count` requests whose path starts with `path_prefix` (and whose method is
        `method`, when given: a write, not the read before it) with `status`."""
        with self._lock:
            fault = Fault(path_prefix, count, status, body, dict(headers or {}), method=method)
            self._faults.append(fault)

    def hang_next(self, path_prefix: str = "", *, seconds: float = 30.0, count: int = 1) -> None:
        """Delay the next `count` matching requests by `seconds` (a client timeout, usually)."""
        with self._lock:
            self._faults.append(Fault(path_prefix, count, None, delay=seconds))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.latency = 0.0

    def _take(self, path: str, method: str | None) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method is not None and fault.method != method:
                    continue
                if path.startswith(fault.path_prefix) and fault.remaining > 0:
                    fault.remaining -= 1
                    self.injected += 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    async def apply(self, path: str, method: str | None = None) -> Response | None:
        """Sleep for the configured latency; return a substitute response if a fault matches."""
        if self.latency:
            await asyncio.sleep(self.latency)
        fault = self._take(path, method)
        if fault is None:
            return None
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is None:
            return None
        body = fault.body if fault.body is not None else {"status": "error", "message": "injected fault"}
        content = body if isinstance(body, (bytes, str)) else json.dumps(body)
        media = "application/json" if not isinstance(body, (bytes, str)) else "text/plain"
        return Response(content, status_code=fault.status, headers=fault.headers, media_type=media)


class RollingWindow:
    """Counts requests per key in a rolling window, as the providers' limiters do.

    `hit(key)` records a request and returns (allowed, remaining, reset_at) where
    reset_at is when the oldest request in the window leaves it (clock seconds).
    """

    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._hits: dict[object, deque[float]] = {}
        self.violations = 0

    def hit(self, key: object, now: float | None = None) -> tuple[bool, int, float]:
        """`now`: when the request arrived (default: the clock now)."""
        now = self.clock() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                self.violations += 1
                return False, 0, hits[0] + self.window
            hits.append(now)
            return True, self.limit - len(hits), hits[0] + self.window
