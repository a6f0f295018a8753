"""Posting to Slack at most once when an answer may never come back.

chat.postMessage is not idempotent: when Slack takes a post and its answer is lost (a timeout, a reset
after sending), posting again makes a second message. So every post that a retry could duplicate
carries its key in Slack's message metadata (`event_type` + `event_payload`), and an unknown outcome
is settled by reading the channel back: `conversations.history` with `include_all_metadata`, from a
little before the first attempt (`oldest`, `inclusive`), looking for the key. That needs the optional
history scopes (channels:history, groups:history) and, in a public channel, the bot being a member
(Slack answers `not_in_channel` to a bot reading a channel it has not joined); without them the post
is *uncertain*: never posted again.

`post_once` returns one of: POSTED (with the ts, Slack's answer or the post found), NOT_POSTED (looked,
found nothing: safe to post again later), UNCERTAIN (cannot look). Slack's refusals (SlackApiError)
pass through: they are answers, and mean nothing was posted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from providers.slack import outcome_unknown

log = logging.getLogger("quolum.slack_once")

POSTED, NOT_POSTED, UNCERTAIN = "posted", "not_posted", "uncertain"
LOOK_BACK = timedelta(hours=1)  # history is read from this long before the first attempt (clock skew)
HISTORY_PAGE = 200
HISTORY_PAGES = 5  # a busy channel: 1,000 messages since the first attempt at most, then uncertain


@dataclass(frozen=True)
class Result:
    state: str
    channel: str
    ts: str | None = None
    reason: str | None = None  # why NOT_POSTED or UNCERTAIN


def metadata(event_type: str, key: str) -> dict:
    return {"event_type": event_type, "event_payload": {"id": key}}


def is_ours(message: dict, event_type: str, key: str) -> bool:
    meta = message.get("metadata") or {}
    return meta.get("event_type") == event_type and str((meta.get("event_payload") or {}).get("id")) == key


async def find(client: AsyncWebClient, channel: str, event_type: str, key: str, since: datetime) -> Result:
    """Look for the post carrying `key` in `channel` since `since` (minus LOOK_BACK)."""
    cursor = None
    for _ in range(HISTORY_PAGES):
        try:
            page = await client.conversations_history(
                channel=channel,
                oldest=f"{(since - LOOK_BACK).timestamp():.6f}",
                inclusive=True,
                include_all_metadata=True,
                limit=HISTORY_PAGE,
                cursor=cursor,
            )
        except SlackApiError as error:  # missing_scope, not_in_channel, channel_not_found...
            return Result(UNCERTAIN, channel, reason=error.response.get("error") or "error")
        except Exception as error:
            return Result(UNCERTAIN, channel, reason=type(error).__name__)
        for message in page.get("messages") or []:
            if is_ours(message, event_type, key):
                return Result(POSTED, channel, message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not page.get("has_more") or not cursor:
            return Result(NOT_POSTED, channel, reason="not_found")
    return Result(UNCERTAIN, channel, reason="history_too_long")


async def post_once(
    client: AsyncWebClient,
    *,
    channel: str,
    message: dict,
    event_type: str,
    key: str,
    since: datetime,
    look_first: bool = False,
    **options,
) -> Result:
    """Post `message` to `channel` unless a post with `key` is already there.

    `since`: when the first attempt started. `look_first`: an earlier attempt may have posted (its
    outcome was never known), so look before posting. Slack's refusals raise SlackApiError."""
    if look_first:
        found = await find(client, channel, event_type, key, since)
        if found.state != NOT_POSTED:
            return found
    try:
        answer = await client.chat_postMessage(
            channel=channel, metadata=metadata(event_type, key), **options, **message
        )
    except SlackApiError:
        raise
    except Exception as error:
        if not outcome_unknown(error):
            return Result(NOT_POSTED, channel, reason=type(error).__name__)
        log.warning("no answer to a post (%s): looking for it in %s", type(error).__name__, channel)
        found = await find(client, channel, event_type, key, since)
        if found.state == NOT_POSTED:  # not there (yet): the next attempt looks again first
            return Result(NOT_POSTED, channel, reason=type(error).__name__)
        return found
    return Result(POSTED, answer["channel"], answer["ts"])
