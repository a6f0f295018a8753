import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.scheduler import Scheduler, slot_for
from storage.models import JobClaim
from tests.conftest import POSTGRES_URL


@pytest.mark.parametrize(
    "now,every,slot",
    [
        (datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC), timedelta(hours=1), "2026-11-23T09:00:00Z"),
        (
            datetime(2026, 11, 23, 9, 0, 2, tzinfo=UTC),
            timedelta(hours=1),
            "2026-11-23T09:00:00Z",
        ),  # fired late
        (datetime(2026, 11, 23, 8, 59, 59, tzinfo=UTC), timedelta(hours=1), "2026-11-23T09:00:00Z"),  # early
        (datetime(2026, 11, 23, 9, 31, tzinfo=UTC), timedelta(hours=1), "2026-11-23T10:00:00Z"),
        (datetime(2026, 11, 23, 9, 0, 4, tzinfo=UTC), timedelta(seconds=10), "2026-11-23T09:00:00Z"),
        (datetime(2026, 11, 23, 9, 0, 6, tzinfo=UTC), timedelta(seconds=10), "2026-11-23T09:00:10Z"),
    ],
)
def test_slot_is_the_nearest_grid_point(now, every, slot):
    assert slot_for(now, every) == slot


async def test_a_slot_runs_once_and_failures_are_recorded(storage):
    runs = []

    async def job(now):
        runs.append(now)
        if len(runs) == 2:
            raise RuntimeError("boom")

    scheduler = Scheduler(storage.claims)
    scheduler.add("job", timedelta(hours=1), job)
    results = await asyncio.gather(*(scheduler.run_once("job", "s1") for _ in range(5)))
    assert results.count(True) == 1 and len(runs) == 1
    assert await scheduler.run_once("job", "s2") is True  # raises inside, still claimed and finished
    async with storage.db.session() as session:
        outcomes = {c.slot: c.outcome for c in await session.scalars(select(JobClaim))}
    assert outcomes == {"s1": "ok", "s2": "failed"}


@pytest.mark.skipif(not POSTGRES_URL, reason="needs QUOLUM_TEST_POSTGRES_URL: replicas share PostgreSQL")
async def test_two_servers_on_one_postgres_run_each_slot_once(serve, settings, storage):
    if storage.db.is_sqlite:
        pytest.skip("replicas share PostgreSQL")
    every = timedelta(seconds=1)
    replicas = [
        serve(
            settings.with_overrides(scheduler_enabled=True),
            replica_id=f"replica-{n}",
            housekeeping_every=every,
        )
        for n in (1, 2)
    ]
    await asyncio.sleep(4.5)
    for server in replicas:
        server.stop()
    async with storage.db.session() as session:
        claims = list(await session.scalars(select(JobClaim).where(JobClaim.job == "housekeeping")))
    slots = [c.slot for c in claims]
    assert len(slots) >= 3
    assert len(slots) == len(set(slots))  # never twice
    assert {c.claimed_by for c in claims} <= {"replica-1", "replica-2"}
    assert all(c.outcome == "ok" for c in claims if c.finished_at)
