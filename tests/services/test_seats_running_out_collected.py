"""Seats running out end to end (issue 26, item 3): real collections through the HubSpot provider
against its stand-in (portal 101, a contract of 5 seats) open one alert, a second collection changes
nothing, and a seat freed in HubSpot or seats bought in the contract resolve it in place. On SQLite and
PostgreSQL. The clock moves with real seconds from a fixed date (the stand-in's rate-limit windows must
pass), and HubSpot's backoff moves it instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.contracts import Contract
from providers.http import ProviderHTTP
from providers.hubspot.entry import POLICY as HUBSPOT
from sandbox.standins.hubspot_seed import SEAT_NAMES
from storage.incidents import SEATS
from tests.conftest import connect_hubspot, install
from tests.services.test_alerts import SCOPES, replica
from tests.services.test_digests import MovingClock
from tests.services.test_seats_running_out import seat_alerts, top_posts
from tests.services.test_usage import PERIOD


@pytest.fixture
def clock():
    return MovingClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


@pytest.mark.parametrize("then", ["freed", "bought"])
async def test_collections_against_the_standin_alert_once_and_resolve_in_place(
    hub_settings, storage, slack, hubspot, clock, database_url, then
):
    """4 users of portal 101 hold a paid seat; the contract bought 5: 1 free is under the threshold."""
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    portal = hubspot.portals[101]
    for n, user in enumerate(portal.users):
        user.seat_names = [SEAT_NAMES[0]] if n < 4 else []
        user.role_id, user.role_ids = None, []  # no role that requires billing: the seats alone count
    await connect_hubspot(storage, hubspot, 101, SCOPES)
    await storage.contracts.save("T0001", Contract(provider="hubspot", seats=5), "U0001")
    connection = await storage.connections.get("T0001", "hubspot")

    async def collect() -> int:
        reports, errors = [], []
        summary = await one.usage.collect(
            team_id="T0001", period=PERIOD, on_report=reports.append, on_error=lambda *e: errors.append(e)
        )
        assert (summary.reported, errors) == (1, [])
        return reports[0].seats.paid_seats

    async def backoff(seconds: float) -> None:  # HubSpot said wait: the clock moves on instead
        clock.now = clock.now + timedelta(seconds=seconds)

    async with replica(hub_settings, database_url, clock, "r1") as one:
        one.providers("hubspot").http = ProviderHTTP(one.http, HUBSPOT, limiter=one.limiter, sleep=backoff)
        assert await collect() == 4
        [alert] = [dict(a) for a in seat_alerts(slack)]  # a copy: the stand-in edits its own
        assert alert["text"] == ":chair: *HubSpot*: 1 of 5 seats free"
        clock.advance(days=1)
        assert await collect() == 4  # still running out: no second post, not even an edit
        assert [(a["ts"], a["edits"]) for a in seat_alerts(slack)] == [(alert["ts"], alert["edits"])]
        if then == "freed":
            portal.users[3].seat_names = []
            clock.advance(days=1)
            assert await collect() == 3
            resolved = "2 of 5 seats free"
        else:
            saved, errors = await one.contracts.set("T0001", {"provider": "hubspot", "seats": "20"}, "U0001")
            assert errors == {} and saved.contract.seats == 20
            clock.advance(days=1)
            assert await collect() == 4
            resolved = "16 of 20 seats free"
        [post] = top_posts(slack)
        assert post["ts"] == alert["ts"] and post["edits"] > alert["edits"]  # the same message, rewritten
        assert "*Resolved*" in post["text"] and resolved in post["text"]
        assert await storage.incidents.open_for(connection.id, SEATS) is None
