"""Signed payloads of a shape Slack never sends, through the real ASGI app, listeners awaited.

Each is answered without a 5xx and leaves exactly one log line about it: no traceback (no record with
`exc_info`), whatever listener it would have reached. The shapes are checked at the edge
(handlers/slack_request.py), before Bolt sees the request, so a listener never runs on one.
"""

from __future__ import annotations

import asyncio
import json
import logging
from urllib.parse import parse_qs, urlencode

import httpx
import pytest

from bot.web import _is_listener_task, create_app
from handlers import slack_request as sreq
from messages import alerts as am
from messages import invite_blocks as ib
from sandbox import slack_requests as sr
from tests.conftest import install


def _payload(form: str) -> dict:
    return json.loads(parse_qs(form)["payload"][0])


def action(action_id: str, value: str = "1", **fields) -> str:
    """A block_actions body as a message button sends it, `fields` replaced (None: removed)."""
    payload = {**_payload(sr.action(action_id, value=value, response_url="https://hooks.slack.com/x"))}
    payload.update(fields)
    payload = {k: v for k, v in payload.items() if v is not None}
    return urlencode({"payload": json.dumps(payload)})


def event(**fields) -> str:
    """An app_home_opened envelope, event fields replaced (None: removed)."""
    inner = {"type": "app_home_opened", "user": "U0001", "tab": "home", **fields}
    return sr.event({k: v for k, v in inner.items() if v is not None})


INVITES = (ib.INVITE_CONNECT, ib.INVITE_DECLINE, ib.INVITE_REMIND)
INVITATION = "0123456789abcdef01234567"  # an invitation id's shape (none exists)
NOT_IDS = [
    "99999999999999999999",
    str(2**63),
    str(2**64 + 5),
    "-1",
    "1.5",
    "1e9",
    " 7",
    "²",
    "١٢",
    "",
    "0x10",
]
NOT_INVITATIONS = ["x" * 3000, INVITATION + "0" * 9, "../x", "<!channel>", "", "ÄÖ"]
WRONG_SHAPES = [
    *[(f"alert_reconnect value {v!r:.30}", action(am.ALERT_RECONNECT_ACTION, value=v)) for v in NOT_IDS],
    *[(f"{a} value {v!r:.30}", action(a, value=v)) for a in INVITES for v in NOT_INVITATIONS],
    ("alert_reconnect without response_url", action(am.ALERT_RECONNECT_ACTION, response_url=None)),
    *[(f"{a} without response_url", action(a, value=INVITATION, response_url=None)) for a in INVITES],
    *[(f"{a} with response_url ''", action(a, value=INVITATION, response_url="")) for a in INVITES],
    *[(f"{a} without trigger_id", action(a, value=INVITATION, trigger_id=None)) for a in INVITES],
    ("disconnect from a message without response_url", action("disconnect:hubspot", response_url=None)),
    ("a button value of 2,001 characters", action("disconnect:hubspot", value="h" * 2001)),
    ("app_home_opened without user", event(user=None)),
    ("app_home_opened with user {}", event(user={})),
    ("app_home_opened with user {'id': ...}", event(user={"id": "U0001"})),
    ("app_home_opened without tab", event(tab=None)),
]


@pytest.fixture
async def app(settings, storage, slack):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    app = create_app(settings)
    yield app
    await app.state.services.storage.db.dispose()


async def send(app, body: str) -> httpx.Response:
    content_type = "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        response = await client.post(
            "/slack/events", content=body, headers=sr.signed_headers(body, content_type=content_type)
        )
    # what Bolt runs after ack(): wait for it, its failures are what this test looks for
    listeners = [t for t in asyncio.all_tasks() if not t.done() and _is_listener_task(t)]
    if listeners:
        await asyncio.wait(listeners, timeout=10)
    return response


@pytest.mark.parametrize("name,body", WRONG_SHAPES, ids=[s[0] for s in WRONG_SHAPES])
async def test_a_wrong_shape_is_one_log_line_never_a_traceback(app, caplog, name, body):
    caplog.set_level(logging.INFO)
    response = await send(app, body)
    assert response.status_code < 500, response.text
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert not tracebacks, [(r.name, r.getMessage(), r.exc_info[1]) for r in tracebacks]
    said = [r for r in caplog.records if r.name == "quolum.web"]
    assert len(said) == 1, [r.getMessage() for r in said]


async def test_the_right_shapes_still_reach_their_listeners(app, slack, caplog):
    """The same requests with their usual shape: answered and acted on, the App Home published."""
    caplog.set_level(logging.INFO)
    for body in (action(am.ALERT_RECONNECT_ACTION, value="12345"), event()):
        response = await send(app, body)
        assert response.status_code == 200
    assert not [r for r in caplog.records if r.name == "quolum.web"]
    assert not [r for r in caplog.records if r.exc_info]
    assert "U0001" in slack.home_views


CLICK = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U1"}, "trigger_id": "1.2"}
HOOK = {"response_url": "https://hooks.slack.com/actions/1"}


@pytest.mark.parametrize(
    "body,expected",
    [
        ({**CLICK, **HOOK, "actions": [{"action_id": "alert_reconnect", "value": "12"}]}, None),
        (
            {**CLICK, **HOOK, "actions": [{"action_id": "alert_reconnect", "value": "1" * 19}]},
            "alert_reconnect with a value we never send",
        ),
        (
            {**CLICK, "actions": [{"action_id": "invite_decline", "value": "ab12"}]},
            "a click in a message without a response_url",
        ),
        (  # App Home: Slack sends no response_url there
            {
                **CLICK,
                "container": {"type": "view"},
                "actions": [{"action_id": "disconnect:x", "value": "x"}],
            },
            None,
        ),
        ({**CLICK, "view": {"id": "V1"}, "actions": [{"action_id": "region"}]}, None),
        (
            {
                **HOOK,
                **{k: v for k, v in CLICK.items() if k != "trigger_id"},
                "actions": [{"action_id": "a"}],
            },
            "block_actions without a trigger_id",
        ),
        (
            {
                "type": "event_callback",
                "event_id": "Ev1",
                "event": {"type": "app_home_opened", "tab": "home"},
            },
            "event.user is missing",
        ),
        (
            {
                "type": "event_callback",
                "event_id": "Ev1",
                "event": {"type": "app_home_opened", "user": {"id": "U1"}, "tab": "home"},
            },
            "event.user is a dict",
        ),
        ({"type": "event_callback", "event_id": "Ev1", "event": {"type": "message", "user": {}}}, None),
    ],
)
def test_problem_knows_what_listeners_read(body, expected):
    assert sreq.problem(body) == expected


async def test_a_non_admin_clicking_disconnect_in_app_home_gets_no_traceback(app, slack, caplog):
    """A click in App Home comes without a response_url (a right shape): the refusal cannot use it."""
    caplog.set_level(logging.INFO)
    slack.add_user("U0002")  # a member, not an admin (the tab was published before a demotion)
    body = action("disconnect:hubspot", value="hubspot", user={"id": "U0002", "team_id": "T0001"})
    payload = {**_payload(body), "container": {"type": "view", "view_id": "V1"}}
    del payload["response_url"]
    response = await send(app, urlencode({"payload": json.dumps(payload)}))
    assert response.status_code == 200, response.text
    assert not [r for r in caplog.records if r.exc_info]
    assert "U0002" in slack.home_views  # the tab is published again, with what U0002 may do now
