"""users.* and conversations.* methods of the Slack stand-in (mixed into SlackStandIn): who is in the
workspace and which channels the bot may see, as Slack answers for them."""

from __future__ import annotations

from sandbox.standins.slack_responses import fail, ok


class DirectoryMixin:
    """users.* and conversations.* on SlackStandIn's `users` and `channels`, under its lock."""

    def m_conversations_info(self, args, ws):
        with self._lock:
            channel = self.channels.get(args.get("channel", ""))
        if channel is None or (ws and channel.team_id != ws.team_id):
            return fail("channel_not_found")
        if channel.is_private and not channel.is_member:
            return fail("channel_not_found")
        return ok(channel=channel.info())

    def m_users_lookupByEmail(self, args, ws):
        email = (args.get("email") or "").lower()
        with self._lock:
            found = next(
                (
                    u
                    for u in self.users.values()
                    if (u.get("profile") or {}).get("email", "").lower() == email
                    and (ws is None or _member(u, ws.team_id))
                ),
                None,
            )
        if found is None or not email:
            return fail("users_not_found")
        return ok(user=found)

    def m_conversations_open(self, args, ws):
        users = args.get("users", "")
        if isinstance(users, list):
            users = ",".join(users)
        if "," in users:
            return self._open_group(users.split(","))
        first = users.split(",")[0] if users else ""
        user = self.users.get(first)
        if user is None:
            return fail("user_not_found")
        if user.get("is_bot"):
            return fail("cannot_dm_bot")
        if user.get("deleted"):
            return fail("user_disabled")
        return ok(channel={"id": "D" + first[1:]})

    def m_users_info(self, args, ws):
        user = self.users.get(args.get("user", ""))
        if user is None:
            return fail("user_not_found")
        return ok(user=user)

    def m_users_list(self, args, ws):
        members = [u for u in self.users.values() if ws is None or _member(u, ws.team_id)]
        return ok(members=members, response_metadata={"next_cursor": ""})


def _member(user: dict, team_id: str) -> bool:
    """A member of the workspace: at home there, or (Enterprise Grid) one of its org's users in it too."""
    return user["team_id"] == team_id or team_id in (user.get("enterprise_user") or {}).get("teams", ())
