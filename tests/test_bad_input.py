"""Signed requests Bolt used to get wrong: bodies with the word "payload" in them, and malformed shapes.

Each gets a 200 or a 4xx through the real server, never a 500, and the table-driven tests pin the
parser and the shape check (handlers/slack_request.py) themselves.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode

import httpx
import pytest

from handlers import slack_request as sreq
from messages import blocks
from sandbox import sendgrid_modal as modal
from sandbox import slack_requests as sr
from services.credential_connect import ModalContext
from tests.conftest import install
from tests.services.test_credential_connect import submission
from tests.test_web import post


@pytest.fixture
async def bot(serve, settings, storage, slack):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    return serve(settings)


def signed_post(bot, body: str, content_type: str = "application/x-www-form-urlencoded") -> httpx.Response:
    return post(bot, body, sr.signed_headers(body, content_type=content_type))


# --- the word "payload" ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fields",
    [
        {"text": "help payload"},
        {"text": "help", "channel_name": "payload-alerts"},
        {"text": "help", "team_domain": "payloadco"},
        {"text": "help", "user_name": "payload.pete"},
    ],
)
async def test_commands_containing_payload_are_answered(bot, fields):
    body = urlencode({**sr.command_fields("help"), **fields})
    response = signed_post(bot, body)
    assert response.status_code == 200, response.text
    assert response.json()["text"] == blocks.HELP_TITLE


async def test_an_unknown_command_about_payload_gets_help_naming_it(bot):
    response = signed_post(bot, sr.command("payload please"))
    assert response.status_code == 200
    assert response.json()["text"] == blocks.NOT_UNDERSTOOD.format(text="payload please")


# --- malformed shapes ----------------------------------------------------------------------------
def _payload(form: str) -> dict:
    return json.loads(parse_qs(form)["payload"][0])


def interaction(**fields) -> str:
    """A signed-able block_actions body with `fields` replaced."""
    payload = {**_payload(sr.action("invite_connect", value="x")), **fields}
    return urlencode({"payload": json.dumps(payload)})


def envelope(**fields) -> str:
    """An Events API envelope (app_home_opened) with `fields` replaced."""
    body = json.loads(sr.event({"type": "app_home_opened", "user": "U0001", "tab": "home"}))
    return json.dumps({**body, **fields})


def view_submission(**view_fields) -> str:
    """The SendGrid modal's submission with `view` fields replaced (`...`: removed)."""
    body = _payload(submission(modal.connect_modal(ModalContext("T0001", "U0001")), "SG.a.b"))
    body["view"].update(view_fields)
    body["view"] = {k: v for k, v in body["view"].items() if v is not ...}
    return urlencode({"payload": json.dumps(body)})


MALFORMED = [
    ("actions: []", interaction(actions=[])),
    ("actions: {}", interaction(actions={})),
    ("actions: [{}]", interaction(actions=[{}])),
    ("actions: ['x']", interaction(actions=["x"])),
    ("team: 'T0001'", interaction(team="T0001")),
    ("team: null", interaction(team=None)),
    ("user: {}", interaction(user={"id": 7})),
    (
        "no user",
        urlencode({"payload": json.dumps({"type": "block_actions", "actions": [{"action_id": "x"}]})}),
    ),
    ("event_id: 7", envelope(event_id=7)),
    ("event_id: []", envelope(event_id=[])),
    ("event_id: 65 chars", envelope(event_id="E" * 65)),
    ("event: 'x'", envelope(event="x")),
    ("event: {}", envelope(event={})),
    ("event.item: 'x'", envelope(event={"type": "reaction_added", "item": "x"})),
    ("authorizations: ['x']", envelope(authorizations=["x"])),
    ("view without state", view_submission(state=...)),
    ("view.state.values: []", view_submission(state={"values": []})),
    ("view.state.values of strings", view_submission(state={"values": {"sendgrid_key": "x"}})),
    ("view.private_metadata: {}", view_submission(private_metadata={})),
    ("view without callback_id", view_submission(callback_id=...)),
]


@pytest.mark.parametrize("name,body", MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_signed_but_malformed_requests_get_a_4xx_or_200_never_a_500(bot, storage, name, body):
    content_type = "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
    response = signed_post(bot, body, content_type)
    assert 200 <= response.status_code < 500, (name, response.status_code, response.text)
    assert "Traceback" not in response.text
    if "65 chars" in name:
        assert response.status_code == 400  # never reaches the String(64) column


async def test_a_65_character_event_id_is_refused_without_touching_the_database(bot, storage):
    from sqlalchemy import func, select

    from storage.models import SlackEvent

    response = signed_post(bot, envelope(event_id="E" * 65), "application/json")
    assert response.status_code == 400
    async with storage.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(SlackEvent)) == 0


# --- the parser and the shape check, table-driven -------------------------------------------------
@pytest.mark.parametrize(
    "raw,content_type,expected",
    [
        (
            "text=help+payload&team_id=T1",
            "application/x-www-form-urlencoded",
            {"text": "help payload", "team_id": "T1"},
        ),
        (
            "channel_name=payload-alerts",
            "application/x-www-form-urlencoded",
            {"channel_name": "payload-alerts"},
        ),
        ("payload=%7B%22type%22%3A%22x%22%7D", "application/x-www-form-urlencoded", {"type": "x"}),
        ('{"type": "event_callback"}', "application/json", {"type": "event_callback"}),
        ('{"type": "x"}', None, {"type": "x"}),
        ("payload=%7Bnot-json", "application/x-www-form-urlencoded", None),
        ("payload=%5B1%2C2%5D", "application/x-www-form-urlencoded", None),
        ("[1, 2]", "application/json", None),
        ("{not json", "application/json", None),
        ("", "application/x-www-form-urlencoded", None),
        ("{}", "application/json", None),
    ],
)
def test_parse(raw, content_type, expected):
    assert sreq.parse(raw, content_type) == expected


ACTOR = {"team": {"id": "T1"}, "user": {"id": "U1"}}


@pytest.mark.parametrize(
    "body,expected",
    [
        ({"command": "/quolum", "team_id": "T1", "user_id": "U1", "text": "payload"}, None),
        ({"command": "/quolum", "team_id": "T1"}, "a command without team_id or user_id"),
        ({"command": "/quolum", "team_id": "T1", "user_id": "U1", "text": 5}, "text is a int"),
        (
            {
                "type": "block_actions",
                "team": {"id": "T1"},
                "user": {"id": "U1"},
                "trigger_id": "1.2",
                "response_url": "https://hooks.slack.com/actions/1",
                "actions": [{"action_id": "a"}],
            },
            None,
        ),
        ({**ACTOR, "type": "block_actions", "actions": []}, "block_actions without actions"),
        ({**ACTOR, "type": "block_actions", "actions": {}}, "actions is a dict"),
        ({**ACTOR, "type": "block_actions", "actions": [{"value": "v"}]}, "an action without an action_id"),
        (
            {**ACTOR, "type": "block_actions", "actions": [{"action_id": "a", "value": 1}]},
            "an action whose value is not a string",
        ),
        (
            {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": "a"}]},
            "block_actions without team.id",
        ),
        ({"type": "block_actions", "team": "T1", "actions": [{"action_id": "a"}]}, "team is a str"),
        (
            {"type": "block_actions", "team": {"id": 1}, "actions": [{"action_id": "a"}]},
            "team.id is not a string",
        ),
        ({**ACTOR, "type": "view_submission", "view": {"callback_id": "c", "state": {"values": {}}}}, None),
        (
            {**ACTOR, "type": "view_submission", "view": {"callback_id": "c"}},
            "view_submission without view.state.values",
        ),
        ({**ACTOR, "type": "view_closed", "view": {}}, "view_closed without view.callback_id"),
        (
            {"type": "view_closed", "team": {"id": "T1"}, "view": {"callback_id": "c"}},
            "view_closed without user.id",
        ),
        ({"type": "event_callback", "event_id": "Ev1", "event": {"type": "team_join"}}, None),
        ({"type": "event_callback", "event_id": "E" * 64, "event": {"type": "x"}}, None),
        (
            {"type": "event_callback", "event_id": "E" * 65, "event": {"type": "x"}},
            "event_id is not a string of 1 to 64 characters",
        ),
        ({"type": "event_callback", "event_id": 5, "event": {"type": "x"}}, "event_id is a int"),
        ({"type": "event_callback", "event_id": "Ev1", "event": {}}, "event.type is missing"),
        (
            {"type": "event_callback", "event_id": "Ev1", "event": {"type": "x", "item": []}},
            "event.item is a list",
        ),
        ({"type": "url_verification", "challenge": "abc"}, None),
        ({"authorizations": [1]}, "authorizations holds something other than objects"),
    ],
)
def test_problem(body, expected):
    assert sreq.problem(body) == expected


# --- a listener failing before ack() ---------------------------------------------------------------
async def test_a_modal_whose_listener_fails_before_ack_stays_open_with_a_sentence(bot, monkeypatch):
    from services.connections import ConnectionsService

    async def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(ConnectionsService, "can_connect", broken)
    well_formed_key = "SG." + "a" * 22 + "." + "b" * 43  # passes the shape check, reaches the listener's work
    body = submission(modal.connect_modal(ModalContext("T0001", "U0001")), well_formed_key)
    response = signed_post(bot, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["response_action"] == "errors"  # the modal stays open with the key still typed in
    assert list(answer["errors"].values()) == [sreq.FAILED_TEXT]
    first_input = next(b for b in _payload(body)["view"]["blocks"] if b["type"] == "input")
    assert list(answer["errors"]) == [first_input["block_id"]]
    assert "Traceback" not in response.text and "database" not in response.text


@pytest.mark.parametrize(
    "body,expected",
    [
        (
            {"command": "/quolum", "text": "connect"},
            (200, {"response_type": "ephemeral", "text": sreq.FAILED_TEXT}),
        ),
        (
            {
                "type": "view_submission",
                "view": {"blocks": [{"type": "section"}, {"type": "input", "block_id": "k"}]},
            },
            (200, {"response_action": "errors", "errors": {"k": sreq.FAILED_TEXT}}),
        ),
        ({"type": "view_submission", "view": {"blocks": [{"type": "section"}]}}, (200, None)),
        ({"type": "view_submission", "view": {"blocks": [{"type": "input", "block_id": 7}]}}, (200, None)),
        ({"type": "block_actions", "actions": [{"action_id": "x"}]}, (200, None)),
        ({"type": "event_callback", "event": {"type": "app_home_opened"}}, (200, None)),
    ],
)
def test_failed_answer(body, expected):
    assert sreq.failed_answer(body) == expected
