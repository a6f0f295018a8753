"""Tokens HubSpot issued to an OAuth callback are stored or revoked, never left live and forgotten
(issue 21 item 11: a kill -9 during the callback left 2 issued, 1 stored). Counted at the stand-in,
which revokes as HubSpot documents it."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from bot.container import build_services
from bot.web import housekeeping
from core.clock import FrozenClock
from services.connections import CONNECT_STATE, STATE_TTL
from storage.connections import ConnectionStore
from tests.conftest import install

SCOPES = ["oauth", "settings.users.read", "crm.objects.owners.read"]


@pytest.fixture
def clock():
    return FrozenClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


@pytest.fixture
async def services(storage, hub_settings, slack, clock):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    async with httpx.AsyncClient() as http:
        yield build_services(hub_settings, storage, clock, http)


async def callback(services, hubspot):
    """The browser comes back from HubSpot's consent with a fresh code."""
    state = await services.storage.states.issue(
        CONNECT_STATE, ttl=STATE_TTL, team_id="T0001", user_id="U0001", provider="hubspot", payload={}
    )
    user = hubspot.tokens.portals[101].installer_user_id
    code = hubspot.tokens.new_code(services.providers("hubspot").redirect_uri, 101, user, SCOPES)
    return await services.connections.complete_oauth(services.registry["hubspot"], state, code)


async def test_a_normal_connect_revokes_nothing(services, hubspot, clock):
    outcome = await callback(services, hubspot)
    assert outcome.ok, outcome
    assert hubspot.live_refresh_tokens(101) == 1 and hubspot.revoked == []
    clock.advance(hours=1)
    await housekeeping(services.storage, services.connections)(clock())
    assert hubspot.live_refresh_tokens(101) == 1 and hubspot.revoked == []
    connection = await services.storage.connections.get("T0001", "hubspot")
    assert connection.credentials["refresh_token"] not in hubspot.revoked


async def test_tokens_that_cannot_be_stored_are_revoked_before_answering(
    services, hubspot, monkeypatch, caplog
):
    async def database_gone(self, **kwargs):
        raise OperationalError("UPDATE connections", {}, ConnectionRefusedError("the database went away"))

    monkeypatch.setattr(ConnectionStore, "save_connected", database_gone)
    outcome = await callback(services, hubspot)

    assert not outcome.ok and outcome.status == 503
    assert outcome.message.count(".") == 1 and outcome.message.endswith(".")  # one sentence
    assert "nothing was connected" in outcome.message
    assert hubspot.live_refresh_tokens(101) == 0 and len(hubspot.revoked) == 1
    assert await services.storage.connections.get("T0001", "hubspot") is None
    assert not any(hubspot.revoked[0] in r.getMessage() for r in caplog.records)  # no token in logs


class Killed(BaseException):
    """The process dies here (kill -9): nothing after this line of the callback runs."""


async def test_tokens_a_killed_callback_left_behind_are_revoked_by_housekeeping(
    services, hubspot, monkeypatch, clock
):
    async def killed(self, **kwargs):
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(ConnectionStore, "save_connected", killed)
        with pytest.raises(Killed):
            await callback(services, hubspot)
    assert hubspot.live_refresh_tokens(101) == 1  # issued, stored nowhere

    run = housekeeping(services.storage, services.connections)
    await run(clock())  # a callback may still be finishing: not yet
    assert hubspot.live_refresh_tokens(101) == 1
    clock.advance(minutes=6)
    await run(clock())
    assert hubspot.live_refresh_tokens(101) == 0 and len(hubspot.revoked) == 1
    await run(clock())  # once
    assert len(hubspot.revoked) == 1

    assert (await callback(services, hubspot)).ok  # and connecting again works
    assert hubspot.live_refresh_tokens(101) == 1
