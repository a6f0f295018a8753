import asyncio
import json
import logging

import httpx
import pytest

from core.logs import REDACTED, JsonFormatter, redact, register_secret
from providers.registry import INSTALLED
from sandbox import slack_requests as sr
from tests.conftest import install

INSTALLED.redact_credentials()  # the providers' own shapes (API keys, refresh tokens), as the bot does


@pytest.mark.parametrize(
    "text,secret",
    [
        ("token xoxb-123-456-abcdefABCDEF leaked", "xoxb-123-456-abcdefABCDEF"),
        ("refresh xoxe-1-abcdefghijkl", "xoxe-1-abcdefghijkl"),
        ("app xapp-1-A111-222-abcdef", "xapp-1-A111-222-abcdef"),
        (
            "key SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            "SG.abcdefghijklmnopqrstuv",
        ),
        ("hubspot na1-1a2b-3c4d-5e6f-7a8b-9c0d1e2f3a4b", "na1-1a2b-3c4d-5e6f"),
        ("Authorization: Bearer abc.def.ghi-123456", "abc.def.ghi-123456"),
        ("grant_type=refresh_token&refresh_token=opaque123456&client_secret=shh12345", "opaque123456"),
        ('{"access_token": "opaque-access-987654"}', "opaque-access-987654"),
        ("https://bot.example/oauth/hubspot/start?state=Zm9vYmFyYmF6cXV4", "Zm9vYmFyYmF6cXV4"),
        ("/oauth/hubspot/callback?code=na1-code-4242&state=s3cr3tstate", "s3cr3tstate"),
        ("/oauth/hubspot/callback?state=s3cr3tstate&code=c0de4242", "c0de4242"),
        ("url=https%3A%2F%2Fbot%2Fstart%3Fstate%3Ds3cr3tstate", "s3cr3tstate"),
        ('{"state": "s3cr3tstate"}', "s3cr3tstate"),
        ("{'code': 'c0de4242'}", "c0de4242"),
        ('{"m": "{\\"state\\": \\"s3cr3tstate\\"}"}', "s3cr3tstate"),
        ("respond to https://hooks.slack.com/commands/T0001/1234/AbCdEf", "AbCdEf"),
        ('{"response_url": "http://127.0.0.1:8/hooks/AbCdEf"}', "AbCdEf"),
    ],
)
def test_redact_scrubs_token_shapes(text, secret):
    cleaned = redact(text)
    assert secret not in cleaned and REDACTED in cleaned


def test_registered_secrets_are_scrubbed_whatever_their_shape():
    register_secret("plain-looking-client-secret")
    assert "plain-looking-client-secret" not in redact("oops plain-looking-client-secret here")


async def test_one_access_line_per_request_and_no_secret_anywhere(serve, settings, storage, slack, caplog):
    caplog.set_level(logging.DEBUG)
    await install(storage, slack)
    server = serve(settings)
    body = sr.command("help")
    assert (
        httpx.post(f"{server.url}/slack/events", content=body, headers=sr.signed_headers(body)).status_code
        == 200
    )
    assert httpx.post(f"{server.url}/slack/events", content=body, headers={}).status_code == 401

    def access_lines():
        return [
            r for r in caplog.records if r.name == "quolum.access" and r.fields["path"] == "/slack/events"
        ]

    for _ in range(100):  # the line is written once the response has gone out
        if len(access_lines()) >= 2:
            break
        await asyncio.sleep(0.02)
    access = access_lines()
    assert len(access) == 2, [r.fields for r in access]
    ok, rejected = access[0].fields, access[1].fields
    assert ok["team"] == "T0001" and ok["command"] == "help" and ok["status"] == 200 and ok["latency_ms"] >= 0
    assert ok["outcome"] == "ok"
    assert rejected["status"] == 401 and rejected["outcome"] == "unauthorized"
    formatted = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    json.loads(JsonFormatter().format(access[0]))
    for secret in (slack.workspaces["T0001"].bot_token, settings.signing_secret, settings.client_secret):
        assert secret not in formatted


async def test_a_token_in_a_requested_path_is_not_logged(serve, settings, caplog):
    caplog.set_level(logging.INFO)
    server = serve(settings)
    httpx.get(f"{server.url}/slack/xoxb-1234-5678-abcdefghijkl")
    for _ in range(100):
        lines = [r for r in caplog.records if r.name == "quolum.access"]
        if lines:
            break
        await asyncio.sleep(0.02)
    formatted = JsonFormatter().format(lines[0])
    assert "xoxb-1234-5678-abcdefghijkl" not in formatted and REDACTED in formatted


@pytest.fixture
def production_logging():
    """`setup_logging` as `serve` runs it, at DEBUG, into a buffer; pytest's handlers come back after.
    Only the server's threads are kept: the test's own HTTP client logs the URLs it is given."""
    import io
    import threading

    from core.logs import setup_logging

    root = logging.getLogger()
    saved = (
        root.handlers[:],
        root.level,
        {n: logging.getLogger(n).level for n in logging.root.manager.loggerDict},
    )
    buffer = io.StringIO()
    setup_logging("DEBUG", stream=buffer)
    assert logging.getLogger("quolum.bolt").level == logging.WARNING  # Bolt's bodies stay out
    # ... and if someone turns them on anyway, the redaction must still hold:
    for name in ("quolum.bolt", "slack_bolt", "slack_sdk"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    main = threading.main_thread().ident
    root.handlers[0].addFilter(lambda record: record.thread != main)
    yield buffer
    root.handlers[:], level, levels = saved
    root.setLevel(level)
    for name, value in levels.items():
        logging.getLogger(name).setLevel(value)


async def test_no_log_level_reveals_a_connect_link_code_or_response_url(
    production_logging, serve, hub_settings, storage, slack, hubspot
):
    from urllib.parse import parse_qs, urlparse

    from tests.services.test_connections import Browser, buttons, open_card

    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    bot = serve(hub_settings)
    card = open_card(bot, slack)
    url = buttons(card)["connect_link:hubspot"]["url"]
    state = parse_qs(urlparse(url).query)["state"][0]
    browser = Browser(bot, hubspot)
    start = browser.start(url)
    back = browser.consent(start.headers["location"])
    code = parse_qs(urlparse(back.headers["location"]).query)["code"][0]
    assert browser.client.get(back.headers["location"]).status_code == 200
    await asyncio.sleep(0.3)  # the access lines and the card update are written after the responses
    logged = production_logging.getvalue()
    assert '"logger": "quolum.bolt"' in logged and '"level": "debug"' in logged  # Bolt's DEBUG was on
    hook = slack.response_url().rsplit("/", 1)[0]  # the stand-in's response_url prefix
    for secret in (state, code, slack.workspaces["T0001"].bot_token):
        assert secret not in logged
    assert hook + "/" not in logged
