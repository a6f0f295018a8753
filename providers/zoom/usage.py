"""Zoom licences and who used them, for one account and one period, as a `UsageReport`.

One listing, ``GET /v2/users?status=active&page_size=300`` (Medium category, `user:read:admin`),
followed by ``next_page_token`` until Zoom answers "" (tokens last 15 minutes: the listing runs
straight through). Each user has a `type` (1 Basic, 2 Licensed, 4 Unassigned without Meetings Basic,
99 None), a `role_id` ("0" Owner, "1" Admin) and `last_login_time`, absent for one who never signed in.

- Paid seats: licensed users (type 2). Purchased licences that nobody holds are not counted: Zoom
  shows them only to master accounts (`GET /v2/accounts/{id}/plans/usage`, `billing:master`).
- Active licensed: signed in since the period began (`last_login_time` ≥ its first instant). Zoom
  keeps only the latest sign-in, so a user who signed in during the period and again after it still
  counts as active.
- Idle licensed seats: every other licensed user (never signed in, or last before the period), as
  `InactiveSeat`s, owners and admins flagged `admin`.
- Meetings, when the app may read the active-hosts report (hosts.py, read alongside the listing): the
  licensed users who hosted meetings in the period, the meetings and their minutes; otherwise the
  report's signal is unavailable, with the reason.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

import msgspec

from core.periods import Period
from core.reports import Account, Figure, InactiveSeat, Seats, Signals, Unavailable, UsageReport
from providers.collect import run_all
from providers.http import Auth, ProviderHTTP
from providers.pagination import CursorGuard
from providers.usage import Clock, inactive_order
from providers.zoom.hosts import SIGNAL, Hosts, active_hosts

PROVIDER = "zoom"
PAGE_SIZE = 300
BASIC, LICENSED, UNASSIGNED, NONE = 1, 2, 4, 99
TYPE_NAMES = {BASIC: "Basic", LICENSED: "Licensed", UNASSIGNED: "Unassigned", NONE: "None"}
ADMIN_ROLES = frozenset({"0", "1"})  # Owner, Admin
MEDIUM = "medium"  # the entry's rate-limit bucket for listings


def parse_time(value: Any) -> datetime | None:
    """Zoom's ``2026-05-31T09:00:00Z``, aware; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


class User(msgspec.Struct, gc=False):
    """A listed user, as much as Quolum reads of it. The fields are `Any` (as the dicts were: a value
    of an unexpected type is read as before), but for the sign-in, which msgspec reads as RFC 3339 in
    C; a page with a sign-in it cannot read is read by `_lenient` instead (`parse_time`)."""

    id: Any = None
    email: Any = None
    first_name: Any = None
    last_name: Any = None
    display_name: Any = None
    type: Any = None
    role_id: Any = None
    last_login_time: datetime | None = None  # naive: unreadable, as parse_time says (`signed_in`)


class UsersPage(msgspec.Struct, gc=False):
    users: list[User] | None = None
    next_page_token: Any = None


USERS_PAGE = msgspec.json.Decoder(UsersPage)


def _lenient(body: Any) -> UsersPage:
    """A page as the listing read it before the typed decoder: not an object -> empty, items that are
    not objects left out, the sign-in through `parse_time`."""
    body = body if isinstance(body, dict) else {}
    users = [
        User(
            id=u.get("id"),
            email=u.get("email"),
            first_name=u.get("first_name"),
            last_name=u.get("last_name"),
            display_name=u.get("display_name"),
            type=u.get("type"),
            role_id=u.get("role_id"),
            last_login_time=parse_time(u.get("last_login_time")),
        )
        for u in body.get("users") or []
        if isinstance(u, dict)
    ]
    return UsersPage(users, body.get("next_page_token"))


def signed_in(user: User) -> datetime | None:
    """The user's last sign-in, aware; None when absent (or without a time zone, as parse_time)."""
    moment = user.last_login_time
    return moment if moment is not None and moment.tzinfo is not None else None


def _name(user: User) -> str | None:
    name = f"{str(user.first_name or '').strip()} {str(user.last_name or '').strip()}".strip()
    return name or user.display_name or None


async def list_users(http: ProviderHTTP, auth: Auth, base_url: str, account: str) -> list[User]:
    """Every active user, page after page until `next_page_token` is empty."""
    users: list[User] = []
    guard, cursor = CursorGuard(PROVIDER), ""
    url = f"{base_url.rstrip('/')}/v2/users"
    while True:
        params = {"status": "active", "page_size": PAGE_SIZE} | (
            {"next_page_token": cursor} if cursor else {}
        )
        page = await http.get_typed(
            url, USERS_PAGE, _lenient, auth=auth, account_key=account, params=params, bucket=MEDIUM
        )
        users.extend(page.users or ())
        cursor = str(page.next_page_token or "")
        if not cursor:
            return users
        guard.next(cursor)


def idle_seat(user: User, last: datetime | None) -> InactiveSeat:
    return InactiveSeat(
        user_id=str(user.id),
        email=user.email or None,
        last_active=last,
        name=_name(user),
        seat_type=TYPE_NAMES[LICENSED],
        admin=str(user.role_id) in ADMIN_ROLES,
    )


async def collect_zoom(
    http: ProviderHTTP,
    auth: Auth,
    *,
    base_url: str,
    team_id: str,
    account_id: str,
    account_name: str,
    period: Period,
    scopes: Collection[str] | None,
    clock: Clock,
) -> UsageReport:
    """Read one Zoom account over `period` (see the module docstring)."""
    users, report = await run_all(
        list_users(http, auth, base_url, account_id),
        active_hosts(
            http,
            auth,
            base_url,
            account_id,
            start=period.start,
            end=period.end,
            today=clock().astimezone(UTC).date(),
            scopes=scopes,
        ),
    )
    since = period.start_utc
    # one pass, each sign-in read once (a few thousand users: this is most of the collection's CPU)
    licensed: list[User] = []
    idle_users: list[tuple[User, datetime | None]] = []
    types: dict[str, int] = {}
    active = never = 0
    for user in users:
        kind = user.type
        name = TYPE_NAMES.get(kind, "Other")
        types[name] = types.get(name, 0) + 1
        last = signed_in(user)
        recent = last is not None and last >= since
        active += recent
        if kind == LICENSED:
            licensed.append(user)
            never += last is None
            if not recent:
                idle_users.append((user, last))
    idle = sorted((idle_seat(u, last) for u, last in idle_users), key=inactive_order)
    figures = (
        Figure("licensed", "Licensed users", len(licensed)),
        Figure("idle_licensed", "Idle licences", len(idle), of=len(licensed)),
        Figure("never_signed_in", "Licensed, never signed in", never),
        Figure("basic_users", "Basic users", types.get("Basic", 0)),
    )
    meetings: tuple[Figure, ...] = ()
    if isinstance(report, Hosts):
        hosting = sum(1 for u in licensed if str(u.id) in report.hosts)
        meetings = (
            Figure("licensed_hosts", "Licensed users who hosted meetings", hosting, of=len(licensed)),
            Figure("meetings", "Meetings hosted", report.meetings),
            Figure("meeting_minutes", "Meeting minutes", report.minutes),
        )
    return UsageReport(
        team_id=team_id,
        provider=PROVIDER,
        account=Account(id=account_id, name=account_name),
        period=period,
        seats=Seats(
            total_users=len(users),
            paid_seats=len(licensed),
            active_users=active,
            active_paid_users=len(licensed) - len(idle),
            inactive_paid_users=tuple(idle),
            seat_types=dict(sorted(types.items())),
            noun="users",
            active_means="signed in to Zoom in the period",
        ),
        activity=figures + meetings,
        highlights=figures[:2] + meetings[:1],
        summary=figures[:1],
        signals=Signals(
            used=("users", "logins", *((SIGNAL,) if meetings else ())),
            unavailable=(report,) if isinstance(report, Unavailable) else (),
        ),
        collected_at=clock(),
    )
