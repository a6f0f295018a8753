"""Digests: find what is due, collect once, claim each delivery, post, record Slack's ts.

Deciding is separate from delivering (Sentry's digests): `schedule_due(now)` turns due subscriptions
into delivery rows keyed by (subscription, period) — only the latest period of each, so a bot that
was down sends one late digest, not a backlog — and moves each subscription's next send time on.
`deliver(now)` claims pending rows with a lease (storage.digests), renews the lease while it works (a
heartbeat), builds each digest, posts it and stores the ts; every write after the claim is fenced by
the claim's version, so a replica that lost its claim posts nothing and records nothing. A replica
killed mid-delivery leaves a claimed row without a ts; once the lease lapses another run takes it.
Posts go through slack_once: the delivery id rides in the message metadata, and a post whose answer
never came is looked for in the channel's history, never posted again blindly (README, "Digests"). Usage is collected once per (workspace, connection, period): a snapshot of the
period taken after it ended is reused, and concurrent deliveries of one workspace share one task.

Everything arrives through the constructor: the stores, a Slack client factory, the collector, the
clock. Nothing here imports the container or handlers. Whoever shows subscriptions (App Home) listens
through `changed_hooks`: called as hook(team_id, people) when a subscription is added, changed,
removed or paused, and after a digest is posted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core import metrics
from core.clock import Clock
from core.reports import UsageReport
from core.seats import DigestSeats
from core.spend import month_cost, totals
from messages import charts
from messages import digest as builder
from messages import seats as seats_msg
from messages.digest_trend import TREND_PERIODS
from messages.spend import spend_line
from providers.errors import ProviderError
from providers.registry import INSTALLED, Registry
from services import slack_once
from services.digest_on_demand import OnDemandMixin, schedule_of
from services.digest_people import named as _named
from services.digest_people import with_kept as _with_kept
from services.digest_refusals import RETRY_AFTER, RefusalsMixin
from services.digest_schedule import (
    last_send,
    next_send,
    period_for,
    period_key,
)
from services.digest_subscriptions import SubscriptionsMixin
from services.leases import heartbeat
from storage.connections import CONNECTED, NEEDS_RECONNECT, ConnectionRecord, ConnectionStore
from storage.digests import ACTIVE, Delivery, DigestStore
from storage.usage import SnapshotStore

log = logging.getLogger("quolum.digests")

SlackFactory = Callable[[str], Awaitable[AsyncWebClient | None]]
# (connection, "YYYY-MM-DD..YYYY-MM-DD", the job's time): the collector judges the period as of that time
Collector = Callable[[ConnectionRecord, str, datetime], Awaitable[UsageReport]]

LATE_AFTER = timedelta(minutes=15)  # sent this long after its time, a digest says it is late
EVENT_TYPE = "quolum_digest"  # the metadata event_type of a digest post; its payload id is the delivery's


@dataclass(frozen=True)
class DigestRun:
    """What one run of the digests job did, counted."""

    scheduled: int = 0
    posted: int = 0
    paused: int = 0
    retrying: int = 0
    uncertain: int = 0  # may be posted, cannot be checked: not posted again


def _parse_period(key: str) -> tuple[date, date]:
    start, end = key.split("..")
    return date.fromisoformat(start), date.fromisoformat(end)


class DigestService(RefusalsMixin, SubscriptionsMixin, OnDemandMixin):
    def __init__(
        self,
        *,
        store: DigestStore,
        snapshots: SnapshotStore,
        connections: ConnectionStore,
        slack: SlackFactory,
        collect: Collector,
        clock: Clock,
        replica: str,
        lease: timedelta = timedelta(minutes=10),
        concurrency: int = 32,
        registry: Registry = INSTALLED,
    ) -> None:
        self.store = store
        self.snapshots = snapshots
        self.connections = connections
        self.slack = slack
        self.collect = collect
        self.clock = clock
        self.replica = replica
        self.lease = lease
        self.concurrency = concurrency
        self.registry = registry  # the providers a digest shows, in the card's order
        self.changed_hooks: list = []
        self.seat_notes = None  # async (team_id) -> core.seats.DigestSeats (services/reclaims.py), or None

    async def changed(self, team_id: str, *people: str) -> None:
        """Tell the listeners; one that fails is logged and never undoes what changed (a posted digest
        must not be retried because App Home could not be republished)."""
        for hook in self.changed_hooks:
            try:
                await hook(team_id, people)
            except Exception:
                log.exception("a digest change listener failed for %s", team_id)

    # --- the job -----------------------------------------------------------------------------
    async def run(self, now: datetime) -> DigestRun:
        """The `digests` job: every minute on every replica."""
        scheduled = await self.schedule_due(now)
        outcome = await self.deliver(now)
        return DigestRun(scheduled, outcome.posted, outcome.paused, outcome.retrying, outcome.uncertain)

    async def schedule_due(self, now: datetime) -> int:
        created = 0
        for _ in range(100):  # bounded: each pass moves every subscription it saw past `now`
            due = [sub async for sub in self.store.due(now)]
            if not due:
                break
            for sub in due:
                schedule = schedule_of(sub)
                send_at = last_send(schedule, now)  # the latest occurrence: never a backlog
                if send_at >= sub.created_at:
                    late = now - send_at > LATE_AFTER
                    await self.store.ensure_delivery(
                        sub, period_key(period_for(schedule, send_at)), send_at, late=late
                    )
                    created += 1
                await self.store.advance(sub.id, sub.next_send_at, next_send(schedule, now))
        return created

    async def deliver(self, now: datetime) -> DigestRun:
        """`concurrency` workers, each claiming one delivery at a time until none is left: the pipeline
        stays full (no waiting for the slowest of a batch) and replicas interleave row by row."""
        cache: dict[tuple, asyncio.Task] = {}
        counts = {"posted": 0, "paused": 0, "retrying": 0, "uncertain": 0, "lost": 0}
        lease_start = max(now, self.clock())  # `jobs run --at` in the past must still hold a real lease

        async def worker() -> None:
            while True:
                claimed = await self.store.claim(
                    self.replica, now, self.lease, limit=1, lease_from=lease_start
                )
                if not claimed:
                    return
                counts[await self._work(claimed[0], now, lease_start, cache)] += 1

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        return DigestRun(0, counts["posted"], counts["paused"], counts["retrying"], counts["uncertain"])

    async def _work(self, delivery: Delivery, now: datetime, lease_start: datetime, cache: dict) -> str:
        """Deliver one claimed row, renewing its lease meanwhile (every third of it)."""

        def renew():
            return self.store.renew(delivery, max(lease_start, self.clock()) + self.lease)

        async with heartbeat(renew, self.lease.total_seconds() / 3):
            try:
                return await self._deliver(delivery, now, cache)
            except Exception:
                log.exception("digest delivery %s failed", delivery.id)
                await self.store.release(delivery, "error", self.clock() + RETRY_AFTER)
                return "retrying"

    async def _deliver(self, delivery: Delivery, now: datetime, cache: dict) -> str:
        sub = await self.store.by_id(delivery.subscription_id)
        if sub is None or sub.status != ACTIVE:
            await self.store.refused(delivery, "unsubscribed")
            return "paused"
        client = await self.slack(sub.team_id)
        if client is None:
            await self.store.refused(delivery, "not_installed")
            return "paused"
        data = await self.digest_data(
            sub.team_id,
            _parse_period(delivery.period),
            sub.timezone,
            client,
            cache=cache,
            late_since=delivery.due_at if delivery.late else None,
            now=now,
        )
        message = builder.digest_message(data)
        if not await self.store.start_post(delivery):
            log.warning("digest delivery %s: claim lost before posting; not posted", delivery.id)
            return "lost"

        async def post(message: dict, look_first: bool) -> slack_once.Result:
            return await slack_once.post_once(
                client,
                channel=sub.channel_id,
                message=message,
                event_type=EVENT_TYPE,
                key=str(delivery.id),
                since=delivery.post_started_at or self.clock(),
                look_first=look_first,
                unfurl_links=False,
                unfurl_media=False,
            )

        try:
            try:
                sent = await post(message, look_first=delivery.post_started_at is not None)
            except SlackApiError as error:
                if not await self._chart_refused(sub.team_id, message, error):
                    raise
                # Slack answered: nothing was posted, so the same digest goes again without its chart
                sent = await post(charts.without_charts(message), look_first=False)
        except SlackApiError as error:
            return await self._refused(client, sub, delivery, error)
        if sent.state == slack_once.NOT_POSTED:
            log.warning("digest %s not posted (%s): retried later", delivery.id, sent.reason)
            await self.store.release(delivery, sent.reason or "error", self.clock() + RETRY_AFTER)
            return "retrying"
        if sent.state == slack_once.UNCERTAIN:
            return await self._uncertain(client, sub, delivery, sent.reason)
        if not await self.store.posted(delivery, sent.channel, sent.ts):
            log.warning("digest delivery %s: claim lost while posting (ts %s)", delivery.id, sent.ts)
            return "lost"
        metrics.DIGESTS_POSTED.labels(cadence=sub.cadence).inc()
        # App Home's "last digest", for whoever has the tab open: nobody else needs it now (Slack asks
        # again when a tab opens), and a fan-out of thousands must not publish a tab per digest
        await self.changed(sub.team_id)
        return "posted"

    # --- building ---------------------------------------------------------------------------
    async def digest_data(
        self,
        team_id: str,
        period: tuple[date, date],
        timezone: str,
        client: AsyncWebClient | None,
        *,
        cache: dict | None = None,
        late_since: datetime | None = None,
        preview: bool = False,
        now: datetime | None = None,
    ) -> builder.DigestData:
        """`now`: the job's time (`jobs run --at`), which the collection judges the period by."""
        cache = {} if cache is None else cache
        now = now or self.clock()
        refused = await self.store.refused_blocks(team_id)
        locale = (await self.store.contracts.settings(team_id)).locale
        contracts = {c.contract.provider: c.contract for c in await self.store.contracts.for_team(team_id)}
        prices = {  # one seat a month, what idle seats are counted with
            key: (c.monthly_minor(), c.currency)
            for key, c in contracts.items()
            if c.price_minor is not None and c.currency
        }
        records = await self.connections.for_team(team_id)
        parts = []
        collected = []
        for key in self.registry:
            connection = records.get(key)
            if connection is None or connection.status not in (CONNECTED, NEEDS_RECONNECT):
                continue
            part = await self._connection(connection, period, client, cache, prices.get(key), now)
            if part.report:
                collected.append(part.report.collected_at)
            parts.append(part)
        costs = [
            cost for p in parts if p.report and (cost := month_cost(p.report, contracts.get(p.provider)))
        ]
        notes = await self.seat_notes(team_id) if self.seat_notes else DigestSeats()
        parts = [_with_kept(part, notes) for part in parts]
        return builder.DigestData(
            period=period,
            timezone=timezone,
            connections=parts,
            collected_at=min(collected) if collected else None,
            late_since=late_since,
            preview=preview,
            spend=spend_line(totals(costs), len(costs), locale),
            savings=seats_msg.savings_line(notes.savings) if notes.savings else None,
            review=any(p.report is not None and p.report.seats.inactive_paid_users for p in parts),
            charts=charts.BLOCK_TYPE not in refused,
            locale=locale,
        )

    async def _connection(self, connection, period, client, cache, price, now) -> builder.ConnectionDigest:
        spec = self.registry[connection.provider]
        base = dict(
            provider=spec.key,
            provider_name=spec.display_name,
            account=connection.account_name or spec.display_name,
        )
        if connection.status == NEEDS_RECONNECT:
            return builder.ConnectionDigest(
                **base, state="needs_reconnect", reason=connection.status_reason, since=connection.updated_at
            )
        key = (connection.team_id, connection.id, period_key(period))
        if key not in cache:
            cache[key] = asyncio.ensure_future(self._report(connection, period, now))
        report, ours = await cache[key]
        if ours:  # our own failure: never shown as the provider's silence
            return builder.ConnectionDigest(**base, state="failed")
        if report is None:
            fresh = await self.connections.by_id(connection.id)
            if fresh is not None and fresh.status == NEEDS_RECONNECT:
                return builder.ConnectionDigest(
                    **base, state="needs_reconnect", reason=fresh.status_reason, since=fresh.updated_at
                )
            return builder.ConnectionDigest(**base, state="unavailable")
        history = await self._history(report)
        named = await _named(client, report, cache)
        return builder.ConnectionDigest(
            **base,
            report=report,
            history=history,
            named=named,
            price=price,
        )

    async def _report(
        self, connection: ConnectionRecord, period: tuple[date, date], now: datetime
    ) -> tuple[UsageReport | None, bool]:
        """(report, ours): the report, or None and whether the failure was Quolum's own rather than
        the provider's. A snapshot of this period taken after it ended is as good as a new one."""
        start, end = (d.isoformat() for d in period)
        stored = await self.snapshots.get(
            connection.team_id, connection.provider, connection.account_id or "", start, end
        )
        if stored is not None and stored.collected_at.date() > period[1]:
            return stored, False
        try:
            return await self.collect(connection, period_key(period), now), False
        except ProviderError as error:
            log.warning(
                "collecting %s/%s for a digest failed: %s",
                connection.team_id,
                connection.provider,
                type(error).__name__,
            )
            return None, False
        except Exception as error:  # a bug or a check of ours refused: say so, never blame the provider
            log.error(
                "collecting %s/%s for a digest failed on Quolum's side, not the provider's: %r",
                connection.team_id,
                connection.provider,
                error,
            )
            return None, True

    async def _history(self, report: UsageReport) -> list[UsageReport]:
        """Earlier periods of the same length, newest first (for the change and the trend)."""
        days, start = report.period.days, report.period.start
        earlier = [
            old
            for old in await self.snapshots.history(report.team_id, report.provider, limit=36)
            if old.period.days == days and old.period.end < start
        ]
        return earlier[: TREND_PERIODS - 1]
