"""End to end through the real HTTP server: signing, /quolum help, health, malformed input."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from handlers.listeners import INTERNAL_ERROR
from messages import blocks
from sandbox import slack_requests as sr
from tests.conftest import install


def post(server, body: str, headers: dict) -> httpx.Response:
    return httpx.post(f"{server.url}/slack/events", content=body, headers=headers, timeout=10)


def reply_text(response: httpx.Response) -> str:
    """Bolt answers ack(text=...) as text/plain and ack(blocks=...) as JSON; Slack accepts both."""
    if response.headers["content-type"].startswith("application/json"):
        return response.json()["text"]
    return response.text


async def test_help_is_the_ack_of_an_installed_workspace(serve, settings, storage, slack):
    await install(storage, slack)
    server = serve(settings)
    body = sr.command("help")
    response = post(server, body, sr.signed_headers(body))
    assert response.status_code == 200
    reply = response.json()
    assert reply["text"] == blocks.HELP_TITLE
    assert "`/quolum help`" in json.dumps(reply["blocks"])
    # authorisation comes from the stored installation: no auth.test, not even for the first requests
    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda _: post(server, body, sr.signed_headers(body)), range(32)))
    assert {r.status_code for r in replies} == {200}
    assert slack.calls_to("auth.test") == []


@pytest.mark.parametrize("text", ["", "   ", "frobnicate the widgets"])
async def test_empty_or_unknown_input_gets_help(serve, settings, storage, slack, text):
    await install(storage, slack)
    server = serve(settings)
    body = sr.command(text)
    reply = post(server, body, sr.signed_headers(body)).json()
    assert "`/quolum help`" in json.dumps(reply["blocks"])
    if text.strip():
        assert reply["text"] == blocks.NOT_UNDERSTOOD.format(text=text.strip())
    else:
        assert reply["text"] == blocks.HELP_TITLE


# Every name `/quolum` answers to; a command added to the table must be added here (and so tried below).
COMMAND_NAMES = (
    *("help", "?", "connect", "status", "list", "disconnect", "admins", "invite", "alerts", "price"),
    *("digest", "digest subscribe", "digest unsubscribe", "digest list", "digest preview", "digest send"),
    "digest tz",
    *("seats", "savings", "contract"),
)


def test_the_list_names_every_command():
    from handlers import listeners  # noqa: F401  (registers every command)
    from handlers.commands import COMMANDS

    assert sorted(COMMANDS) == sorted(COMMAND_NAMES)


async def test_every_command_reaches_its_own_handler_through_the_server(
    serve, settings, storage, slack, monkeypatch
):
    """Each name, sent as Slack sends it, runs that command's handler (recorded) and gets its answer: not
    help's "not understood" nor the internal error, in the ack or (a command that asks Slack or a
    provider) at response_url."""
    from dataclasses import replace

    from handlers.commands import COMMANDS
    from tests.services.test_connections import answer_of

    ran: list[str] = []

    def recording(cmd):
        async def handler(request):
            ran.append(cmd.name)
            return await cmd.handler(request)

        return replace(cmd, handler=handler)

    for key, cmd in list(COMMANDS.items()):
        monkeypatch.setitem(COMMANDS, key, recording(cmd))
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    slack.add_channel("C0001", "general", member=True)
    server = serve(settings)
    for name in COMMAND_NAMES:
        hook = slack.response_url()
        body = sr.command(name, response_url=hook)
        response = post(server, body, sr.signed_headers(body))
        assert response.status_code == 200, (name, response.text)
        said = reply_text(response) if response.content else (await answer_of(slack, hook)).get("text")
        assert said not in (blocks.NOT_UNDERSTOOD.format(text=name), INTERNAL_ERROR, None), (name, said)
        assert ran[-1] == COMMANDS[name].name, (name, ran)
    assert len(ran) == len(COMMAND_NAMES)


@pytest.mark.parametrize(
    "headers",
    [
        {},  # unsigned
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64},  # forged
        "stale",
        "wrong-secret",
    ],
)
async def test_unsigned_forged_or_stale_requests_get_401(serve, settings, storage, slack, headers):
    await install(storage, slack)
    server = serve(settings)
    body = sr.command("help")
    if headers == "stale":
        headers = sr.signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    elif headers == "wrong-secret":
        headers = sr.signed_headers(body, secret="not-the-secret")
    response = post(server, body, {"Content-Type": "application/x-www-form-urlencoded", **headers})
    assert response.status_code == 401
    assert slack.calls == []


@pytest.mark.parametrize(
    "body,content_type",
    [
        ("payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        ("{not json", "application/json"),
        ("", "application/x-www-form-urlencoded"),
        ("payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
        ('{"type": "event_callback"}', "application/json"),
    ],
)
async def test_malformed_signed_payloads_get_400_not_500(serve, settings, storage, slack, body, content_type):
    await install(storage, slack)
    server = serve(settings)
    headers = sr.signed_headers(body, content_type=content_type)
    response = httpx.post(f"{server.url}/slack/events", content=body, headers=headers, timeout=10)
    # A body Bolt cannot route (an event without its team) gets the reinstall reply; anything unparseable 400.
    expected = (200, 400) if body.startswith('{"type"') else (400,)
    assert response.status_code in expected, response.text
    assert [c.method for c in slack.calls if c.method != "auth.test"] == []


@pytest.mark.parametrize("timestamp", ["yesterday", "", "1e99"])
async def test_garbage_signature_headers_get_401(serve, settings, timestamp):
    server = serve(settings)
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=zz",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    assert post(server, "\xff\xfe", headers).status_code == 401


async def test_workspace_without_installation_is_asked_to_reinstall(serve, settings, slack):
    from bot.slack_app import REINSTALL_MESSAGE

    server = serve(settings)
    body = sr.command("help", team_id="T9999", response_url=slack.response_url())
    response = post(server, body, sr.signed_headers(body))
    assert response.status_code == 200
    # Bolt answers through the command's response_url, as an ephemeral message
    assert [r["text"] for r in slack.responses] == [REINSTALL_MESSAGE]


async def test_health_and_readiness(serve, settings):
    server = serve(settings)
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server.url}/readyz").json() == {"status": "ready"}


async def test_single_workspace_mode(serve, settings, slack):
    ws = slack.workspaces["T0001"]
    single = settings.with_overrides(client_id=None, client_secret=None, bot_token=ws.bot_token)
    server = serve(single)
    body = sr.command("help")
    assert post(server, body, sr.signed_headers(body)).json()["text"] == blocks.HELP_TITLE
    assert httpx.get(f"{server.url}/slack/install").status_code == 404
