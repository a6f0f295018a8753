"""Inviting a provider's admin to connect it, from Slack.

The invitation is the permission: it lets one person connect one provider for
seven days even if they are not a Slack admin. Because a DM can be forwarded,
its Connect button is an action, not a link: the click is checked (the right
person, still open, not connected meanwhile) and answered with a fresh,
single-use Connect link bound to that person.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.clock import Clock
from core.config import Settings
from messages import blocks
from messages import invite_blocks as ib
from providers.plugin import ProviderSpec
from providers.registry import Registry
from storage.invitations import ACCEPTED, DECLINED, EXPIRED, InvitationRecord, new_id
from storage.store import Storage

if TYPE_CHECKING:
    from services.connections import ConnectionsService
    from services.slack_clients import SlackClients

log = logging.getLogger("quolum.invites")

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
MAX_INVITEES = 5
RECENT = timedelta(hours=24)


@dataclass
class InviteRequest:
    provider: ProviderSpec  # named, else the first installed provider
    invitees: list[str] = field(default_factory=list)
    problem: str | None = None  # a usage hint when the text cannot be understood


def parse(args: str, providers: Registry) -> InviteRequest:
    first = next(iter(providers.values()))
    request = InviteRequest(first)
    strays = []
    for word in args.split():
        mention = MENTION.match(word)
        if mention:
            request.invitees.append(mention.group(1))
        elif spec := providers.find(word):
            request.provider = spec
        else:
            strays.append(word)
    request.invitees = list(dict.fromkeys(request.invitees))
    usage = {"max": MAX_INVITEES, "example": first.key}
    if strays:
        request.problem = ib.NOT_MENTIONS.format(words=blocks.echo(" ".join(strays)), **usage)
    elif not request.invitees:
        request.problem = ib.USAGE.format(**usage)
    elif len(request.invitees) > MAX_INVITEES:
        request.problem = ib.TOO_MANY.format(**usage)
    return request


class InvitesService:
    def __init__(
        self,
        *,
        storage: Storage,
        settings: Settings,
        clock: Clock,
        connections: ConnectionsService,
        slack_clients: SlackClients,
        providers: Registry,
    ) -> None:
        self.providers = providers
        self.storage = storage
        self.store = storage.invitations
        self.settings = settings
        # called as hook(team_id, user_ids) when an invitation opens or closes (App Home listens)
        self.changed_hooks: list = []
        self.clock = clock
        self.connections = connections  # Connect links and DMs go through the connections flow
        self.slack_clients = slack_clients

    # --- /quolum invite -------------------------------------------------------------------------
    async def invite(self, client: AsyncWebClient, team_id: str, inviter: str, args: str) -> dict:
        request = parse(args, self.providers)
        if request.problem:
            return blocks.message(request.problem)
        spec = request.provider
        if not spec.is_available(self.settings):
            return blocks.message(ib.NOT_AVAILABLE.format(provider=spec.display_name))
        connection = await self.storage.connections.get(team_id, spec.key)
        if connection is not None and connection.status == "connected":
            return blocks.message(
                ib.already_connected(spec, connection.account_name, connection.connected_by)
            )
        limit = self.settings.invites_per_day
        out: list[dict] = []
        for invitee in request.invitees:
            problem = await self._check_invitee(client, invitee, inviter, spec)
            if problem:
                out.append(blocks.markdown(problem))
                continue
            reservation = await self.store.reserve(
                new_id(),
                team_id=team_id,
                provider=spec.key,
                inviter_id=inviter,
                invitee_id=invitee,
                since=self.clock() - RECENT,
                limit=limit,
            )
            if reservation.outcome == "open":
                out += (
                    ib.reminder_offer(reservation.invitation, spec)
                    if reservation.invitation is not None
                    else [blocks.markdown(ib.BEING_INVITED.format(user=invitee, provider=spec.display_name))]
                )
                continue
            if reservation.outcome == "limit":
                out.append(blocks.markdown(ib.LIMIT.format(count=reservation.sent, limit=limit)))
                break
            outcome = await self._send(client, reservation.invitation, inviter, spec)
            out.append(
                blocks.markdown(
                    outcome.format(user=invitee, provider=spec.display_name)
                    if outcome == ib.SENT
                    else outcome
                )
            )
        text = " ".join(b["text"]["text"] for b in out if b["type"] == "section")[:2900]
        return blocks.message(text, out)

    async def _check_invitee(self, client, invitee: str, inviter: str, spec: ProviderSpec) -> str | None:
        if invitee == inviter:
            return ib.YOURSELF.format(key=spec.key, provider=spec.display_name)
        try:
            user = (await client.users_info(user=invitee))["user"]
        except SlackApiError as error:
            if error.response.get("error") == "user_not_found":
                return ib.NOT_FOUND.format(user=invitee)
            raise
        if user.get("is_bot") or invitee == "USLACKBOT":
            return ib.IS_BOT.format(user=invitee, provider=spec.display_name)
        if user.get("deleted"):
            return ib.DEACTIVATED.format(user=invitee)
        if user.get("is_restricted") or user.get("is_ultra_restricted"):
            return ib.GUEST.format(user=invitee, provider=spec.display_name)
        return None

    async def _send(self, client, invitation: InvitationRecord, inviter: str, spec: ProviderSpec) -> str:
        """DM the invitee the reserved invitation; if Slack refuses, the reservation goes."""
        invitee = invitation.invitee_id
        try:
            channel = (await client.conversations_open(users=invitee))["channel"]["id"]
            posted = await client.chat_postMessage(
                channel=channel, **ib.invitation_dm(spec, invitation.id, inviter, invitation.expires_at)
            )
        except SlackApiError as error:
            await self.store.cancel(invitation.id)
            code = error.response.get("error") or "unknown"
            reason = ib.dm_error(code)
            log.info("invitation DM to %s failed: %s", invitee, code)
            return ib.DM_FAILED.format(user=invitee, reason=reason)
        except BaseException:
            await self.store.cancel(invitation.id)
            raise
        await self.store.delivered(invitation.id, dm_channel=channel, dm_ts=posted.get("ts"))
        await self._changed(invitation.team_id, inviter, invitee)
        return ib.SENT

    async def remind(self, client, invitation_id: str, clicker: str) -> str:
        invitation = await self.store.get(invitation_id)
        now = self.clock()
        if invitation is None or invitation.inviter_id != clicker or not invitation.is_open(now):
            return ib.CLOSED
        spec = self.providers.find(invitation.provider)
        if invitation.reminded_at is not None and now - invitation.reminded_at < RECENT:
            return ib.REMINDED_ALREADY.format(user=invitation.invitee_id, provider=spec.display_name)
        if invitation.dm_channel:
            try:
                await client.chat_postMessage(
                    channel=invitation.dm_channel,
                    thread_ts=invitation.dm_ts,
                    text=f"Reminder: {ib.DM_TITLE.format(inviter=clicker, provider=spec.display_name)}.",
                )
            except SlackApiError as error:
                code = error.response.get("error") or "unknown"
                return ib.DM_FAILED.format(
                    user=invitation.invitee_id,
                    reason=ib.dm_error(code),
                )
        await self.store.reminded(invitation_id)
        return ib.REMINDED.format(user=invitation.invitee_id, provider=spec.display_name)

    # --- the invitee's buttons ------------------------------------------------------------------
    async def open_check(
        self, invitation_id: str, clicker: str
    ) -> tuple[InvitationRecord | None, str | None]:
        """(invitation, None) when `clicker` may use it now; else (invitation or None, a sentence)."""
        invitation = await self.store.get(invitation_id)
        if invitation is None:
            return None, ib.CLOSED
        if invitation.invitee_id != clicker:
            return invitation, ib.NOT_FOR_YOU.format(user=invitation.invitee_id)
        if invitation.status != "open":
            return invitation, ib.CLOSED
        if not invitation.is_open(self.clock()):
            return invitation, ib.EXPIRED.format(inviter=invitation.inviter_id)
        connection = await self.storage.connections.get(invitation.team_id, invitation.provider)
        if connection is not None and connection.status == "connected":
            spec = self.providers.find(invitation.provider)
            return invitation, ib.NOW_CONNECTED.format(
                provider=spec.display_name, user=connection.connected_by
            )
        return invitation, None

    async def usable(self, invitation_id: str, *, team_id: str, user_id: str, provider: str) -> str | None:
        """None when `user_id` may connect `provider` in `team_id` with this invitation now; else why not.
        A look only: `InvitationStore.accept`, with the connection stored, is what spends it."""
        invitation, problem = await self.open_check(invitation_id, user_id)
        if problem:
            return problem
        if invitation.team_id != team_id or invitation.provider != provider:
            return ib.CLOSED
        return None

    async def connect_link(self, invitation: InvitationRecord, response_url: str | None) -> dict:
        spec = self.providers.find(invitation.provider)
        url = await self.connections.connect_url(
            invitation.team_id, invitation.invitee_id, spec, response_url, invitation_id=invitation.id
        )
        return ib.connect_link(spec, url)

    async def decline(self, invitation_id: str, clicker: str) -> tuple[bool, dict]:
        """(declined, message): the message replaces the DM when declined, else is said privately."""
        invitation, problem = await self.open_check(invitation_id, clicker)
        if problem:
            return False, blocks.message(problem)
        if not await self.store.close(invitation.id, DECLINED):
            return False, blocks.message(ib.CLOSED)
        await self._changed(invitation.team_id, invitation.inviter_id, invitation.invitee_id)
        await self._tell_inviter(invitation, ib.DECLINED_INVITER)
        return True, ib.closed_dm(ib.DECLINED_THANKS.format(inviter=invitation.inviter_id))

    # --- afterwards -------------------------------------------------------------------------------
    async def _tell_inviter(self, invitation: InvitationRecord, template: str) -> None:
        """The inviter hears what became of the invitation (`template`: its invitee, provider, key)."""
        spec = self.providers.find(invitation.provider)
        await self.connections.notify(
            invitation.team_id,
            invitation.inviter_id,
            template.format(invitee=invitation.invitee_id, provider=spec.display_name, key=spec.key),
        )

    async def on_connected(
        self, team_id: str, provider: str, user_id: str, invitation_id: str | None = None
    ) -> None:
        """The invitee connected: the invitation they used (accepted as the connection was stored) and
        any other open one for them and that provider are accepted, and each inviter told."""
        spec = self.providers.find(provider)
        accepted = []
        if invitation_id:
            used = await self.store.get(invitation_id)
            if used is not None and used.status == ACCEPTED and used.invitee_id == user_id:
                accepted.append(used)
        for invitation in await self.store.open_by_invitee(team_id, user_id, provider):
            if await self.store.close(invitation.id, ACCEPTED):
                accepted.append(invitation)
        for invitation in accepted:
            await self._changed(team_id, invitation.inviter_id, user_id)
            await self.connections.notify(
                team_id,
                invitation.inviter_id,
                ib.ACCEPTED_INVITER.format(invitee=user_id, provider=spec.display_name),
            )
            await self._retire_dm(invitation, ib.ACCEPTED_DM.format(provider=spec.display_name))

    async def expire_overdue(self) -> int:
        """Scheduled: close invitations past their 7 days and tell each inviter once."""
        expired = 0
        for invitation in await self.store.overdue():
            if not await self.store.close(invitation.id, EXPIRED):
                continue  # accepted, declined or expired elsewhere meanwhile
            expired += 1
            await self._changed(invitation.team_id, invitation.inviter_id, invitation.invitee_id)
            await self._tell_inviter(invitation, ib.EXPIRED_INVITER)
            spec = self.providers.find(invitation.provider)
            await self._retire_dm(invitation, ib.EXPIRED_DM.format(provider=spec.display_name))
        return expired

    async def _changed(self, team_id: str, *people: str) -> None:
        for hook in self.changed_hooks:
            await hook(team_id, people)

    async def _retire_dm(self, invitation: InvitationRecord, text: str) -> None:
        client = await self.slack_clients(invitation.team_id)
        if client is None or not invitation.dm_channel or not invitation.dm_ts:
            return
        try:
            await client.chat_update(channel=invitation.dm_channel, ts=invitation.dm_ts, **ib.closed_dm(text))
        except SlackApiError as error:
            log.info("could not update invitation DM: %s", error.response.get("error"))

    async def open_lines(self, team_id: str) -> list[dict]:
        return ib.open_invitations(await self.store.open_in_team(team_id), self.providers.names())
