"""Digest subscriptions, the commands' flows: can the bot post in a channel, whose time zone, and
subscribe / unsubscribe, each telling the service's listeners (App Home) what changed."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from services.digest_schedule import Schedule, next_send
from services.digests import DigestService
from storage.digests import Subscription

CANNOT_SEE, ARCHIVED, PRIVATE_NOT_MEMBER, NOT_A_CHANNEL = "cannot_see", "archived", "private", "not_channel"


async def check_channel(client: AsyncWebClient, channel_id: str) -> str | None:
    """Why the bot could not post in the channel, or None when it can (public channels need no
    invitation thanks to chat:write.public; private ones need the bot as a member)."""
    try:
        info = (await client.conversations_info(channel=channel_id))["channel"]
    except SlackApiError as error:
        if error.response.get("error") in ("channel_not_found", "not_in_channel"):
            return CANNOT_SEE
        raise
    if info.get("is_im") or info.get("is_mpim"):
        return NOT_A_CHANNEL
    if info.get("is_archived"):
        return ARCHIVED
    if info.get("is_private") and not info.get("is_member"):
        return PRIVATE_NOT_MEMBER
    return None


async def user_timezone(client: AsyncWebClient, user_id: str, default: str = "UTC") -> str:
    try:
        user = (await client.users_info(user=user_id))["user"]
    except SlackApiError:
        return default
    return user.get("tz") or default


async def subscribe(
    service: DigestService,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    schedule: Schedule,
) -> Subscription:
    now = service.clock()
    sub = await service.store.subscribe(
        team_id=team_id,
        channel_id=channel_id,
        cadence=schedule.cadence,
        weekday=schedule.weekday,
        send_time=schedule.send_time,
        timezone=schedule.timezone,
        subscriber_id=user_id,
        next_send_at=next_send(schedule, now),
    )
    await service.changed(team_id, user_id)
    return sub


async def unsubscribe(service: DigestService, *, team_id: str, channel_id: str, user_id: str) -> bool:
    """Remove the channel's subscription; False when it had none."""
    removed = await service.store.unsubscribe(team_id, channel_id)
    if removed:
        await service.changed(team_id, user_id)
    return removed
