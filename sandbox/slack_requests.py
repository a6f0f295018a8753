"""Build Slack's requests as Slack sends them: form-encoded commands, `payload=` actions, JSON events, signed."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"


def signed_headers(
    body: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": content_type}


def command_fields(
    text: str,
    *,
    team_id: str = "T0001",
    user_id: str = "U0001",
    channel_id: str = "C0001",
    response_url: str = "https://hooks.slack.com/commands/T0001/1/x",
    trigger_id: str = "1.2.abc",
    command: str = "/quolum",
) -> dict[str, str]:
    """A slash command's fields as Slack sends them (the HTTP form, or a Socket Mode payload)."""
    return {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "team_domain": "acme",
        "channel_id": channel_id,
        "channel_name": "general",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A0QUOLUM",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def command(text: str, **fields) -> str:
    """A signed-able, form-encoded slash command body."""
    return urlencode(command_fields(text, **fields))


def action(
    action_id: str,
    *,
    value: str = "",
    team_id: str = "T0001",
    user_id: str = "U0001",
    response_url: str | None = None,
    extra: dict | None = None,
    element: str = "button",
) -> str:
    """A block_actions payload: a button's `value`, or a conversations_select's `selected_conversation`."""
    chosen = {"selected_conversation": value} if element == "conversations_select" else {"value": value}
    payload = {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "acme"},
        "user": {"id": user_id, "team_id": team_id},
        "api_app_id": "A0QUOLUM",
        "trigger_id": "1.2.trigger",
        "container": {"type": "message"},
        "channel": {"id": "C0001"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b",
                "type": element,
                **chosen,
                "action_ts": str(time.time()),
            }
        ],
        **(extra or {}),
    }
    return urlencode({"payload": json.dumps(payload)})


def event(event: dict, *, team_id: str = "T0001", event_id: str = "Ev0001") -> str:
    return json.dumps(
        {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "api_app_id": "A0QUOLUM",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team_id, "user_id": "UBOT0001", "is_bot": True}],
        }
    )


def view_submission(
    view: dict,
    values: dict,
    *,
    team_id: str = "T0001",
    user_id: str = "U0001",
    username: str | None = None,
    view_id: str | None = None,
) -> str:
    """A form-encoded `view_submission` for `view` (as the bot opened it) with the state `values`
    ({block_id: {action_id: {...}}}), as Slack sends it."""
    view_id = view_id or view.get("id") or "V0SUBMIT"
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "acme"},
        "user": {"id": user_id, "username": username or user_id.lower(), "team_id": team_id},
        "api_app_id": "A0QUOLUM",
        "token": "deprecated-verification-token",
        "trigger_id": "1.2.submit",
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": values},
            "hash": "1700000000.abc",
            "title": view.get("title"),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "root_view_id": view_id,
            "app_id": "A0QUOLUM",
            "bot_id": "BBOT0001",
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return urlencode({"payload": json.dumps(payload)})
