"""Slack messages as a person reads them, in a terminal: Block Kit in, `rich` renderables or plain text out.

Pure: a message (or a view) in, lines out. Every block type Slack defines that the bot may send is drawn;
a type this module does not know is shown as `[unsupported block: TYPE]`, never dropped. Slack's
mrkdwn is reduced to what a terminal can show (bold, links as `label (url)`, mentions as `@id`); no
library converts mrkdwn, so the few rules are written here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, tzinfo

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from sandbox.render_chart import chart_lines

DATE = re.compile(r"<!date\^(\d+)\^([^|>^]*)(?:\^[^|>]*)?\|([^>]*)>")  # unix, tokens, (link), fallback
LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>|<(https?://[^>]+)>")
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
SPECIAL = re.compile(r"<[#!]([A-Za-z0-9^]+)(?:\|([^>]*))?>")
BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
ITALIC = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")
CODE = re.compile(r"`([^`\n]+)`")
EMOJI = {
    ":white_check_mark:": "✅",
    ":warning:": "⚠️",
    ":x:": "❌",
    ":hourglass_flowing_sand:": "⏳",
    ":wave:": "👋",
    ":tada:": "🎉",
    ":link:": "🔗",
    ":lock:": "🔒",
    ":bell:": "🔔",
    ":information_source:": "ℹ️",
    ":grey_question:": "❔",
    ":rotating_light:": "🚨",
    ":gear:": "⚙️",
    ":date:": "📅",
    ":eyes:": "👀",
    ":moneybag:": "💰",
    ":chair:": "🪑",
}


def with_names(message, names: Mapping[str, str]):
    """A copy of `message` with `<@U1>` and `<#C1>` mentions given their display names (`<@U1|ada>`,
    `<#C1|saas-usage>`), as Slack shows."""
    if isinstance(message, dict):
        return {k: with_names(v, names) for k, v in message.items()}
    if isinstance(message, list):
        return [with_names(v, names) for v in message]
    if isinstance(message, str):
        message = MENTION.sub(
            lambda m: f"<@{m.group(1)}|{names.get(m.group(1)) or m.group(2) or m.group(1)}>", message
        )
        return CHANNEL.sub(
            lambda m: f"<#{m.group(1)}|{names.get(m.group(1)) or m.group(2) or m.group(1)}>", message
        )
    return message


def date_text(unix: int, tokens: str, tz: tzinfo | None, today: date | None = None) -> str:
    """Slack's `<!date^unix^tokens|…>` as Slack draws it for a reader in `tz` (None: this machine's zone)
    whose day is `today` (for today/yesterday/tomorrow; None: always the date). Times in 24 hours, as a
    reader who chose that sees them. Slack's tokens, by hand: no library draws them."""
    moment = datetime.fromtimestamp(unix).astimezone(tz)
    day = moment.date()
    nth = f"{day.day}{'th' if 11 <= day.day % 100 <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(day.day % 10, 'th')}"
    near = {0: "today", -1: "yesterday", 1: "tomorrow"}.get((day - today).days) if today else None
    values = {
        "date_num": f"{day:%Y-%m-%d}",
        "date_slash": f"{day:%d/%m/%Y}",
        "date": f"{day:%B} {nth}, {day.year}",
        "date_short": f"{day:%b} {day.day}, {day.year}",
        "date_long": f"{day:%A}, {day:%B} {nth}, {day.year}",
        "date_long_full": f"{day:%B} {day.day}, {day.year}",
        "time": f"{moment:%H:%M}",
        "time_secs": f"{moment:%H:%M:%S}",
    }
    for name in ("date", "date_short", "date_long"):
        values[f"{name}_pretty"] = near or values[name]
    this_year = today is not None and day.year == today.year
    values["day_divider_pretty"] = near or (f"{day:%A}, {day:%B} {nth}" if this_year else values["date_long"])
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), tokens)


def with_dates(message, tz: tzinfo | None, today: date | None = None):
    """A copy of `message` with every `<!date^…>` drawn as its reader in `tz` sees it (see date_text)."""
    if isinstance(message, dict):
        return {k: with_dates(v, tz, today) for k, v in message.items()}
    if isinstance(message, list):
        return [with_dates(v, tz, today) for v in message]
    if isinstance(message, str):
        return DATE.sub(lambda m: date_text(int(m.group(1)), m.group(2), tz, today), message)
    return message


def mrkdwn_plain(text: str) -> str:
    """Slack mrkdwn as plain text: `<url|label>` -> `label`, `<@U1|dana>` -> `@dana`, `<!date^…|fallback>`
    -> fallback, `code` unquoted, emoji names kept unless they have a common symbol, entities unescaped."""
    text = DATE.sub(lambda m: m.group(3), text)
    text = LINK.sub(lambda m: m.group(2) or m.group(3), text)
    text = MENTION.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    text = SPECIAL.sub(lambda m: ("#" if m.group(0)[1] == "#" else "@") + (m.group(2) or m.group(1)), text)
    text = CODE.sub(lambda m: m.group(1), text)
    for name, symbol in EMOJI.items():
        text = text.replace(name, symbol)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _styled(obj: dict | str | None) -> Text:
    """A text object (plain_text or mrkdwn) as a rich Text with *bold* kept bold."""
    if obj is None:
        return Text("")
    raw = obj if isinstance(obj, str) else obj.get("text", "")
    if isinstance(obj, dict) and obj.get("type") == "plain_text":
        return Text(raw)
    plain = mrkdwn_plain(raw)
    spans = sorted(
        [(m.start(), m.end(), m.group(1), "bold") for m in BOLD.finditer(plain)]
        + [(m.start(), m.end(), m.group(1), "italic") for m in ITALIC.finditer(plain)]
    )
    out, last = Text(), 0
    for start, end, inner, style in spans:
        if start < last:  # overlapping marks: keep the first
            continue
        out.append(plain[last:start])
        out.append(inner, style=style)
        last = end
    out.append(plain[last:])
    return out


def _element(element: dict) -> Text:
    kind = element.get("type")
    if kind == "button":
        label = _styled(element.get("text")).plain
        style = {"primary": "bold green", "danger": "bold red"}.get(element.get("style", ""), "bold cyan")
        text = Text(f"[ {label} ]", style=style)
        if element.get("url"):
            text.append(f" → {element['url'].split('?')[0]}", style="dim")
        return text
    if kind == "overflow":
        names = ", ".join(_styled(o.get("text")).plain for o in element.get("options", []))
        return Text(f"[ ⋯ {names} ]", style="cyan")
    if kind in (
        "static_select",
        "multi_static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
    ):
        chosen = element.get("initial_option") or (element.get("initial_options") or [{}])[0]
        placeholder = _styled(chosen.get("text") or element.get("placeholder")).plain or "choose"
        return Text(f"[ {placeholder} ▾ ]", style="cyan")
    if kind == "image":
        return Text(f"[image: {element.get('alt_text', '')}]", style="dim")
    if kind in ("mrkdwn", "plain_text"):
        return _styled(element)
    if kind == "plain_text_input":
        return Text(f"[ {_styled(element.get('placeholder')).plain or '…'} ]", style="dim")
    if kind in ("radio_buttons", "checkboxes"):
        mark = "( )" if kind == "radio_buttons" else "[ ]"
        return Text("  ".join(f"{mark} {_styled(o.get('text')).plain}" for o in element.get("options", [])))
    return Text(f"[unsupported element: {kind}]", style="magenta")


def block_lines(block: dict) -> list[Text]:
    """One block as terminal lines."""
    kind = block.get("type")
    if kind == "header":
        return [Text(_styled(block.get("text")).plain, style="bold underline")]
    if kind == "section":
        lines = []
        if block.get("text"):
            lines.append(_styled(block["text"]))
        fields = block.get("fields") or []
        for left, right in zip(fields[::2], fields[1::2] + [None], strict=False):
            row = _styled(left)
            if right is not None:
                row.append("    ")
                row.append_text(_styled(right))
            lines.append(row)
        if block.get("accessory"):
            lines.append(Text("  ").append_text(_element(block["accessory"])))
        return lines
    if kind == "actions":
        row = Text()
        for i, element in enumerate(block.get("elements", [])):
            if i:
                row.append("  ")
            row.append_text(_element(element))
        return [row]
    if kind == "context":
        row = Text(style="dim")
        for i, element in enumerate(block.get("elements", [])):
            if i:
                row.append("  ")
            row.append_text(_element(element))
        return [row]
    if kind == "divider":
        return [Text("─" * 40, style="dim")]
    if kind == "image":
        title = _styled(block.get("title")).plain
        return [Text(f"[image: {title or block.get('alt_text', '')}]", style="dim")]
    if kind == "input":
        label = _styled(block.get("label")).plain
        lines = [Text(label, style="bold"), Text("  ").append_text(_element(block.get("element") or {}))]
        if block.get("hint"):
            lines.append(Text("  ").append_text(_styled(block["hint"])))
        return lines
    if kind == "rich_text":
        return [Text(_rich_text_plain(block))]
    if kind == "data_visualization":
        return [Text(line) for line in chart_lines(block)]
    return [Text(f"[unsupported block: {kind}]", style="magenta")]


def _rich_text_plain(block: dict) -> str:
    parts: list[str] = []

    def walk(node: dict) -> None:
        if "text" in node and isinstance(node["text"], str):
            parts.append(node["text"])
        for child in node.get("elements", []):
            walk(child)

    walk(block)
    return "".join(parts)


def message_lines(message: dict) -> list[Text]:
    """A message (text + blocks) or a view (title + blocks) as lines; the `text` fallback when no blocks."""
    lines: list[Text] = []
    if message.get("title"):  # a modal or App Home
        lines.append(Text(_styled(message["title"]).plain, style="bold reverse"))
    blocks: Iterable[dict] = message.get("blocks") or []
    for block in blocks:
        lines.extend(block_lines(block))
    if not lines and message.get("text"):
        lines.append(_styled(message["text"]))
    if message.get("submit"):
        lines.append(Text(f"[ {_styled(message['submit']).plain} ]", style="bold green"))
    return lines


def plain(message: dict) -> str:
    return "\n".join(line.plain for line in message_lines(message))


def show(console: Console, where: str, message: dict, names: Mapping[str, str] | None = None) -> None:
    """Print one message: a panel on a terminal, plain lines (headed by `where`) otherwise."""
    message = with_dates(with_names(message, names or {}), None)  # the reader: whoever is at this terminal
    where = mrkdwn_plain(with_names(where, names or {}))
    if console.is_terminal:
        console.print(Panel(Group(*message_lines(message)), title=where, title_align="left", expand=False))
    else:
        console.print(f"--- {where}", markup=False, highlight=False)
        console.print(plain(message), markup=False, highlight=False)
