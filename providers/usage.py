"""The normalised usage report every provider produces, the period it covers, and the pure rules behind it.

Nothing here does I/O: `providers/hubspot/usage.py` and `providers/sendgrid/usage.py` fill a
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
           "last_active": "2026-03-02T14:03:11+00:00" | null,   # last successful login we know of
           "team": {"id": "501", "name": "Sales"} | null}       # HubSpot: the user's primary team
        ],
        "seat_types": {"Sales Hub Professional": 60, ...},     # HubSpot: seat name -> holders;
                                                               # SendGrid: user_type -> teammates
        "teams": [                             # HubSpot with settings.users.teams.read, else null:
          {"team": {"id": "501", "name": "Sales"} | null,      #   paid seats by primary team
           "paid_seats": 40, "active_paid_users": 31, "inactive_paid_users": 9}
        ] | null                               #   (team null: users in no team), by inactive seats
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

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# periods live in providers/periods.py; re-exported here, where reports and their periods travel together
from providers.periods import MAX_PERIOD_DAYS as MAX_PERIOD_DAYS
from providers.periods import Period as Period
from providers.periods import parse_period as parse_period
from providers.periods import today_in as today_in
from providers.periods import zone as zone

Clock = Callable[[], datetime]  # returns an aware datetime (core.clock.utcnow, FrozenClock)


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
    team_id: str | None = None  # HubSpot: the user's primary team


@dataclass(frozen=True)
class Team:
    id: str
    name: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class InactiveSeat:
    user_id: str
    email: str | None
    last_active: datetime | None  # aware; None when unknown
    team: Team | None = None  # the user's primary team, when teams could be read

    def to_json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "email": self.email,
            "last_active": self.last_active.isoformat() if self.last_active else None,
            "team": self.team.to_json() if self.team else None,
        }


@dataclass(frozen=True)
class TeamSeats:
    """Paid seats of one team (`team` None: users in no team)."""

    team: Team | None
    paid_seats: int
    active_paid_users: int
    inactive_paid_users: int

    def to_json(self) -> dict[str, Any]:
        return {
            "team": self.team.to_json() if self.team else None,
            "paid_seats": self.paid_seats,
            "active_paid_users": self.active_paid_users,
            "inactive_paid_users": self.inactive_paid_users,
        }


@dataclass(frozen=True)
class Seats:
    total_users: int
    paid_seats: int
    active_users: int | None  # None: the provider has no per-user activity
    active_paid_users: int | None
    inactive_paid_users: tuple[InactiveSeat, ...] = ()
    seat_types: Mapping[str, int] = field(default_factory=dict)
    teams: tuple[TeamSeats, ...] | None = None  # None: teams unknown (not granted, or no such thing)

    def to_json(self) -> dict[str, Any]:
        return {
            "total_users": self.total_users,
            "paid_seats": self.paid_seats,
            "active_users": self.active_users,
            "active_paid_users": self.active_paid_users,
            "inactive_paid_users": [seat.to_json() for seat in self.inactive_paid_users],
            "seat_types": dict(self.seat_types),
            "teams": None if self.teams is None else [team.to_json() for team in self.teams],
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
