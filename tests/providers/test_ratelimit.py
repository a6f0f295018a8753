"""The per-account limiter, driven by a virtual monotonic clock."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time

import pytest

from providers.hubspot.entry import LIMITS as HUBSPOT_LIMITS
from providers.ratelimit import Bucket, Limiter, ProviderLimits

# The limiter's mechanism is tested at HubSpot's documented limits (the defaults book less, paced).
DOCUMENTED = {"hubspot": ProviderLimits(buckets={"default": Bucket(110, 10.0), "search": Bucket(4, 1.0)})}


class VirtualTime:
    """A fake monotonic clock plus sleep: time jumps to the next timer whenever every task is idle."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + seconds, next(self._seq), future))
        await future

    async def run(self, *awaitables):
        tasks = [asyncio.ensure_future(a) for a in awaitables]
        while True:
            for _ in range(10):  # let every runnable task run until it blocks
                await asyncio.sleep(0)
            if all(task.done() for task in tasks):
                return [task.result() for task in tasks]
            while self._timers and self._timers[0][2].cancelled():
                heapq.heappop(self._timers)
            assert self._timers, "deadlock: tasks wait but no timer is pending"
            when, _, future = heapq.heappop(self._timers)
            self.now = max(self.now, when)
            future.set_result(None)


def max_in_window(times: list[float], window: float) -> int:
    """The most starts in any half-open interval [a, a + window)."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


@pytest.fixture
def vt() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def limiter(vt: VirtualTime) -> Limiter:
    return Limiter(DOCUMENTED, clock=vt.clock, sleep=vt.sleep)


async def run_all(limiter: Limiter, vt: VirtualTime, kinds: list[str | None], account: str = "42"):
    """Start one acquisition per kind at t = 0, all concurrently; return their start times by index."""

    async def one(kind: str | None) -> float:
        booked = await limiter.acquire("hubspot", account, kind)
        assert vt.clock() == pytest.approx(booked, abs=1e-9)  # it really waited until its slot
        return booked

    return await vt.run(*(one(kind) for kind in kinds))


async def test_500_mixed_acquisitions_stay_within_both_windows_at_the_minimum_time(vt, limiter):
    kinds = ["search" if i % 5 == 0 else None for i in range(500)]  # 100 searches, 400 plain

    starts = await run_all(limiter, vt, kinds)

    searches = [t for t, kind in zip(starts, kinds, strict=True) if kind == "search"]
    assert max_in_window(starts, 10.0) == 110
    assert max_in_window(searches, 1.0) == 4
    # 500 starts at 110 per 10 s cannot all begin before t = 40 s; 100 searches at 4/s need 24 s.
    # First fit in arrival order (no look-ahead) ends at 42 s here: within 5 % of the minimum.
    assert 40.0 <= max(starts) <= 42.0
    # No busy-waiting: every waiter slept exactly once, until its slot.
    assert len(vt.sleeps) == sum(1 for t in starts if t > 0)


async def test_searches_first_then_plain_requests_finish_at_the_minimum(vt, limiter):
    kinds = ["search"] * 100 + [None] * 400

    starts = await run_all(limiter, vt, kinds)

    assert max_in_window(starts, 10.0) == 110
    assert max_in_window(starts[:100], 1.0) == 4
    assert max(starts[:100]) == 24.0  # searches keep their 4/s pace
    assert max(starts) == 40.0  # plain calls fill the gaps; strict FIFO would need 54 s


async def test_plain_requests_alone_reach_the_exact_minimum(vt, limiter):
    starts = await run_all(limiter, vt, [None] * 500)

    assert sorted(starts) == [0.0] * 110 + [10.0] * 110 + [20.0] * 110 + [30.0] * 110 + [40.0] * 60


async def test_searches_alone_run_at_four_per_second(vt, limiter):
    starts = await run_all(limiter, vt, ["search"] * 100)

    assert starts == [float(i // 4) for i in range(100)]


async def test_same_kind_requests_start_in_arrival_order(vt, limiter):
    kinds = ["search" if i % 3 == 0 else None for i in range(400)]

    starts = await run_all(limiter, vt, kinds)

    for kind in ("search", None):
        mine = [t for t, k in zip(starts, kinds, strict=True) if k == kind]
        assert mine == sorted(mine)


async def test_searches_are_not_starved_by_plain_requests_queued_behind_them(vt, limiter):
    kinds = ["search"] * 8 + [None] * 300

    starts = await run_all(limiter, vt, kinds)

    assert starts[:8] == [0.0] * 4 + [1.0] * 4


async def test_plain_requests_are_not_stuck_behind_queued_searches(vt, limiter):
    kinds = ["search"] * 100 + [None] * 10

    starts = await run_all(limiter, vt, kinds)

    assert starts[100:] == [0.0] * 10  # 40 searches in [0, 10) leave room for them at once


async def test_accounts_and_providers_do_not_share_windows(vt, limiter):
    async def scenario() -> None:
        for _ in range(110):
            await limiter.acquire("hubspot", "a")
        await limiter.acquire("hubspot", "b")  # another account: no wait
        await limiter.acquire("sendgrid", "a")  # SendGrid: reactive, no proactive buckets
        await limiter.acquire("unknown", "a")
        assert vt.sleeps == [] and vt.now == 0.0
        assert await limiter.acquire("hubspot", "a") == 10.0  # the 111th for account a waits

    await vt.run(scenario())
    assert vt.now == 10.0


async def test_unknown_bucket_is_rejected(limiter):
    with pytest.raises(ValueError, match="bucket"):
        await limiter.acquire("hubspot", "a", "serch")


def test_buckets_are_data():
    assert HUBSPOT_LIMITS.buckets_for(None) == ("default",)
    assert HUBSPOT_LIMITS.buckets_for("search") == ("search",)  # not counted in the 10-second budget
    with pytest.raises(ValueError):
        Bucket(limit=0, window=1.0)


async def test_a_configured_sendgrid_bucket_is_enforced(vt):
    limits = {"sendgrid": ProviderLimits(buckets={"default": Bucket(limit=2, window=5.0)})}
    limiter = Limiter(limits, clock=vt.clock, sleep=vt.sleep)

    async def sequential() -> list[float]:
        return [await limiter.acquire("sendgrid", "acct") for _ in range(5)]

    [starts] = await vt.run(sequential())

    assert starts == [0.0, 0.0, 5.0, 5.0, 10.0]
    assert limiter.booked("sendgrid", "acct") == [5.0, 5.0, 10.0]  # starts at 0 aged out


async def test_waiters_on_disjoint_buckets_do_not_block_each_other(vt):
    limits = {"p": ProviderLimits(buckets={"a": Bucket(1, 10.0), "b": Bucket(1, 10.0)}, always=())}
    limiter = Limiter(limits, clock=vt.clock, sleep=vt.sleep)
    await limiter.acquire("p", "x", "a")

    starts = await vt.run(limiter.acquire("p", "x", "a"), limiter.acquire("p", "x", "b"))

    assert starts == [10.0, 0.0]


async def test_a_cancelled_waiter_gives_its_slot_back(vt, limiter):
    for _ in range(110):
        await limiter.acquire("hubspot", "a")
    doomed = asyncio.create_task(limiter.acquire("hubspot", "a"))
    await asyncio.sleep(0)
    assert limiter.booked("hubspot", "a").count(10.0) == 1

    doomed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await doomed

    assert limiter.booked("hubspot", "a").count(10.0) == 0
    [start] = await vt.run(limiter.acquire("hubspot", "a"))
    assert start == 10.0


async def test_real_clock_and_sleep():
    limits = {"p": ProviderLimits(buckets={"default": Bucket(limit=5, window=0.2)})}
    limiter = Limiter(limits)
    started = time.monotonic()

    starts = await asyncio.gather(*(limiter.acquire("p", "x") for _ in range(15)))

    assert 0.4 <= time.monotonic() - started < 1.5
    assert max_in_window(starts, 0.2) == 5


async def test_the_providers_count_is_booked_when_it_exceeds_ours(vt):
    limiter = Limiter(
        {"hubspot": HUBSPOT_LIMITS}, clock=vt.clock, sleep=vt.sleep
    )  # the default limits: HUBSPOT_LIMITS
    headers = {"X-HubSpot-RateLimit-Max": "110", "X-HubSpot-RateLimit-Remaining": "100"}
    for _ in range(4):
        await limiter.acquire("hubspot", "a")

    assert limiter.observe("hubspot", "a", headers) == 6  # HubSpot counted 10, we booked 4
    assert limiter.observe("hubspot", "a", headers) == 0  # already taken in
    assert limiter.observe("hubspot", "a", {"X-HubSpot-RateLimit-Remaining": "x"}) == 0
    assert limiter.observe("hubspot", "a", {}) == 0
    assert limiter.observe("sendgrid", "a", headers) == 0  # no header rules for SendGrid
    assert limiter.observe("hubspot", "a", headers | {"X-HubSpot-RateLimit-Remaining": "0"}) == 100

    async def next_start() -> float:
        return await limiter.acquire("hubspot", "a")

    [start] = await vt.run(next_start())
    assert start == pytest.approx(HUBSPOT_LIMITS.buckets["default"].window)  # waited, no 429


async def test_hubspot_searches_run_at_five_per_second_outside_the_ten_second_budget(vt):
    limiter = Limiter(
        {"hubspot": HUBSPOT_LIMITS}, clock=vt.clock, sleep=vt.sleep
    )  # the default limits: HUBSPOT_LIMITS

    starts = await run_all(limiter, vt, ["search"] * 20 + [None] * 110)

    window = HUBSPOT_LIMITS.buckets["search"].window
    assert starts[:20] == pytest.approx([(i // 5) * window for i in range(20)])
    assert starts[20:] == [0.0] * 110  # plain calls are not slowed by searches


async def test_a_429_holds_every_new_start_of_the_account_and_widens_its_window(vt):
    """Issue 21 item 12: two collections of one portal (or the CLI next to the server) met 429s;
    a 429 must slow down every request of that account, not only the one that is retried."""
    limiter = Limiter({"hubspot": HUBSPOT_LIMITS}, clock=vt.clock, sleep=vt.sleep)
    for _ in range(5):
        await limiter.acquire("hubspot", "a", "search")
    limiter.slow_down("hubspot", "a", "search", wait=2.0)  # HubSpot said: wait 2 s

    async def searches(account: str, n: int) -> list[float]:
        return [await limiter.acquire("hubspot", account, "search") for _ in range(n)]

    [slowed, other] = await vt.run(searches("a", 10), searches("b", 5))
    assert slowed[0] >= 2.0  # nobody of account a starts before the wait is over
    assert other == [0.0] * 5  # another account is not held
    # the window is wider for a while (x1.5): 5 searches take longer than a second and a bit
    assert slowed[5] - slowed[0] >= 1.5 * HUBSPOT_LIMITS.buckets["search"].window - 0.05


async def test_the_slow_down_wears_off_as_requests_are_taken(vt):
    limiter = Limiter({"hubspot": HUBSPOT_LIMITS}, clock=vt.clock, sleep=vt.sleep)
    limiter.slow_down("hubspot", "a", None, wait=0.0)
    assert limiter._windows[("hubspot", "a", "default")].pace.factor == 1.5
    for _ in range(1000):  # the account's factor within a few dozen, the provider's margin slowly
        limiter.taken("hubspot", "a", None)
    assert limiter._windows[("hubspot", "a", "default")].pace.factor == 1.0
    assert limiter._windows[("hubspot", "a", "default")].shared.margin == 0.0


async def test_remaining_near_zero_holds_the_next_start(vt):
    limiter = Limiter({"hubspot": HUBSPOT_LIMITS}, clock=vt.clock, sleep=vt.sleep)
    await limiter.acquire("hubspot", "a")
    limiter.observe("hubspot", "a", {"X-HubSpot-RateLimit-Max": "110", "X-HubSpot-RateLimit-Remaining": "1"})
    [start] = await vt.run(limiter.acquire("hubspot", "a"))
    assert start >= HUBSPOT_LIMITS.buckets["default"].window / 10
    limiter.observe("hubspot", "b", {"X-HubSpot-RateLimit-Max": "110", "X-HubSpot-RateLimit-Remaining": "50"})
    [start_b] = await vt.run(limiter.acquire("hubspot", "b"))
    assert start_b == vt.now  # plenty left: no wait


async def test_a_waiter_resumed_late_starts_at_its_real_time_and_the_next_ones_keep_their_distance(vt):
    """A busy event loop resumes a waiter late: its start is the real one, and the next waiter, due
    a window after the original booking, waits until a window after that real start."""
    limits = {"p": ProviderLimits(buckets={"default": Bucket(limit=1, window=1.0)})}
    lags = iter([0.3, 0.0, 0.0])

    async def late_sleep(seconds: float) -> None:
        await vt.sleep(seconds + next(lags, 0.0))

    limiter = Limiter(limits, clock=vt.clock, sleep=late_sleep)
    await limiter.acquire("p", "x")  # at 0
    starts = await vt.run(limiter.acquire("p", "x"), limiter.acquire("p", "x"))
    assert starts[0] == pytest.approx(1.3)  # booked for 1.0, resumed at 1.3: that is its start
    assert starts[1] >= 2.3  # booked for 2.0: waits a window after the real start
    assert limiter.booked("p", "x")[-2:] == starts  # the real starts are what is booked
