"""Slack seats reclaimed through the real app, as GitHub, Zoom and HubSpot are (issue 25): an admin
runs `/quolum seats slack_seats`, picks an idle member, *Reclaim…* opens the confirm dialog, submitted
twice; the Slack stand-in's SCIM API deactivates the member once (`DELETE /scim/v2/Users/{id}` with the
admin's user token), the ledger counts the saving and the audit has one `reclaim`; a second *Reclaim*
calls nothing; where the plan has no SCIM the answer is *not supported* with the admin page's link."""

from __future__ import annotations

import asyncio
import json

import pytest

from messages import seats as sm
from providers.slack_seats.entry import ADMIN_PAGE
from sandbox import slack_requests as sr
from sandbox.standins.slack_seats_seed import seed_workspace
from tests.conftest import install
from tests.providers.slack_seats_rig import connect_with_billing
from tests.services.test_alerts import replica
from tests.services.test_connections import post
from tests.services.test_invites import until

KEY = "slack_seats"
TEAM = "T0001"
GRANTER = "U000100001"  # the seed's workspace admin, who connected Slack billing
PRICE = 875  # $8.75 a member a month: $105 a year


@pytest.fixture
async def bot(serve, settings, storage, slack, clock):
    await install(storage, slack)
    seed_workspace(slack, TEAM, now=clock(), n_users=40, seed=11)
    slack.add_user("U0001", is_admin=True)
    await storage.digests.set_price(TEAM, KEY, PRICE, "USD", "U0001")
    return serve(settings.with_overrides(slack_scim_url=slack.url))


async def seats_view(bot, slack) -> dict:
    hook = slack.response_url()
    assert post(bot, sr.command(f"seats {KEY}", user_id="U0001", response_url=hook)).status_code == 200
    hook_id = hook.rsplit("/", 1)[1]
    return await until(lambda: next((r for r in slack.responses if r["hook"] == hook_id), None), timeout=20)


def picked(cid: int, *user_ids: str) -> dict:
    options = [{"value": u, "text": {"type": "plain_text", "text": u}} for u in user_ids]
    block = {sm.PICK: {"type": "multi_static_select", "selected_options": options}}
    return {"state": {"values": {f"{sm.BLOCK_PREFIX}{cid}": block}}}


async def reclaim_through_the_dialog(bot, slack, cid: int, user_id: str, *, submits: int = 1) -> str:
    """*Reclaim…* on the seats view, then the confirm dialog submitted `submits` times: the dialog's
    final text (views.update)."""
    opened, updated = len(slack.calls_to("views.open")), len(slack.calls_to("views.update"))
    extra = picked(cid, user_id)
    assert post(bot, sr.action(sm.RECLAIM, value=str(cid), extra=extra, response_url=slack.response_url()))
    confirm = (await until(lambda: slack.calls_to("views.open")[opened:], timeout=10))[0].args["view"]
    assert confirm["callback_id"] == sm.CONFIRM_MODAL
    for n in range(submits):  # a double click submits the same dialog twice
        post(bot, sr.view_submission(confirm, {}, team_id=TEAM, user_id="U0001", view_id=f"VCONFIRM{n}"))
    [final] = (await until(lambda: slack.calls_to("views.update")[updated:], timeout=10))[:1]
    await asyncio.sleep(0.3)  # a second submit would have called by now
    return json.dumps(final.args["view"])


def idle_member(snapshot) -> str:
    """An idle, billed member Quolum may deactivate (no owner or admin, not the granter)."""
    return next(s.user_id for s in snapshot.seats.inactive_paid_users if not s.admin and s.user_id != GRANTER)


async def test_reclaim_deactivates_through_scim_once_and_the_ledger_counts_it(
    bot, slack, storage, clock, database_url
):
    cid = await connect_with_billing(storage, slack, GRANTER)
    async with replica(bot.settings, database_url, clock, "r1") as one:
        await one.usage.collect(team_id=TEAM)
        [snapshot] = await storage.snapshots.history(TEAM, KEY, 1)
        truth = slack.seats_truth(TEAM, snapshot.period.start_utc)
        assert {s.user_id for s in snapshot.seats.inactive_paid_users} == truth.idle
        member = idle_member(snapshot)
        name = slack.users[member]["real_name"]

        view = json.dumps(await seats_view(bot, slack))
        assert name in view and "$8.75 a month" in view and sm.RECLAIM in view  # the admin may reclaim

        final = await reclaim_through_the_dialog(bot, slack, cid, member, submits=2)
        assert f"Deactivated {name} in Slack" in final
        assert slack.scim_deletes == [member] and slack.users[member]["deleted"] is True

        # the ledger and the audit: one reclaim, Slack's 204
        assert (await one.reclaims.savings(TEAM)).seats == 1
        entries = [e for e in await storage.seats.audit(TEAM) if e.action.startswith("reclaim")]
        assert [(e.action, e.detail, e.provider) for e in entries] == [("reclaim", "204", KEY)]

        # a second Reclaim of the same member: already done, nothing more at Slack
        again = await one.reclaims.reclaim(TEAM, "U0001", cid, [member])
        assert slack.scim_deletes == [member] and again.done == 0
        assert (await one.reclaims.savings(TEAM)).seats == 1

        # the next collection no longer counts the member idle, nor billed
        await one.usage.collect(team_id=TEAM)
        [latest] = await storage.snapshots.history(TEAM, KEY, 1)
        assert member not in {s.user_id for s in latest.seats.inactive_paid_users}
        assert latest.seats.paid_seats == snapshot.seats.paid_seats - 1


async def test_a_plan_without_scim_answers_not_supported_with_the_admin_pages_link(
    bot, slack, storage, clock, database_url
):
    cid = await connect_with_billing(storage, slack, GRANTER)
    slack.set_plan(TEAM, "pro")  # access logs, but no SCIM
    async with replica(bot.settings, database_url, clock, "r1") as one:
        await one.usage.collect(team_id=TEAM)
        [snapshot] = await storage.snapshots.history(TEAM, KEY, 1)
        member = idle_member(snapshot)
        final = await reclaim_through_the_dialog(bot, slack, cid, member)
        assert "through SCIM only on Business+ and Enterprise Grid" in final
        assert ADMIN_PAGE in final and "&lt;http" not in final  # a link Slack draws, not escaped text
        assert slack.scim_deletes == [] and slack.users[member]["deleted"] is False
        assert (await one.reclaims.savings(TEAM)).seats == 0
        [entry] = [e for e in await storage.seats.audit(TEAM) if e.action.startswith("reclaim")]
        assert entry.action == "reclaim_not_supported"
