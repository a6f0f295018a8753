"""The Connections card: one row per provider with its state and buttons. Pure: data in, message out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from core.connection_status import CONNECTED, NEEDS_RECONNECT
from messages import blocks
from messages.views import ConnectionView, ProviderView

TITLE = "Connections"
NOT_CONNECTED = "Not connected"
NOT_AVAILABLE = "Not available on this installation"
NEEDS_RECONNECT_TEXT = ":warning: *Needs reconnect:* {reason}"
CONNECTED_TEXT = (
    ":white_check_mark: *Connected* to *{account}*{account_id} by <@{user}> since {since}. Last used {used}."
)
MEMBER_HINT = (
    "Only Slack admins and Quolum admins can connect accounts. "
    "Ask the account's admin to connect it with `/quolum invite @someone`."
)
CONNECT, RECONNECT, DISCONNECT = "Connect", "Reconnect", "Disconnect"
DISCONNECT_CONFIRM = "Quolum will stop reading {provider} and delete its stored credentials for {account}."

# action_id prefixes; the provider key follows the colon
CONNECT_LINK = "connect_link"  # a link button (OAuth): Slack still sends an action we acknowledge
CONNECT_MODAL = "connect_modal"  # an API-key provider: opens a modal
DISCONNECT_ACTION = "disconnect"


@dataclass(frozen=True)
class Row:
    spec: ProviderView
    available: bool
    connection: ConnectionView | None
    connect_url: str | None = None  # OAuth providers, for people who may connect
    incident: str | None = None  # an open incident's line (messages.alerts.incident_summary)
    grant_url: str | None = None  # a credential form's grant (`ProviderSpec.grant`): its consent link
    grant_held: bool = False  # the connection holds that grant (`Grant.held`): say so, offer it again


def slack_date(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    return blocks.slack_date(moment, blocks.DATE)


def state_line(row: Row) -> str:
    connection = row.connection
    if not row.available:
        return NOT_AVAILABLE
    if connection is None or connection.status not in (CONNECTED, NEEDS_RECONNECT):
        return NOT_CONNECTED
    if connection.status == NEEDS_RECONNECT:
        return NEEDS_RECONNECT_TEXT.format(
            reason=blocks.escape(connection.status_reason or "access was lost")
        )
    account_id = f" ({account_label(row.spec, connection.account_id)})" if connection.account_id else ""
    return CONNECTED_TEXT.format(
        account=blocks.escape(connection.account_name or connection.account_id or ""),
        account_id=account_id,
        user=blocks.escape(connection.connected_by or ""),
        since=slack_date(connection.connected_at),
        used=slack_date(connection.last_used_at),
    )


def account_label(spec: ProviderView, account_id: str | None) -> str:
    account_id = blocks.escape(account_id or "")
    return f"{spec.account_word} {account_id}"


def _buttons(row: Row, *, can_connect: bool, can_disconnect: bool) -> list[ButtonElement]:
    if not row.available or not can_connect:
        return []
    exists = row.connection is not None and row.connection.exists
    label = RECONNECT if exists else CONNECT
    key = row.spec.key
    if row.spec.oauth is not None:
        if not row.connect_url:
            return []
        buttons = [
            ButtonElement(
                text=label,
                action_id=f"{CONNECT_LINK}:{key}",
                url=row.connect_url,
                style=None if exists else "primary",
            )
        ]
    else:
        buttons = [
            ButtonElement(
                text=label, action_id=f"{CONNECT_MODAL}:{key}", value=key, style=None if exists else "primary"
            )
        ]
        if row.grant_url and row.spec.grant is not None:
            grant = row.spec.grant
            text = (grant.again or grant.label) if row.grant_held else grant.label
            buttons.append(ButtonElement(text=text, action_id=f"{CONNECT_LINK}:{key}", url=row.grant_url))
    if exists and can_disconnect:
        account = row.connection.account_name or row.spec.display_name
        buttons.append(
            ButtonElement(
                text=DISCONNECT,
                action_id=f"{DISCONNECT_ACTION}:{key}",
                value=key,
                style="danger",
                confirm=ConfirmObject(
                    title=f"Disconnect {row.spec.display_name}?",
                    text=DISCONNECT_CONFIRM.format(
                        provider=row.spec.display_name, account=blocks.escape(account)
                    ),
                    confirm=DISCONNECT,
                    deny="Cancel",
                    style="danger",
                ),
            )
        )
    return buttons


def connections_card(rows: list[Row], *, can_connect: bool, notice: str | None = None) -> dict:
    """The card; `can_connect` is true for Slack admins, Quolum admins and invited admins."""
    out: list[dict] = [blocks.header(TITLE)]
    if notice:
        out.append(blocks.markdown(notice))
    for row in rows:
        out.append(
            SectionBlock(
                block_id=f"row:{row.spec.key}",
                text=MarkdownTextObject(
                    text=f"*{row.spec.display_name}*\n{state_line(row)}{_granted(row)}{_incident(row)}"
                ),
            ).to_dict()
        )
        buttons = _buttons(row, can_connect=can_connect, can_disconnect=can_connect)
        if buttons:
            out.append(ActionsBlock(block_id=f"actions:{row.spec.key}", elements=buttons).to_dict())
    if not can_connect:
        out.append(ContextBlock(elements=[MarkdownTextObject(text=MEMBER_HINT)]).to_dict())
    summary = "; ".join(f"{row.spec.display_name}: {_plain_state(row)}" for row in rows)
    return blocks.message(f"{TITLE}: {summary}", out)


def _granted(row: Row) -> str:
    """The grant's own line while the connection holds it (a credential form's added consent)."""
    connected = row.connection is not None and row.connection.status == CONNECTED  # else: the state says why
    if not (row.grant_held and connected and row.available and row.spec.grant is not None):
        return ""
    return f"\n:white_check_mark: {row.spec.grant.granted}" if row.spec.grant.granted else ""


def _incident(row: Row) -> str:
    return f"\n{row.incident}" if row.incident and row.available else ""


def _plain_state(row: Row) -> str:
    if not row.available:
        return NOT_AVAILABLE.lower()
    if row.connection is None or not row.connection.exists:
        return NOT_CONNECTED.lower()
    if row.connection.status == NEEDS_RECONNECT:
        return "needs reconnect"
    return f"connected to {blocks.escape(row.connection.account_name or '')}"
