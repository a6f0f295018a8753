"""`/quolum contract <provider>` (admins): the contract modal, and its submission. Thin: the service
checks and saves (services/contracts.py), the builders draw (messages/contracts.py)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from core.contracts import Contract
from core.logs import annotate
from handlers import commands
from handlers.commands import ADMINS_ONLY, PROVIDERS, CommandRequest, command
from messages import blocks
from messages import contracts as msg

if TYPE_CHECKING:
    from bot.container import Services  # handlers receive the container at registration

log = logging.getLogger("quolum.handlers.contracts")

WHAT = "set contracts"
USAGE = "Usage: `/quolum contract <provider>`, one of {known}: opens the form for its contract."
UNKNOWN = "I don't know a provider called `{name}`. Known: {known}."
NOT_OPENED = "Slack did not open the form in time: run `/quolum contract {provider}` again."
NOT_YOURS = "This form belongs to someone else: run `/quolum contract {provider}` to open your own."
OUT_OF_DATE = "This form is out of date: run `/quolum contract` again."


def metadata(team_id: str, user_id: str, provider: str) -> str:
    return json.dumps({"team": team_id, "user": user_id, "provider": provider})


def read_metadata(text: str | None) -> tuple[str, str, str] | None:
    try:
        data = json.loads(text or "")
        return str(data["team"]), str(data["user"]), str(data["provider"])
    except (ValueError, KeyError, TypeError):
        return None


def submitted_fields(view: Mapping) -> dict[str, str]:
    """The form's values as core.contracts.parse reads them ("" for anything empty or of the wrong shape)."""
    values = (view.get("state") or {}).get("values") or {}

    def state(name: str) -> dict:
        found = (values.get(name) or {}).get(name)
        return found if isinstance(found, dict) else {}

    def text(value) -> str:
        return value if isinstance(value, str) else ""

    out = {name: text(state(name).get("value")) for name in ("seats", "price", "currency", "notice_days")}
    out["period"] = text((state("period").get("selected_option") or {}).get("value"))
    out["auto_renews"] = text((state("auto_renews").get("selected_option") or {}).get("value"))
    out["start"] = text(state("start").get("selected_date"))
    out["renewal"] = text(state("renewal").get("selected_date"))
    out["owner"] = text(state("owner").get("selected_user"))
    return out


@command(
    "contract",
    f"contract {PROVIDERS}",
    "a provider's contract: seats bought, price, renewal and notice, owner (admins)",
    reply_in_ack=False,
    admins_only=True,
    what=WHAT,
)
async def contract(request: CommandRequest) -> dict:
    services, registry = request.services, request.services.registry
    words = request.args.split()
    known = ", ".join(registry)
    if len(words) != 1:
        return blocks.message(USAGE.format(known=known))
    spec = registry.find(words[0])
    if spec is None:
        return blocks.message(UNKNOWN.format(name=blocks.echo(words[0]), known=known))
    stored = await services.contracts.get(request.team_id, spec.key)
    current = stored.contract if stored else Contract(provider=spec.key)
    currency = await services.digests.price_currency(request.team_id, spec.key, None)
    view = msg.contract_modal(
        spec.display_name, current, metadata(request.team_id, request.user_id, spec.key), currency
    )
    try:
        await request.client.views_open(trigger_id=request.trigger_id, view=view)
    except SlackApiError as error:
        log.info("could not open the contract modal: %s", error.response.get("error"))
        return blocks.message(NOT_OPENED.format(provider=spec.key))
    return {}  # the form is the answer


def register(app: AsyncApp, services: Services) -> None:
    @app.view(msg.CALLBACK_ID)
    async def submitted(ack, body, view, client) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        annotate(team=team_id, action=msg.CALLBACK_ID)
        meta = read_metadata(view.get("private_metadata"))
        spec = services.registry.find(meta[2]) if meta else None
        if spec is None:
            await ack(response_action="update", view=msg.notice_view(OUT_OF_DATE))
            return
        if meta[:2] != (team_id, user_id):
            await ack(response_action="update", view=msg.notice_view(NOT_YOURS.format(provider=spec.key)))
            return
        if not await commands.clicked_by_admin(services.connections, client, body):
            await ack(response_action="update", view=msg.notice_view(ADMINS_ONLY.format(what=WHAT)))
            return
        fields = {"provider": spec.key, **submitted_fields(view)}
        saved, errors = await services.contracts.set(team_id, fields, user_id, partial=False)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        price = await services.contracts.money(team_id, saved.contract.price)
        await ack(response_action="update", view=msg.saved_view(spec.display_name, saved.contract, price))
