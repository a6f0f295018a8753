"""How Quolum reads Google's listings: `pageToken` / `nextPageToken` paging (every Google JSON API),
Google's habit of leaving out an empty list, and the Reports API's newest ready day.

Pages are decoded by msgspec into the few fields Quolum counts (the Structs below): a Directory page of
500 users is about half a megabyte, and decoding every field into dicts cost most of a collection's
CPU (benchmarks/google_collection.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import msgspec

from providers.google.entry import KEY
from providers.http import Auth, ProviderError, ProviderHTTP, TransientError
from providers.pagination import CursorGuard

USERS_PAGE = 500  # Directory users.list's maximum
LICENCES_PAGE = 1000  # License Manager's maximum (discovery document)
REPORTS_PAGE = 1000  # Reports usage's maximum
LAST_LOGIN = "accounts:last_login_time"
MAX_LAG_DAYS = 4  # Google's usage reports are one to three days behind; one more day of slack
# partial responses: only what the Structs below read (Google's `fields` parameter)
USER_FIELDS = (
    "nextPageToken,users(id,primaryEmail,name/fullName,isAdmin,isDelegatedAdmin,suspended,lastLoginTime)"
)
ASSIGNMENT_FIELDS = "nextPageToken,items(userId,productId,skuId,skuName)"
USAGE_FIELDS = "nextPageToken,usageReports(entity/userEmail,parameters)"
NOT_READY = re.compile(r"later than (\d{4}-\d{2}-\d{2}) is not yet available", re.I)


class Name(msgspec.Struct, gc=False):
    fullName: str | None = None  # noqa: N815 (Google's field names)


class User(msgspec.Struct, gc=False):
    """A Directory user, as much as Quolum reads of it."""

    id: str = ""
    primaryEmail: str = ""  # noqa: N815
    name: Name | None = None
    isAdmin: bool = False  # noqa: N815
    isDelegatedAdmin: bool = False  # noqa: N815
    suspended: bool = False
    lastLoginTime: datetime | None = None  # noqa: N815 (None: Google sent none; 1970: never)


class Assignment(msgspec.Struct, gc=False):
    """A License Manager `LicenseAssignment`."""

    userId: str = ""  # noqa: N815 (the user's primary email)
    productId: str = ""  # noqa: N815
    skuId: str = ""  # noqa: N815
    skuName: str | None = None  # noqa: N815


class Parameter(msgspec.Struct, gc=False):
    name: str = ""
    datetimeValue: datetime | None = None  # noqa: N815


class Entity(msgspec.Struct, gc=False):
    userEmail: str = ""  # noqa: N815
    profileId: str = ""  # noqa: N815


class Usage(msgspec.Struct, gc=False):
    """One user's row of a Reports usage report."""

    entity: Entity = msgspec.field(default_factory=Entity)
    parameters: list[Parameter] = msgspec.field(default_factory=list)


class UsersPage(msgspec.Struct, gc=False):
    users: list[User] = msgspec.field(default_factory=list)  # absent on an empty page
    nextPageToken: str | None = None  # noqa: N815


class AssignmentsPage(msgspec.Struct, gc=False):
    items: list[Assignment] = msgspec.field(default_factory=list)
    nextPageToken: str | None = None  # noqa: N815


class UsagePage(msgspec.Struct, gc=False):
    usageReports: list[Usage] = msgspec.field(default_factory=list)  # noqa: N815
    nextPageToken: str | None = None  # noqa: N815


Page = UsersPage | AssignmentsPage | UsagePage


def _items(page: Page) -> list:
    if isinstance(page, UsersPage):
        return page.users
    return page.items if isinstance(page, AssignmentsPage) else page.usageReports


async def listing(
    http: ProviderHTTP,
    url: str,
    kind: type[Page],
    *,
    auth: Auth,
    account: str,
    bucket: str,
    params: Mapping[str, Any],
) -> list:
    """Every item of every page, each page decoded as `kind`."""
    found: list = []
    guard, token = CursorGuard(KEY), None
    while True:
        response = await http.request(
            "GET",
            url,
            auth=auth,
            account_key=account,
            bucket=bucket,
            params={**params, **({"pageToken": token} if token else {})},
        )
        try:
            page = msgspec.json.decode(response.content or b"{}", type=kind)
        except msgspec.DecodeError:  # ValidationError included: a shape Google does not document
            raise ProviderError(
                f"Google answered {response.status_code} with a page Quolum cannot read.", provider=KEY
            ) from None
        found.extend(_items(page))
        token = page.nextPageToken
        if not token:
            return found
        guard.next(token)


NEVER_YEAR = 1970  # Google answers the Unix epoch for "never signed in"


def not_ready(error: ProviderError) -> date | None:
    """The newest ready day a 400 "Data for dates later than D is not yet available" names, else None."""
    if isinstance(error, TransientError) or error.status != 400:
        return None
    found = NOT_READY.search(error.message or "")
    return date.fromisoformat(found.group(1)) if found else None


async def usage_report(
    http: ProviderHTTP, base_url: str, today: date, *, auth: Auth, account: str, bucket: str
) -> tuple[date, list[Usage]] | None:
    """The newest ready day's `accounts:last_login_time` for every user, and that day; None when Google
    has no report ready in the last `MAX_LAG_DAYS` days. Asks for yesterday, then for the day Google's
    refusal names as the newest ready one."""
    day, oldest = today - timedelta(days=1), today - timedelta(days=MAX_LAG_DAYS)
    while day >= oldest:
        try:
            reports = await listing(
                http,
                f"{base_url}/admin/reports/v1/usage/users/all/dates/{day.isoformat()}",
                UsagePage,
                auth=auth,
                account=account,
                bucket=bucket,
                params={
                    "parameters": LAST_LOGIN,
                    "maxResults": REPORTS_PAGE,
                    "customerId": account,
                    "fields": USAGE_FIELDS,
                },
            )
        except ProviderError as error:
            ready = not_ready(error)
            if ready is None:
                raise
            day = min(ready, day - timedelta(days=1))
            continue
        return day, reports
    return None


def last_logins(reports: list[Usage]) -> dict[str, datetime | None]:
    """Email (lower case) -> the last sign-in the report knows."""
    logins: dict[str, datetime | None] = {}
    for report in reports:
        if not (email := report.entity.userEmail):
            continue
        value = None
        for parameter in report.parameters:
            if parameter.name == LAST_LOGIN:
                value = parameter.datetimeValue
                break
        # no sign-in: absent, the epoch, or a time without a zone (written out here, not a function:
        # a call per user was a tenth of this loop's CPU)
        if value is not None and (value.year <= NEVER_YEAR or value.tzinfo is None):
            value = None
        logins[email.lower()] = value
    return logins
