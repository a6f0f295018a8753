"""Background work: one APScheduler asyncio scheduler per process, run-once jobs claimed in the database.

Every replica schedules the same jobs on the same grid (interval triggers are
anchored at the Unix epoch, so fire times line up across replicas). When a job
fires, its slot is that grid point; the replica that inserts (job, slot) first
runs it and the others skip. A replica that is down simply does not compete.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.clock import Clock, utcnow
from storage.claims import Claims

log = logging.getLogger("quolum.scheduler")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def slot_for(now: datetime, every: timedelta) -> str:
    """The grid point nearest to `now` (jobs fire on the grid, slightly late)."""
    step = every.total_seconds()
    index = math.floor((now - EPOCH).total_seconds() / step + 0.5)
    return (EPOCH + timedelta(seconds=index * step)).strftime("%Y-%m-%dT%H:%M:%SZ")


def slot_time(slot: str) -> datetime | None:
    """The time a slot stands for (None for a slot that is not one of ours, e.g. in tests)."""
    try:
        return datetime.strptime(slot, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[datetime], Awaitable[object]]  # receives the slot's time


class Scheduler:
    def __init__(self, claims: Claims, clock: Clock = utcnow) -> None:
        self.claims = claims
        self.clock = clock
        self.jobs: dict[str, Job] = {}
        self._aps = AsyncIOScheduler(timezone=UTC)

    def add(self, name: str, every: timedelta, run: Callable[[datetime], Awaitable[object]]) -> None:
        self.jobs[name] = Job(name, every, run)

    async def run_once(self, name: str, slot: str | None = None) -> bool:
        """Claim this job's slot and run it; False if another replica (or an earlier run) has it."""
        job = self.jobs[name]
        slot = slot or slot_for(self.clock(), job.every)
        if not await self.claims.claim(name, slot):
            log.debug("job %s slot %s claimed elsewhere", name, slot)
            return False
        outcome = "ok"
        try:
            await job.run(slot_time(slot) or self.clock())
        except Exception:
            outcome = "failed"
            log.exception("job %s failed", name)
        finally:
            await self.claims.finish(name, slot, outcome)
        return True

    def start(self) -> None:
        for job in self.jobs.values():
            self._aps.add_job(
                self.run_once,
                IntervalTrigger(seconds=job.every.total_seconds(), start_date=EPOCH, timezone=UTC),
                args=[job.name],
                id=job.name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(max(1, job.every.total_seconds() // 2)),
            )
        self._aps.start()

    def shutdown(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)
