"""collect_many: bounded concurrency, lazy job sources, isolation of failures; and many real portals."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest

from core.periods import Period
from core.reports import Account, Seats, Signals, UsageReport
from providers.collect import CollectJob, collect_many, run_all
from providers.ratelimit import Limiter
from sandbox.standins.hubspot import HubSpotStandIn
from sandbox.standins.server import serve_in_thread
from tests.providers.test_hubspot_usage import (
    ALL_SCOPES,
    NOW,
    PACED_LIMITS,
    PERIOD,
    ScaledTime,
    TokenAuth,
    collect,
    expected_hubspot,
    make_http,
    observed,
    seeded_portal,
)


def fake_report(key: str) -> UsageReport:
    return UsageReport(
        team_id="T1",
        provider="fake",
        account=Account(key, key),
        period=Period(datetime(2026, 5, 1).date(), datetime(2026, 5, 7).date(), "UTC"),
        seats=Seats(total_users=1, paid_seats=1, active_users=1, active_paid_users=1),
        activity=(),
        signals=Signals(),
        collected_at=datetime(2026, 5, 8, tzinfo=UTC),
    )


class Tracker:
    """Jobs that record how many run at once."""

    def __init__(self) -> None:
        self.running = self.peak = self.started = 0

    def job(self, key: str, *, fail: bool = False, delay: float = 0.01) -> CollectJob:
        async def run() -> UsageReport:
            self.started += 1
            self.running += 1
            self.peak = max(self.peak, self.running)
            try:
                await asyncio.sleep(delay)
                if fail:
                    raise RuntimeError(f"{key} broke")
                return fake_report(key)
            finally:
                self.running -= 1

        return CollectJob(key, run)


async def test_concurrency_is_bounded_and_every_job_reported():
    tracker = Tracker()
    reports, progress = [], []
    summary = await collect_many(
        [tracker.job(f"j{i}") for i in range(25)],
        concurrency=4,
        on_report=lambda job, report: reports.append((job.key, report.account.id)),
        on_error=lambda job, error: pytest.fail(f"{job.key}: {error}"),
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert tracker.peak == 4
    assert sorted(reports) == sorted((f"j{i}", f"j{i}") for i in range(25))
    assert progress == [(n, 25) for n in range(1, 26)]
    assert (summary.done, summary.reported, summary.failed) == (25, 25, 0)


async def test_one_failure_is_reported_and_does_not_stop_the_others():
    tracker = Tracker()
    errors, reported = [], []

    async def on_error(job, error):  # async callbacks work too
        errors.append((job.key, str(error)))

    summary = await collect_many(
        [tracker.job(f"j{i}", fail=i in (2, 7)) for i in range(10)],
        concurrency=3,
        on_report=lambda job, report: reported.append(job.key),
        on_error=on_error,
    )
    assert sorted(errors) == [("j2", "j2 broke"), ("j7", "j7 broke")]
    assert len(reported) == 8 and (summary.reported, summary.failed) == (8, 2)


async def test_an_async_source_is_pulled_lazily_and_reports_are_not_kept():
    tracker = Tracker()
    produced = 0
    alive: list[weakref.ref] = []
    behind = []

    async def jobs():
        nonlocal produced
        for i in range(200):
            produced += 1
            behind.append(produced - tracker.started)  # jobs produced but not started yet
            yield tracker.job(f"j{i}", delay=0)

    def on_report(job, report):
        alive.append(weakref.ref(report))

    progress = []
    await collect_many(
        jobs(),
        concurrency=5,
        on_report=on_report,
        on_error=lambda job, error: pytest.fail(str(error)),
        on_progress=lambda done, total: progress.append(total),
    )
    assert produced == 200 and max(behind) <= 1  # never read ahead of the workers
    assert tracker.peak <= 5 and set(progress) == {None}
    gc.collect()
    assert all(ref() is None for ref in alive)  # nothing accumulated the reports


async def test_a_job_timeout_and_a_failing_on_report_go_to_on_error():
    tracker = Tracker()
    errors = {}

    def on_report(job, report):
        if job.key == "bad-callback":
            raise ValueError("cannot store")

    await collect_many(
        [tracker.job("slow", delay=5), tracker.job("bad-callback"), tracker.job("fine")],
        concurrency=3,
        on_report=on_report,
        on_error=lambda job, error: errors.__setitem__(job.key, type(error).__name__),
        job_timeout=0.2,
    )
    assert errors == {"slow": "TimeoutError", "bad-callback": "ValueError"}


async def test_an_error_in_on_error_stops_the_run():
    tracker = Tracker()

    def on_error(job, error):
        raise KeyError("bug in our own callback")

    with pytest.raises(KeyError):
        await collect_many(
            [tracker.job("a", fail=True), tracker.job("b", delay=5)],
            concurrency=2,
            on_report=lambda job, report: None,
            on_error=on_error,
        )


async def test_concurrency_must_be_positive():
    with pytest.raises(ValueError, match="concurrency"):
        await collect_many([], concurrency=0, on_report=print, on_error=print)


async def test_run_all_cancels_the_others_and_raises_the_first_error():
    cancelled = asyncio.Event()

    async def slow():
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def broken():
        await asyncio.sleep(0.01)
        raise LookupError("first")

    with pytest.raises(LookupError, match="first"):
        await run_all(slow(), broken())
    assert cancelled.is_set()
    assert await run_all(asyncio.sleep(0, "a"), asyncio.sleep(0, "b")) == ["a", "b"]


# --------------------------------------------------------------------------- real portals, real time


@pytest.fixture
def frozen_gc():
    """The stand-in shares this process (and its garbage collector) with the client: keep the seed's
    objects out of full collections so that a long GC pause does not bunch requests up on arrival."""
    yield lambda: (gc.collect(), gc.freeze())
    gc.unfreeze()


async def test_many_portals_in_real_time_stay_under_hubspot_limits_with_exact_figures(frozen_gc):
    """Real clock, real limiter (shared by every portal), real HTTP; each portal needs more than
    4 searches per second could start at once, so the limiter has to pace them."""
    clock = ScaledTime(NOW, speed=1.0)  # real time, shifted to the seeds' dates
    standin = HubSpotStandIn(clock=clock.time)
    portals = [seeded_portal(40 + i, 600 + i, n_users=40, records_per_type=500) for i in range(6)]
    for portal in portals:
        standin.add_portal(portal)
    frozen_gc()
    results, errors, progress = {}, [], []
    searches: Counter[str] = Counter()

    async def count_searches(request: httpx.Request) -> None:
        if request.url.path.endswith("/search"):
            searches[request.headers["authorization"]] += 1

    with serve_in_thread(standin.app) as server:
        async with httpx.AsyncClient(event_hooks={"request": [count_searches]}) as client:
            limiter = Limiter(PACED_LIMITS)
            # one ProviderHTTP and Limiter for all; a loaded machine may take seconds to answer
            http = make_http(client, None, limiter=limiter, timeout=30.0)
            booked: list[tuple[str, str | None, float]] = []
            acquire = limiter.acquire

            async def recording_acquire(provider, account_id, bucket=None):
                start = await acquire(provider, account_id, bucket)
                booked.append((account_id, bucket, start))
                return start

            limiter.acquire = recording_acquire

            def jobs():
                for portal in portals:
                    auth = TokenAuth(
                        standin.issue_tokens(portal.portal_id, ALL_SCOPES), server.url, clock.time
                    )

                    async def run(portal=portal, auth=auth):
                        return await collect(server.url, http, auth, portal, clock=clock)

                    yield CollectJob(str(portal.portal_id), run)

            started = time.perf_counter()
            await collect_many(
                jobs(),
                concurrency=3,
                on_report=lambda job, report: results.__setitem__(job.key, observed(report)),
                on_error=lambda job, error: errors.append((job.key, error)),
                on_progress=lambda done, total: progress.append(done),
                total=len(portals),
            )
            elapsed = time.perf_counter() - started

    assert errors == [] and progress == [1, 2, 3, 4, 5, 6]
    for portal in portals:
        assert results[str(portal.portal_id)] == expected_hubspot(portal, PERIOD)
    # The pacing, judged on the start times the limiter booked: every account stays within HubSpot's
    # documented limits (110 per rolling 10 s, 5 searches per rolling second). Whether the stand-in
    # also sees no burst depends on how promptly a loaded machine resumes each waiter, so arrival
    # 429s are not asserted here; any that happen are retried, and the figures above are exact.
    for account in {a for a, _, _ in booked}:
        starts = sorted(t for a, _, t in booked if a == account)
        searches_at = sorted(t for a, b, t in booked if a == account and b == "search")
        assert max_in_window(starts, 10.0) <= 110 and max_in_window(searches_at, 1.0) <= 5
    assert sum(1 for _, b, _ in booked if b == "search") == sum(searches.values())
    assert len(searches) == len(portals) and min(searches.values()) > 8  # some types needed 2+ pages
    assert elapsed >= (max(searches.values()) - 1) / 4  # searches of one portal start 1/4 s apart


def max_in_window(times: list[float], window: float) -> int:
    """The most start times in any half-open interval of `window` seconds."""
    best, first = 0, 0
    for last, t in enumerate(times):
        while times[first] <= t - window:
            first += 1
        best = max(best, last - first + 1)
    return best
