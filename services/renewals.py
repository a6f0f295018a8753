"""Renewal reminders (issue 26): before each contract's notice deadline, at the workspace's stages (90, 60,
30, 14 and 7 days by default), a DM to the contract's owner and a message in the workspace's alerts
channel; a missed deadline is said once. Exactly once across replicas: the reminder's row (contract,
dates revision, stage) is the claim (storage/renewals.py), and each post carries its key in Slack's
metadata (services/slack_once.py). New dates are a new revision, so the stages start afresh.

What a reminder says is decided in core/renewals.py: the stage, the utilisation over the last 12 weeks
of stored usage snapshots, and the right size (peak plus 10 % headroom, rounded up)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from slack_sdk.errors import SlackApiError

from core.clock import Clock
from core.contracts import Contract
from core.money import format_money
from core.renewals import (
    HEADROOM_PERCENT,
    MISSED,
    UTILISATION_WEEKS,
    right_size,
    stage_due,
    utilisation,
)
from messages import renewals as msg
from providers.registry import Registry
from services import slack_once
from storage.contracts import Settings, StoredContract
from storage.renewals import CANCEL, LATER, Sent
from storage.store import Storage

log = logging.getLogger("quolum.renewals")

RENEWAL_EVENT = "quolum_renewal"  # the metadata event_type of a reminder post
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


class RenewalsService:
    def __init__(self, *, storage: Storage, registry: Registry, slack_clients, clock: Clock) -> None:
        self.storage = storage
        self.registry = registry
        self.slack_clients = slack_clients
        self.clock = clock

    # --- the job ---------------------------------------------------------------------------------------
    async def run(self, now: datetime) -> None:
        """Send every reminder due at `now` (UTC days), and the snoozed ones that fell due."""
        today = now.date()
        sent = await self.storage.reminders.sent()
        settings: dict[str, Settings] = {}
        for stored in await self.storage.contracts.dated():
            contract, team = stored.contract, stored.team_id
            if contract.provider not in self.registry:
                continue
            if team not in settings:
                settings[team] = await self.storage.contracts.settings(team)
            done = sent.get((team, contract.provider, stored.dates_rev), Sent(frozenset(), False))
            deadline = contract.notice_deadline()
            stage = stage_due(
                today, deadline, settings[team].reminder_days, done.stages, stopped=done.stopped
            )
            if stage is None:
                continue
            if not await self.storage.reminders.claim(team, contract.provider, stored.dates_rev, stage):
                continue  # another replica has it
            log.info("renewal reminder %s/%s stage %d", team, contract.provider, stage)
            await self._send(stored, stage, settings[team], now)
        for snoozed in await self.storage.reminders.snoozed(now):
            if not await self.storage.reminders.take(snoozed):
                continue
            stored = await self.storage.contracts.get(snoozed.team_id, snoozed.provider)
            if stored is None or stored.dates_rev != snoozed.dates_rev:
                continue  # new dates since: their own stages remind
            team_settings = await self.storage.contracts.settings(snoozed.team_id)
            await self._send(stored, snoozed.stage, team_settings, now, again=True)

    async def view(
        self, stored: StoredContract, stage: int, settings: Settings, now: datetime
    ) -> msg.Reminder:
        """What the reminder says, from the contract and the stored usage snapshots."""
        contract, today = stored.contract, now.date()
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

    async def _send(
        self, stored: StoredContract, stage: int, settings: Settings, now: datetime, *, again: bool = False
    ) -> None:
        client = await self.slack_clients(stored.team_id)
        if client is None:
            log.warning("renewal reminder for %s: no Slack installation", stored.team_id)
            return
        reminder = await self.view(stored, stage, settings, now)
        message = msg.missed_message(reminder) if stage == MISSED else msg.reminder_message(reminder)
        destinations = []
        if stored.contract.owner:
            try:
                dm = (await client.conversations_open(users=stored.contract.owner))["channel"]["id"]
                destinations.append(("owner", dm))
            except SlackApiError as error:
                log.info("cannot DM the contract's owner: %s", error.response.get("error"))
        route = await self.storage.alert_routes.get(stored.team_id)
        if route and not again:  # *Remind me later* reminds the one who asked
            destinations.append(("channel", route))
        for kind, channel in destinations:
            key = f"{reminder.key}|{kind}" + (f"|again@{now:%Y%m%d%H}" if again else "")
            try:
                await slack_once.post_once(
                    client, channel=channel, message=message, event_type=RENEWAL_EVENT, key=key, since=now
                )
            except SlackApiError as error:
                log.info("renewal reminder to %s refused: %s", kind, error.response.get("error"))

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
