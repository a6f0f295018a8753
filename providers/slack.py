"""The Slack Web API client as the bot configures it: Slack's base URL from settings, slack_sdk's retries."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.config import Settings


def web_client(settings: Settings, token: str | None = None) -> AsyncWebClient:
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=15)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    client.retry_handlers.append(AsyncConnectionErrorRetryHandler(max_retry_count=1))
    return client
