"""Connection health: the `connection_health` job and the one place every use reports its outcome.

The job runs every few minutes; each connection is due once an hour at its own offset within the hour
(`due()`), so checks are spread over the hour rather than all at once, and a replica that was down
catches up on its next run. A check is the cheapest call that proves access, the provider's `check`
hook: an OAuth provider's token is refreshed first when due (HubSpot then reads one user and one
owner); a credential form's check re-reads what the credential may read (SendGrid reads `/v3/scopes`
and probes each feature), and a credential that is refused makes the connection *Needs reconnect*.
Collection and digests call `report()` with their own outcome.

`report()` records the check and decides (`should_alert`): revoked, scope lost and our own
misconfiguration are an incident at once; a transient failure only once the connection has failed
every check for 24 hours; a success resolves whatever was open.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from core.clock import Clock
from providers.failures import Failure
from providers.http import ProviderError
from providers.plugin import Checked, Connection
from providers.registry import Bound
from services.alerts import AlertsService
from services.credentials import CredentialManager
from storage.connections import CONNECTED, NEEDS_RECONNECT, ConnectionRecord, ConnectionStore
from storage.incidents import CheckStore

log = logging.getLogger("quolum.health")

EVERY = timedelta(hours=1)  # each connection at least this often
JOB_EVERY = timedelta(minutes=5)  # the job's grid: a connection's offset is met within 5 minutes
TRANSIENT_GRACE = timedelta(hours=24)
CONCURRENCY = 4
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def offset(connection_id: int, every: timedelta = EVERY) -> timedelta:
    """Where in the hour this connection is checked: spread evenly and stable across replicas."""
    return timedelta(seconds=(connection_id * 2_654_435_761) % int(every.total_seconds()))


def due(connection_id: int, last_checked: datetime | None, now: datetime, every: timedelta = EVERY) -> bool:
    """Checked since this hour's point for the connection? (the latest `offset + k * every` <= now)"""
    if last_checked is None:
        return True
    step = every.total_seconds()
    since = (now - EPOCH - offset(connection_id, every)).total_seconds() % step
    return last_checked < now - timedelta(seconds=since)


def should_alert(failure: Failure, failing_since: datetime, now: datetime, has_open: bool) -> bool:
    """Open (or keep updating) an incident for this failure?"""
    if has_open or failure.is_incident_now:
        return True
    return failure.kind == "transient" and now - failing_since >= TRANSIENT_GRACE


class HealthService:
    def __init__(
        self,
        *,
        connections: ConnectionStore,
        checks: CheckStore,
        alerts: AlertsService,
        credentials: CredentialManager,
        providers: Bound,
        clock: Clock,
    ) -> None:
        self.connections = connections
        self.checks = checks
        self.alerts = alerts
        self.credentials = credentials
        self.providers = providers
        self.clock = clock

    async def run(self, now: datetime) -> dict[str, int]:
        """The scheduled job: check every connection that is due at `now`, a few at a time."""
        counts: dict[str, int] = {}
        slots = asyncio.Semaphore(CONCURRENCY)

        async def check_one(connection_id: int) -> None:
            try:
                record = await self.connections.by_id(connection_id)
                if record is not None:
                    failure = await self.check(record)
                    await self.report(record, failure)
                    key = failure.kind if failure else "ok"
                    counts[key] = counts.get(key, 0) + 1
            except Exception:
                counts["error"] = counts.get("error", 0) + 1
                log.exception("health check of connection %s failed", connection_id)
            finally:
                slots.release()

        async with asyncio.TaskGroup() as group:
            async for connection_id in self.connections.active():
                if not due(connection_id, await self.checks.last_checked(connection_id), now):
                    continue
                await slots.acquire()
                group.create_task(check_one(connection_id))
        log.info("connection health: %s", dict(sorted(counts.items())))
        return counts

    async def check(self, connection: ConnectionRecord) -> Failure | None:
        """One health check: None when the connection works, else what is wrong."""
        hooks = self.providers(connection.provider)
        if connection.status == NEEDS_RECONNECT:
            reason = f"{hooks.spec.display_name} no longer accepts Quolum's access"
            return Failure("revoked", connection.status_reason or reason)
        if connection.status != CONNECTED:
            return None
        if connection.credentials.get("refresh_token"):
            try:
                await self.credentials.current(connection.id)  # refresh when due
            except ProviderError as error:
                return hooks.classify(error, "refresh")
        view = Connection(
            connection.id,
            connection.account_id,
            connection.credentials,
            tuple(connection.scopes),
            tuple(connection.unavailable),
            connection.details,
        )
        checked = await hooks.check(view, self.credentials.auth(connection.id), self.clock())
        # refreshable only with a refresh token stored (a Slack user token has none unless rotation is on)
        refreshable = bool(connection.credentials.get("refresh_token"))
        return await self._apply(connection, checked, refreshable=refreshable)

    async def _apply(
        self, connection: ConnectionRecord, checked: Checked, *, refreshable: bool
    ) -> Failure | None:
        """Keep the connection's state in step with what the check found."""
        failure, key = checked.failure, connection.provider
        if failure is not None:
            if failure.kind == "revoked" and not refreshable:  # a refused credential: ask for a new one
                if await self.connections.mark_needs_reconnect(connection.id, failure.reason):
                    log.warning("%s connection %s needs reconnect: refused", key, connection.id)
            elif checked.reason:
                log.info("%s connection %s could not be checked: %s", key, connection.id, checked.reason)
            return failure
        if checked.scopes is None:
            return None
        newly = sorted(set(checked.unavailable) - set(connection.unavailable))
        if newly:
            log.info("%s connection %s: may no longer read %s", key, connection.id, ", ".join(newly))
            await self.connections.mark_unavailable(connection.id, newly)
        # a permission granted again on the same credential (SendGrid lets admins edit a key in place):
        # the feature works again without a reconnect; a probe that could not tell keeps its state
        recovered = set(connection.unavailable) - set(checked.unavailable) - set(checked.unknown)
        if recovered or (checked.scopes and set(checked.scopes) != set(connection.scopes)):
            if recovered:
                log.info(
                    "%s connection %s: available again: %s", key, connection.id, ", ".join(sorted(recovered))
                )
            still = (set(connection.unavailable) | set(newly)) - recovered
            await self.connections.set_features(connection.id, list(checked.scopes), sorted(still))
        lost = newly
        if not lost:  # lost before (and marked unavailable then): still lost while the incident is open
            open_incident = await self.alerts.incidents.open_for(connection.id)
            if (
                open_incident
                and open_incident.kind == "scope_lost"
                and open_incident.feature in checked.unavailable
            ):
                lost = [open_incident.feature]
        if lost:
            return Failure("scope_lost", f"the `{lost[0]}` permission was removed", feature=lost[0])
        return None

    async def report(self, connection: ConnectionRecord, failure: Failure | None) -> None:
        """Every use of a connection (this job, collection, digests) reports its outcome here."""
        failing_since = await self.checks.record(connection.id, ok=failure is None)
        if failure is None:
            await self.alerts.working(connection)
            return
        if failure.kind == "bad_code":
            return
        if failure.kind == "configuration":
            log.error(
                "connection %s: %s (code %s, correlationId %s)",
                connection.id,
                failure.reason,
                failure.code,
                failure.correlation_id,
            )
        elif failure.correlation_id:
            log.info(
                "connection %s: %s (correlationId %s)", connection.id, failure.reason, failure.correlation_id
            )
        if failure.kind == "scope_lost" and failure.feature:
            await self.connections.mark_unavailable(connection.id, [failure.feature])
        has_open = await self.alerts.incidents.open_for(connection.id) is not None
        if should_alert(failure, failing_since or self.clock(), self.clock(), has_open):
            await self.alerts.failing(connection, failure, failing_since or self.clock())
