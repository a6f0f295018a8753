"""The renewal reminder's buttons: *Remind me later*, *Mark renewed* (the contract form with the next
term's dates), *Will cancel*. The owner or an admin may answer; the first answer stands."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from core.logs import annotate
from handlers import commands
from handlers.commands import ADMINS_ONLY
from handlers.contracts import WHAT, metadata
from messages import blocks
from messages import contracts as contract_msg
from messages import renewals as msg
from services.renewals import Key

if TYPE_CHECKING:
    from bot.container import Services  # handlers receive the container at registration

OUT_OF_DATE = (
    "This reminder is out of date: the contract's dates changed since (`/quolum contract {provider}`)."
)
ANSWERED = "This reminder was answered already."
NOT_OWNER = "Only the contract's owner or an admin can answer this reminder."


def next_term(renewal: date) -> date:
    """The same day a year on (28 February for a 29th)."""
    try:
        return renewal.replace(year=renewal.year + 1)
    except ValueError:
        return renewal.replace(year=renewal.year + 1, day=28)


def register(app: AsyncApp, services: Services) -> None:
    renewals = services.renewals

    async def answerable(body, client, respond, *, admins_only: bool = False):
        """(key, contract) when the clicker may answer this reminder; else they are told why."""
        action = (body.get("actions") or [{}])[0]
        key = Key.parse(action.get("value") or "")
        team_id = (body.get("team") or {}).get("id")
        contract = await renewals.current(key) if key and key.team_id == team_id else None
        if contract is None:
            provider = key.provider if key else "<provider>"
            await respond(
                response_type="ephemeral",
                replace_original=False,
                text=OUT_OF_DATE.format(provider=blocks.escape(provider)),
            )
            return None
        owner = contract.owner == body["user"]["id"] and not admins_only
        if not owner and not await commands.clicked_by_admin(services.connections, client, body):
            text = ADMINS_ONLY.format(what=WHAT) if admins_only else NOT_OWNER
            await respond(response_type="ephemeral", replace_original=False, text=text)
            return None
        return key, contract

    @app.action(msg.LATER)
    async def later(ack, body, client, respond) -> None:
        await ack()
        annotate(team=(body.get("team") or {}).get("id"), action=msg.LATER)
        if (found := await answerable(body, client, respond)) is None:
            return
        until = await renewals.later(found[0], body["user"]["id"])
        text = msg.answered_line(msg.LATER, body["user"]["id"], until) if until else ANSWERED
        await respond(response_type="ephemeral", replace_original=False, text=text)

    @app.action(msg.CANCEL)
    async def will_cancel(ack, body, client, respond) -> None:
        await ack()
        annotate(team=(body.get("team") or {}).get("id"), action=msg.CANCEL)
        if (found := await answerable(body, client, respond)) is None:
            return
        done = await renewals.will_cancel(found[0], body["user"]["id"])
        text = msg.answered_line(msg.CANCEL, body["user"]["id"]) if done else ANSWERED
        await respond(response_type="ephemeral", replace_original=False, text=text)

    @app.action(msg.RENEWED)
    async def renewed(ack, body, client, respond) -> None:
        await ack()
        annotate(team=(body.get("team") or {}).get("id"), action=msg.RENEWED)
        if (found := await answerable(body, client, respond, admins_only=True)) is None:
            return
        key, contract = found
        if contract.renews_on:  # the next term, for the admin to check: saving new dates restarts the stages
            contract = replace(
                contract, starts_on=contract.renews_on, renews_on=next_term(contract.renews_on)
            )
        currency = contract.currency or await services.digests.price_currency(key.team_id, key.provider, None)
        view = contract_msg.contract_modal(
            services.registry[key.provider].display_name,
            contract,
            metadata(key.team_id, body["user"]["id"], key.provider),
            currency,
        )
        try:
            await client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as error:
            await respond(
                response_type="ephemeral",
                replace_original=False,
                text=f"Slack did not open the form ({blocks.escape(str(error.response.get('error')))}).",
            )
