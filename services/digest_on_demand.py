"""The digest on demand (mixed into DigestService, which gives it `store`, `slack`, `clock`, `changed`,
`digest_data` and `_chart_refusal`): a preview of the period that ended last, and a post of it now."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.webhook.async_client import AsyncWebhookClient

from messages import charts
from messages import digest as builder
from services.digest_schedule import WEEKLY, Schedule, latest_period
from storage.digests import Subscription

log = logging.getLogger("quolum.digests")


def webhook_error(status: int, body: str | None) -> str | None:
    """Slack's error code in its answer to a response_url post; None when it took the message.
    Slack answers HTTP 200 `ok`; a refusal is an HTTP 4xx whose body is the bare code in plain
    text (`invalid_blocks`, `no_text`, `expired_url`). Web API JSON (`{"ok": false, "error": ...}`)
    is read too, whatever the status, so an answer in that shape is never taken for a success."""
    text = (body or "").strip()
    if text.startswith("{"):
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if isinstance(answer, dict) and answer.get("ok") is False:
            return str(answer.get("error") or "error")
        if status != 200:
            return "error"
    if status == 200:
        return None
    return text or "error"


def schedule_of(sub: Subscription) -> Schedule:
    return Schedule(sub.cadence, sub.weekday, sub.send_time, sub.timezone)


class OnDemandMixin:
    async def preview(
        self, team_id: str, timezone: str, *, now: datetime | None = None, as_preview: bool = True
    ) -> dict:
        """The digest for the period that ended last (the workspace's first schedule, else weekly)."""
        return builder.digest_message(await self._current(team_id, timezone, now or self.clock(), as_preview))

    async def preview_to(self, team_id: str, timezone: str, response_url: str) -> None:
        """Answer a slash command or a button with the preview through its response_url. A Slack
        that refuses the chart (`invalid_blocks`) gets it once more without the chart, remembered
        for the workspace as scheduled digests do; any other answer, or none, is not retried: the
        person never gets two previews."""
        message = await self.preview(team_id, timezone)
        hook = AsyncWebhookClient(response_url)
        for attempt in (message, charts.without_charts(message)):
            try:
                answer = await hook.send(response_type="ephemeral", replace_original=False, **attempt)
            except Exception as error:  # no answer: the preview may be shown, so it is not sent again
                log.info("digest preview for %s: no answer from Slack (%s)", team_id, type(error).__name__)
                return
            code = webhook_error(answer.status_code, answer.body)
            if code is None:
                return
            if attempt is not message or not await self._chart_refusal(team_id, message, code):
                log.info("digest preview for %s refused by Slack: %s", team_id, code)
                return

    async def _current(
        self, team_id: str, timezone: str, now: datetime, as_preview: bool
    ) -> builder.DigestData:
        subs = await self.store.for_team(team_id)
        schedule = schedule_of(subs[0]) if subs else Schedule(WEEKLY, 0, "09:00", timezone)
        client = await self.slack(team_id)
        period = latest_period(schedule, now)
        return await self.digest_data(team_id, period, schedule.timezone, client, preview=as_preview, now=now)

    async def send_now(self, team_id: str, channel_id: str, timezone: str) -> str | None:
        """Post the current digest now (not the scheduled one). Returns the ts, or None when no account is
        connected (a digest of nothing is not posted); SlackApiError passes."""
        data = await self._current(team_id, timezone, self.clock(), as_preview=False)
        if not data.connections:
            return None
        client = await self.slack(team_id)
        message = builder.digest_message(data)
        try:
            answer = await client.chat_postMessage(channel=channel_id, unfurl_links=False, **message)
        except SlackApiError as error:
            if not await self._chart_refused(team_id, message, error):
                raise
            answer = await client.chat_postMessage(
                channel=channel_id, unfurl_links=False, **charts.without_charts(message)
            )
        await self.store.sent_now(team_id, channel_id, answer["ts"])
        await self.changed(team_id)  # App Home's "last digest"
        return answer["ts"]
