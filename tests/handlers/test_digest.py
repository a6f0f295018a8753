"""`/quolum digest ...` and `/quolum price ...` through the real server and the Slack stand-in."""

from __future__ import annotations

import itertools
import json

import pytest

from handlers import digest as hd
from handlers.commands import ADMINS_ONLY
from messages import app_home
from providers.registry import INSTALLED
from sandbox import slack_requests as sr
from services.digest_schedule import MONTHLY, WEEKLY, Schedule
from tests.conftest import install
from tests.services.test_connections import post
from tests.services.test_invites import until


@pytest.fixture
async def bot(serve, settings, storage, slack):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True, tz="America/New_York")
    slack.add_user("U0002")  # a member
    slack.add_channel("CPRIV", "secret", private=True)
    slack.add_channel("CPRIVIN", "team", private=True, member=True)
    slack.add_channel("COLD", "old", archived=True)
    return serve(settings)


async def run(bot, slack, text: str, user="U0001", channel="C0001") -> dict:
    """A command answered in the ack, or (for those that call Slack) through response_url."""
    hook = slack.response_url()
    response = post(bot, sr.command(text, user_id=user, channel_id=channel, response_url=hook))
    assert response.status_code == 200
    if response.content:  # answered in the ack: JSON with blocks, or Bolt's text/plain for text alone
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return {"text": response.text}
    hook_id = hook.rsplit("/", 1)[1]
    return await until(lambda: next((r for r in slack.responses if r["hook"] == hook_id), None), timeout=20)


async def test_subscribe_with_defaults_in_the_subscribers_time_zone(bot, slack, storage):
    reply = await run(bot, slack, "digest subscribe")
    sub = await storage.digests.get("T0001", "C0001")
    assert (sub.cadence, sub.weekday, sub.send_time, sub.timezone) == (WEEKLY, 0, "09:00", "America/New_York")
    assert reply["text"].startswith(
        ":white_check_mark: <#C0001> will get the usage digest every Monday at 09:00"
    )
    assert "(America/New_York)" in reply["text"]
    # the next send as Slack's date token: each reader sees it in their own zone
    assert f"next <!date^{int(sub.next_send_at.timestamp())}^" in reply["text"]

    reply = await run(bot, slack, "digest tz Europe/Berlin")
    assert (await storage.digests.get("T0001", "C0001")).timezone == "Europe/Berlin"
    assert "Europe/Berlin" in reply["text"]

    listing = await run(bot, slack, "digest list", user="U0002")  # everyone may look
    assert (
        "<#C0001> — every Monday at 09:00 (Europe/Berlin)" in listing["text"]
        and "last sent never" in listing["text"]
    )


@pytest.mark.parametrize(
    "text,schedule",
    [
        (
            "digest subscribe <#CPRIVIN|team> monthly at 7:30",
            Schedule(MONTHLY, 0, "07:30", "America/New_York"),
        ),
        (
            "digest subscribe weekly on friday at 16:00 tz Asia/Tokyo",
            Schedule(WEEKLY, 4, "16:00", "Asia/Tokyo"),
        ),
        ("digest subscribe on Wed", Schedule(WEEKLY, 2, "09:00", "America/New_York")),
    ],
)
async def test_subscribe_options(bot, slack, storage, text, schedule):
    await run(bot, slack, text)
    channel = "CPRIVIN" if "CPRIVIN" in text else "C0001"
    sub = await storage.digests.get("T0001", channel)
    assert Schedule(sub.cadence, sub.weekday, sub.send_time, sub.timezone) == schedule


@pytest.mark.parametrize(
    "text,reply",
    [
        ("digest subscribe <#CPRIV|secret>", hd.REFUSED["cannot_see"].format(channel="CPRIV")),
        ("digest subscribe <#CNOPE>", hd.REFUSED["cannot_see"].format(channel="CNOPE")),
        ("digest subscribe <#COLD|old>", hd.REFUSED["archived"].format(channel="COLD")),
        ("digest subscribe at 25:00", hd.BAD_WORD.format(word="at")),
        (
            "digest subscribe tz Mars/Olympus",
            "'Mars/Olympus' is not a time zone I know (use a name like Europe/Paris).",
        ),
    ],
)
async def test_channels_the_bot_cannot_post_in_are_refused_at_once(bot, slack, storage, text, reply):
    answer = await run(bot, slack, text)
    assert answer["text"] == reply
    assert await storage.digests.for_team("T0001") == []


async def test_members_cannot_change_subscriptions_or_prices(bot, slack, storage):
    assert (await run(bot, slack, "digest subscribe", user="U0002"))["text"] == ADMINS_ONLY.format(
        what="subscribe channels to digests"
    )
    assert (await run(bot, slack, "price hubspot 90 EUR", user="U0002"))["text"] == ADMINS_ONLY.format(
        what="set seat prices"
    )
    assert await storage.digests.for_team("T0001") == [] and await storage.digests.prices("T0001") == {}


async def test_unsubscribe(bot, slack, storage):
    await run(bot, slack, "digest subscribe")
    assert (await run(bot, slack, "digest unsubscribe"))["text"] == hd.UNSUBSCRIBED.format(channel="C0001")
    assert (await run(bot, slack, "digest unsubscribe"))["text"] == hd.NOT_SUBSCRIBED.format(channel="C0001")
    assert (await run(bot, slack, "digest list"))["text"] == hd.NONE_YET


async def test_prices(bot, slack, storage):
    first = next(iter(INSTALLED))  # the example names the first installed provider, whichever it is
    assert (await run(bot, slack, "price"))["text"] == hd.NO_PRICES.format(example=first)
    assert (await run(bot, slack, "price hubspot 90 EUR"))["text"] == hd.PRICE_SET.format(
        provider="HubSpot", price="€90.00"
    )
    assert (await run(bot, slack, "price sendgrid 19.95"))["text"] == hd.PRICE_SET.format(
        provider="SendGrid", price="$19.95"
    )
    assert (await run(bot, slack, "price"))["text"] == hd.PRICE_LIST.format(
        prices="HubSpot €90.00, SendGrid $19.95"
    )
    for bad in ("price hubspot lots", "price hubspot 90 EURO", "price hubspot -1"):
        assert (await run(bot, slack, bad))["text"] == hd.PRICE_USAGE.format(example=first)
    assert (
        "I don't know a provider called `nosuchapp`" in (await run(bot, slack, "price nosuchapp 9"))["text"]
    )
    assert (await storage.digests.prices("T0001"))["hubspot"].amount_minor == 9000
    unknown = "`QQQ` is not an ISO 4217 currency I know: use one such as EUR, USD or JPY."
    assert (await run(bot, slack, "price hubspot 9 QQQ"))["text"] == unknown
    assert (await run(bot, slack, "price hubspot 1234.5 JPY"))["text"] == hd.PRICE_SET.format(
        provider="HubSpot",
        price="¥1,235",  # JPY has no minor digits
    )
    assert (await storage.digests.prices("T0001"))["hubspot"].amount_minor == 1235


async def test_preview_is_ephemeral_and_posts_nothing(bot, slack):
    reply = await run(bot, slack, "digest preview", user="U0002")
    assert reply["response_type"] == "ephemeral"
    assert "Seat usage" in json.dumps(reply["blocks"]) and "Preview" in json.dumps(reply["blocks"])
    assert slack.posts_to("C0001") == []


async def needs_reconnect(storage) -> None:
    """A SendGrid connection whose key was revoked: the digest says so without calling SendGrid."""
    saved = await storage.connections.save_connected(
        team_id="T0001",
        provider="sendgrid",
        account_id="acme",
        account_name="acme-mail",
        credentials={"api_key": "SG.revoked", "base_url": "http://127.0.0.1:9"},
        connected_by="U0001",
        scopes=[],
        details={},
    )
    assert await storage.connections.mark_needs_reconnect(saved.record.id, "the key was revoked")


async def test_send_refuses_an_empty_digest_when_nothing_is_connected(bot, slack, storage):
    reply = await run(bot, slack, "digest send")
    assert reply["text"] == hd.NOTHING_TO_SEND.format(channel="C0001")
    assert slack.posts_to("C0001") == []


async def test_send_posts_now_without_counting_as_the_scheduled_one(bot, slack, storage):
    await needs_reconnect(storage)
    reply = await run(bot, slack, "digest send")
    assert reply["text"] == hd.POSTED.format(channel="C0001")
    (posted,) = slack.posts_to("C0001")
    assert "Preview" not in json.dumps(posted["blocks"])
    assert await storage.digests.deliveries() == []
    # App Home's "Last digest" says where it went, subscribed channel or not
    last = await until(lambda: home_says(bot, slack, "Posted in <#C0001>"), timeout=10)
    assert app_home.NO_DIGEST not in last
    await run(bot, slack, "digest subscribe", channel="CPRIVIN")
    await run(bot, slack, "digest send <#CPRIVIN>")
    sub = await storage.digests.get("T0001", "CPRIVIN")
    assert sub.last_sent_at is not None  # `digest list`'s "last sent" too
    assert "Posted in <#CPRIVIN>" in await until(
        lambda: home_says(bot, slack, "Posted in <#CPRIVIN>"), timeout=10
    )
    assert await storage.digests.deliveries() == []
    assert (await run(bot, slack, "digest send <#CPRIV|secret>"))["text"] == hd.REFUSED["cannot_see"].format(
        channel="CPRIV"
    )


EVENT_IDS = itertools.count(1)


def home_says(bot, slack, text: str) -> str | None:
    """App Home as U0001 opens it, when it says `text`."""
    event = {"type": "app_home_opened", "user": "U0001", "channel": "D0001", "tab": "home"}
    body = sr.event(event, event_id=f"Ev{next(EVENT_IDS)}")  # each one new: Slack's retries are ignored
    assert post(bot, body, content_type="application/json").status_code == 200
    home = json.dumps(slack.home_views.get("U0001", {}).get("blocks", []))
    return home if text in home else None


def select_action(action_id: str, fields: dict, *, user_id="U0001", response_url=None) -> str:
    from urllib.parse import urlencode

    payload = {
        "type": "block_actions",
        "team": {"id": "T0001", "domain": "acme"},
        "user": {"id": user_id, "team_id": "T0001"},
        "api_app_id": "A0QUOLUM",
        "trigger_id": "1.2.trigger",
        "container": {"type": "message"},
        "channel": {"id": "D0001"},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": "b", "action_ts": "1.2", **fields}],
    }
    return urlencode({"payload": json.dumps(payload)})


async def click(bot, slack, action_id: str, fields: dict, user="U0001") -> dict:
    hook = slack.response_url()
    assert post(bot, select_action(action_id, fields, user_id=user, response_url=hook)).status_code == 200
    hook_id = hook.rsplit("/", 1)[1]
    return await until(lambda: next((r for r in slack.responses if r["hook"] == hook_id), None), timeout=20)


async def test_the_connect_dm_buttons_preview_and_subscribe(bot, slack, storage):
    from messages import digest as db

    preview = await click(bot, slack, db.PREVIEW_ACTION, {"type": "button", "value": "preview"}, user="U0002")
    assert preview["response_type"] == "ephemeral" and "Seat usage" in json.dumps(preview["blocks"])
    picked = await click(
        bot,
        slack,
        db.SUBSCRIBE_PICK_ACTION,
        {"type": "conversations_select", "selected_conversation": "C0001"},
    )
    assert picked["text"].startswith(":white_check_mark: <#C0001> will get the usage digest every Monday")
    assert (await storage.digests.get("T0001", "C0001")).subscriber_id == "U0001"
    refused = await click(
        bot,
        slack,
        db.SUBSCRIBE_PICK_ACTION,
        {"type": "conversations_select", "selected_conversation": "COLD"},
    )
    assert refused["text"] == hd.REFUSED["archived"].format(channel="COLD")


async def test_a_preview_whose_chart_slack_refuses_is_shown_once_without_it(bot, slack, storage):
    """`/quolum digest preview` through the real server: the preview goes through the command's
    response_url; a Slack without the chart block answers it 400 `invalid_blocks`, and the person gets
    the preview once, without the chart; the workspace's refusal is remembered (issue 26)."""
    from datetime import UTC, datetime, time, timedelta

    import msgspec

    from core.clock import utcnow
    from messages import charts
    from services.digest_schedule import latest_period
    from tests.messages.test_digest import report

    # the period the preview shows is the one that ended last in the asking person's time zone
    tz = slack.users.get("U0002", {}).get("tz") or "UTC"
    _, end = latest_period(Schedule(WEEKLY, 0, "09:00", tz), utcnow())
    await storage.connections.save_connected(
        team_id="T0001",
        provider="hubspot",
        account_id="101",
        account_name="acme",
        credentials={"access_token": "unused: the snapshots are stored"},
        connected_by="U0001",
        scopes=[],
        details={},
    )
    for weeks in range(4, -1, -1):  # this period and four before it, each collected after it ended
        ended = end - timedelta(weeks=weeks)
        snapshot = report(paid=30 + weeks, active_paid=10 + weeks, team="T0001", end=ended.isoformat())
        collected = datetime.combine(ended + timedelta(days=1), time(8), UTC)
        await storage.snapshots.save(msgspec.structs.replace(snapshot, collected_at=collected))
    slack.without_blocks["T0001"] = {charts.BLOCK_TYPE}

    reply = await run(bot, slack, "digest preview", user="U0002")
    attempts = [a for a in slack.response_attempts if a["hook"] == reply["hook"]]
    assert [charts.BLOCK_TYPE in json.dumps(a["blocks"]) for a in attempts] == [True, False]
    assert [r for r in slack.responses if r["hook"] == reply["hook"]] == [reply]  # shown once
    assert reply["response_type"] == "ephemeral" and "Preview" in json.dumps(reply["blocks"])
    assert await storage.digests.refused_blocks("T0001") == {charts.BLOCK_TYPE}
