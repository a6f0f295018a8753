"""A Keep/Release ask DM whose answer Slack lost (issue 26's im:history, shared with renewal reminders):
with the optional im:history the bot finds it in the person's DM by its metadata and keeps its ts (the
reminders thread under it); without it, it is left as it is: never a second ask DM."""

# ruff: noqa: F811  (the idle-seats fixtures are imported, and named as arguments)
from __future__ import annotations

import pytest

from tests.services.test_idle_seats import asks_sent, bot, dm, installed, one, standin  # noqa: F401


@pytest.mark.parametrize("history, found", [(",im:history", True), ("", False)])
async def test_an_ask_dm_whose_answer_was_lost_is_read_back_with_im_history(
    bot, slack, standin, storage, one, history, found
):
    slack.workspaces["T0001"].scopes += history
    await one.usage.collect(team_id="T0001")
    one.slack_clients.timeout = 2
    slack.answer_slowly("chat.postMessage", 5, count=1)  # Slack posts the ask, answers after the bot gave up
    await one.asks.ask("T0001", "U0001", bot.connection_id, ["bo"])
    assert [a["channel"] for a in asks_sent(slack)] == [dm("U0002")]  # one ask DM, whatever happened
    assert len(slack.messages_in(dm("U0002"))) == 1
    looked = [c.args.get("channel") for c in slack.calls_to("conversations.history")]
    assert dm("U0002") in looked  # looked for it in the DM (Slack answered missing_scope without it)
    (ask,) = [a for a in (await storage.seats.latest_asks("T0001")).values() if a.slack_user_id == "U0002"]
    posted = slack.messages_in(dm("U0002"))[0]
    assert (ask.dm_ts == posted["ts"]) is found and (ask.dm_ts is None) is not found
