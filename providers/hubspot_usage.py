"""HubSpot seats and usage for one portal and one period, as a `UsageReport`.

Calls (all through `ProviderHTTP`, so retries, 401 refresh and the per-portal limiter apply):

- ``GET /settings/v3/users/?limit=100`` (paged): users and their paid seats (`seatNames`);
- ``GET /settings/v3/users/roles``: roles with `requiresBillingWrite` also mark paid seats;
- ``GET /crm/v3/owners?limit=500`` and ``...&archived=true``: owner id -> user id, deactivated
  users included (records keep the owner id of someone who has left);
- ``GET /account-info/v3/activity/login?limit=200`` (paged, newest first) when the scope
  ``account-info.security.read`` is granted: successful logins in the period, and the last one
  before it for users idle in the period. Paging stops once past the period's start when every
  paid user's last login is known; HubSpot keeps 90 days of history;
- one CRM search per object type (8, through the limiter's ``"search"`` bucket, limit 200, only the
  properties needed, sorted by creation date), each page tallied and dropped as it arrives.

Search filters, with the period [P0, P1) in epoch ms (BETWEEN is inclusive, so P1 - 1):

- contacts, companies, deals: two OR'ed filter groups that never match the same record,
  ``created in [P0, P1)`` OR ``last modified in [P0, P1) AND created before P0``;
- calls, emails, meetings, notes, tasks: ``hs_createdate in [P0, P1)`` (logged in the period).

HubSpot serves at most 10,000 results per query: when the first page's `total` is larger, the
window is halved (both groups on their own date property, so each record is still in exactly one
half) and each half is searched the same way, recursively. That costs one extra search per split.

What is counted (account level, `activity`):

- ``<type>_created`` / ``<type>_logged``: records created in the period;
- ``<type>_updated`` (contacts, companies, deals): records whose *last* modification is in the
  period and more than `UPDATE_GRACE_MS` after their creation (HubSpot stamps a just-created
  record as modified a moment later). A record modified in the period and again after it counts
  in the later period only: search sees the current state, not the history;
- ``logins``: successful logins in the period (failed attempts are ignored).

Attribution (`per_user`), one user or none per counted event: a creation goes to
``hs_created_by_user_id``, an update to ``hs_updated_by_user_id``; when HubSpot recorded no user
(imports, integrations, workflows) it goes to the record's owner (``hubspot_owner_id`` -> that
owner's user, archived owners included); otherwise to nobody. So per-user counts add up to at most
the account's; `per_user` may name deactivated users (their work in the period still counts). A user is active in the period if they logged in or have at least one attributed
event (`providers.usage.is_active`); the report says which signals were available.

A 403 MISSING_SCOPES on an object type (or a scope we know is not granted) makes that type's
features null and lists it in `signals.unavailable`; the rest carries on. Missing user access
(settings) fails the report: there is nothing to report without users.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from providers.collect import run_all
from providers.http import Auth, MissingScopes, ProviderError, ProviderHTTP
from providers.pagination import cursor_pages
from providers.usage import (
    HUBSPOT_FEATURES,
    SIGNAL_CRM,
    SIGNAL_LOGINS,
    Account,
    Clock,
    InactiveSeat,
    Period,
    Seats,
    SeatUser,
    Signals,
    Unavailable,
    UsageReport,
    inactive_order,
    is_active,
    is_paid,
    seat_counts,
)

PROVIDER = "hubspot"
USERS_PAGE, OWNERS_PAGE, LOGINS_PAGE, SEARCH_PAGE = 100, 500, 200, 200
MAX_SEARCH_RESULTS = 10_000
UPDATE_GRACE_MS = 60_000
LOGIN_SCOPE = "account-info.security.read"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ObjectSpec:
    """How one CRM object type is searched and counted."""

    object_type: str
    created_property: str
    created_feature: str
    modified_property: str | None = None  # None: only creations count (engagements)
    updated_feature: str | None = None
    scope: str | None = None  # a scope we know it needs; None: let HubSpot say

    @property
    def features(self) -> tuple[str, ...]:
        return (self.created_feature,) + ((self.updated_feature,) if self.updated_feature else ())

    @property
    def properties(self) -> list[str]:
        names = [self.created_property, "hubspot_owner_id", "hs_created_by_user_id"]
        if self.modified_property:
            names += [self.modified_property, "hs_updated_by_user_id"]
        return names


def _crm(object_type: str, modified: str) -> ObjectSpec:
    return ObjectSpec(
        object_type,
        "createdate",
        f"{object_type}_created",
        modified,
        f"{object_type}_updated",
        f"crm.objects.{object_type}.read",
    )


OBJECTS: tuple[ObjectSpec, ...] = (
    _crm("contacts", "lastmodifieddate"),
    _crm("companies", "hs_lastmodifieddate"),
    _crm("deals", "hs_lastmodifieddate"),
    *(
        ObjectSpec(t, "hs_createdate", f"{t}_logged")
        for t in ("calls", "emails", "meetings", "notes", "tasks")
    ),
)


# --------------------------------------------------------------------------- pure helpers


def parse_ms(value: Any) -> int | None:
    """A HubSpot date value (ISO 8601 or epoch ms, as string or number) in epoch ms; None if absent."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    moment = datetime.fromisoformat(text)  # Python 3.11 reads the trailing "Z"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)  # exact: epoch ms fit a float's 53 bits


def from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def _between(name: str, low: int, high: int) -> dict[str, str]:
    """`name` in [low, high) (BETWEEN is inclusive)."""
    return {"propertyName": name, "operator": "BETWEEN", "value": str(low), "highValue": str(high - 1)}


def search_body(spec: ObjectSpec, low: int, high: int, period_start: int) -> dict[str, Any]:
    """The search for records of `spec` with an event in the window [low, high) of the period."""
    groups = [{"filters": [_between(spec.created_property, low, high)]}]
    if spec.modified_property:
        older = {"propertyName": spec.created_property, "operator": "LT", "value": str(period_start)}
        groups.append({"filters": [_between(spec.modified_property, low, high), older]})
    return {
        "filterGroups": groups,
        "sorts": [{"propertyName": spec.created_property, "direction": "ASCENDING"}],
        "properties": spec.properties,
        "limit": SEARCH_PAGE,
    }


def split_window(low: int, high: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Halve [low, high); None when it is one millisecond and cannot be split."""
    if high - low < 2:
        return None
    middle = (low + high) // 2
    return (low, middle), (middle, high)


def record_events(
    spec: ObjectSpec, properties: Mapping[str, Any], period_start: int, period_end: int
) -> list[tuple[str, str | None, str | None]]:
    """The counted events of one record: (feature, acting user id, owner id) each.

    Pure: the rules of the module docstring for one record's properties.
    """
    events: list[tuple[str, str | None, str | None]] = []
    created = parse_ms(properties.get(spec.created_property))
    owner = _id(properties.get("hubspot_owner_id"))
    if created is not None and period_start <= created < period_end:
        events.append((spec.created_feature, _id(properties.get("hs_created_by_user_id")), owner))
    if spec.modified_property and spec.updated_feature:
        modified = parse_ms(properties.get(spec.modified_property))
        if (
            modified is not None
            and period_start <= modified < period_end
            and (created is None or modified - created > UPDATE_GRACE_MS)
        ):
            events.append((spec.updated_feature, _id(properties.get("hs_updated_by_user_id")), owner))
    return events


def _id(value: Any) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    return text[:-2] if text.endswith(".0") else text  # numbers may come back as "123.0"


def scope_reason(what: str, scope: str) -> str:
    return f"HubSpot did not grant Quolum the {scope} scope, so {what} could not be read."


# --------------------------------------------------------------------------- tallies


@dataclass
class _Tally:
    """Counts of one object type, merged into the report only if the whole type was read."""

    activity: Counter[str] = field(default_factory=Counter)
    by_user: dict[str, Counter[str]] = field(default_factory=dict)
    by_owner: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, feature: str, user: str | None, owner: str | None) -> None:
        self.activity[feature] += 1
        if user is not None:
            self.by_user.setdefault(user, Counter())[feature] += 1
        elif owner is not None:
            self.by_owner.setdefault(owner, Counter())[feature] += 1


@dataclass
class _Logins:
    in_period: Counter[str] = field(default_factory=Counter)
    last_before_end: dict[str, int] = field(default_factory=dict)  # user -> ms of last success < P1


# --------------------------------------------------------------------------- the collection


class _Collection:
    def __init__(
        self,
        http: ProviderHTTP,
        auth: Auth,
        base_url: str,
        account_id: str,
        period: Period,
        scopes: Collection[str] | None,
    ) -> None:
        self.http, self.auth, self.base = http, auth, base_url.rstrip("/")
        self.key = account_id
        self.p0, self.p1 = period.start_ms, period.end_ms
        self.scopes = None if scopes is None else set(scopes)
        self.unavailable: list[Unavailable] = []

    # --- plain listings

    async def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self.http.get_json(
            f"{self.base}{path}", auth=self.auth, account_key=self.key, params=params
        )

    async def _listing(self, path: str, params: dict[str, Any]):
        async def fetch(after: str | None) -> Mapping[str, Any]:
            return await self._get(path, params | ({"after": after} if after else {})) or {}

        async for page in cursor_pages(fetch, provider=PROVIDER):
            yield page

    async def users(self) -> list[SeatUser]:
        return [
            SeatUser(
                user_id=str(u["id"]),
                email=u.get("email"),
                seat_names=tuple(u.get("seatNames") or ()),
                role_ids=tuple(u.get("roleIds") or ([u["roleId"]] if u.get("roleId") else [])),
            )
            async for page in self._listing("/settings/v3/users/", {"limit": USERS_PAGE})
            for u in page
        ]

    async def billing_roles(self) -> set[str]:
        try:
            body = await self._get("/settings/v3/users/roles") or {}
        except MissingScopes:
            return set()  # seatNames alone then decide paid seats
        return {str(r["id"]) for r in body.get("results") or [] if r.get("requiresBillingWrite")}

    async def owners(self) -> dict[str, str]:
        """owner id -> user id, active and archived owners."""
        mapping: dict[str, str] = {}
        try:
            for archived in ("false", "true"):
                params = {"limit": OWNERS_PAGE, "archived": archived}
                async for page in self._listing("/crm/v3/owners", params):
                    for owner in page:
                        user = owner.get("userIdIncludingInactive") or owner.get("userId")
                        if user is not None and owner.get("id") is not None:
                            mapping[str(owner["id"])] = str(user)
        except MissingScopes:
            reason = scope_reason("record owners", "crm.objects.owners.read")
            self.unavailable.append(Unavailable("owners", reason + " Records count for their creator only."))
            return {}
        return mapping

    async def logins(self, paid_users: set[str]) -> _Logins | None:
        """Successful logins; paging stops early once every user of `paid_users` has been seen."""
        if self.scopes is not None and LOGIN_SCOPE not in self.scopes:
            self.unavailable.append(Unavailable(SIGNAL_LOGINS, _login_reason()))
            return None
        result = _Logins()
        waiting = set(paid_users)
        pages = self._listing("/account-info/v3/activity/login", {"limit": LOGINS_PAGE})
        try:
            async with aclosing(pages):
                async for page in pages:
                    newest = self._tally_logins(page, result, waiting)
                    if newest is not None and newest < self.p0 and not waiting:
                        break  # past the period, and every paid user's last login is known
        except MissingScopes:
            self.unavailable.append(Unavailable(SIGNAL_LOGINS, _login_reason()))
            return None
        return result

    def _tally_logins(self, page: list[dict], result: _Logins, waiting: set[str]) -> int | None:
        """Count one page of login attempts; return the newest attempt's time (ms)."""
        newest = None
        for attempt in page:
            at, user = parse_ms(attempt.get("loginAt")), _id(attempt.get("userId"))
            if at is None or user is None:
                continue
            newest = at if newest is None else max(newest, at)
            if not attempt.get("loginSucceeded") or at >= self.p1:
                continue
            if at >= self.p0:
                result.in_period[user] += 1
            result.last_before_end[user] = max(at, result.last_before_end.get(user, at))
            waiting.discard(user)
        return newest

    # --- CRM search

    async def search_type(self, spec: ObjectSpec) -> _Tally | None:
        if spec.scope and self.scopes is not None and spec.scope not in self.scopes:
            self.unavailable.append(Unavailable(spec.object_type, scope_reason(spec.object_type, spec.scope)))
            return None
        tally = _Tally()
        try:
            await self._search_window(spec, self.p0, self.p1, tally)
        except MissingScopes as error:
            reason = f"HubSpot did not grant the scope needed to read {spec.object_type} ({error.message})"
            self.unavailable.append(Unavailable(spec.object_type, reason))
            return None
        return tally

    async def _search(self, spec: ObjectSpec, body: dict[str, Any]) -> Mapping[str, Any]:
        url = f"{self.base}/crm/v3/objects/{spec.object_type}/search"
        return (
            await self.http.post_json(url, body, auth=self.auth, account_key=self.key, bucket="search") or {}
        )

    async def _search_window(self, spec: ObjectSpec, low: int, high: int, tally: _Tally) -> None:
        body = search_body(spec, low, high, self.p0)
        first: Mapping[str, Any] | None = await self._search(spec, body)
        if int(first.get("total") or 0) > MAX_SEARCH_RESULTS:
            halves = split_window(low, high)
            if halves is None:
                raise ProviderError(
                    f"HubSpot has more than {MAX_SEARCH_RESULTS:,} {spec.object_type} at one instant; "
                    "they cannot all be read.",
                    provider=PROVIDER,
                )
            await run_all(*(self._search_window(spec, a, b, tally) for a, b in halves))
            return

        async def fetch(after: str | None) -> Mapping[str, Any]:
            nonlocal first
            if after is None and first is not None:
                page, first = first, None  # drop our reference: pages are not kept
                return page
            return await self._search(spec, body | {"after": after})

        async for results in cursor_pages(fetch, provider=PROVIDER):
            for record in results:
                for feature, user, owner in record_events(
                    spec, record.get("properties") or {}, self.p0, self.p1
                ):
                    tally.add(feature, user, owner)


def _signal_order(item: Unavailable) -> int:
    order = [SIGNAL_LOGINS, "owners", *(spec.object_type for spec in OBJECTS)]
    return order.index(item.signal) if item.signal in order else len(order)


def _login_reason() -> str:
    return (
        f"HubSpot did not grant Quolum the {LOGIN_SCOPE} scope, so logins are unknown: "
        "users count as active by their CRM activity only."
    )


# --------------------------------------------------------------------------- the report


async def collect_hubspot(
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
    """Read one HubSpot portal's seats and usage over `period` (see the module docstring).

    `scopes`: the scopes the connection was granted (None: unknown, try everything and let
    403s decide). `account_id` is the portal id: it keys the rate-limit windows.
    """
    run = _Collection(http, auth, base_url, account_id, period, scopes)

    async def seats_then_logins() -> tuple[list[SeatUser], set[str], _Logins | None]:
        users, roles = await run_all(run.users(), run.billing_roles())
        logins = await run.logins({u.user_id for u in users if is_paid(u, roles)})
        return users, roles, logins

    (users, roles, logins), owners, *tallies = await run_all(
        seats_then_logins(), run.owners(), *(run.search_type(spec) for spec in OBJECTS)
    )
    activity, per_user = _merge(tallies, owners, logins)
    seats = _seats(users, roles, per_user, logins)
    used = ((SIGNAL_LOGINS,) if logins is not None else ()) + (
        (SIGNAL_CRM,) if any(t is not None for t in tallies) else ()
    )
    return UsageReport(
        team_id=team_id,
        provider=PROVIDER,
        account=Account(id=account_id, name=account_name),
        period=period,
        seats=seats,
        activity=activity,
        signals=Signals(used=used, unavailable=tuple(sorted(run.unavailable, key=_signal_order))),
        collected_at=clock(),
        per_user={user: dict(sorted(counts.items())) for user, counts in sorted(per_user.items()) if counts},
    )


def _merge(
    tallies: list[_Tally | None], owners: Mapping[str, str], logins: _Logins | None
) -> tuple[dict[str, int | None], dict[str, Counter[str]]]:
    """Account-level features (None: unavailable) and per-user counts, owners resolved to users."""
    activity: dict[str, int | None] = dict.fromkeys(HUBSPOT_FEATURES, None)
    per_user: dict[str, Counter[str]] = {}
    for spec, tally in zip(OBJECTS, tallies, strict=True):
        if tally is None:
            continue
        for feature in spec.features:
            activity[feature] = tally.activity[feature]
        for user, counts in tally.by_user.items():
            per_user.setdefault(user, Counter()).update(counts)
        for owner, counts in tally.by_owner.items():
            if (user := owners.get(owner)) is not None:
                per_user.setdefault(user, Counter()).update(counts)
    if logins is not None:
        activity[SIGNAL_LOGINS] = sum(logins.in_period.values())
        for user, count in logins.in_period.items():
            per_user.setdefault(user, Counter())[SIGNAL_LOGINS] = count
    return activity, per_user


def _seats(
    users: list[SeatUser],
    billing_roles: set[str],
    per_user: Mapping[str, Counter[str]],
    logins: _Logins | None,
) -> Seats:
    active = active_paid = paid = 0
    inactive: list[InactiveSeat] = []
    for user in users:
        counts = per_user.get(user.user_id, Counter())
        crm_actions = sum(n for feature, n in counts.items() if feature != SIGNAL_LOGINS)
        user_logins = logins.in_period[user.user_id] if logins is not None else None
        is_user_active, _ = is_active(user_logins, crm_actions)
        user_paid = is_paid(user, billing_roles)
        active += is_user_active
        paid += user_paid
        active_paid += is_user_active and user_paid
        if user_paid and not is_user_active:
            last = logins.last_before_end.get(user.user_id) if logins is not None else None
            inactive.append(
                InactiveSeat(user.user_id, user.email, from_ms(last) if last is not None else None)
            )
    return Seats(
        total_users=len(users),
        paid_seats=paid,
        active_users=active,
        active_paid_users=active_paid,
        inactive_paid_users=tuple(sorted(inactive, key=inactive_order)),
        seat_types=seat_counts([name for user in users for name in user.seat_names]),
    )
