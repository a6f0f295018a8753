"""Token lifecycle: the pure refresh decision and the one-refresh-at-a-time orchestrator."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from core.clock import FrozenClock
from providers.http import ProviderHTTP, TransientError
from providers.hubspot import client as hs
from providers.hubspot.entry import POLICY as HUBSPOT
from providers.ratelimit import Limiter
from services.credentials import CredentialManager, NeedsReconnect, refresh_margin, should_refresh
from storage.connections import ConnectionRecord, ConnectionStore
from storage.crypto import Encryptor
from storage.db import Database
from tests.conftest import TEST_KEY

NOW = FrozenClock().now


def record(**overrides) -> ConnectionRecord:
    base = ConnectionRecord(
        id=1,
        team_id="T",
        provider="hubspot",
        status="connected",
        status_reason=None,
        account_id="1",
        account_name="a",
        details={},
        scopes=(),
        unavailable=(),
        credentials={"access_token": "a", "refresh_token": "r"},
        expires_at=NOW + timedelta(minutes=30),
        token_lifetime=1800,
        connected_by="U",
        connected_at=NOW,
        last_used_at=None,
        last_refreshed_at=None,
        disconnected_by=None,
        disconnected_at=None,
    )
    return replace(base, **overrides)


@pytest.mark.parametrize(
    "overrides,expected",
    [
        ({}, (False, "fresh")),
        ({"expires_at": NOW + timedelta(minutes=5, seconds=1)}, (False, "fresh")),
        ({"expires_at": NOW + timedelta(minutes=5)}, (True, "expires soon")),
        ({"expires_at": NOW + timedelta(seconds=1)}, (True, "expires soon")),
        ({"expires_at": NOW}, (True, "expired")),
        ({"expires_at": NOW - timedelta(hours=3)}, (True, "expired")),
        ({"expires_at": NOW + timedelta(seconds=100), "token_lifetime": 600}, (True, "expires soon")),
        ({"expires_at": NOW + timedelta(seconds=200), "token_lifetime": 600}, (False, "fresh")),
        ({"expires_at": None}, (True, "no access token")),
        ({"credentials": {"refresh_token": "r"}}, (True, "no access token")),
        ({"credentials": {"api_key": "SG.x"}, "expires_at": None}, (False, "no refresh token")),
        ({"status": "needs_reconnect", "expires_at": NOW - timedelta(hours=1)}, (False, "not connected")),
        ({"status": "disconnected"}, (False, "not connected")),
    ],
)
def test_should_refresh(overrides, expected):
    assert should_refresh(record(**overrides), NOW) == expected


@pytest.mark.parametrize("lifetime,margin", [(1800, 300), (600, 150), (60, 15), (None, 300), (86400, 300)])
def test_refresh_margin(lifetime, margin):
    assert refresh_margin(lifetime) == timedelta(seconds=margin)


class Rig:
    """A connection to stand-in portal 101 and what a replica needs to use it."""

    def __init__(self, url: str, hubspot, clock: FrozenClock, http: httpx.AsyncClient) -> None:
        from core.config import Settings
        from tests.conftest import HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET  # noqa: F401

        self.settings = Settings(public_url="http://localhost").with_overrides(
            hubspot_client_id="test-client-id",
            hubspot_client_secret="test-client-secret",
            hubspot_api_url=hubspot.url,
        )
        self.db = Database(url)
        self.connections = ConnectionStore(self.db, Encryptor([TEST_KEY]), clock)
        self.http = ProviderHTTP(http, HUBSPOT, limiter=Limiter(), sleep=_no_sleep)
        self.client = hs.HubSpotClient(self.http, self.settings)

        def revoked(error):
            failure = hs.classify(error, "refresh")
            return failure.reason if failure.kind == "revoked" else None

        self.manager = CredentialManager(self.connections, {"hubspot": (self.client.refresh, revoked)}, clock)


async def _no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


@pytest.fixture
async def rig(database_url, hubspot):
    clock = FrozenClock()
    async with httpx.AsyncClient() as http:
        one = Rig(database_url, hubspot, clock, http)
        tokens = hubspot.issue_tokens(101, ["oauth", "settings.users.read"])
        saved = await one.connections.save_connected(
            team_id="T1",
            provider="hubspot",
            account_id="101",
            account_name="portal101",
            connected_by="U1",
            credentials={"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"]},
            scopes=["oauth"],
            details={},
            expires_in=tokens["expires_in"],
        )
        one.id, one.clock, one.tokens = saved.record.id, clock, tokens
        yield one
        await one.db.dispose()


def refreshes(hubspot) -> int:
    return sum(1 for r in hubspot.token_requests if r["grant_type"] == "refresh_token")


async def test_fresh_token_is_used_as_is(rig, hubspot):
    assert (await rig.manager.current(rig.id)).credentials["access_token"] == rig.tokens["access_token"]
    assert refreshes(hubspot) == 0


async def test_100_concurrent_uses_of_an_expired_token_refresh_once(rig, hubspot):
    from tests.core.test_metrics import sample

    before = sample("quolum_token_refreshes_total", provider="hubspot", outcome="ok")
    rig.clock.advance(minutes=31)
    details = f"{hubspot.url}/account-info/v3/details"
    results = await asyncio.gather(
        *(rig.http.get_json(details, auth=rig.manager.auth(rig.id), account_key="101") for _ in range(100))
    )
    assert all(r["portalId"] == 101 for r in results)
    assert refreshes(hubspot) == 1
    assert sample("quolum_token_refreshes_total", provider="hubspot", outcome="ok") == before + 1
    after = await rig.connections.by_id(rig.id)
    assert after.credentials["access_token"] != rig.tokens["access_token"]
    assert (
        after.credentials["refresh_token"] == rig.tokens["refresh_token"]
    )  # none returned: the old one kept
    assert after.expires_at == rig.clock.now + timedelta(seconds=1800)


async def test_replicas_refresh_once_between_them(rig, hubspot, database_url):
    if rig.db.is_sqlite:
        pytest.skip("replicas share PostgreSQL; SQLite is one process")
    async with httpx.AsyncClient() as http:
        other = Rig(database_url, hubspot, rig.clock, http)
        rig.clock.advance(minutes=31)
        await asyncio.gather(*(m.current(rig.id) for m in (rig.manager, other.manager) for _ in range(50)))
        await other.db.dispose()
    assert refreshes(hubspot) == 1


async def test_a_new_refresh_token_is_stored(rig, hubspot):
    hubspot.rotate_refresh_tokens = True
    rig.clock.advance(minutes=29)  # within the margin
    after = await rig.manager.current(rig.id)
    assert after.credentials["refresh_token"] != rig.tokens["refresh_token"]
    assert after.last_refreshed_at == rig.clock.now


async def test_a_401_forces_one_refresh_even_before_expiry(rig, hubspot):
    hubspot.expire_access_tokens()
    details = f"{hubspot.url}/account-info/v3/details"
    await asyncio.gather(
        *(rig.http.get_json(details, auth=rig.manager.auth(rig.id), account_key="101") for _ in range(20))
    )
    assert refreshes(hubspot) == 1


@pytest.mark.parametrize("revoke", ["token", "portal"])
async def test_revoked_access_marks_needs_reconnect_once(rig, hubspot, revoke):
    if revoke == "token":
        hubspot.tokens.revoke(rig.tokens["refresh_token"])
    else:
        hubspot.revoke_portal(101)
    from tests.core.test_metrics import sample

    before = sample("quolum_token_refreshes_total", provider="hubspot", outcome="revoked")
    rig.clock.advance(minutes=31)
    results = await asyncio.gather(*(rig.manager.current(rig.id) for _ in range(10)), return_exceptions=True)
    assert all(isinstance(r, NeedsReconnect) for r in results)
    assert refreshes(hubspot) == 1
    assert sample("quolum_token_refreshes_total", provider="hubspot", outcome="revoked") == before + 1
    after = await rig.connections.by_id(rig.id)
    assert after.status == "needs_reconnect"
    expected = "deleted or disconnected" if revoke == "portal" else "revoked"
    assert expected in after.status_reason
    assert [k for k, _, _ in await rig.connections.history(rig.id)].count("needs_reconnect") == 1


async def test_transient_failures_change_nothing(rig, hubspot):
    hubspot.faults.fail_next("/oauth/2026-03/token", status=503, count=2)
    rig.clock.advance(minutes=31)
    with pytest.raises(TransientError):
        await rig.manager.current(rig.id)
    assert (await rig.connections.by_id(rig.id)).status == "connected"
    assert (await rig.manager.current(rig.id)).credentials["access_token"] != rig.tokens["access_token"]


@pytest.fixture
def reads(rig, monkeypatch) -> list[int]:
    """The connection ids `by_id` has been asked for, from now on."""
    asked: list[int] = []
    by_id = rig.connections.by_id

    async def counted(connection_id):
        asked.append(connection_id)
        return await by_id(connection_id)

    monkeypatch.setattr(rig.connections, "by_id", counted)
    return asked


async def test_one_run_reads_the_row_once_while_the_token_is_fresh(rig, hubspot, reads):
    """A run (one ConnectionAuth) keeps the record it read: no database read per HTTP call, until the
    token nears expiry; then it reads again and refreshes once."""
    auth = rig.manager.auth(rig.id)
    details = f"{hubspot.url}/account-info/v3/details"
    for _ in range(10):
        assert (await rig.http.get_json(details, auth=auth, account_key="101"))["portalId"] == 101
    assert len(reads) == 1
    assert refreshes(hubspot) == 0

    rig.clock.advance(minutes=26)  # within the 5-minute margin of the 30-minute token
    for _ in range(5):
        await rig.http.get_json(details, auth=auth, account_key="101")
    assert refreshes(hubspot) == 1
    assert len(reads) <= 4  # the re-read, and the one after the refresh: not one per call


async def test_a_run_whose_token_was_revoked_meanwhile_reads_the_row_again(rig, hubspot):
    auth = rig.manager.auth(rig.id)
    details = f"{hubspot.url}/account-info/v3/details"
    await rig.http.get_json(details, auth=auth, account_key="101")
    hubspot.expire_access_tokens()  # the kept token is now refused: one refresh, then the new one
    assert (await rig.http.get_json(details, auth=auth, account_key="101"))["portalId"] == 101
    assert refreshes(hubspot) == 1
    stored = (await rig.connections.by_id(rig.id)).credentials["access_token"]
    assert (await auth.headers())["Authorization"] == f"Bearer {stored}"


async def test_a_runs_concurrent_first_requests_share_one_read(rig, hubspot, reads):
    auth = rig.manager.auth(rig.id)
    details = f"{hubspot.url}/account-info/v3/details"
    await asyncio.gather(*(rig.http.get_json(details, auth=auth, account_key="101") for _ in range(20)))
    assert len(reads) == 1


@pytest.mark.parametrize(
    "overrides,renewable,expected",
    [
        ({"credentials": {"api_key": "b"}}, True, (False, "fresh")),
        ({"credentials": {"api_key": "b"}, "expires_at": NOW}, True, (True, "expired")),
        (
            {"credentials": {"api_key": "b"}, "expires_at": NOW + timedelta(minutes=4)},
            True,
            (True, "expires soon"),
        ),
        ({"credentials": {"api_key": "b"}, "expires_at": NOW}, False, (False, "no refresh token")),
        ({"credentials": {"client_id": "c"}}, True, (True, "no access token")),
    ],
)
def test_should_refresh_a_renewable_bearer(overrides, renewable, expected):
    """A credential form's bearer that expires without a refresh token (its provider's `renew` hook)."""
    assert should_refresh(record(**overrides), NOW, renewable=renewable) == expected
