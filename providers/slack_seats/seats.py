"""Who holds a Slack seat, who is idle, and what a guest costs: pure functions, no I/O.

Slack's Fair Billing policy bills a member while they are active; `team.billableInfo` says who is
billed now (`billing_active`). Kinds, from `users.list`:

- bots (`is_bot`, and Slackbot `USLACKBOT`) are never billed;
- deactivated members (`deleted`) are not billed (one still billed is a finding: `still_billed`);
- multi-channel guests (`is_restricted`) are billed like members;
- single-channel guests (`is_ultra_restricted`) are mostly free (Slack gives five per paid member).

Without the admin's token (no `team.billableInfo`), `billed` answers by kind: members and
multi-channel guests are the seats Slack would bill while they are active.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from providers.slack_seats.pages import Member

BOT, DEACTIVATED, MEMBER = "bot", "deactivated", "member"
MULTI_GUEST, SINGLE_GUEST = "multi_channel_guest", "single_channel_guest"
KIND_NAMES = {
    MEMBER: "Member",
    MULTI_GUEST: "Multi-channel guest",
    SINGLE_GUEST: "Single-channel guest",
}
BILLED_KINDS = frozenset({MEMBER, MULTI_GUEST})
SLACKBOT = "USLACKBOT"


def kind(user: Member) -> str:
    """What a `users.list` member is (see the module docstring); `deleted` wins over the rest."""
    if user.is_bot or user.id == SLACKBOT or user.is_app_user:
        return BOT
    if user.deleted:
        return DEACTIVATED
    if user.is_ultra_restricted:
        return SINGLE_GUEST
    if user.is_restricted:
        return MULTI_GUEST
    return MEMBER


def billed(user_kind: str, billing_active: bool | None) -> bool:
    """Slack bills this seat: Slack's `billing_active` where known, else by kind."""
    if user_kind == BOT:
        return False
    if billing_active is not None:
        return billing_active
    return user_kind in BILLED_KINDS


def still_billed(user_kind: str, billing_active: bool | None) -> bool:
    """A deactivated member Slack still bills (should never be)."""
    return user_kind == DEACTIVATED and billing_active is True


def is_admin(user: Member) -> bool:
    """An owner or admin of the workspace (or of its Grid org): never reclaimed."""
    grid = user.enterprise_user
    return bool(
        user.is_admin
        or user.is_owner
        or user.is_primary_owner
        or (grid is not None and (grid.is_admin or grid.is_owner))
    )


def last_access(date_last: Any) -> datetime | None:
    """An access log's `date_last` (Unix seconds), aware; None when absent or unreadable."""
    try:
        seconds = int(date_last)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(seconds, UTC) if seconds > 0 else None


def idle(is_billed: bool, last: datetime | None, since: datetime, *, activity_known: bool) -> bool:
    """A billed seat with no access since the period began. Never idle when the activity could not
    be read (no admin token, a free plan, the logs' limit reached before the period's start)."""
    if not is_billed or not activity_known:
        return False
    return last is None or last < since
