"""views.* methods of the Slack stand-in (mixed into SlackStandIn): modals (views.open, views.update)
and the App Home tab (views.publish), with the Block Kit checks Slack makes."""

from __future__ import annotations

import json
import secrets
import time

from sandbox.standins.slack_responses import fail, ok


class ViewsMixin:
    """views.* on SlackStandIn's `views`, `home_views` and `home_tab_enabled`, under its lock."""

    def m_views_open(self, args, ws):
        if not args.get("trigger_id"):
            return fail("invalid_trigger_id")
        view = {**(args.get("view") or {}), "id": f"V{next(self._ids):08d}"}
        with self._lock:
            self.views[view["id"]] = {**view, "trigger_id": args["trigger_id"]}
        return ok(view=view)

    def m_views_update(self, args, ws):
        view_id = args.get("view_id", "V0")
        view = {**(args.get("view") or {}), "id": view_id}
        with self._lock:
            if view_id in self.views:
                self.views[view_id] = {**view, "trigger_id": self.views[view_id]["trigger_id"]}
        return ok(view=view)

    def m_views_publish(self, args, ws):
        """As Slack does: the user must exist, the Home tab be enabled, `view` be a valid home view
        (Block Kit checked with slack_sdk's models, <= 100 blocks, <= 250 kB) and `hash`, when given, the
        current one. The published view is kept per user (`home_views`) as Slack keeps it."""
        user_id = args.get("user_id")
        if user_id not in self.users:
            return fail("user_not_found")
        view = args.get("view")
        if not isinstance(view, dict):
            return fail("invalid_arguments", messages=["[ERROR] missing required field: view"])
        if len(json.dumps(view)) > 250_000:
            return fail("view_too_large")
        problem = view_problem(view, "home")
        if problem:
            return fail("invalid_arguments", messages=[f"[ERROR] {problem} [json-pointer:/view]"])
        if not self.home_tab_enabled:
            return fail("not_enabled")
        with self._lock:
            current = self.home_views.get(user_id)
            if args.get("hash") and current is not None and args["hash"] != current["hash"]:
                return fail("hash_conflict")
            view_id = current["id"] if current else f"V{next(self._ids):08d}"
            published = {
                **view,
                "id": view_id,
                "team_id": ws.team_id if ws else None,
                "hash": f"{time.time():.6f}.{secrets.token_hex(4)}",
                "bot_id": ws.bot_id if ws else None,
            }
            self.home_views[user_id] = published
        return ok(view=published)


def view_problem(view: dict, kind: str) -> str | None:
    """Why Slack would refuse `view` as a `kind` view, or None (slack_sdk's models know Block Kit's rules)."""
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import Block
    from slack_sdk.models.views import View

    if view.get("type") != kind:
        return f"view type must be {kind}"
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        return "missing required field: blocks"
    for i, block in enumerate(blocks):
        parsed = Block.parse(block) if isinstance(block, dict) else None
        if parsed is None:
            return f"unknown block type at /blocks/{i}"
        try:
            parsed.validate_json()
        except SlackObjectFormationError as error:
            return f"{error} [/blocks/{i}]"
    try:
        View(
            **{
                k: v
                for k, v in view.items()
                if k
                in (
                    "type",
                    "blocks",
                    "callback_id",
                    "private_metadata",
                    "external_id",
                    "title",
                    "close",
                    "submit",
                )
            }
        ).validate_json()
    except SlackObjectFormationError as error:
        return str(error)
    return None
