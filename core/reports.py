"""The usage report every provider produces: typed, and readable without knowing the provider.

A provider's `collect` hook fills a `UsageReport`; the digest, `usage collect` and the snapshots
read it. Nothing in it needs the provider to be understood: seats are counted the same way for
everyone, and every other figure is a `Figure` that carries its own label and kind, so a renderer
formats it generically (`Figure.value_text()`). The provider decides which figures a short summary
shows (`highlights`: labelled fields; `summary`: the one activity line) and what "active" means.

Encoding is exact both ways: `report.to_json()` is plain JSON-able data and
`UsageReport.from_json(data)` gives back an equal report (msgspec does both, and checks types on
the way in: a wrong shape raises `msgspec.ValidationError`).

`UsageReport.to_json()`
-----------------------
::

    {
      "team_id": "T0123",                      # the Slack workspace
      "provider": "hubspot",                   # the provider's key (which one never matters to renderers)
      "account": {"id": "101", "name": "portal101.example.com"},
      "period": {"start": "2026-05-01", "end": "2026-05-31", "timezone": "US/Eastern"},
      "seats": {
        "total_users": 200,                    # every user (HubSpot: users in Settings; SendGrid: teammates)
        "paid_seats": 121,                     # users holding a paid seat
        "active_users": 150,                   # users active in the period; null when the provider
        "active_paid_users": 97,               #   cannot tell (SendGrid), likewise
        "inactive_paid_users": [               # idle paid seats, as people, least recently active first
          {"user_id": "7000035",               #   the provider's id of the user
           "name": "Ada Ng" | null, "email": "ada.ng5@example.com" | null,
           "last_active": "2026-03-02T14:03:11Z" | null,           # last activity we know of
           "seat_type": "Sales Hub Professional" | null,
           "team": {"id": "501", "name": "Sales"} | null,          # the user's primary team
           "admin": false}                                         # a provider admin: never reclaimed
        ],
        "seat_types": {"Sales Hub Professional": 60, ...},         # seat type -> holders
        "teams": [                             # paid seats by primary team, most idle first, users in no
          {"team": {"id": "501", "name": "Sales"} | null,          #   team (team null) last;
           "paid_seats": 40, "active_paid_users": 31, "inactive_paid_users": 9}
        ] | null,                              #   null: teams unknown (not granted, or no such thing)
        "noun": "users",                       # what the provider's seats are called ("teammates")
        "active_means": "signed in, or created or changed a CRM record"   # "" when unknown
      },
      "activity": [Figure, ...],               # every figure measured in the period, in the provider's order
      "capacity": [Figure, ...],               # plan capacity (e.g. email credits), [] when none
      "highlights": [Figure, ...],             # what a short summary shows as labelled fields
      "summary": [Figure, ...],                # what a short summary shows on its activity line
      "per_user": {"7000007": {"contacts_created": 12, "logins": 9}},   # activity keys per user, where
                                               #   the provider attributes them; no zero counts
      "signals": {
        "used": ["logins", "crm_activity"],    # what was read / what "active" was based on
        "unavailable": [{"signal": "logins", "reason": "..."}]   # a sentence for people
      },
      "details": {"account_type": "paid", "reputation": 99.1},  # provider extras, shown nowhere (may be {})
      "collected_at": "2026-06-01T09:00:00Z"
    }

A Figure::

    {"key": "contacts_created",                # stable, for machines (per_user uses the same keys)
     "label": "Contacts created",              # for people
     "value": 12 | 0.981 | null,               # null: could not be read (signals.unavailable says why)
     "kind": "count" | "share",                # count: a whole number; share: a fraction 0..1 (a rate)
     "of": 100000 | null,                      # out of how many: "1,200 of 100,000"
     "note": "resets 2026-06-01" | null}       # said after the value, in brackets
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from core.periods import Period

COUNT = "count"
SHARE = "share"
NO_VALUE = "—"


class Figure(msgspec.Struct, frozen=True, omit_defaults=False):
    """One labelled value (see the module docstring)."""

    key: str
    label: str
    value: int | float | None
    kind: str = COUNT
    of: int | None = None
    note: str | None = None

    def value_text(self) -> str:
        """The value as people read it: "1,200", "98.0%", "1,200 of 100,000", "—" when unknown."""
        if self.value is None:
            return NO_VALUE
        text = f"{self.value * 100:.1f}%" if self.kind == SHARE else f"{self.value:,}"
        return text + (f" of {self.of:,}" if self.of is not None else "")

    def text(self) -> str:
        """The value with its note: "98,800 (resets 2026-06-01)"."""
        return self.value_text() + (f" ({self.note})" if self.note else "")


class Account(msgspec.Struct, frozen=True):
    id: str
    name: str


class Team(msgspec.Struct, frozen=True):
    id: str
    name: str


class InactiveSeat(msgspec.Struct, frozen=True):
    """A paid seat nobody used in the period, as the person holding it."""

    user_id: str  # the provider's id of the user
    email: str | None
    last_active: datetime | None  # aware; None when unknown
    team: Team | None = None  # the user's primary team, when teams could be read
    name: str | None = None
    seat_type: str | None = None
    admin: bool = False  # an admin of the provider's account: never reclaimed


class TeamSeats(msgspec.Struct, frozen=True):
    """Paid seats of one team (`team` None: users in no team)."""

    team: Team | None
    paid_seats: int
    active_paid_users: int
    inactive_paid_users: int


class Seats(msgspec.Struct, frozen=True):
    total_users: int
    paid_seats: int
    active_users: int | None  # None: the provider has no per-user activity
    active_paid_users: int | None
    inactive_paid_users: tuple[InactiveSeat, ...] = ()
    seat_types: dict[str, int] = {}
    teams: tuple[TeamSeats, ...] | None = None  # None: teams unknown (not granted, or no such thing)
    noun: str = "users"  # what the provider calls its seats' holders
    active_means: str = ""  # what "active" was judged by, for people; "" when activity is unknown

    @property
    def utilisation(self) -> float | None:
        """Active paid seats / paid seats; None when activity is unknown or nothing is paid."""
        if self.active_paid_users is None or not self.paid_seats:
            return None
        return self.active_paid_users / self.paid_seats

    @property
    def idle(self) -> int:
        """Paid seats nobody used in the period."""
        if self.active_paid_users is not None:
            return max(0, self.paid_seats - self.active_paid_users)
        return len(self.inactive_paid_users)


class Unavailable(msgspec.Struct, frozen=True):
    signal: str
    reason: str  # a sentence for people


class Signals(msgspec.Struct, frozen=True):
    used: tuple[str, ...] = ()
    unavailable: tuple[Unavailable, ...] = ()


class UsageReport(msgspec.Struct, frozen=True, weakref=True):  # weakref: tests check none is kept
    """One connection's usage over one period. Its dicts are the report's own: treat them as read-only."""

    team_id: str
    provider: str
    account: Account
    period: Period
    seats: Seats
    activity: tuple[Figure, ...]
    signals: Signals
    collected_at: datetime
    capacity: tuple[Figure, ...] = ()
    highlights: tuple[Figure, ...] = ()
    summary: tuple[Figure, ...] = ()
    per_user: dict[str, dict[str, int]] = {}
    details: dict[str, Any] = {}

    def values(self) -> dict[str, int | float | None]:
        """Activity key -> value (None: unavailable), in the report's order."""
        return {figure.key: figure.value for figure in self.activity}

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able data; the shape is documented in this module's docstring."""
        return msgspec.json.decode(self.encode())

    def encode(self) -> bytes:
        return msgspec.json.encode(self)

    @classmethod
    def from_json(cls, data: Any) -> UsageReport:
        """The report `to_json()` gave (or its JSON text): msgspec.ValidationError when it is not one."""
        if isinstance(data, bytes | str):
            return msgspec.json.decode(data, type=cls)
        return msgspec.convert(data, cls)
