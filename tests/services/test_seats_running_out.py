"""Seats running out (issue 26, item 3): one alert per incident, through the reconnect alerts' incident
machinery (subject 'seats'), resolved when seats are freed or bought. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta

import pytest

from core.clock import FrozenClock
from core.contracts import Contract
from messages import seat_alerts as sm
from providers.failures import Failure
from storage.incidents import ACCESS, SEATS
from tests.conftest import install
from tests.messages.test_digest import report
from tests.services.test_alerts import FAKE_TOKENS, replica, save_hubspot
from tests.services.test_connections import open_card


@pytest.fixture
def clock():
    return FrozenClock()


def top_posts(slack) -> list[dict]:
    return [m for m in slack.all_messages() if not m["thread_ts"]]


def seat_alerts(slack) -> list[dict]:
    return [m for m in top_posts(slack) if "seats free" in m["text"]]


async def setup(storage, slack, seats=100):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    await save_hubspot(storage, type("Hub", (), {"issue_tokens": lambda *_: FAKE_TOKENS})())
    await storage.contracts.save("T0001", Contract(provider="hubspot", seats=seats), "U0001")
    return await storage.connections.get("T0001", "hubspot")


def week(paid: int, n: int = 0):
    """A HubSpot report of workspace T0001 with `paid` assigned paid seats, the n-th week from November."""
    return report(
        paid=paid,
        active_paid=min(paid, 30),
        team="T0001",
        end=(date(2026, 11, 1) + timedelta(days=7 * n)).isoformat(),
    )


async def test_crossing_the_threshold_alerts_once_and_freeing_seats_resolves(
    settings, storage, slack, clock, database_url
):
    connection = await setup(storage, slack)
    async with (
        replica(settings, database_url, clock, "r1") as one,
        replica(settings, database_url, clock, "r2") as two,
    ):
        await one.usage._stored(connection, week(90))  # 10 free: fine
        assert seat_alerts(slack) == []
        # 99 of 100 assigned: both replicas check at once, and again: one alert
        await asyncio.gather(
            one.usage._stored(connection, week(99, 1)), two.usage._stored(connection, week(99, 1))
        )
        await one.usage._stored(connection, week(99, 1))
        [alert] = seat_alerts(slack)
        assert alert["text"] == ":chair: *HubSpot*: 1 of 100 seats free"
        assert "`/quolum seats`" in json.dumps(alert["blocks"]) and "buy" in json.dumps(alert["blocks"])
        assert alert["channel"].startswith("D")  # no alert channel set: the connector's DM
        incident = await storage.incidents.open_for(connection.id, SEATS)
        assert (incident.number, incident.kind, incident.ts) == (1, "seats", alert["ts"])
        edits = alert["edits"]

        # a still-low next collection with the same numbers: nothing new, no second post, no edit
        clock.advance(days=7)
        await two.usage._stored(connection, week(99, 2))
        assert len(seat_alerts(slack)) == 1 and seat_alerts(slack)[0]["edits"] == edits
        # still low, other numbers: the one message is updated in place
        await two.usage._stored(connection, week(100, 2))
        [alert] = seat_alerts(slack)
        assert alert["edits"] == edits + 1 and "0 of 100 seats free" in alert["text"]

        # seats freed: resolved once, the message rewritten
        clock.advance(days=7)
        await asyncio.gather(
            one.usage._stored(connection, week(80, 3)), two.usage._stored(connection, week(80, 3))
        )
        [alert] = top_posts(slack)
        assert "*Resolved*" in alert["text"] and "20 of 100 seats free" in alert["text"]
        assert "Was: *HubSpot*: 0 of 100 seats free" in json.dumps(alert["blocks"])
        assert await storage.incidents.open_for(connection.id, SEATS) is None

        # running low again is a new incident, a new message
        await one.usage._stored(connection, week(98, 4))
        assert len(top_posts(slack)) == 2
        assert (await storage.incidents.open_for(connection.id, SEATS)).number == 2


async def test_buying_seats_resolves_through_the_contract(settings, storage, slack, clock, database_url):
    connection = await setup(storage, slack, seats=10)
    async with replica(settings, database_url, clock, "r1") as one:
        await storage.snapshots.save(week(9))
        await one.usage._stored(connection, week(9))
        assert [a["text"] for a in seat_alerts(slack)] == [":chair: *HubSpot*: 1 of 10 seats free"]
        saved, errors = await one.contracts.set("T0001", {"provider": "hubspot", "seats": "20"}, "U0001")
        assert errors == {} and saved.contract.seats == 20
        [alert] = top_posts(slack)
        assert "*Resolved*" in alert["text"] and "11 of 20 seats free" in alert["text"]
        assert await storage.incidents.open_for(connection.id, SEATS) is None
        # a contract with fewer seats opens it again from the latest stored report
        await one.contracts.set("T0001", {"provider": "hubspot", "seats": "9"}, "U0001")
        assert seat_alerts(slack)[-1]["text"] == ":chair: *HubSpot*: 0 of 9 seats free"


async def test_no_contract_no_alert(settings, storage, slack, clock, database_url):
    connection = await setup(storage, slack)
    async with replica(settings, database_url, clock, "r1") as one:
        await one.usage._stored(connection, week(100))
        assert len(seat_alerts(slack)) == 1
        # the contract no longer says how many were bought: nothing to run out of, resolved
        await one.contracts.set("T0001", {"provider": "hubspot", "seats": ""}, "U0001")
        [alert] = top_posts(slack)
        assert "*Resolved*" in alert["text"] and "no longer counts" in alert["text"]
        await one.usage._stored(connection, week(500, 1))
    assert len(top_posts(slack)) == 1


async def test_an_access_incident_and_a_seats_incident_coexist(
    serve, hub_settings, storage, slack, clock, database_url
):
    connection = await setup(storage, slack)
    async with replica(hub_settings, database_url, clock, "r1") as one:
        await one.usage._stored(connection, week(99))
        await one.alerts.failing(connection, Failure("revoked", "token revoked"), clock.now)
        seats = await storage.incidents.open_for(connection.id, SEATS)
        access = await storage.incidents.open_for(connection.id)
        assert seats and access and seats.id != access.id
        assert (seats.subject, access.subject, access.number) == (SEATS, ACCESS, 1)
        # the card, App Home and the metric list the access incident only
        assert {p: i.id for p, i in (await storage.incidents.open_in_team("T0001")).items()} == {
            "hubspot": access.id
        }
        assert await storage.incidents.count_open("hubspot") == 1
        [home_line] = await one.home.incident_lines("T0001")
        assert "failing since" in home_line and "seats" not in home_line
        bot = serve(hub_settings, clock=clock)
        card = json.dumps(open_card(bot, slack, text="status")["blocks"])
        assert "Open incident" in card and "seats free" not in card
        # the connection works again: the access incident resolves, the seats one stays open
        assert await one.alerts.working(connection)
        assert await storage.incidents.open_for(connection.id) is None
        assert (await storage.incidents.open_for(connection.id, SEATS)).id == seats.id


def test_messages_escape_the_provider_name():
    view = sm.SeatsView(
        provider="<!here> & Co", account="<@U1>", bought=100, assigned=99, free=1, checked=FrozenClock().now
    )
    text = json.dumps(sm.alert_message(view))
    assert "<!here>" not in text and "<@U1>" not in text
    assert sm.reason(view) == "1 of 100 seats free"
