"""HubSpot seats and usage for one portal and one period, as a `UsageReport`.

Calls (all through `ProviderHTTP`, so retries, 401 refresh and the per-portal limiter apply):

- ``GET /settings/v3/users/?limit=100`` (paged): users and their paid seats (`seatNames`);
- ``GET /settings/v3/users/roles``: roles with `requiresBillingWrite` also mark paid seats;
- ``GET /crm/v3/owners?limit=500`` and ``...&archived=true``: owner id -> user id, deactivated
  users included (records keep the owner id of someone who has left);
- ``GET /settings/v3/users/teams`` when ``settings.users.teams.read`` is granted (or may be):
  team names, so inactive seats can be grouped by each user's primary team (`primaryTeamId`);
- ``GET /account-info/v3/activity/login?limit=200`` (paged) when the scope
  ``account-info.security.read`` is granted: successful logins in the period, and the last one
  before it for users idle in the period. HubSpot keeps 90 days of history and does not document
  the order: every page is counted whatever its order, and paging stops early only while the
  history has come newest first (every attempt no later than the one before), once past the
  period's start with every paid user's last login known; any other order is read to the end;
- one CRM search per object type (8, through the limiter's ``"search"`` bucket, limit 200, only the
  properties needed, sorted by creation date), each page tallied and dropped as it arrives
  (`providers/hubspot/records.py` decodes only the counted fields).

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
event (`providers.usage.is_active`); the report says which signals were available, and
`seats.active_means` says it in words.

A 403 MISSING_SCOPES on an object type (or a scope we know is not granted) makes that type's
features null and lists it in `signals.unavailable`; the rest carries on. Missing user access
(settings) fails the report: there is nothing to report without users.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import msgspec

from core.periods import Period
from core.reports import Account, Signals, Team, Unavailable, UsageReport
from providers.collect import run_all
from providers.http import Auth, MissingScopes, ProviderError, ProviderHTTP
from providers.hubspot.figures import activity_figures, summary_figures
from providers.hubspot.records import (
    OBJECTS,
    UPDATE_GRACE_MS,
    LoginTally,
    ObjectSpec,
    Page,
    TypeTally,
    from_ms,
    parse_ms,
    read_login_page,
    read_search_page,
    record_events,
)
from providers.hubspot.seats import merge, seats_of
from providers.pagination import CursorGuard, cursor_pages
from providers.usage import SIGNAL_CRM, SIGNAL_LOGINS, Clock, SeatUser, is_paid

__all__ = [
    "OBJECTS",
    "UPDATE_GRACE_MS",
    "ObjectSpec",
    "collect_hubspot",
    "from_ms",
    "parse_ms",
    "record_events",
    "search_body",
    "split_window",
]

PROVIDER = "hubspot"
USERS_PAGE, OWNERS_PAGE, LOGINS_PAGE, SEARCH_PAGE = 100, 500, 200, 200
MAX_SEARCH_RESULTS = 10_000
LOGIN_SCOPE = "account-info.security.read"
TEAMS_SCOPE = "settings.users.teams.read"
_JSON = {"Content-Type": "application/json"}


# --------------------------------------------------------------------------- pure helpers


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


def scope_reason(what: str, scope: str) -> str:
    return f"HubSpot did not grant Quolum the {scope} scope, so {what} could not be read."


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

    def _lacks(self, scope: str) -> bool:
        return self.scopes is not None and scope not in self.scopes

    # --- plain listings

    async def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self.http.get_json(
            f"{self.base}{path}", auth=self.auth, account_key=self.key, params=params
        )

    async def _raw(self, method: str, path: str, bucket: str | None = None, **kwargs: Any) -> bytes:
        response = await self.http.request(
            method, f"{self.base}{path}", auth=self.auth, account_key=self.key, bucket=bucket, **kwargs
        )
        return response.content

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
                team_id=str(u["primaryTeamId"]) if u.get("primaryTeamId") not in (None, "") else None,
                name=_full_name(u),
                admin=u.get("superAdmin") is True,
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

    async def teams(self) -> dict[str, Team] | None:
        """team id -> Team; None when the scope is missing (inactive seats are then not grouped)."""
        if self._lacks(TEAMS_SCOPE):
            return None
        try:
            body = await self._get("/settings/v3/users/teams") or {}
        except ProviderError as error:  # teams are a nicety: without them seats are not grouped
            if isinstance(error, MissingScopes) or error.status in (403, 404):
                return None
            raise
        return {
            str(t["id"]): Team(str(t["id"]), str(t.get("name") or t["id"]))
            for t in body.get("results") or []
            if isinstance(t, dict) and t.get("id") is not None
        }

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

    async def logins(self, paid_users: set[str]) -> LoginTally | None:
        """Successful logins, counted whatever the order HubSpot lists them in (module docstring)."""
        if self._lacks(LOGIN_SCOPE):
            self.unavailable.append(Unavailable(SIGNAL_LOGINS, _login_reason()))
            return None
        tally = LoginTally(self.p0, self.p1)
        waiting = set(paid_users)
        guard = CursorGuard(PROVIDER)
        params: dict[str, Any] = {"limit": LOGINS_PAGE}
        path = "/account-info/v3/activity/login"
        try:
            while True:
                page = self._decoded(read_login_page, await self._raw("GET", path, params=params))
                waiting -= tally.count(page)
                if page.after is None:
                    break
                if tally.newest_first and tally.past_start() and not waiting:
                    break  # newest first so far, past the period, every paid user's last login known
                params = {"limit": LOGINS_PAGE, "after": guard.next(page.after)}
        except MissingScopes:
            self.unavailable.append(Unavailable(SIGNAL_LOGINS, _login_reason()))
            return None
        return tally

    def _decoded(self, read, raw: bytes, *args: Any) -> Page:
        try:
            return read(raw, *args)
        except ValueError:
            raise ProviderError(
                "HubSpot answered with a body that is not the JSON expected.", provider=PROVIDER
            ) from None

    # --- CRM search

    async def search_type(self, spec: ObjectSpec) -> TypeTally | None:
        if spec.scope and self._lacks(spec.scope):
            self.unavailable.append(Unavailable(spec.object_type, scope_reason(spec.object_type, spec.scope)))
            return None
        tally = TypeTally(spec, self.p0, self.p1)
        try:
            await self._search_window(spec, self.p0, self.p1, tally)
        except MissingScopes as error:
            reason = f"HubSpot did not grant the scope needed to read {spec.object_type} ({error.message})"
            self.unavailable.append(Unavailable(spec.object_type, reason))
            return None
        return tally

    async def _search(self, spec: ObjectSpec, body: dict[str, Any]) -> Page:
        path = f"/crm/v3/objects/{spec.object_type}/search"
        raw = await self._raw("POST", path, "search", content=msgspec.json.encode(body), headers=_JSON)
        return self._decoded(read_search_page, raw, spec)

    async def _search_window(self, spec: ObjectSpec, low: int, high: int, tally: TypeTally) -> None:
        body = search_body(spec, low, high, self.p0)
        page = await self._search(spec, body)
        if page.total > MAX_SEARCH_RESULTS:
            halves = split_window(low, high)
            if halves is None:
                raise ProviderError(
                    f"HubSpot has more than {MAX_SEARCH_RESULTS:,} {spec.object_type} at one instant; "
                    "they cannot all be read.",
                    provider=PROVIDER,
                )
            await run_all(*(self._search_window(spec, a, b, tally) for a, b in halves))
            return
        guard = CursorGuard(PROVIDER)
        while True:
            tally.count(page)
            if page.after is None:
                return
            page = await self._search(spec, body | {"after": guard.next(page.after)})


def _full_name(user: Mapping[str, Any]) -> str | None:
    parts = [str(user[k]).strip() for k in ("firstName", "lastName") if user.get(k)]
    return " ".join(p for p in parts if p) or None


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

    async def seats_then_logins() -> tuple[list[SeatUser], set[str], LoginTally | None]:
        users, roles = await run_all(run.users(), run.billing_roles())
        logins = await run.logins({u.user_id for u in users if is_paid(u, roles)})
        return users, roles, logins

    (users, roles, logins), owners, teams, *tallies = await run_all(
        seats_then_logins(), run.owners(), run.teams(), *(run.search_type(spec) for spec in OBJECTS)
    )
    activity, per_user = merge(tallies, owners, logins)
    seats = seats_of(users, roles, per_user, logins, teams)
    used = ((SIGNAL_LOGINS,) if logins is not None else ()) + (
        (SIGNAL_CRM,) if any(t is not None for t in tallies) else ()
    )
    return UsageReport(
        team_id=team_id,
        provider=PROVIDER,
        account=Account(id=account_id, name=account_name),
        period=period,
        seats=seats,
        activity=activity_figures(activity),
        summary=summary_figures(activity),
        signals=Signals(used=used, unavailable=tuple(sorted(run.unavailable, key=_signal_order))),
        collected_at=clock(),
        per_user={user: dict(sorted(counts.items())) for user, counts in sorted(per_user.items()) if counts},
    )
