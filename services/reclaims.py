"""Reclaiming idle seats through the providers, undoing it, and the savings ledger (issue 23).

A reclaim is requested once per seat and round (storage/seats.py): a second click, a retry or another
replica gets the same row back. Only the replica whose claim moved the row from `pending` to `running`
calls the provider's `reclaim` hook, and only it records the answer (its claim is the fence). A seat
is never reclaimed when it is protected (the provider's admins, whoever connected the account), on the
exempt list, or when the connection lacks the write scopes — then one sentence offers *Enable
reclaiming* and nothing changes. Only a `done` answer counts as saved, at the price set when it was
reclaimed; an undo (within the provider's window) takes it out of the ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import NamedTuple

from core.reports import InactiveSeat
from core.seats import ConnectionSeats, DigestSeats, Savings, SeatOutcome, SeatResult, SeatRow
from messages import seats as msg
from providers.http import ProviderError
from services.seats import SeatsService, subject
from storage.connections import ConnectionRecord
from storage.seats import RUNNING, Ask

log = logging.getLogger("quolum.reclaims")

NEEDS_WRITE = (
    "Quolum may only read {provider} so far: nothing was changed. Click *Enable reclaiming* to give it "
    "permission to {verb}."
)
NOT_SUPPORTED = "Quolum cannot give {provider} seats back: nothing was changed."
ALREADY = "{name}: {state} already."
BUSY = "{name}: being reclaimed by another request."
NOT_RECLAIMED = "{name}: not reclaimed, {why}."
UNDO_GONE = "This reclaim can no longer be undone."
UNDO_LATE = "Undo is possible for {days} days after reclaiming: this one was {when}."
UNDONE = "{name} has the {provider} seat again."
ENABLE_FORM = (
    "To let Quolum reclaim {provider} seats, Reconnect with a credential that also has: {scopes}. {how}"
)


class OneReclaim(NamedTuple):
    line: str
    reclaim_id: int | None  # set when the seat is reclaimed, by this request or an earlier one
    fresh: bool = False  # this request's provider call reclaimed it
    busy: bool = False  # another request holds the claim now


@dataclass
class ReclaimRun:
    """What one *Reclaim* did: a sentence per person, and the reclaims that can be undone."""

    lines: list[str] = field(default_factory=list)
    undo: list[tuple[int, str]] = field(default_factory=list)
    done: int = 0
    busy: int = 0  # people whose reclaim another submit is running now

    @property
    def nothing_new(self) -> bool:
        """Every chosen seat is being reclaimed by another submit, which will show the outcome itself."""
        return bool(self.lines) and self.busy == len(self.lines)


class ReclaimsService:
    def __init__(self, *, seats: SeatsService, credentials, replica: str) -> None:
        self.seats = seats
        self.storage = seats.storage
        self.store = seats.store
        self.providers = seats.providers
        self.registry = seats.registry
        self.credentials = credentials  # auth for the hooks (refreshes OAuth tokens)
        self.clock = seats.clock
        self.replica = replica

    async def plan(
        self, team_id: str, connection_id: int, user_ids: Iterable[str]
    ) -> tuple[ConnectionSeats, list[SeatRow]] | str:
        """The connection's view and the chosen, reclaimable rows; or the one sentence why not."""
        views = {v.connection_id: v for v in await self.seats.overview(team_id)}
        view = views.get(connection_id)
        if view is None:
            return msg.NO_SUCH_CONNECTION
        if view.reclaim_verb is None:
            return NOT_SUPPORTED.format(provider=msg.esc(view.provider))
        if not view.can_write:
            return NEEDS_WRITE.format(provider=msg.esc(view.provider), verb=view.reclaim_verb.lower())
        chosen = set(user_ids)
        rows = [r for r in view.rows if r.user_id in chosen and not r.blocked]
        return (view, rows) if rows else msg.PICK_FIRST

    async def reclaim(
        self, team_id: str, admin: str, connection_id: int, user_ids: Iterable[str]
    ) -> ReclaimRun:
        run = ReclaimRun()
        planned = await self.plan(team_id, connection_id, user_ids)
        if isinstance(planned, str):
            run.lines.append(planned)
            return run
        view, rows = planned
        wanted = {r.user_id for r in rows}
        skipped = [u for u in user_ids if u not in wanted]
        for user_id in skipped:
            row = next((r for r in view.rows if r.user_id == user_id), None)
            if row is not None and row.blocked:
                run.lines.append(NOT_RECLAIMED.format(name=msg.esc(row.name), why=row.blocked))
        for row in rows:
            found = await self.seats.seat(team_id, connection_id, row.user_id)
            if found is None:
                run.lines.append(msg.NOT_IDLE.format(user=msg.esc(row.user_id)))
                continue
            connection, seat = found
            one = await self.reclaim_one(connection, seat, admin, row)
            run.lines.append(one.line)
            run.done += one.fresh
            run.busy += one.busy
            if one.reclaim_id is not None and self.registry[connection.provider].reclaim.undo_days:
                run.undo.append((one.reclaim_id, row.name))
        return run

    async def reclaim_one(
        self, connection: ConnectionRecord, seat: InactiveSeat, actor: str, row: SeatRow
    ) -> OneReclaim:
        """Reclaim one seat once: the sentence, and the reclaim's id when the seat is reclaimed (now or before)."""
        spec = self.registry[connection.provider]
        name = msg.esc(row.name)
        reclaim, created = await self.store.request_reclaim(
            team_id=connection.team_id,
            connection_id=connection.id,
            provider=connection.provider,
            seat=seat,
            requested_by=actor,
            monthly_minor=row.monthly_minor,
            currency=row.currency,
            saves=spec.reclaim.saves_cost,
        )
        if not await self.store.start(reclaim.id, self.replica):  # someone else holds (or held) it
            current = await self.store.get_reclaim(reclaim.id)
            if current.state == RUNNING:
                return OneReclaim(BUSY.format(name=name), None, busy=True)
            already = ALREADY.format(
                name=name, state=msg.status(None, current, None, self.clock()) or current.state
            )
            # a second submit that finds the seat reclaimed still offers its Undo: whichever answer
            # Slack shows last, the admin can take the seat back
            return OneReclaim(already, current.id if current.state == SeatOutcome.DONE.value else None)
        hooks = self.providers(connection.provider)
        try:
            result = await hooks.reclaim(
                self.seats.view_of(connection), self.credentials.auth(connection.id), seat
            )
        except ProviderError as error:
            failure = hooks.classify(error, "api")
            result = SeatResult(
                SeatOutcome.FAILED,
                f"{spec.display_name} did not answer as expected: {failure.reason}.",
                type(error).__name__,
            )
        except Exception:  # noqa: BLE001 - a bug of ours must not leave the claim running
            log.exception("reclaiming a %s seat failed on Quolum's side", connection.provider)
            result = SeatResult(
                SeatOutcome.FAILED,
                "Quolum failed before it could ask the provider; nothing was saved.",
                "error",
            )
        await self.store.finish(reclaim.id, self.replica, result)
        action = "reclaim" if result.done else f"reclaim_{result.outcome.value}"
        await self.store.record(
            connection.team_id,
            actor,
            action,
            provider=connection.provider,
            subject=subject(seat),
            detail=result.answer or None,
        )
        sentence = msg.esc(result.sentence)
        if result.outcome is SeatOutcome.MISSING_SCOPE:
            sentence += " " + NEEDS_WRITE.format(
                provider=msg.esc(spec.display_name), verb=spec.reclaim.verb.lower()
            )
        return OneReclaim(sentence, reclaim.id if result.done else None, fresh=result.done)

    async def on_release(self, ask: Ask) -> str | None:
        """A person released their seat: reclaim it at once where the admins turned that on."""
        policy = await self.store.policy(ask.team_id)
        if ask.connection_id not in policy.reclaim_on_release:
            return None
        connection = await self.storage.connections.by_id(ask.connection_id)
        spec = self.registry.get(ask.provider)
        if connection is None or spec is None or spec.reclaim is None:
            return None
        if not set(spec.reclaim.write_scope_names) <= set(connection.scopes):
            return None  # queued: the admins see *released* and the sentence offering Enable reclaiming
        prices = await self.storage.digests.prices(ask.team_id)
        price = prices.get(ask.provider)
        row = replace(
            SeatRow.of(ask.seat),
            monthly_minor=price.amount_minor if price else None,
            currency=price.currency if price else None,
            locale=(await self.storage.contracts.settings(ask.team_id)).locale,
        )
        one = await self.reclaim_one(connection, ask.seat, ask.slack_user_id, row)
        return f"Thanks: {one.line}"

    async def undo(self, team_id: str, admin: str, reclaim_id: int) -> str:
        reclaim = await self.store.get_reclaim(reclaim_id)
        if reclaim is None or reclaim.team_id != team_id or reclaim.state != SeatOutcome.DONE.value:
            return UNDO_GONE
        spec = self.registry.get(reclaim.provider)
        days = spec.reclaim.undo_days if spec and spec.reclaim else 0
        if not days or not reclaim.undo:
            return UNDO_GONE
        if reclaim.done_at and self.clock() - reclaim.done_at > timedelta(days=days):
            return UNDO_LATE.format(days=days, when=msg.day(reclaim.done_at))
        connection = await self.storage.connections.by_id(reclaim.connection_id)
        if connection is None or not await self.store.start(
            reclaim.id, self.replica, from_state=SeatOutcome.DONE.value
        ):
            return UNDO_GONE
        hooks = self.providers(reclaim.provider)
        try:
            result = await hooks.undo(
                self.seats.view_of(connection),
                self.credentials.auth(connection.id),
                reclaim.seat,
                reclaim.undo,
            )
        except ProviderError as error:
            result = SeatResult(SeatOutcome.FAILED, hooks.classify(error, "api").reason, type(error).__name__)
        await self.store.finish_undo(reclaim.id, self.replica, result, admin)
        await self.store.record(
            team_id,
            admin,
            "undo" if result.done else f"undo_{result.outcome.value}",
            provider=reclaim.provider,
            subject=subject(reclaim.seat),
            detail=result.answer or None,
        )
        name = msg.esc(reclaim.seat.name or reclaim.user_id)
        return (
            UNDONE.format(name=name, provider=msg.esc(spec.display_name))
            if result.done
            else msg.esc(result.sentence)
        )

    async def savings(self, team_id: str) -> Savings:
        reclaimed = [r for r in await self.store.reclaimed(team_id) if r.saves]
        yearly: dict[str, int] = {}
        for r in reclaimed:
            if r.monthly_minor is not None and r.currency:
                yearly[r.currency] = yearly.get(r.currency, 0) + r.monthly_minor * 12
        return Savings(
            seats=len(reclaimed),
            yearly_minor=yearly,
            since=reclaimed[0].done_at if reclaimed else None,
            unpriced=sum(1 for r in reclaimed if r.monthly_minor is None),
            locale=(await self.storage.contracts.settings(team_id)).locale,
        )

    async def digest_notes(self, team_id: str) -> DigestSeats:
        """For the digest: the savings ledger, and who chose *Keep* until when."""
        kept = {
            (e.provider, e.subject): e.until
            for e in await self.store.exemptions(team_id)
            if e.until is not None and e.provider
        }
        return DigestSeats(savings=await self.savings(team_id), kept=kept)

    async def home_lines(self, team_id: str, latest: int = 5) -> list[str]:
        """App Home, for admins: the savings line, then the latest entries of the audit log."""
        saved = msg.savings_line(await self.savings(team_id))
        entries = [msg.audit_line(e) for e in await self.store.audit(team_id, limit=latest)]
        return ([saved] if saved else []) + entries

    def enable_form(self, provider: str) -> str:
        """For a credential-form provider: the one sentence saying how to give the write permission."""
        spec = self.registry[provider]
        scopes = ", ".join(f"`{s}`" for s in spec.reclaim.write_scope_names)
        return ENABLE_FORM.format(
            provider=msg.esc(spec.display_name), scopes=scopes, how=msg.esc(spec.reclaim.enable)
        )

    async def audit(self, team_id: str, since=None, limit: int | None = None):
        return await self.store.audit(team_id, since, limit)

    async def exempt(self, team_id: str, admin: str, subject_text: str, provider: str) -> None:
        await self.store.exempt(
            team_id=team_id, provider=provider, subject=subject_text, until=None, reason="exempt", by=admin
        )
        await self.store.record(team_id, admin, "exempt", provider=provider or None, subject=subject_text)

    async def set_on_release(self, team_id: str, admin: str, connection_id: int, on: bool) -> None:
        policy = await self.store.policy(team_id)
        ids = set(policy.reclaim_on_release)
        ids = ids | {connection_id} if on else ids - {connection_id}
        await self.store.set_policy(team_id, replace(policy, reclaim_on_release=frozenset(ids)), admin)
        await self.store.record(
            team_id,
            admin,
            "reclaim_on_release_" + ("on" if on else "off"),
            detail=f"connection {connection_id}",
        )
