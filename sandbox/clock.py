"""Time in the sandbox: the clock the bot and the provider stand-ins share (the demo moves it on to a
scheduled send), and waiting for the bot, which answers Slack first and works after.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Real time, from wherever the story last moved it: `move_to(t)` jumps to `t` (a scheduled send) and
    real seconds keep passing from there, so rate-limit windows and leases still move on."""

    def __init__(self) -> None:
        self._base, self._t0 = datetime.now(UTC), time.monotonic()

    def __call__(self) -> datetime:
        return self._base + timedelta(seconds=time.monotonic() - self._t0)

    def move_to(self, when: datetime) -> None:
        if when < self():
            raise ValueError("the sandbox's time only moves forward")
        self._base, self._t0 = when, time.monotonic()


class StepFailed(Exception):
    """A step did not do what it should; the message says what a person would have seen instead."""


_pause = threading.Event()  # never set: waiting on it is a sleep that runs on the monotonic clock


def until(probe: Callable[[], object], timeout: float = 8.0):
    """Poll `probe` until it returns something truthy: the bot answers Slack first and works after."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise StepFailed(f"nothing arrived in Slack within {timeout:.0f} s")
        _pause.wait(0.02)  # not time.sleep: under libfaketime (CI's moved-clock run) it fails with EINVAL
