"""The Zoom stand-in's active/inactive hosts report (sandbox/standins/zoom.py routes it here).

    GET /v2/report/users?type=active|inactive&from=yyyy-mm-dd&to=yyyy-mm-dd&page_size=&next_page_token=
        Heavy category; scope `report:read:admin` (granular: `report:read:list_users:admin`)

As Zoom's reference describes it: the active hosts are the users who hosted at least one meeting in
[from, to] (days, UTC), each with `meetings`, `participants`, `meeting_minutes`, and the report's
totals; the inactive ones are the other active users. "The time range for the report is limited to a
month and the month should fall under the past six months": `to` more than one calendar month after
`from` (2019-08-14 to 2019-09-14 is allowed, as in Zoom's example), `to` before `from`, a `from` more
than six months ago, or a missing or malformed date -> 400 code 300. Paging as for users: `page_size`
1..300 (default 30), `next_page_token` ("" on the last page, valid 15 minutes). The report needs a Pro
plan or higher: a free account -> 400 code 200 (the wording is the stand-in's).
"""

from __future__ import annotations

import calendar
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime

from starlette.datastructures import QueryParams
from starlette.responses import JSONResponse, Response

from .zoom_seed import ZoomAccount, ZoomUser, zoom_time

PAGE_TOKEN_LIFETIME = 15 * 60
MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE = 300, 30
HISTORY_MONTHS = 6


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later (or earlier), the month's last day if it has fewer."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class _Page:
    query: tuple[str, str, str, int]  # (type, from, to, page size) it continues
    offset: int
    issued_at: float


class HostReports:
    """`GET /v2/report/users` over an account's seeded meetings."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pages: dict[str, _Page] = {}

    def answer(self, params: QueryParams, account: ZoomAccount, now: float, headers: dict) -> Response:
        def refuse(code: int, message: str) -> Response:
            return JSONResponse({"code": code, "message": message}, status_code=400, headers=headers)

        if account.plan == "free":
            return refuse(200, "Only available for paid accounts.")
        kind = params.get("type") or "active"
        start, end = _day(params.get("from")), _day(params.get("to"))
        if kind not in ("active", "inactive") or start is None or end is None:
            return refuse(300, "Invalid field.")
        today = datetime.fromtimestamp(now, UTC).date()
        if end < start or end > add_months(start, 1):
            return refuse(300, "The date range is limited to one month.")
        if start < add_months(today, -HISTORY_MONTHS):
            return refuse(300, "Only data from the last 6 months can be queried.")
        try:
            size = min(max(int(params.get("page_size") or DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE)
        except ValueError:
            return refuse(300, "Invalid field.")
        query = (kind, start.isoformat(), end.isoformat(), size)
        offset = 0
        with self._lock:
            if cursor := params.get("next_page_token"):
                page = self._pages.get(cursor)
                if page is None or page.query != query or now - page.issued_at > PAGE_TOKEN_LIFETIME:
                    return refuse(300, "The next page token is invalid or expired.")
                offset = page.offset
            rows = [
                row
                for user in account.users
                if user.status == "active"
                and ((row := _row(user, start, end))["meetings"] > 0) == (kind == "active")
            ]
            next_token = ""
            if offset + size < len(rows):
                next_token = secrets.token_urlsafe(24)
                self._pages[next_token] = _Page(query, offset + size, now)
        return JSONResponse(
            {
                "from": start.isoformat(),
                "to": end.isoformat(),
                "page_count": -(-len(rows) // size),
                "page_number": offset // size + 1,
                "page_size": size,
                "total_records": len(rows),
                "next_page_token": next_token,
                "total_meetings": sum(r["meetings"] for r in rows),
                "total_participants": sum(r["participants"] for r in rows),
                "total_meeting_minutes": sum(r["meeting_minutes"] for r in rows),
                "users": rows[offset : offset + size],
            },
            headers=headers,
        )


def _row(user: ZoomUser, start: date, end: date) -> dict[str, object]:
    hosted = [h for h in user.hosted if start <= h.day <= end]
    row: dict[str, object] = {
        "id": user.id,
        "email": user.email,
        "user_name": f"{user.first_name} {user.last_name}",
        "type": user.type,
        "dept": "",
        "create_time": zoom_time(user.created_at),
        "meetings": sum(h.meetings for h in hosted),
        "participants": sum(h.participants for h in hosted),
        "meeting_minutes": sum(h.minutes for h in hosted),
    }
    if user.last_login_time is not None:
        row["last_login_time"] = zoom_time(user.last_login_time)
        row["last_client_version"] = "6.2.5.43096(mac)"
    return row


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text and len(text) == 10 else None
    except ValueError:
        return None
