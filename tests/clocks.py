"""Clocks for tests that must not depend on how fast the machine is."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime


class VirtualTime:
    """A clock that moves only when someone sleeps on it: `sleep(s)` advances it by `s` at once.

    The client's limiter, its retry waits and the stand-in's rate-limit windows all read it, so a
    rule like "the third request within the window gets a 429, and the client waits for the reset"
    holds however slow the machine is: HTTP round trips take no virtual time.
    """

    def __init__(self, start: datetime) -> None:
        self.t = start.timestamp()

    def time(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)
