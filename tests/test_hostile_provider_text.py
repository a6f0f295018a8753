"""End to end: a HubSpot portal whose domain and users carry `<!channel>` and a masked link is connected
through the browser, digested and alerted about (with the reminder three days on); everything the bot
posted to the Slack stand-in shows that text escaped, never live."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from services.digest_schedule import WEEKLY, Schedule
from tests.services.test_alerts import (  # noqa: F401  (bot is a fixture)
    alerts_in,
    bot,
    connect,
    replica,
    run_job,
)
from tests.services.test_digests import MovingClock, hubspot  # noqa: F401  (a portal with idle seats)

PING = "<!channel>"
LINK = "<http://evil.example|Click here>"
LIVE = (PING, "<!here>", "<http://evil.example", "<@U666>")


@pytest.fixture
def clock():
    """Real seconds pass (the HubSpot stand-in's rate windows move on) from a fixed Monday."""
    return MovingClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


def hostile_portal(standin) -> None:
    portal = standin.portals[101]
    portal.domain = f"{PING} {LINK}"
    for user in portal.users:
        user.email = f"{PING}{LINK}{user.id}@example.com"
        user.first_name, user.last_name = PING, "<@U666>"


async def test_a_hostile_portal_is_posted_escaped_in_the_digest_the_alert_and_its_reminder(
    bot,  # noqa: F811
    slack,
    hubspot,  # noqa: F811
    storage,
    clock,
    database_url,
):
    hostile_portal(hubspot)
    connect(bot, slack, hubspot)  # the real OAuth callback reads the portal's domain from HubSpot
    assert (await storage.connections.get("T0001", "hubspot")).account_name == f"{PING} {LINK}"
    async with replica(bot.settings, database_url, clock, "r1") as one:
        await one.digests.subscribe(
            team_id="T0001",
            channel_id="C0001",
            user_id="U0001",
            schedule=Schedule(WEEKLY, 0, "09:00", "UTC"),
        )
        await one.digests.send_now("T0001", "C0001", "UTC")
        [digest] = slack.posts_to("C0001")
        hubspot.uninstall(101)  # now it fails: an alert, then a reminder in its thread three days on
        clock.advance(hours=1)
        assert await run_job(one)
        clock.advance(days=3, hours=1)
        assert await run_job(one)
    [alert] = alerts_in(slack)
    [reminder] = [m for m in slack.all_messages() if m["thread_ts"] == alert["ts"]]

    posted = json.dumps([slack.all_messages(), slack.responses], ensure_ascii=False)
    for live in LIVE:
        assert live not in posted
    escaped = "&lt;!channel&gt; &lt;http://evil.example|Click here&gt;"
    assert escaped in json.dumps(digest["blocks"], ensure_ascii=False)  # the account
    assert "&lt;!channel&gt;&lt;http://evil.example|Click here&gt;" in json.dumps(digest["blocks"])  # emails
    assert escaped in alert["text"] and escaped in reminder["text"]
