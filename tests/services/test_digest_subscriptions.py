"""DigestService's subscription and price flows (services/digest_subscriptions.py), called as the
handlers call them: each change tells the listeners (App Home), a time zone change keeps the
subscriber, and a price without a currency takes the account's own."""

from __future__ import annotations

import pytest

from services.digest_schedule import MONTHLY, WEEKLY, Schedule
from tests.services.test_digest_delivery import SEND, service

BERLIN = Schedule(WEEKLY, 0, "09:00", "Europe/Berlin")


@pytest.fixture
def digests(storage, settings):
    told: list[tuple] = []
    digests = service(storage, settings, lambda: SEND)

    async def listener(team_id, people):
        told.append((team_id, people))

    digests.changed_hooks.append(listener)
    digests.told = told
    return digests


async def test_subscribe_change_zone_and_unsubscribe_tell_the_listeners(digests):
    sub = await digests.subscribe(team_id="T0001", channel_id="C0001", user_id="U0001", schedule=BERLIN)
    assert (sub.subscriber_id, sub.timezone, sub.next_send_at > SEND) == ("U0001", "Europe/Berlin", True)
    moved = await digests.change_timezone("T0001", "C0001", "America/New_York")
    assert (moved.subscriber_id, moved.timezone, moved.cadence) == ("U0001", "America/New_York", WEEKLY)
    assert moved.next_send_at != sub.next_send_at  # 09:00 in New York is later than in Berlin
    assert await digests.change_timezone("T0001", "C0999", "UTC") is None  # not subscribed: nothing made
    assert [s.channel_id for s in await digests.subscriptions("T0001")] == ["C0001"]
    assert await digests.unsubscribe(team_id="T0001", channel_id="C0001", user_id="U0002")
    assert not await digests.unsubscribe(team_id="T0001", channel_id="C0001", user_id="U0002")
    assert await digests.subscriptions("T0001") == []
    assert digests.told == [("T0001", ("U0001",)), ("T0001", ("U0001",)), ("T0001", ("U0002",))]


async def test_a_monthly_schedule_is_kept_when_its_zone_changes(digests):
    await digests.subscribe(
        team_id="T0001", channel_id="C0001", user_id="U0001", schedule=Schedule(MONTHLY, 0, "08:30", "UTC")
    )
    moved = await digests.change_timezone("T0001", "C0001", "Asia/Tokyo")
    assert (moved.cadence, moved.send_time, moved.timezone) == (MONTHLY, "08:30", "Asia/Tokyo")


@pytest.mark.parametrize(
    "details,given,expected",
    [
        ({"currency": "eur"}, None, "EUR"),  # the account's own currency
        ({"currency": "EUR"}, "GBP", "GBP"),  # said explicitly: that one
        ({}, None, "USD"),  # the account says none
        (None, None, "USD"),  # no such connection
    ],
)
async def test_a_price_without_a_currency_takes_the_accounts(digests, storage, details, given, expected):
    if details is not None:
        await storage.connections.save_connected(
            team_id="T0001",
            provider="sendgrid",
            account_id="acct",
            account_name="Acme",
            credentials={"api_key": "SG.x"},
            connected_by="U0001",
            scopes=[],
            details=details,
        )
    assert await digests.set_price("T0001", "sendgrid", 1995, given, "U0001") == expected
    price = (await digests.prices("T0001"))["sendgrid"]
    assert (price.amount_minor, price.currency) == (1995, expected)
