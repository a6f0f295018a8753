"""How Quolum reads Google's listings: `pageToken` / `nextPageToken` paging (every Google JSON API),
Google's habit of leaving out an empty list, and the Reports API's newest ready day."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from providers.google.entry import KEY
from providers.http import Auth, ProviderError, ProviderHTTP, TransientError
from providers.pagination import CursorGuard

USERS_PAGE = 500  # Directory users.list's maximum
LICENCES_PAGE = 1000  # License Manager's maximum (discovery document)
REPORTS_PAGE = 1000  # Reports usage's maximum
LAST_LOGIN = "accounts:last_login_time"
MAX_LAG_DAYS = 4  # Google's usage reports are one to three days behind; one more day of slack
NOT_READY = re.compile(r"later than (\d{4}-\d{2}-\d{2}) is not yet available", re.I)


async def listing(
    http: ProviderHTTP,
    url: str,
    key: str,
    *,
    auth: Auth,
    account: str,
    bucket: str,
    params: Mapping[str, Any],
) -> list[dict]:
    """Every item under `key` of every page (Google omits `key` on an empty page)."""
    found: list[dict] = []
    guard, token = CursorGuard(KEY), None
    while True:
        page = await http.get_json(
            url,
            auth=auth,
            account_key=account,
            bucket=bucket,
            params={**params, **({"pageToken": token} if token else {})},
        )
        page = page if isinstance(page, dict) else {}
        found.extend(item for item in page.get(key) or () if isinstance(item, dict))
        token = page.get("nextPageToken")
        if not isinstance(token, str) or not token:
            return found
        guard.next(token)


def parse_time(value: Any) -> datetime | None:
    """Google's ``2026-05-31T09:00:00.000Z``, aware; None when absent, unreadable or the Unix epoch
    (what Google answers for "never")."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None or moment.year <= 1970:
        return None
    return moment


def not_ready(error: ProviderError) -> date | None:
    """The newest ready day a 400 "Data for dates later than D is not yet available" names, else None."""
    if isinstance(error, TransientError) or error.status != 400:
        return None
    found = NOT_READY.search(error.message or "")
    return date.fromisoformat(found.group(1)) if found else None


async def usage_report(
    http: ProviderHTTP, base_url: str, today: date, *, auth: Auth, account: str, bucket: str
) -> tuple[date, list[dict]] | None:
    """The newest ready day's `accounts:last_login_time` for every user, and that day; None when Google
    has no report ready in the last `MAX_LAG_DAYS` days. Asks for yesterday, then for the day Google's
    refusal names as the newest ready one."""
    day, oldest = today - timedelta(days=1), today - timedelta(days=MAX_LAG_DAYS)
    while day >= oldest:
        try:
            reports = await listing(
                http,
                f"{base_url}/admin/reports/v1/usage/users/all/dates/{day.isoformat()}",
                "usageReports",
                auth=auth,
                account=account,
                bucket=bucket,
                params={"parameters": LAST_LOGIN, "maxResults": REPORTS_PAGE, "customerId": account},
            )
        except ProviderError as error:
            ready = not_ready(error)
            if ready is None:
                raise
            day = min(ready, day - timedelta(days=1))
            continue
        return day, reports
    return None


def last_logins(reports: list[dict]) -> dict[str, datetime | None]:
    """Email (lower case) -> the last sign-in the report knows."""
    logins: dict[str, datetime | None] = {}
    for report in reports:
        email = str((report.get("entity") or {}).get("userEmail") or "").lower()
        value = next(
            (p.get("datetimeValue") for p in report.get("parameters") or () if p.get("name") == LAST_LOGIN),
            None,
        )
        if email:
            logins[email] = parse_time(value)
    return logins
