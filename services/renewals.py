"""Renewal reminders (issue 26): before each contract's notice deadline, at the workspace's stages (90, 60,
30, 14 and 7 days by default), a DM to the contract's owner and a message in the workspace's alerts
channel; a missed deadline is said once. A stage is decided once across replicas by its row (contract,
dates revision, stage), which brings a pending post per destination (storage/renewals.py); each post
goes out exactly once (services/renewal_posts.py). New dates are a new revision, so the stages start
afresh. Days ("N days left", which stage is due) are the workspace's: the timezone set for its
contracts, else its digest subscription's, else UTC; a stage's day starts at the workspace's reminder
hour (09:00 unless set), so reminders arrive in working hours.

What a reminder says is decided in core/renewals.py: the stage, the utilisation over the last 12 weeks
of stored usage snapshots, and the right size (peak plus 10 % headroom, rounded up)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from core.clock import Clock
from core.contracts import Contract
from core.money import format_money
from core.renewals import (
    HEADROOM_PERCENT,
    UTC_NAME,
    UTILISATION_WEEKS,
    local_day,
    reminder_day,
    right_size,
    stage_due,
    utilisation,
    workspace_timezone,
)
from messages import renewals as msg
from providers.registry import Registry
from services.renewal_posts import RENEWAL_EVENT, PostsMixin
from storage.contracts import Settings, StoredContract
from storage.renewals import CANCEL, CHANNEL, LATER, OWNER, Sent
from storage.store import Storage

log = logging.getLogger("quolum.renewals")

__all__ = ["RENEWAL_EVENT", "Key", "RenewalsService"]
SNOOZE = timedelta(days=7)  # *Remind me later*


@dataclass(frozen=True)
class Key:
    """What a reminder's buttons carry: which contract, dates revision and stage."""

    team_id: str
    provider: str
    dates_rev: int
    stage: int

    def text(self) -> str:
        return f"{self.team_id}|{self.provider}|{self.dates_rev}|{self.stage}"

    @classmethod
    def parse(cls, text: str) -> Key | None:
        parts = (text or "").split("|")
        if len(parts) != 4 or not parts[2].isdigit() or not parts[3].isdigit():
            return None
        return cls(parts[0], parts[1], int(parts[2]), int(parts[3]))


class RenewalsService(PostsMixin):
    def __init__(
        self,
        *,
        storage: Storage,
        registry: Registry,
        slack_clients,
        clock: Clock,
        lease: timedelta = timedelta(minutes=10),
    ) -> None:
        self.storage = storage
        self.registry = registry
        self.slack_clients = slack_clients
        self.clock = clock
        self.lease = lease  # a post's claim; a holder that died leaves it to the next run once it lapses

    # --- the job ---------------------------------------------------------------------------------------
    async def run(self, now: datetime) -> int:
        """Decide every stage due at `now` (each workspace's own day, which starts at its reminder hour)
        and the snoozed reminders that fell due, then post what is pending (services/renewal_posts.py); returns how many were posted."""
        sent = await self.storage.reminders.sent()
        settings: dict[str, Settings] = {}
        for stored in await self.storage.contracts.dated():
            contract, team = stored.contract, stored.team_id
            if contract.provider not in self.registry:
                continue
            if team not in settings:
                settings[team] = await self.settings(team)
            done = sent.get((team, contract.provider, stored.dates_rev), Sent(frozenset(), False))
            stage = stage_due(
                reminder_day(now, settings[team].timezone, settings[team].reminder_hour),
                contract.notice_deadline(),
                settings[team].reminder_days,
                done.stages,
                stopped=done.stopped,
            )
            if stage is None:
                continue
            if await self.storage.reminders.decide(
                team, contract.provider, stored.dates_rev, stage, (OWNER, CHANNEL)
            ):  # the other replicas' inserts changed nothing
                log.info("renewal reminder %s/%s stage %d", team, contract.provider, stage)
        for snoozed in await self.storage.reminders.snoozed(now):
            await self.storage.reminders.take(snoozed)  # adds the owner's post, on one replica
        return await self.deliver(now)

    async def settings(self, team_id: str) -> Settings:
        """The workspace's contract settings, its timezone resolved (core.renewals.workspace_timezone)."""
        chosen = await self.storage.contracts.settings(team_id)
        subscribed = [s.timezone for s in await self.storage.digests.for_team(team_id)]
        return replace(chosen, timezone=workspace_timezone(chosen.timezone, subscribed))

    async def view(
        self, stored: StoredContract, stage: int, settings: Settings, now: datetime
    ) -> msg.Reminder:
        """What the reminder says, from the contract and the stored usage snapshots (days counted in
        the workspace's timezone)."""
        contract, today = stored.contract, local_day(now, settings.timezone or UTC_NAME)
        active = await self.active_seats(stored.team_id, contract.provider, today)
        used = utilisation(active)
        recommended = right_size(used.peak) if used else None
        saves = None
        if recommended is not None and contract.seats is not None and recommended < contract.seats:
            saves = self._money(contract.yearly_cost(contract.seats - recommended), settings)
        deadline = contract.notice_deadline()
        return msg.Reminder(
            provider=self.registry[contract.provider].display_name,
            key=Key(stored.team_id, contract.provider, stored.dates_rev, stage).text(),
            deadline=deadline,
            renewal=contract.renews_on,
            days_left=(deadline - today).days,
            auto_renews=contract.auto_renews,
            owner=contract.owner,
            seats=contract.seats,
            as_is=self._money(contract.yearly_cost(), settings),
            weeks=UTILISATION_WEEKS,
            peak=used.peak if used else None,
            average=used.average if used else None,
            periods=used.periods if used else 0,
            recommended=recommended,
            saves=saves,
            headroom=HEADROOM_PERCENT,
        )

    async def active_seats(self, team_id: str, provider: str, today: date) -> list[int]:
        """Active paid seats of each stored period that ended in the last 12 weeks (up to today)."""
        since = today - timedelta(weeks=UTILISATION_WEEKS)
        found = []
        for report in await self.storage.snapshots.history(team_id, provider, limit=UTILISATION_WEEKS * 8):
            seats = report.seats
            active = seats.active_paid_users if seats.active_paid_users is not None else seats.active_users
            if active is not None and since < report.period.end <= today:
                found.append(active)
        return found

    @staticmethod
    def _money(amount, settings: Settings) -> str | None:
        return format_money(amount, settings.locale, whole=True) if amount is not None else None

    # --- the buttons -----------------------------------------------------------------------------------
    async def current(self, key: Key) -> Contract | None:
        """The contract, when `key` is its current revision; None for an out-of-date reminder."""
        stored = await self.storage.contracts.get(key.team_id, key.provider)
        if stored is None or stored.dates_rev != key.dates_rev:
            return None
        return stored.contract

    async def later(self, key: Key, user_id: str) -> date | None:
        """Remind again in a week (the first answer stands): the day, or None when it was answered."""
        until = self.clock() + SNOOZE
        if await self.storage.reminders.answer(
            key.team_id, key.provider, key.dates_rev, key.stage, LATER, user_id, snoozed_until=until
        ):
            return until.date()
        return None

    async def will_cancel(self, key: Key, user_id: str) -> bool:
        return await self.storage.reminders.answer(
            key.team_id, key.provider, key.dates_rev, key.stage, CANCEL, user_id
        )
