"""What acting on one idle seat gives back, whichever provider did it (providers/plugin.py `Hooks.reclaim`).

A provider's `reclaim` / `undo` hook answers with a `SeatResult`: what happened (`SeatOutcome`), one
sentence for the admin, the provider's answer for the audit log (status and error code, never a
credential), what an undo would need, and when the seat really goes (GitHub keeps a cancelled Copilot
seat until the billing cycle ends). Only `DONE` counts as saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from core.money import DEFAULT_LOCALE
from core.reports import InactiveSeat


class SeatOutcome(StrEnum):
    DONE = "done"  # the provider took the seat back (or gave it back, for an undo)
    GONE = "gone"  # the user or the seat was already gone: nothing changed, nothing saved
    REFUSED = "refused"  # the provider said no (last admin, the account owner…): nothing changed
    MISSING_SCOPE = "missing_scope"  # the connection may not write: offer *Enable reclaiming*
    NOT_SUPPORTED = "not_supported"  # this provider has no such action
    FAILED = "failed"  # it could not be reached or answered 5xx after retries: may be tried again


@dataclass(frozen=True)
class SeatResult:
    outcome: SeatOutcome
    sentence: str  # one sentence for the admin: "Removed Max's Sales Hub seat in HubSpot."
    answer: str = ""  # the provider's answer for the audit: "204", "403 MISSING_SCOPES" (never a secret)
    undo: Mapping[str, str] = field(default_factory=dict)  # what `undo` needs; empty: it cannot be undone
    effective: date | None = None  # when the seat really goes, when that is later than now

    @property
    def done(self) -> bool:
        return self.outcome is SeatOutcome.DONE


def not_supported(provider: str) -> SeatResult:
    return SeatResult(SeatOutcome.NOT_SUPPORTED, f"Quolum cannot give seats back in {provider}.")


# --- asking and the workspace's rules ----------------------------------------------------------------
KEEP, RELEASE, NO_ANSWER = "keep", "release", "none"  # a person's answer (none: never answered)
ALL_PROVIDERS = ""  # an exemption or link for every provider


@dataclass(frozen=True)
class Policy:
    cooldown_days: int = 30
    reminder_days: tuple[int, ...] = (3, 7)
    keep_days: int = 90
    reclaim_on_release: frozenset[int] = frozenset()  # connection ids

    @property
    def no_answer_days(self) -> int:
        """After the last reminder, this many days more without an answer: *no answer*."""
        last = self.reminder_days[-1] if self.reminder_days else 0
        return last + 3


# --- what the seats view shows (built by services/seats.py, drawn by messages/seats.py) -------------
ASKABLE, PROTECTED, EXEMPT = "askable", "protected", "exempt"


@dataclass(frozen=True)
class SeatRow:
    """One idle seat as an admin reviews it."""

    user_id: str  # the provider's id of the person
    name: str
    email: str | None
    seat_type: str | None
    last_active: datetime | None
    slack_user: str | None  # the Slack member it matches (email, or a `/quolum seats link`)
    monthly_minor: int | None  # what the seat costs a month, when a price is set
    currency: str | None
    status: str  # mrkdwn (messages.seats.status): "asked <date>", "kept until 5 Mar: <reason>", "released", "reclaimed"…
    blocked: str | None = None  # plain text: why it may be neither asked about nor reclaimed
    locale: str = (
        DEFAULT_LOCALE  # how its price is written (the workspace's, `quolum-bot contracts settings`)
    )

    @classmethod
    def of(cls, seat: InactiveSeat) -> SeatRow:
        """A seat as the report named it, before Slack, prices and history are known."""
        name = seat.name or seat.user_id
        return cls(seat.user_id, name, seat.email, seat.seat_type, seat.last_active, None, None, None, "")


@dataclass(frozen=True)
class ConnectionSeats:
    """One connection's idle seats, and what reclaiming can do there."""

    connection_id: int
    provider: str  # the display name
    account: str
    rows: tuple[SeatRow, ...]
    reclaim_verb: str | None  # None: the provider has no seat action
    reclaim_note: str = ""
    can_write: bool = False  # the connection has the write scopes
    saves_cost: bool = True
    idle_unknown: str | None = None  # a sentence when the provider cannot tell who is idle
    reclaim_on_release: bool = False


@dataclass(frozen=True)
class Savings:
    """The savings ledger of a workspace: seats reclaimed (not undone) since the first."""

    seats: int  # seats reclaimed that save money
    yearly_minor: dict[str, int]  # currency -> yearly saving of the priced ones
    since: datetime | None
    unpriced: int  # reclaimed seats without a price (counted, not valued)
    locale: str = DEFAULT_LOCALE  # how the amounts are written (the workspace's)


@dataclass(frozen=True)
class DigestSeats:
    """What the digest says about acting on seats: the ledger, and seats their holders chose to keep."""

    savings: Savings | None = None
    kept: Mapping[tuple[str, str], datetime] = field(default_factory=dict)  # (provider, user id) -> until
