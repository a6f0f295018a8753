"""GitHub and Zoom through the real app, each against its stand-in (tests/services/seat_provider_rigs.py):
connecting through the credential modal (good credentials; wrong ones and too few permissions, each
answered with the provider's own sentence naming what is wrong); collected into the digest with the
seed's figures; revoked at the provider -> exactly one alert -> reconnected -> resolved; one idle seat
reclaimed through the Reclaim button and its confirm dialog (submitted twice) -> the stand-in takes it
once and the next collection no longer counts it idle."""

from __future__ import annotations

import asyncio
import json

import pytest

from core.periods import Period
from messages import seats as sm
from providers.registry import INSTALLED
from sandbox import slack_requests as sr
from services.digest_schedule import WEEKLY, Schedule, latest_period
from tests.conftest import install
from tests.services.seat_provider_rigs import RIGS, Rig, Truth
from tests.services.test_alerts import alerts_in, replica
from tests.services.test_connections import buttons, open_card, post


@pytest.fixture(params=sorted(RIGS))
def rig(request, clock):
    rig = RIGS[request.param](clock)
    yield rig
    rig.stop()


@pytest.fixture
async def bot(serve, settings, storage, slack, rig):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    return serve(settings.with_overrides(**rig.settings))


async def eventually(check, tries: int = 240):
    for _ in range(tries):
        if found := check():
            return found
        await asyncio.sleep(0.025)
    raise AssertionError("never happened")


async def submit(bot, slack, rig: Rig, values: dict[str, str]) -> dict:
    """Open the provider's modal from the Connections card and submit `values`: Slack's answer."""
    button = buttons(open_card(bot, slack))[f"connect_modal:{rig.key}"]
    before = len(slack.calls_to("views.open"))
    post(
        bot, sr.action(button["action_id"], value=button.get("value", ""), response_url=slack.response_url())
    )
    view = (await eventually(lambda: slack.calls_to("views.open")[before:]))[0].args["view"]
    state = {name: {name: {"type": "plain_text_input", "value": value}} for name, value in values.items()}
    reply = post(bot, sr.view_submission(view, state, team_id="T0001", user_id="U0001", view_id="V0FORM"))
    assert reply.status_code == 200
    return reply.json()


def shown(reply: dict) -> str:
    return json.dumps(reply, ensure_ascii=False)


# --- connecting -----------------------------------------------------------------------------------
async def test_good_credentials_connect(bot, slack, storage, rig):
    reply = await submit(bot, slack, rig, rig.good())
    assert reply["response_action"] == "update"
    assert reply["view"]["title"]["text"] == f"{rig.display_name} connected"
    assert ":warning:" not in shown(reply)
    connection = await storage.connections.get("T0001", rig.key)
    assert connection.status == "connected" and connection.unavailable == ()
    assert set(INSTALLED[rig.key].required_scopes) <= set(connection.scopes)


async def test_wrong_credentials_are_refused_with_the_providers_sentence(bot, slack, storage, rig):
    reply = await submit(bot, slack, rig, rig.wrong())
    secret = INSTALLED[rig.key].form.secret.name
    assert reply == {"response_action": "errors", "errors": {secret: rig.wrong_sentence}}
    assert await storage.connections.get("T0001", rig.key) is None


async def test_too_few_permissions_are_named_in_one_sentence(bot, slack, storage, rig):
    reply = await submit(bot, slack, rig, rig.too_few())
    assert reply["view"]["title"]["text"] == f"{rig.display_name} connected"
    text = reply["view"]["blocks"][0]["text"]["text"]
    assert text.endswith(f":warning: {rig.too_few_sentence}")
    assert text.count(":warning:") == 1  # the provider's sentence instead of the generic list
    [missing] = (await storage.connections.get("T0001", rig.key)).unavailable
    assert f"*{missing}*" in rig.too_few_sentence  # it names the permission the credential lacks


# --- collected, revoked, reconnected, a seat reclaimed --------------------------------------------
def truth_of_the_digest(rig: Rig, clock) -> Truth:
    """The seed's truth over the period the digest preview shows (weekly, UTC)."""
    start, end = latest_period(Schedule(WEEKLY, 0, "09:00", "UTC"), clock())
    return rig.truth(Period(start=start, end=end, timezone="UTC").start_utc)


async def test_the_whole_way_collected_revoked_reconnected_and_one_seat_reclaimed(
    bot, slack, storage, clock, database_url, rig
):
    values = rig.good()
    await submit(bot, slack, rig, values)
    async with replica(bot.settings, database_url, clock, "r1") as one:
        # collected: the digest's section shows the seed's figures
        digest = json.dumps(await one.digests.preview("T0001", "UTC"))
        truth = truth_of_the_digest(rig, clock)
        assert truth.idle and truth.paid > len(truth.idle)  # the seed has both kinds
        assert f"*{len(truth.idle)} of {truth.paid} paid seats idle*" in digest
        assert f"*Paid seats*\\n{truth.paid}" in digest
        assert f"*Active paid users*\\n{truth.paid - len(truth.idle)} " in digest

        # revoked at the provider: the hourly check raises exactly one alert
        rig.revoke(values)
        record = await storage.connections.get("T0001", rig.key)
        failure = await one.health.check(record)
        assert failure.kind == "revoked"
        await one.health.report(record, failure)
        await one.health.report(record, await one.health.check(record))  # the next hour: the same one
        [alert] = alerts_in(slack)
        assert rig.display_name in alert["text"] and "stopped working" in alert["text"]
        assert (await storage.connections.get("T0001", rig.key)).status == "needs_reconnect"

    # reconnected through the modal, with the permission to reclaim: the alert is resolved
    await submit(bot, slack, rig, rig.good(write=True))
    resolved = await eventually(lambda: "Resolved" in alerts_in(slack)[0]["text"] and alerts_in(slack)[0])
    assert rig.display_name in json.dumps(resolved["blocks"]) and len(alerts_in(slack)) == 1
    assert await storage.incidents.open_in_team("T0001") == {}

    # one idle seat reclaimed through the app: the stand-in takes it once, the next collection sees it
    async with replica(bot.settings, database_url, clock, "r2") as two:
        await two.usage.collect(team_id="T0001")
        [collected] = await storage.snapshots.history("T0001", rig.key, 1)
        expected = rig.truth(collected.period.start_utc)  # the collection's own period
        assert sorted(s.user_id for s in collected.seats.inactive_paid_users) == sorted(expected.idle)
        cid = (await storage.connections.get("T0001", rig.key)).id
        seat = rig.reclaimable(expected)
        before = len(slack.calls_to("views.open"))
        extra = {"state": {"values": {f"{sm.BLOCK_PREFIX}{cid}": {sm.PICK: picked(seat)}}}}
        action = sr.action(sm.RECLAIM, value=str(cid), extra=extra, response_url=slack.response_url())
        assert post(bot, action).status_code == 200
        confirm = (await eventually(lambda: slack.calls_to("views.open")[before:]))[0].args["view"]
        assert confirm["callback_id"] == sm.CONFIRM_MODAL
        for view_id in ("VCONFIRM", "VCONFIRM2"):  # submitted twice (a double click): one write
            post(bot, sr.view_submission(confirm, {}, team_id="T0001", user_id="U0001", view_id=view_id))
        await eventually(rig.writes)
        await asyncio.sleep(0.3)
        assert rig.writes() == [seat]
        await two.usage.collect(team_id="T0001")
        [latest] = await storage.snapshots.history("T0001", rig.key, 1)
        assert latest.seats.idle == len(expected.idle) - 1
        assert seat not in {s.user_id for s in latest.seats.inactive_paid_users}


def picked(*user_ids: str) -> dict:
    options = [{"value": u, "text": {"type": "plain_text", "text": u}} for u in user_ids]
    return {"type": "multi_static_select", "selected_options": options}
