"""The HubSpot stand-in, exercised through real HTTP (uvicorn in a thread + httpx)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandbox.standins.hubspot import HubSpotStandIn
from sandbox.standins.hubspot_model import OBJECT_TYPES, PortalData, Record
from sandbox.standins.hubspot_model import User as HubSpotUser
from sandbox.standins.hubspot_seed import Burst, generate_portal, to_ms
from sandbox.standins.server import AppSwitch, serve_in_thread

NOW = datetime(2026, 6, 1, tzinfo=UTC)
START, END = NOW - timedelta(days=120), NOW - timedelta(hours=1)
REDIRECT = "http://localhost:8765/hubspot/callback"
REQUIRED = ["oauth", "settings.users.read", "crm.objects.owners.read", "crm.objects.contacts.read"]
OPTIONAL = ["account-info.security.read", "crm.objects.companies.read", "crm.objects.deals.read"]
ALL_SCOPES = REQUIRED + OPTIONAL
CLIENT = {"client_id": "test-client-id", "client_secret": "test-client-secret"}


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def portal() -> PortalData:
    return generate_portal(7, portal_id=101, start=START, end=END, records_per_type=400)


@pytest.fixture
def standin(clock, portal) -> HubSpotStandIn:
    hub = HubSpotStandIn(clock=clock)
    hub.add_portal(portal)
    return hub


@pytest.fixture(scope="module")
def served():
    switch = AppSwitch()
    with serve_in_thread(switch) as server:
        yield switch, server.url


@pytest.fixture
def connect_to(served):
    switch, url = served

    def connect(standin: HubSpotStandIn) -> httpx.Client:
        switch.app = standin.app
        return httpx.Client(base_url=url, timeout=5)

    return connect


@pytest.fixture
def client(standin, connect_to):
    with connect_to(standin) as http:
        yield http


@pytest.fixture
def auth(standin) -> dict[str, str]:
    tokens = standin.issue_tokens(101, ALL_SCOPES)
    return {"Authorization": f"Bearer {tokens['access_token']}"}


# --- helpers -------------------------------------------------------------------------------


def authorize_params(**overrides) -> dict[str, str]:
    params = {
        "client_id": "test-client-id",
        "scope": " ".join(REQUIRED),
        "optional_scope": " ".join(OPTIONAL),
        "redirect_uri": REDIRECT,
        "state": "st-123",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def decide(client: httpx.Client, decision: str = "approve", **overrides) -> dict[str, list[str]]:
    """Submit the consent form; return the query of the redirect back to us."""
    response = client.post("/oauth/authorize/decision", data=authorize_params(decision=decision, **overrides))
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


def exchange(client: httpx.Client, auth_code: str, version: str = "2026-03", **overrides) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": auth_code,
        "redirect_uri": REDIRECT,
        **CLIENT,
        **overrides,
    }
    return client.post(f"/oauth/{version}/token", data=form)


def refresh(client: httpx.Client, refresh_token: str) -> httpx.Response:
    return client.post(
        "/oauth/2026-03/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token, **CLIENT}
    )


def connect(client: httpx.Client) -> dict:
    code = decide(client)["code"][0]
    response = exchange(client, code)
    assert response.status_code == 200, response.text
    return response.json()


def bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def assert_oauth_error(response: httpx.Response, status: str, error: str) -> None:
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["error"]) == (status, error)
    assert body["error_description"] and body["message"] and body["correlationId"]


def search(
    client, auth, object_type: str, body: dict, expect: int = 200, clock: FakeClock | None = None
) -> dict:
    if clock is not None:
        clock.advance(0.25)  # stay under 5 searches per second, as a client must
    response = client.post(f"/crm/v3/objects/{object_type}/search", headers=auth, json=body)
    assert response.status_code == expect, response.text
    return response.json()


def one_group(*filters: dict) -> dict:
    return {"filterGroups": [{"filters": list(filters)}], "limit": 1}


def live(portal: PortalData, object_type: str) -> list[Record]:
    return portal.live_records(object_type)


# --- consent page --------------------------------------------------------------------------


def test_consent_page_shows_app_portal_scopes_and_buttons(client):
    response = client.get("/oauth/authorize", params=authorize_params())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "Connect Quolum Bot to portal101.example.com" in page
    assert all(scope in page for scope in ALL_SCOPES)
    assert 'id="approve"' in page and "Connect app" in page
    assert 'id="deny"' in page and "Cancel" in page
    assert 'action="/oauth/authorize/decision"' in page and 'value="st-123"' in page


@pytest.mark.parametrize(
    "overrides",
    [{"client_id": "someone-else"}, {"redirect_uri": None}, {"scope": None}, {"scope": ""}],
    ids=["unknown-client", "no-redirect-uri", "no-scope", "empty-scope"],
)
def test_authorize_rejects_bad_requests_with_an_html_error_page(client, overrides):
    response = client.get("/oauth/authorize", params=authorize_params(**overrides))
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "Authorization failed" in response.text


def test_registered_redirect_uris_are_enforced(client, standin):
    standin.registered_redirect_uris = {"https://bot.example.com/hubspot/callback"}
    assert client.get("/oauth/authorize", params=authorize_params()).status_code == 400
    standin.registered_redirect_uris = None
    assert client.get("/oauth/authorize", params=authorize_params()).status_code == 200


def test_deny_and_deny_next_redirect_with_access_denied(client, standin):
    denied = decide(client, "deny")
    assert denied["error"] == ["access_denied"] and denied["state"] == ["st-123"]
    assert denied["error_description"][0] and "code" not in denied
    standin.deny_next = True
    assert decide(client, "approve")["error"] == ["access_denied"]
    assert "code" in decide(client, "approve")  # deny_next is one-shot


def test_install_target_can_be_chosen(client, standin):
    standin.add_portal(generate_portal(8, portal_id=202, start=START, end=END, records_per_type=5))
    assert "portal101.example.com" in client.get("/oauth/authorize", params=authorize_params()).text
    standin.next_install_portal = 202
    assert "portal202.example.com" in client.get("/oauth/authorize", params=authorize_params()).text
    assert connect(client)["hub_id"] == 202
    pinned = client.get("/oauth/101/authorize", params=authorize_params())
    assert "portal101.example.com" in pinned.text


# --- token endpoint ------------------------------------------------------------------------


def test_auth_code_flow_returns_tokens_usable_on_the_api(client, standin, clock):
    redirect = decide(client)
    assert redirect["state"] == ["st-123"]
    tokens = exchange(client, redirect["code"][0]).json()
    assert tokens["refresh_token"].startswith("na1-")
    assert tokens["access_token"] != tokens["refresh_token"]
    assert (tokens["expires_in"], tokens["token_type"]) == (1800, "bearer")
    assert tokens["token_use"] and tokens["hub_id"] == 101
    assert tokens["user_id"] == standin.portals[101].installer_user_id
    assert tokens["scopes"] == ALL_SCOPES
    assert standin.token_requests == [{"grant_type": "authorization_code", "at": clock.now}]
    details = client.get("/account-info/v3/details", headers=bearer(tokens))
    assert details.status_code == 200 and details.json()["portalId"] == 101


def test_grant_optional_limits_the_optional_scopes_granted(client, standin):
    standin.grant_optional = {"crm.objects.deals.read"}
    assert connect(client)["scopes"] == REQUIRED + ["crm.objects.deals.read"]


@pytest.mark.parametrize("version", ["v1", "v3", "2026-03", "2026-09"])
def test_every_token_endpoint_version_works(client, version):
    assert exchange(client, decide(client)["code"][0], version=version).status_code == 200


def test_unknown_token_endpoint_version_is_404(client):
    assert exchange(client, decide(client)["code"][0], version="v2").status_code == 404


def test_codes_are_single_use(client):
    code = decide(client)["code"][0]
    assert exchange(client, code).status_code == 200
    assert_oauth_error(exchange(client, code), "BAD_AUTH_CODE", "invalid_grant")


def test_codes_expire_after_a_minute(client, clock):
    code = decide(client)["code"][0]
    clock.advance(61)
    assert_oauth_error(exchange(client, code), "EXPIRED_AUTH_CODE", "invalid_grant")


@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"client_id": "nope"}, "BAD_CLIENT_ID", "invalid_client"),
        ({"client_secret": "nope"}, "BAD_CLIENT_SECRET", "invalid_client"),
        ({"redirect_uri": "http://localhost:9999/elsewhere"}, "BAD_REDIRECT_URI", "invalid_grant"),
        ({"code": "not-a-code"}, "BAD_AUTH_CODE", "invalid_grant"),
        ({"grant_type": "password"}, "BAD_GRANT_TYPE", "unsupported_grant_type"),
    ],
)
def test_token_endpoint_errors(client, overrides, status, error):
    assert_oauth_error(exchange(client, decide(client)["code"][0], **overrides), status, error)


def test_token_endpoint_rejects_json_bodies(client, standin):
    code = decide(client)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **CLIENT}
    assert_oauth_error(
        client.post("/oauth/2026-03/token", json=form), "BAD_GRANT_TYPE", "unsupported_grant_type"
    )
    assert standin.token_requests[-1]["grant_type"] is None
    assert exchange(client, code).status_code == 200  # the code was not consumed


def test_refresh_keeps_the_refresh_token_by_default(client, standin, clock):
    first = connect(client)
    clock.advance(1700)
    second = refresh(client, first["refresh_token"]).json()
    assert second["refresh_token"] == first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["expires_in"] == 1800 and second["hub_id"] == 101 and second["scopes"] == ALL_SCOPES
    assert [r["grant_type"] for r in standin.token_requests] == ["authorization_code", "refresh_token"]
    assert standin.token_requests[-1]["at"] == clock.now
    # the old access token stays valid until it expires
    assert client.get("/account-info/v3/details", headers=bearer(first)).status_code == 200


def test_refresh_rotates_when_asked(client, standin):
    standin.rotate_refresh_tokens = True
    first = connect(client)
    second = refresh(client, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"] and second["refresh_token"].startswith("na1-")
    assert_oauth_error(refresh(client, first["refresh_token"]), "BAD_REFRESH_TOKEN", "invalid_grant")
    assert refresh(client, second["refresh_token"]).status_code == 200


def test_unknown_refresh_token(client):
    assert_oauth_error(refresh(client, "na1-0000-unknown"), "BAD_REFRESH_TOKEN", "invalid_grant")


def test_revoke_then_refresh_is_bad_refresh_token(client, standin):
    tokens = connect(client)
    revoked = client.post("/oauth/2026-03/token/revoke", data={"token": tokens["refresh_token"], **CLIENT})
    assert revoked.status_code == 204
    assert standin.revoked == [tokens["refresh_token"]]
    assert_oauth_error(refresh(client, tokens["refresh_token"]), "BAD_REFRESH_TOKEN", "invalid_grant")
    api = client.get("/account-info/v3/details", headers=bearer(tokens))
    assert api.status_code == 401 and api.json()["category"] == "INVALID_AUTHENTICATION"


def test_v1_delete_refresh_token_revokes_it_and_live_tokens_are_counted(client, standin):
    first, second = connect(client), connect(client)
    assert standin.live_refresh_tokens(101) == 2 and standin.live_refresh_tokens() == 2
    deleted = client.delete(f"/oauth/v1/refresh-tokens/{first['refresh_token']}")
    assert deleted.status_code == 204 and not deleted.content
    assert standin.live_refresh_tokens(101) == 1 and standin.revoked == [first["refresh_token"]]
    assert refresh(client, first["refresh_token"]).json()["status"] == "BAD_REFRESH_TOKEN"
    assert refresh(client, second["refresh_token"]).status_code == 200
    assert client.delete("/oauth/v1/refresh-tokens/na1-unknown").status_code == 404


def test_revoke_checks_the_client(client):
    tokens = connect(client)
    response = client.post(
        "/oauth/v3/token/revoke", data={"token": tokens["refresh_token"], **CLIENT, "client_secret": "x"}
    )
    assert_oauth_error(response, "BAD_CLIENT_SECRET", "invalid_client")


def test_revoked_portal_answers_bad_hub(client, standin):
    tokens = connect(client)
    standin.revoke_portal(101)
    assert_oauth_error(refresh(client, tokens["refresh_token"]), "BAD_HUB", "access_denied")
    assert client.get("/account-info/v3/details", headers=bearer(tokens)).status_code == 401
    assert refresh(client, connect(client)["refresh_token"]).status_code == 200  # a new install works


def test_uninstall_revokes_the_connection(client, standin):
    tokens = connect(client)
    assert client.delete("/appinstalls/v3/external-install", headers=bearer(tokens)).status_code == 204
    assert standin.revoked == [tokens["refresh_token"]]
    assert_oauth_error(refresh(client, tokens["refresh_token"]), "BAD_REFRESH_TOKEN", "invalid_grant")


def test_introspect_active_and_inactive(client, clock):
    tokens = connect(client)

    def introspect(token: str) -> dict:
        response = client.post("/oauth/2026-03/token/introspect", data={"token": token, **CLIENT})
        assert response.status_code == 200
        return response.json()

    clock.advance(100)
    access = introspect(tokens["access_token"])
    assert access["active"] is True and access["expires_in"] == 1700
    assert access["hub_id"] == 101 and access["hub_domain"] == "portal101.example.com"
    assert access["user"].endswith("@portal101.example.com") and access["user_id"] == tokens["user_id"]
    assert access["scopes"] == ALL_SCOPES and access["client_id"] == "test-client-id"
    assert access["app_id"] and access["token_type"] and access["token_use"]
    assert introspect(tokens["refresh_token"])["active"] is True
    assert introspect("garbage") == {"active": False}
    clock.advance(1700)
    assert introspect(tokens["access_token"]) == {"active": False}


# --- API auth, scopes, errors --------------------------------------------------------------


def test_api_401_invalid_and_expired(client, standin, clock, auth):
    missing = client.get("/settings/v3/users/")
    assert missing.status_code == 401 and missing.json()["category"] == "INVALID_AUTHENTICATION"
    bogus = client.get("/settings/v3/users/", headers={"Authorization": "Bearer nope"})
    assert bogus.status_code == 401 and bogus.json()["category"] == "INVALID_AUTHENTICATION"
    assert bogus.json()["status"] == "error" and bogus.json()["correlationId"]
    standin.expire_access_tokens()
    clock.advance(5)
    expired = client.get("/settings/v3/users/", headers=auth)
    assert expired.status_code == 401
    assert expired.json()["category"] == "EXPIRED_AUTHENTICATION"
    assert expired.json()["message"] == "The OAuth token used to make this call expired 5 second(s) ago."


def test_access_tokens_expire_with_the_clock(client, clock, auth):
    clock.advance(1799)
    assert client.get("/settings/v3/users/roles", headers=auth).status_code == 200
    clock.advance(1)
    assert client.get("/settings/v3/users/roles", headers=auth).json()["category"] == "EXPIRED_AUTHENTICATION"


def test_403_missing_scopes(client, standin):
    tokens = standin.issue_tokens(101, ["oauth", "settings.users.read", "crm.objects.owners.read"])
    logins = client.get("/account-info/v3/activity/login", headers=bearer(tokens))
    assert logins.status_code == 403
    body = logins.json()
    assert body["category"] == "MISSING_SCOPES" and body["status"] == "error"
    assert body["errors"][0]["context"]["requiredGranularScopes"] == ["account-info.security.read"]
    calls = client.post("/crm/v3/objects/calls/search", headers=bearer(tokens), json={})
    assert calls.json()["errors"][0]["context"]["requiredGranularScopes"] == ["crm.objects.contacts.read"]
    assert client.get("/crm/v3/owners", headers=bearer(tokens)).status_code == 200


def test_unknown_routes_are_hubspot_style_404s(client, auth):
    response = client.get("/crm/v3/nothing-here", headers=auth)
    assert response.status_code == 404
    assert response.json()["status"] == "error" and response.json()["correlationId"]


def test_account_details(client, auth):
    body = client.get("/account-info/v3/details", headers=auth).json()
    assert body["portalId"] == 101 and body["uiDomain"] == "app.hubspot.com"
    assert body["dataHostingLocation"] == "na1" and body["utcOffsetMilliseconds"] == -18_000_000
    for key in ("accountType", "timeZone", "companyCurrency", "additionalCurrencies", "utcOffset"):
        assert key in body


# --- users, roles, owners, logins ----------------------------------------------------------


def collect(client, path: str, auth, **params) -> list[dict]:
    items, after, pages = [], None, 0
    while True:
        query = dict(params, **({"after": after} if after else {}))
        response = client.get(path, headers=auth, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["results"]
        pages += 1
        if "paging" not in body:
            assert pages > 1, "expected more than one page"
            return items
        after = body["paging"]["next"]["after"]


def test_users_paging_covers_every_user_once(client, auth, portal):
    users = collect(client, "/settings/v3/users/", auth, limit=7)
    assert sorted(u["id"] for u in users) == sorted(str(u.id) for u in portal.users)
    by_id = {str(u.id): u for u in portal.users}
    for user in users:
        seeded = by_id[user["id"]]
        assert user["superAdmin"] == seeded.super_admin and user["email"] == seeded.email
        assert user.get("seatNames", []) == seeded.seat_names
    assert any(u.get("seatNames") for u in users) and any("seatNames" not in u for u in users)
    assert any(u["superAdmin"] for u in users)
    too_many = client.get("/settings/v3/users/", headers=auth, params={"limit": 101})
    assert too_many.status_code == 400 and too_many.json()["category"] == "VALIDATION_ERROR"


def test_roles(client, auth, portal):
    roles = client.get("/settings/v3/users/roles", headers=auth).json()["results"]
    assert {r["id"] for r in roles} == {r.id for r in portal.roles}
    assert any(r["requiresBillingWrite"] for r in roles) and not all(r["requiresBillingWrite"] for r in roles)


def test_owners_paging_active_and_archived(client, auth, portal):
    active = collect(client, "/crm/v3/owners", auth, limit=6)
    archived = client.get("/crm/v3/owners", headers=auth, params={"archived": "true"}).json()["results"]
    assert sorted(o["id"] for o in active) == sorted(str(o.id) for o in portal.owners if not o.archived)
    assert sorted(o["id"] for o in archived) == sorted(str(o.id) for o in portal.owners if o.archived)
    assert archived and all(o["archived"] and o["userId"] is None for o in archived)
    gone = {u.id for u in portal.deactivated_users}
    assert {o["userIdIncludingInactive"] for o in archived} == gone
    assert {o["userId"] for o in active} == {u.id for u in portal.users}
    assert all(
        {"createdAt", "updatedAt", "teams", "email", "firstName", "lastName"} <= set(o) for o in active
    )


def test_login_history_is_last_90_days_newest_first(client, auth, portal, clock):
    now_ms = int(clock.now * 1000)
    expected = [a for a in portal.logins if now_ms - 90 * 86_400_000 <= a.login_at_ms <= now_ms]
    assert len(expected) < len(portal.logins)  # the seed reaches further back than 90 days
    logins = collect(client, "/account-info/v3/activity/login", auth, limit=50)
    assert [int(a["id"]) for a in logins] == [a.id for a in expected]
    assert [a["loginAt"] for a in logins] == sorted((a["loginAt"] for a in logins), reverse=True)
    assert {a["loginSucceeded"] for a in logins} == {True, False}
    user_id = expected[0].user_id
    mine = client.get(
        "/account-info/v3/activity/login", headers=auth, params={"userId": user_id, "limit": 200}
    )
    assert [int(a["id"]) for a in mine.json()["results"]] == [a.id for a in expected if a.user_id == user_id]
    assert (
        client.get("/account-info/v3/activity/login", headers=auth, params={"limit": 201}).status_code == 400
    )


@pytest.mark.parametrize("order", ["oldest", "shuffled"])
def test_login_history_can_come_in_another_order(client, auth, standin, order):
    newest = [a["id"] for a in collect(client, "/account-info/v3/activity/login", auth, limit=200)]
    standin.login_order = order
    other = [a["id"] for a in collect(client, "/account-info/v3/activity/login", auth, limit=50)]
    assert sorted(other) == sorted(newest) and len(set(other)) == len(other)  # every attempt once
    assert other == (newest[::-1] if order == "oldest" else other) and other != newest


def test_teams_list_their_primary_members(client, standin, portal):
    teams_auth = bearer(standin.issue_tokens(101, ["settings.users.teams.read"]))
    teams = client.get("/settings/v3/users/teams", headers=teams_auth).json()["results"]
    assert [(t["id"], t["name"]) for t in teams] == [(t.id, t.name) for t in portal.teams]
    members = {u for t in teams for u in t["userIds"]}
    assert members == {str(u.id) for u in portal.users if u.primary_team_id}
    without = bearer(standin.issue_tokens(101, ["settings.users.read"]))
    assert client.get("/settings/v3/users/teams", headers=without).json()["category"] == "MISSING_SCOPES"


# --- CRM search ----------------------------------------------------------------------------


def test_search_counts_an_owners_records_in_a_period(client, auth, portal, clock):
    owner_ids = [r.owner_id for r in live(portal, "contacts") if r.owner_id]
    owner = portal.owner(max(set(owner_ids), key=owner_ids.count))
    low, high = to_ms(START + timedelta(days=30)), to_ms(START + timedelta(days=60))
    for object_type, date_property in (("contacts", "createdate"), ("calls", "hs_createdate")):
        body = one_group(
            {"propertyName": "hubspot_owner_id", "operator": "EQ", "value": str(owner.id)},
            {"propertyName": date_property, "operator": "BETWEEN", "value": str(low), "highValue": str(high)},
        )
        body["properties"] = ["hs_object_id"]
        result = search(client, auth, object_type, body, clock=clock)
        expected = [
            r for r in live(portal, object_type) if r.owner_id == owner.id and low <= r.created_ms <= high
        ]
        assert len(expected) > 1 and result["total"] == len(expected)
        assert len(result["results"]) == 1 and result["paging"]["next"]["after"] == "1"
        assert result["results"][0]["properties"]["hs_object_id"] == result["results"][0]["id"]


def _operator_cases(portal: PortalData):
    owner = portal.owners[1].id
    mid = to_ms(START + timedelta(days=50))
    later = to_ms(START + timedelta(days=80))
    some = [portal.owners[2].id, portal.owners[3].id]
    return [
        (
            {"propertyName": "hubspot_owner_id", "operator": "NEQ", "value": str(owner)},
            lambda r: r.owner_id != owner,
        ),
        (
            {"propertyName": "hs_lastmodifieddate", "operator": "LT", "value": str(mid)},
            lambda r: r.updated_ms < mid,
        ),
        (
            {"propertyName": "hs_lastmodifieddate", "operator": "LTE", "value": str(mid)},
            lambda r: r.updated_ms <= mid,
        ),
        (
            {"propertyName": "hs_timestamp", "operator": "GT", "value": str(mid)},
            lambda r: r.timestamp_ms > mid,
        ),
        (
            {"propertyName": "hs_createdate", "operator": "GTE", "value": str(mid)},
            lambda r: r.created_ms >= mid,
        ),
        (
            {
                "propertyName": "hs_createdate",
                "operator": "BETWEEN",
                "value": str(mid),
                "highValue": str(later),
            },
            lambda r: mid <= r.created_ms <= later,
        ),
        (
            {"propertyName": "hubspot_owner_id", "operator": "IN", "values": [str(o) for o in some]},
            lambda r: r.owner_id in some,
        ),
        ({"propertyName": "hubspot_owner_id", "operator": "HAS_PROPERTY"}, lambda r: r.owner_id is not None),
        ({"propertyName": "hubspot_owner_id", "operator": "NOT_HAS_PROPERTY"}, lambda r: r.owner_id is None),
        (
            {
                "propertyName": "hs_createdate",
                "operator": "GTE",
                "value": datetime.fromtimestamp(mid / 1000, UTC).isoformat(),
            },
            lambda r: r.created_ms >= mid,
        ),
        (
            {"propertyName": "hs_created_by_user_id", "operator": "EQ", "value": str(portal.users[0].id)},
            lambda r: r.created_by_user_id == portal.users[0].id,
        ),
    ]


def test_search_operators_match_an_independent_count(client, auth, portal, clock):
    for spec, predicate in _operator_cases(portal):
        expected = sum(1 for r in live(portal, "meetings") if predicate(r))
        assert 0 < expected < len(live(portal, "meetings")), spec
        assert search(client, auth, "meetings", one_group(spec), clock=clock)["total"] == expected, spec


def test_filter_groups_are_ored_and_filters_anded(client, auth, portal, clock):
    a, b = portal.owners[0].id, portal.owners[1].id
    cut = to_ms(START + timedelta(days=40))
    body = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "hubspot_owner_id", "operator": "EQ", "value": str(a)},
                    {"propertyName": "createdate", "operator": "LT", "value": str(cut)},
                ]
            },
            {"filters": [{"propertyName": "hubspot_owner_id", "operator": "EQ", "value": str(b)}]},
        ],
        "limit": 1,
    }
    expected = [
        r for r in live(portal, "deals") if (r.owner_id == a and r.created_ms < cut) or r.owner_id == b
    ]
    assert search(client, auth, "deals", body, clock=clock)["total"] == len(expected)


def test_search_paging_sorting_and_properties(client, auth, portal, clock):
    body = {
        "filterGroups": [{"filters": [{"propertyName": "hubspot_owner_id", "operator": "HAS_PROPERTY"}]}],
        "sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}],
        "properties": ["hubspot_owner_id", "no_such_property"],
        "limit": 100,
    }
    seen = []
    while True:
        page = search(client, auth, "companies", body, clock=clock)
        seen += page["results"]
        if "paging" not in page:
            break
        body["after"] = page["paging"]["next"]["after"]
    expected = sorted(
        (r for r in live(portal, "companies") if r.owner_id), key=lambda r: r.created_ms, reverse=True
    )
    assert [r["id"] for r in seen] == [str(r.id) for r in expected]
    first = seen[0]
    assert set(first["properties"]) == {
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
        "hubspot_owner_id",
    }
    assert first["properties"]["hubspot_owner_id"] == str(expected[0].owner_id)
    assert first["properties"]["createdate"].endswith("Z") and first["archived"] is False
    assert {"createdAt", "updatedAt"} <= set(first)


def test_search_never_returns_archived_records(client, auth, portal, clock):
    archived = [r for r in portal.records["contacts"] if r.archived]
    assert archived
    body = one_group({"propertyName": "hs_object_id", "operator": "EQ", "value": str(archived[0].id)})
    assert search(client, auth, "contacts", body, clock=clock)["total"] == 0
    assert search(client, auth, "contacts", {"limit": 1}, clock=clock)["total"] == len(
        live(portal, "contacts")
    )


def test_search_responses_carry_no_rate_limit_headers(client, auth):
    response = client.post("/crm/v3/objects/contacts/search", headers=auth, json={"limit": 1})
    assert not any(h.lower().startswith("x-hubspot-ratelimit") for h in response.headers)


def _filters(n: int) -> list[dict]:
    return [{"propertyName": "hs_object_id", "operator": "GT", "value": str(i)} for i in range(n)]


@pytest.mark.parametrize(
    ("groups", "ok"),
    [
        ([_filters(3)] * 5, True),
        ([_filters(1)] * 6, False),
        ([_filters(7)], False),
        ([_filters(6)] * 3 + [_filters(1)], False),  # 19 filters in total
        ([_filters(6)] * 3, True),  # 18 filters in total
    ],
)
def test_search_filter_limits(client, auth, groups, ok):
    body = {"filterGroups": [{"filters": g} for g in groups], "limit": 1}
    result = search(client, auth, "contacts", body, expect=200 if ok else 400)
    if not ok:
        assert result["category"] == "VALIDATION_ERROR" and result["status"] == "error"


@pytest.mark.parametrize(
    "body",
    [
        {"limit": 201},
        {"filterGroups": [{"filters": [{"propertyName": "no_such_thing", "operator": "EQ", "value": "1"}]}]},
        {
            "filterGroups": [
                {"filters": [{"propertyName": "createdate", "operator": "SOUNDS_LIKE", "value": "1"}]}
            ]
        },
        {
            "filterGroups": [
                {"filters": [{"propertyName": "createdate", "operator": "GT", "value": "yesterday"}]}
            ]
        },
        {"sorts": [{"propertyName": "createdate"}, {"propertyName": "hs_object_id"}]},
        {"after": "abc"},
    ],
)
def test_search_rejects_invalid_requests(client, auth, body):
    assert search(client, auth, "contacts", body, expect=400)["category"] == "VALIDATION_ERROR"


def test_unknown_object_type_is_rejected(client, auth):
    assert search(client, auth, "widgets", {}, expect=400)["message"].startswith(
        "Unable to infer object type"
    )


def test_search_caps_paging_at_10000_so_clients_split_by_time(clock, connect_to):
    week = (START + timedelta(days=10), START + timedelta(days=17))
    portal = generate_portal(
        3,
        portal_id=303,
        start=START,
        end=END,
        records_per_type={"contacts": 200},
        burst=Burst("contacts", 10_500, *week),
    )
    standin = HubSpotStandIn(clock=clock)
    standin.add_portal(portal)
    auth = bearer(standin.issue_tokens(303, ["crm.objects.contacts.read"]))
    low, high = (to_ms(d) for d in week)
    in_week = [r for r in live(portal, "contacts") if low <= r.created_ms <= high]
    assert len(in_week) > 10_000
    window = {"propertyName": "createdate", "operator": "BETWEEN", "value": str(low), "highValue": str(high)}
    with connect_to(standin) as client:
        body = {"filterGroups": [{"filters": [window]}], "limit": 200, "after": "9800"}
        last_page = search(client, auth, "contacts", body, clock=clock)
        assert last_page["total"] == len(in_week) and len(last_page["results"]) == 200
        assert last_page["paging"]["next"]["after"] == "10000"
        for after, limit in (("10000", 200), ("9900", 200), ("10000", 1)):
            error = search(
                client, auth, "contacts", dict(body, after=after, limit=limit), expect=400, clock=clock
            )
            assert error["category"] == "VALIDATION_ERROR" and "10000" in error["message"]
        middle = (low + high) // 2
        totals = []
        for a, b in [(low, middle), (middle + 1, high)]:
            half = {"propertyName": "createdate", "operator": "BETWEEN", "value": str(a), "highValue": str(b)}
            totals.append(search(client, auth, "contacts", one_group(half), clock=clock)["total"])
        assert all(t <= 10_000 for t in totals) and sum(totals) == len(in_week)


# --- rate limits ---------------------------------------------------------------------------


def test_ten_secondly_limit(client, standin, clock, auth):
    remaining = []
    for _ in range(110):
        response = client.get("/settings/v3/users/roles", headers=auth)
        assert response.status_code == 200
        assert response.headers["X-HubSpot-RateLimit-Max"] == "110"
        assert response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        remaining.append(int(response.headers["X-HubSpot-RateLimit-Remaining"]))
    assert remaining == list(range(109, -1, -1))
    limited = client.get("/crm/v3/owners", headers=auth)
    assert limited.status_code == 429
    body = limited.json()
    assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["errorType"] == "RATE_LIMIT"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert body["status"] == "error" and body["correlationId"]
    assert standin.rate_limit_violations == 1
    clock.advance(10)
    assert client.get("/crm/v3/owners", headers=auth).status_code == 200


def test_searches_are_not_counted_in_the_ten_second_budget(client, standin, clock, auth):
    for _ in range(22):  # 5 per second, 22 in 4.4 s
        response = client.post("/crm/v3/objects/contacts/search", headers=auth, json={"limit": 1})
        assert response.status_code == 200 and "X-HubSpot-RateLimit-Remaining" not in response.headers
        clock.advance(0.2)
    roles = client.get("/settings/v3/users/roles", headers=auth)
    assert roles.headers["X-HubSpot-RateLimit-Remaining"] == "109"


def test_the_response_cache_answers_the_same_bytes_and_still_counts_limits_and_scopes(
    client, standin, clock, auth
):
    body = {"limit": 3, "properties": ["hubspot_owner_id"]}
    fresh = client.post("/crm/v3/objects/contacts/search", headers=auth, json=body)
    standin.response_cache = {}
    first = client.post("/crm/v3/objects/contacts/search", headers=auth, json=body)
    again = client.post("/crm/v3/objects/contacts/search", headers=auth, json=body)
    assert (
        first.json() == fresh.json() and again.content == first.content and len(standin.response_cache) == 1
    )
    for _ in range(2):
        assert client.post("/crm/v3/objects/contacts/search", headers=auth, json=body).status_code == 200
    assert client.post("/crm/v3/objects/contacts/search", headers=auth, json=body).status_code == 429
    no_contacts = bearer(standin.issue_tokens(101, ["crm.objects.deals.read"]))
    clock.advance(1)
    refused = client.post("/crm/v3/objects/contacts/search", headers=no_contacts, json=body)
    assert refused.json()["category"] == "MISSING_SCOPES"


def test_rate_limits_are_per_portal(client, standin, auth):
    standin.add_portal(generate_portal(9, portal_id=404, start=START, end=END, records_per_type=5))
    other = bearer(standin.issue_tokens(404, ALL_SCOPES))
    for _ in range(110):
        client.get("/settings/v3/users/roles", headers=auth)
    assert client.get("/settings/v3/users/roles", headers=auth).status_code == 429
    assert client.get("/settings/v3/users/roles", headers=other).status_code == 200


def test_search_secondly_limit(client, standin, clock, auth):
    for _ in range(5):
        assert (
            client.post("/crm/v3/objects/contacts/search", headers=auth, json={"limit": 1}).status_code == 200
        )
    limited = client.post("/crm/v3/objects/contacts/search", headers=auth, json={"limit": 1})
    assert limited.status_code == 429
    assert limited.json()["policyName"] == "SECONDLY" and limited.json()["errorType"] == "RATE_LIMIT"
    assert standin.rate_limit_violations == 1
    assert client.get("/settings/v3/users/roles", headers=auth).status_code == 200  # other routes unaffected
    assert "X-HubSpot-RateLimit-Remaining" not in limited.headers
    clock.advance(1)
    assert client.post("/crm/v3/objects/contacts/search", headers=auth, json={"limit": 1}).status_code == 200


# --- faults --------------------------------------------------------------------------------


def test_injected_faults_are_served_once_and_not_counted_as_violations(client, standin, auth):
    standin.faults.fail_next("/crm/v3/owners", status=429, body={"status": "error", "policyName": "DAILY"})
    standin.faults.fail_next("/oauth/2026-03/token", status=502, count=2)
    assert client.get("/crm/v3/owners", headers=auth).status_code == 429
    assert client.get("/crm/v3/owners", headers=auth).status_code == 200
    assert standin.rate_limit_violations == 0
    code = decide(client)["code"][0]
    assert [exchange(client, code).status_code for _ in range(3)] == [502, 502, 200]
    assert standin.faults.injected == 3


def test_latency_and_hangs(client, standin, auth):
    standin.faults.latency = 0.15
    started = time.perf_counter()
    assert client.get("/account-info/v3/details", headers=auth).status_code == 200
    assert time.perf_counter() - started >= 0.15
    standin.faults.latency = 0
    standin.faults.hang_next("/settings/v3/users", seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        client.get("/settings/v3/users/", headers=auth, timeout=0.2)
    assert client.get("/settings/v3/users/", headers=auth).status_code == 200


# --- seed ----------------------------------------------------------------------------------


def test_seed_is_deterministic_and_varied():
    first = generate_portal(5, portal_id=1, start=START, end=END, records_per_type=50)
    again = generate_portal(5, portal_id=1, start=START, end=END, records_per_type=50)
    other = generate_portal(6, portal_id=1, start=START, end=END, records_per_type=50)
    assert first == again and first != other
    assert set(first.records) == set(OBJECT_TYPES)
    for records in first.records.values():
        assert all(to_ms(START) <= r.created_ms <= r.updated_ms <= to_ms(END) for r in records)
        assert any(r.owner_id is None for r in records) or len(records) < 50
    assert any(u.super_admin for u in first.users) and any(not u.seat_names for u in first.users)
    assert any(o.archived for o in first.owners) and first.installer.super_admin


def test_seed_generates_100k_records():
    # how fast is for benchmarks/usage_collection.py, which seeds portals of this size
    portal = generate_portal(1, portal_id=1, start=START, end=END, records_per_type=12_500)
    assert sum(len(r) for r in portal.records.values()) == 100_000


# --- user provisioning 2026-09: one user read and changed (sandbox/standins/hubspot_users.py) -----

WRITE = "settings.users.write"


def path(user_id, version: str = "2026-09") -> str:
    return f"/settings/users/{version}/{user_id}"


def paid_user(portal) -> HubSpotUser:
    return next(u for u in portal.users if u.seat_names and not u.super_admin)


@pytest.fixture
def writer(standin) -> dict[str, str]:
    return bearer(standin.issue_tokens(101, ALL_SCOPES + [WRITE]))


def test_reads_one_user_by_id_or_email(client, auth, portal):
    user = paid_user(portal)
    by_id = client.get(path(user.id), headers=auth)
    by_email = client.get(path(user.email.upper()), params={"idProperty": "EMAIL"}, headers=auth)
    assert by_id.status_code == by_email.status_code == 200
    assert by_id.json() == by_email.json()
    body = by_id.json()
    assert (body["id"], body["email"], body["seatNames"], body["superAdmin"]) == (
        str(user.id),
        user.email,
        user.seat_names,
        False,
    )


def test_unassigning_seats_changes_the_user_and_the_listing(client, writer, standin, portal):
    user = paid_user(portal)
    seats, role = list(user.seat_names), user.role_id
    response = client.put(path(user.id), json={"seatNames": []}, headers=writer)
    assert response.status_code == 200
    assert "seatNames" not in response.json() and "roleId" not in response.json()
    listed = {
        u["id"]: u
        for u in client.get("/settings/v3/users/", params={"limit": 100}, headers=writer).json()["results"]
    }
    assert "seatNames" not in listed[str(user.id)] and listed[str(user.id)]["roleIds"] == []
    (write,) = standin.seat_writes
    assert (write["user_id"], write["seats_before"], write["seats_after"]) == (str(user.id), seats, [])
    assert (write["role_before"], write["role_after"], write["at"]) == (role, None, standin.clock())
    back = client.put(path(user.id), json={"seatNames": seats, "roleId": role}, headers=writer)
    assert back.status_code == 200 and back.json()["seatNames"] == seats and back.json()["roleId"] == role
    assert len(standin.seat_writes) == 2


@pytest.mark.parametrize(
    "body,message",
    [
        ({"seatNames": "Core Seat"}, "seatNames must be an array of strings"),
        ({"seatNames": [1]}, "seatNames must be an array of strings"),
        ({"seats": []}, "unrecognized field(s) seats"),
        ({"seatNames": ["Galaxy Hub Ultimate"]}, "Seat Galaxy Hub Ultimate is not available"),
        ({"roleId": "999", "seatNames": []}, "Role 999 does not exist"),
        ([], "expected a PublicUserUpdate object"),
    ],
)
def test_a_bad_update_is_a_validation_error_and_changes_nothing(
    client, writer, standin, portal, body, message
):
    user = paid_user(portal)
    seats = list(user.seat_names)
    response = client.put(path(user.id), json=body, headers=writer)
    assert response.status_code == 400
    error = response.json()
    assert error["category"] == "VALIDATION_ERROR" and message in error["message"] and error["correlationId"]
    assert user.seat_names == seats and standin.seat_writes == []


def test_errors_in_hubspots_shape(client, auth, writer, standin, portal):
    user = paid_user(portal)
    refused = client.put(path(user.id), json={"seatNames": []}, headers=auth)  # read scopes only
    assert refused.status_code == 403 and refused.json()["category"] == "MISSING_SCOPES"
    assert refused.json()["errors"][0]["context"]["requiredGranularScopes"] == [
        WRITE,
        "crm.objects.users.write",
    ]
    unknown = client.put(path(424242), json={"seatNames": []}, headers=writer)
    assert unknown.status_code == 404 and unknown.json()["category"] == "OBJECT_NOT_FOUND"
    assert client.get(path(user.id, "2026-03"), headers=writer).status_code == 404  # no seatNames there
    admin = next(u for u in portal.users if u.super_admin and u.seat_names)
    locked = client.put(path(admin.id), json={"seatNames": []}, headers=writer)
    assert locked.status_code == 400 and locked.json()["category"] == "VALIDATION_ERROR"
    assert admin.seat_names and user.seat_names and standin.seat_writes == []


@pytest.mark.parametrize("asked", [False, True])
def test_the_consent_page_grants_the_write_scope_only_when_asked(client, standin, asked):
    scope = " ".join(REQUIRED + ([WRITE] if asked else []))
    page = client.get(
        "/oauth/authorize",
        params={
            "client_id": "test-client-id",
            "scope": scope,
            "optional_scope": " ".join(OPTIONAL),
            "redirect_uri": "http://localhost:8765/hubspot/callback",
        },
    )
    assert (WRITE in page.text) is asked
    code = decide(client, scope=scope)["code"][0]
    tokens = exchange(client, code).json()
    assert (WRITE in tokens["scopes"]) is asked
