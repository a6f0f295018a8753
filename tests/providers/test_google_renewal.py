"""Google Workspace through the bot's own credential service and rate limiting: the hour-long token
signed again before it expires (once, however many use it), a delegation removed -> needs reconnect,
and Google's quota refusals waited out when nothing paced the requests."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from core.periods import Period
from providers.google.entry import KEY, LICENCES, SPEC
from providers.ratelimit import Limiter
from sandbox.standins.google_seed import truth
from sandbox.standins.server import AppSwitch, serve_in_thread
from tests.providers.google_rig import BEARER, make_google


@pytest.fixture(scope="module")
def served():
    switch = AppSwitch()
    with serve_in_thread(switch) as srv:
        yield switch, srv.url


async def collect(google, hooks, auth, verified):
    period = Period.last_days(30, timezone="UTC", today=google.clock().date())
    report = await hooks.collect(
        hooks.http,
        auth,
        base_url=hooks.base_url(verified.credentials),
        team_id="T1",
        account_id=verified.account_id,
        account_name=verified.account_name,
        period=period,
        scopes=set(verified.scopes),
        clock=google.clock,
    )
    return report, period


async def test_the_token_is_signed_again_by_the_credentials_service(served, database_url):
    from services.credentials import CredentialManager
    from storage.connections import ConnectionStore
    from storage.crypto import Encryptor
    from storage.db import Database
    from tests.conftest import TEST_KEY

    google = make_google(*served, n_users=80)
    db = Database(database_url)
    try:
        async with httpx.AsyncClient() as http:
            hooks = google.hooks(http)
            verified = await hooks.verify_form(google.values())
            store = ConnectionStore(db, Encryptor([TEST_KEY]), google.clock)
            saved = await store.save_connected(
                team_id="T1",
                provider=KEY,
                account_id=verified.account_id,
                account_name=verified.account_name,
                credentials=dict(verified.credentials),
                connected_by="U1",
                scopes=list(verified.scopes),
                details=dict(verified.details),
                expires_in=verified.expires_in,
            )

            def reason(error):
                failure = hooks.classify(error, "refresh")
                return failure.reason if failure.kind == "revoked" else None

            manager = CredentialManager(store, {}, google.clock, renewers={KEY: (hooks.renew, reason)})
            exchanges = google.standin.authority.exchanges
            report, period = await collect(google, hooks, manager.auth(saved.record.id), verified)
            assert google.standin.authority.exchanges == exchanges  # the token from connecting, as is
            assert report.seats.active_paid_users == truth(google.domain, period.start_utc).active

            google.clock.advance(minutes=59)  # within the refresh margin: signed again before it expires
            await asyncio.gather(
                *(collect(google, hooks, manager.auth(saved.record.id), verified) for _ in range(3))
            )
            assert google.standin.authority.exchanges == exchanges + 1
            stored = (await store.by_id(saved.record.id)).credentials
            assert (
                stored[BEARER] != verified.credentials[BEARER]
                and stored["key"] == verified.credentials["key"]
            )

            # the delegation removed: the next signing is refused for good
            google.delegate([])
            google.clock.advance(hours=2)
            with pytest.raises(Exception, match="delegation"):
                await collect(google, hooks, manager.auth(saved.record.id), verified)
            assert (await store.by_id(saved.record.id)).status == "needs_reconnect"
    finally:
        await db.dispose()


async def test_quota_refusals_are_waited_out_when_nothing_paced_the_requests(served):
    """No Limiter: three collections at once ask the License Manager faster than its one query a second;
    each 429 `rateLimitExceeded` is waited out (at least a second) and the figures stay right."""
    google = make_google(*served, n_users=80)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(seconds)

    async with httpx.AsyncClient() as http:
        hooks = google.hooks(http, sleep=sleep, limiter=Limiter({}))
        verified = await hooks.verify_form(google.values())
        from providers.http import Bearer

        auth = Bearer(verified.credentials[BEARER])
        results = await asyncio.gather(*(collect(google, hooks, auth, verified) for _ in range(3)))
    assert google.standin.quotas.refused and waits and min(waits) >= 1.0
    for report, period in results:
        assert report.seats.active_paid_users == truth(google.domain, period.start_utc).active


async def test_the_entrys_limiter_keeps_the_license_manager_to_one_query_a_second(served):
    google = make_google(*served, n_users=80)
    limiter = Limiter({SPEC.key: SPEC.limits})
    async with httpx.AsyncClient() as http:
        hooks = google.hooks(http, limiter=limiter)
        verified = await hooks.verify_form(google.values())
        from providers.http import Bearer

        auth = Bearer(verified.credentials[BEARER])
        started = time.monotonic()
        await asyncio.gather(*(collect(google, hooks, auth, verified) for _ in range(3)))
        elapsed = time.monotonic() - started
        starts = limiter.booked(SPEC.key, verified.account_id, LICENCES)
    assert google.standin.quotas.refused == []
    assert elapsed >= 2 * SPEC.limits.buckets[LICENCES].window - 0.05  # three listings, a second apart
    assert all(b - a >= 1.0 for a, b in zip(starts, starts[1:], strict=False))
