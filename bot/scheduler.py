"""Background work: one APScheduler asyncio scheduler per process, run-once jobs claimed in the database.

Every replica schedules the same jobs on the same grid (interval triggers are
anchored at the Unix epoch, so fire times line up across replicas). When a job
fires, its slot is that grid point and the job's `run(now)` receives the slot's
time. An *exclusive* job (the default) runs on the replica that inserts (job,
slot) first; the others skip. A *shared* job (the digests) runs on every
replica and shares its work through claims of its own (rows with leases); its
runs are recorded per replica so `quolum-bot jobs list` can show them.
`quolum-bot jobs run NAME --at T` goes through the same `run_once` as if the
clock read T.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from core.clock import Clock, utcnow
from core.metrics import JOB_RUNS
from storage.claims import Claims

log = logging.getLogger("quolum.scheduler")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SLOT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

Run = Callable[[datetime], Awaitable[object]]


def slot_time(now: datetime, every: timedelta) -> datetime:
    """The grid point nearest to `now` (jobs fire on the grid, slightly late)."""
    step = every.total_seconds()
    index = math.floor((now - EPOCH).total_seconds() / step + 0.5)
    return EPOCH + timedelta(seconds=index * step)


def slot_for(now: datetime, every: timedelta) -> str:
    return slot_time(now, every).strftime(SLOT_FORMAT)


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Run  # receives the slot's time
    exclusive: bool = True  # False: every replica runs it (the job shares its work by claims of its own)


class Scheduler:
    def __init__(self, claims: Claims, clock: Clock = utcnow) -> None:
        self.claims = claims
        self.clock = clock
        self.jobs: dict[str, Job] = {}
        self._aps = AsyncIOScheduler(timezone=UTC)

    def add(self, name: str, every: timedelta, run: Run, *, exclusive: bool = True) -> None:
        self.jobs[name] = Job(name, every, run, exclusive)

    async def run_once(self, name: str, slot: str | None = None, *, now: datetime | None = None) -> bool:
        """Claim this job's slot and run it; False if another replica (or an earlier run) has it."""
        return await self.run_slot(name, slot, now=now) is not None

    async def run_slot(
        self, name: str, slot: str | None = None, *, now: datetime | None = None
    ) -> str | None:
        """`run_once` telling how THIS run went: "ok" or "failed", None if the slot was not ours.

        The outcome is this call's own, not the job's latest run read back by name: another process
        may hold a newer slot of the same job meanwhile (`quolum-bot jobs run` reports this)."""
        job = self.jobs[name]
        if slot is not None:
            at = (
                datetime.strptime(slot, SLOT_FORMAT).replace(tzinfo=UTC)
                if slot[:1].isdigit()
                else self.clock()
            )
        else:
            at = slot_time(now or self.clock(), job.every)
            slot = at.strftime(SLOT_FORMAT)
        key = slot if job.exclusive else f"{slot} {self.claims.replica_id}"[:64]
        if not await self.claims.claim(name, key):
            log.debug("job %s slot %s claimed elsewhere", name, slot)
            return None
        outcome = "ok"
        try:
            await job.run(at)
        except Exception:
            outcome = "failed"
            log.exception("job %s failed", name)
        finally:
            JOB_RUNS.labels(name, outcome).inc()
            await self.claims.finish(name, key, outcome)
        return outcome

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
