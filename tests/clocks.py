"""Clocks for tests that must not depend on how fast the machine is."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime

import httpx


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


class EventTime(VirtualTime):
    """Virtual time for many coroutines sleeping at once, as a discrete-event simulation.

    `VirtualTime.sleep` adds each sleeper's wait to the clock, so concurrent sleepers push it past
    every one's wake-up, and a request still in flight meanwhile reaches the stand-in later (on the
    clock) than the limiter booked it: requests of different windows then land in one (a refusal
    that depends on how busy the machine is). Here a sleeper registers its wake-up instant; the clock
    jumps to the earliest one only once every request sent through `transport()` has been answered
    and every other coroutine has settled (blocked again), and wakes the sleepers due then. Requests
    thus reach the stand-in at the instant the client started them, whatever the machine's load.
    """

    SETTLE_TURNS = 20  # event-loop turns with nothing in flight before the clock may move

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._inflight = 0
        self._idle: asyncio.Event | None = None
        self._driver: asyncio.Task[None] | None = None

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.t + seconds, next(self._order), future))
        if self._driver is None or self._driver.done():
            self._driver = asyncio.create_task(self._drive())
        await future

    def transport(self, inner: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncBaseTransport:
        """An httpx transport that holds the clock still while each request is in flight."""
        return _HeldTransport(self, inner or httpx.AsyncHTTPTransport())

    def _begin(self) -> None:
        self._inflight += 1
        self._event().clear()

    def _end(self) -> None:
        self._inflight -= 1
        if not self._inflight:
            self._event().set()

    def _event(self) -> asyncio.Event:
        if self._idle is None:
            self._idle = asyncio.Event()
            self._idle.set()
        return self._idle

    async def _drive(self) -> None:
        while self._sleepers:
            quiet = 0
            while quiet < self.SETTLE_TURNS:
                if self._inflight:
                    quiet = 0
                    await self._event().wait()
                else:
                    quiet += 1
                    await asyncio.sleep(0)
            if not self._sleepers:
                return
            self.t = max(self.t, self._sleepers[0][0])
            while self._sleepers and self._sleepers[0][0] <= self.t:
                future = heapq.heappop(self._sleepers)[2]
                if not future.done():  # a cancelled sleeper is dropped
                    future.set_result(None)


class _HeldTransport(httpx.AsyncBaseTransport):
    def __init__(self, time: EventTime, inner: httpx.AsyncBaseTransport) -> None:
        self.time, self.inner = time, inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.time._begin()
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.time._end()

    async def aclose(self) -> None:
        await self.inner.aclose()
