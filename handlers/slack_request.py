"""Slack's HTTP request bodies, parsed and checked before Bolt sees them.

Written by hand because Bolt's own parser gets ordinary bodies wrong and trusts their shape:

- slack-bolt 1.30.0, `slack_bolt.request.internals.parse_body`, treats a form body as an interaction
  when the *substring* "payload" occurs anywhere in it (`if "payload" in body:`), then returns `{}`
  when there is no `payload` field. A slash command typed as `/quolum help payload`, in
  `#payload-alerts`, from a workspace whose domain or a user whose name contains "payload" is
  therefore dropped. To report upstream (slackapi/bolt-python): look for the `payload` *field* after
  `parse_qsl`, not for the substring in the raw body.
- Bolt indexes fields it expects (`body["actions"][0]`, `body["event"]["type"]`, `view["callback_id"]`
  ...) and its context builders call `.get` on whatever `team`, `user`, `event` hold, so a signed but
  malformed body (`"actions": []`, `"event": "x"`) raised out of the ASGI app as a 500.

`parse()` reads the body as Slack sends it (JSON events; form-encoded commands; form-encoded
`payload=<json>` interactions); `problem()` says what is wrong with its shape, in one short phrase,
or None; `ParsedBoltRequest.build()` hands Bolt the parsed body with the raw one kept for its signature
check; `workspace_of()` says which workspace a checked request is for; `failed_answer()` is what Slack
gets when a listener failed before acknowledging.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from messages import alerts, invite_blocks
from services.slack_roles import Workspace

MAX_EVENT_ID = 64  # the slack_events.event_id column; Slack's own ids are about a dozen characters
_NONE = type(None)
_STR = (str, _NONE)
_DICT = (dict, _NONE)
_LIST = (list, _NONE)
# Fields Bolt or our listeners read, with the types Slack sends them as (absent is always fine).
ENVELOPE_TYPES: dict[str, tuple[type, ...]] = {
    "type": _STR,
    "token": _STR,
    "team_id": _STR,
    "user_id": _STR,
    "channel_id": _STR,
    "enterprise_id": _STR,
    "api_app_id": _STR,
    "command": _STR,
    "text": _STR,
    "response_url": _STR,
    "trigger_id": _STR,
    "event_id": _STR,
    "challenge": _STR,
    "team": _DICT,
    "user": _DICT,
    "channel": _DICT,
    "enterprise": _DICT,
    "authorizations": _LIST,
    # Bolt tests these with `in` and then reads them: present means an object (a list), never null
    "view": (dict,),
    "event": (dict,),
    "container": (dict,),
    "message": (dict,),
    "function_data": (dict,),
    "workflow_step": (dict,),
    "actions": (list,),
    "response_urls": (list,),
}
# Inside `event`, Bolt follows these into nested objects (message_changed, reactions, assistant threads).
EVENT_TYPES: dict[str, tuple[type, ...]] = {
    "type": (str,),
    "subtype": _STR,
    "channel": (str, dict, _NONE),
    "user": (str, dict, _NONE),
    "team": (str, dict, _NONE),
    "tab": _STR,
    "item": _DICT,
    "message": _DICT,
    "previous_message": _DICT,
    "assistant_thread": _DICT,
    "tokens": _DICT,
    "workflow_step": _DICT,
}
ID_HOLDERS = ("team", "user", "channel", "enterprise")  # {"id": "..."} objects
# Interactions always come from someone in a workspace: listeners read team.id and user.id.
INTERACTIONS = ("block_actions", "view_submission", "view_closed", "shortcut", "message_action")
# Listeners answer a click through `respond` (its response_url) and open modals with its trigger_id: Slack
# sends both with every click in a message, and a trigger_id with every click; only a click in a view
# (App Home, a modal) comes without a response_url.
# What our own buttons carry as their value, for the listeners that look it up: a value of any other shape
# was not made by us (an incident id past the database's integers raised OverflowError in the listener).
DATABASE_ID = re.compile(r"[0-9]{1,18}")  # fits a 64-bit integer column
INVITATION_ID = re.compile(r"[0-9a-f]{1,32}")  # storage.invitations' ids
ACTION_VALUES: dict[str, re.Pattern] = {
    alerts.ALERT_RECONNECT_ACTION: DATABASE_ID,
    invite_blocks.INVITE_CONNECT: INVITATION_ID,
    invite_blocks.INVITE_DECLINE: INVITATION_ID,
    invite_blocks.INVITE_REMIND: INVITATION_ID,
}
MAX_VALUE = 2000  # Slack's limit on a button's value
# Fields an event's listener reads, by event type, with their types (Slack always sends them).
EVENT_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "app_home_opened": {"user": (str,), "tab": (str,)},
}


def parse(raw: str, content_type: str | None) -> dict | None:
    """The body as a dict, or None when it is not one Slack could have sent."""
    if not raw:
        return None
    try:
        if content_type == "application/json" or raw.lstrip().startswith("{"):
            body = json.loads(raw)
        else:
            fields = dict(parse_qsl(raw, keep_blank_values=True))
            body = json.loads(fields["payload"]) if "payload" in fields else fields
    except ValueError:  # not JSON, or a `payload` field that is not JSON
        return None
    return body if isinstance(body, dict) and body else None


def problem(body: Mapping) -> str | None:
    """What is wrong with a parsed body's shape (a phrase for the log), or None."""
    wrong = _wrong_types(body, ENVELOPE_TYPES, "")
    if wrong:
        return wrong
    for name in ID_HOLDERS:
        holder = body.get(name)
        if isinstance(holder, dict) and not isinstance(holder.get("id"), _STR):
            return f"{name}.id is not a string"
    for name in ("authorizations", "response_urls"):
        if any(not isinstance(item, dict) for item in body.get(name) or ()):
            return f"{name} holds something other than objects"
    kind = body.get("type")
    if kind in INTERACTIONS:
        for name in ("team", "user"):
            if not isinstance(body.get(name), dict) or not isinstance(body[name].get("id"), str):
                return f"{kind} without {name}.id"
    if kind == "block_actions":
        actions = body.get("actions")
        if not actions:
            return "block_actions without actions"
        if any(not isinstance(a, dict) or not isinstance(a.get("action_id"), str) for a in actions):
            return "an action without an action_id"
        if any(not isinstance(a.get("value"), _STR) for a in actions):
            return "an action whose value is not a string"
        return _action_problem(body, actions)
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str):
            return f"{kind} without view.callback_id"
        if not isinstance(view.get("private_metadata"), _STR):
            return "view.private_metadata is not a string"
        state = view.get("state")
        if kind == "view_submission" and (
            not isinstance(state, dict) or not isinstance(state.get("values"), dict)
        ):
            return "view_submission without view.state.values"
    if kind == "event_callback":
        event, event_id = body.get("event"), body.get("event_id")
        if not isinstance(event, dict):
            return "event_callback without an event"
        if not isinstance(event_id, str) or not event_id or len(event_id) > MAX_EVENT_ID:
            return f"event_id is not a string of 1 to {MAX_EVENT_ID} characters"
        return _wrong_types(event, EVENT_TYPES, "event.") or _missing(
            event, EVENT_FIELDS.get(event.get("type"), {}), "event."
        )
    if "command" in body and not all(isinstance(body.get(k), str) for k in ("team_id", "user_id")):
        return "a command without team_id or user_id"
    return None


def _action_problem(body: Mapping, actions: list) -> str | None:
    if not isinstance(body.get("trigger_id"), str):
        return "block_actions without a trigger_id"
    in_view = "view" in body or (body.get("container") or {}).get("type") == "view"
    if not in_view and not (isinstance(body.get("response_url"), str) and body["response_url"]):
        return "a click in a message without a response_url"
    for action in actions:
        value, pattern = action.get("value"), ACTION_VALUES.get(action["action_id"])
        if value is not None and len(value) > MAX_VALUE:
            return f"an action value of more than {MAX_VALUE} characters"
        if pattern is not None and not pattern.fullmatch(value or ""):
            return f"{action['action_id']} with a value we never send"
    return None


def _missing(body: Mapping, fields: dict[str, tuple[type, ...]], prefix: str) -> str | None:
    for name, allowed in fields.items():
        if name not in body:
            return f"{prefix}{name} is missing"
        if not isinstance(body[name], allowed):
            return f"{prefix}{name} is a {type(body[name]).__name__}"
    return None


def workspace_of(body: Mapping) -> Workspace:
    """The workspace a checked request is for: its team, and its Enterprise Grid org and install kind."""
    team, enterprise = body.get("team"), body.get("enterprise")
    team_id = team.get("id") if isinstance(team, dict) else body.get("team_id")
    enterprise_id = enterprise.get("id") if isinstance(enterprise, dict) else body.get("enterprise_id")
    org_wide = body.get("is_enterprise_install") in (True, "true")  # a JSON boolean, or a form's "true"
    return Workspace(team_id or "", enterprise_id or None, org_wide)


def _wrong_types(body: Mapping, types: dict[str, tuple[type, ...]], prefix: str) -> str | None:
    for name, allowed in types.items():
        if name in body and not isinstance(body[name], allowed):
            return f"{prefix}{name} is a {type(body[name]).__name__}"
    if "type" in types and types["type"] == (str,) and "type" not in body:
        return f"{prefix}type is missing"
    return None


class ParsedBoltRequest(AsyncBoltRequest):
    """An AsyncBoltRequest built from our parse of the body; the raw body stays for Bolt's signature
    check. Never goes through Bolt's parser, copies (lazy listeners) included."""

    @classmethod
    def build(cls, raw: str, body: dict, *, query, headers, context: dict | None = None):
        request = cls(body="", query=query, headers=headers)  # "" parses to {} without Bolt's parser
        request.raw_body = raw
        request.body = body
        request.context = build_async_context(AsyncBoltContext(context or {}), body)
        return request

    def to_copyable(self) -> ParsedBoltRequest:
        return ParsedBoltRequest.build(
            self.raw_body,
            self.body,
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
        )


FAILED_TEXT = (
    "Sorry, Quolum could not do that just now: something went wrong on our side, and it has been "
    "logged. Please try again in a minute."
)


def failed_answer(body: Mapping) -> tuple[int, dict | None]:
    """What Slack gets when a listener failed before `ack()` (Bolt answers 500 then): never a 500.

    A slash command gets an ephemeral sentence; a modal submission keeps the modal open, with what was
    typed, and the sentence under its first input; anything else a plain 200 (Slack would show an
    error icon or retry an event that would fail the same way)."""
    if body.get("command"):
        return 200, {"response_type": "ephemeral", "text": FAILED_TEXT}
    if body.get("type") == "view_submission":
        blocks = (body.get("view") or {}).get("blocks") or []
        inputs = [b.get("block_id") for b in blocks if isinstance(b, dict) and b.get("type") == "input"]
        if inputs and isinstance(inputs[0], str):
            return 200, {"response_action": "errors", "errors": {inputs[0]: FAILED_TEXT}}
    return 200, None
