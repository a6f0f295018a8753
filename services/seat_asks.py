"""Asking people *Keep* or *Release* about their idle seats: the ask DMs, answers, the asking admin's
summary, reminders and *no answer* (issue 23). The view they start from is services/seats.py.

Exactly once across replicas and clicks comes from storage/seats.py's keys: an ask is inserted once
per (connection, person, round), only its inserter DMs the person (one post, keyed in Slack's
metadata so a retry after a lost answer finds it instead of posting again); a reminder is counted by
one compare-and-set and posted by the replica that made it; the first answer stands.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

from core.seats import KEEP, NO_ANSWER, RELEASE, ConnectionSeats, Policy, SeatRow
from messages import seats as msg
from services import slack_once
from services.seats import QUOLUM, SeatsService, subject
from storage.seats import Ask

log = logging.getLogger("quolum.seats")

ASK_EVENT = "quolum_seat_ask"  # metadata event_type of an ask DM (payload id: the ask's)
REMIND_EVENT = "quolum_seat_remind"
SUMMARY_EVENT = "quolum_seat_summary"


@dataclass(frozen=True)
class Asked:
    """What an *Ask* did: who was asked, who was not and why (sentences)."""

    asked: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class AsksService:
    def __init__(self, seats: SeatsService) -> None:
        self.seats = seats
        self.store = seats.store
        self.registry = seats.registry
        self.slack_clients = seats.slack_clients
        self.clock = seats.clock
        self.released_hooks: list = []  # hook(ask) when a person releases (reclaims.py: reclaim on release)

    async def ask_of(self, team_id: str, user_id: str, ask_id: int) -> Ask | None:
        """The ask, when it is this member's own in this workspace."""
        ask = await self.store.get_ask(ask_id)
        return ask if ask and ask.team_id == team_id and ask.slack_user_id == user_id else None

    # --- asking ---------------------------------------------------------------------------------------
    async def ask(self, team_id: str, admin: str, connection_id: int, user_ids: Iterable[str]) -> Asked:
        """DM each chosen person who is a Slack member (once per cooldown), and the admin a summary."""
        outcome = Asked()
        views = {c.connection_id: c for c in await self.seats.overview(team_id)}
        view = views.get(connection_id)
        if view is None:
            outcome.skipped.append(msg.NO_SUCH_CONNECTION)
            return outcome
        rows = {row.user_id: row for row in view.rows}
        policy = await self.store.policy(team_id)
        connection = await self.seats.storage.connections.by_id(connection_id)
        seats = {s.user_id: s for s in (await self.seats.idle(connection))[0]}
        client = await self.slack_clients(team_id)
        batch = None
        for user_id in user_ids:
            row, seat = rows.get(user_id), seats.get(user_id)
            if row is None or seat is None:
                outcome.skipped.append(msg.NOT_IDLE.format(user=msg.esc(user_id)))
                continue
            if row.blocked:
                outcome.skipped.append(msg.SKIPPED.format(name=msg.esc(row.name), why=row.blocked))
                continue
            if row.slack_user is None:
                outcome.skipped.append(msg.NOT_A_MEMBER.format(name=msg.esc(row.name)))
                continue
            latest = await self.store.latest_ask(connection_id, user_id)
            if latest is not None and latest.asked_at + timedelta(days=policy.cooldown_days) > self.clock():
                outcome.skipped.append(
                    msg.ASKED_ALREADY.format(name=msg.esc(row.name), when=msg.day(latest.asked_at))
                )
                continue
            batch = batch or await self.store.new_batch(team_id, admin)
            ask = await self.store.ask(
                team_id=team_id,
                connection_id=connection_id,
                provider=connection.provider,
                seat=seat,
                round=(latest.round + 1) if latest else 1,
                slack_user_id=row.slack_user,
                batch_id=batch,
                asked_by=admin,
            )
            if ask is None:  # another click or replica asked this round: it DMs, not us
                outcome.skipped.append(msg.ASKED_ALREADY.format(name=msg.esc(row.name), when="just now"))
                continue
            await self.store.record(
                team_id,
                admin,
                "ask",
                provider=connection.provider,
                subject=subject(seat),
                detail=f"round {ask.round}",
            )
            await self._post_ask(client, ask, view, row)
            outcome.asked.append(row.name)
        if batch is not None:
            await self.update_summary(batch)
        return outcome

    async def _post_ask(
        self, client, ask: Ask, view: ConnectionSeats, row: SeatRow, reminder: int = 0
    ) -> None:
        message = msg.ask_dm(ask.id, view.provider, view.account, row, reminder=reminder)
        if client is None:
            return
        try:
            opened = await client.conversations_open(users=ask.slack_user_id)
            channel = opened["channel"]["id"]
            if reminder:
                key, event = f"{ask.id}:{reminder}", REMIND_EVENT
                await slack_once.post_once(
                    client,
                    channel=channel,
                    message=message,
                    event_type=event,
                    key=key,
                    since=self.clock(),
                    thread_ts=ask.dm_ts,
                )
                return
            posted = await slack_once.post_once(
                client,
                channel=channel,
                message=message,
                event_type=ASK_EVENT,
                key=str(ask.id),
                since=ask.asked_at,
            )
            if posted.ts:
                await self.store.set_dm(ask.id, posted.channel, posted.ts)
        except SlackApiError as error:
            log.warning("asking about a seat (ask %s) failed: %s", ask.id, error.response.get("error"))

    async def update_summary(self, batch_id: int) -> None:
        """The asking admin's one summary message, posted once and then updated in place."""
        asks = await self.store.batch_asks(batch_id)
        if not asks:
            return
        channel, ts, admin = await self.store.batch_message(batch_id)
        names = self.registry.names()
        message = msg.summary(asks, names, await self.store.policy(asks[0].team_id))
        client = await self.slack_clients(asks[0].team_id)
        if client is None:
            return
        try:
            if ts:
                await client.chat_update(channel=channel, ts=ts, **message)
                return
            opened = await client.conversations_open(users=admin)
            posted = await slack_once.post_once(
                client,
                channel=opened["channel"]["id"],
                message=message,
                event_type=SUMMARY_EVENT,
                key=str(batch_id),
                since=asks[0].asked_at,
            )
            if posted.ts:
                await self.store.set_batch_message(batch_id, posted.channel, posted.ts)
        except SlackApiError as error:
            log.warning("the ask summary %s could not be posted: %s", batch_id, error.response.get("error"))

    # --- answers --------------------------------------------------------------------------------------
    async def answer(
        self, team_id: str, user_id: str, ask_id: int, answer: str, reason: str | None = None
    ) -> str:
        """A person's *Keep* or *Release*: the sentence to show them (only their own ask, once)."""
        ask = await self.store.get_ask(ask_id)
        if ask is None or ask.team_id != team_id or ask.slack_user_id != user_id:
            return msg.NOT_YOURS
        if answer not in (KEEP, RELEASE):
            return msg.NOT_YOURS
        if not await self.store.answer(ask_id, answer, reason):
            fresh = await self.store.get_ask(ask_id)
            return msg.ANSWERED_ALREADY.format(answer=msg.ANSWER_WORDS.get(fresh.answer or "", "answered"))
        policy = await self.store.policy(team_id)
        name = self.registry[ask.provider].display_name if ask.provider in self.registry else ask.provider
        await self.store.record(
            team_id,
            user_id,
            f"answer_{answer}",
            provider=ask.provider,
            subject=subject(ask.seat),
            detail=reason,
        )
        if answer == KEEP:
            until = self.clock() + timedelta(days=policy.keep_days)
            await self.store.exempt(
                team_id=team_id,
                provider=ask.provider,
                subject=ask.user_id,
                until=until,
                reason=reason or "kept",
                by=user_id,
            )
            reply = msg.KEPT.format(provider=name, until=msg.day(until))
        else:
            reply = msg.RELEASED.format(provider=name)
            for hook in self.released_hooks:
                reply = await hook(ask) or reply
        await self._confirm(ask, reply)
        await self.update_summary(ask.batch_id)
        return reply

    async def _confirm(self, ask: Ask, reply: str) -> None:
        """Rewrite the ask DM to the answer (its buttons gone): the person's confirmation."""
        client = await self.slack_clients(ask.team_id)
        if client is None or not ask.dm_ts:
            return
        try:
            await client.chat_update(channel=ask.dm_channel, ts=ask.dm_ts, **msg.answered_dm(reply))
        except SlackApiError as error:
            log.warning("confirming answer %s failed: %s", ask.id, error.response.get("error"))

    # --- reminders and *no answer* (the seat_reminders job) -------------------------------------------
    async def remind(self, now: datetime | None = None) -> dict[str, int]:
        """Remind who has not answered (default after 3 and 7 days), then mark *no answer*."""
        now = now or self.clock()
        counts = {"reminded": 0, "no_answer": 0}
        policies: dict[str, Policy] = {}
        for ask in await self.store.unanswered(now):
            policy = policies.get(ask.team_id) or await self.store.policy(ask.team_id)
            policies[ask.team_id] = policy
            age = now - ask.asked_at
            due = reminder_due(ask.reminders, age, policy)
            if due == NO_ANSWER:
                if await self.store.answer(ask.id, NO_ANSWER):
                    counts["no_answer"] += 1
                    await self.store.record(
                        ask.team_id, QUOLUM, "no_answer", provider=ask.provider, subject=subject(ask.seat)
                    )
                    await self.update_summary(ask.batch_id)
            elif due and await self.store.remind(ask.id, ask.reminders):
                counts["reminded"] += 1
                await self.store.record(
                    ask.team_id,
                    QUOLUM,
                    "remind",
                    provider=ask.provider,
                    subject=subject(ask.seat),
                    detail=f"reminder {due}",
                )
                await self._remind_one(ask, due)
        return counts

    async def _remind_one(self, ask: Ask, number: int) -> None:
        views = {c.connection_id: c for c in await self.seats.overview(ask.team_id, ask.provider)}
        view = views.get(ask.connection_id)
        if view is None:
            return
        row = next((r for r in view.rows if r.user_id == ask.user_id), None) or SeatRow.of(ask.seat)
        await self._post_ask(await self.slack_clients(ask.team_id), ask, view, row, reminder=number)


def reminder_due(sent: int, age: timedelta, policy: Policy) -> int | str | None:
    """What an unanswered ask is due: reminder number n (1-based), NO_ANSWER, or None (pure)."""
    days = policy.reminder_days
    if sent < len(days) and age >= timedelta(days=days[sent]):
        return sent + 1
    if sent >= len(days) and age >= timedelta(days=policy.no_answer_days):
        return NO_ANSWER
    return None
