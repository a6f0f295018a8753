"""The Slack stand-in's messages: what chat.postMessage posted (with its metadata), thread replies,
chat.update edits, group DMs and conversations.history, kept as Slack keeps them (mixed into
SlackStandIn)."""

from __future__ import annotations

import base64
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

    def _post_message(self, args: dict, ts: str | None = None, ws=None) -> JSONResponse:
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
                "metadata": args.get("metadata"),
                "bot_user_id": ws.bot_user_id if ws else None,
                "bot_id": ws.bot_id if ws else None,
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

    # --- conversations.history ----------------------------------------------------------------
    def _history_refusal(self, channel_id: str, ws) -> JSONResponse | None:
        """Slack's checks: the history scope of the conversation's kind, then access (a bot token
        reads a public channel only if it is a member: `not_in_channel`)."""
        channel = self.channels.get(channel_id)
        if channel_id[:1] == "D":
            needed = "im:history"
        elif channel is None or (ws and channel.team_id != ws.team_id):
            return fail("channel_not_found")
        elif channel.name.startswith("mpdm-"):
            needed = "mpim:history"
        else:
            needed = "groups:history" if channel.is_private else "channels:history"
        granted = (ws.scopes if ws else "").split(",")
        if needed not in granted:
            return JSONResponse(
                {"ok": False, "error": "missing_scope", "needed": needed, "provided": ws.scopes if ws else ""}
            )
        if channel is not None and not channel.is_member:
            return fail("channel_not_found" if channel.is_private else "not_in_channel")
        return None

    def m_conversations_history(self, args, ws):
        """Top-level messages, newest first, between `oldest` and `latest` (exclusive unless
        `inclusive`), `limit` per page (default 100, at most 999), paged with `cursor`; message
        metadata only with `include_all_metadata`."""
        channel_id = self._dm_of(args.get("channel") or "")
        if not channel_id:
            return fail("channel_not_found")
        refusal = self._history_refusal(channel_id, ws)
        if refusal is not None:
            return refusal
        try:
            oldest = float(args.get("oldest") or 0)
            latest = float(args.get("latest") or time.time() + 1)
            limit = min(max(int(args.get("limit") or 100), 1), 999)
            start = int(base64.b64decode(args["cursor"]).decode().split(":")[1]) if args.get("cursor") else 0
        except (ValueError, IndexError):
            return fail("invalid_arguments")
        inclusive = str(args.get("inclusive", "")).lower() in ("1", "true")
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")

        def inside(ts: float) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        with self._lock:
            found = [
                m
                for (c, _), m in self._messages().items()
                if c == channel_id and not m["thread_ts"] and inside(float(m["ts"]))
            ]
        found.sort(key=lambda m: float(m["ts"]), reverse=True)
        page = found[start : start + limit]
        more = start + limit < len(found)
        cursor = base64.b64encode(f"next_ts:{start + limit}".encode()).decode() if more else ""
        return ok(
            messages=[self._history_message(m, with_metadata) for m in page],
            has_more=more,
            response_metadata={"next_cursor": cursor},
        )

    @staticmethod
    def _history_message(message: dict, with_metadata: bool) -> dict:
        out = {"type": "message", "ts": message["ts"], "text": message["text"]}
        if message.get("bot_id"):
            out |= {"user": message["bot_user_id"], "bot_id": message["bot_id"]}
        if message.get("blocks"):
            out["blocks"] = message["blocks"]
        if with_metadata and message.get("metadata"):
            out["metadata"] = message["metadata"]
        return out
