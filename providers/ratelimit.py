"""Proactive, per-account rate limiting shared by every coroutine of the process.

A `Limiter` is a registry of strict sliding windows keyed by
``(provider, account_id, bucket)``. Create one per process (the app factory
does) and hand it to every `ProviderHTTP`; `acquire()` returns when a request
may START without breaking any window it takes from.

Buckets are data (`ProviderLimits`): HubSpot allows a public app 110 requests
per rolling 10 s per account, and CRM search 5 per second per account, searches
not counted in the 10-second budget, so a search takes from ``search`` only
(`HUBSPOT_LIMITS`). SendGrid is handled reactively from its headers and has no
buckets unless configured.

What the provider says counts too: `observe()` reads a response's rate-limit
headers (HubSpot's ``X-HubSpot-RateLimit-Max`` / ``-Remaining``) and, when the
provider has counted more requests in its window than this process booked
(another replica, another process of the same app), books the difference now,
so the next requests wait before a 429 rather than after one.

How it works: scheduling by reservation. `acquire()` books, synchronously and
in all of its buckets at once, the earliest start time that keeps every
window valid given the starts already booked (first fit), then sleeps once
until that time. Hence:

* strict: in every half-open interval of ``window`` seconds at most ``limit``
  starts of a bucket are booked, past and future alike;
* fair: bookings are made in arrival order and never move, so a later request
  can never delay an earlier one (no starvation: a search waiting for the 4/s
  bucket keeps the ``default`` slot it booked), while it may still fill an
  earlier gap that nobody needs (plain calls are not stuck behind searches);
* no busy-waiting and no threads: each waiter sleeps exactly once; a cancelled
  waiter gives its future slot back.

`clock` must be monotonic; `clock` and `sleep` are injectable for tests. The
guarantee is about booked start times: the request itself leaves when the
event loop resumes the waiter, a moment later (on a busy machine, sometimes
later than the margin: then the provider answers 429, and we slow down).

When the provider pushes back anyway (`slow_down()`, on a 429: another process
of the same app, or arrivals closer together than we sent them), the account's
windows hold every new start for the wait the provider asked, the account's
windows widen (x1.5 per 429, up to x4, back to normal over the next successful
requests: two processes sharing an account settle at its limit together), and
the provider's windows gain a little margin (our own jitter is the process's,
not one account's). The registry is the per-process sharing: one `Limiter` per
process, handed to every `ProviderHTTP` (bot/container.py).
"""

from __future__ import annotations

import asyncio
import bisect
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]

DEFAULT_BUCKET = "default"


@dataclass(frozen=True)
class Bucket:
    """At most `limit` request starts in any `window` seconds."""

    limit: int
    window: float

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window <= 0:
            raise ValueError(f"invalid bucket: limit={self.limit}, window={self.window}")


@dataclass(frozen=True)
class HeaderNames:
    """Response headers announcing the provider's count for one bucket (`bucket`)."""

    remaining: str
    limit: str | None = None
    bucket: str = DEFAULT_BUCKET


@dataclass(frozen=True)
class ProviderLimits:
    """A provider's buckets, those every request takes from besides the one it names, and
    `standalone` buckets whose requests take from that bucket only."""

    buckets: Mapping[str, Bucket] = field(default_factory=dict)
    always: tuple[str, ...] = (DEFAULT_BUCKET,)
    standalone: frozenset[str] = frozenset()
    headers: HeaderNames | None = None

    def buckets_for(self, bucket: str | None) -> tuple[str, ...]:
        """Names of the buckets a request for `bucket` takes from (may be empty)."""
        if bucket is not None and bucket not in self.buckets:
            raise ValueError(f"unknown rate-limit bucket {bucket!r}")
        if bucket in self.standalone:
            return (bucket,)
        names = [name for name in self.always if name in self.buckets]
        if bucket is not None and bucket not in names:
            names.append(bucket)
        return tuple(names)


# Slowing down when the provider refuses (a 429) although we paced: see `Limiter.slow_down`.
SLOWER = 1.5  # an account's windows widen by this factor per 429 ...
SLOWEST = 4.0  # ... up to this
RECOVERY = 0.97  # each request the provider takes brings the factor this much back towards 1
JITTER_STEP = 0.02  # seconds of margin a provider's windows gain per 429 ...
JITTER_MAX = 0.2  # ... up to this, lost again as requests are taken (JITTER_DECAY each)
# A margin shared by every account of the provider slows them all: lost within 100 requests taken, it
# kept the benchmark's 429 share at 0.21 % and its wall time at 1.18x the bound (within 500: 0.11 %
# and 1.21x, the searches of all 200 portals paced ~0.1 s wider for most of the run).
JITTER_DECAY = JITTER_STEP / 100
NEAR_ZERO = 2  # a `remaining` this low holds the account's next starts for a tenth of the window


class _Pace:
    """How much wider than specified a window is now: `factor` (one account) and `margin` (shared
    by every account of a provider's bucket)."""

    __slots__ = ("factor", "margin")

    def __init__(self) -> None:
        self.factor = 1.0
        self.margin = 0.0


class _Window:
    """Sorted booked start times of one (provider, account, bucket), pruned as they age out."""

    __slots__ = ("bucket", "times", "others", "pace", "shared", "hold")

    def __init__(self, bucket: Bucket, shared: _Pace | None = None) -> None:
        self.bucket = bucket
        self.times: list[float] = []  # every booked start, others' included
        self.others: list[float] = []  # starts booked for requests the provider saw from elsewhere
        self.pace = _Pace()  # this account's slow-down
        self.shared = shared or _Pace()  # the provider bucket's margin
        self.hold = -math.inf  # no start before this (the provider asked us to wait)

    @property
    def window(self) -> float:
        return self.bucket.window * self.pace.factor + self.shared.margin

    def prune(self, now: float) -> None:
        """Forget starts that can no longer share a window with a start at or after `now`."""
        window = self.window
        for times in (self.times, self.others):
            cut = 0
            while cut < len(times) and now - times[cut] >= window:
                cut += 1
            del times[:cut]

    def earliest(self, t: float) -> float:
        """The earliest time >= `t` at which one more start keeps every window within the limit.

        Adding a start at t breaks the limit exactly when some `limit` consecutive
        booked starts S[j..j+limit-1] span less than `window` and t lies less than
        `window` after S[j] and before S[j+limit-1]; the fix is to move t to
        S[j] + window. Groups are scanned in order; their ends only grow.
        """
        limit, window, times = self.bucket.limit, self.window, self.times
        t = max(t, self.hold)
        for j in range(len(times) - limit + 1):
            first, last = times[j], times[j + limit - 1]
            if last - t >= window:
                break  # this group and every later one end a full window after t
            if last - first < window and t - first < window:
                t = _at_least_after(first, window)
        return t

    def wait_after_past(self, own: float, now: float) -> float:
        """How long a start at `now` must still wait for the starts booked up to `now` (one booking
        at `own` being this waiter's own, left out) to leave it room; 0 when it may go."""
        times = self.times
        upto = bisect.bisect_right(times, now)
        mine = bisect.bisect_left(times, own)
        skip = 1 if mine < upto and times[mine] == own else 0
        past = upto - skip
        if past < self.bucket.limit:
            return 0.0
        # the limit-th latest earlier start, without our own
        index = past - self.bucket.limit
        if skip and index >= mine:
            index += 1
        return max(0.0, _at_least_after(times[index], self.window) - now)

    def book(self, t: float, *, other: bool = False) -> None:
        bisect.insort(self.times, t)
        if other:
            bisect.insort(self.others, t)

    def started(self, t: float, *, own: bool = False) -> int:
        """Booked starts not after `t` (ours only if `own`) among those kept (pruned: one window)."""
        count = bisect.bisect_right(self.times, t)
        return count - bisect.bisect_right(self.others, t) if own else count

    def cancel(self, t: float) -> None:
        index = bisect.bisect_left(self.times, t)
        if index < len(self.times) and self.times[index] == t:
            del self.times[index]


def _at_least_after(start: float, window: float) -> float:
    """The smallest float t with t - start >= window (exact, despite rounding)."""
    t = start + window
    while t - start < window:
        t = math.nextafter(t, math.inf)
    return t


class Limiter:
    """Registry of per-account rate-limit windows, keyed by (provider, account_id, bucket)."""

    def __init__(
        self,
        limits: Mapping[str, ProviderLimits] | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._limits = dict(limits or {})  # the registry's `limits()`: provider -> its limits
        self._clock = clock
        self._sleep = sleep
        self._windows: dict[tuple[str, str, str], _Window] = {}
        self._shared: dict[tuple[str, str], _Pace] = {}

    async def acquire(self, provider: str, account_id: str, bucket: str | None = None) -> float:
        """Wait until a request of `account_id` may start; return its booked start time.

        `bucket` names an extra bucket (e.g. ``"search"``) on top of those every
        request of the provider takes from. Providers without buckets return at
        once. Unknown bucket names raise ValueError.
        """
        limits = self._limits.get(provider)
        names = limits.buckets_for(bucket) if limits is not None else ()
        now = self._clock()
        if not names:
            return now
        windows = [self._window(provider, account_id, name, limits.buckets[name]) for name in names]
        start = self._book(windows, now)
        if start <= now:
            return start
        try:
            await self._sleep(start - now)
            # Resumed, perhaps late (a busy event loop): the booking becomes the real start, and
            # that real start must keep the windows valid against the starts before it (another
            # waiter resumed late too). Only earlier starts are looked at, so waiters never push
            # each other round in circles; later bookings check against us when they resume.
            while (wait := max(w.wait_after_past(start, self._clock()) for w in windows)) > 0:
                await self._sleep(wait)
        except BaseException:  # cancelled: give the slot back if it is still ahead
            if start > self._clock():
                for window in windows:
                    window.cancel(start)
            raise
        now = self._clock()
        if now > start:
            for window in windows:
                window.cancel(start)
                window.book(now)
            start = now
        return start

    def slow_down(self, provider: str, account_id: str, bucket: str | None, wait: float) -> None:
        """The provider refused a request of `account_id` for its rate (a 429) and asked to wait
        `wait` seconds: no new start of the account's windows before then, those windows wider
        for a while, the provider's a little (see the module docstring)."""
        limits = self._limits.get(provider)
        names = limits.buckets_for(bucket) if limits is not None else ()
        now = self._clock()
        for name in names:
            window = self._window(provider, account_id, name, limits.buckets[name])
            window.hold = max(window.hold, now + max(0.0, wait))
            window.pace.factor = min(SLOWEST, window.pace.factor * SLOWER)
            window.shared.margin = min(JITTER_MAX, window.shared.margin + JITTER_STEP)

    def taken(self, provider: str, account_id: str, bucket: str | None) -> None:
        """The provider took a request of `account_id`: the slow-down wears off a little."""
        limits = self._limits.get(provider)
        names = limits.buckets_for(bucket) if limits is not None else ()
        for name in names:
            window = self._windows.get((provider, account_id, name))
            if window is None:
                continue
            if window.pace.factor > 1.0:
                window.pace.factor = max(1.0, window.pace.factor * RECOVERY)
            if window.shared.margin > 0.0:
                window.shared.margin = max(0.0, window.shared.margin - JITTER_DECAY)

    def observe(
        self, provider: str, account_id: str, headers: Mapping[str, str], started: float | None = None
    ) -> int:
        """Take in the provider's own count from the rate-limit headers of a request started at `started`.

        The provider counted, when that request arrived, ``max - remaining`` requests of
        `account_id` in its window: ours that started until then, and others'. When the others'
        are more than this limiter already holds for them, the difference is booked now (it ages
        out a window from now: when they started is unknown). Returns how many were added.
        Headers absent or unreadable change nothing. `started` defaults to now.
        """
        limits = self._limits.get(provider)
        names = limits.headers if limits is not None else None
        if names is None or names.bucket not in limits.buckets:
            return 0
        bucket = limits.buckets[names.bucket]
        try:
            remaining = int(headers[names.remaining])
            ceiling = int(headers[names.limit]) if names.limit and names.limit in headers else bucket.limit
        except (KeyError, ValueError):
            return 0
        now = self._clock()
        window = self._window(provider, account_id, names.bucket, bucket)
        window.prune(now)
        ours = window.started(now if started is None else started, own=True)
        missing = min(bucket.limit, ceiling - remaining - ours) - len(window.others)
        for _ in range(max(0, missing)):
            window.book(now, other=True)
        if remaining <= NEAR_ZERO:  # about to be refused: let the provider's window move on a little
            window.hold = max(window.hold, now + bucket.window / 10)
        return max(0, missing)

    def booked(self, provider: str, account_id: str, bucket: str = DEFAULT_BUCKET) -> list[float]:
        """Booked start times of one window not yet aged out (past and future), oldest first."""
        window = self._windows.get((provider, account_id, bucket))
        return list(window.times) if window else []

    def _window(self, provider: str, account_id: str, name: str, spec: Bucket) -> _Window:
        key = (provider, account_id, name)
        window = self._windows.get(key)
        if window is None:
            shared = self._shared.setdefault((provider, name), _Pace())
            window = self._windows[key] = _Window(spec, shared)
        return window

    @staticmethod
    def _book(windows: list[_Window], now: float) -> float:
        """Book the earliest start >= now that fits every window (no await: atomic)."""
        for window in windows:
            window.prune(now)
        start = now
        while True:
            candidate = start
            for window in windows:
                candidate = window.earliest(candidate)
            if candidate == start:
                break
            start = candidate
        for window in windows:
            window.book(start)
        return start
