"""Connecting a provider whose entry has a credential form (SendGrid: an API key and a region).

`CredentialConnectService.connect()` has the provider verify what was pasted (its `verify_form` hook)
and saves it (encrypted, by `ConnectionStore.save_connected`), or says in one sentence why it did not
(the provider's own, from its optional `verify_message` hook, else the generic one of the failure's
kind); a credential lacking permissions is saved with the provider's `Verified.missing_sentence`, else
the generic list of what it lacks;
`finish()` then updates the Connections card and confirms to the person
(`ConnectionsService.after_connect`). The handlers in handlers/credentials.py decide how to show the
result inside Slack's 3-second window. The hourly check of stored credentials is services/health.py's.

The credential is never logged, never put in a message, and never kept anywhere but the encrypted row.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from messages.blocks import escape
from providers.http import MissingScopes, ProviderError
from providers.plugin import ProviderSpec, Verified
from storage.connections import ConnectionRecord

if TYPE_CHECKING:
    from core.clock import Clock
    from providers.registry import Bound
    from services.connections import ConnectionsService
    from storage.store import Storage

log = logging.getLogger("quolum.credential_connect")

VERIFY_DEADLINE = 25.0  # seconds: past this the person is told SendGrid is not answering

# --- what people read ------------------------------------------------------------------------------
UNNAMED_ACCOUNT = "your {provider} account"
KEY_REJECTED = (
    "{provider} did not accept this key: it may have been mistyped, deleted or revoked. "
    "Check it, or create a new one."
)
KEY_FORBIDDEN = (
    "{provider} says this key may not read anything. Create a restricted key with the scopes listed above."
)
UNAVAILABLE = (
    "{provider} is not answering right now, so the key could not be checked. Nothing was saved: "
    "please try again in a few minutes."
)
FAILED = (
    "{provider} refused to check the key{status}. Nothing was saved. If this keeps happening, tell "
    "whoever runs this Quolum bot."
)
INVITATION_CLOSED = (
    "This invitation is no longer open (it was declined, has expired or was used), so nothing was saved. "
    "Ask whoever invited you to send a new one."
)
INTERNAL = "Something went wrong on our side and nothing was saved. Please try again in a minute."
CONNECTED_NOTE = ":white_check_mark: {provider} is connected to *{account}*{account_id}."
MISSING_NOTE = (
    ":warning: The key lacks {scopes}, so Quolum cannot {purposes}. To turn {that} on, create a key "
    "that has {them} and choose Reconnect."
)
WRITE_NOTE = (
    "This key can also change things in {provider} ({scopes}). Quolum only reads: a restricted, "
    "read-only key is safer."
)
ACCOUNT_CHANGED = "This replaces the connection to {before}."
NOT_CONNECTED_DM = "{provider} was not connected: {reason}"


@dataclass(frozen=True)
class ModalContext:
    """Who opened the modal and where to answer: all of it goes into the modal's `private_metadata`,
    so it is never secret (no key; Slack returns it to us, signed, with the submission)."""

    team_id: str
    user_id: str
    response_url: str | None = None  # the Connections card's, to update it in place
    channel_id: str | None = None
    invitation_id: str | None = None  # opened from an invitation: the invitation was the permission
    provider: str = ""  # whose form it is

    def to_metadata(self) -> str:
        fields = {
            "provider": self.provider,
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
            provider=str(data.get("provider") or ""),
        )


@dataclass(frozen=True)
class ConnectResult:
    """The outcome of one submission, for the modal, the card and the DM. Never holds the key."""

    kind: Literal["connected", "rejected", "unavailable", "failed", "refused"]
    message: str  # failures: the sentence to show; connected: the note below
    values: Mapping[str, str] = field(default_factory=dict)  # the form's choices (never the secret)
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


def connected_note(
    spec: ProviderSpec, info: Verified, account: str, previous: tuple[str | None, str | None] | None
) -> str:
    provider = spec.display_name
    account_id = f" ({spec.account_word} {escape(info.account_id)})" if info.account_id else ""
    parts = [CONNECTED_NOTE.format(provider=provider, account=escape(account), account_id=account_id)]
    if previous and info.account_id:
        parts.append(ACCOUNT_CHANGED.format(before=escape(previous[1] or previous[0])))
    if info.write_scopes:
        shown = ", ".join(f"`{s}`" for s in info.write_scopes[:3])
        more = f" and {len(info.write_scopes) - 3} more" if len(info.write_scopes) > 3 else ""
        parts.append(WRITE_NOTE.format(provider=provider, scopes=shown + more))
    note = " ".join(parts)
    lacking = (
        f":warning: {info.missing_sentence}"
        if info.missing_sentence
        else missing_note([(s, spec.purpose_of(s)) for s in info.missing])
    )
    return f"{note}\n{lacking}" if lacking else note


def _join(items: list[str], word: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


class CredentialConnectService:
    def __init__(
        self, *, storage: Storage, providers: Bound, connections: ConnectionsService, clock: Clock
    ) -> None:
        self.storage = storage
        self.providers = providers  # each provider's `verify_form` hook
        self.connections = connections  # the card update and the DMs after connecting
        self.clock = clock

    # --- connecting ---------------------------------------------------------------------------
    async def connect(
        self, ctx: ModalContext, spec: ProviderSpec, values: Mapping[str, str]
    ) -> ConnectResult:
        """Verify the values with the provider and save them; the caller has checked their shape."""
        hooks, provider, key = self.providers(spec.key), spec.display_name, spec.key
        shown = {f.name: values.get(f.name, "") for f in spec.form.fields if not f.secret}
        try:
            async with asyncio.timeout(VERIFY_DEADLINE):
                info = await hooks.verify_form(values)
        except TimeoutError:
            log.warning("%s check for team %s took longer than %ss", key, ctx.team_id, VERIFY_DEADLINE)
            return ConnectResult("unavailable", UNAVAILABLE.format(provider=provider), shown)
        except ProviderError as error:  # its text is scrubbed of the credential by the HTTP layer
            kind = hooks.verify_failure(error)
            log.info("%s check for team %s failed (%s): %s", key, ctx.team_id, kind, error)
            message = _provider_sentence(hooks, error) or _failure_message(provider, kind, error)
            return ConnectResult(kind, message, shown)
        # spend the invitation (open -> accepted) just before saving: it grants this, once, while open
        if ctx.invitation_id and not await self.storage.invitations.accept(
            ctx.invitation_id, team_id=ctx.team_id, invitee_id=ctx.user_id, provider=key
        ):
            log.info("%s connect for team %s refused: the invitation is not open", key, ctx.team_id)
            return ConnectResult("refused", INVITATION_CLOSED, shown)
        account = info.account_name or UNNAMED_ACCOUNT.format(provider=provider)
        saved = await self.storage.connections.save_connected(
            team_id=ctx.team_id,
            provider=key,
            account_id=info.account_id or "",
            account_name=account,
            credentials=dict(info.credentials),
            connected_by=ctx.user_id,
            scopes=list(info.scopes),
            details=dict(info.details),
            unavailable=list(info.missing),
            expires_in=info.expires_in,
        )
        log.info(
            "%s connected: team %s connection %s (%d scopes, %d missing)",
            key,
            ctx.team_id,
            saved.record.id,
            len(info.scopes),
            len(info.missing),
        )
        note = connected_note(spec, info, account, saved.previous_account)
        return ConnectResult(
            "connected",
            note,
            shown,
            connection=saved.record,
            missing=tuple((s, spec.purpose_of(s)) for s in info.missing),
            write_scopes=info.write_scopes,
            note=note,
        )

    async def finish(self, ctx: ModalContext, result: ConnectResult) -> None:
        """After Slack was answered: update the card in place and confirm to the person."""
        if result.connected and result.connection is not None:
            # the invitation goes along: a card is only rebuilt for those who opened the modal from it
            payload = {"response_url": ctx.response_url, "invitation_id": ctx.invitation_id}
            await self.connections.after_connect(result.connection, ctx.user_id, payload, result.note)

    async def tell_failure(self, ctx: ModalContext, spec: ProviderSpec, result: ConnectResult) -> None:
        """The modal could not be updated (closed meanwhile): say what happened in a DM instead."""
        await self.connections.notify(
            ctx.team_id,
            ctx.user_id,
            NOT_CONNECTED_DM.format(provider=spec.display_name, reason=result.message),
        )


def _provider_sentence(hooks, error: ProviderError) -> str | None:
    """The provider's own sentence for a failed verification (its optional `verify_message` hook)."""
    verify_message = getattr(hooks, "verify_message", None)
    return verify_message(error) if verify_message is not None else None


def _failure_message(provider: str, kind: str, error: ProviderError) -> str:
    if kind == "rejected":
        return (KEY_FORBIDDEN if isinstance(error, MissingScopes) else KEY_REJECTED).format(provider=provider)
    if kind == "unavailable":
        return UNAVAILABLE.format(provider=provider)
    return FAILED.format(provider=provider, status=f" ({error.status})" if error.status else "")
