"""collect_hubspot against the HubSpot stand-in over real HTTP, checked against the seed's own data.

Expected figures are computed here from the seed's plain dataclasses with the rules the module
documents, never with the collector's helpers. Most tests run on `ScaledTime` (the client's
limiter, its retry sleeps and the stand-in's clock all run 20x faster, consistently); the
real-time, real-limiter run of many portals is in test_collect.py.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core.periods import Period, parse_period, today_in
from providers.http import ProviderHTTP
from providers.http_client import provider_client
from providers.hubspot.entry import LIMITS as HUBSPOT_LIMITS
from providers.hubspot.entry import POLICY as HUBSPOT
from providers.hubspot.records import LoginTally, TypeTally, read_login_page, read_search_page
from providers.hubspot.usage import (
    OBJECTS,
    collect_hubspot,
    from_ms,
    parse_ms,
    record_events,
    search_body,
    split_window,
)
from providers.ratelimit import Bucket, Limiter, ProviderLimits
from sandbox.standins.hubspot import HubSpotStandIn
from sandbox.standins.hubspot_model import PortalData
from sandbox.standins.hubspot_seed import Burst, generate_portal
from sandbox.standins.server import serve_in_thread

NOW = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)
SEED_START, SEED_END = NOW - timedelta(days=75), NOW - timedelta(hours=2)
TZ = "America/New_York"
PERIOD = parse_period("last-30-days", timezone=TZ, today=today_in(TZ, NOW))  # 2026-05-02..05-31
REQUIRED = ["oauth", "settings.users.read", "crm.objects.owners.read", "crm.objects.contacts.read"]
OPTIONAL = ["account-info.security.read", "crm.objects.companies.read", "crm.objects.deals.read"]
ALL_SCOPES = REQUIRED + OPTIONAL
CRM_TYPES = ("contacts", "companies", "deals")
ENGAGEMENTS = ("calls", "emails", "meetings", "notes", "tasks")
GRACE_MS = 60_000  # the documented "updated" rule: modified more than a minute after creation

# Slower buckets than the bot's (providers/ratelimit.py's HUBSPOT_LIMITS) for tests on ScaledTime:
# at 20x, a millisecond of scheduling jitter is 20 ms of the stand-in's time, more than the bot's
# 50 ms arrival margin allows for; one search per 250 ms and 100 calls per 10 s meet no 429.
PACED_LIMITS = {"hubspot": ProviderLimits(buckets={"default": Bucket(100, 10.0), "search": Bucket(1, 0.25)})}


# --------------------------------------------------------------------------- helpers (shared)


class ScaledTime:
    """One clock for client and stand-in, running `speed` times faster than real time."""

    def __init__(self, start: datetime, speed: float = 20.0) -> None:
        self.base, self.speed, self.t0 = start.timestamp(), speed, time.perf_counter()

    def time(self) -> float:
        return self.base + (time.perf_counter() - self.t0) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)


class AppSwitch:
    """One real server per module; each test points it at its own stand-in."""

    def __init__(self) -> None:
        self.app = None

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)


class TokenAuth:
    """Bearer auth with a real refresh against the stand-in's token endpoint.

    Concurrent 401s share one refresh: a refresh asked for within `share_seconds` of the last
    one reuses it (the token every waiting request failed with has already been replaced).
    """

    def __init__(self, tokens: dict, base_url: str, clock, share_seconds: float = 60.0) -> None:
        self.access, self.refresh_token = tokens["access_token"], tokens["refresh_token"]
        self.base_url, self.clock, self.share = base_url, clock, share_seconds
        self.refresh_calls = 0
        self._last: float | None = None
        self._lock = asyncio.Lock()

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}

    async def refresh(self) -> bool:
        self.refresh_calls += 1
        async with self._lock:
            if self._last is not None and self.clock() - self._last < self.share:
                return True
            form = {
                "grant_type": "refresh_token",
                "refresh_token": self.refresh_token,
                "client_id": "test-client-id",
                "client_secret": "test-client-secret",
            }
            async with httpx.AsyncClient() as client:
                response = await client.post(f"{self.base_url}/oauth/2026-03/token", data=form)
            if response.status_code != 200:
                return False
            self.access = response.json()["access_token"]
            self._last = self.clock()
            return True


@dataclass
class Sent:
    """Requests that were answered 2xx, from an httpx event hook (retried attempts left out)."""

    requests: list[tuple[str, str, dict, dict | None]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (status, path) of the others

    async def hook(self, response: httpx.Response) -> None:
        request = response.request
        if not response.is_success:
            self.refused.append((response.status_code, request.url.path))
        else:
            body = json.loads(request.content) if request.content else None
            self.requests.append((request.method, request.url.path, dict(request.url.params), body))

    def paths(self, prefix: str) -> list[tuple[str, str, dict, dict | None]]:
        return [r for r in self.requests if r[1].startswith(prefix)]


def make_http(
    client: httpx.AsyncClient, clock: ScaledTime | None, *, timeout: float = 5.0, limiter=None
) -> ProviderHTTP:
    if clock is None:  # real time, real limiter
        return ProviderHTTP(client, HUBSPOT, limiter=limiter or Limiter(PACED_LIMITS), timeout=timeout)
    limiter = limiter or Limiter(PACED_LIMITS, clock=clock.time, sleep=clock.sleep)
    return ProviderHTTP(
        client, HUBSPOT, limiter=limiter, sleep=clock.sleep, clock=clock.time, timeout=timeout
    )


def seeded_portal(seed: int, portal_id: int, **overrides) -> PortalData:
    options = {"n_users": 30, "records_per_type": 300} | overrides
    return generate_portal(seed, portal_id=portal_id, start=SEED_START, end=SEED_END, **options)


def expected_hubspot(
    portal: PortalData,
    period: Period,
    *,
    types: tuple[str, ...] = CRM_TYPES + ENGAGEMENTS,
    logins: bool = True,
    owners: bool = True,
) -> dict:
    """The report's figures, straight from the seed (the module's documented rules, restated)."""
    p0 = int(period.start_utc.timestamp() * 1000)
    p1 = int(period.end_utc.timestamp() * 1000)
    owner_user = {o.id: o.user_id_including_inactive for o in portal.owners} if owners else {}
    activity: dict[str, int | None] = {}
    per_user: dict[str, Counter] = defaultdict(Counter)

    def credit(feature: str, actor: int | None, owner: int | None) -> None:
        activity[feature] += 1
        who = actor if actor is not None else owner_user.get(owner)
        if who is not None:
            per_user[str(who)][feature] += 1

    for object_type in CRM_TYPES + ENGAGEMENTS:
        crm = object_type in CRM_TYPES
        created, updated = (
            (f"{object_type}_created", f"{object_type}_updated")
            if crm
            else (
                f"{object_type}_logged",
                None,
            )
        )
        if object_type not in types:
            activity[created] = None
            if updated:
                activity[updated] = None
            continue
        activity[created] = 0
        if updated:
            activity[updated] = 0
        for r in portal.records[object_type]:
            if r.archived:
                continue
            if p0 <= r.created_ms < p1:
                credit(created, r.created_by_user_id, r.owner_id)
            if updated and p0 <= r.updated_ms < p1 and r.updated_ms - r.created_ms > GRACE_MS:
                credit(updated, r.updated_by_user_id, r.owner_id)

    succeeded = [a for a in portal.logins if a.login_succeeded]
    in_period = Counter(str(a.user_id) for a in succeeded if p0 <= a.login_at_ms < p1)
    if logins:
        activity["logins"] = sum(in_period.values())
        for user, count in in_period.items():
            per_user[user]["logins"] = count
    else:
        activity["logins"] = None

    billing = {r.id for r in portal.roles if r.requires_billing_write}
    paid = {str(u.id) for u in portal.users if u.seat_names or any(r in billing for r in u.role_ids)}
    active = set()
    for u in portal.users:
        uid = str(u.id)
        crm_actions = sum(n for f, n in per_user.get(uid, {}).items() if f != "logins")
        if (logins and in_period[uid] > 0) or crm_actions > 0:
            active.add(uid)
    last_login = {}
    for a in succeeded:
        if a.login_at_ms < p1:
            last_login[str(a.user_id)] = max(last_login.get(str(a.user_id), 0), a.login_at_ms)
    inactive = []
    for u in portal.users:
        uid = str(u.id)
        if uid in paid and uid not in active:
            last = last_login.get(uid) if logins else None
            when = datetime.fromtimestamp(last / 1000, UTC) if last else None
            inactive.append({"user_id": uid, "email": u.email, "last_active": when})
    inactive.sort(key=lambda s: (s["last_active"] is not None, s["last_active"] or NOW, s["email"]))
    seat_types = Counter(name for u in portal.users for name in u.seat_names)
    return {
        "activity": activity,
        "per_user": {user: dict(counts) for user, counts in per_user.items() if counts},
        "seats": {
            "total_users": len(portal.users),
            "paid_seats": len(paid),
            "active_users": len(active),
            "active_paid_users": len(active & paid),
            "inactive_paid_users": inactive,
            "seat_types": dict(seat_types),
        },
    }


def observed(report) -> dict:
    seats = report.seats
    return {
        "activity": report.values(),
        "per_user": {user: dict(counts) for user, counts in report.per_user.items()},
        "seats": {
            "total_users": seats.total_users,
            "paid_seats": seats.paid_seats,
            "active_users": seats.active_users,
            "active_paid_users": seats.active_paid_users,
            "inactive_paid_users": [
                {"user_id": s.user_id, "email": s.email, "last_active": s.last_active}
                for s in seats.inactive_paid_users
            ],
            "seat_types": dict(seats.seat_types),
        },
    }


async def collect(standin_url, http, auth, portal: PortalData, *, scopes=ALL_SCOPES, clock=None):
    return await collect_hubspot(
        http,
        auth,
        base_url=standin_url,
        team_id="T0001",
        account_id=str(portal.portal_id),
        account_name=portal.domain,
        period=PERIOD,
        scopes=set(scopes) if scopes is not None else None,
        clock=clock.now if clock else (lambda: NOW),
    )


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def served():
    switch = AppSwitch()
    with serve_in_thread(switch) as server:
        yield switch, server.url


@dataclass
class World:
    standin: HubSpotStandIn
    url: str
    clock: ScaledTime
    sent: Sent

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(event_hooks={"response": [self.sent.hook]})

    def auth(self, portal_id: int, scopes=ALL_SCOPES) -> TokenAuth:
        return TokenAuth(self.standin.issue_tokens(portal_id, scopes), self.url, self.clock.time)


@pytest.fixture
def world(served) -> World:
    switch, url = served
    clock = ScaledTime(NOW)
    standin = HubSpotStandIn(clock=clock.time)
    switch.app = standin.app
    return World(standin, url, clock, Sent())


@pytest.fixture(scope="module")
def portal() -> PortalData:
    """80 users, sparse CRM activity, and three paid users who stopped logging in before the period."""
    portal = seeded_portal(11, 101, n_users=80, records_per_type=40)
    before = expected_hubspot(portal, PERIOD)
    billing = {r.id for r in portal.roles if r.requires_billing_write}
    idle = [
        u.id
        for u in portal.users
        if (u.seat_names or set(u.role_ids) & billing)
        and set(before["per_user"].get(str(u.id), {})) == {"logins"}
    ][:3]
    assert len(idle) == 3
    portal.logins = [a for a in portal.logins if not (a.user_id in idle and a.login_at_ms >= PERIOD.start_ms)]
    return portal


# --------------------------------------------------------------------------- end to end


async def test_every_figure_matches_the_seed(world, portal):
    world.standin.add_portal(portal)
    async with world.client() as client:
        report = await collect(
            world.url, make_http(client, world.clock), world.auth(101), portal, clock=world.clock
        )

    assert observed(report) == expected_hubspot(portal, PERIOD)
    assert report.signals.used == ("logins", "crm_activity") and report.signals.unavailable == ()
    assert (report.provider, report.team_id, report.account.id, report.period) == (
        "hubspot",
        "T0001",
        "101",
        PERIOD,
    )
    # the seed is varied enough for the comparison to mean something
    assert 0 < report.seats.active_users < report.seats.total_users
    assert report.seats.inactive_paid_users and all(report.values().values())
    assert any(s.last_active is not None for s in report.seats.inactive_paid_users)


async def test_calls_use_maximum_page_sizes_and_one_search_per_type(world, portal):
    world.standin.add_portal(portal)
    async with world.client() as client:
        await collect(world.url, make_http(client, world.clock), world.auth(101), portal, clock=world.clock)

    sent = world.sent
    users = [r for r in sent.requests if r[1] == "/settings/v3/users/"]
    assert [r[2] for r in users] == [{"limit": "100"}]  # 80 users: one page
    assert [r[1] for r in sent.paths("/settings/v3/users/roles")] == ["/settings/v3/users/roles"]
    assert [r[2] for r in sent.paths("/crm/v3/owners")] == [
        {"limit": "500", "archived": "false"},
        {"limit": "500", "archived": "true"},
    ]
    assert {r[2]["limit"] for r in sent.paths("/account-info/v3/activity/login")} == {"200"}
    searches = sent.paths("/crm/v3/objects/")
    assert Counter(r[1].split("/")[4] for r in searches) == Counter(s.object_type for s in OBJECTS)
    for *_, body in searches:
        assert body["limit"] == 200 and len(body["sorts"]) == 1
        assert "hubspot_owner_id" in body["properties"] and len(body["properties"]) <= 5


def with_dormant_logins(portal: PortalData) -> PortalData:
    """A copy where the dormant users log in once, long ago: newest first, history need not be read
    to the end."""
    portal = copy.deepcopy(portal)
    seen = {a.user_id for a in portal.logins if a.login_succeeded}
    template = portal.logins[0]
    at = int((SEED_START + timedelta(days=20)).timestamp() * 1000)
    for user in portal.users:
        if user.id not in seen:
            portal.logins.append(
                dataclasses.replace(
                    template, id=user.id, login_at_ms=at, user_id=user.id, login_succeeded=True
                )
            )
    portal.logins.sort(key=lambda a: a.login_at_ms, reverse=True)
    return portal


async def test_login_paging_stops_once_every_paid_user_has_been_seen(world, portal):
    portal = with_dormant_logins(portal)
    world.standin.add_portal(portal)
    async with world.client() as client:
        report = await collect(
            world.url, make_http(client, world.clock), world.auth(101), portal, clock=world.clock
        )

    assert observed(report) == expected_hubspot(portal, PERIOD)
    pages = len(world.sent.paths("/account-info/v3/activity/login"))
    assert pages < -(-len(portal.logins) // 200)


@pytest.mark.parametrize("order", ["oldest", "shuffled"])
async def test_logins_count_right_in_any_order(world, portal, order):
    """HubSpot does not document the order of login history: oldest first or shuffled, the count holds."""
    portal = with_dormant_logins(portal)  # newest first, paging could stop early
    world.standin.add_portal(portal)
    world.standin.login_order = order
    async with world.client() as client:
        report = await collect(
            world.url, make_http(client, world.clock), world.auth(101), portal, clock=world.clock
        )

    assert observed(report) == expected_hubspot(portal, PERIOD)
    pages = len(world.sent.paths("/account-info/v3/activity/login"))
    in_history = [a for a in portal.logins if a.login_at_ms >= (NOW - timedelta(days=90)).timestamp() * 1000]
    assert pages == -(-len(in_history) // 200)  # not newest first: read to the end


async def test_inactive_seats_are_grouped_by_hubspot_team(world, portal):
    world.standin.add_portal(portal)
    scopes = ALL_SCOPES + ["settings.users.teams.read"]
    async with world.client() as client:
        report = await collect(
            world.url,
            make_http(client, world.clock),
            world.auth(101, scopes),
            portal,
            scopes=scopes,
            clock=world.clock,
        )

    expected = expected_hubspot(portal, PERIOD)
    assert observed(report) == expected
    names = {t.id: t.name for t in portal.teams}
    team_of = {str(u.id): u.primary_team_id for u in portal.users}
    user_of = {str(u.id): u for u in portal.users}
    for seat in report.seats.inactive_paid_users:
        wanted = team_of[seat.user_id]
        assert (seat.team.id, seat.team.name) == (wanted, names[wanted]) if wanted else seat.team is None
        user = user_of[seat.user_id]  # each idle seat is a person: name and seat type from Settings
        assert seat.name == f"{user.first_name} {user.last_name}".strip()
        assert seat.seat_type == (", ".join(user.seat_names) or None)
    assert report.seats.active_means == "signed in, or created, changed or logged a CRM record"
    billing = {r.id for r in portal.roles if r.requires_billing_write}
    paid = [u for u in portal.users if u.seat_names or set(u.role_ids) & billing]
    inactive = {s["user_id"] for s in expected["seats"]["inactive_paid_users"]}
    rows = {(row.team.id if row.team else None): row for row in report.seats.teams}
    assert set(rows) == {u.primary_team_id for u in paid}
    for team_id, row in rows.items():
        members = [str(u.id) for u in paid if u.primary_team_id == team_id]
        assert row.paid_seats == len(members)
        assert row.inactive_paid_users == len(set(members) & inactive)
        assert row.active_paid_users == row.paid_seats - row.inactive_paid_users
    assert sum(r.inactive_paid_users for r in report.seats.teams) == len(inactive) > 0
    json_team = report.to_json()["seats"]["inactive_paid_users"][0]["team"]
    assert json_team is None or set(json_team) == {"id", "name"}


async def test_teams_refused_by_hubspot_leave_seats_ungrouped_and_the_rest_intact(world, portal):
    world.standin.add_portal(portal)
    world.standin.faults.fail_next("/settings/v3/users/teams", status=403, body={"status": "error"})
    scopes = ALL_SCOPES + ["settings.users.teams.read"]
    async with world.client() as client:
        http = make_http(client, world.clock)
        report = await collect(
            world.url, http, world.auth(101, scopes), portal, scopes=scopes, clock=world.clock
        )
    assert observed(report) == expected_hubspot(portal, PERIOD) and report.seats.teams is None


async def test_without_the_teams_scope_seats_are_not_grouped_and_no_call_is_made(world, portal):
    world.standin.add_portal(portal)
    async with world.client() as client:
        report = await collect(
            world.url, make_http(client, world.clock), world.auth(101), portal, clock=world.clock
        )
    assert report.seats.teams is None and all(s.team is None for s in report.seats.inactive_paid_users)
    assert not world.sent.paths("/settings/v3/users/teams")


async def test_a_period_over_10000_results_is_split_until_every_record_is_reachable(world):
    week = (datetime(2026, 5, 10, tzinfo=UTC), datetime(2026, 5, 17, tzinfo=UTC))
    portal = seeded_portal(
        3, 303, records_per_type={"contacts": 300, "notes": 50}, burst=Burst("contacts", 10_400, *week)
    )
    world.standin.add_portal(portal)
    async with world.client() as client:
        report = await collect(
            world.url, make_http(client, world.clock), world.auth(303), portal, clock=world.clock
        )

    expected = expected_hubspot(portal, PERIOD)
    assert observed(report) == expected
    assert expected["activity"]["contacts_created"] > 10_000
    windows = [
        body["filterGroups"][0]["filters"][0]
        for _, path, _, body in world.sent.paths("/crm/v3/objects/contacts/search")
        if "after" not in body
    ]
    assert len(windows) >= 3  # the whole period, then at least two halves
    assert (
        max(int(body.get("after", 0)) + body["limit"] for *_, body in world.sent.paths("/crm/v3/objects/"))
        <= 10_000
    )


async def test_without_the_login_scope_users_are_active_by_crm_activity_only(world, portal):
    world.standin.add_portal(portal)
    async with world.client() as client:
        http = make_http(client, world.clock)
        report = await collect(
            world.url, http, world.auth(101, REQUIRED), portal, scopes=REQUIRED, clock=world.clock
        )

    expected = expected_hubspot(portal, PERIOD, types=("contacts",) + ENGAGEMENTS, logins=False)
    assert observed(report) == expected
    assert report.signals.used == ("crm_activity",)
    assert "sign-ins could not be read" in report.seats.active_means
    unavailable = {u.signal: u.reason for u in report.signals.unavailable}
    assert set(unavailable) == {"logins", "companies", "deals"}
    assert (
        "account-info.security.read" in unavailable["logins"] and "CRM activity only" in unavailable["logins"]
    )
    # known-missing scopes cost no call
    assert not world.sent.paths("/account-info/") and not world.sent.paths("/crm/v3/objects/deals")
    assert report.seats.inactive_paid_users and all(
        s.last_active is None for s in report.seats.inactive_paid_users
    )


async def test_a_403_missing_scopes_marks_that_feature_unavailable_and_carries_on(world, portal):
    world.standin.add_portal(portal)
    async with world.client() as client:
        http = make_http(client, world.clock)
        # we believe everything was granted; HubSpot knows better
        report = await collect(
            world.url, http, world.auth(101, REQUIRED), portal, scopes=ALL_SCOPES, clock=world.clock
        )

    assert observed(report) == expected_hubspot(
        portal, PERIOD, types=("contacts",) + ENGAGEMENTS, logins=False
    )
    assert {u.signal for u in report.signals.unavailable} == {"logins", "companies", "deals"}
    assert (403, "/crm/v3/objects/deals/search") in world.sent.refused  # asked, then gave up on deals only
    assert not world.sent.paths("/crm/v3/objects/deals") and world.sent.paths("/crm/v3/objects/calls")


async def test_without_owners_records_count_for_their_creator_only(world, portal):
    world.standin.add_portal(portal)
    scopes = [s for s in ALL_SCOPES if s != "crm.objects.owners.read"]
    async with world.client() as client:
        report = await collect(
            world.url,
            make_http(client, world.clock),
            world.auth(101, scopes),
            portal,
            scopes=None,
            clock=world.clock,
        )
    assert observed(report) == expected_hubspot(portal, PERIOD, owners=False)
    assert [u.signal for u in report.signals.unavailable] == ["owners"]


async def test_unknown_scopes_try_everything(world, portal):
    world.standin.add_portal(portal)
    async with world.client() as client:
        report = await collect(
            world.url, make_http(client, world.clock), world.auth(101), portal, scopes=None, clock=world.clock
        )
    assert observed(report) == expected_hubspot(portal, PERIOD)


async def test_faults_timeouts_slow_answers_and_429s_give_the_same_figures(world, portal):
    world.standin.add_portal(portal)
    faults = world.standin.faults
    faults.latency = 0.01
    faults.fail_next("/crm/v3/objects/contacts/search", status=502, count=2)
    faults.fail_next("/settings/v3/users", status=503)
    faults.fail_next("/crm/v3/owners", status=500)
    faults.fail_next(
        "/crm/v3/objects/deals/search",
        status=429,
        body={"status": "error", "errorType": "RATE_LIMIT", "policyName": "SECONDLY"},
    )
    faults.fail_next(
        "/account-info/v3/activity/login",
        status=429,
        body={"status": "error", "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"},
    )
    faults.hang_next("/crm/v3/objects/notes/search", seconds=1.5)
    faults.hang_next("/crm/v3/owners", seconds=1.5)
    async with world.client() as client:
        http = make_http(client, world.clock, timeout=0.4)
        report = await collect(world.url, http, world.auth(101), portal, clock=world.clock)

    assert observed(report) == expected_hubspot(portal, PERIOD)
    assert faults.injected == 8


async def test_the_bots_own_client_gives_the_same_figures_through_faults_and_timeouts(world, portal):
    """provider_client (httpx over aiohttp): 5xx, 429s and timeouts come out as httpx's own errors."""
    world.standin.add_portal(portal)
    faults = world.standin.faults
    faults.fail_next("/crm/v3/objects/contacts/search", status=502)
    faults.fail_next(
        "/crm/v3/objects/deals/search",
        status=429,
        body={"status": "error", "errorType": "RATE_LIMIT", "policyName": "SECONDLY"},
    )
    faults.hang_next("/crm/v3/objects/notes/search", seconds=1.5)
    faults.hang_next("/settings/v3/users", seconds=1.5)
    async with provider_client(event_hooks={"response": [world.sent.hook]}) as client:
        http = make_http(client, world.clock, timeout=0.4)
        report = await collect(world.url, http, world.auth(101), portal, clock=world.clock)

    assert observed(report) == expected_hubspot(portal, PERIOD)
    assert faults.injected == 4
    assert (502, "/crm/v3/objects/contacts/search") in world.sent.refused


async def test_the_bots_own_client_reports_a_timeout_as_one(world, portal):
    from providers.http import TransientError

    world.standin.add_portal(portal)
    world.standin.faults.hang_next("/settings/v3/users/roles", seconds=2.0)
    async with provider_client() as client:
        with pytest.raises(TransientError, match="timed out"):
            await make_http(client, world.clock, timeout=0.3).get_json(
                f"{world.url}/settings/v3/users/roles",
                auth=world.auth(101),
                account_key="101",
                max_retries=0,
            )


async def test_a_budget_spent_elsewhere_is_read_from_hubspots_headers_before_a_429(served, portal):
    """Another replica sent 106 of the portal's 110 requests in this 10 s window: the first answers'
    X-HubSpot-RateLimit-Remaining makes our limiter wait instead of running into 429s."""
    switch, url = served
    clock = ScaledTime(NOW, speed=5.0)  # slow enough that the replica's burst stays in the window
    world = World(HubSpotStandIn(clock=clock.time), url, clock, Sent())
    switch.app = world.standin.app
    world.standin.add_portal(portal)
    other = {"Authorization": f"Bearer {world.standin.issue_tokens(101, ALL_SCOPES)['access_token']}"}
    with httpx.Client(base_url=world.url) as replica:
        for _ in range(106):
            assert replica.get("/settings/v3/users/roles", headers=other).status_code == 200
    limiter = Limiter(
        {"hubspot": HUBSPOT_LIMITS}, clock=clock.time, sleep=clock.sleep
    )  # the bot's limits, which read the headers
    async with world.client() as client:
        http = make_http(client, world.clock, limiter=limiter)
        report = await collect(world.url, http, world.auth(101), portal, clock=world.clock)

    assert observed(report) == expected_hubspot(portal, PERIOD)
    assert world.standin.limiter.ten_secondly.violations == 0  # searches have their own limit
    assert not [path for status, path in world.sent.refused if status == 429 and "/search" not in path]


async def test_a_401_refreshes_once_then_retries(world, portal):
    world.standin.add_portal(portal)
    auth = world.auth(101)
    world.standin.expire_access_tokens()
    async with world.client() as client:
        report = await collect(world.url, make_http(client, world.clock), auth, portal, clock=world.clock)

    assert observed(report) == expected_hubspot(portal, PERIOD)
    assert [r["grant_type"] for r in world.standin.token_requests] == ["refresh_token"]
    assert auth.refresh_calls >= 1


async def test_a_failing_portal_raises_a_provider_error(world, portal):
    from providers.http import TransientError

    world.standin.add_portal(portal)
    world.standin.faults.fail_next("/crm/v3/objects/tasks/search", status=503, count=50)
    async with world.client() as client:
        with pytest.raises(TransientError):
            await collect(
                world.url, make_http(client, world.clock), world.auth(101), portal, clock=world.clock
            )


# --------------------------------------------------------------------------- pure parts, by table

SPEC = {s.object_type: s for s in OBJECTS}
P0, P1 = 1_000_000, 2_000_000


@pytest.mark.parametrize(
    ("object_type", "properties", "expected"),
    [
        # created in the period, never touched again: one creation, by its creator
        ("contacts", {"createdate": 1_500_000, "lastmodifieddate": 1_500_000, "hs_created_by_user_id": "7"},
         [("contacts_created", "7", None)]),
        # modified within the grace minute: still only a creation
        ("deals", {"createdate": 1_500_000, "hs_lastmodifieddate": 1_560_000, "hs_created_by_user_id": "7"},
         [("deals_created", "7", None)]),
        # created and updated in the period, by different people
        ("companies", {"createdate": 1_100_000, "hs_lastmodifieddate": 1_900_000, "hs_created_by_user_id": "7",
                       "hs_updated_by_user_id": "8", "hubspot_owner_id": "90"},
         [("companies_created", "7", "90"), ("companies_updated", "8", "90")]),
        # created before, updated in the period by an integration: the owner gets it
        ("contacts", {"createdate": 10, "lastmodifieddate": 1_200_000, "hubspot_owner_id": "90"},
         [("contacts_updated", None, "90")]),
        # created in the period, modified after it: a creation only
        ("contacts", {"createdate": 1_200_000, "lastmodifieddate": 2_500_000}, [("contacts_created", None, None)]),
        # end of the period is exclusive
        ("contacts", {"createdate": P1, "lastmodifieddate": P1}, []),
        ("contacts", {"createdate": P0, "lastmodifieddate": P0}, [("contacts_created", None, None)]),
        # engagements count when logged; updates do not count
        ("calls", {"hs_createdate": "1970-01-01T00:25:00.000Z", "hs_lastmodifieddate": 1_900_000,
                   "hs_created_by_user_id": "7"}, [("calls_logged", "7", None)]),
        ("notes", {"hs_createdate": 999_999}, []),
    ],
)  # fmt: skip
def test_record_events(object_type, properties, expected):
    assert record_events(SPEC[object_type], properties, P0, P1) == expected


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        ("2026-05-01T00:00:00.000Z", 1_777_593_600_000),
        ("2026-05-01T02:00:00+02:00", 1_777_593_600_000),
        ("1777593600000", 1_777_593_600_000),
        (1_777_593_600_000, 1_777_593_600_000),
        ("", None),
        (None, None),
    ],
)
def test_parse_ms(value, ms):
    assert parse_ms(value) == ms


@pytest.mark.parametrize(
    ("low", "high", "halves"),
    [(0, 10, ((0, 5), (5, 10))), (0, 3, ((0, 1), (1, 3))), (7, 9, ((7, 8), (8, 9))), (7, 8, None)],
)
def test_split_window(low, high, halves):
    assert split_window(low, high) == halves


def test_search_body_has_disjoint_groups_within_hubspot_limits():
    body = search_body(SPEC["deals"], 1_000, 2_000, 500)
    created, modified = body["filterGroups"]
    assert created["filters"] == [
        {"propertyName": "createdate", "operator": "BETWEEN", "value": "1000", "highValue": "1999"}
    ]
    assert modified["filters"] == [
        {"propertyName": "hs_lastmodifieddate", "operator": "BETWEEN", "value": "1000", "highValue": "1999"},
        {"propertyName": "createdate", "operator": "LT", "value": "500"},
    ]
    assert body["limit"] == 200 and body["sorts"] == [
        {"propertyName": "createdate", "direction": "ASCENDING"}
    ]
    assert len(search_body(SPEC["meetings"], 1_000, 2_000, 500)["filterGroups"]) == 1


def _tallied(raw: bytes, spec) -> tuple[bool, dict, dict]:
    page = read_search_page(raw, spec)
    tally = TypeTally(spec, P0, P1)
    tally.count(page)
    per_user: dict = {}
    tally.add_per_user(per_user, {"90": "9"})
    return page.typed, tally.activity(), {u: dict(c) for u, c in per_user.items()}


def test_a_page_in_another_shape_is_counted_the_same_by_the_tolerant_path():
    records = [  # created and updated in the period; an update by an integration (owner 90 -> user 9)
        {"createdate": "1970-01-01T00:25:00.000Z", "lastmodifieddate": "1970-01-01T00:31:40.000Z",
         "hs_created_by_user_id": "7", "hs_updated_by_user_id": "8", "hubspot_owner_id": "90"},
        {"createdate": "1970-01-01T00:00:00.010Z", "lastmodifieddate": "1970-01-01T00:20:00.000Z",
         "hubspot_owner_id": "90"},
        {"createdate": "1970-01-01T00:40:00.000Z", "lastmodifieddate": None},  # after the period
    ]  # fmt: skip
    typed = json.dumps({"total": 3, "results": [{"properties": r} for r in records]}).encode()
    odd_records = [dict(r) for r in records]
    odd_records[0] |= {"createdate": 1_500_000, "hs_created_by_user_id": "7.0"}  # a number, a float id
    odd_records[1] |= {"lastmodifieddate": "1200000", "hubspot_owner_id": 90}  # epoch ms string, number
    odd = json.dumps({"total": 3, "results": [{"properties": r} for r in odd_records]}).encode()

    fast, slow = _tallied(typed, SPEC["contacts"]), _tallied(odd, SPEC["contacts"])
    assert fast[0] is True and slow[0] is False
    assert (
        fast[1:]
        == slow[1:]
        == (
            {"contacts_created": 1, "contacts_updated": 2},
            {"7": {"contacts_created": 1}, "8": {"contacts_updated": 1}, "9": {"contacts_updated": 1}},
        )
    )


def test_login_pages_count_in_any_order_and_any_shape():
    attempts = [  # (loginAt, succeeded, userId)
        ("1970-01-01T00:20:00.000Z", True, 7),
        ("1970-01-01T00:10:00.000Z", True, 7),  # before the period: the last login before its end
        ("1970-01-01T00:30:00.000Z", False, 8),  # failed: not counted
        ("1970-01-01T00:40:00.000Z", True, 8),  # after the period
        ("1970-01-01T00:25:00.000Z", True, "8"),
    ]

    def tally(pages: list[list[tuple]], *, epoch_ms: bool = False) -> LoginTally:
        result = LoginTally(P0, P1)
        for page in pages:
            results = [
                {"loginAt": parse_ms(at) if epoch_ms else at, "loginSucceeded": ok, "userId": user}
                for at, ok, user in page
            ]
            result.count(read_login_page(json.dumps({"results": results}).encode()))
        return result

    newest = sorted(attempts, key=lambda a: a[0], reverse=True)
    for pages, ordered in (
        ([newest[:2], newest[2:]], True),
        ([newest[::-1]], False),
        ([attempts[:3], attempts[3:]], False),
    ):
        for epoch_ms in (False, True):
            result = tally(pages, epoch_ms=epoch_ms)
            assert result.in_period == {"7": 1, "8": 1}
            assert result.last_before_end == {"7": from_ms(1_200_000), "8": from_ms(1_500_000)}
            assert result.newest_first is ordered and result.past_start()
