"""chat.* methods of the Slack stand-in (mixed into SlackStandIn): chat.postMessage with Slack's checks
and its per-channel rate limit, chat.postEphemeral, chat.update. Where messages are kept (threads,
edits, group DMs) is slack_messages.py."""

from __future__ import annotations

import math
import time

from starlette.responses import JSONResponse

from sandbox.standins.slack_blocks import block_errors
from sandbox.standins.slack_responses import fail, ok


def metadata_error(metadata) -> str | None:
    """Slack's checks of message metadata: an object with a string `event_type` and an object
    `event_payload` (invalid_metadata_format / invalid_metadata_schema otherwise)."""
    if not isinstance(metadata, dict) or "event_type" not in metadata or "event_payload" not in metadata:
        return "invalid_metadata_format"
    if not isinstance(metadata["event_type"], str) or not isinstance(metadata["event_payload"], dict):
        return "invalid_metadata_schema"
    return None


class ChannelRate:
    """chat.postMessage's limit: about one message per second per channel, with a short burst
    (a token bucket); beyond it Slack answers HTTP 429 with Retry-After in whole seconds."""

    def __init__(self, per_second: float = 1.0, burst: int = 3, clock=time.monotonic) -> None:
        self.per_second, self.burst, self.clock = per_second, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)

    def take(self, channel: str) -> float:
        """0 when the post may go; else the seconds until it could."""
        now = self.clock()
        tokens, at = self._buckets.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.per_second)
        if tokens >= 1:
            self._buckets[channel] = (tokens - 1, now)
            return 0.0
        self._buckets[channel] = (tokens, now)
        return (1 - tokens) / self.per_second


class ChatMixin:
    """chat.* on SlackStandIn's state: `channels`, `refusing`, `rate`, `posts` and its lock."""

    def _ts(self) -> str:
        return f"{int(time.time())}.{next(self._ids):06d}"

    def m_chat_postMessage(self, args, ws):
        channel_id = args.get("channel") or ""
        if not channel_id:
            return fail("channel_not_found")
        with self._lock:
            refused = self.refusing.get(channel_id)
            channel = self.channels.get(channel_id)
        if refused:
            return fail(refused)
        if channel_id[0] in "CG":  # a conversation, not a DM to a user id or a D... channel
            if channel is None or (ws and channel.team_id != ws.team_id):
                return fail("channel_not_found")
            if channel.is_private and not channel.is_member:
                return fail("channel_not_found")  # Slack does not admit a private channel exists
            if channel.is_archived:
                return fail("is_archived")
        if not args.get("text") and not args.get("blocks"):
            return fail("no_text")
        blocks = args.get("blocks") or []
        if len(blocks) > 50:
            return fail("invalid_blocks")
        if errors := block_errors(blocks, self.without_blocks.get(ws.team_id, ()) if ws else ()):
            return fail("invalid_blocks", messages=errors)
        if len(args.get("text") or "") > 40000:
            return fail("msg_too_long")
        if args.get("metadata") is not None and (bad := metadata_error(args["metadata"])):
            return fail(bad)
        with self._lock:
            wait = self.rate.take(channel_id) if self.rate else 0.0
            if wait:
                self.rate_limited += 1
            else:
                ts = self._ts()
        if wait:
            return JSONResponse(
                {"ok": False, "error": "ratelimited"},
                status_code=429,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        answer = self._post_message(
            args, ts=ts, ws=ws
        )  # kept for chat.update and threads (slack_messages.py)
        if answer.status_code == 200 and b'"ok":true' in answer.body.replace(b" ", b""):
            with self._lock:
                self.posts.setdefault(channel_id, []).append({**args, "ts": ts})
        return answer

    def m_chat_postEphemeral(self, args, ws):
        if args.get("user") not in self.users:
            return fail("user_not_in_channel")
        return ok(message_ts=self._ts())

    def m_chat_update(self, args, ws):
        if not args.get("ts"):
            return fail("message_not_found")
        if errors := block_errors(
            args.get("blocks") or [], self.without_blocks.get(ws.team_id, ()) if ws else ()
        ):
            return fail("invalid_blocks", messages=errors)
        return self._update_message(args)
