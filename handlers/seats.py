"""`/quolum seats …`, `/quolum savings`, and the buttons and dialogs of acting on idle seats (issue 23).

Admins (the command table's `admins_only`, and `commands.clicked_by_admin` for every button that
changes something) see idle seats, ask people and reclaim; a person answers only their own ask (the
service checks the ask's member and workspace).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from core.logs import annotate
from core.seats import ALL_PROVIDERS, KEEP, RELEASE, Policy
from handlers import commands
from handlers.commands import ADMINS_ONLY, PROVIDERS, CommandRequest, command
from messages import blocks
from messages import seats as msg

if TYPE_CHECKING:
    from bot.container import Services  # handlers receive the container at registration

MEMBER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
EMAIL = re.compile(r"^(?:<mailto:[^|>]+\|)?([^@\s<>|]+@[^@\s<>|]+\.[^@\s<>|]+)>?$")
WHAT = "review and reclaim idle seats"
USAGE = (
    f"Usage: `/quolum seats [{PROVIDERS}]`, `/quolum seats exempt @person|email [provider]`, "
    "`/quolum seats link @member <login> [provider]`, `/quolum seats on-release <provider> on|off`, "
    "`/quolum seats settings [cooldown <days>] [remind <days>,<days>] [keep <days>]`."
)
UNKNOWN_PROVIDER = "I don't know a provider called `{name}`: name one of {known}."
EXEMPTED = "{who} is on the exempt list{where}: never asked about nor reclaimed."
LINKED = "`{login}` in {where} is now <@{member}>: asks about that seat go to them."
NOT_CONNECTED = "{provider} is not connected."
ON_RELEASE = {
    True: "A *Release* in {provider} is now reclaimed at once.",
    False: "A *Release* in {provider} now waits for an admin to reclaim it.",
}
SETTINGS = (
    "People are asked at most once every {cooldown} days, reminded after {remind} days, "
    "and a *Keep* lasts {keep} days."
)
BAD_NUMBER = "`{word}` is not a number of days between 1 and 365."


def _usage(registry) -> str:
    return USAGE.replace(PROVIDERS, registry.usage())


def _subcommand(args: str) -> str:
    words = args.split()
    return words[0].lower() if words else ""


@command(
    "seats",
    f"seats [{PROVIDERS}]",
    "idle paid seats: ask people Keep or Release, reclaim (admins)",
    reply_in_ack=False,
    admins_only=True,
    what=WHAT,
)
async def seats(request: CommandRequest) -> dict:
    services = request.services
    sub, words = _subcommand(request.args), request.args.split()
    if sub in SUBCOMMANDS:
        return await SUBCOMMANDS[sub](request, words[1:])
    if len(words) > 1:
        return blocks.message(_usage(services.registry))
    provider = None
    if words:
        spec = services.registry.named(words[0])
        if spec is None:
            return blocks.message(_unknown(services, words[0]))
        provider = spec.key
    views = await services.seats.overview(request.team_id, provider)
    return msg.seats_message(views, await services.reclaims.savings(request.team_id))


def _unknown(services, name: str) -> str:
    return UNKNOWN_PROVIDER.format(name=blocks.echo(name), known=services.registry.known())


async def _exempt(request: CommandRequest, words: list[str]) -> dict:
    services = request.services
    if not words or len(words) > 2:
        return blocks.message(_usage(services.registry))
    provider = ALL_PROVIDERS
    if len(words) == 2:
        spec = services.registry.named(words[1])
        if spec is None:
            return blocks.message(_unknown(services, words[1]))
        provider = spec.key
    who = words[0]
    if member := MEMBER.match(who):
        profile = (await request.client.users_info(user=member.group(1)))["user"].get("profile") or {}
        email = profile.get("email")
        if not email:
            return blocks.message("I cannot see that member's email: exempt them by email instead.")
        subject, shown = email, f"<@{member.group(1)}>"
    elif email := EMAIL.match(who):
        subject, shown = email.group(1), blocks.escape(email.group(1))
    else:
        return blocks.message(_usage(services.registry))
    await services.reclaims.exempt(request.team_id, request.user_id, subject, provider)
    where = f" for {services.registry[provider].display_name}" if provider else ""
    return blocks.message(EXEMPTED.format(who=shown, where=where))


async def _link(request: CommandRequest, words: list[str]) -> dict:
    services = request.services
    if len(words) not in (2, 3) or not MEMBER.match(words[0]):
        return blocks.message(_usage(services.registry))
    provider = ALL_PROVIDERS
    if len(words) == 3:
        spec = services.registry.named(words[2])
        if spec is None:
            return blocks.message(_unknown(services, words[2]))
        provider = spec.key
    member, login = MEMBER.match(words[0]).group(1), words[1][:255]
    await services.seats.link(request.team_id, provider, login, member, request.user_id)
    where = services.registry[provider].display_name if provider else "every provider"
    return blocks.message(LINKED.format(login=blocks.echo(login), where=where, member=member))


async def _on_release(request: CommandRequest, words: list[str]) -> dict:
    services = request.services
    if len(words) != 2 or words[1].lower() not in ("on", "off"):
        return blocks.message(_usage(services.registry))
    spec = services.registry.named(words[0])
    if spec is None:
        return blocks.message(_unknown(services, words[0]))
    connection = await services.seats.connection(request.team_id, spec.key)
    if connection is None:
        return blocks.message(NOT_CONNECTED.format(provider=spec.display_name))
    on = words[1].lower() == "on"
    await services.reclaims.set_on_release(request.team_id, request.user_id, connection.id, on)
    return blocks.message(ON_RELEASE[on].format(provider=spec.display_name))


def parse_settings(words: list[str], policy: Policy) -> Policy | str:
    """`cooldown 30 remind 3,7 keep 90` applied to `policy`, or the sentence saying what is wrong (pure)."""
    values = dict(cooldown=policy.cooldown_days, remind=policy.reminder_days, keep=policy.keep_days)
    i = 0
    while i < len(words):
        key = words[i].lower()
        if key not in values or i + 1 >= len(words):
            return USAGE
        raw = words[i + 1]
        try:
            numbers = tuple(int(n) for n in raw.split(",")) if key == "remind" else (int(raw),)
        except ValueError:
            return BAD_NUMBER.format(word=blocks.echo(raw))
        if not numbers or any(not 1 <= n <= 365 for n in numbers) or (key != "remind" and len(numbers) != 1):
            return BAD_NUMBER.format(word=blocks.echo(raw))
        values[key] = tuple(sorted(set(numbers))) if key == "remind" else numbers[0]
        i += 2
    return Policy(values["cooldown"], values["remind"], values["keep"], policy.reclaim_on_release)


async def _settings(request: CommandRequest, words: list[str]) -> dict:
    store = request.services.seats
    policy = await store.policy(request.team_id)
    if words:
        changed = parse_settings(words, policy)
        if isinstance(changed, str):
            return blocks.message(changed.replace(PROVIDERS, request.services.registry.usage()))
        await store.set_policy(request.team_id, changed, request.user_id)
        policy = changed
    remind = " and ".join(str(d) for d in policy.reminder_days) or "no"
    return blocks.message(
        SETTINGS.format(cooldown=policy.cooldown_days, remind=remind, keep=policy.keep_days)
    )


SUBCOMMANDS = {"exempt": _exempt, "link": _link, "on-release": _on_release, "settings": _settings}


@command("savings", "savings", "what reclaimed seats save", reply_in_ack=True)
async def savings(request: CommandRequest) -> dict:
    line = msg.savings_line(await request.services.reclaims.savings(request.team_id))
    return blocks.message(line or "Nothing reclaimed yet: `/quolum seats` shows idle seats.")


def selected(state: dict, connection_id: int) -> list[str]:
    """The people chosen in one connection's multi-select, from a block_actions payload's state."""
    values = (state or {}).get("values") or {}
    picked = (values.get(f"{msg.BLOCK_PREFIX}{connection_id}") or {}).get(msg.PICK) or {}
    return [o["value"] for o in picked.get("selected_options") or []]


# --- buttons and dialogs -------------------------------------------------------------------------------
def _state(body: dict) -> dict:
    return body.get("state") or (body.get("view") or {}).get("state") or {}


async def _reply(client, respond, body: dict, message: dict) -> None:
    """Answer the clicker privately where the click came from: the modal it is in, or the message."""
    view = body.get("view")
    if view and view.get("type") == "modal":
        await client.views_update(view_id=view["id"], view=_modal(message, view.get("callback_id") or ""))
    elif body.get("response_url"):
        await respond(response_type="ephemeral", replace_original=False, **message)
    else:  # App Home: no message to answer under, so a small window
        await client.views_open(trigger_id=body["trigger_id"], view=_modal(message))


def _number(body: dict) -> int | None:
    """The id a button carries (a connection, a reclaim); None when the value is not one."""
    value = (body.get("actions") or [{}])[0].get("value", "")
    return int(value) if value.isdigit() else None


def _modal(message: dict, callback_id: str = "seats_view") -> dict:
    return {
        "type": "modal",
        "callback_id": callback_id or "seats_view",
        "title": {"type": "plain_text", "text": "Idle seats"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": message.get("blocks") or [blocks.markdown(message.get("text", ""))],
    }


def register(app: AsyncApp, services: Services) -> None:
    async def admin(client, body, respond) -> bool:
        if await commands.clicked_by_admin(services.connections, client, body):
            return True
        await _reply(client, respond, body, blocks.message(ADMINS_ONLY.format(what=WHAT)))
        return False

    @app.action(msg.REVIEW)
    async def review(ack, body, client, respond) -> None:
        await ack()
        annotate(team=body["team"]["id"], action=msg.REVIEW)
        if not await admin(client, body, respond):
            return
        team_id = body["team"]["id"]
        message = msg.seats_message(
            await services.seats.overview(team_id), await services.reclaims.savings(team_id)
        )
        if body.get("response_url"):
            await respond(response_type="ephemeral", replace_original=False, **message)
        else:
            await client.views_open(trigger_id=body["trigger_id"], view=_modal(message))

    @app.action(msg.PICK)
    async def picked(ack) -> None:
        await ack()  # the choice is read when a button is clicked

    @app.action(msg.ASK)
    async def ask(ack, body, client, respond) -> None:
        await ack()
        annotate(team=body["team"]["id"], action=msg.ASK)
        if not await admin(client, body, respond):
            return
        connection_id = _number(body)
        if connection_id is None:
            return
        chosen = selected(_state(body), connection_id)
        if not chosen:
            await _reply(client, respond, body, blocks.message(msg.PICK_FIRST))
            return
        done = await services.asks.ask(body["team"]["id"], body["user"]["id"], connection_id, chosen)
        await _reply(client, respond, body, msg.asked_reply(done.asked, done.skipped))

    @app.action(msg.RECLAIM)
    async def reclaim(ack, body, client, respond) -> None:
        await ack()
        annotate(team=body["team"]["id"], action=msg.RECLAIM)
        if not await admin(client, body, respond):
            return
        connection_id = _number(body)
        if connection_id is None:
            return
        chosen = selected(_state(body), connection_id)
        planned = await services.reclaims.plan(body["team"]["id"], connection_id, chosen)
        if isinstance(planned, str):
            await _reply(client, respond, body, blocks.message(planned))
            return
        view, rows = planned
        metadata = json.dumps({"c": connection_id, "u": [r.user_id for r in rows]})
        if len(metadata) > 3000:
            await _reply(client, respond, body, blocks.message("Choose fewer people at once (at most 30)."))
            return
        modal = msg.confirm_modal(view, rows, metadata)
        if (body.get("view") or {}).get("type") == "modal":
            await client.views_push(trigger_id=body["trigger_id"], view=modal)
        else:
            await client.views_open(trigger_id=body["trigger_id"], view=modal)

    @app.view(msg.CONFIRM_MODAL)
    async def confirmed(ack, body, client) -> None:
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        annotate(team=team_id, action=msg.CONFIRM_MODAL)
        if not await commands.clicked_by_admin(services.connections, client, body):
            refusal = blocks.message(ADMINS_ONLY.format(what=WHAT))
            await ack(response_action="update", view=_modal(refusal, "seats_result"))
            return
        await ack(response_action="update", view=_modal(blocks.message("Reclaiming…"), "seats_result"))
        data = json.loads(body["view"]["private_metadata"] or "{}")
        run = await services.reclaims.reclaim(team_id, user_id, int(data["c"]), list(data["u"]))
        if run.nothing_new:  # a double submit: the first one's outcome replaces "Reclaiming…" itself
            return
        await client.views_update(
            view_id=body["view"]["id"], view=_modal(msg.results_message(run.lines, run.undo), "seats_result")
        )

    @app.action(msg.ENABLE)
    async def enable(ack, body, client, respond) -> None:
        await ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        annotate(team=team_id, action=msg.ENABLE)
        if not await admin(client, body, respond):
            return
        number = _number(body)
        connection = await services.seats.connection_by_id(team_id, number) if number is not None else None
        if connection is None:
            return
        spec = services.registry[connection.provider]
        if spec.oauth is None:
            await _reply(client, respond, body, blocks.message(services.reclaims.enable_form(spec.key)))
            return
        url = await services.connections.connect_url(team_id, user_id, spec, None, write=True)
        text = f"<{url}|Give Quolum permission to reclaim {spec.display_name} seats> (the consent page asks again, with the write permission)."
        await _reply(client, respond, body, blocks.message(text))

    @app.action(msg.UNDO)
    async def undo(ack, body, client, respond) -> None:
        await ack()
        annotate(team=body["team"]["id"], action=msg.UNDO)
        if not await admin(client, body, respond):
            return
        if (reclaim_id := _number(body)) is None:
            return
        text = await services.reclaims.undo(body["team"]["id"], body["user"]["id"], reclaim_id)
        await _reply(client, respond, body, blocks.message(text))

    @app.action(msg.RELEASE_ACTION)
    async def release(ack, body, client, respond) -> None:
        await ack()
        annotate(team=body["team"]["id"], action=msg.RELEASE_ACTION)
        value = body["actions"][0].get("value", "")
        if not value.isdigit():
            return
        reply = await services.asks.answer(body["team"]["id"], body["user"]["id"], int(value), RELEASE)
        if reply in (msg.NOT_YOURS,) or reply.startswith("You already"):
            await respond(response_type="ephemeral", replace_original=False, text=reply)

    @app.action(msg.KEEP_ACTION)
    async def keep(ack, body, client, respond) -> None:
        await ack()
        annotate(team=body["team"]["id"], action=msg.KEEP_ACTION)
        value = body["actions"][0].get("value", "")
        ask = (
            await services.asks.ask_of(body["team"]["id"], body["user"]["id"], int(value))
            if value.isdigit()
            else None
        )
        if ask is None:
            await respond(response_type="ephemeral", replace_original=False, text=msg.NOT_YOURS)
            return
        name = (
            services.registry[ask.provider].display_name
            if ask.provider in services.registry
            else ask.provider
        )
        await client.views_open(trigger_id=body["trigger_id"], view=msg.keep_modal(ask.id, name))

    @app.view(msg.KEEP_MODAL)
    async def kept(ack, body) -> None:
        values = body["view"]["state"]["values"]
        reason = ((values.get(msg.REASON_BLOCK) or {}).get(msg.REASON_INPUT) or {}).get("value") or None
        ask_id = body["view"].get("private_metadata") or ""
        await ack()
        if ask_id.isdigit():
            await services.asks.answer(body["team"]["id"], body["user"]["id"], int(ask_id), KEEP, reason)
