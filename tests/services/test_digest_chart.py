"""The digest's trend chart through the Slack stand-in: the chart drawn from the stored snapshots
passes the stand-in's schema check; a workspace whose Slack refuses the block gets the digest once,
without it, and never again a chart (issue 26, item 5)."""

# ruff: noqa: F811  (the digest fixtures of test_digests.py are imported, and named as arguments)
from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.periods import Period
from messages import charts
from messages import digest_trend as trend
from services.digest_on_demand import webhook_error
from tests.messages.test_digest import report
from tests.services.test_digests import SEND, bot, clock, hubspot, subscribed  # noqa: F401  (fixtures)

WEEKS = 4  # earlier weekly snapshots of portal 101


async def seed_history(storage) -> list[tuple[int, int]]:
    """WEEKS earlier weekly HubSpot snapshots before the digest's week (16-22 Nov, US/Eastern);
    returns their (paid, active) oldest first."""
    figures = []
    for k in range(WEEKS, 0, -1):
        end = date(2026, 11, 22) - timedelta(weeks=k)
        old = report("hubspot", paid=30 + k, active_paid=10 + k, team="T0001", end=end.isoformat())
        assert old.period == Period(end - timedelta(days=6), end, "US/Eastern")
        await storage.snapshots.save(old)
        figures.append((30 + k, 10 + k))
    return figures


def charts_in(post: dict) -> list[dict]:
    return [b for b in post.get("blocks") or () if b["type"] == charts.BLOCK_TYPE]


async def test_the_digest_draws_the_stored_weeks_and_the_stand_in_takes_the_chart(bot, storage, slack, clock):
    earlier = await seed_history(storage)
    await subscribed(bot)
    clock.now = SEND
    assert (await bot.digests.run(SEND)).posted == 1
    (post,) = slack.posts_to("C0001")  # the stand-in checked the block against the reference's limits
    (chart,) = charts_in(post)
    paid, active = chart["chart"]["series"]
    [latest] = await storage.snapshots.history("T0001", "hubspot", 1)
    assert [p["value"] for p in paid["data"]] == [p for p, _ in earlier] + [latest.seats.paid_seats]
    assert [p["value"] for p in active["data"]] == [a for _, a in earlier] + [latest.seats.active_paid_users]
    assert chart["chart"]["axis_config"]["categories"] == ["19 Oct", "26 Oct", "2 Nov", "9 Nov", "16 Nov"]
    assert chart["title"] == trend.CHART_TITLE.format(provider="HubSpot")
    assert "(utilisation " in post["text"]
    assert await storage.digests.refused_blocks("T0001") == set()


async def test_a_slack_without_the_chart_gets_the_digest_once_without_it_and_remembers(
    bot, storage, slack, clock
):
    await seed_history(storage)
    slack.without_blocks["T0001"] = {charts.BLOCK_TYPE}
    await subscribed(bot)
    clock.now = SEND
    assert (await bot.digests.run(SEND)).posted == 1
    for at in (SEND + timedelta(minutes=1), SEND + timedelta(hours=2)):
        await bot.digests.run(at)  # later runs, other replicas: nothing more
    (post,) = slack.posts_to("C0001")
    assert charts_in(post) == [] and "Paid seats" in str(post["blocks"])
    assert "(utilisation " in post["text"]
    tried = [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == "C0001"]
    assert [bool(charts_in(c.args)) for c in tried] == [True, False]  # refused once, then without it
    assert await storage.digests.refused_blocks("T0001") == {charts.BLOCK_TYPE}
    (delivery,) = await storage.digests.deliveries()
    assert delivery["state"] == "posted" and delivery["ts"] == post["ts"]

    # the next week's digest is built without the chart: no refused attempt first
    week = SEND + timedelta(days=7)
    clock.now = week
    assert (await bot.digests.run(week)).posted == 1
    tried = [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == "C0001"]
    assert len(tried) == 3 and not charts_in(tried[-1].args)
    assert len(slack.posts_to("C0001")) == 2


async def test_a_digest_sent_now_falls_back_the_same_way(bot, storage, slack, clock):
    await seed_history(storage)
    slack.without_blocks["T0001"] = {charts.BLOCK_TYPE}
    clock.now = SEND
    ts = await bot.digests.send_now("T0001", "C0001", "Europe/Berlin")
    (post,) = slack.posts_to("C0001")
    assert post["ts"] == ts and charts_in(post) == []
    assert await storage.digests.refused_blocks("T0001") == {charts.BLOCK_TYPE}


@pytest.mark.parametrize(
    "status,body,code",
    [
        (200, "ok", None),
        (400, "invalid_blocks", "invalid_blocks"),
        (400, "invalid_blocks\n", "invalid_blocks"),
        (400, '{"ok": false, "error": "invalid_blocks"}', "invalid_blocks"),
        (404, "expired_url", "expired_url"),
        (500, "", "error"),
        (400, "{not json", "error"),
        (200, '{"ok": false, "error": "invalid_blocks"}', "invalid_blocks"),
        (200, '{"ok": true}', None),
        (400, '{"ok": true}', "error"),
    ],
)
def test_a_response_urls_answer_names_slacks_error(status, body, code):
    assert webhook_error(status, body) == code


def hook_posts(slack, hook: str) -> list[dict]:
    return [r for r in slack.response_attempts if r["hook"] == hook.rsplit("/", 1)[1]]


async def test_a_preview_through_response_url_falls_back_once_and_remembers(bot, storage, slack, clock):
    await seed_history(storage)
    await subscribed(bot)
    clock.now = SEND
    slack.without_blocks["T0001"] = {charts.BLOCK_TYPE}
    hook = slack.response_url("T0001")
    await bot.digests.preview_to("T0001", "Europe/Berlin", hook)
    tried = hook_posts(slack, hook)
    assert [bool(charts_in(t)) for t in tried] == [True, False]  # refused with the chart, then without
    (shown,) = [r for r in slack.responses if r["hook"] == hook.rsplit("/", 1)[1]]  # one preview shown
    assert shown["response_type"] == "ephemeral" and "Paid seats" in str(shown["blocks"])
    assert await storage.digests.refused_blocks("T0001") == {charts.BLOCK_TYPE}

    # remembered: the next preview, and the scheduled digest, go without the chart at the first try
    again = slack.response_url("T0001")
    await bot.digests.preview_to("T0001", "Europe/Berlin", again)
    assert [bool(charts_in(t)) for t in hook_posts(slack, again)] == [False]
    assert (await bot.digests.run(SEND)).posted == 1
    tried = [c for c in slack.calls_to("chat.postMessage") if c.args.get("channel") == "C0001"]
    assert [bool(charts_in(c.args)) for c in tried] == [False]


async def test_a_preview_slack_takes_is_sent_once_with_its_chart(bot, storage, slack, clock):
    await seed_history(storage)
    clock.now = SEND
    hook = slack.response_url("T0001")
    await bot.digests.preview_to("T0001", "Europe/Berlin", hook)
    (tried,) = hook_posts(slack, hook)
    assert len(charts_in(tried)) == 1
    assert [r["hook"] for r in slack.responses] == [tried["hook"]]
    assert await storage.digests.refused_blocks("T0001") == set()
