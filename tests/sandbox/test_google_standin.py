"""The Google stand-in over real HTTP: the JWT-bearer grant, Directory paging, License Manager listings
and writes, the Reports lag, scopes, administrators, and quotas."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from providers.google.assertion import GRANT_TYPE, parse_key
from sandbox.standins.google import SCOPE, GoogleStandIn
from sandbox.standins.google_seed import PLUS, PRODUCT, STANDARD, generate_domain, truth
from sandbox.standins.google_tokens import TOKEN_LIFETIME
from sandbox.standins.server import AppSwitch, serve_in_thread

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
READ = [SCOPE["directory"][0], SCOPE["licensing"][0], SCOPE["reports"][0]]


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


@pytest.fixture(scope="module")
def key_file():
    """One service account key for the module (RSA key generation is slow)."""
    return GoogleStandIn().authority.create_key()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def google(server, clock, key_file):
    srv, switch = server
    standin = GoogleStandIn(clock=clock)
    standin.authority.register(key_file)
    standin.add_domain(generate_domain(5, now=NOW, n_users=1001))
    standin.authority.delegate("C01x2y3z4", key_file["client_id"], READ)
    switch.app = standin.app
    standin.url = srv.url
    standin.key = key_file
    return standin


def exchange(google, scopes=READ, subject="admin@acme.example", now=None, key=None) -> httpx.Response:
    signed = parse_key(json.dumps(key or google.key)).assertion(
        subject, tuple(scopes), int(now if now is not None else google.now())
    )
    return httpx.post(f"{google.url}/token", data={"grant_type": GRANT_TYPE, "assertion": signed})


def bearer(google, scopes=READ, subject="admin@acme.example") -> dict[str, str]:
    answer = exchange(google, scopes, subject)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def reason(response: httpx.Response) -> str:
    return response.json()["error"]["errors"][0]["reason"]


# --- the token endpoint ----------------------------------------------------------------------------
def test_a_delegated_key_gets_an_hour_long_token(google):
    answer = exchange(google)
    assert answer.status_code == 200
    assert answer.json()["expires_in"] == TOKEN_LIFETIME and answer.json()["token_type"] == "Bearer"


def test_a_scope_not_delegated_is_unauthorized_client(google):
    answer = exchange(google, [*READ, "https://www.googleapis.com/auth/admin.directory.user"])
    assert answer.status_code == 401 and answer.json()["error"] == "unauthorized_client"


@pytest.mark.parametrize(
    "change",
    ["other key", "unknown subject", "stale", "future", "deleted key"],
)
def test_bad_assertions_are_invalid_grant(google, change):
    key, subject, now = google.key, "admin@acme.example", None
    if change == "other key":
        key = {**GoogleStandIn().authority.create_key(), "client_email": google.key["client_email"]}
    if change == "unknown subject":
        subject = "nobody@acme.example"
    if change == "stale":
        now = google.now() - 3601
    if change == "future":
        now = google.now() + 3600
    if change == "deleted key":
        google.authority.delete_key(google.key)
    answer = exchange(google, subject=subject, now=now, key=key)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_a_token_expires_on_the_injected_clock(google, clock):
    headers = bearer(google)
    url = f"{google.url}/admin/directory/v1/users"
    assert (
        httpx.get(url, params={"customer": "my_customer", "maxResults": 1}, headers=headers).status_code
        == 200
    )
    clock.t += TOKEN_LIFETIME
    refused = httpx.get(url, params={"customer": "my_customer"}, headers=headers)
    assert refused.status_code == 401 and reason(refused) == "authError"


# --- Directory ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("size", "pages"), [(500, 3), (1, None), (None, 11)])
def test_directory_pages_through_every_user(google, size, pages):
    headers, url = bearer(google), f"{google.url}/admin/directory/v1/users"
    if size == 1:
        first = httpx.get(url, params={"customer": "my_customer", "maxResults": 1}, headers=headers).json()
        assert len(first["users"]) == 1 and first["nextPageToken"]
        return
    seen, token, count = [], None, 0
    while True:
        params = (
            {"customer": "my_customer"}
            | ({"maxResults": size} if size else {})
            | ({"pageToken": token} if token else {})
        )
        page = httpx.get(url, params=params, headers=headers).json()
        seen += page.get("users", [])
        count += 1
        token = page.get("nextPageToken")
        if not token:
            break
    assert count == pages and len(seen) == 1001
    assert seen[0]["lastLoginTime"].endswith("Z") and {"isAdmin", "suspended", "creationTime"} <= set(seen[0])


def test_directory_refuses_501_a_page(google):
    answer = httpx.get(
        f"{google.url}/admin/directory/v1/users",
        params={"customer": "my_customer", "maxResults": 501},
        headers=bearer(google),
    )
    assert answer.status_code == 400 and reason(answer) == "invalid"


def test_never_signed_in_is_1970(google):
    domain = google.domains["C01x2y3z4"]
    never = next(u for u in domain.users if u.last_login is None)
    answer = httpx.get(f"{google.url}/admin/directory/v1/users/{never.email}", headers=bearer(google))
    assert answer.json()["lastLoginTime"] == "1970-01-01T00:00:00.000Z"


def test_a_user_who_is_not_an_admin_is_not_authorized(google):
    plain = next(u for u in google.domains["C01x2y3z4"].users if not u.admin and not u.delegated_admin)
    answer = httpx.get(
        f"{google.url}/admin/directory/v1/users",
        params={"customer": "my_customer"},
        headers=bearer(google, subject=plain.email),
    )
    assert answer.status_code == 403 and reason(answer) == "forbidden"


def test_a_token_without_the_scope_is_insufficient(google):
    headers = bearer(google, [SCOPE["licensing"][0]])
    answer = httpx.get(
        f"{google.url}/admin/directory/v1/users", params={"customer": "my_customer"}, headers=headers
    )
    assert answer.status_code == 403 and reason(answer) == "insufficientPermissions"


# --- License Manager ---------------------------------------------------------------------------------
def test_licences_per_product_and_per_sku_equal_the_seed(google):
    headers, domain = bearer(google), google.domains["C01x2y3z4"]
    base = f"{google.url}/apps/licensing/v1/product/{PRODUCT}"
    items, token = [], None
    while True:
        params = {"customerId": "C01x2y3z4", "maxResults": 1000} | ({"pageToken": token} if token else {})
        page = httpx.get(f"{base}/users", params=params, headers=headers).json()
        items += page.get("items", [])
        if not (token := page.get("nextPageToken")):
            break
        time.sleep(1.05)  # the License Manager's one query a second
    assert len(items) == len(domain.licensed())
    time.sleep(1.05)
    plus = httpx.get(
        f"{base}/sku/{PLUS[0]}/users",
        params={"customerId": "acme.example", "maxResults": 1000},
        headers=headers,
    )
    assert len(plus.json()["items"]) == len(domain.licensed(PLUS[0]))
    assert {i["skuName"] for i in plus.json()["items"]} == {PLUS[1]}


def test_unassigning_changes_the_seed_once(google):
    headers, domain = bearer(google), google.domains["C01x2y3z4"]
    holder = domain.licensed(STANDARD[0])[3]
    url = f"{google.url}/apps/licensing/v1/product/{PRODUCT}/sku/{STANDARD[0]}/user/{holder.email}"
    assert httpx.delete(url, headers=headers).status_code == 204
    time.sleep(1.05)
    again = httpx.delete(url, headers=headers)
    assert again.status_code == 404 and reason(again) == "notFound"
    assert google.unassigned == [(PRODUCT, STANDARD[0], holder.email)]
    assert domain.find(holder.email).sku is None
    time.sleep(1.05)
    back = httpx.post(
        f"{google.url}/apps/licensing/v1/product/{PRODUCT}/sku/{STANDARD[0]}/user",
        json={"userId": holder.email},
        headers=headers,
    )
    assert back.status_code == 200 and domain.find(holder.email).sku == STANDARD[0]


def test_unassigning_without_the_licensing_scope_is_refused(google):
    holder = google.domains["C01x2y3z4"].licensed()[0]
    url = f"{google.url}/apps/licensing/v1/product/{PRODUCT}/sku/{holder.sku}/user/{holder.email}"
    answer = httpx.delete(url, headers=bearer(google, [SCOPE["directory"][0]]))
    assert answer.status_code == 403 and reason(answer) == "insufficientPermissions"
    assert google.unassigned == []


def test_the_license_manager_allows_one_query_a_second(google):
    headers = bearer(google)
    url = f"{google.url}/apps/licensing/v1/product/{PRODUCT}/users"
    answers = [
        httpx.get(url, params={"customerId": "C01x2y3z4", "maxResults": 1}, headers=headers) for _ in range(2)
    ]
    assert answers[0].status_code == 200
    assert answers[1].status_code == 429 and reason(answers[1]) == "rateLimitExceeded"
    assert google.quotas.refused


# --- Reports -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("lag", [1, 2, 3])
def test_the_usage_report_lags(google, lag):
    google.lag_days = lag
    headers, newest = bearer(google), (NOW - timedelta(days=lag)).date()
    url = f"{google.url}/admin/reports/v1/usage/users/all/dates"
    params = {"parameters": "accounts:last_login_time", "maxResults": 1000}
    late = httpx.get(f"{url}/{newest + timedelta(days=1)}", params=params, headers=headers)
    assert late.status_code == 400 and f"later than {newest.isoformat()}" in late.json()["error"]["message"]
    ready = httpx.get(f"{url}/{newest}", params=params, headers=headers).json()
    assert len(ready["usageReports"]) == 1000 and ready["nextPageToken"]
    first = ready["usageReports"][0]
    assert (
        first["parameters"][0]["name"] == "accounts:last_login_time" and first["date"] == newest.isoformat()
    )


def test_the_seed_truth_is_consistent():
    domain = generate_domain(5, now=NOW, n_users=300)
    found = truth(domain, NOW - timedelta(days=30))
    assert found.licences == sum(found.by_sku.values()) == found.active + len(found.idle)
    assert set(found.suspended_licensed) <= set(found.idle) and found.never > 0 and found.idle_admins
