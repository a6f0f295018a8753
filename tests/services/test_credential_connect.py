"""Connecting SendGrid with an API key, end to end through the real server and the Slack and SendGrid
stand-ins; the modal's pure view builders; the daily key check."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pytest

from bot.container import build_services
from bot.scheduler import Scheduler
from core.clock import utcnow
from core.logs import JsonFormatter
from handlers import credentials as forms
from handlers.connections import ADMINS_ONLY
from messages import cards
from providers.http import ProviderHTTP
from providers.plugin import Verified
from providers.registry import INSTALLED
from providers.sendgrid import client as sg
from providers.sendgrid.entry import POLICY as SENDGRID_POLICY
from providers.sendgrid.entry import SPEC as SENDGRID
from sandbox import sendgrid_modal as modal
from sandbox import slack_requests as sr
from sandbox.standins.sendgrid import AUTO_SCOPES, mint_key
from services import connections as texts
from services import credential_connect as sgc
from services.credential_connect import ConnectResult, ModalContext
from tests.conftest import SENDGRID_ACCOUNT, install
from tests.handlers.test_events import assert_nowhere_in_database
from tests.services.test_connections import buttons, card_text, open_card, post

READ_SCOPES = ["user.account.read", "user.credits.read", "teammates.read", "stats.read"]
ALL_SCOPES = [*READ_SCOPES, "user.username.read"]

KEY_REJECTED = sgc.KEY_REJECTED.format(provider="SendGrid")
UNAVAILABLE = sgc.UNAVAILABLE.format(provider="SendGrid")


# --- helpers ------------------------------------------------------------------------------------
def submission(
    view: dict,
    key: str | None,
    *,
    region: str = "global",
    team_id: str = "T0001",
    user_id: str = "U0001",
    view_id: str = "V0SENDGRID",
) -> str:
    """A `view_submission` body as Slack sends it for the modal `view` (as the bot opened it)."""
    option = next(
        o
        for b in view["blocks"]
        if b.get("block_id") == modal.REGION_BLOCK
        for o in b["element"]["options"]
        if o["value"] == region
    )
    state = {
        modal.KEY_BLOCK: {modal.KEY_ACTION: {"type": "plain_text_input", "value": key}},
        modal.REGION_BLOCK: {modal.REGION_ACTION: {"type": "radio_buttons", "selected_option": option}},
    }
    return sr.view_submission(view, state, team_id=team_id, user_id=user_id, view_id=view_id)


def action(
    action_id: str, *, user_id: str = "U0001", value: str = "", response_url: str | None = None
) -> str:
    return sr.action(action_id, value=value, user_id=user_id, response_url=response_url)


async def eventually(check, timeout: float = 6.0):
    """Poll `check()` until it returns something truthy (work continues after Slack is acknowledged)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


async def open_modal(bot, slack, user: str = "U0001") -> tuple[dict, str]:
    """Click the card's Connect button; return (the modal the bot opened, the card's response_url)."""
    before = len(slack.calls_to("views.open"))
    response_url = slack.response_url()
    clicked = post(
        bot, action(modal.CONNECT_ACTION, user_id=user, value="sendgrid", response_url=response_url)
    )
    assert clicked.status_code == 200
    call = (await eventually(lambda: slack.calls_to("views.open")[before:]))[0]
    return call.args["view"], response_url


def submit(bot, view: dict, key: str | None, **kwargs) -> httpx.Response:
    return post(bot, submission(view, key, **kwargs))


async def connect(bot, slack, key: str) -> dict:
    view, _ = await open_modal(bot, slack)
    answer = submit(bot, view, key)
    assert answer.status_code == 200
    return answer.json()


def texts_of(view: dict) -> str:
    return json.dumps(view, ensure_ascii=False)


@pytest.fixture
async def bot(serve, sg_settings, storage, slack):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)  # a Slack admin
    slack.add_user("U0002")  # a member
    return serve(sg_settings)


def services_of(bot):
    return bot.app.state.services


# --- pure builders ---------------------------------------------------------------------------------
CTX = ModalContext("T0001", "U0001", "https://hooks.slack.test/r/1", "C0001")


def test_modal_explains_the_key_and_carries_only_context():
    view = modal.connect_modal(CTX)
    assert view["type"] == "modal" and view["callback_id"] == modal.CALLBACK_ID
    assert len(view["title"]["text"]) <= 24 and view["submit"]["text"] == modal.SUBMIT
    text = texts_of(view)
    for scope in SENDGRID.scopes:
        assert f"`{scope.name}` — {scope.purpose}" in text
    assert "Restricted Access" in text and "Read Access" in text and SENDGRID.console_url in text
    key_input = next(b for b in view["blocks"] if b.get("block_id") == modal.KEY_BLOCK)
    assert key_input["element"]["type"] == "plain_text_input" and "initial_value" not in key_input["element"]
    region = next(b for b in view["blocks"] if b.get("block_id") == modal.REGION_BLOCK)["element"]
    assert [o["value"] for o in region["options"]] == ["global", "eu"]
    assert "api.sendgrid.com" in json.dumps(region) and "api.eu.sendgrid.com" in json.dumps(region)
    assert region["initial_option"]["value"] == "global"
    assert json.loads(view["private_metadata"]) == {
        "provider": "sendgrid",
        "team": "T0001",
        "user": "U0001",
        "response_url": "https://hooks.slack.test/r/1",
        "channel": "C0001",
    }


@pytest.mark.parametrize(
    "ctx",
    [
        CTX,
        ModalContext("T0001", "U0002", None, None, "inv-123"),
        ModalContext("T0001", "U0002"),
    ],
)
def test_modal_context_round_trips(ctx):
    assert ModalContext.from_metadata(ctx.to_metadata()) == ctx


@pytest.mark.parametrize("text", [None, "", "not json", "[]", '{"team": "T1"}', '{"user": "U1"}'])
def test_unreadable_metadata_is_none(text):
    assert ModalContext.from_metadata(text) is None


@pytest.mark.parametrize(
    "result,expected,form",
    [
        (ConnectResult("rejected", KEY_REJECTED, {"region": "eu"}), KEY_REJECTED, True),
        (ConnectResult("unavailable", UNAVAILABLE, {"region": "global"}), UNAVAILABLE, True),
        (
            ConnectResult(
                "failed", sgc.FAILED.format(provider="SendGrid", status=" (404)"), {"region": "global"}
            ),
            "(404)",
            True,
        ),
        (
            ConnectResult("connected", "note", {"region": "global"}, note=":white_check_mark: done"),
            "done",
            False,
        ),
    ],
)
def test_result_views(result, expected, form):
    view = modal.result_view(CTX, result)
    assert expected in texts_of(view)
    assert (view.get("callback_id") == modal.CALLBACK_ID) is form  # failures offer the form again
    if form:
        region = next(b for b in view["blocks"] if b.get("block_id") == modal.REGION_BLOCK)["element"]
        assert region["initial_option"]["value"] == result.values["region"]
    else:
        assert "submit" not in view and view["title"]["text"] == modal.CONNECTED_TITLE


def test_invited_modal_says_so_and_verifying_view_has_no_form():
    assert modal.INVITED_NOTE in texts_of(modal.connect_modal(ModalContext("T1", "U2", invitation_id="i")))
    verifying = modal.verifying_view()
    assert "submit" not in verifying and "Checking the key" in texts_of(verifying)


@pytest.mark.parametrize(
    "missing,expected",
    [
        ([], ""),
        ([("stats.read", "read statistics")], "lacks `stats.read`, so Quolum cannot read statistics. "),
        (
            [("a.read", "do a"), ("b.read", "do b"), ("c.read", "do c")],
            "lacks `a.read`, `b.read` and `c.read`, so Quolum cannot do a, do b or do c. To turn those on",
        ),
    ],
)
def test_missing_note(missing, expected):
    assert expected in sgc.missing_note(missing)


@pytest.mark.parametrize(
    "missing,sentence,said",
    [
        ((), "", None),  # nothing lacking: no warning
        (("stats.read",), "", "lacks `stats.read`"),  # the generic list
        (("stats.read",), "Give the key *Stats: read*.", "Give the key *Stats: read*."),
        ((), "Reports are optional: add them.", "Reports are optional: add them."),  # optional only
    ],
)
def test_connected_note_says_the_providers_own_sentence_for_what_a_credential_lacks(missing, sentence, said):
    info = Verified("1", "Acme", scopes=(), missing=missing, missing_sentence=sentence)
    note = sgc.connected_note(SENDGRID, info, "Ada", None)
    assert (":warning:" in note) == (said is not None) and (said is None or said in note)


def test_read_submission():
    state = {
        "values": {
            modal.KEY_BLOCK: {modal.KEY_ACTION: {"value": " SG.a.b "}},
            modal.REGION_BLOCK: {modal.REGION_ACTION: {"selected_option": {"value": "eu"}}},
        }
    }
    assert modal.read_submission({"state": state}) == (" SG.a.b ", "eu")
    assert modal.read_submission({}) == ("", "global")
    payload = json.loads(parse_qs(submission(modal.connect_modal(CTX), "SG.x.y", region="eu"))["payload"][0])
    assert payload["type"] == "view_submission" and payload["view"]["callback_id"] == modal.CALLBACK_ID
    assert modal.read_submission(payload["view"]) == ("SG.x.y", "eu")


# --- the button -----------------------------------------------------------------------------------
async def test_card_offers_connect_and_the_button_opens_the_modal(bot, slack):
    card = open_card(bot, slack)
    button = buttons(card)[modal.CONNECT_ACTION]
    assert button["value"] == "sendgrid" and button["text"]["text"] == cards.CONNECT
    view, response_url = await open_modal(bot, slack)
    call = slack.calls_to("views.open")[-1]
    assert call.args["trigger_id"] == "1.2.trigger"
    assert view["callback_id"] == modal.CALLBACK_ID
    assert json.loads(view["private_metadata"]) == {
        "provider": "sendgrid",
        "team": "T0001",
        "user": "U0001",
        "response_url": response_url,
        "channel": "C0001",
    }


async def test_a_member_without_rights_gets_a_sentence_not_a_modal(bot, slack, storage):
    response_url = slack.response_url()
    post(bot, action(modal.CONNECT_ACTION, user_id="U0002", value="sendgrid", response_url=response_url))
    said = await eventually(
        lambda: [r for r in slack.responses if r["hook"] == response_url.rsplit("/", 1)[1]]
    )
    assert said[0]["text"] == ADMINS_ONLY.format(what="connect accounts")
    assert said[0]["replace_original"] is False and said[0]["response_type"] == "ephemeral"
    assert slack.calls_to("views.open") == []


# --- submitting -----------------------------------------------------------------------------------
async def test_connect_with_a_good_key(bot, slack, sendgrid, storage):
    key = sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES)
    account = sendgrid.account
    view, response_url = await open_modal(bot, slack)
    started = time.monotonic()
    answer = submit(bot, view, key)
    elapsed = time.monotonic() - started
    assert answer.status_code == 200 and elapsed < 2.0
    reply = answer.json()
    assert reply["response_action"] == "update"
    assert reply["view"]["title"]["text"] == modal.CONNECTED_TITLE
    assert account.username in texts_of(reply["view"]) and ":warning:" not in texts_of(reply["view"])

    connection = await storage.connections.get("T0001", "sendgrid")
    assert connection.status == "connected" and connection.connected_by == "U0001"
    assert connection.account_id == str(account.user_id) and connection.account_name == account.username
    assert connection.credentials == {"api_key": key, "region": "global", "base_url": sendgrid.url}
    assert connection.details["account_type"] == "paid" and connection.details["region"] == "global"
    # SendGrid's own 2fa_*/sender_verification_* scopes are stored as granted, and warn of nothing
    assert set(connection.scopes) == set(ALL_SCOPES) | set(AUTO_SCOPES) and connection.unavailable == ()
    assert [r["path"] for r in sendgrid.requests][0] == "/v3/scopes"

    # the card, updated in place through its response_url, and a DM
    hook = response_url.rsplit("/", 1)[1]
    updated = (await eventually(lambda: [r for r in slack.responses if r["hook"] == hook]))[-1]
    assert updated["replace_original"] is True
    assert buttons(updated)[modal.CONNECT_ACTION]["text"]["text"] == cards.RECONNECT
    assert "disconnect:sendgrid" in buttons(updated)
    assert f"account {account.user_id}" in card_text(updated)
    dm = (await eventually(lambda: slack.calls_to("chat.postMessage")))[-1]
    assert dm.args["channel"] == "U0001" and "SendGrid is connected" in dm.args["text"]
    assert account.username in dm.args["text"]


async def test_a_malformed_key_is_answered_in_the_field(bot, slack, sendgrid, storage):
    view, _ = await open_modal(bot, slack)
    for pasted, problem in [("hello", sg.KEY_NOT_SG), ("", sg.KEY_EMPTY), ("SG.abc", sg.KEY_MALFORMED)]:
        reply = submit(bot, view, pasted).json()
        assert reply == {"response_action": "errors", "errors": {modal.KEY_BLOCK: problem}}
    assert sendgrid.requests == []  # SendGrid was not asked
    assert await storage.connections.get("T0001", "sendgrid") is None


async def test_a_key_sendgrid_rejects_is_answered_in_the_field(bot, slack, sendgrid, storage):
    view, _ = await open_modal(bot, slack)
    revoked = sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES)
    sendgrid.revoke_key(revoked)
    for key in (revoked, mint_key()):
        reply = submit(bot, view, key).json()
        assert reply == {"response_action": "errors", "errors": {modal.KEY_BLOCK: KEY_REJECTED}}
    assert await storage.connections.get("T0001", "sendgrid") is None


async def test_missing_scopes_are_listed_and_those_features_unavailable(bot, slack, sendgrid, storage):
    key = sendgrid.add_key(SENDGRID_ACCOUNT, ["stats.read", "user.username.read"])
    view, response_url = await open_modal(bot, slack)
    reply = submit(bot, view, key).json()
    shown = texts_of(reply["view"])
    assert reply["response_action"] == "update" and reply["view"]["title"]["text"] == modal.CONNECTED_TITLE
    for scope in ("user.account.read", "user.credits.read", "teammates.read"):
        assert f"`{scope}`" in shown and SENDGRID.purpose_of(scope) in shown
    assert "`stats.read`" not in shown

    connection = await storage.connections.get("T0001", "sendgrid")
    assert connection.status == "connected"
    assert connection.unavailable == ("teammates.read", "user.account.read", "user.credits.read")
    assert "account_type" in connection.details and connection.details["account_type"] is None
    hook = response_url.rsplit("/", 1)[1]
    card = (await eventually(lambda: [r for r in slack.responses if r["hook"] == hook]))[-1]
    assert "`teammates.read`" in card_text(card) and SENDGRID.purpose_of("teammates.read") in card_text(card)


async def test_a_key_without_the_username_scope_still_connects(bot, slack, sendgrid, storage):
    key = sendgrid.add_key(SENDGRID_ACCOUNT, READ_SCOPES)
    reply = await connect(bot, slack, key)
    assert reply["view"]["title"]["text"] == modal.CONNECTED_TITLE
    connection = await storage.connections.get("T0001", "sendgrid")
    assert connection.unavailable == () and connection.account_name == sgc.UNNAMED_ACCOUNT.format(
        provider="SendGrid"
    )
    assert connection.details["account_type"] == "paid"


@pytest.mark.parametrize("trouble", ["5xx", "timeouts"])
async def test_sendgrid_down_says_so_and_saves_nothing(bot, slack, sendgrid, storage, trouble):
    key = sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES)
    view, _ = await open_modal(bot, slack)
    if trouble == "5xx":
        sendgrid.faults.fail_next("/v3/scopes", status=503, count=2)
    else:
        services_of(bot).providers("sendgrid").timeout = 0.3
        sendgrid.faults.hang_next("/v3/scopes", seconds=1.5, count=2)
    reply = submit(bot, view, key).json()
    assert reply["response_action"] == "update"
    assert UNAVAILABLE in texts_of(reply["view"])
    assert reply["view"]["callback_id"] == modal.CALLBACK_ID  # the form again, to try later
    assert await storage.connections.get("T0001", "sendgrid") is None


async def test_slow_sendgrid_gets_a_verifying_view_then_the_result(bot, slack, sendgrid, storage):
    key = sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES)
    view, _ = await open_modal(bot, slack)
    sendgrid.faults.hang_next("/v3/scopes", seconds=2.6)
    started = time.monotonic()
    reply = submit(bot, view, key, view_id="V0SLOW").json()
    elapsed = time.monotonic() - started
    assert 1.5 < elapsed < 3.0  # within Slack's 3 seconds
    assert reply["response_action"] == "update" and "Checking the key" in texts_of(reply["view"])
    update = (await eventually(lambda: slack.calls_to("views.update")))[-1]
    assert update.args["view_id"] == "V0SLOW"
    assert update.args["view"]["title"]["text"] == modal.CONNECTED_TITLE
    assert (await storage.connections.get("T0001", "sendgrid")).status == "connected"
    await eventually(lambda: slack.calls_to("chat.postMessage"))


async def test_slow_then_down_updates_the_modal_or_says_it_in_a_dm(bot, slack, sendgrid, storage):
    key = sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES)
    view, _ = await open_modal(bot, slack)
    services_of(bot).providers("sendgrid").timeout = 1.3
    sendgrid.faults.hang_next("/v3/scopes", seconds=3, count=2)
    reply = submit(bot, view, key).json()
    assert "Checking the key" in texts_of(reply["view"])
    update = (await eventually(lambda: slack.calls_to("views.update")))[-1]
    assert (
        UNAVAILABLE in texts_of(update.args["view"])
        and update.args["view"]["callback_id"] == modal.CALLBACK_ID
    )
    # the person closed the modal meanwhile: Slack refuses the update, so the result comes as a DM
    slack.fail_next("views.update", "not_found")
    sendgrid.faults.hang_next("/v3/scopes", seconds=3, count=2)
    submit(bot, view, key)
    dm = (await eventually(lambda: slack.calls_to("chat.postMessage")))[-1]
    assert dm.args["channel"] == "U0001" and UNAVAILABLE in dm.args["text"]
    assert await storage.connections.get("T0001", "sendgrid") is None


async def test_reconnect_replaces_the_key_on_the_same_row(bot, slack, sendgrid, storage):
    first_key = sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES)
    await connect(bot, slack, first_key)
    first = await storage.connections.get("T0001", "sendgrid")
    assert buttons(open_card(bot, slack))[modal.CONNECT_ACTION]["text"]["text"] == cards.RECONNECT
    second_key = sendgrid.add_key(SENDGRID_ACCOUNT, READ_SCOPES + ["user.username.read"])
    reply = await connect(bot, slack, second_key)
    assert reply["view"]["title"]["text"] == modal.CONNECTED_TITLE
    second = await storage.connections.get("T0001", "sendgrid")
    assert second.id == first.id and second.credentials["api_key"] == second_key
    assert [kind for kind, _, _ in await storage.connections.history(first.id)] == [
        "connected",
        "reconnected",
    ]


async def test_disconnect_deletes_the_key_and_says_where_to_delete_it(bot, slack, sendgrid, storage):
    await connect(bot, slack, sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES))
    response_url = slack.response_url()
    post(bot, action("disconnect:sendgrid", value="sendgrid", response_url=response_url))
    hook = response_url.rsplit("/", 1)[1]
    updated = (await eventually(lambda: [r for r in slack.responses if r["hook"] == hook]))[-1]
    note = texts.API_KEY_NOT_REVOKED.format(provider="SendGrid", url=SENDGRID.console_url)
    assert note in card_text(updated)
    assert buttons(updated)[modal.CONNECT_ACTION]["text"]["text"] == cards.CONNECT
    connection = await storage.connections.get("T0001", "sendgrid")
    assert connection.status == "disconnected" and connection.credentials == {}
    assert connection.disconnected_by == "U0001"


async def test_a_submission_for_someone_else_or_without_rights_is_refused(bot, slack, sendgrid, storage):
    key = sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES)
    view, _ = await open_modal(bot, slack)  # opened by U0001
    reply = submit(bot, view, key, user_id="U0002").json()
    assert reply["response_action"] == "update" and modal.NOT_YOURS in texts_of(reply["view"])
    members = modal.connect_modal(ModalContext("T0001", "U0002"))  # as if opened for a member
    reply = submit(bot, members, key, user_id="U0002").json()
    assert ADMINS_ONLY.format(what="connect accounts") in texts_of(reply["view"])
    assert sendgrid.requests == [] and await storage.connections.get("T0001", "sendgrid") is None


async def test_an_invitee_connects_through_the_same_modal(bot, slack, sendgrid, storage):
    from slack_sdk.web.async_client import AsyncWebClient

    from handlers.credentials import open_modal

    def opener(client, trigger_id, **where):
        return open_modal(client, trigger_id, SENDGRID, **where)

    client = AsyncWebClient(token=slack.workspaces["T0001"].bot_token, base_url=f"{slack.url}/api/")
    reserved = await storage.invitations.reserve(
        "inv-1",
        team_id="T0001",
        provider="sendgrid",
        inviter_id="U0001",
        invitee_id="U0002",
        since=utcnow() - timedelta(days=1),
        limit=10,
    )
    assert reserved.outcome == "reserved"
    await storage.invitations.delivered("inv-1", dm_channel="D0002", dm_ts="1.2")
    opened = await opener(
        client, "9.9.invite", team_id="T0001", user_id="U0002", response_url=None, invitation_id="inv-1"
    )
    assert opened is True
    view = slack.calls_to("views.open")[-1].args["view"]
    assert json.loads(view["private_metadata"])["invitation"] == "inv-1"
    reply = submit(bot, view, sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES), user_id="U0002").json()
    assert reply["view"]["title"]["text"] == modal.CONNECTED_TITLE  # a member, allowed by the invitation
    assert (await storage.connections.get("T0001", "sendgrid")).connected_by == "U0002"
    assert (await storage.invitations.get("inv-1")).status == "accepted"  # spent: it worked once
    slack.fail_next("views.open", "expired_trigger_id")
    assert await opener(client, "old", team_id="T0001", user_id="U0002", response_url=None) is False


async def test_the_key_is_nowhere_in_plaintext(bot, slack, sendgrid, storage, caplog):
    caplog.set_level(logging.DEBUG)
    keys = [sendgrid.add_key(SENDGRID_ACCOUNT, scopes) for scopes in (ALL_SCOPES, ["stats.read"], ALL_SCOPES)]
    rejected = sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES)
    sendgrid.revoke_key(rejected)
    replies = []
    view, _ = await open_modal(bot, slack)
    replies.append(submit(bot, view, keys[0]).text)  # connect
    replies.append(submit(bot, view, rejected).text)  # rejected: an error in the field
    replies.append(submit(bot, view, f" {keys[1]} ").text)  # reconnect, missing scopes
    sendgrid.faults.hang_next("/v3/scopes", seconds=2.5)
    replies.append(submit(bot, view, keys[2]).text)  # slow: views.update
    await eventually(lambda: slack.calls_to("views.update"))
    connection = await storage.connections.get("T0001", "sendgrid")
    assert connection.credentials["api_key"] == keys[2]
    # a daily check that finds the key revoked
    sendgrid.revoke_key(keys[2])
    async with httpx.AsyncClient() as http:
        replica = build_services(bot.settings, storage, utcnow, http)
        assert (await replica.health.check(connection)).kind == "revoked"
    post(bot, action("disconnect:sendgrid", value="sendgrid", response_url=slack.response_url()))
    await eventually(lambda: [r for r in slack.responses if "was disconnected" in json.dumps(r)])

    logs = "\n".join(r.getMessage() + JsonFormatter().format(r) for r in caplog.records)
    assert "sendgrid" in logs  # the scan looked at real log lines
    for key in [*keys, rejected]:
        await assert_nowhere_in_database(storage, key)
        assert key not in logs
        assert not [c.method for c in slack.calls if key in json.dumps(c.args)]
        assert not [r for r in slack.responses if key in json.dumps(r)]
        assert not [r for r in replies if key in r]
        for part in key.split(".")[1:]:  # nor a piece of it
            assert part not in logs and not [c for c in slack.calls if part in json.dumps(c.args)]


# --- health ---------------------------------------------------------------------------------------
async def save_key(storage, sendgrid, key: str, *, unavailable=()) -> object:
    saved = await storage.connections.save_connected(
        team_id="T0001",
        provider="sendgrid",
        account_id="42",
        account_name="acme_mail",
        credentials={"api_key": key, "region": "global", "base_url": sendgrid.url},
        connected_by="U0001",
        scopes=ALL_SCOPES,
        details={},
        unavailable=list(unavailable),
    )
    return saved.record


@pytest.fixture
async def replica(sg_settings, storage, slack):
    """The services of a bot process, in the test's own event loop (as the scheduler would run them)."""
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    async with httpx.AsyncClient() as http:
        yield build_services(sg_settings, storage, utcnow, http)


async def test_a_key_that_answers_401_needs_reconnect(replica, storage, sendgrid, slack):
    key = sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES)
    connection = await save_key(storage, sendgrid, key)
    assert await replica.health.check(connection) is None
    assert (await storage.connections.by_id(connection.id)).status == "connected"
    sendgrid.revoke_key(key)
    failure = await replica.health.check(connection)
    after = await storage.connections.by_id(connection.id)
    assert failure.kind == "revoked" and after.status == "needs_reconnect"
    assert after.status_reason == sg.REVOKED_REASON
    assert slack.calls_to("chat.postMessage") == []  # people hear of it from the alert (test_alerts.py)
    # the card says so, with its plain reason
    from messages.cards import NEEDS_RECONNECT_TEXT, Row, state_line

    assert state_line(Row(SENDGRID, True, after)) == NEEDS_RECONNECT_TEXT.format(reason=sg.REVOKED_REASON)
    # checked again: nothing sent, still needs reconnect
    sent = len(sendgrid.requests)
    assert (await replica.health.check(after)).reason == sg.REVOKED_REASON and len(sendgrid.requests) == sent


async def test_a_403_marks_one_feature_unavailable_and_keeps_the_connection(replica, storage, sendgrid):
    connection = await save_key(storage, sendgrid, sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES))
    sendgrid.faults.fail_next("/v3/teammates", status=403, body={"errors": [{"message": "access forbidden"}]})
    failure = await replica.health.check(connection)
    after = await storage.connections.by_id(connection.id)
    assert failure.kind == "scope_lost" and failure.feature == "teammates.read"
    assert after.status == "connected" and after.unavailable == ("teammates.read",)


async def test_a_permission_granted_again_on_the_same_key_makes_the_feature_available(
    replica, storage, sendgrid
):
    key = sendgrid.add_key(SENDGRID_ACCOUNT, [s for s in ALL_SCOPES if s != "teammates.read"])
    connection = await save_key(storage, sendgrid, key)
    assert (await replica.health.check(connection)).feature == "teammates.read"
    lacking = await storage.connections.by_id(connection.id)
    assert lacking.unavailable == ("teammates.read",)
    sendgrid.set_key_scopes(key, ALL_SCOPES)  # the admin edits the key in SendGrid: no reconnect
    assert await replica.health.check(lacking) is None
    after = await storage.connections.by_id(connection.id)
    assert after.unavailable == ()
    assert "teammates.read" in after.scopes  # collection reads teammates again
    assert after.status == "connected" and after.credentials == connection.credentials


def quick_hooks(replica) -> None:
    """The policy's retries, without waiting out its backoff."""
    quick = ProviderHTTP(replica.http, SENDGRID_POLICY, sleep=_no_sleep)
    replica.providers.override("sendgrid", sg.SendGridClient(quick, replica.settings))


async def test_a_probe_that_cannot_tell_keeps_the_feature_unavailable(replica, storage, sendgrid):
    connection = await save_key(storage, sendgrid, sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES))
    sendgrid.faults.fail_next("/v3/teammates", status=403, body={"errors": [{"message": "access forbidden"}]})
    await replica.health.check(connection)
    lost = await storage.connections.by_id(connection.id)
    quick_hooks(replica)
    sendgrid.faults.fail_next("/v3/teammates", status=503, count=10)
    await replica.health.check(lost)
    assert (await storage.connections.by_id(connection.id)).unavailable == ("teammates.read",)


async def test_sendgrid_down_changes_nothing(replica, storage, sendgrid):
    connection = await save_key(storage, sendgrid, sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES))
    sendgrid.faults.fail_next("/v3/scopes", status=503, count=10)
    quick_hooks(replica)
    assert (await replica.health.check(connection)).kind == "transient"
    assert await storage.connections.by_id(connection.id) == connection


async def _no_sleep(_seconds: float) -> None:
    return None


async def test_connection_health_job_checks_every_active_sendgrid_connection(
    replica, storage, sendgrid, slack
):
    good = await save_key(storage, sendgrid, sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES))
    slack.add_workspace("T0002", "Beta")
    await install(storage, slack, "T0002")
    revoked_key = sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES)
    revoked = (
        await storage.connections.save_connected(
            team_id="T0002",
            provider="sendgrid",
            account_id="43",
            account_name="beta_mail",
            credentials={"api_key": revoked_key, "region": "global"},
            connected_by="U0001",
            scopes=ALL_SCOPES,
            details={},
        )
    ).record
    sendgrid.revoke_key(revoked_key)
    gone = await save_key_for(storage, "T0003", sendgrid.add_key(SENDGRID_ACCOUNT, ALL_SCOPES))
    await storage.connections.disconnect(gone.id, "U0001")

    scheduler = Scheduler(storage.claims)
    scheduler.add("connection_health", timedelta(minutes=5), replica.health.run)
    assert await scheduler.run_once("connection_health", "2026-11-23T00:00:00Z") is True
    assert await scheduler.run_once("connection_health", "2026-11-23T00:00:00Z") is False  # once per slot
    assert (await storage.connections.by_id(good.id)).status == "connected"
    assert (await storage.connections.by_id(revoked.id)).status == "needs_reconnect"
    # checked an hour later: the revoked key is still failing (its incident stays open), the good one ok
    later = datetime.now(UTC) + timedelta(hours=1)
    assert await replica.health.run(later) == {"ok": 1, "revoked": 1}


async def save_key_for(storage, team_id: str, key: str):
    saved = await storage.connections.save_connected(
        team_id=team_id,
        provider="sendgrid",
        account_id="44",
        account_name="gamma",
        credentials={"api_key": key, "region": "global"},
        connected_by="U0001",
        scopes=ALL_SCOPES,
        details={},
    )
    return saved.record


async def test_the_server_schedules_connection_health_every_five_minutes(bot):
    job = bot.app.state.scheduler.jobs["connection_health"]
    assert job.every == timedelta(minutes=5)


@pytest.mark.parametrize(
    "template,provider,title",
    [
        ("Connect {provider}", "Zoom", "Connect Zoom"),
        ("Connect {provider}", "Google Workspace", "Connect Google Workspace"),  # 24: fits
        ("{provider} connected", "Google Workspace", "Connected"),  # 26: Slack would refuse it
        ("{provider} connected", "SendGrid", "SendGrid connected"),
    ],
)
def test_a_modal_title_names_the_provider_where_it_fits(template, provider, title):
    assert forms.title_of(template, provider) == title


@pytest.mark.parametrize("key", [k for k, spec in INSTALLED.items() if spec.form is not None])
def test_every_credential_providers_modals_are_views_slack_accepts(key):
    """slack_sdk validates each view as it builds it (title at most 24 characters, …)."""
    spec, ctx = INSTALLED[key], ModalContext("T1", "U1")
    forms.connect_modal(spec, ctx)
    forms.verifying_view(spec)
    connected = ConnectResult("connected", "Connected as Ada.")
    assert forms.result_view(spec, ctx, connected)["title"]["text"]
    assert forms.result_view(spec, ctx, ConnectResult("refused", "No."))["title"]["text"]
