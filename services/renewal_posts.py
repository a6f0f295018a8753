"""Posting renewal reminders exactly once (mixed into RenewalsService, which gives it `storage`,
`slack_clients`, `clock`, `lease`, `settings` and `view`).

Each destination of a decided reminder is a row (storage/renewals.py) delivered as digests are: claimed
with a lease renewed while it works (services/leases.py), every write fenced by the claim's version;
`post_started_at` is recorded before posting, and the post carries its key in Slack's metadata
(services/slack_once.py), so an attempt after one whose outcome is unknown looks in the channel first
and a post Slack took is never made twice. Slack's refusals are final (`channel_not_found`: the row is
refused); what may pass (Slack unreachable, 5xx, rate limits) is retried from RETRY_AFTER on, at most
MAX_ATTEMPTS times, then refused."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

from core.renewals import MISSED
from messages import renewals as msg
from services import slack_once
from services.leases import heartbeat
from storage.renewals import CHANNEL, Post

log = logging.getLogger("quolum.renewals")

RENEWAL_EVENT = "quolum_renewal"  # the metadata event_type of a reminder post
RETRY_AFTER = timedelta(minutes=2)  # a post Slack did not take is tried again by a run from then on
MAX_ATTEMPTS = 24  # claims of one post (a day of hourly runs): then it is refused, not retried forever
TRANSIENT = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}


class Refused(Exception):
    """Nothing was posted, and trying again would not change that (one word: the reason)."""


def transient(error: SlackApiError) -> bool:
    status = getattr(error.response, "status_code", 200) or 200
    return error.response.get("error") in TRANSIENT or status == 429 or status >= 500


class PostsMixin:
    async def deliver(self, now: datetime) -> int:
        """Claim pending posts one at a time until none is left; returns how many were posted."""
        posted = 0
        while True:
            lease_from = max(now, self.clock())  # `jobs run --at` in the past must still hold a real lease
            claimed = await self.storage.reminders.claim(lease_from, self.lease)
            if not claimed:
                return posted
            posted += await self._work(claimed[0], now, lease_from) == "posted"

    async def _work(self, post: Post, now: datetime, lease_from: datetime) -> str:
        def renew():
            return self.storage.reminders.renew(post, max(lease_from, self.clock()) + self.lease)

        async with heartbeat(renew, self.lease.total_seconds() / 3):
            try:
                return await self._post(post, now)
            except Refused as refusal:
                log.info("renewal reminder %s (%s) refused: %s", post.id, post.destination, refusal)
                await self.storage.reminders.refused(post, str(refusal))
                return "refused"
            except SlackApiError as error:  # an answer: nothing was posted
                code = error.response.get("error") or "error"
                return await self._failed(post, code, transient(error), answered=True)
            except Exception:
                log.exception("renewal reminder %s failed", post.id)
                return await self._failed(post, "error", True)

    async def _failed(self, post: Post, code: str, retry: bool, *, answered: bool = False) -> str:
        if retry and post.attempts < MAX_ATTEMPTS:
            log.warning("renewal reminder %s not posted (%s): retried later", post.id, code)
            await self.storage.reminders.release(post, code, self.clock() + RETRY_AFTER, answered=answered)
            return "retrying"
        log.info("renewal reminder %s (%s) refused: %s", post.id, post.destination, code)
        await self.storage.reminders.refused(post, code)
        return "refused"

    async def _post(self, post: Post, now: datetime) -> str:
        stored = await self.storage.contracts.get(post.team_id, post.provider)
        if stored is None or stored.dates_rev != post.dates_rev:
            raise Refused("out_of_date")  # new dates since: their own stages remind
        client = await self.slack_clients(post.team_id)
        if client is None:
            raise Refused("not_installed")
        settings = await self.settings(post.team_id)
        if post.destination == CHANNEL:
            channel = await self.storage.alert_routes.get(post.team_id)
            if not channel:
                raise Refused("no_alerts_channel")
        else:  # the owner's DM (again@…: *Remind me later* reminds the one who asked)
            if not stored.contract.owner:
                raise Refused("no_owner")
            channel = (await client.conversations_open(users=stored.contract.owner))["channel"]["id"]
        reminder = await self.view(stored, post.stage, settings, now)
        message = msg.missed_message(reminder) if post.stage == MISSED else msg.reminder_message(reminder)
        if not await self.storage.reminders.start_post(post):
            log.warning("renewal reminder %s: claim lost before posting; not posted", post.id)
            return "lost"
        sent = await slack_once.post_once(
            client,
            channel=channel,
            message=message,
            event_type=RENEWAL_EVENT,
            key=f"{reminder.key}|{post.destination}",
            since=post.post_started_at or self.clock(),
            look_first=post.post_started_at is not None,
        )
        if sent.state == slack_once.NOT_POSTED:
            return await self._failed(post, sent.reason or "error", True)
        if sent.state == slack_once.UNCERTAIN:
            log.warning("renewal reminder %s may be posted; cannot check (%s)", post.id, sent.reason)
            await self.storage.reminders.uncertain(post, channel, sent.reason or "unknown")
            return "uncertain"
        if not await self.storage.reminders.posted(post, sent.channel, sent.ts):
            log.warning("renewal reminder %s: claim lost while posting (ts %s)", post.id, sent.ts)
            return "lost"
        return "posted"
