"""Pure Block Kit builders: data in, message dicts out (validated by slack_sdk's models)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from slack_sdk.models.blocks import ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock


def escape(text: str) -> str:
    """Text from a person or a provider, made inert in mrkdwn: Slack's formatting rules ask for `&`,
    `<` and `>` to be escaped, so `<!channel>` or `<@U123>` typed by someone stays text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


ECHO_LIMIT = 80


def echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """What someone typed, quoted back in a reply: cut to `limit` characters (ending with `…`) and
    then escaped, so a pasted essay or `<!channel>` comes back short and inert."""
    cut = text if len(text) <= limit else text[: limit - 1] + "…"
    return escape(cut)


DATE_TIME = "{date_short_pretty} at {time}"  # Slack's date tokens: "Dec 7, 2026 at 09:00", "today at 09:00"
DATE = "{date_short_pretty}"


def slack_date(moment: datetime, tokens: str = DATE_TIME) -> str:
    """`moment` as Slack's `<!date^UNIX^tokens|fallback>`: every reader sees it in their own time zone.
    The fallback (for clients that cannot format it) is in UTC, escaped like any other text."""
    utc = moment.astimezone(UTC)
    fallback = f"{utc:%Y-%m-%d %H:%M} UTC" if "{time" in tokens else f"{utc:%Y-%m-%d}"
    return f"<!date^{int(moment.timestamp())}^{tokens}|{escape(fallback)}>"


def slack_day(day: date) -> str:
    """A calendar day (a renewal, a deadline) as a Slack date: written at noon UTC, which is the same
    day for readers from UTC−11 to UTC+11 (a day has no time of its own to convert)."""
    return slack_date(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), DATE)


def markdown(text: str) -> dict:
    return SectionBlock(text=MarkdownTextObject(text=text)).to_dict()


def context(text: str) -> dict:
    return ContextBlock(elements=[MarkdownTextObject(text=text)]).to_dict()


def header(text: str) -> dict:
    return HeaderBlock(text=text[:150]).to_dict()


def divider() -> dict:
    return DividerBlock().to_dict()


def message(text: str, blocks: Iterable[dict] = ()) -> dict:
    """A message payload: `text` is the notification and screen-reader fallback."""
    blocks = list(blocks)
    return {"text": text, "blocks": blocks} if blocks else {"text": text}


HELP_TITLE = "Quolum Bot tells you who uses the SaaS seats you pay for."
NOT_UNDERSTOOD = "Sorry, I did not understand `/quolum {text}`."


def help_message(commands: Iterable[tuple[str, str]], *, not_understood: str | None = None) -> dict:
    """`commands` is (usage, description) pairs, in the order to show them."""
    lines = "\n".join(f"`/quolum {usage}` — {description}" for usage, description in commands)
    blocks = []
    echoed = NOT_UNDERSTOOD.format(text=echo(not_understood)) if not_understood is not None else None
    if echoed:
        blocks.append(markdown(echoed))
    blocks += [markdown(f"*{HELP_TITLE}*"), markdown(lines)]
    fallback = echoed or HELP_TITLE
    return message(fallback, blocks)
