"""Collecting usage from every connection: the service behind `quolum-bot usage collect` and the digests.

Connections are streamed from the database into a fixed pool of workers
(providers.collect.collect_many), each report is stored as a snapshot as soon as
it is ready and then dropped, so memory does not grow with the number of
connections. Rate limits are the shared Limiter's business, per account.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from core.clock import Clock, as_of, utcnow
from core.config import Settings
from core.periods import Period, parse_period, today_in
from core.reports import UsageReport
from providers.collect import CollectJob, CollectSummary, collect_many
from providers.http import ProviderError, Unauthorized
from providers.registry import Bound
from services.credentials import CredentialManager, NeedsReconnect
from storage.connections import CONNECTED, ConnectionRecord
from storage.store import Storage

log = logging.getLogger("quolum.usage")

DEFAULT_PERIOD = "last-7-days"


def is_ours(error: BaseException) -> bool:
    """A failure of Quolum's own (a bug, a check of ours) rather than the provider's answer: it must
    never be reported as the provider's."""
    return not isinstance(error, ProviderError)


def check_period(text: str, clock: Clock = utcnow) -> None:
    """Raise ValueError (a sentence) for a period the person typed wrong, before any work starts."""
    parse_period(text, timezone="UTC", today=today_in("UTC", clock()))


class HealthReporter(Protocol):
    """Where every real use of a connection reports its outcome (services/health.py)."""

    async def report(self, connection: ConnectionRecord, failure: Any) -> None: ...


class UsageService:
    def __init__(
        self,
        *,
        storage: Storage,
        settings: Settings,
        clock: Clock,
        credentials: CredentialManager,
        providers: Bound,
        health: HealthReporter,
    ) -> None:
        self.storage = storage
        self.settings = settings
        self.clock = clock
        self.credentials = credentials
        self.providers = providers  # each provider's hooks: its collector, its ProviderHTTP
        self.health = health  # every real use of a connection reports its outcome
        # called as hook(connection, report) after each report is stored (seats running out)
        self.stored_hooks: list[Callable[[ConnectionRecord, UsageReport], Awaitable[Any]]] = []

    async def _report_health(self, connection: ConnectionRecord, failure) -> None:
        try:
            await self.health.report(connection, failure)
        except Exception:  # alerting must not fail a collection
            log.exception("reporting the health of connection %s failed", connection.id)

    def period_for(self, connection: ConnectionRecord, text: str, clock: Clock | None = None) -> Period:
        """`text` read in the account's zone, as of `clock` (the job's; default the service's)."""
        now = (clock or self.clock)()
        timezone = connection.details.get("time_zone") or "UTC"
        try:
            return parse_period(text, timezone=timezone, today=today_in(timezone, now))
        except ValueError:
            if timezone == "UTC":
                raise
            # an account whose zone our tz database lacks: fall back to UTC rather than fail
            return parse_period(text, timezone="UTC", today=today_in("UTC", now))

    def job(self, connection: ConnectionRecord, period_text: str, clock: Clock | None = None) -> CollectJob:
        """One connection's collection as of `clock` (a job's own time, e.g. `jobs run --at`):
        the period is checked against it and the report is stamped with it."""
        key = f"{connection.team_id}/{connection.provider}/{connection.account_id}"
        clock = clock or self.clock

        async def run() -> UsageReport:
            hooks = self.providers(connection.provider)
            return await hooks.collect(
                hooks.http,
                self.credentials.auth(connection.id),
                base_url=hooks.base_url(connection.credentials),
                team_id=connection.team_id,
                account_id=connection.account_id or str(connection.id),
                account_name=connection.account_name or "",
                period=self.period_for(connection, period_text, clock),
                scopes=set(connection.scopes) or None,
                clock=clock,
            )

        return CollectJob(key=key, run=run)

    async def jobs(
        self, team_id: str | None, provider: str | None, period_text: str
    ) -> AsyncIterator[CollectJob]:
        async for connection_id in self.storage.connections.active(team_id, provider):
            connection = await self.storage.connections.by_id(connection_id)
            if connection is not None and connection.status == CONNECTED:
                yield self.job(connection, period_text)

    async def collect(
        self,
        *,
        team_id: str | None = None,
        provider: str | None = None,
        period: str = DEFAULT_PERIOD,
        concurrency: int = 8,
        on_report: Callable[[UsageReport], Any] | None = None,
        on_error: Callable[[str, BaseException], Any] | None = None,
        on_progress: Callable[[int, int | None], Any] | None = None,
    ) -> CollectSummary:
        async def reported(job: CollectJob, report: UsageReport) -> None:
            connection = await self.storage.connections.get(report.team_id, report.provider)
            await self._stored(connection, report)
            if on_report:
                on_report(report)

        async def failed(job: CollectJob, error: BaseException) -> None:
            team, provider_key, _ = job.key.split("/", 2)
            connection = await self.storage.connections.get(team, provider_key)
            await self._failed(connection, job.key, error)
            if on_error:
                on_error(job.key, error)

        total = await self.storage.connections.count_active(team_id, provider)
        return await collect_many(
            self.jobs(team_id, provider, period),
            concurrency=concurrency,
            on_report=reported,
            on_error=failed,
            on_progress=on_progress,
            total=total,
        )

    async def collect_and_store(
        self, connection: ConnectionRecord, period_text: str, now: datetime | None = None
    ) -> UsageReport:
        """One connection and period (the digests) as of `now` (the job's time; default the clock's):
        stored as a snapshot and its outcome reported as `collect` does; a failure is raised after it
        was recorded."""
        job = self.job(connection, period_text, None if now is None else as_of(now, self.clock))
        try:
            report = await job.run()
        except Exception as error:
            await self._failed(connection, job.key, error)
            raise
        await self._stored(connection, report)
        return report

    async def _stored(self, connection: ConnectionRecord | None, report: UsageReport) -> None:
        await self.storage.snapshots.save(report)
        if connection is not None:
            await self.storage.connections.touch(connection.id)
            await self._report_health(connection, None)
            for hook in self.stored_hooks:
                try:
                    await hook(connection, report)
                except Exception:  # a listener must not fail a collection
                    log.exception("a stored-report listener failed for connection %s", connection.id)

    async def _failed(self, connection: ConnectionRecord | None, key: str, error: BaseException) -> None:
        if is_ours(error):
            log.error("collecting %s failed on Quolum's side, not the provider's: %r", key, error)
        elif not isinstance(error, NeedsReconnect | Unauthorized):
            log.warning("collecting %s failed: %s", key, error)
        if connection is None:
            return
        if isinstance(error, Unauthorized):
            reason = self.providers.registry[connection.provider].rejected_reason
            await self.storage.connections.mark_needs_reconnect(connection.id, reason)
        if isinstance(error, ProviderError):  # a use of the connection: health hears how it went
            await self._report_health(connection, self.providers(connection.provider).classify(error, "api"))
