"""The Slack client's retries never send a post twice; which failures leave a call's outcome unknown."""

from __future__ import annotations

import pytest
from aiohttp import ClientConnectorError, ClientOSError, ServerDisconnectedError, ServerTimeoutError
from aiohttp.client_reqrep import ConnectionKey
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.state import RetryState

from core.config import Settings
from providers.slack import SafeConnectionRetry, method_of, outcome_unknown, web_client

KEY = ConnectionKey("slack.com", 443, True, None, None, None, None)
REFUSED = ClientConnectorError(KEY, OSError(111, "Connection refused"))
RESET = ClientOSError(104, "Connection reset by peer")
DISCONNECTED = ServerDisconnectedError()
READ_TIMEOUT = ServerTimeoutError("read timed out")


@pytest.mark.parametrize(
    "error, unknown",
    [
        (TimeoutError(), True),  # aiohttp's total timeout: Slack may have posted
        (READ_TIMEOUT, True),
        (RESET, True),
        (DISCONNECTED, True),
        (REFUSED, False),  # never connected: nothing was sent
        (ValueError("ours"), False),
    ],
)
def test_which_failures_leave_the_outcome_unknown(error, unknown):
    assert outcome_unknown(error) is unknown


@pytest.mark.parametrize(
    "method, error, retried",
    [
        ("chat.postMessage", RESET, False),  # the post may be in the channel: never again blindly
        ("chat.postMessage", DISCONNECTED, False),
        ("chat.postEphemeral", RESET, False),
        ("chat.postMessage", REFUSED, True),  # nothing was sent: safe
        ("chat.update", RESET, True),  # idempotent methods keep slack_sdk's retry
        ("conversations.history", DISCONNECTED, True),
        ("users.info", RESET, True),
    ],
)
async def test_the_connection_retry_never_repeats_a_post_that_may_have_been_made(method, error, retried):
    handler = web_client(Settings(slack_api_url="https://slack.com/api/"), "xoxb-test").retry_handlers[-1]
    assert isinstance(handler, SafeConnectionRetry)
    request = HttpRequest(method="POST", url=f"https://slack.com/api/{method}", headers={})
    assert await handler.can_retry_async(state=RetryState(), request=request, error=error) is retried


@pytest.mark.parametrize(
    "url, method",
    [
        ("https://slack.com/api/chat.postMessage", "chat.postMessage"),
        ("http://127.0.0.1:1/api/users.info?x=1", "users.info"),
    ],
)
def test_method_of_a_url(url, method):
    assert method_of(url) == method
