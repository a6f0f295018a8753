"""Connecting providers: who may, the Connect links, the OAuth completion, disconnecting.

This is the service behind the Connections card and the browser routes. It
reads and writes through storage, talks to providers through their modules,
and tells Slack what happened; handlers only translate requests to calls here.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from core.clock import Clock
from core.config import Settings
from messages import blocks
from messages.alerts import incident_summary
from messages.cards import Row, connections_card
from messages.digest import offer_blocks
from providers.http import ProviderError
from providers.plugin import Account, ProviderSpec
from providers.registry import Bound
from services import slack_roles
from services.connect_outcomes import (
    API_KEY_NOT_REVOKED,
    CONNECTED_PAGE,
    CONNECTED_SLACK,
    CONNECTED_TITLE,
    DISCONNECTED_NOTE,
    INVITATION_CLOSED,
    LINK_PROBLEMS,
    NOT_CONNECTED_NOTE,
    PORTAL_CHANGED,
    REVOKE_FAILED,
    ConnectOutcome,
    exchange_failure,
    not_stored,
    other_account,
)
from services.issued_tokens import IssuedTokens
from services.seats import SeatsService
from services.slack_roles import Workspace
from storage.connections import ConnectionRecord
from storage.store import Storage

if TYPE_CHECKING:
    from services.slack_clients import SlackClients

log = logging.getLogger("quolum.connections")

CONNECT_STATE = "connect"
STATE_TTL = timedelta(minutes=10)
ROLE_CACHE_SECONDS = 60


class ConnectionsService:
    def __init__(
        self,
        *,
        storage: Storage,
        settings: Settings,
        clock: Clock,
        providers: Bound,
        slack_clients: SlackClients,
    ) -> None:
        self.storage = storage
        self.settings = settings
        self.clock = clock
        self.providers = providers  # the installed providers and their hooks
        self.slack_clients = slack_clients
        self._roles: dict[tuple[Workspace, str], tuple[float, bool]] = {}
        self.issued = IssuedTokens(storage.issued_tokens, providers)  # revokes what a callback cannot keep
        # called as hook(team_id, provider, user_id, invitation_id) after every successful connection
        # (invitations listen; invitation_id is the one used to connect, or None)
        self.connected_hooks: list = []
        # called as hook(team_id, provider, user_id) after a disconnection (App Home listens)
        self.disconnected_hooks: list = []

    # --- who may connect ---------------------------------------------------------------
    async def is_slack_admin(self, client: AsyncWebClient, where: Workspace, user_id: str) -> bool:
        """A Slack admin or owner of `where` itself (slack_roles decides): not of another workspace."""
        cached = self._roles.get((where, user_id))
        if cached and time.monotonic() - cached[0] < ROLE_CACHE_SECONDS:
            return cached[1]
        admin = slack_roles.is_admin((await client.users_info(user=user_id))["user"], where)
        self._roles[(where, user_id)] = (time.monotonic(), admin)
        return admin

    async def can_connect(self, client: AsyncWebClient, where: Workspace, user_id: str) -> bool:
        if await self.storage.admins.is_granted(where.team_id, user_id):
            return True
        return await self.is_slack_admin(client, where, user_id)

    async def workspace(self, team_id: str) -> Workspace:
        """A workspace as its installation describes it, for work no Slack request started."""
        return await self.slack_clients.workspace(team_id)

    # --- the card -------------------------------------------------------------------------
    async def card(
        self,
        *,
        team_id: str,
        user_id: str,
        can_connect: bool,
        response_url: str | None,
        only: ProviderSpec | None = None,
        notice: str | None = None,
    ) -> dict:
        rows = await self.rows(
            team_id=team_id, user_id=user_id, can_connect=can_connect, response_url=response_url, only=only
        )
        return connections_card(rows, can_connect=can_connect, notice=notice)

    async def rows(
        self,
        *,
        team_id: str,
        user_id: str,
        can_connect: bool,
        response_url: str | None,
        only: ProviderSpec | None = None,
    ) -> list[Row]:
        """One row per provider: its state, and a fresh Connect link for people who may connect."""
        connections = await self.storage.connections.for_team(team_id)
        incidents = await self.storage.incidents.open_in_team(team_id)
        rows = []
        for spec in self.providers.registry.values():
            if only is not None and spec.key != only.key:
                continue
            available = spec.is_available(self.settings)
            url = grant_url = None
            if available and can_connect and spec.oauth is not None:
                url = await self.connect_url(team_id, user_id, spec, response_url)
            connection = connections.get(spec.key)
            if (
                can_connect
                and connection is not None
                and connection.exists
                and spec.grant_available(self.settings)
            ):
                grant_url = await self.connect_url(team_id, user_id, spec, response_url)
            incident = incidents.get(spec.key)
            held = spec.grant is not None and connection is not None and spec.grant.held(connection.scopes)
            rows.append(
                Row(
                    spec=spec,
                    available=available,
                    connection=connection,
                    connect_url=url,
                    incident=incident_summary(incident, spec) if incident else None,
                    grant_url=grant_url,
                    grant_held=held,
                )
            )
        return rows

    async def connect_url(
        self, team_id: str, user_id: str, spec: ProviderSpec, response_url: str | None, **payload
    ) -> str:
        """A short-lived, single-use link bound to the workspace, the person, the provider and the card."""
        state = await self.storage.states.issue(
            CONNECT_STATE,
            ttl=STATE_TTL,
            team_id=team_id,
            user_id=user_id,
            provider=spec.key,
            payload={"response_url": response_url, **payload},
        )
        return f"{self.settings.public_url}/oauth/{spec.key}/start?{urlencode({'state': state})}"

    # --- the Connect link, opened in a browser ---------------------------------------------
    async def open_link(self, provider: ProviderSpec, state: str, binding: str) -> ConnectOutcome | str:
        """The provider's consent URL for a valid link of `provider`, bound to the browser holding
        `binding` (the first to open it; the same browser may open it again); else the page to show."""
        record = await self.storage.states.find(state, CONNECT_STATE)
        if record is None or record.provider != provider.key:
            return LINK_PROBLEMS["unknown"]
        status = record.status(self.clock())
        if status != "valid":
            return LINK_PROBLEMS[status]
        if not await self.storage.states.bind_browser(state, CONNECT_STATE, binding):
            return LINK_PROBLEMS["elsewhere"]
        hooks = self.providers(provider.key)
        if record.payload.get("write"):  # *Enable reclaiming*: the consent again, with the write scopes
            return hooks.authorize_url(state, write=True)
        return hooks.authorize_url(state)

    async def link_problem(self, state: str, browser: str | None) -> ConnectOutcome | None:
        """Why a callback carrying `state` must not complete (unknown, expired, used, or opened in
        another browser than the one holding `browser`), without consuming anything; None if it may."""
        record = await self.storage.states.find(state, CONNECT_STATE)
        if record is None:
            return LINK_PROBLEMS["unknown"]
        status = record.status(self.clock())
        if status != "valid":
            return LINK_PROBLEMS[status]
        return None if record.opened_in(browser) else LINK_PROBLEMS["elsewhere"]

    # --- OAuth completion --------------------------------------------------------------
    async def complete_oauth(self, provider: ProviderSpec, state: str, code: str) -> ConnectOutcome:
        """The state was checked by the route; consume it, exchange the code, save, tell Slack."""
        status, record = await self.storage.states.consume(state, CONNECT_STATE)
        if status != "valid" or record is None or record.provider != provider.key:
            return LINK_PROBLEMS.get(status, LINK_PROBLEMS["unknown"])
        key, name, hooks = provider.key, provider.display_name, self.providers(provider.key)
        try:
            tokens = await hooks.exchange(code)
        except ProviderError as error:
            return exchange_failure(provider, hooks.classify(error, "exchange"), error)
        # Tokens issued: every way out stores or revokes them. Recorded first (encrypted): a callback
        # killed before the store leaves them to housekeeping, not live and forgotten at the provider.
        try:
            issued = await self.storage.issued_tokens.record(key, record.team_id, tokens.credentials())
        except Exception as error:  # noqa: BLE001 - the database failed us: give the tokens back
            return await self._not_stored(provider, tokens.credentials(), None, error)
        try:
            account = await self._account(provider, hooks, tokens.access_token, record.team_id)
        except ProviderError as error:
            await self.issued.give_back(key, tokens.credentials(), issued)
            return exchange_failure(provider, hooks.classify(error, "exchange"), error)
        invitation_id = record.payload.get("invitation_id")
        try:
            # spend the invitation the link came from (open -> accepted), as InvitesService.use does
            if invitation_id and not await self.storage.invitations.accept(
                invitation_id, team_id=record.team_id, invitee_id=record.user_id, provider=key
            ):
                # declined, expired or used since the link was issued: keep nothing, and tell the provider so
                await self.issued.give_back(key, tokens.credentials(), issued)
                return INVITATION_CLOSED
            credentials, scopes = tokens.credentials(), list(account.scopes or tokens.scopes)
            details = dict(account.details)
            if provider.oauth is None:  # a grant (`ProviderSpec.grant`): it adds to the form's connection
                existing = await self.storage.connections.get(record.team_id, key)
                if existing and existing.exists and existing.account_id not in (None, "", account.account_id):
                    await self.issued.give_back(key, tokens.credentials(), issued)
                    connected = existing.account_name or existing.account_id
                    granted = account.name or account.account_id
                    return other_account(provider, granted, connected, account.refused_advice)
                credentials, scopes, details = self._with_grant(existing, credentials, scopes, details)
            saved = await self.storage.connections.save_connected(
                team_id=record.team_id,
                provider=key,
                account_id=account.account_id,
                account_name=account.name,
                credentials=credentials,
                connected_by=record.user_id,
                scopes=scopes,
                details=details,
                expires_in=tokens.expires_in,
                settles=issued,
            )
        except Exception as error:  # noqa: BLE001 - the tokens could not be stored: revoke them first
            return await self._not_stored(provider, tokens.credentials(), issued, error)
        message = CONNECTED_PAGE.format(domain=account.name)  # the page escapes HTML itself
        domain = blocks.escape(account.name)
        slack_note = CONNECTED_SLACK.format(
            provider=name,
            account=domain,
            word=provider.account_word,
            id=blocks.escape(str(account.account_id)),
        )
        if saved.previous_account:
            before = saved.previous_account[1] or saved.previous_account[0]
            message = f"{message} {PORTAL_CHANGED.format(before=before, after=account.name)}"
            slack_note = f"{slack_note} {PORTAL_CHANGED.format(before=blocks.escape(before), after=domain)}"
        await self.after_connect(saved.record, record.user_id, record.payload, slack_note)
        return ConnectOutcome(True, CONNECTED_TITLE.format(provider=name), message)

    async def _account(self, provider: ProviderSpec, hooks, access_token: str, team_id: str) -> Account:
        """The account a new token reaches; a grant's, knowing the connection it adds to where the
        provider asks (`grant_account`)."""
        if provider.oauth is None and hasattr(hooks, "grant_account"):
            existing = await self.storage.connections.get(team_id, provider.key)
            if existing is not None and existing.exists:
                return await hooks.grant_account(access_token, SeatsService.view_of(existing))
        return await hooks.account(access_token)

    @staticmethod
    def _with_grant(
        existing: ConnectionRecord | None, credentials: dict, scopes: list, details: dict
    ) -> tuple[dict, list, dict]:
        """A grant's tokens beside the connection's own credentials (its `access_token` becomes the
        bearer), its scopes added to the connection's, its details to theirs."""
        if existing is None or not existing.exists:
            return credentials, scopes, details
        merged = {**existing.credentials, **{k: v for k, v in credentials.items() if v is not None}}
        return merged, sorted({*existing.scopes, *scopes}), {**existing.details, **details}

    async def _not_stored(
        self, provider: ProviderSpec, credentials: dict, issued: int | None, error: BaseException
    ) -> ConnectOutcome:
        name = provider.display_name
        log.error("storing a new %s connection failed (%s): revoking its tokens", name, type(error).__name__)
        await self.issued.give_back(provider.key, credentials, issued)
        return not_stored(provider)

    async def after_connect(
        self, connection: ConnectionRecord, user_id: str, payload: dict, note: str
    ) -> None:
        """Update the card in place and confirm to the person; Slack being down must not undo the connection."""
        response_url = payload.get("response_url")
        invitation_id = payload.get("invitation_id")
        # From an invitation the response_url is the invitation DM's: invitations retire that DM themselves,
        # and an invitation grants its one provider, never a card with other providers' Connect links.
        if response_url and not invitation_id:
            card = await self.card(
                team_id=connection.team_id,
                user_id=user_id,
                can_connect=await self._may_connect(connection.team_id, user_id),
                response_url=response_url,
                notice=note,
            )
            try:
                await AsyncWebhookClient(response_url).send(replace_original=True, **card)
            except Exception as error:  # an expired response_url is expected after ~30 minutes
                log.info("could not update the card: %s", type(error).__name__)
        # the first insight at once: preview the digest now, or pick a channel for it
        await self.notify(connection.team_id, user_id, note, blocks=offer_blocks(note))
        for hook in self.connected_hooks:
            await hook(connection.team_id, connection.provider, user_id, invitation_id)

    async def _may_connect(self, team_id: str, user_id: str) -> bool:
        """Asked again when the card is rebuilt: the buttons go to those who may connect now."""
        client = await self.slack_clients(team_id)
        try:
            return client is not None and await self.can_connect(
                client, await self.workspace(team_id), user_id
            )
        except SlackApiError as error:
            log.info("could not check %s's role: %s", user_id, error.response.get("error"))
            return False

    async def notify(self, team_id: str, user_id: str, text: str, blocks: list[dict] | None = None) -> bool:
        """A DM (the app's Messages tab) to one person; False when Slack refused."""
        client = await self.slack_clients(team_id)
        if client is None:
            return False
        try:
            await client.chat_postMessage(
                channel=user_id, text=text, **({"blocks": blocks} if blocks else {})
            )
            return True
        except SlackApiError as error:
            log.info("could not message %s: %s", user_id, error.response.get("error"))
            return False

    # --- disconnect -------------------------------------------------------------------------
    async def disconnect(self, team_id: str, spec: ProviderSpec, actor: str) -> str:
        connection = await self.storage.connections.get(team_id, spec.key)
        if connection is None or not connection.exists:
            return NOT_CONNECTED_NOTE.format(provider=spec.display_name)
        revoked = await self.revoke(connection)
        await self.storage.connections.disconnect(connection.id, actor)
        for hook in self.disconnected_hooks:
            await hook(team_id, spec.key, actor)
        account = blocks.escape(connection.account_name or spec.display_name)
        note = DISCONNECTED_NOTE.format(provider=spec.display_name, account=account, user=actor)
        if spec.oauth is None:
            note += " " + API_KEY_NOT_REVOKED.format(provider=spec.display_name, url=spec.console_url)
        elif not revoked:
            note += " " + REVOKE_FAILED.format(provider=spec.display_name, url=spec.console_url)
        return note

    async def revoke(self, connection: ConnectionRecord) -> bool:
        """Best effort: ask the provider to forget our refresh token."""
        refresh_token = connection.credentials.get("refresh_token")
        spec = self.providers.registry.get(connection.provider)
        if spec is None or spec.oauth is None or not refresh_token:
            return False
        try:
            await self.providers(spec.key).revoke(refresh_token)
            return True
        except ProviderError as error:
            log.info("revoking connection %s at %s failed: %s", connection.id, spec.display_name, error)
            return False

    async def forget_workspace(self, enterprise_id: str | None, team_id: str | None) -> None:
        """Uninstalled: revoke what we can at the providers, then delete everything of the workspace."""
        if team_id:
            for connection in (await self.storage.connections.for_team(team_id)).values():
                await self.revoke(connection)
        await self.storage.forget_workspace(enterprise_id, team_id)
