"""The normalised usage report every provider produces, the period it covers, and the pure rules behind it.

Nothing here does I/O: `providers/hubspot_usage.py` and `providers/sendgrid_usage.py` fill a
`UsageReport`; digests, storage and the Slack cards read it (or its `to_json()`).

Period
------
`Period(start, end, timezone)`: whole days, both inclusive, in the account's IANA time zone. It
covers the instants [start 00:00 local, end + 1 day 00:00 local) — `start_utc` / `end_utc` (aware,
UTC) and `start_ms` / `end_ms` (epoch milliseconds, end exclusive). A day is not always 24 hours
(DST), and a zone whose clocks jump at midnight starts the day at the first instant that exists.

`parse_period(text, timezone=..., today=...)` accepts, relative to an injected `today` *in that
zone* (use `today_in(timezone, now)`):

- ``last-7-days`` / ``last-30-days`` (any ``last-N-days``, 1 <= N <= 366): the N whole days before
  today; today, still running, is left out, so the figures do not change when asked again;
- ``YYYY-MM-DD..YYYY-MM-DD``: those days, both inclusive (at most 366 days, not ending after today).

Anything else raises ValueError with a sentence to show the person who typed it.

`UsageReport.to_json()`
-----------------------
::

    {
      "team_id": "T0123",                      # the Slack workspace
      "provider": "hubspot" | "sendgrid",
      "account": {"id": "101", "name": "portal101.example.com"},
      "period": {"start": "2026-05-01", "end": "2026-05-31", "timezone": "US/Eastern"},
      "seats": {
        "total_users": 200,                    # HubSpot: users in Settings; SendGrid: teammates
        "paid_seats": 121,                     # users holding a paid seat (see is_paid)
        "active_users": 150,                   # users active in the period (see is_active);
                                               #   null when the provider cannot tell (SendGrid)
        "active_paid_users": 97,               # null likewise
        "inactive_paid_users": [               # paid seats nobody used in the period, least recent first
          {"user_id": "7000035", "email": "ada.ng5@example.com",
           "last_active": "2026-03-02T14:03:11+00:00" | null}   # last successful login we know of
        ],
        "seat_types": {"Sales Hub Professional": 60, ...}      # HubSpot: seat name -> holders;
                                                               # SendGrid: user_type -> teammates
      },
      "activity": {                            # feature -> count in the period; null = unavailable
        # HubSpot: contacts_created, contacts_updated, companies_created, companies_updated,
        #   deals_created, deals_updated, calls_logged, emails_logged, meetings_logged,
        #   notes_logged, tasks_logged, logins
        # SendGrid: requests, delivered, bounces, spam_reports, opens, unique_opens, clicks,
        #   unique_clicks, and the rates (floats 0..1, null when the denominator is 0):
        #   delivered_rate = delivered / requests, bounce_rate = bounces / requests,
        #   open_rate = unique_opens / delivered, click_rate = unique_clicks / delivered,
        #   spam_rate = spam_reports / delivered
      },
      "per_user": {"7000007": {"contacts_created": 12, "logins": 9, ...}},   # HubSpot only; users
                                               #   with no activity are left out, zero counts too
      "capacity": {                            # plan capacity, where the provider exposes it
        "credits": {"used": 1200, "total": 100000, "remaining": 98800, "overage": 0,
                    "last_reset": "2026-05-01", "next_reset": "2026-06-01",
                    "reset_frequency": "monthly"} | null,               # SendGrid
        "teammates_by_type": {"owner": 1, "admin": 2, "teammate": 9} | null  # SendGrid
      },
      "signals": {
        "used": ["logins", "crm_activity"],    # what "active" was based on / what was read
        "unavailable": [{"signal": "logins", "reason": "..."}]   # a sentence for people
      },
      "details": {"account_type": "paid", "reputation": 99.1},  # provider extras (may be {})
      "collected_at": "2026-06-01T09:00:00+00:00"
    }

Rules
-----
- `is_paid(user, billing_roles)`: a user holds a paid seat if HubSpot lists a seat for them
  (`seatNames`) or one of their roles requires billing (`requiresBillingWrite`).
- `is_active(logins, crm_actions)`: active if the user logged in successfully in the period
  (signal ``"logins"``; only when login history could be read) or did at least one CRM action
  attributed to them (signal ``"crm_activity"``). `logins=None` means "unknown": CRM activity only.
- `rate(n, d)`: n / d, or None when d is 0.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Clock = Callable[[], datetime]  # returns an aware datetime (bot.core.clock.utcnow, FrozenClock)

MAX_PERIOD_DAYS = 366
_LAST_N_DAYS = re.compile(r"last-(\d{1,3})-days?")
_RANGE = re.compile(r"(\S+)\s*\.\.\s*(\S+)")

# Feature names, in the order reports list them.
HUBSPOT_FEATURES: tuple[str, ...] = (
    "contacts_created",
    "contacts_updated",
    "companies_created",
    "companies_updated",
    "deals_created",
    "deals_updated",
    "calls_logged",
    "emails_logged",
    "meetings_logged",
    "notes_logged",
    "tasks_logged",
    "logins",
)
SENDGRID_COUNTS: tuple[str, ...] = (
    "requests",
    "delivered",
    "bounces",
    "spam_reports",
    "opens",
    "unique_opens",
    "clicks",
    "unique_clicks",
)
# rate name -> (numerator, denominator)
SENDGRID_RATES: Mapping[str, tuple[str, str]] = {
    "delivered_rate": ("delivered", "requests"),
    "bounce_rate": ("bounces", "requests"),
    "open_rate": ("unique_opens", "delivered"),
    "click_rate": ("unique_clicks", "delivered"),
    "spam_rate": ("spam_reports", "delivered"),
}

SIGNAL_LOGINS = "logins"
SIGNAL_CRM = "crm_activity"


# --------------------------------------------------------------------------- period


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or ValueError with a readable sentence."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"{name!r} is not a time zone I know (use a name like Europe/Paris).") from None


def today_in(timezone: str, now: datetime) -> date:
    """The calendar date in `timezone` at the aware instant `now`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(zone(timezone)).date()


def _midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of `day` in `tz`, in UTC.

    ``fold=0`` on a wall time that does not exist (clocks jumping at midnight) uses the offset
    from before the jump, which lands on the first instant of the day that does exist.
    """
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """Whole days [start, end], both inclusive, in the IANA zone `timezone`."""

    start: date
    end: date
    timezone: str

    def __post_init__(self) -> None:
        zone(self.timezone)
        if self.end < self.start:
            raise ValueError(
                f"The period ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})."
            )

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_utc(self) -> datetime:
        """The first instant of the period (start 00:00 local), aware, in UTC."""
        return _midnight_utc(self.start, self.tz)

    @property
    def end_utc(self) -> datetime:
        """The first instant after the period (end + 1 day, 00:00 local), aware, in UTC."""
        return _midnight_utc(self.end + timedelta(days=1), self.tz)

    @property
    def start_ms(self) -> int:
        return _ms(self.start_utc)

    @property
    def end_ms(self) -> int:
        """Epoch milliseconds of `end_utc`: exclusive."""
        return _ms(self.end_utc)

    def contains(self, instant: datetime) -> bool:
        return self.start_utc <= instant < self.end_utc

    def to_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "timezone": self.timezone}

    @classmethod
    def last_days(cls, days: int, *, timezone: str, today: date) -> Period:
        """The `days` whole days before `today` (today excluded)."""
        if not 1 <= days <= MAX_PERIOD_DAYS:
            raise ValueError(f"A period covers 1 to {MAX_PERIOD_DAYS} days, not {days}.")
        return cls(today - timedelta(days=days), today - timedelta(days=1), timezone)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _parse_day(text: str) -> date:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-05-01.")


def parse_period(text: str, *, timezone: str, today: date) -> Period:
    """``last-7-days``, ``last-30-days`` or ``YYYY-MM-DD..YYYY-MM-DD``, relative to `today` in `timezone`."""
    cleaned = (text or "").strip().lower()
    if not cleaned:
        raise ValueError(
            "Say which period: last-7-days, last-30-days or a range like 2026-05-01..2026-05-31."
        )
    if match := _LAST_N_DAYS.fullmatch(cleaned):
        return Period.last_days(int(match.group(1)), timezone=timezone, today=today)
    if match := _RANGE.fullmatch(cleaned):
        start, end = _parse_day(match.group(1)), _parse_day(match.group(2))
        period = Period(start, end, timezone)
        if end > today:
            raise ValueError(
                f"The period cannot end after today ({today.isoformat()}); it ends {end.isoformat()}."
            )
        if period.days > MAX_PERIOD_DAYS:
            raise ValueError(f"A period covers at most {MAX_PERIOD_DAYS} days; this one has {period.days}.")
        return period
    raise ValueError(
        f"I don't understand the period {text.strip()!r}: use last-7-days, last-30-days "
        "or a range like 2026-05-01..2026-05-31."
    )


# --------------------------------------------------------------------------- report parts


@dataclass(frozen=True)
class Account:
    id: str
    name: str


@dataclass(frozen=True)
class SeatUser:
    """A provider user as the seat rules see it."""

    user_id: str
    email: str | None
    seat_names: tuple[str, ...] = ()
    role_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class InactiveSeat:
    user_id: str
    email: str | None
    last_active: datetime | None  # aware; None when unknown

    def to_json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "email": self.email,
            "last_active": self.last_active.isoformat() if self.last_active else None,
        }


@dataclass(frozen=True)
class Seats:
    total_users: int
    paid_seats: int
    active_users: int | None  # None: the provider has no per-user activity
    active_paid_users: int | None
    inactive_paid_users: tuple[InactiveSeat, ...] = ()
    seat_types: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "total_users": self.total_users,
            "paid_seats": self.paid_seats,
            "active_users": self.active_users,
            "active_paid_users": self.active_paid_users,
            "inactive_paid_users": [seat.to_json() for seat in self.inactive_paid_users],
            "seat_types": dict(self.seat_types),
        }


@dataclass(frozen=True)
class Credits:
    used: int
    total: int
    remaining: int
    overage: int = 0
    last_reset: date | None = None
    next_reset: date | None = None
    reset_frequency: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "used": self.used,
            "total": self.total,
            "remaining": self.remaining,
            "overage": self.overage,
            "last_reset": self.last_reset.isoformat() if self.last_reset else None,
            "next_reset": self.next_reset.isoformat() if self.next_reset else None,
            "reset_frequency": self.reset_frequency,
        }


@dataclass(frozen=True)
class Capacity:
    credits: Credits | None = None
    teammates_by_type: Mapping[str, int] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "credits": self.credits.to_json() if self.credits else None,
            "teammates_by_type": dict(self.teammates_by_type) if self.teammates_by_type is not None else None,
        }


@dataclass(frozen=True)
class Unavailable:
    signal: str
    reason: str  # a sentence for people


@dataclass(frozen=True)
class Signals:
    used: tuple[str, ...] = ()
    unavailable: tuple[Unavailable, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "used": list(self.used),
            "unavailable": [{"signal": u.signal, "reason": u.reason} for u in self.unavailable],
        }


Number = int | float | None


@dataclass(frozen=True)
class UsageReport:
    """One connection's usage over one period. Mappings are the report's own: treat them as read-only."""

    team_id: str
    provider: str
    account: Account
    period: Period
    seats: Seats
    activity: Mapping[str, Number]
    signals: Signals
    collected_at: datetime
    per_user: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    capacity: Capacity = field(default_factory=Capacity)
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able dict; the shape is documented in this module's docstring."""
        return {
            "team_id": self.team_id,
            "provider": self.provider,
            "account": {"id": self.account.id, "name": self.account.name},
            "period": self.period.to_json(),
            "seats": self.seats.to_json(),
            "activity": dict(self.activity),
            "per_user": {user: dict(counts) for user, counts in self.per_user.items()},
            "capacity": self.capacity.to_json(),
            "signals": self.signals.to_json(),
            "details": dict(self.details),
            "collected_at": self.collected_at.isoformat(),
        }


# --------------------------------------------------------------------------- decisions


def is_paid(user: SeatUser, billing_roles: Collection[str] = ()) -> bool:
    """A paid seat: a seat is assigned (`seatNames`) or a role requires billing (`requiresBillingWrite`)."""
    return bool(user.seat_names) or any(role in billing_roles for role in user.role_ids)


def is_active(logins: int | None, crm_actions: int) -> tuple[bool, str | None]:
    """(active?, the signal that decided). `logins=None`: login history unavailable."""
    if logins:
        return True, SIGNAL_LOGINS
    if crm_actions > 0:
        return True, SIGNAL_CRM
    return False, None


def rate(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    return numerator / denominator if denominator > 0 else None


def sendgrid_rates(totals: Mapping[str, int]) -> dict[str, float | None]:
    return {name: rate(totals.get(n, 0), totals.get(d, 0)) for name, (n, d) in SENDGRID_RATES.items()}


def inactive_order(seat: InactiveSeat) -> tuple[int, float, str]:
    """Never-seen first, then least recently active; then by email for a stable order."""
    seen = seat.last_active.timestamp() if seat.last_active else float("-inf")
    return (0 if seat.last_active is None else 1, seen, seat.email or seat.user_id)


def seat_counts(names: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))
