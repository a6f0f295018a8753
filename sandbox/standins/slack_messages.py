"""The Slack stand-in's messages: what chat.postMessage posted, thread replies, chat.update edits and
group DMs, kept as Slack keeps them (mixed into SlackStandIn)."""

from __future__ import annotations

import time

from starlette.responses import JSONResponse

from sandbox.standins.slack_responses import fail, ok


class MessagesMixin:
    """Messages kept as Slack keeps them, for alerts: chat.postMessage stores (channel, ts), with
    `thread_ts` as a reply in that message's thread; chat.update only edits a message that exists in
    that channel (else `message_not_found`, as Slack answers); conversations.open with several users
    opens one group DM (G...), with a bot and up to 8 people, each of them active."""

    def _messages(self) -> dict[tuple[str, str], dict]:
        if not hasattr(self, "_message_store"):
            self._message_store: dict[tuple[str, str], dict] = {}
            self._channels: dict[str, str] = {}  # a user id posted to -> the DM channel it is
        return self._message_store

    def _post_message(self, args: dict, ts: str | None = None) -> JSONResponse:
        channel = self._dm_of(args["channel"])
        store = self._messages()
        thread = args.get("thread_ts")
        if thread and (channel, thread) not in store:
            return fail("thread_not_found")
        with self._lock:
            ts = ts or f"{time.time():.6f}"
            while (channel, ts) in store:  # ts is unique within a channel
                ts = f"{float(ts) + 0.000001:.6f}"
            store[(channel, ts)] = {
                "channel": channel,
                "ts": ts,
                "thread_ts": thread,
                "text": args.get("text", ""),
                "blocks": args.get("blocks"),
                "replies": [],
                "edits": 0,
            }
            if thread:
                store[(channel, thread)]["replies"].append(ts)
        return ok(channel=channel, ts=ts, message={"text": args.get("text", "")})

    def _update_message(self, args: dict) -> JSONResponse:
        channel = self._dm_of(args.get("channel") or "")
        with self._lock:
            message = self._messages().get((channel, args["ts"]))
            if message is None:
                return fail("message_not_found")
            message.update(text=args.get("text", ""), blocks=args.get("blocks"), edits=message["edits"] + 1)
        return ok(channel=channel, ts=args["ts"], text=args.get("text", ""))

    def _dm_of(self, channel: str) -> str:
        """Posting to a user id posts to the DM with them (D + the id, as conversations.open answers)."""
        return "D" + channel[1:] if channel[:1] in ("U", "W") else channel

    def _open_group(self, users: list[str]) -> JSONResponse:
        if len(users) > 8:
            return fail("too_many_users")
        for user_id in users:
            user = self.users.get(user_id)
            if user is None:
                return fail("user_not_found")
            if user.get("deleted"):
                return fail("user_disabled")
        group = "G" + "".join(u[1:4] for u in sorted(users))
        if group not in self.channels:  # a group DM: private, and the bot is in it
            self.add_channel(group, f"mpdm-{'-'.join(sorted(users))}", private=True, member=True)
        return ok(channel={"id": group})

    def messages_in(self, channel: str) -> list[dict]:
        """Top-level messages posted in `channel` (a user id means the DM with them), oldest first."""
        channel = self._dm_of(channel)
        with self._lock:
            return [
                m for (c, _), m in sorted(self._messages().items()) if c == channel and not m["thread_ts"]
            ]

    def all_messages(self) -> list[dict]:
        with self._lock:
            return [m for _, m in sorted(self._messages().items())]
