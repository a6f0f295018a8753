"""The Slack Web API client as the bot configures it: Slack's base URL from settings, slack_sdk's retries,
except that a post is never sent twice by the transport.

slack_sdk's connection-error handler retries any method after a reset or a disconnect, but a reset
after the request went out leaves a chat.postMessage's outcome unknown: Slack may have posted it.
`SafeConnectionRetry` retries those methods only when nothing was sent (the connection was never made);
whoever posts decides what an unknown outcome means (`outcome_unknown`, services/slack_once.py).
"""

from __future__ import annotations

from aiohttp import ClientConnectorError, ClientError, ServerConnectionError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from core.config import Settings

# methods that create something each time they are called: a blind second call makes a second one
NOT_IDEMPOTENT = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.scheduleMessage"})


def method_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]


def sent_nothing(error: BaseException) -> bool:
    """The connection was never made (refused, DNS): Slack cannot have seen the request."""
    return isinstance(error, ClientConnectorError)


def outcome_unknown(error: BaseException) -> bool:
    """A call that may have reached Slack and whose answer never came: a timeout, a reset or a
    disconnect after sending. (SlackApiError is an answer: it is not one of these.)"""
    if sent_nothing(error):
        return False
    return isinstance(error, TimeoutError | ServerConnectionError | ClientError | ConnectionError)


class SafeConnectionRetry(AsyncConnectionErrorRetryHandler):
    """slack_sdk's connection-error retry, refused for a non-idempotent method unless nothing was sent."""

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        if error is not None and method_of(request.url) in NOT_IDEMPOTENT and not sent_nothing(error):
            return False
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


def web_client(
    settings: Settings, token: str | None = None, *, timeout: float = 15, rate_limit_retries: int = 2
) -> AsyncWebClient:
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=timeout)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries))
    client.retry_handlers.append(SafeConnectionRetry(max_retry_count=1))
    return client
