"""`/quolum digest ...`, `/quolum price ...` (a contract's price alone) and the digest's buttons: parse, call
the service, answer."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from core.logs import annotate
from core.money import Money, currency_sentence, to_minor
from core.periods import zone
from handlers import commands, slack_request
from handlers.commands import ADMINS_ONLY, CommandRequest, command
from messages import blocks
from messages import digest as digest_blocks
from providers.registry import Registry
from services import digest_subscriptions as digests
from services.digest_schedule import MONTHLY, WEEKDAYS, WEEKLY, Schedule

if TYPE_CHECKING:
    from bot.container import Services  # handlers receive the container at registration

CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>")
TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

USAGE = (
    "Usage: `/quolum digest subscribe [#channel] [weekly|monthly] [on <weekday>] [at HH:MM] [tz Area/City]`, "
    "`/quolum digest unsubscribe [#channel]`, `/quolum digest list`, `/quolum digest preview`, "
    "`/quolum digest send [#channel]`, `/quolum digest tz Area/City [#channel]`."
)
SUBSCRIBED = (
    ":white_check_mark: <#{channel}> will get the usage digest {when} ({tz}); next {next}. "
    "Change the time zone with `/quolum digest tz Area/City`."
)
UNSUBSCRIBED = "<#{channel}> will not get the usage digest any more."
NOT_SUBSCRIBED = "<#{channel}> is not subscribed to the usage digest."
NONE_YET = "No channel gets the usage digest yet: `/quolum digest subscribe` in a channel subscribes it."
LIST_LINE = "<#{channel}> — {when} ({tz}) · next {next} · last sent {last}{paused}"
TZ_CHANGED = "<#{channel}> now gets its digest in {tz}; next {next}."
POSTED = "Posted the current digest to <#{channel}> (the scheduled one still goes out as usual)."
NOTHING_TO_SEND = (
    "Nothing was posted to <#{channel}>: no account is connected yet, so the digest would be empty. "
    "Connect one with `/quolum connect` first."
)
NO_CHANNEL = "Run this in a channel, or name one: `/quolum digest subscribe #channel`."
REFUSED = {
    digests.CANNOT_SEE: (
        "I can't see <#{channel}>. If it is private, invite me first with `/invite @Quolum` in that "
        "channel, then subscribe again."
    ),
    digests.PRIVATE_NOT_MEMBER: "<#{channel}> is private and I am not in it: invite me with `/invite @Quolum` there first.",
    digests.ARCHIVED: "<#{channel}> is archived: choose another channel.",
    digests.NOT_A_CHANNEL: "Digests go to channels, not direct messages: run this in a channel or name one.",
}
BAD_WORD = "I did not understand `{word}`. " + USAGE
BAD_TZ = "'{tz}' is not a time zone I know (use a name like Europe/Paris)."
REFUSED_OTHER = "Slack refused the post ({code})."
# `{example}`: the first installed provider (`example(registry)`)
PRICE_USAGE = (
    "Usage: `/quolum price <provider> <amount> [<currency>]`, e.g. `/quolum price {example} 90 EUR`."
)
PRICE_SET = "One paid {provider} seat costs {price} a month: digests will say what idle seats cost."
PRICE_LIST = "Seat prices: {prices}."
NO_PRICES = (
    "No seat prices set: `/quolum price {example} 90 EUR` sets one, so digests can say what idle seats cost."
)
UNKNOWN_PROVIDER = "I don't know a provider called `{name}`. Known: {known}."


def when(sub_or_schedule) -> str:
    s = sub_or_schedule
    if s.cadence == MONTHLY:
        return f"monthly on the 1st at {s.send_time}"
    return f"every {WEEKDAYS[s.weekday].capitalize()} at {s.send_time}"


def local(moment: datetime | None) -> str:
    """A send time as Slack's date token: each reader sees it in their own zone."""
    return blocks.slack_date(moment) if moment else "never"


def parse_schedule(words: list[str], default_tz: str) -> tuple[Schedule | None, str | None, str | None]:
    """(schedule, channel id or None, error) from `[#channel] [weekly|monthly] [on day] [at HH:MM] [tz Z]`."""
    cadence, weekday, at, tz, channel = WEEKLY, 0, "09:00", None, None
    i = 0
    while i < len(words):
        word, lower = words[i], words[i].lower()
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if CHANNEL.fullmatch(word):
            channel = CHANNEL.fullmatch(word).group(1)
        elif lower in (WEEKLY, MONTHLY):
            cadence = lower
        elif lower == "on" and nxt.lower().rstrip("s") in WEEKDAYS:
            weekday, i = WEEKDAYS.index(nxt.lower().rstrip("s")), i + 1
        elif lower == "on" and nxt[:3].lower() in [d[:3] for d in WEEKDAYS]:
            weekday, i = [d[:3] for d in WEEKDAYS].index(nxt[:3].lower()), i + 1
        elif lower == "at" and TIME.match(nxt):
            hour, minute = TIME.match(nxt).groups()
            at, i = f"{int(hour):02d}:{minute}", i + 1
        elif lower == "tz" and nxt:
            tz, i = nxt, i + 1
        else:
            return None, None, BAD_WORD.format(word=blocks.echo(word))
        i += 1
    tz = tz or default_tz
    try:
        zone(tz)
    except ValueError:
        return None, None, BAD_TZ.format(tz=blocks.echo(tz))
    return Schedule(cadence, weekday, at, tz), channel, None


def _channel(request: CommandRequest, words: list[str]) -> str | None:
    named = [CHANNEL.fullmatch(w).group(1) for w in words if CHANNEL.fullmatch(w)]
    return named[0] if named else request.channel_id


async def _refusal(request: CommandRequest, channel: str | None) -> str | None:
    if not channel or channel.startswith("D"):
        return NO_CHANNEL if not channel else REFUSED[digests.NOT_A_CHANNEL]
    why = await digests.check_channel(request.client, channel)
    return REFUSED[why].format(channel=channel) if why else None


@command("digest", "digest subscribe|unsubscribe|list|preview|send", "weekly usage digests in a channel")
async def digest_help(request: CommandRequest) -> dict:
    return blocks.message(USAGE)


@command(
    "digest subscribe",
    "digest subscribe",
    "",
    reply_in_ack=False,
    admins_only=True,
    what="subscribe channels to digests",
)
async def digest_subscribe(request: CommandRequest) -> dict:
    tz = await digests.user_timezone(request.client, request.user_id)
    schedule, channel, error = parse_schedule(request.args.split(), tz)
    if error:
        return blocks.message(error)
    channel = channel or request.channel_id
    refusal = await _refusal(request, channel)
    if refusal:
        return blocks.message(refusal)
    sub = await request.services.digests.subscribe(
        team_id=request.team_id,
        channel_id=channel,
        user_id=request.user_id,
        schedule=schedule,
    )
    return blocks.message(
        SUBSCRIBED.format(channel=channel, when=when(sub), tz=sub.timezone, next=local(sub.next_send_at))
    )


@command(
    "digest unsubscribe", "digest unsubscribe", "", admins_only=True, what="unsubscribe channels from digests"
)
async def digest_unsubscribe(request: CommandRequest) -> dict:
    channel = _channel(request, request.args.split())
    if not channel:
        return blocks.message(NO_CHANNEL)
    done = await request.services.digests.unsubscribe(
        team_id=request.team_id, channel_id=channel, user_id=request.user_id
    )
    return blocks.message((UNSUBSCRIBED if done else NOT_SUBSCRIBED).format(channel=channel))


@command("digest list", "digest list", "")
async def digest_list(request: CommandRequest) -> dict:
    subs = await request.services.digests.subscriptions(request.team_id)
    if not subs:
        return blocks.message(NONE_YET)
    lines = [
        LIST_LINE.format(
            channel=s.channel_id,
            when=when(s),
            tz=blocks.escape(s.timezone),
            next=local(s.next_send_at) if s.status == "active" else "—",
            last=local(s.last_sent_at),
            paused=f" · *paused* ({blocks.escape(s.paused_reason.replace('_', ' '))})"
            if s.status != "active"
            else "",
        )
        for s in subs
    ]
    return blocks.message(digest_blocks.fit(lines), [blocks.markdown(digest_blocks.fit(lines))])


@command("digest tz", "digest tz", "", reply_in_ack=False, admins_only=True, what="change digests")
async def digest_tz(request: CommandRequest) -> dict:
    words = request.args.split()
    names = [w for w in words if not CHANNEL.fullmatch(w)]
    if len(names) != 1:
        return blocks.message(USAGE)
    try:
        zone(names[0])
    except ValueError:
        return blocks.message(BAD_TZ.format(tz=blocks.echo(names[0])))
    channel = _channel(request, words)
    sub = await request.services.digests.change_timezone(request.team_id, channel or "", names[0])
    if sub is None:
        return blocks.message(NOT_SUBSCRIBED.format(channel=channel))
    return blocks.message(TZ_CHANGED.format(channel=channel, tz=sub.timezone, next=local(sub.next_send_at)))


@command("digest preview", "digest preview", "", reply_in_ack=False)
async def digest_preview(request: CommandRequest) -> dict:
    tz = await digests.user_timezone(request.client, request.user_id)
    if not request.response_url:  # Slack always sends one with a command; without it, answer as before
        return await request.services.digests.preview(request.team_id, tz)
    await request.services.digests.preview_to(request.team_id, tz, request.response_url)
    return {}  # answered through response_url (again without the chart if Slack refuses it)


@command("digest send", "digest send", "", reply_in_ack=False, admins_only=True, what="post digests")
async def digest_send(request: CommandRequest) -> dict:
    channel = _channel(request, request.args.split())
    refusal = await _refusal(request, channel)
    if refusal:
        return blocks.message(refusal)
    tz = await digests.user_timezone(request.client, request.user_id)
    try:
        ts = await request.services.digests.send_now(request.team_id, channel, tz)
    except SlackApiError as error:
        code = error.response.get("error") or "error"
        return blocks.message(
            REFUSED.get(code, REFUSED_OTHER).format(channel=channel, code=blocks.escape(code))
        )
    return blocks.message((POSTED if ts else NOTHING_TO_SEND).format(channel=channel))


def example(registry: Registry) -> str:
    return next(iter(registry), "<provider>")


def parse_price(
    words: list[str], registry: Registry
) -> tuple[str | None, Decimal | None, str | None, str | None]:
    """(provider, amount in the currency's major unit, currency or None, error)."""
    usage = PRICE_USAGE.format(example=example(registry))
    if len(words) not in (2, 3):
        return None, None, None, usage
    spec = registry.find(words[0])
    if spec is None:
        return (
            None,
            None,
            None,
            UNKNOWN_PROVIDER.format(name=blocks.echo(words[0]), known=", ".join(registry)),
        )
    try:
        amount = Decimal(words[1].replace(",", "."))
    except InvalidOperation:
        return None, None, None, usage
    if not amount.is_finite() or amount < 0 or amount > 1_000_000:
        return None, None, None, usage
    currency = words[2].upper() if len(words) == 3 else None
    if currency is not None and not re.fullmatch(r"[A-Z]{3}", currency):
        return None, None, None, usage
    if currency is not None and (unknown := currency_sentence(currency)):
        return None, None, None, unknown
    return spec.key, amount, currency, None


def sets_a_price(args: str, registry: Registry) -> bool:
    words = args.split()
    return bool(words) and parse_price(words, registry)[3] is None


@command(
    "price",
    "price [<provider> <amount> [<currency>]]",
    "what one paid seat costs a month (admins set it)",
    admins_only=sets_a_price,
    what="set seat prices",
)
async def price(request: CommandRequest) -> dict:
    service, registry = request.services.digests, request.services.registry
    contracts = request.services.contracts  # the price is the contract's; amounts in the workspace's locale
    words = request.args.split()
    if not words:
        prices = await service.prices(request.team_id)
        if not prices:
            return blocks.message(NO_PRICES.format(example=example(registry)))
        listed = [
            f"{registry[p.provider].display_name} "
            + await contracts.money(request.team_id, Money(p.amount_minor, p.currency))
            for p in prices.values()
        ]
        return blocks.message(PRICE_LIST.format(prices=blocks.escape(", ".join(listed))))
    provider, amount, currency, error = parse_price(words, registry)
    if error:
        return blocks.message(error)
    currency = await service.price_currency(request.team_id, provider, currency)
    try:
        minor = to_minor(amount, currency)
    except ValueError as refused:  # the account's own currency, when none was given, may be one Babel lacks
        return blocks.message(blocks.escape(str(refused)))
    await service.set_price(request.team_id, provider, minor, currency, request.user_id)
    shown = await contracts.money(request.team_id, Money(minor, currency))
    return blocks.message(
        PRICE_SET.format(provider=registry[provider].display_name, price=blocks.escape(shown))
    )


def register(app: AsyncApp, services: Services) -> None:
    @app.action(digest_blocks.PREVIEW_ACTION)
    async def preview_button(ack, body, respond, client) -> None:
        await ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        annotate(team=team_id, action=digest_blocks.PREVIEW_ACTION)
        tz = await digests.user_timezone(client, user_id)
        await services.digests.preview_to(team_id, tz, body["response_url"])

    @app.action(digest_blocks.SUBSCRIBE_PICK_ACTION)
    async def subscribe_pick(ack, body, action, respond, client) -> None:
        await ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        annotate(team=team_id, action=digest_blocks.SUBSCRIBE_PICK_ACTION)
        channel = action.get("selected_conversation") or ""
        where = slack_request.workspace_of(body)
        request = CommandRequest(
            team_id, where.enterprise_id, user_id, channel, "", None, None, services, client, where.org_wide
        )
        reply = await commands.call(commands.COMMANDS["digest subscribe"], request)
        await respond(response_type="ephemeral", replace_original=False, **reply)

    @app.action(digest_blocks.DIGEST_RECONNECT_ACTION)
    async def reconnect(ack, body, action, respond, client) -> None:
        await ack()
        team_id, user_id = body["team"]["id"], body["user"]["id"]
        annotate(team=team_id, action=digest_blocks.DIGEST_RECONNECT_ACTION)
        connections = services.connections
        if not await commands.clicked_by_admin(connections, client, body):
            await respond(
                response_type="ephemeral",
                replace_original=False,
                text=ADMINS_ONLY.format(what="reconnect accounts"),
            )
            return
        card = await connections.card(
            team_id=team_id,
            user_id=user_id,
            can_connect=True,
            response_url=body.get("response_url"),
            only=services.registry.find(action.get("value", "")),
        )
        await respond(response_type="ephemeral", replace_original=False, **card)
