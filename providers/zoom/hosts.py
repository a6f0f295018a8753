"""Zoom's active-hosts report, read when the app may (optional scope `report:read:admin`): who hosted
meetings in the period, and how many meetings and minutes.

``GET /v2/report/users?type=active&from=yyyy-mm-dd&to=yyyy-mm-dd&page_size=300`` (Heavy category),
followed by ``next_page_token`` until Zoom answers "". Zoom limits each request to one calendar month
(``to`` at most a month after ``from``) within the last six months: a longer period is asked for in
consecutive windows of less than a month, at once (each window's pages one after another); a period
that began more than six months ago is not asked for at all, and said so. A Free account (the report
needs Pro or higher), a token without the scope, or a report Zoom would not answer leave the report
unavailable, said in one sentence; the seat figures do not depend on it.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import msgspec

from core.reports import Unavailable
from providers.collect import run_all
from providers.http import Auth, ProviderError, ProviderHTTP, Unauthorized
from providers.pagination import CursorGuard
from providers.zoom.entry import HEAVY, KEY, REPORT_SCOPE
from providers.zoom.policy import MISSING_SCOPE

REPORT_SCOPES = (REPORT_SCOPE, "report:read:list_users:admin")  # classic, then granular
SIGNAL = "meetings"
PAGE_SIZE = 300
HISTORY_MONTHS = 6
PAID_ONLY = "200"  # Zoom's code for a report a Free account may not read
NOT_GRANTED = Unavailable(
    SIGNAL,
    f"The Zoom app may not read the active-hosts report: add the {REPORT_SCOPE} scope to see who hosted meetings.",
)
FREE = Unavailable(SIGNAL, "Zoom gives the active-hosts report to Pro accounts and above only.")
TOO_OLD = Unavailable(SIGNAL, "Zoom keeps the active-hosts report for six months: this period began earlier.")
NO_ANSWER = Unavailable(SIGNAL, "Zoom did not answer the active-hosts report this time.")


@dataclass(frozen=True)
class Hosts:
    """The report over the period: who hosted (user ids) and the totals."""

    hosts: frozenset[str]
    meetings: int
    minutes: int


class Host(msgspec.Struct, gc=False):
    """A row of the report, as much as Quolum reads of it (`Any`: read as the dicts were)."""

    id: Any = None
    meetings: Any = None
    meeting_minutes: Any = None


class ReportPage(msgspec.Struct, gc=False):
    users: list[Host] | None = None
    next_page_token: Any = None


REPORT_PAGE = msgspec.json.Decoder(ReportPage)


def _lenient(body: Any) -> ReportPage:
    """A page as read before the typed decoder: not an object -> empty, rows not objects left out."""
    body = body if isinstance(body, dict) else {}
    rows = [
        Host(u.get("id"), u.get("meetings"), u.get("meeting_minutes"))
        for u in body.get("users") or []
        if isinstance(u, dict)
    ]
    return ReportPage(rows, body.get("next_page_token"))


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later or earlier (the month's last day if it has fewer)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def windows(start: date, end: date) -> list[tuple[date, date]]:
    """[start, end] cut into consecutive windows, each ending before a month after it starts."""
    found = []
    while start <= end:
        last = min(end, add_months(start, 1) - timedelta(days=1))
        found.append((start, last))
        start = last + timedelta(days=1)
    return found


def granted(scopes: Collection[str] | None) -> bool:
    """None: not known (try, and read a refusal)."""
    return scopes is None or any(s in scopes for s in REPORT_SCOPES)


async def _window(http: ProviderHTTP, auth: Auth, url: str, account: str, start: date, end: date) -> Hosts:
    hosts: set[str] = set()
    meetings = minutes = 0
    guard, cursor = CursorGuard(KEY), ""
    while True:
        params: dict[str, Any] = {"type": "active", "from": start.isoformat(), "to": end.isoformat()}
        params |= {"page_size": PAGE_SIZE} | ({"next_page_token": cursor} if cursor else {})
        page = await http.get_typed(
            url, REPORT_PAGE, _lenient, auth=auth, account_key=account, params=params, bucket=HEAVY
        )
        for user in page.users or ():
            if (hosted := int(user.meetings or 0)) > 0:
                hosts.add(str(user.id))
                meetings += hosted
                minutes += int(user.meeting_minutes or 0)
        cursor = str(page.next_page_token or "")
        if not cursor:
            return Hosts(frozenset(hosts), meetings, minutes)
        guard.next(cursor)


async def active_hosts(
    http: ProviderHTTP,
    auth: Auth,
    base_url: str,
    account: str,
    *,
    start: date,
    end: date,
    today: date,
    scopes: Collection[str] | None,
) -> Hosts | Unavailable:
    """The report over [start, end], or why it is unavailable."""
    if not granted(scopes):
        return NOT_GRANTED
    if start < add_months(today, -HISTORY_MONTHS):
        return TOO_OLD
    url = f"{base_url.rstrip('/')}/v2/report/users"
    try:
        parts = await run_all(
            *(_window(http, auth, url, account, a, b) for a, b in windows(start, min(end, today)))
        )
    except Unauthorized:
        raise  # the token itself: the collection fails as it would on any read
    except ProviderError as error:
        if error.category == MISSING_SCOPE:
            return NOT_GRANTED
        return FREE if error.category == PAID_ONLY else NO_ANSWER
    return Hosts(
        frozenset().union(*(p.hosts for p in parts)),
        sum(p.meetings for p in parts),
        sum(p.minutes for p in parts),
    )
