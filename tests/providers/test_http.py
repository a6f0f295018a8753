"""ProviderHTTP and the pure `decide()` behind it."""

from __future__ import annotations

import logging
import pickle
from email.utils import formatdate

import httpx
import msgspec
import pytest
import respx

from providers.http import (
    MissingScopes,
    ProviderError,
    ProviderHTTP,
    RateLimited,
    TransientError,
    Unauthorized,
    safe_path,
)
from providers.hubspot.entry import LIMITS as HUBSPOT_LIMITS
from providers.hubspot.entry import POLICY as HUBSPOT
from providers.ratelimit import Limiter
from providers.retry import Fail, Ok, Reauth, Retry, decide, parse_retry_after
from providers.sendgrid.entry import POLICY as SENDGRID

NOW = 1_700_000_000.0
HS = "https://api.hubapi.com"
SG = "https://api.sendgrid.com"
TOKEN = "CNvTn-SECRET-ACCESS-TOKEN-0123456789"
NEW_TOKEN = "CNvTn-FRESH-ACCESS-TOKEN-9876543210"


def resp(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    if body is None:
        return httpx.Response(status, headers=headers)
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def hs429(policy: str | None, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"status": "error", "message": "You have reached your limit.", "errorType": "RATE_LIMIT"}
    if policy:
        body["policyName"] = policy
    return resp(429, body, headers)


def one() -> float:
    return 1.0


# ----------------------------------------------------------------------------- decide(), by table

RETRY_TABLE = [
    # (id, policy, outcome, attempt, expected wait)
    ("hs-500", HUBSPOT, resp(500), 1, 0.5),
    ("hs-502", HUBSPOT, resp(502), 2, 1.0),
    ("hs-503", HUBSPOT, resp(503), 3, 2.0),
    ("hs-504", HUBSPOT, resp(504), 1, 0.5),
    ("hs-521", HUBSPOT, resp(521), 1, 0.5),
    ("hs-523", HUBSPOT, resp(523), 1, 0.5),
    ("hs-524", HUBSPOT, resp(524), 4, 4.0),
    ("hs-503-retry-after", HUBSPOT, resp(503, headers={"Retry-After": "7"}), 1, 7.0),
    ("hs-423-at-least-2s", HUBSPOT, resp(423, {"message": "locked"}), 1, 2.0),
    ("hs-423-backoff-above-2s", HUBSPOT, resp(423), 4, 4.0),
    ("hs-477-retry-after", HUBSPOT, resp(477, headers={"Retry-After": "30"}), 1, 30.0),
    ("hs-477-no-header", HUBSPOT, resp(477), 1, 0.5),
    ("hs-429-retry-after-wins", HUBSPOT, hs429("TEN_SECONDLY_ROLLING", {"Retry-After": "3"}), 1, 3.0),
    ("hs-429-ten-secondly-1", HUBSPOT, hs429("TEN_SECONDLY_ROLLING"), 1, 11.0),
    ("hs-429-ten-secondly-2", HUBSPOT, hs429("TEN_SECONDLY_ROLLING"), 2, 22.0),
    ("hs-429-secondly-3", HUBSPOT, hs429("SECONDLY"), 3, 3.3),
    ("hs-429-unknown-policy", HUBSPOT, hs429(None), 1, 1.0),
    ("sg-500", SENDGRID, resp(500), 1, 0.5),
    ("sg-503", SENDGRID, resp(503), 2, 1.0),
    ("sg-429-until-reset", SENDGRID, resp(429, headers={"X-RateLimit-Reset": str(int(NOW) + 12)}), 1, 12.5),
    ("sg-429-reset-passed", SENDGRID, resp(429, headers={"X-RateLimit-Reset": str(int(NOW) - 5)}), 1, 0.5),
    ("sg-429-no-reset", SENDGRID, resp(429, {"errors": [{"message": "too many requests"}]}), 1, 1.0),
    ("timeout", HUBSPOT, httpx.ReadTimeout("timed out"), 1, 0.5),
    ("server-disconnected", HUBSPOT, httpx.RemoteProtocolError("disconnected"), 1, 0.5),
    ("connect-error", SENDGRID, httpx.ConnectError("refused"), 2, 1.0),
]


@pytest.mark.parametrize(
    ("policy", "outcome", "attempt", "wait"), [r[1:] for r in RETRY_TABLE], ids=[r[0] for r in RETRY_TABLE]
)
def test_decide_retries(policy, outcome, attempt, wait):
    decision = decide(outcome, attempt, policy, NOW, rand=one)

    assert isinstance(decision, Retry)
    assert decision.wait == pytest.approx(wait)


FAIL_TABLE = [
    # (id, policy, outcome, attempt, exception class, status, category)
    ("hs-500-exhausted", HUBSPOT, resp(500), 5, TransientError, 500, None),
    ("timeout-exhausted", HUBSPOT, httpx.ConnectTimeout("t"), 5, TransientError, None, None),
    ("hs-429-daily", HUBSPOT, hs429("DAILY"), 1, RateLimited, 429, "DAILY"),
    ("hs-429-exhausted", HUBSPOT, hs429("SECONDLY"), 5, RateLimited, 429, "SECONDLY"),
    ("hs-429-too-long", HUBSPOT, hs429(None, {"Retry-After": "3600"}), 1, RateLimited, 429, None),
    ("hs-477-too-long", HUBSPOT, resp(477, headers={"Retry-After": "900"}), 1, TransientError, 477, None),
    (
        "hs-403-missing-scopes",
        HUBSPOT,
        resp(403, {"category": "MISSING_SCOPES", "message": "m"}),
        1,
        MissingScopes,
        403,
        "MISSING_SCOPES",
    ),
    (
        "hs-403-other",
        HUBSPOT,
        resp(403, {"category": "FORBIDDEN", "message": "Enterprise only"}),
        1,
        ProviderError,
        403,
        "FORBIDDEN",
    ),
    (
        "hs-404",
        HUBSPOT,
        resp(404, {"category": "OBJECT_NOT_FOUND", "message": "nope"}),
        1,
        ProviderError,
        404,
        "OBJECT_NOT_FOUND",
    ),
    ("hs-400-not-json", HUBSPOT, resp(400, "<html>bad</html>"), 1, ProviderError, 400, None),
    ("hs-501-not-transient", HUBSPOT, resp(501), 1, ProviderError, 501, None),
    (
        "hs-token-error",
        HUBSPOT,
        resp(400, {"status": "BAD_REFRESH_TOKEN", "message": "revoked"}),
        1,
        ProviderError,
        400,
        "BAD_REFRESH_TOKEN",
    ),
    (
        "sg-403",
        SENDGRID,
        resp(403, {"errors": [{"field": None, "message": "access forbidden"}]}),
        1,
        MissingScopes,
        403,
        None,
    ),
    ("sg-521-not-transient", SENDGRID, resp(521), 1, ProviderError, 521, None),
    ("unsupported-protocol", HUBSPOT, httpx.UnsupportedProtocol("ftp"), 1, ProviderError, None, None),
    ("too-many-redirects", SENDGRID, httpx.TooManyRedirects("loop"), 1, ProviderError, None, None),
    (
        "sg-429-exhausted",
        SENDGRID,
        resp(429, headers={"X-RateLimit-Reset": str(int(NOW) + 1)}),
        5,
        RateLimited,
        429,
        None,
    ),
]


@pytest.mark.parametrize(
    ("policy", "outcome", "attempt", "error", "status", "category"),
    [r[1:] for r in FAIL_TABLE],
    ids=[r[0] for r in FAIL_TABLE],
)
def test_decide_failures(policy, outcome, attempt, error, status, category):
    decision = decide(outcome, attempt, policy, NOW, rand=one, where="GET /x")

    assert isinstance(decision, Fail)
    assert type(decision.error) is error
    assert decision.error.status == status
    assert decision.error.category == category
    assert decision.error.provider == policy.provider
    assert "GET /x" in str(decision.error)


@pytest.mark.parametrize("policy", [HUBSPOT, SENDGRID])
@pytest.mark.parametrize("status", [200, 201, 204])
def test_decide_ok(policy, status):
    assert decide(resp(status), 1, policy, NOW) == Ok()


def test_decide_401_asks_for_reauth_with_the_providers_category():
    body = {
        "status": "error",
        "message": "The OAuth token used to make this call expired 3 second(s) ago.",
        "category": "EXPIRED_AUTHENTICATION",
        "correlationId": "abc",
    }

    decision = decide(resp(401, body), 1, HUBSPOT, NOW)

    assert isinstance(decision, Reauth)
    assert decision.error.category == "EXPIRED_AUTHENTICATION"
    assert decision.error.correlation_id == "abc"
    assert "expired 3 second(s) ago" in str(decision.error)


def test_sendgrid_error_message_is_read_from_errors_list():
    body = {"errors": [{"field": None, "message": "authorization required"}]}

    decision = decide(resp(401, body), 1, SENDGRID, NOW)

    assert isinstance(decision, Reauth)
    assert "authorization required" in str(decision.error)


def test_backoff_is_full_jitter_and_capped():
    assert decide(resp(503), 3, HUBSPOT, NOW, rand=lambda: 0.0).wait == 0.0
    assert decide(resp(503), 3, HUBSPOT, NOW, rand=lambda: 0.25).wait == pytest.approx(0.5)
    assert decide(resp(503), 4, HUBSPOT, NOW, rand=one, max_retries=20).wait == 4.0
    assert decide(resp(503), 20, HUBSPOT, NOW, rand=one, max_retries=20).wait == HUBSPOT.max_delay


def test_decide_rejects_non_http_exceptions():
    with pytest.raises(TypeError):
        decide(ValueError("boom"), 1, HUBSPOT, NOW)


def test_parse_retry_after():
    assert parse_retry_after("12", NOW) == 12.0
    assert parse_retry_after(formatdate(NOW + 30, usegmt=True), NOW) == pytest.approx(30.0)
    assert parse_retry_after(formatdate(NOW - 30, usegmt=True), NOW) == 0.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_safe_path_keeps_parameter_names_only():
    url = httpx.URL("https://api.hubapi.com/crm/v3/owners?limit=100&after=CURSOR&hapikey=s3cret")
    assert safe_path(url) == "/crm/v3/owners?limit&after&hapikey"


# ----------------------------------------------------------------------------- ProviderHTTP


class FakeClock:
    """Wall clock that advances only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = NOW
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


class StubAuth:
    def __init__(self, *, refresh_ok: bool = True) -> None:
        self.token = TOKEN
        self.refresh_ok = refresh_ok
        self.refreshes = 0

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def refresh(self) -> bool:
        self.refreshes += 1
        if self.refresh_ok:
            self.token = NEW_TOKEN
        return self.refresh_ok


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client():
    async with httpx.AsyncClient() as c:
        yield c


@pytest.fixture
def mock():
    with respx.mock(assert_all_called=False) as router:
        yield router


def hubspot(client, clock, **kw) -> ProviderHTTP:
    return ProviderHTTP(client, HUBSPOT, sleep=clock.sleep, clock=clock, rand=one, **kw)


def sendgrid(client, clock, **kw) -> ProviderHTTP:
    return ProviderHTTP(client, SENDGRID, sleep=clock.sleep, clock=clock, rand=one, **kw)


async def test_success_sends_auth_and_caller_headers_with_the_default_timeout(mock, client, clock):
    route = mock.get(f"{HS}/crm/v3/owners").respond(200, json={"results": []})

    body = await hubspot(client, clock).get_json(
        f"{HS}/crm/v3/owners",
        auth=StubAuth(),
        account_key="123",
        params={"limit": 100},
        headers={"X-Trace": "t1"},
    )

    assert body == {"results": []}
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["X-Trace"] == "t1"
    assert request.url.params["limit"] == "100"
    assert request.extensions["timeout"]["read"] == 20.0
    assert clock.waits == []


async def test_timeout_is_configurable(mock, client, clock):
    route = mock.get(f"{SG}/v3/scopes").respond(200, json={"scopes": []})

    await sendgrid(client, clock, timeout=5.0).get_json(f"{SG}/v3/scopes", auth=None, account_key="k")

    assert route.calls.last.request.extensions["timeout"]["connect"] == 5.0


async def test_post_json_and_empty_body(mock, client, clock):
    route = mock.post(f"{HS}/crm/v3/objects/contacts/search").respond(200, json={"total": 7})
    mock.delete(f"{HS}/appinstalls/v3/external-install").respond(204)
    http = hubspot(client, clock)

    body = await http.post_json(
        f"{HS}/crm/v3/objects/contacts/search",
        {"limit": 1},
        auth=StubAuth(),
        account_key="1",
        bucket="search",
    )
    response = await http.request(
        "DELETE", f"{HS}/appinstalls/v3/external-install", auth=StubAuth(), account_key="1"
    )

    assert body == {"total": 7}
    assert route.calls.last.request.content == b'{"limit":1}'
    assert response.status_code == 204


async def test_a_2xx_that_is_not_json_is_an_error(mock, client, clock):
    mock.get(f"{HS}/x").respond(200, text="<html>")

    with pytest.raises(ProviderError, match="not JSON"):
        await hubspot(client, clock).get_json(f"{HS}/x", auth=None, account_key="1")


class _Item(msgspec.Struct):
    id: str


class _Page(msgspec.Struct):
    items: list[_Item] = msgspec.field(default_factory=list)


def _lenient(body: object) -> _Page:
    """What a caller's lenient reader does: whatever came, the items it can read."""
    items = body.get("items") if isinstance(body, dict) else None
    return _Page([_Item(str(i.get("id"))) for i in items or [] if isinstance(i, dict)])


async def test_get_typed_decodes_the_type_and_hands_another_shape_to_the_lenient_reader(mock, client, clock):
    http, decoder = hubspot(client, clock), msgspec.json.Decoder(_Page)
    mock.get(f"{HS}/typed").respond(200, json={"items": [{"id": "a", "more": 1}]})
    mock.get(f"{HS}/odd").respond(200, json={"items": [{"id": 7}, "not an object"]})
    mock.get(f"{HS}/empty").respond(204)
    mock.get(f"{HS}/html").respond(200, text="<html>")

    assert await http.get_typed(f"{HS}/typed", decoder, _lenient, auth=None, account_key="1") == _Page(
        [_Item("a")]
    )
    assert await http.get_typed(f"{HS}/odd", decoder, _lenient, auth=None, account_key="1") == _Page(
        [_Item("7")]
    )
    assert await http.get_typed(f"{HS}/empty", decoder, _lenient, auth=None, account_key="1") == _Page()
    with pytest.raises(ProviderError, match="not JSON"):
        await http.get_typed(f"{HS}/html", decoder, _lenient, auth=None, account_key="1")


async def test_401_refreshes_once_then_succeeds_with_the_new_token(mock, client, clock):
    route = mock.get(f"{HS}/account-info/v3/details")
    route.side_effect = [
        httpx.Response(401, json={"category": "EXPIRED_AUTHENTICATION", "message": "expired"}),
        httpx.Response(200, json={"portalId": 1}),
    ]
    auth = StubAuth()

    body = await hubspot(client, clock).get_json(f"{HS}/account-info/v3/details", auth=auth, account_key="1")

    assert body == {"portalId": 1}
    assert auth.refreshes == 1
    assert route.calls[1].request.headers["Authorization"] == f"Bearer {NEW_TOKEN}"
    assert clock.waits == []


async def test_401_twice_raises_unauthorized_after_one_refresh(mock, client, clock):
    route = mock.get(f"{HS}/account-info/v3/details").respond(
        401, json={"category": "INVALID_AUTHENTICATION", "message": "Authentication credentials not found."}
    )
    auth = StubAuth()

    with pytest.raises(Unauthorized) as caught:
        await hubspot(client, clock).get_json(f"{HS}/account-info/v3/details", auth=auth, account_key="1")

    assert auth.refreshes == 1 and route.call_count == 2
    assert caught.value.status == 401 and caught.value.category == "INVALID_AUTHENTICATION"
    assert "Authentication credentials not found." in str(caught.value)


async def test_refresh_returning_false_raises_unauthorized(mock, client, clock):
    route = mock.get(f"{SG}/v3/scopes").respond(401, json={"errors": [{"message": "authorization required"}]})
    auth = StubAuth(refresh_ok=False)

    with pytest.raises(Unauthorized, match="authorization required"):
        await sendgrid(client, clock).get_json(f"{SG}/v3/scopes", auth=auth, account_key="k")

    assert auth.refreshes == 1 and route.call_count == 1


async def test_401_without_auth_hook_raises_unauthorized(mock, client, clock):
    mock.get(f"{SG}/v3/scopes").respond(401)

    with pytest.raises(Unauthorized):
        await sendgrid(client, clock).get_json(f"{SG}/v3/scopes", auth=None, account_key="k")


async def test_403_missing_scopes_is_not_retried(mock, client, clock):
    route = mock.get(f"{HS}/account-info/v3/activity/login").respond(
        403,
        json={
            "status": "error",
            "category": "MISSING_SCOPES",
            "message": "This app hasn't been granted all required scopes.",
        },
    )
    auth = StubAuth()

    with pytest.raises(MissingScopes) as caught:
        await hubspot(client, clock).get_json(
            f"{HS}/account-info/v3/activity/login", auth=auth, account_key="1"
        )

    assert route.call_count == 1 and auth.refreshes == 0 and clock.waits == []
    assert caught.value.provider == "hubspot" and caught.value.status == 403
    assert "/account-info/v3/activity/login" in str(caught.value)


async def test_sendgrid_403_is_missing_scopes(mock, client, clock):
    mock.get(f"{SG}/v3/teammates").respond(
        403, json={"errors": [{"field": None, "message": "access forbidden"}]}
    )

    with pytest.raises(MissingScopes, match="access forbidden"):
        await sendgrid(client, clock).get_json(f"{SG}/v3/teammates", auth=StubAuth(), account_key="k")


async def test_sendgrid_429_waits_until_the_reset(mock, client, clock):
    route = mock.get(f"{SG}/v3/teammates")
    route.side_effect = [
        httpx.Response(
            429,
            json={"errors": [{"field": None, "message": "too many requests"}]},
            headers={
                "X-RateLimit-Limit": "50",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(NOW) + 12),
            },
        ),
        httpx.Response(200, json={"result": []}),
    ]

    body = await sendgrid(client, clock).get_json(f"{SG}/v3/teammates", auth=StubAuth(), account_key="k")

    assert body == {"result": []}
    assert clock.waits == [12.0 + SENDGRID.reset_margin]
    assert clock.now >= NOW + 12


async def test_hubspot_429_uses_retry_after_when_present(mock, client, clock):
    route = mock.get(f"{HS}/crm/v3/owners")
    route.side_effect = [hs429("TEN_SECONDLY_ROLLING", {"Retry-After": "3"}), httpx.Response(200, json={})]

    await hubspot(client, clock).get_json(f"{HS}/crm/v3/owners", auth=StubAuth(), account_key="1")

    assert clock.waits == [3.0]


async def test_hubspot_429_without_retry_after_backs_off_by_policy(mock, client, clock):
    route = mock.post(f"{HS}/crm/v3/objects/deals/search")
    route.side_effect = [
        hs429("SECONDLY"),
        hs429("SECONDLY"),
        hs429("TEN_SECONDLY_ROLLING"),
        httpx.Response(200, json={}),
    ]
    http = ProviderHTTP(client, HUBSPOT, sleep=clock.sleep, clock=clock, rand=lambda: 0.0)

    await http.post_json(
        f"{HS}/crm/v3/objects/deals/search", {}, auth=StubAuth(), account_key="1", bucket="search"
    )

    assert clock.waits == [1.0, 2.0, 30.0]  # 1 s x attempt, 1 s x attempt, 10 s x attempt


async def test_hubspot_daily_limit_gives_up_at_once(mock, client, clock):
    route = mock.get(f"{HS}/crm/v3/owners").mock(return_value=hs429("DAILY"))

    with pytest.raises(RateLimited) as caught:
        await hubspot(client, clock).get_json(f"{HS}/crm/v3/owners", auth=StubAuth(), account_key="1")

    assert route.call_count == 1 and clock.waits == []
    assert caught.value.category == "DAILY" and caught.value.retry_after is None
    assert isinstance(caught.value, TransientError)


async def test_timeouts_are_retried_then_raise_transient_error(mock, client, clock):
    route = mock.get(f"{HS}/settings/v3/users/").mock(side_effect=httpx.ReadTimeout("timed out"))

    with pytest.raises(TransientError) as caught:
        await hubspot(client, clock).get_json(f"{HS}/settings/v3/users/", auth=StubAuth(), account_key="1")

    assert route.call_count == 5  # 1 + 4 retries
    assert clock.waits == [0.5, 1.0, 2.0, 4.0]
    assert caught.value.status is None and "timed out" in str(caught.value)


async def test_connection_error_then_success(mock, client, clock):
    route = mock.get(f"{SG}/v3/user/account")
    route.side_effect = [
        httpx.ConnectError("refused"),
        httpx.Response(503),
        httpx.Response(200, json={"type": "paid"}),
    ]

    body = await sendgrid(client, clock).get_json(f"{SG}/v3/user/account", auth=StubAuth(), account_key="k")

    assert body == {"type": "paid"} and clock.waits == [0.5, 1.0]


async def test_max_retries_zero_sends_once(mock, client, clock):
    route = mock.post(f"{HS}/oauth/2026-03/token").respond(503)

    with pytest.raises(TransientError):
        await hubspot(client, clock).request(
            "POST", f"{HS}/oauth/2026-03/token", auth=None, account_key="1", max_retries=0
        )

    assert route.call_count == 1


async def test_423_waits_at_least_two_seconds_and_477_honours_retry_after(mock, client, clock):
    route = mock.get(f"{HS}/crm/v3/owners")
    route.side_effect = [
        httpx.Response(423),
        httpx.Response(477, headers={"Retry-After": "9"}),
        httpx.Response(200, json={}),
    ]

    await ProviderHTTP(client, HUBSPOT, sleep=clock.sleep, clock=clock, rand=lambda: 0.0).get_json(
        f"{HS}/crm/v3/owners", auth=StubAuth(), account_key="1"
    )

    assert clock.waits == [2.0, 9.0]


async def test_every_attempt_takes_a_limiter_slot_from_the_right_buckets(mock, client, clock):
    route = mock.post(f"{HS}/crm/v3/objects/calls/search")
    route.side_effect = [httpx.Response(502), httpx.Response(200, json={"total": 0})]
    limiter = Limiter({"hubspot": HUBSPOT_LIMITS}, clock=lambda: 0.0)

    await hubspot(client, clock, limiter=limiter).post_json(
        f"{HS}/crm/v3/objects/calls/search", {}, auth=StubAuth(), account_key="portal-9", bucket="search"
    )

    searches = limiter.booked("hubspot", "portal-9", "search")
    assert len(searches) == 2  # the retry took a slot too
    assert limiter.booked("hubspot", "portal-9", "default") == []  # search is outside the 10 s budget
    assert limiter.booked("hubspot", "other") == []


async def test_hubspots_remaining_header_slows_the_account_down_before_a_429(mock, client, clock):
    """Another replica used most of the 10-second budget: HubSpot's headers say so, we book it."""
    headers = {
        "X-HubSpot-RateLimit-Max": "110",
        "X-HubSpot-RateLimit-Remaining": "3",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
    }
    mock.get(f"{HS}/crm/v3/owners").mock(return_value=httpx.Response(200, json={}, headers=headers))
    now = [100.0]
    limiter = Limiter({"hubspot": HUBSPOT_LIMITS}, clock=lambda: now[0])

    await hubspot(client, clock, limiter=limiter).get_json(
        f"{HS}/crm/v3/owners", auth=StubAuth(), account_key="portal-9"
    )

    booked = limiter.booked("hubspot", "portal-9")
    assert len(booked) == 107  # our one request plus the 106 HubSpot counted from elsewhere
    assert limiter.booked("hubspot", "portal-8") == []


async def test_a_429_holds_every_request_of_the_account_not_only_the_retried_one(mock, client, clock):
    """Issue 21 item 12: another process searching the same portal; HubSpot answers 429 and asks to
    wait 2 s. The other requests of this process for that portal wait too (the retry alone used to)."""
    route = mock.post(f"{HS}/crm/v3/objects/calls/search")
    route.side_effect = [hs429("SECONDLY", {"Retry-After": "2"}), httpx.Response(200, json={"total": 0})]
    now = [100.0]
    limiter = Limiter({"hubspot": HUBSPOT_LIMITS}, clock=lambda: now[0])

    await hubspot(client, clock, limiter=limiter).post_json(
        f"{HS}/crm/v3/objects/calls/search", {}, auth=StubAuth(), account_key="portal-9", bucket="search"
    )

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    limiter._sleep = sleep
    await limiter.acquire("hubspot", "portal-9", "search")  # another collection of the same portal
    await limiter.acquire("hubspot", "portal-8", "search")  # another portal
    assert waits == [2.0]


async def test_each_retry_is_logged_without_secrets(mock, client, clock, caplog):
    route = mock.get(f"{HS}/crm/v3/owners")
    route.side_effect = [httpx.Response(503), httpx.ReadTimeout("t"), httpx.Response(200, json={})]
    caplog.set_level(logging.INFO, logger="quolum.providers.http")

    await hubspot(client, clock).get_json(
        f"{HS}/crm/v3/owners",
        auth=StubAuth(),
        account_key="1",
        params={"after": "SECRET-CURSOR", "limit": 100},
    )

    lines = [r.getMessage() for r in caplog.records if r.name == "quolum.providers.http"]
    assert lines == [
        "hubspot GET /crm/v3/owners?after&limit: 503 on attempt 1, retrying in 0.50s",
        "hubspot GET /crm/v3/owners?after&limit: ReadTimeout on attempt 2, retrying in 1.00s",
    ]
    assert "SECRET-CURSOR" not in caplog.text and TOKEN not in caplog.text


SECRET_SCENARIOS = [
    ("unauthorized", 401, {"category": "INVALID_AUTHENTICATION", "message": f"bad token Bearer {TOKEN}"}),
    ("missing-scopes", 403, {"category": "MISSING_SCOPES", "message": f"token {TOKEN} lacks scopes"}),
    ("bad-request", 400, {"category": "VALIDATION_ERROR", "message": f"echo: {TOKEN} / Bearer {NEW_TOKEN}"}),
    (
        "sendgrid-key-shape",
        400,
        {"message": "key SG.abcdefghijklmnopqrstuv.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg"},
    ),
    ("transient", 503, {"message": f"down {TOKEN}"}),
]


@pytest.mark.parametrize(
    ("status", "body"), [s[1:] for s in SECRET_SCENARIOS], ids=[s[0] for s in SECRET_SCENARIOS]
)
async def test_errors_never_contain_the_authorization_header_value(mock, client, clock, status, body):
    mock.get(f"{HS}/crm/v3/owners").respond(status, json=body)

    with pytest.raises(ProviderError) as caught:
        await hubspot(client, clock).get_json(f"{HS}/crm/v3/owners", auth=StubAuth(), account_key="1")

    error = caught.value
    for text in (str(error), repr(error), str(error.args), str(vars(error))):
        assert TOKEN not in text and NEW_TOKEN not in text and "Authorization" not in text
        assert "abcdefghijklmnopqrstuv" not in text
    assert error.__cause__ is None and error.__context__ is None
    assert "[redacted]" in str(error)


async def test_transport_errors_are_not_chained_to_the_request(mock, client, clock):
    mock.get(f"{HS}/x").mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(TransientError) as caught:
        await hubspot(client, clock).get_json(f"{HS}/x", auth=StubAuth(), account_key="1", max_retries=0)

    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert TOKEN not in repr(caught.value)


def test_errors_pickle_and_long_messages_are_bounded():
    error = RateLimited("slow down", provider="hubspot", status=429, category="SECONDLY", retry_after=3.0)

    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is RateLimited and copy.retry_after == 3.0 and str(copy) == "slow down"
    assert (
        repr(copy) == "RateLimited(provider='hubspot', status=429, category='SECONDLY', message='slow down')"
    )


async def test_long_provider_messages_are_truncated(mock, client, clock):
    mock.get(f"{HS}/x").respond(400, json={"message": "x" * 5000})

    with pytest.raises(ProviderError) as caught:
        await hubspot(client, clock).get_json(f"{HS}/x", auth=None, account_key="1")

    assert len(str(caught.value)) <= 300
