"""Socket Mode end to end: the real server connects to the Slack stand-in over Slack's WebSocket protocol.

The bot calls apps.connections.open with its app-level token, connects to the URL it gets, and
answers envelopes with acks; the HTTP server keeps serving the browser routes beside it.
"""

from __future__ import annotations

import json
import logging
import time

import httpx
import pytest

from handlers import slack_request as sreq
from messages import blocks
from tests.conftest import install

MODES = ["multi-workspace", "single-workspace"]


def socket_settings(settings, slack, mode: str):
    """Socket Mode settings: multi-workspace keeps its signing secret (config requires it), one workspace needs none."""
    app_token = slack.socket.add_app_token()
    if mode == "multi-workspace":
        return settings.with_overrides(app_token=app_token)
    return settings.with_overrides(
        client_id=None,
        client_secret=None,
        bot_token=slack.workspaces["T0001"].bot_token,
        signing_secret=None,
        app_token=app_token,
    )


def eventually(probe, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {probe}")
        time.sleep(0.02)
    return value


@pytest.fixture
def errors(caplog):
    """ERROR records logged by anything (the server runs in another thread; caplog sees its records too)."""
    caplog.set_level(logging.INFO)
    return lambda: [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("mode", MODES)
async def test_socket_mode_serves_commands_events_and_http(serve, settings, storage, slack, errors, mode):
    if mode == "multi-workspace":
        await install(storage, slack)
    slack.add_user("U0001")
    settings = socket_settings(settings, slack, mode)
    server = serve(settings)

    conn = slack.socket.wait_connected()
    opened = slack.calls_to("apps.connections.open")
    assert len(opened) == 1 and opened[0].token == settings.app_token

    # /quolum help: the reply is the ack's payload
    ack = slack.socket.send_command("help")
    assert set(ack) == {"envelope_id", "payload"}
    assert ack["payload"]["text"] == blocks.HELP_TITLE
    assert "`/quolum help`" in json.dumps(ack["payload"]["blocks"])

    # an Events API event: acked with no payload, then handled (App Home published)
    ack = slack.socket.send_event(
        {"type": "app_home_opened", "user": "U0001", "channel": "D0001", "tab": "home"}
    )
    assert set(ack) == {"envelope_id"}
    published = eventually(lambda: slack.calls_to("views.publish"))
    assert published[0].args["user_id"] == "U0001"
    assert published[0].args["view"]["type"] == "home"
    assert published[0].token == slack.workspaces["T0001"].bot_token  # the bot token, not the app token

    # the HTTP server still serves the browser routes
    with httpx.Client(base_url=server.url, timeout=5) as browser:
        assert browser.get("/healthz").json() == {"status": "ok"}
        install_page = browser.get("/slack/install")
    if mode == "multi-workspace":
        assert install_page.status_code == 302
        assert install_page.headers["location"].startswith("https://slack.com/oauth/v2/authorize")
    else:
        assert install_page.status_code == 404

    # stopping the server closes the socket with a clean close frame and does not reconnect
    server.stop()
    assert conn.closed.wait(5), "the Socket Mode connection is still open after the server stopped"
    assert conn.close_code == 1000
    assert len(slack.socket.connections) == 1
    assert len(slack.calls_to("apps.connections.open")) == 1
    assert slack.socket.stray == [] and len(conn.acks) == 2
    assert errors() == []


async def test_refresh_requested_moves_to_a_new_connection(serve, settings, storage, slack, errors):
    settings = socket_settings(settings, slack, "single-workspace")
    server = serve(settings)
    first = slack.socket.wait_connected()
    assert slack.socket.send_command("help")["payload"]["text"] == blocks.HELP_TITLE

    slack.socket.disconnect("refresh_requested")
    second = slack.socket.wait_connected(count=2)
    assert first.closed.wait(5) and first.close_code == 1000  # the app closed the old one itself
    assert len(slack.calls_to("apps.connections.open")) == 2  # a new URL: tickets are single use

    ack = slack.socket.send_command("help")
    assert ack["payload"]["text"] == blocks.HELP_TITLE
    assert second.acks == [ack]
    server.stop()
    assert second.closed.wait(5) and second.close_code == 1000
    assert len(slack.socket.connections) == 2
    assert errors() == []


def test_apps_connections_open_takes_app_level_tokens_only(slack):
    app_token = slack.socket.add_app_token()
    bot_token = slack.workspaces["T0001"].bot_token

    def call(token: str | None, *, in_body: bool = False) -> dict:
        headers = {"Authorization": f"Bearer {token}"} if token and not in_body else {}
        data = {"token": token} if in_body else None
        return httpx.post(f"{slack.url}/api/apps.connections.open", headers=headers, data=data).json()

    ok = call(app_token)
    assert ok["ok"] is True and ok["url"].startswith(slack.url.replace("http://", "ws://") + "/link/?ticket=")
    assert call(None) == {"ok": False, "error": "not_authed"}
    assert call("xapp-1-A0QUOLUM-1-unknown") == {"ok": False, "error": "invalid_auth"}
    assert call(app_token, in_body=True) == {"ok": False, "error": "invalid_auth"}
    assert call(bot_token) == {"ok": False, "error": "not_allowed_token_type"}
    # and an app-level token is no good for the bot's methods
    auth_test = httpx.post(f"{slack.url}/api/auth.test", headers={"Authorization": f"Bearer {app_token}"})
    assert auth_test.json() == {"ok": False, "error": "not_allowed_token_type"}


async def test_a_ticket_opens_one_connection_which_starts_with_hello(slack):
    import aiohttp

    url = httpx.post(
        f"{slack.url}/api/apps.connections.open",
        headers={"Authorization": f"Bearer {slack.socket.add_app_token()}"},
    ).json()["url"]
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            hello = await ws.receive_json(timeout=5)
            assert hello["type"] == "hello" and hello["num_connections"] == 1
            assert hello["connection_info"] == {"app_id": "A0QUOLUM"}
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(url)  # the same ticket again
            assert refused.value.status == 403
    assert slack.socket.rejected == 1
    assert slack.socket.connections[0].closed.wait(5) and slack.socket.connections[0].close_code == 1000


async def test_socket_mode_retries_in_the_background_until_slack_answers(serve, settings, slack, caplog):
    caplog.set_level(logging.INFO)
    settings = socket_settings(settings, slack, "single-workspace")
    slack.fail_next("apps.connections.open", "internal_error", count=2)
    server = serve(settings)  # the lifespan does not wait for Slack
    with httpx.Client(base_url=server.url, timeout=5) as browser:
        assert browser.get("/healthz").json() == {"status": "ok"}
    conn = slack.socket.wait_connected(timeout=10)  # after 1 s and 2 s pauses
    assert slack.socket.send_command("help")["payload"]["text"] == blocks.HELP_TITLE
    retries = [
        r.getMessage()
        for r in caplog.records
        if r.name == "quolum.socket_mode" and r.levelno == logging.WARNING
    ]
    assert retries == [
        "socket mode: cannot connect to Slack (Slack answered internal_error); attempt 1, retrying in 1 s",
        "socket mode: cannot connect to Slack (Slack answered internal_error); attempt 2, retrying in 2 s",
    ]
    assert all(r.exc_info is None for r in caplog.records if r.name.startswith("quolum.socket_mode"))
    server.stop()
    assert conn.closed.wait(5)


@pytest.mark.parametrize("attempt,wait", [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0), (50, 60.0)])
def test_reconnect_backoff_doubles_up_to_a_minute(attempt, wait):
    from bot.socket_mode import backoff

    assert backoff(attempt) == wait


def test_sdk_reconnect_errors_are_one_line():
    from bot.socket_mode import OneLine

    try:
        raise ConnectionRefusedError("refused")
    except ConnectionRefusedError:
        import sys

        record = logging.LogRecord(
            "sdk", logging.ERROR, __file__, 1, "Failed to connect (error: %s)", ("x",), sys.exc_info()
        )
    assert OneLine().filter(record) is True
    assert (
        record.exc_info is None
        and record.getMessage() == "Failed to connect (error: x) (ConnectionRefusedError)"
    )


@pytest.mark.parametrize(
    "kind,payload",
    [
        (
            "interactive",
            {"type": "block_actions", "actions": [], "team": {"id": "T0001"}, "user": {"id": "U0001"}},
        ),
        ("interactive", {"type": "block_actions", "actions": [{}], "team": "T0001"}),
        ("events_api", {"type": "event_callback", "team_id": "T0001", "event": "x", "event_id": "Ev1"}),
    ],
)
async def test_malformed_envelopes_are_acked_and_never_reach_bolt(
    serve, settings, storage, slack, errors, kind, payload
):
    """The shape check HTTP requests get (handlers/slack_request.py) holds over Socket Mode too."""
    await install(storage, slack)
    serve(socket_settings(settings, slack, "multi-workspace"))
    slack.socket.wait_connected()
    ack = slack.socket.send_envelope(kind, payload, accepts_response_payload=False)
    assert set(ack) == {"envelope_id"}
    assert errors() == []  # Bolt never saw it: no "Failed to run listener" / traceback


async def test_a_command_failing_before_ack_gets_a_sentence_over_socket_mode(
    serve, settings, storage, slack, errors, monkeypatch
):
    from handlers import commands

    async def broken(text, request):
        raise RuntimeError("a bug")

    monkeypatch.setattr(commands, "run", broken)  # past _safely's reach: the listener itself fails
    monkeypatch.setattr("handlers.listeners._safely", lambda work: work)
    await install(storage, slack)
    serve(socket_settings(settings, slack, "multi-workspace"))
    slack.socket.wait_connected()
    ack = slack.socket.send_command("help")
    assert ack["payload"] == {"response_type": "ephemeral", "text": sreq.FAILED_TEXT}
