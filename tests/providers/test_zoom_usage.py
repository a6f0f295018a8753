"""collect_zoom against the Zoom stand-in over real HTTP, every figure checked against the seed's own
truth (counted without HTTP); paging edges; the hour-long token obtained again through the
credentials service; rate limits kept, and a 429 waited out as long as Retry-After says."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import pytest
import respx

from core.periods import Period
from providers.http import Bearer, ProviderHTTP
from providers.plugin import BEARER
from providers.ratelimit import Limiter
from providers.zoom.entry import LIMITS, POLICY
from providers.zoom.usage import collect_zoom, list_users, parse_time, signed_in
from sandbox.standins.server import AppSwitch, serve_in_thread
from sandbox.standins.zoom_seed import ZoomAccount, generate_account, truth
from tests.clocks import EventTime, VirtualTime
from tests.providers.zoom_rig import READ, Zoom, make_zoom


@pytest.fixture(scope="module")
def served():
    switch = AppSwitch()
    with serve_in_thread(switch) as srv:
        yield switch, srv.url


def period_before(zoom: Zoom, days: int = 30) -> Period:
    today = zoom.clock().date()
    return Period(start=today - timedelta(days=days), end=today - timedelta(days=1), timezone="UTC")


async def collect(
    zoom: Zoom,
    http,
    auth,
    period: Period,
    *,
    sleep=None,
    limiter=None,
    hooks=None,
    clock=time.time,
    scopes=None,
):
    """`auth`: a token (sent as it is) or an `Auth`."""
    hooks = hooks or zoom.hooks(http, **({"sleep": sleep} if sleep else {}), limiter=limiter, clock=clock)
    return await collect_zoom(
        hooks.http,
        Bearer(auth) if isinstance(auth, str) else auth,
        base_url=zoom.url,
        team_id="T1",
        account_id=zoom.account.account_id,
        account_name="acme.example",
        period=period,
        scopes=scopes,
        clock=zoom.clock,
    )


async def token_for(zoom: Zoom, http) -> str:
    return (await zoom.hooks(http).verify_form(zoom.app(READ))).credentials[BEARER]


def assert_equals_truth(report, zoom: Zoom, period: Period) -> None:
    expected = truth(zoom.account, period.start_utc)
    seats = report.seats
    assert seats.paid_seats == expected.licensed
    assert seats.active_paid_users == expected.active_licensed
    assert sorted(s.user_id for s in seats.inactive_paid_users) == sorted(expected.idle_licensed)
    assert sorted(s.user_id for s in seats.inactive_paid_users if s.admin) == sorted(expected.idle_admins)
    assert seats.total_users == expected.users
    assert seats.seat_types.get("Basic", 0) == expected.basic
    figures = {f.key: f.value for f in report.activity}
    assert figures["licensed"] == expected.licensed and figures["basic_users"] == expected.basic
    assert figures["idle_licensed"] == len(expected.idle_licensed)


@pytest.mark.parametrize("n_users", [240, 300, 301])
async def test_every_figure_equals_the_seeded_truth(served, n_users):
    zoom = make_zoom(*served, n_users=n_users)
    listed = sum(1 for u in zoom.account.users if u.status == "active")
    async with httpx.AsyncClient() as http:
        token = await token_for(zoom, http)
        zoom.standin.clear_requests()
        report = await collect(zoom, http, token, period_before(zoom))
    assert_equals_truth(report, zoom, period_before(zoom))
    pages = [r for r in zoom.standin.requests if r["path"] == "/v2/users"]
    assert len(pages) == -(-listed // 300)  # 300 -> one page, 301 -> two
    assert all(r["query"]["page_size"] == "300" and r["query"]["status"] == "active" for r in pages)
    idle = report.seats.inactive_paid_users
    assert idle[0].last_active is None  # never signed in come first
    assert any(s.admin for s in idle) and report.seats.active_means


async def test_an_account_without_users_reports_zeros(served):
    zoom = make_zoom(*served, account=ZoomAccount("empty01", "Empty", "pro", users=[]))
    zoom.account.users = generate_account(1, now=zoom.clock(), n_users=1).users[:1]  # the owner only
    async with httpx.AsyncClient() as http:
        token = await token_for(zoom, http)
        zoom.account.users = []
        report = await collect(zoom, http, token, period_before(zoom))
    assert (report.seats.paid_seats, report.seats.total_users, report.seats.inactive_paid_users) == (0, 0, ())


async def test_a_period_long_ago_counts_every_later_sign_in_as_active(served):
    zoom = make_zoom(*served)
    async with httpx.AsyncClient() as http:
        report = await collect(zoom, http, await token_for(zoom, http), period_before(zoom, days=500))
    assert_equals_truth(report, zoom, period_before(zoom, days=500))


async def test_the_expired_token_is_exchanged_again_by_the_credentials_service(served, database_url):
    from services.credentials import CredentialManager
    from storage.connections import ConnectionStore
    from storage.crypto import Encryptor
    from storage.db import Database
    from tests.conftest import TEST_KEY

    zoom = make_zoom(*served)
    db = Database(database_url)
    try:
        async with httpx.AsyncClient() as http:
            hooks = zoom.hooks(http)
            app = zoom.app(READ)
            verified = await hooks.verify_form(app)
            store = ConnectionStore(db, Encryptor([TEST_KEY]), zoom.clock)
            saved = await store.save_connected(
                team_id="T1",
                provider="zoom",
                account_id=zoom.account.account_id,
                account_name="acme.example",
                credentials=dict(verified.credentials),
                connected_by="U1",
                scopes=list(verified.scopes),
                details={},
                expires_in=verified.expires_in,
            )

            def reason(error):
                failure = hooks.classify(error, "refresh")
                return failure.reason if failure.kind == "revoked" else None

            manager = CredentialManager(store, {}, zoom.clock, renewers={"zoom": (hooks.renew, reason)})
            period = period_before(zoom)

            async def run():
                return await collect(zoom, http, manager.auth(saved.record.id), period, hooks=hooks)

            await run()
            assert zoom.standin.exchanges == 1  # the token from connecting is used as is
            zoom.clock.advance(minutes=59)  # within the refresh margin: renewed before it expires
            await asyncio.gather(run(), run(), run())
            assert zoom.standin.exchanges == 2  # once, however many use it at once
            renewed = (await store.by_id(saved.record.id)).credentials
            assert renewed[BEARER] != verified.credentials[BEARER]
            assert renewed["client_secret"] == app["client_secret"]

            # a token Zoom stops taking early (124) is exchanged again after the 401
            zoom.standin._tokens.clear()
            report = await run()
            assert zoom.standin.exchanges == 3
            assert_equals_truth(report, zoom, period)

            # the app deactivated: the renewal is refused for good, the connection needs reconnecting
            zoom.standin.deactivate(app["client_id"])
            zoom.clock.advance(hours=2)
            with pytest.raises(Exception, match="deactivated|no longer accepts"):
                await run()
            assert (await store.by_id(saved.record.id)).status == "needs_reconnect"
    finally:
        await db.dispose()


async def test_concurrent_collections_keep_the_entrys_limits(served):
    """25 collections at once, 50 Medium requests, booked at most 20 in any window of the entry's
    (1 s and a margin). Client, limiter and stand-in read one virtual clock that stands still while a
    request is in flight (`EventTime`): each request reaches the stand-in at the instant the limiter
    booked it, so none is refused, however busy the machine."""
    zoom = make_zoom(*served, n_users=301)
    vt = EventTime(zoom.clock())
    zoom.standin._clock = vt.time
    medium = LIMITS.buckets["medium"]
    async with httpx.AsyncClient(transport=vt.transport()) as http:
        token = await token_for(zoom, http)
        limiter = Limiter({"zoom": LIMITS}, clock=vt.time, sleep=vt.sleep)
        period = period_before(zoom)
        started = vt.time()
        reports = await asyncio.gather(
            *(
                collect(zoom, http, token, period, limiter=limiter, sleep=vt.sleep, clock=vt.time)
                for _ in range(25)
            )
        )
        starts = limiter.booked("zoom", zoom.account.account_id, "medium")
    assert starts  # the latest window at least is still held
    assert all(sum(1 for t in starts if s <= t < s + medium.window) <= medium.limit for s in starts)
    assert zoom.standin.rate_limit_violations == 0
    assert vt.time() - started >= 2 * medium.window  # 50 requests at 20 a window: three windows
    for report in reports:
        assert_equals_truth(report, zoom, period)


async def test_a_429_is_waited_out_for_retry_after(served):
    zoom = make_zoom(*served, n_users=301)
    zoom.account.plan = "free"  # Medium: 2 a second
    vt = VirtualTime(zoom.clock())
    zoom.standin._clock = vt.time
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await vt.sleep(seconds)

    async with httpx.AsyncClient() as http:
        token = await token_for(zoom, http)
        period = period_before(zoom)
        reports = await asyncio.gather(*(collect(zoom, http, token, period, sleep=sleep) for _ in range(3)))
    # every 429 was waited out for its Retry-After (1 s); a loaded machine may add shorter waits
    # for timeouts, which are not the rule under test
    refused = zoom.standin.rate_limit_violations
    assert refused > 0 and sum(1 for w in waits if w >= 1.0) >= refused
    for report in reports:
        assert_equals_truth(report, zoom, period)


def test_the_policy_honours_retry_after():
    response = httpx.Response(429, headers={"Retry-After": "3"}, json={"code": 429, "message": "slow"})
    assert POLICY.rate_limit_wait(response, None, 1, 0.0, lambda: 0.5) == 3.0


async def test_an_odd_users_page_is_read_as_leniently_as_before_the_typed_decoder():
    """A page msgspec cannot decode as `UsersPage` (a sign-in that is not a time, an item that is not an
    object) is read as the dicts were: unreadable or zone-less sign-ins are none, other items dropped;
    a well-formed page decodes to the same values `parse_time` gives."""
    odd = [
        {"id": "u1", "type": 2, "last_login_time": "2026-05-31T09:00:00Z", "first_name": " Ada "},
        {"id": 2, "type": "2", "last_login_time": "yesterday", "role_id": 0},
        {"id": "u3", "type": 2, "last_login_time": "2026-05-31T09:00:00"},
        5,
    ]
    plain = [{"id": "u4", "type": 1, "last_login_time": "2026-05-31T09:00:00+02:00"}, {"id": "u5"}]
    base = "https://zoom.test"
    with respx.mock() as router:
        router.get(f"{base}/v2/users").mock(
            side_effect=[
                httpx.Response(200, json={"users": odd, "next_page_token": "t"}),
                httpx.Response(200, json={"users": plain, "next_page_token": ""}),
            ]
        )
        async with httpx.AsyncClient() as client:
            users = await list_users(ProviderHTTP(client, POLICY), Bearer("x"), base, "acct")
    assert [u.id for u in users] == ["u1", 2, "u3", "u4", "u5"]
    assert [signed_in(u) for u in users] == [
        parse_time("2026-05-31T09:00:00Z"),
        None,
        None,
        parse_time("2026-05-31T09:00:00+02:00"),
        None,
    ]
    assert [u.type for u in users] == [2, "2", 2, 1, None]
    assert (users[0].first_name, users[1].role_id) == (" Ada ", 0)
