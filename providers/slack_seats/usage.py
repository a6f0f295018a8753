"""A Slack workspace's seats and who used them, for one period, as a `UsageReport`.

- Members: `users.list` (`limit` 1000, `response_metadata.next_cursor` until ""), with the bot's token
  (`users:read`) or the admin's user token once *Connect Slack billing* was granted.
- Billing (admin token): `team.billableInfo` (cursor paging) → `billing_active` per member.
- Last access (admin token, paid plans): `team.accessLogs` (`count` ≤ 1000, `page` ≤ 100), newest
  first; read until an entry is older than the period's start. Past page 100 the reading goes on with
  `before` = the oldest `date_last` seen (Slack answers `over_pagination_limit` to page 101). A free
  plan answers `paid_only`: activity is then unknown, and nobody is called idle.
- Enterprise Grid: every call passes `team_id` (the workspace's): an org-wide install's token must
  name the workspace, and reads only its members, billing and logins; each workspace of the org is its
  own connection, and the members figure says so (`GRID_NOTE`): Slack bills a member of several
  workspaces once, so the workspaces' figures do not add up to the org's bill.

Idle seat: a billed member (or multi-channel guest) with no access in the period; owners and admins
are flagged `admin` (never reclaimed).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from core.periods import Period
from core.reports import Account, Figure, InactiveSeat, Seats, Signals, Unavailable, UsageReport
from providers.collect import run_all
from providers.errors import ProviderError
from providers.http import Auth, ProviderHTTP
from providers.pagination import CursorGuard
from providers.slack_seats import seats
from providers.slack_seats.api import call
from providers.slack_seats.entry import ADMIN, BILLING, KEY, LOGINS, USERS
from providers.slack_seats.pages import BillingPage, Login, LoginsPage, Member, MembersPage, Profile
from providers.slack_seats.policy import PAID_ONLY, WRONG_TOKEN
from providers.usage import Clock, inactive_order

PAGE = 1000  # users.list and team.billableInfo `limit`, team.accessLogs `count`: Slack's maximum
MAX_PAGES = 100  # team.accessLogs answers over_pagination_limit past page 100
SIGNAL_BILLING, SIGNAL_ACCESS = "billing", "access_logs"
NEEDS_ADMIN = (
    "Billing and activity need a workspace owner or admin to choose Connect Slack billing "
    "(Slack's `admin` scope)."
)
PAID_ONLY_NOTE = "Slack keeps access logs on paid plans only, so nobody can be called idle."
TRUNCATED = "Slack's access logs ended before the period began, so members not seen are not called idle."
GRID_NOTE = "this workspace of the Enterprise Grid org only: a member of several is billed once by the org"


async def list_members(http: ProviderHTTP, auth: Auth, base_url: str, team_id: str) -> list[Member]:
    members: list[Member] = []
    guard, cursor = CursorGuard(KEY), ""
    while True:
        params = {"limit": PAGE, "team_id": team_id} | ({"cursor": cursor} if cursor else {})
        page = await call(
            http, auth, base_url, "users.list", params, account=team_id, bucket=USERS, decode=MembersPage
        )
        members.extend(page.members)
        cursor = page.next_cursor
        if not cursor:
            return members
        guard.next(cursor)


async def billable_info(http: ProviderHTTP, auth: Auth, base_url: str, team_id: str) -> dict[str, bool]:
    """Member id -> `billing_active`."""
    found: dict[str, bool] = {}
    guard, cursor = CursorGuard(KEY), ""
    while True:
        params = {"limit": PAGE, "team_id": team_id} | ({"cursor": cursor} if cursor else {})
        page = await call(
            http,
            auth,
            base_url,
            "team.billableInfo",
            params,
            account=team_id,
            bucket=BILLING,
            decode=BillingPage,
        )
        for user_id, info in page.billable_info.items():
            found[user_id] = info.billing_active
        cursor = page.next_cursor
        if not cursor:
            return found
        guard.next(cursor)


async def access_logs(
    http: ProviderHTTP, auth: Auth, base_url: str, team_id: str, since: datetime
) -> tuple[dict[str, datetime], bool]:
    """Member id -> last access, reading back to `since`; and whether the logs reached `since` (or
    their end). Newest first: the reading stops at the first entry older than `since`."""
    last: dict[str, datetime] = {}
    before: int | None = None
    while True:
        oldest: int | None = None
        for page in range(1, MAX_PAGES + 1):
            params: dict[str, Any] = {"count": PAGE, "page": page, "team_id": team_id}
            if before is not None:
                params["before"] = before
            body = await call(
                http,
                auth,
                base_url,
                "team.accessLogs",
                params,
                account=team_id,
                bucket=LOGINS,
                decode=LoginsPage,
            )
            logins = [entry for entry in body.logins or [] if isinstance(entry, Login)]  # objects only
            for entry in logins:
                moment = seats.last_access(entry.date_last)
                if moment is None:
                    continue
                stamp = int(moment.timestamp())
                oldest = stamp if oldest is None else min(oldest, stamp)
                if moment < since:
                    return last, True
                user = str(entry.user_id or "")
                if user and (user not in last or last[user] < moment):
                    last[user] = moment
            paging = body.paging or {}
            if not logins or page >= int(paging.get("pages") or page):
                return last, True
        # 100 pages read and still inside the period: go on before the oldest entry seen
        if oldest is None or (before is not None and oldest >= before):
            return last, False
        before = oldest


def _unavailable(error: ProviderError) -> str:
    if error.category == PAID_ONLY:
        return PAID_ONLY_NOTE
    return NEEDS_ADMIN


async def collect_slack_seats(
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
    """Read one Slack workspace over `period` (see the module docstring)."""
    since = period.start_utc
    missing: list[Unavailable] = []
    admin = scopes is not None and ADMIN in scopes

    async def billing_read() -> dict[str, bool] | None:
        try:
            return await billable_info(http, auth, base_url, team_id)
        except ProviderError as error:
            if error.category not in (WRONG_TOKEN, "missing_scope"):
                raise
            missing.append(Unavailable(SIGNAL_BILLING, NEEDS_ADMIN))
            return None

    async def activity_read() -> dict[str, datetime] | None:
        try:
            activity, complete = await access_logs(http, auth, base_url, team_id, since)
        except ProviderError as error:
            if error.category not in (WRONG_TOKEN, PAID_ONLY, "missing_scope"):
                raise
            missing.append(Unavailable(SIGNAL_ACCESS, _unavailable(error)))
            return None
        if not complete:
            missing.append(Unavailable(SIGNAL_ACCESS, TRUNCATED))
        return activity

    if admin:  # three listings that wait for nothing of each other: at once (each has its own Tier 2)
        members, billing, activity = await run_all(
            list_members(http, auth, base_url, team_id), billing_read(), activity_read()
        )
    else:
        members, billing, activity = await list_members(http, auth, base_url, team_id), None, None
        missing += [Unavailable(SIGNAL_BILLING, NEEDS_ADMIN), Unavailable(SIGNAL_ACCESS, NEEDS_ADMIN)]
    missing.sort(key=lambda u: u.signal != SIGNAL_BILLING)  # billing first, whichever answered first
    return build_report(
        members,
        billing,
        activity,
        complete=not any(u.signal == SIGNAL_ACCESS for u in missing),
        team_id=team_id,
        account=Account(id=account_id, name=account_name),
        period=period,
        missing=tuple(missing),
        collected_at=clock(),
    )


def build_report(
    members: Sequence[Member],
    billing: dict[str, bool] | None,
    activity: dict[str, datetime] | None,
    *,
    complete: bool,
    team_id: str,
    account: Account,
    period: Period,
    missing: tuple[Unavailable, ...],
    collected_at: datetime,
) -> UsageReport:
    """The report from what was read (pure: tests feed it directly)."""
    since = period.start_utc
    known = activity is not None and complete
    kinds: dict[str, int] = {
        seats.MEMBER: 0,
        seats.MULTI_GUEST: 0,
        seats.SINGLE_GUEST: 0,
        seats.DEACTIVATED: 0,
    }
    seat_types: dict[str, int] = {}
    billed = active = active_people = still = 0
    grid = False  # members of an Enterprise Grid workspace carry `enterprise_user`
    idle_seats: list[InactiveSeat] = []
    for user in members:
        grid = grid or user.enterprise_user is not None
        user_kind = seats.kind(user)
        if user_kind == seats.BOT:
            continue
        kinds[user_kind] += 1
        user_id = user.id
        active_flag = None if billing is None else billing.get(user_id, False)
        still += seats.still_billed(user_kind, active_flag)
        if user_kind == seats.DEACTIVATED:
            continue
        last = (activity or {}).get(user_id)
        recent = last is not None and last >= since
        active_people += recent
        if not seats.billed(user_kind, active_flag):
            continue
        billed += 1
        name = seats.KIND_NAMES[user_kind]
        seat_types[name] = seat_types.get(name, 0) + 1
        active += recent
        if seats.idle(True, last, since, activity_known=known):
            profile = user.profile or Profile()
            idle_seats.append(
                InactiveSeat(
                    user_id=user_id,
                    email=profile.email or None,
                    last_active=last,
                    name=user.real_name or profile.real_name or user.name or None,
                    seat_type=name,
                    admin=seats.is_admin(user),
                )
            )
    idle_seats.sort(key=inactive_order)
    people = kinds[seats.MEMBER] + kinds[seats.MULTI_GUEST] + kinds[seats.SINGLE_GUEST]
    billing_note = None if billing is not None else "needs an admin's consent"
    figures = (
        Figure("members", "Members", kinds[seats.MEMBER], note=GRID_NOTE if grid else None),
        Figure("multi_channel_guests", "Multi-channel guests (billed)", kinds[seats.MULTI_GUEST]),
        Figure("single_channel_guests", "Single-channel guests", kinds[seats.SINGLE_GUEST]),
        Figure(
            "billable_members", "Billable members", billed if billing is not None else None, note=billing_note
        ),
        Figure(
            "no_access_in_period",
            "Billable, no access in the period",
            len(idle_seats) if known else None,
            of=billed if known else None,
        ),
        Figure(
            "deactivated_still_billed",
            "Deactivated, still billed",
            still if billing is not None else None,
            note=billing_note,
        ),
        Figure("deactivated", "Deactivated members", kinds[seats.DEACTIVATED]),
    )
    read = (("members", True), (SIGNAL_BILLING, billing is not None), (SIGNAL_ACCESS, known))
    used = tuple(signal for signal, have in read if have)
    return UsageReport(
        team_id=team_id,
        provider=KEY,
        account=account,
        period=period,
        seats=Seats(
            total_users=people,
            paid_seats=billed,
            active_users=active_people if known else None,
            active_paid_users=active if known else None,
            inactive_paid_users=tuple(idle_seats),
            seat_types=seat_types,
            noun="members",
            active_means="used Slack (access logs)" if known else "",
        ),
        activity=figures,
        signals=Signals(used=used, unavailable=missing),
        collected_at=collected_at,
        highlights=(figures[0], figures[1], figures[2]),
        summary=(figures[3], figures[4]),
        details={"billing_known": billing is not None},
    )
