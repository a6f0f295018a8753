"""The SendGrid stand-in, exercised over real HTTP as the bot will use it."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from sandbox.standins.sendgrid import AUTO_SCOPES, KEY_PATTERN, ROUTE_SCOPES, SendGridStandIn
from sandbox.standins.sendgrid_seed import (
    METRIC_NAMES,
    check_day_metrics,
    generate_account,
    sum_metrics,
    zero_metrics,
)
from sandbox.standins.server import AppSwitch, serve_in_thread

START = date(2026, 1, 7)  # a Wednesday
END = date(2026, 3, 18)  # a Wednesday
ALL_SCOPES = [s for s in ROUTE_SCOPES.values() if s]
# 2026-03-20 12:00:00 UTC, a multiple of 60 so rate-limit windows are easy to reason about.
T0 = int(datetime(2026, 3, 20, 12, 0, tzinfo=UTC).timestamp())


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def account():
    return generate_account(7, account_id="acme", start=START, end=END, n_teammates=12)


@pytest.fixture
def standin(clock, account) -> SendGridStandIn:
    s = SendGridStandIn(clock=clock)
    s.add_account(account)
    return s


@pytest.fixture(scope="module")
def _shared_server():
    switch = AppSwitch()
    with serve_in_thread(switch) as srv:
        yield srv, switch


@pytest.fixture
def server(_shared_server, standin):
    srv, switch = _shared_server
    switch.app = standin.app
    yield srv
    switch.app = None


@pytest.fixture
def key(standin, account) -> str:
    return standin.add_key(account.account_id, ALL_SCOPES)


@pytest.fixture
def http(server):
    # A new connection per request: server.py's listening socket is created with proto 0, so
    # asyncio leaves TCP_NODELAY off and every keep-alive request after the first waits ~40 ms
    # (Nagle + delayed ACK). Fresh connections avoid that and keep this module fast.
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=server.url, timeout=5, limits=limits) as client:
        yield client


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def stats(http, key, **params):
    return http.get("/v3/stats", params=params, headers=auth(key))


# ---------------------------------------------------------------- seed
def test_seed_is_deterministic_and_consistent(account):
    again = generate_account(7, account_id="acme", start=START, end=END, n_teammates=12)
    assert again == account
    assert generate_account(8, account_id="acme", start=START, end=END) != account

    assert sorted(account.daily_metrics) == [START + timedelta(days=i) for i in range((END - START).days + 1)]
    for metrics in account.daily_metrics.values():
        assert set(metrics) == set(METRIC_NAMES)
        check_day_metrics(metrics)
    assert any(m == zero_metrics() for m in account.daily_metrics.values()), "some days send nothing"

    assert [m.user_type for m in account.teammates].count("owner") == 1
    assert account.teammates[0].user_type == "owner" and account.teammates[0].username == account.username
    seats = account.seats_by_type()
    assert seats["admin"] >= 1 and seats["teammate"] >= 1 and sum(seats.values()) == 12
    assert len({m.username for m in account.teammates}) == 12
    assert all(m.is_admin == (m.user_type != "teammate") for m in account.teammates)

    c = account.credits
    assert c.next_reset > END and c.last_reset <= END
    assert c.used == sum(m["processed"] for d, m in account.daily_metrics.items() if d >= c.last_reset)
    assert c.remain == max(c.total - c.used, 0) and c.overage == max(c.used - c.total, 0)

    assert [a.last_at for a in account.access_activity] == sorted(
        (a.last_at for a in account.access_activity), reverse=True
    )
    assert all(a.first_at <= a.last_at for a in account.access_activity)


def test_free_account_has_one_teammate_besides_the_owner():
    free = generate_account(3, account_id="tiny", start=START, end=END, account_type="free")
    assert free.account_type == "free" and len(free.teammates) == 2
    assert free.credits.reset_frequency == "daily" and free.credits.next_reset == END + timedelta(days=1)


# ---------------------------------------------------------------- auth
def test_minted_key_has_sendgrids_shape(key):
    assert len(key) == 69 and KEY_PATTERN.match(key)


def test_scopes_of_a_good_key(http, standin, account):
    key = standin.add_key(account.account_id, ["stats.read", "teammates.read"])
    r = http.get("/v3/scopes", headers=auth(key))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    # SendGrid adds its own scopes to every key, after those chosen
    assert r.json() == {"scopes": ["stats.read", "teammates.read", *AUTO_SCOPES]}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer SG.not-a-real-key.at-all"},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
)
def test_missing_or_unknown_key_is_401(http, headers):
    r = http.get("/v3/scopes", headers=headers)
    assert r.status_code == 401
    assert r.json() == {"errors": [{"field": None, "message": "authorization required"}]}


def test_only_bearer_is_accepted(http, key):
    assert http.get("/v3/scopes", headers={"Authorization": f"token {key}"}).status_code == 401
    assert http.get("/v3/scopes", headers={"Authorization": f"bearer {key}"}).status_code == 200


def test_revoked_key_answers_401_everywhere(http, standin, key):
    assert http.get("/v3/user/account", headers=auth(key)).status_code == 200
    standin.revoke_key(key)
    for path in ROUTE_SCOPES:
        r = http.get(path, params={"start_date": "2026-03-01"}, headers=auth(key))
        assert r.status_code == 401, path
        assert r.json() == {"errors": [{"field": None, "message": "authorization required"}]}


def test_missing_scope_is_403_not_401(http, standin, account):
    key = standin.add_key(account.account_id, ["user.account.read"])
    assert http.get("/v3/user/account", headers=auth(key)).status_code == 200
    for path in ("/v3/teammates", "/v3/stats", "/v3/user/credits", "/v3/access_settings/activity"):
        r = http.get(path, params={"start_date": "2026-03-01"}, headers=auth(key))
        assert r.status_code == 403, path
        assert r.json() == {"errors": [{"field": None, "message": "access forbidden"}]}


def test_unknown_route_and_method(http, key):
    r = http.get("/v3/nope", headers=auth(key))
    assert r.status_code == 404
    assert r.json() == {"errors": [{"field": None, "message": "not found"}]}
    assert http.post("/v3/teammates", headers=auth(key), json={}).status_code == 405


# ---------------------------------------------------------------- bodies
def test_user_endpoints(http, key, account):
    assert http.get("/v3/user/account", headers=auth(key)).json() == {
        "type": "paid",
        "reputation": account.reputation,
    }
    assert http.get("/v3/user/username", headers=auth(key)).json() == {
        "username": account.username,
        "user_id": account.user_id,
    }
    credits = http.get("/v3/user/credits", headers=auth(key)).json()
    c = account.credits
    assert credits == {
        "remain": c.total - c.used if c.used <= c.total else 0,
        "total": c.total,
        "overage": max(c.used - c.total, 0),
        "used": c.used,
        "last_reset": c.last_reset.strftime("%Y-%m-%d"),
        "next_reset": c.next_reset.strftime("%Y-%m-%d"),
        "reset_frequency": "monthly",
    }


def test_access_activity(http, key, account):
    r = http.get("/v3/access_settings/activity", headers=auth(key))
    assert r.status_code == 200
    rows = r.json()["result"]
    assert len(rows) == len(account.access_activity)
    assert set(rows[0]) == {"allowed", "auth_method", "first_at", "ip", "last_at", "location"}
    assert isinstance(rows[0]["first_at"], int) and isinstance(rows[0]["allowed"], bool)
    limited = http.get("/v3/access_settings/activity", params={"limit": 2}, headers=auth(key)).json()
    assert limited["result"] == rows[:2]


# ---------------------------------------------------------------- teammates
def test_teammates_default_page_has_everyone(http, key, account):
    body = http.get("/v3/teammates", headers=auth(key)).json()
    assert list(body) == ["result"]
    assert body["result"] == [m.to_json() for m in account.teammates]
    assert set(body["result"][0]) == {
        "username", "email", "first_name", "last_name", "user_type", "is_admin", "phone",
        "website", "address", "address2", "city", "state", "zip", "country",
    }  # fmt: skip


def test_teammates_offset_paging_returns_each_once(http, key, account):
    seen, offset, pages = [], 0, []
    while True:
        page = http.get("/v3/teammates", params={"limit": 5, "offset": offset}, headers=auth(key))
        assert page.status_code == 200
        result = page.json()["result"]
        pages.append(len(result))
        seen += [m["username"] for m in result]
        if len(result) < 5:  # no total: a short page is the last
            break
        offset += 5
    assert pages == [5, 5, 2]
    assert seen == [m.username for m in account.teammates]
    assert len(set(seen)) == len(seen)


def test_teammates_limit_validation(http, key):
    r = http.get("/v3/teammates", params={"limit": 501}, headers=auth(key))
    assert r.status_code == 400
    assert r.json() == {"errors": [{"field": "limit", "message": "limit must be less than or equal to 500"}]}
    assert http.get("/v3/teammates", params={"limit": 500}, headers=auth(key)).status_code == 200
    bad = http.get("/v3/teammates", params={"limit": "ten", "offset": -1}, headers=auth(key))
    assert bad.status_code == 400
    assert [e["field"] for e in bad.json()["errors"]] == ["limit", "offset"]


# ---------------------------------------------------------------- stats
def _row_total(rows):
    return sum_metrics(row["stats"][0]["metrics"] for row in rows)


def test_stats_by_day_has_every_day_and_zeros_outside_history(http, key, account):
    start, end = END - timedelta(days=9), END + timedelta(days=4)
    r = stats(http, key, start_date=start.isoformat(), end_date=end.isoformat(), aggregated_by="day")
    assert r.status_code == 200
    rows = r.json()
    assert [row["date"] for row in rows] == [(start + timedelta(days=i)).isoformat() for i in range(14)]
    for row in rows:
        day = date.fromisoformat(row["date"])
        assert row["stats"] == [{"metrics": account.daily_metrics.get(day, zero_metrics())}]
    assert rows[-1]["stats"][0]["metrics"] == zero_metrics()
    assert _row_total(rows) == account.totals(start, end)


def test_stats_default_aggregation_is_day_and_end_date_is_today(http, key, clock):
    today = datetime.fromtimestamp(clock.now, tz=UTC).date()
    rows = stats(http, key, start_date=(today - timedelta(days=2)).isoformat()).json()
    assert [row["date"] for row in rows] == [(today - timedelta(days=i)).isoformat() for i in (2, 1, 0)]


def test_stats_by_week_uses_monday_buckets(http, key, account):
    rows = stats(
        http, key, start_date=START.isoformat(), end_date=END.isoformat(), aggregated_by="week"
    ).json()
    dates = [date.fromisoformat(row["date"]) for row in rows]
    assert dates[0] == START  # the first bucket starts at start_date (mid-week)
    assert all(d.weekday() == 0 for d in dates[1:])  # later buckets on Mondays
    assert dates[1] == date(2026, 1, 12)
    assert len(rows) == 11
    for i, row in enumerate(rows):
        bucket_end = min(dates[i + 1] - timedelta(days=1) if i + 1 < len(dates) else END, END)
        assert row["stats"][0]["metrics"] == account.totals(dates[i], bucket_end)
    assert _row_total(rows) == account.totals(START, END)


def test_stats_by_month(http, key, account):
    rows = stats(
        http, key, start_date=START.isoformat(), end_date=END.isoformat(), aggregated_by="month"
    ).json()
    assert [row["date"] for row in rows] == ["2026-01-07", "2026-02-01", "2026-03-01"]
    expected = [
        account.totals(START, date(2026, 1, 31)),
        account.totals(date(2026, 2, 1), date(2026, 2, 28)),
        account.totals(date(2026, 3, 1), END),
    ]
    assert [row["stats"][0]["metrics"] for row in rows] == expected
    assert _row_total(rows) == account.totals(START, END)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [("start_date", "missing start_date")]),
        ({"start_date": ""}, [("start_date", "missing start_date")]),
        (
            {"start_date": "2026/03/01"},
            [("start_date", "start_date must be a valid date in YYYY-MM-DD format")],
        ),
        (
            {"start_date": "2026-02-30"},
            [("start_date", "start_date must be a valid date in YYYY-MM-DD format")],
        ),
        (
            {"start_date": "2026-03-01", "end_date": "tomorrow"},
            [("end_date", "end_date must be a valid date in YYYY-MM-DD format")],
        ),
        (
            {"start_date": "2026-03-10", "end_date": "2026-03-01"},
            [("end_date", "end_date must not be before start_date")],
        ),
        (
            {"start_date": "2026-03-01", "aggregated_by": "year"},
            [("aggregated_by", "aggregated_by must be one of day, week, month")],
        ),
        (
            {"aggregated_by": "hour"},
            [
                ("start_date", "missing start_date"),
                ("aggregated_by", "aggregated_by must be one of day, week, month"),
            ],
        ),
    ],
)
def test_stats_validation_errors(http, key, params, expected):
    r = http.get("/v3/stats", params=params, headers=auth(key))
    assert r.status_code == 400
    assert r.json() == {"errors": [{"field": f, "message": m} for f, m in expected]}


def test_stats_limit_and_offset_slice_rows(http, key):
    full = stats(http, key, start_date="2026-03-01", end_date="2026-03-10").json()
    part = stats(http, key, start_date="2026-03-01", end_date="2026-03-10", limit=3, offset=2).json()
    assert part == full[2:5]


# ---------------------------------------------------------------- rate limits
def test_rate_limit_headers_429_and_reset(http, standin, key, account, clock):
    standin.rate_limit = (3, 60)
    clock.now = T0 + 10  # window [T0, T0 + 60)
    remaining = []
    for _ in range(3):
        r = http.get("/v3/user/account", headers=auth(key))
        assert r.status_code == 200
        assert r.headers["X-RateLimit-Limit"] == "3"
        assert r.headers["X-RateLimit-Reset"] == str(T0 + 60)
        remaining.append(r.headers["X-RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]

    r = http.get("/v3/user/account", headers=auth(key))
    assert r.status_code == 429
    assert r.json() == {"errors": [{"field": None, "message": "too many requests"}]}
    assert r.headers["X-RateLimit-Remaining"] == "0" and r.headers["X-RateLimit-Reset"] == str(T0 + 60)
    assert "retry-after" not in r.headers
    assert standin.rate_limit_violations == 1

    # Per endpoint and per key: other endpoints and other keys still have their allowance.
    assert http.get("/v3/user/username", headers=auth(key)).status_code == 200
    other = standin.add_key(account.account_id, ALL_SCOPES)
    assert http.get("/v3/user/account", headers=auth(other)).status_code == 200

    clock.now = T0 + 59
    assert http.get("/v3/user/account", headers=auth(key)).status_code == 429
    assert standin.rate_limit_violations == 2

    clock.now = T0 + 60  # the advertised reset time: a fresh window
    r = http.get("/v3/user/account", headers=auth(key))
    assert r.status_code == 200
    assert r.headers["X-RateLimit-Remaining"] == "2"
    assert r.headers["X-RateLimit-Reset"] == str(T0 + 120)


def test_every_response_carries_rate_limit_headers(http, standin, key):
    standin.set_endpoint_rate_limit("/v3/stats", 50, 30)
    responses = [
        http.get("/v3/scopes", headers=auth(key)),  # 200
        http.get("/v3/scopes"),  # 401
        http.get("/v3/stats", headers=auth(key)),  # 400
        http.get("/v3/nowhere", headers=auth(key)),  # 404
    ]
    for r in responses:
        assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(r.headers), r
    assert responses[0].headers["X-RateLimit-Limit"] == "600"
    assert responses[2].headers["X-RateLimit-Limit"] == "50"
    assert responses[2].headers["X-RateLimit-Reset"] == str(T0 + 30)


# ---------------------------------------------------------------- faults
def test_injected_5xx_then_recovery(http, standin, key):
    standin.faults.fail_next("/v3/stats", status=503, count=2)
    params = {"start_date": "2026-03-01", "end_date": "2026-03-02"}
    assert http.get("/v3/teammates", headers=auth(key)).status_code == 200  # other paths unaffected
    assert [http.get("/v3/stats", params=params, headers=auth(key)).status_code for _ in range(3)] == [
        503,
        503,
        200,
    ]
    assert standin.faults.injected == 2


def test_injected_latency_and_hang(http, standin, key):
    standin.faults.latency = 0.2
    began = time.monotonic()
    assert http.get("/v3/scopes", headers=auth(key)).status_code == 200
    assert time.monotonic() - began >= 0.2
    standin.faults.latency = 0.0

    standin.faults.hang_next("/v3/teammates", seconds=0.6)
    with pytest.raises(httpx.ReadTimeout):
        http.get("/v3/teammates", headers=auth(key), timeout=0.2)
    assert http.get("/v3/scopes", headers=auth(key)).status_code == 200


# ---------------------------------------------------------------- request log
def test_request_log_keeps_only_the_key_suffix(http, standin, key):
    http.get("/v3/stats", params={"start_date": "2026-03-01"}, headers=auth(key))
    http.get("/v3/scopes")
    log = standin.requests
    assert log[-2] == {
        "method": "GET",
        "path": "/v3/stats",
        "query": {"start_date": "2026-03-01"},
        "key_suffix": key[-4:],
    }
    assert log[-1]["key_suffix"] is None
    assert key not in repr(log)


def test_clock_may_return_an_aware_datetime(_shared_server, account):
    srv, switch = _shared_server
    now = datetime(2026, 3, 5, 8, 30, 15, tzinfo=UTC)
    standin = SendGridStandIn(clock=lambda: now)
    standin.add_account(account)
    key = standin.add_key(account.account_id, ["stats.read"])
    switch.app = standin.app
    try:
        r = httpx.get(f"{srv.url}/v3/stats", params={"start_date": "2026-03-04"}, headers=auth(key))
    finally:
        switch.app = None
    assert [row["date"] for row in r.json()] == ["2026-03-04", "2026-03-05"]
    window_end = int(datetime(2026, 3, 5, 8, 31, tzinfo=UTC).timestamp())
    assert r.headers["X-RateLimit-Reset"] == str(window_end)


# --- DELETE /v3/teammates/{username} -----------------------------------------------------------


def test_deleting_a_teammate_as_sendgrid_documents(standin, account, http):
    mate = next(m for m in account.teammates if m.user_type == "teammate")
    reader = {"Authorization": f"Bearer {standin.add_key('acme', ALL_SCOPES)}"}
    writer = {"Authorization": f"Bearer {standin.add_key('acme', [*ALL_SCOPES, 'teammates.delete'])}"}
    one = f"/v3/teammates/{mate.username}"
    assert http.get(one, headers=reader).json() == mate.to_json()
    forbidden = http.delete(one, headers=reader)
    assert forbidden.status_code == 403
    assert forbidden.json() == {"errors": [{"field": None, "message": "access forbidden"}]}
    assert http.patch(one, headers=writer).status_code == 405

    deleted = http.delete(one, headers=writer)
    assert deleted.status_code == 204 and deleted.content == b""
    listed = http.get("/v3/teammates", params={"limit": 500}, headers=reader).json()["result"]
    assert (
        mate.username not in {m["username"] for m in listed} and len(listed) == len(account.teammates) == 11
    )
    gone = http.delete(one, headers=writer)
    assert gone.status_code == 404
    assert gone.json() == {"errors": [{"field": "username", "message": "teammate not found"}]}
    assert http.get(one, headers=reader).status_code == 404
    assert [(d["username"], d["account_id"]) for d in standin.teammate_deletes] == [(mate.username, "acme")]


def test_the_account_owner_cannot_be_deleted(standin, account, http):
    owner = next(m for m in account.teammates if m.user_type == "owner")
    writer = {"Authorization": f"Bearer {standin.add_key('acme', [*ALL_SCOPES, 'teammates.delete'])}"}
    refused = http.delete(f"/v3/teammates/{owner.username}", headers=writer)
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "username"
    assert owner in account.teammates and standin.teammate_deletes == []
