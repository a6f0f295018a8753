"""What a digest delivery does when Slack refuses the post or leaves its outcome unknown (mixed into
DigestService, which gives it `store`, `clock` and `changed`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core import metrics
from messages import charts
from messages import digest as builder
from storage.digests import Delivery, Subscription

log = logging.getLogger("quolum.digests")

# Slack's answers that mean "this channel will not take posts": pause, tell the subscriber once.
PAUSE_ERRORS = {"channel_not_found", "not_in_channel", "is_archived", "account_inactive"}
STOP_ERRORS = {"token_revoked", "invalid_auth"}  # the workspace is gone: nobody to tell
RETRY_AFTER = timedelta(minutes=2)  # a delivery Slack did not take (5xx, timeouts) is retried then


class RefusalsMixin:
    async def _chart_refused(self, team_id: str, message: dict, error: SlackApiError) -> bool:
        """Whether Slack refused the message's chart (a workspace or client without the data
        visualization block): remembered, so this workspace's digests are built without it."""
        details = error.response.get("response_metadata", {}).get("messages", [])
        return await self._chart_refusal(team_id, message, error.response.get("error"), details)

    async def _chart_refusal(
        self, team_id: str, message: dict, code: str | None, details: Sequence[str] = ()
    ) -> bool:
        """The one decision for every way a digest reaches Slack (chat.postMessage's `error`, a
        response_url's answer): `invalid_blocks` to a message with a chart means the chart."""
        if code != "invalid_blocks" or not charts.has_charts(message):
            return False
        log.warning(
            "Slack refused the digest's chart in %s (%s): digests are sent without it from now on",
            team_id,
            "; ".join(details[:3]) or "invalid_blocks",
        )
        await self.store.refuse_block(team_id, charts.BLOCK_TYPE)
        return True

    async def _refused(self, client, sub: Subscription, delivery: Delivery, error: SlackApiError) -> str:
        code = error.response.get("error") or "error"
        metrics.DIGESTS_FAILED.labels(reason=code).inc()
        if code in PAUSE_ERRORS or code in STOP_ERRORS:
            await self.store.refused(delivery, code)
            if await self.store.pause(sub.id, code) and code not in STOP_ERRORS:
                await self._tell(client, sub, builder.paused_dm(code, sub.channel_id))
                await self.changed(sub.team_id, sub.subscriber_id)
            return "paused"
        log.warning("slack refused digest %s: %s", delivery.id, code)
        await self.store.release(delivery, code, self.clock() + RETRY_AFTER)
        return "retrying"

    async def _tell(self, client: AsyncWebClient, sub: Subscription, text: str) -> None:
        try:
            await client.chat_postMessage(channel=sub.subscriber_id, text=text)
        except SlackApiError as error:
            log.info("could not tell %s about the digest: %s", sub.subscriber_id, error.response.get("error"))

    async def _uncertain(self, client, sub: Subscription, delivery: Delivery, reason: str | None) -> str:
        """The post may be in the channel and cannot be looked for: never posted again, and the
        subscriber is told by whichever call marked it."""
        log.warning("digest %s may be posted; cannot check (%s): not posted again", delivery.id, reason)
        if await self.store.uncertain(delivery, sub.channel_id, reason or "unknown"):
            await self._tell(client, sub, builder.uncertain_dm(sub.channel_id))
        return "uncertain"
