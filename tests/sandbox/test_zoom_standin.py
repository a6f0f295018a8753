"""The Zoom stand-in over real HTTP: token exchange, users paging, scopes, expiry, rate limits, PATCH."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from sandbox.standins.server import AppSwitch, serve_in_thread
from sandbox.standins.zoom import LIMITS, PAGE_TOKEN_LIFETIME, TOKEN_LIFETIME, ZoomStandIn
from sandbox.standins.zoom_seed import BASIC, LICENSED, generate_account, truth

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.t = now.timestamp()

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def server():
    switch = AppSwitch()
    with serve_in_thread(switch) as srv:
        yield srv, switch


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def zoom(server, clock):
    srv, switch = server
    standin = ZoomStandIn(clock=clock)
    account = generate_account(3, now=NOW, n_users=305)
    standin.add_account(account)
    switch.app = standin.app
    standin.url = srv.url
    return standin


def token(zoom, client_id, secret, account_id="aBcD1234EfGh") -> httpx.Response:
    return httpx.post(
        f"{zoom.url}/oauth/token",
        params={"grant_type": "account_credentials", "account_id": account_id},
        auth=(client_id, secret),
    )


def bearer(zoom, scopes=("user:read:admin",)) -> str:
    client_id, secret = zoom.add_app("aBcD1234EfGh", list(scopes))
    return token(zoom, client_id, secret).json()["access_token"]


def get(zoom, path, tok, **params) -> httpx.Response:
    return httpx.get(f"{zoom.url}{path}", params=params, headers={"Authorization": f"Bearer {tok}"})


def test_exchange_answers_a_bearer_token_for_an_hour_without_refresh_token(zoom):
    client_id, secret = zoom.add_app("aBcD1234EfGh", ["user:read:admin", "user:write:admin"])
    body = token(zoom, client_id, secret).json()
    assert body["token_type"] == "bearer" and body["expires_in"] == TOKEN_LIFETIME
    assert body["scope"] == "user:read:admin user:write:admin" and "refresh_token" not in body


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "nobody"}, 401, "invalid_client"),
        ({"account_id": "other"}, 400, "invalid_request"),
        ({"deactivate": True}, 400, "invalid_client"),
    ],
)
def test_exchange_refusals_are_zooms_error_bodies(zoom, change, status, error):
    client_id, secret = zoom.add_app("aBcD1234EfGh", ["user:read:admin"])
    if change.get("deactivate"):
        zoom.deactivate(client_id)
    answer = token(
        zoom,
        change.get("client_id", client_id),
        change.get("secret", secret),
        change.get("account_id", "aBcD1234EfGh"),
    )
    assert answer.status_code == status
    assert answer.json()["error"] == error and answer.json()["reason"]


def test_users_page_by_next_page_token_until_empty(zoom):
    tok = bearer(zoom)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"status": "active", "page_size": 300} | ({"next_page_token": cursor} if cursor else {})
        body = get(zoom, "/v2/users", tok, **params).json()
        seen += body["users"]
        pages += 1
        cursor = body["next_page_token"]
        if cursor == "":
            break
    assert pages == 2 and len(seen) == 305 == truth(zoom.account("aBcD1234EfGh"), NOW).users
    assert len({u["id"] for u in seen}) == 305
    assert all(u["status"] == "active" for u in seen)


def test_page_size_is_capped_at_300_and_page_tokens_expire(zoom, clock):
    tok = bearer(zoom)
    first = get(zoom, "/v2/users", tok, page_size=1000).json()
    assert first["page_size"] == 300 and len(first["users"]) == 300
    clock.t += PAGE_TOKEN_LIFETIME + 1
    late = get(zoom, "/v2/users", tok, next_page_token=first["next_page_token"])
    assert late.status_code == 400 and late.json()["code"] == 300


def test_never_signed_in_users_have_no_last_login_time(zoom):
    account = zoom.account("aBcD1234EfGh")
    never = next(u for u in account.users if u.last_login_time is None and u.status == "active")
    listed = get(zoom, f"/v2/users/{never.id}", bearer(zoom)).json()
    assert "last_login_time" not in listed and listed["id"] == never.id


def test_a_token_expires_after_an_hour_on_the_injected_clock(zoom, clock):
    tok = bearer(zoom)
    assert get(zoom, "/v2/users/me", tok).status_code == 200
    clock.t += TOKEN_LIFETIME
    expired = get(zoom, "/v2/users/me", tok)
    assert expired.status_code == 401 and expired.json()["code"] == 124


def test_unknown_token_is_124_and_missing_scope_is_4711_naming_it(zoom):
    assert get(zoom, "/v2/users", "nonsense").json() == {"code": 124, "message": "Invalid access token."}
    answer = get(zoom, "/v2/users", bearer(zoom, scopes=("report:read:admin",)))
    assert answer.status_code == 400 and answer.json()["code"] == 4711
    assert "user:read:admin" in answer.json()["message"]


def test_granular_scopes_are_accepted(zoom):
    assert get(zoom, "/v2/users", bearer(zoom, scopes=("user:read:list_users:admin",))).status_code == 200


def test_rate_limit_headers_and_429_with_retry_after(zoom, clock):
    tok = bearer(zoom)
    limit = LIMITS["pro"]["Medium"]
    answers = [get(zoom, "/v2/users", tok, page_size=1) for _ in range(limit + 1)]
    first, last = answers[0], answers[-1]
    assert first.headers["X-RateLimit-Category"] == "Medium" and first.headers["X-RateLimit-Type"] == "QPS"
    assert first.headers["X-RateLimit-Limit"] == str(limit)
    assert first.headers["X-RateLimit-Remaining"] == str(limit - 1)
    assert last.status_code == 429 and last.headers["Retry-After"] == "1" and last.json()["code"] == 429
    assert zoom.rate_limit_violations == 1
    assert get(zoom, "/v2/users/me", tok).status_code == 200  # Light is another category
    clock.t += 1
    assert get(zoom, "/v2/users", tok, page_size=1).status_code == 200


def test_patch_downgrades_once_and_unknown_user_is_1001(zoom):
    account = zoom.account("aBcD1234EfGh")
    licensed = next(u for u in account.users if u.type == LICENSED and u.role_id == "2")
    tok = bearer(zoom, scopes=("user:read:admin", "user:write:admin"))
    headers = {"Authorization": f"Bearer {tok}"}
    answer = httpx.patch(f"{zoom.url}/v2/users/{licensed.id}", json={"type": 1}, headers=headers)
    assert answer.status_code == 204
    assert account.find(licensed.id).type == BASIC
    missing = httpx.patch(f"{zoom.url}/v2/users/nobody", json={"type": 1}, headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == 1001
    read_only = {"Authorization": f"Bearer {bearer(zoom)}"}
    refused = httpx.patch(f"{zoom.url}/v2/users/{licensed.id}", json={"type": 2}, headers=read_only)
    assert refused.json()["code"] == 4711 and account.find(licensed.id).type == BASIC


def test_truth_counts_the_seed_without_http():
    account = generate_account(5, now=NOW, n_users=200)
    since = NOW - timedelta(days=30)
    counted = truth(account, since)
    licensed = [u for u in account.users if u.status == "active" and u.type == LICENSED]
    assert counted.licensed == len(licensed) > 0
    assert counted.active_licensed + len(counted.idle_licensed) == counted.licensed
    assert counted.idle_admins and set(counted.idle_admins) <= set(counted.idle_licensed)
    assert any(u.last_login_time is None for u in licensed)  # never signed in
    assert counted.basic > 0
