"""The SendGrid stand-in's rate limits: fixed windows, as SendGrid's `X-RateLimit-Reset` reports them."""

from __future__ import annotations

import math
import threading


class FixedWindowRateLimiter:
    """Counts requests per bucket in fixed windows aligned to multiples of the window length.

    With a window of 60 s, a request at t = 1000 falls in [960, 1020): the
    window resets at 1020 for every request in it, which is what SendGrid's
    `X-RateLimit-Reset` reports (a fixed time, not "oldest request + window").
    Limits are passed per call so they can be changed between requests.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[object, tuple[float, int]] = {}  # bucket -> (window start, count)
        self.violations = 0

    def hit(self, bucket: object, limit: int, window: float, now: float) -> tuple[bool, int, int]:
        """Record a request; return (allowed, remaining, reset) with reset in whole Unix seconds."""
        start = math.floor(now / window) * window
        reset = math.ceil(start + window)
        with self._lock:
            win_start, count = self._windows.get(bucket, (start, 0))
            if win_start != start:
                count = 0
            if count >= limit:
                self.violations += 1
                self._windows[bucket] = (start, count)
                return False, 0, reset
            count += 1
            self._windows[bucket] = (start, count)
            return True, limit - count, reset
