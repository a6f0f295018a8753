"""Digest subscriptions and seat prices, the commands' flows: can the bot post in a channel, whose time
zone, and (mixed into DigestService, which gives it `store`, `connections`, `clock` and `changed`)
subscribe / unsubscribe / change the time zone, each telling the service's listeners (App Home) what
changed, and the seat prices digests count idle seats with."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from services.digest_schedule import Schedule, next_send
from storage.digests import Price, Subscription

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


class SubscriptionsMixin:
    async def subscriptions(self, team_id: str) -> list[Subscription]:
        return await self.store.for_team(team_id)

    async def subscribe(
        self, *, team_id: str, channel_id: str, user_id: str, schedule: Schedule
    ) -> Subscription:
        """Subscribe the channel, or change its schedule: `user_id` becomes its subscriber."""
        sub = await self.store.subscribe(
            team_id=team_id,
            channel_id=channel_id,
            cadence=schedule.cadence,
            weekday=schedule.weekday,
            send_time=schedule.send_time,
            timezone=schedule.timezone,
            subscriber_id=user_id,
            next_send_at=next_send(schedule, self.clock()),
        )
        await self.changed(team_id, user_id)
        return sub

    async def change_timezone(self, team_id: str, channel_id: str, timezone: str) -> Subscription | None:
        """The channel's schedule in another zone, its subscriber unchanged; None when not subscribed."""
        sub = await self.store.get(team_id, channel_id)
        if sub is None:
            return None
        schedule = Schedule(sub.cadence, sub.weekday, sub.send_time, timezone)
        return await self.subscribe(
            team_id=team_id, channel_id=channel_id, user_id=sub.subscriber_id, schedule=schedule
        )

    async def unsubscribe(self, *, team_id: str, channel_id: str, user_id: str) -> bool:
        """Remove the channel's subscription; False when it had none."""
        removed = await self.store.unsubscribe(team_id, channel_id)
        if removed:
            await self.changed(team_id, user_id)
        return removed

    # --- seat prices (`/quolum price`) -----------------------------------------------------------
    async def prices(self, team_id: str) -> dict[str, Price]:
        return await self.store.prices(team_id)

    async def price_currency(self, team_id: str, provider: str, currency: str | None) -> str:
        """The currency a price is in: the one given, else the account's own (else USD)."""
        if currency is None:
            connection = await self.connections.get(team_id, provider)
            currency = ((connection.details.get("currency") if connection else None) or "USD").upper()[:3]
        return currency

    async def set_price(
        self, team_id: str, provider: str, amount_minor: int, currency: str | None, user_id: str
    ) -> str:
        """Set the contract's seat price per month; without a currency, the account's own (else USD).
        Returns the currency set."""
        currency = await self.price_currency(team_id, provider, currency)
        await self.store.set_price(team_id, provider, amount_minor, currency, user_id)
        return currency
