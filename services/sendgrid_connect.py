"""Connecting SendGrid with an API key, and checking stored keys every day.

`SendGridConnectService.connect()` verifies a pasted key with SendGrid and saves it (encrypted, by
`ConnectionStore.save_connected`), or says in one sentence why it did not; `finish()` then updates
the Connections card and confirms to the person (`ConnectionsService.after_connect`). The handlers
in handlers/sendgrid.py decide how to show the result inside Slack's 3-second window.

`check_sendgrid(connection)` is the health check the `connection_health` job (services/health.py)
runs: a key that answers 401 makes the connection *Needs reconnect*; a 403 on one endpoint marks that
feature unavailable and leaves the connection alone. The alerts service tells people.

The key is never logged, never put in a message, and never kept anywhere but the encrypted row.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from messages.blocks import escape
from providers.catalogue import SENDGRID
from providers.http import MissingScopes, ProviderError
from providers.sendgrid.client import Health, KeyInfo, SendGridClient, classify, normalise_key
from storage.connections import CONNECTED, ConnectionRecord

if TYPE_CHECKING:
    from core.clock import Clock
    from services.connections import ConnectionsService
    from storage.store import Storage

log = logging.getLogger("quolum.sendgrid")

VERIFY_DEADLINE = 25.0  # seconds: past this the person is told SendGrid is not answering

# --- what people read ------------------------------------------------------------------------------
UNNAMED_ACCOUNT = "your SendGrid account"
KEY_REJECTED = (
    "SendGrid did not accept this key: it may have been mistyped, deleted or revoked. "
    "Check it, or create a new one."
)
KEY_FORBIDDEN = (
    "SendGrid says this key may not read anything. Create a restricted key with the scopes listed above."
)
UNAVAILABLE = (
    "SendGrid is not answering right now, so the key could not be checked. Nothing was saved: "
    "please try again in a few minutes."
)
FAILED = (
    "SendGrid refused to check the key{status}. Nothing was saved. If this keeps happening, tell "
    "whoever runs this Quolum bot."
)
INVITATION_CLOSED = (
    "This invitation is no longer open (it was declined, has expired or was used), so nothing was saved. "
    "Ask whoever invited you to send a new one."
)
INTERNAL = "Something went wrong on our side and nothing was saved. Please try again in a minute."
CONNECTED_NOTE = ":white_check_mark: SendGrid is connected to *{account}*{account_id}."
MISSING_NOTE = (
    ":warning: The key lacks {scopes}, so Quolum cannot {purposes}. To turn {that} on, create a key "
    "that has {them} and choose Reconnect."
)
WRITE_NOTE = (
    "This key can also change things in SendGrid ({scopes}). Quolum only reads: a restricted, "
    "read-only key is safer."
)
ACCOUNT_CHANGED = "This replaces the connection to {before}."
NOT_CONNECTED_DM = "SendGrid was not connected: {reason}"
REVOKED_REASON = (
    "SendGrid no longer accepts the API key (it was deleted or revoked): reconnect with a new key"
)
NEWLY_UNAVAILABLE_LOG = "sendgrid connection %s: key may no longer read %s"


@dataclass(frozen=True)
class ModalContext:
    """Who opened the modal and where to answer: all of it goes into the modal's `private_metadata`,
    so it is never secret (no key; Slack returns it to us, signed, with the submission)."""

    team_id: str
    user_id: str
    response_url: str | None = None  # the Connections card's, to update it in place
    channel_id: str | None = None
    invitation_id: str | None = None  # opened from an invitation: the invitation was the permission

    def to_metadata(self) -> str:
        fields = {
            "team": self.team_id,
            "user": self.user_id,
            "response_url": self.response_url,
            "channel": self.channel_id,
            "invitation": self.invitation_id,
        }
        return json.dumps({k: v for k, v in fields.items() if v})

    @classmethod
    def from_metadata(cls, text: str | None) -> ModalContext | None:
        try:
            data = json.loads(text or "")
        except ValueError:
            return None
        if not isinstance(data, dict) or not data.get("team") or not data.get("user"):
            return None
        return cls(
            team_id=str(data["team"]),
            user_id=str(data["user"]),
            response_url=data.get("response_url") or None,
            channel_id=data.get("channel") or None,
            invitation_id=data.get("invitation") or None,
        )


@dataclass(frozen=True)
class ConnectResult:
    """The outcome of one submission, for the modal, the card and the DM. Never holds the key."""

    kind: Literal["connected", "rejected", "unavailable", "failed", "refused"]
    message: str  # failures: the sentence to show; connected: the note below
    region: str
    connection: ConnectionRecord | None = None
    missing: tuple[tuple[str, str], ...] = ()  # (scope, purpose) the key lacks
    write_scopes: tuple[str, ...] = ()
    note: str = ""  # connected: the card's notice and the DM

    @property
    def connected(self) -> bool:
        return self.kind == "connected"


def missing_note(missing: list[tuple[str, str]]) -> str:
    """The sentence listing the scopes a key lacks and what Quolum cannot do without them; "" if none."""
    if not missing:
        return ""
    scopes = _join([f"`{scope}`" for scope, _ in missing], "and")
    purposes = _join([purpose for _, purpose in missing], "or")
    many = len(missing) > 1
    return MISSING_NOTE.format(
        scopes=scopes, purposes=purposes, them="them" if many else "it", that="those" if many else "that"
    )


def connected_note(info: KeyInfo, account: str, previous: tuple[str | None, str | None] | None) -> str:
    account_id = f" (account {escape(info.user_id)})" if info.user_id else ""
    parts = [CONNECTED_NOTE.format(account=escape(account), account_id=account_id)]
    if previous and info.user_id:
        parts.append(ACCOUNT_CHANGED.format(before=escape(previous[1] or previous[0])))
    if info.write_scopes:
        shown = ", ".join(f"`{s}`" for s in info.write_scopes[:3])
        more = f" and {len(info.write_scopes) - 3} more" if len(info.write_scopes) > 3 else ""
        parts.append(WRITE_NOTE.format(scopes=shown + more))
    note = " ".join(parts)
    lacking = missing_note([(s, SENDGRID.purpose_of(s)) for s in info.missing])
    return f"{note}\n{lacking}" if lacking else note


def _join(items: list[str], word: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


class SendGridConnectService:
    def __init__(
        self, *, storage: Storage, client: SendGridClient, connections: ConnectionsService, clock: Clock
    ) -> None:
        self.storage = storage
        self.client = client
        self.connections = connections  # the card update and the DMs after connecting
        self.clock = clock

    # --- connecting ---------------------------------------------------------------------------
    async def connect(self, ctx: ModalContext, pasted_key: str, region: str) -> ConnectResult:
        """Verify the key with SendGrid and save it; the caller has checked its shape and the region."""
        api_key = normalise_key(pasted_key)
        try:
            async with asyncio.timeout(VERIFY_DEADLINE):
                info = await self.client.verify(api_key, region)
        except TimeoutError:
            log.warning("sendgrid key check for team %s took longer than %ss", ctx.team_id, VERIFY_DEADLINE)
            return ConnectResult("unavailable", UNAVAILABLE, region)
        except ProviderError as error:  # its text is scrubbed of the key by the HTTP layer
            kind = classify(error)
            log.info("sendgrid key check for team %s failed (%s): %s", ctx.team_id, kind, error)
            return ConnectResult(kind, _failure_message(kind, error), region)
        # spend the invitation (open -> accepted) just before saving: it grants this, once, while open
        if ctx.invitation_id and not await self.storage.invitations.accept(
            ctx.invitation_id, team_id=ctx.team_id, invitee_id=ctx.user_id, provider=SENDGRID.key
        ):
            log.info("sendgrid connect for team %s refused: the invitation is not open", ctx.team_id)
            return ConnectResult("refused", INVITATION_CLOSED, region)
        account = info.username or UNNAMED_ACCOUNT
        saved = await self.storage.connections.save_connected(
            team_id=ctx.team_id,
            provider=SENDGRID.key,
            account_id=info.user_id or "",
            account_name=account,
            credentials={"api_key": api_key, "region": region, "base_url": self.client.base_url(region)},
            connected_by=ctx.user_id,
            scopes=list(info.scopes),
            details={**info.details, "region": region},
            unavailable=list(info.missing),
        )
        log.info(
            "sendgrid connected: team %s connection %s (%d scopes, %d missing)",
            ctx.team_id,
            saved.record.id,
            len(info.scopes),
            len(info.missing),
        )
        note = connected_note(info, account, saved.previous_account)
        return ConnectResult(
            "connected",
            note,
            region,
            connection=saved.record,
            missing=tuple((s, SENDGRID.purpose_of(s)) for s in info.missing),
            write_scopes=info.write_scopes,
            note=note,
        )

    async def finish(self, ctx: ModalContext, result: ConnectResult) -> None:
        """After Slack was answered: update the card in place and confirm to the person."""
        if result.connected and result.connection is not None:
            # the invitation goes along: a card is only rebuilt for those who opened the modal from it
            payload = {"response_url": ctx.response_url, "invitation_id": ctx.invitation_id}
            await self.connections.after_connect(result.connection, ctx.user_id, payload, result.note)

    async def tell_failure(self, ctx: ModalContext, result: ConnectResult) -> None:
        """The modal could not be updated (closed meanwhile): say what happened in a DM instead."""
        await self.connections.notify(
            ctx.team_id, ctx.user_id, NOT_CONNECTED_DM.format(reason=result.message)
        )

    # --- health -------------------------------------------------------------------------------
    async def check_sendgrid(self, connection: ConnectionRecord) -> Health:
        """Probe a stored key: 401 -> Needs reconnect (and its owner told once); 403 -> unavailable."""
        api_key = connection.credentials.get("api_key")
        if connection.provider != SENDGRID.key or connection.status != CONNECTED or not api_key:
            return Health("skipped")
        health = await self.client.health(
            api_key,
            self.client.base_url_for(connection.credentials),
            today=self.clock().date(),
            account=connection.account_id or f"connection:{connection.id}",
        )
        if health.status == "revoked":  # the alert (services/alerts.py) tells people, once
            if await self.storage.connections.mark_needs_reconnect(connection.id, REVOKED_REASON):
                log.warning("sendgrid connection %s needs reconnect: the key answers 401", connection.id)
        elif health.status == "ok":
            newly = sorted(set(health.unavailable) - set(connection.unavailable))
            if newly:
                log.info(NEWLY_UNAVAILABLE_LOG, connection.id, ", ".join(newly))
                await self.storage.connections.mark_unavailable(connection.id, newly)
            # a permission granted again on the same key (SendGrid lets admins edit a key in place):
            # the feature works again without a reconnect; a probe that could not tell keeps its state
            recovered = set(connection.unavailable) - set(health.unavailable) - set(health.unknown)
            if recovered or (health.scopes and set(health.scopes) != set(connection.scopes)):
                if recovered:
                    log.info(
                        "sendgrid connection %s: available again: %s",
                        connection.id,
                        ", ".join(sorted(recovered)),
                    )
                still = (set(connection.unavailable) | set(newly)) - recovered
                await self.storage.connections.set_features(connection.id, list(health.scopes), sorted(still))
        else:
            log.info("sendgrid connection %s could not be checked: %s", connection.id, health.reason)
        return health


def _failure_message(kind: str, error: ProviderError) -> str:
    if kind == "rejected":
        return KEY_FORBIDDEN if isinstance(error, MissingScopes) else KEY_REJECTED
    if kind == "unavailable":
        return UNAVAILABLE
    return FAILED.format(status=f" ({error.status})" if error.status else "")
