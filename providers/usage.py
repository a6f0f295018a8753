"""The pure rules providers share when they fill a report (`core.reports.UsageReport`, whose
docstring documents the report's JSON shape; periods are `core.periods`).

Nothing here does I/O: `providers/hubspot/usage.py` and `providers/sendgrid/usage.py` fill a
`UsageReport`; digests, storage and `usage collect` read it without knowing the provider.

Rules
-----
- `is_paid(user, billing_roles)`: a user holds a paid seat if the provider lists a seat for them
  (HubSpot's `seatNames`) or one of their roles requires billing (`requiresBillingWrite`).
- `is_active(logins, crm_actions)`: active if the user logged in successfully in the period
  (signal ``"logins"``; only when login history could be read) or did at least one action
  attributed to them (signal ``"crm_activity"``). `logins=None` means "unknown": actions only.
- `rate(n, d)`: n / d, or None when d is 0.
- `inactive_order(seat)`: never-seen first, then least recently active, then by email.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.reports import InactiveSeat

Clock = Callable[[], datetime]  # returns an aware datetime (core.clock.utcnow, FrozenClock)

SIGNAL_LOGINS = "logins"
SIGNAL_CRM = "crm_activity"


@dataclass(frozen=True)
class SeatUser:
    """A provider user as the seat rules see it."""

    user_id: str
    email: str | None
    seat_names: tuple[str, ...] = ()
    role_ids: tuple[str, ...] = ()
    team_id: str | None = None  # HubSpot: the user's primary team
    name: str | None = None
    admin: bool = False  # an admin of the provider's account (HubSpot: a super admin)


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


def inactive_order(seat: InactiveSeat) -> tuple[int, float, str]:
    """Never-seen first, then least recently active; then by email for a stable order."""
    seen = seat.last_active.timestamp() if seat.last_active else float("-inf")
    return (0 if seat.last_active is None else 1, seen, seat.email or seat.user_id)


def seat_counts(names: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))
