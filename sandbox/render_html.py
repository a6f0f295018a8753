"""Block Kit to HTML for the sandbox Slack page. Pure: a message or view in, an HTML fragment out.

Every block type the bot sends is drawn (header, section with text, fields and accessory, actions with
buttons, overflow menus and selects, context, divider, image, input blocks of modals, rich text); a type
this module does not know is drawn as `[unsupported block: TYPE]`, never dropped. Interactive elements
carry `data-action-id`/`data-block-id`/`data-value` for the page's script to send back as a signed
block_actions payload; input elements are named `block_id/action_id` for view submissions. No library
renders Block Kit to HTML, hence this module; mrkdwn reuses render_terminal's patterns.
"""

from __future__ import annotations

import re
from html import escape
from urllib.parse import urlparse

from sandbox.render_chart import chart_svg
from sandbox.render_terminal import BOLD, CODE, DATE, EMOJI, ITALIC, LINK, MENTION, SPECIAL
from sandbox.workspace import CHANNELS

# Symbols that a browser without an emoji font still draws (Slack draws its own images for these).
HTML_EMOJI = {**EMOJI, ":white_check_mark:": "✔", ":warning:": "⚠", ":x:": "✖", ":grey_question:": "?"}
KNOWN_BLOCKS = (
    "header",
    "section",
    "actions",
    "context",
    "divider",
    "image",
    "input",
    "rich_text",
    "data_visualization",
)
LOOPBACK = ("127.0.0.1", "localhost")


def mrkdwn_html(text: str) -> str:
    """Slack mrkdwn as HTML: escaped first, then links, mentions, dates, *bold*, _italic_, `code`."""
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    links: list[str] = []

    def keep(html: str) -> str:  # placeholders so escaping does not touch the markup made here
        links.append(html)
        return f"\x00{len(links) - 1}\x00"

    text = DATE.sub(lambda m: keep(f"<time>{escape(m.group(3))}</time>"), text)
    text = LINK.sub(
        lambda m: keep(
            f'<a href="{escape(m.group(1) or m.group(3))}" target="_blank" rel="noopener">'
            f"{escape(m.group(2) or m.group(3))}</a>"
        ),
        text,
    )
    text = MENTION.sub(
        lambda m: keep(f'<span class="mention">@{escape(m.group(2) or m.group(1))}</span>'), text
    )
    text = SPECIAL.sub(
        lambda m: keep(
            f'<span class="mention">{"#" if m.group(0)[1] == "#" else "@"}{escape(m.group(2) or m.group(1))}</span>'
        ),
        text,
    )
    text = escape(text, quote=False)
    text = CODE.sub(lambda m: f"<code>{m.group(1)}</code>", text)
    text = BOLD.sub(lambda m: f"<b>{m.group(1)}</b>", text)
    text = ITALIC.sub(lambda m: f"<i>{m.group(1)}</i>", text)
    for name, symbol in HTML_EMOJI.items():
        text = text.replace(name, f'<span class="emoji">{symbol}</span>')
    text = re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], text)
    return text.replace("\n", "<br>")


def text_html(obj: dict | str | None) -> str:
    if obj is None:
        return ""
    if isinstance(obj, str):
        return mrkdwn_html(obj)
    if obj.get("type") == "plain_text":
        return escape(obj.get("text", "")).replace("\n", "<br>")
    return mrkdwn_html(obj.get("text", ""))


def _attrs(element: dict, block_id: str) -> str:
    return (
        f'data-action-id="{escape(element.get("action_id", ""))}" data-block-id="{escape(block_id)}" '
        f'data-type="{escape(element.get("type", ""))}"'
    )


def _options(element: dict) -> str:
    chosen = (element.get("initial_option") or {}).get("value")
    out = []
    for option in element.get("options", []):
        selected = " selected" if option.get("value") == chosen else ""
        out.append(
            f'<option value="{escape(option.get("value", ""))}"{selected}>{text_html(option.get("text"))}</option>'
        )
    return "".join(out)


def element_html(element: dict, block_id: str = "") -> str:
    kind = element.get("type")
    if kind == "button":
        style = element.get("style") or "default"
        label = text_html(element.get("text"))
        value = escape(element.get("value", ""))
        if element.get("url"):
            return (
                f'<a class="button {style}" href="{escape(element["url"])}" target="_blank" rel="noopener" '
                f'{_attrs(element, block_id)} data-value="{value}">{label}</a>'
            )
        return f'<button class="button {style}" {_attrs(element, block_id)} data-value="{value}">{label}</button>'
    if kind == "overflow":
        return (
            f'<select class="overflow" {_attrs(element, block_id)} aria-label="more">'
            f'<option value="" selected>⋯</option>{_options(element)}</select>'
        )
    if kind == "static_select":
        placeholder = text_html(element.get("placeholder")) or "Choose"
        return (
            f'<select class="select" {_attrs(element, block_id)}><option value="">{placeholder}</option>'
            f"{_options(element)}</select>"
        )
    if kind == "multi_static_select":  # chosen options travel in the `state` of the next click
        placeholder = escape((element.get("placeholder") or {}).get("text") or "Choose")
        return (
            f'<select class="select" multiple size="{min(5, len(element.get("options", [])))}" '
            f'{_attrs(element, block_id)} aria-label="{placeholder}" title="{placeholder}">'
            f"{_options(element)}</select>"
        )
    if kind == "conversations_select":  # the sandbox workspace's channels
        placeholder = text_html(element.get("placeholder")) or "Choose a channel"
        options = "".join(
            f'<option value="{escape(cid)}"># {escape(name)}</option>' for cid, name in CHANNELS.items()
        )
        return f'<select class="select" {_attrs(element, block_id)}><option value="">{placeholder}</option>{options}</select>'
    if kind == "image":
        return _image(element.get("image_url", ""), element.get("alt_text", ""), "inline")
    if kind in ("mrkdwn", "plain_text"):
        return f"<span>{text_html(element)}</span>"
    return f'<span class="unknown">[unsupported element: {escape(str(kind))}]</span>'


def _image(url: str, alt: str, css: str) -> str:
    # The sandbox stays on 127.0.0.1: images elsewhere are named, not fetched.
    if urlparse(url).hostname in LOOPBACK:
        return f'<img class="{css}" src="{escape(url)}" alt="{escape(alt)}">'
    return f'<span class="image-placeholder {css}">[image: {escape(alt)}]</span>'


def input_html(block: dict, errors: dict[str, str] | None = None) -> str:
    block_id = block.get("block_id", "")
    element = block.get("element") or {}
    name = escape(f"{block_id}/{element.get('action_id', '')}")
    ident = f'id="in-{escape(block_id)}"'  # the block's label names its control (`for`)
    kind = element.get("type")
    if kind == "plain_text_input":
        placeholder = escape((element.get("placeholder") or {}).get("text", ""))
        initial = escape(element.get("initial_value", ""))
        if element.get("multiline"):
            control = f'<textarea {ident} name="{name}" data-type="{kind}" placeholder="{placeholder}">{initial}</textarea>'
        else:
            control = f'<input {ident} name="{name}" data-type="{kind}" placeholder="{placeholder}" value="{initial}">'
    elif kind in ("radio_buttons", "checkboxes"):
        chosen = {(element.get("initial_option") or {}).get("value")} | {
            o.get("value") for o in element.get("initial_options", [])
        }
        kind_attr = "radio" if kind == "radio_buttons" else "checkbox"
        control = "".join(
            f'<label class="choice"><input type="{kind_attr}" name="{name}" data-type="{kind}" '
            f'value="{escape(o.get("value", ""))}"{" checked" if o.get("value") in chosen else ""}> '
            f"{text_html(o.get('text'))}</label>"
            for o in element.get("options", [])
        )
    elif kind == "static_select":
        control = f'<select {ident} name="{name}" data-type="{kind}"><option value=""></option>{_options(element)}</select>'
    else:
        control = f'<span class="unknown">[unsupported element: {escape(str(kind))}]</span>'
    hint = f'<div class="hint">{text_html(block.get("hint"))}</div>' if block.get("hint") else ""
    error = (errors or {}).get(block_id)
    error_html = f'<div class="error">{escape(error)}</div>' if error else ""
    return (
        f'<div class="block input" data-block-id="{escape(block_id)}"><label class="label" for="in-{escape(block_id)}">'
        f"{text_html(block.get('label'))}</label>{control}{hint}{error_html}</div>"
    )


def block_html(block: dict, errors: dict[str, str] | None = None) -> str:
    kind = block.get("type")
    block_id = block.get("block_id", "")
    if kind == "header":
        return f'<h3 class="block header">{text_html(block.get("text"))}</h3>'
    if kind == "section":
        parts = []
        if block.get("text"):
            parts.append(f'<div class="text">{text_html(block["text"])}</div>')
        if block.get("fields"):
            fields = "".join(f'<div class="field">{text_html(f)}</div>' for f in block["fields"])
            parts.append(f'<div class="fields">{fields}</div>')
        accessory = block.get("accessory")
        body = f'<div class="body">{"".join(parts)}</div>'
        side = f'<div class="accessory">{element_html(accessory, block_id)}</div>' if accessory else ""
        return f'<div class="block section">{body}{side}</div>'
    if kind == "actions":
        elements = "".join(element_html(e, block_id) for e in block.get("elements", []))
        return f'<div class="block actions">{elements}</div>'
    if kind == "context":
        elements = "".join(element_html(e, block_id) for e in block.get("elements", []))
        return f'<div class="block context">{elements}</div>'
    if kind == "divider":
        return '<hr class="block divider">'
    if kind == "image":
        title = (
            f'<div class="image-title">{text_html(block.get("title"))}</div>' if block.get("title") else ""
        )
        return f'<div class="block image">{title}{_image(block.get("image_url", ""), block.get("alt_text", ""), "")}</div>'
    if kind == "input":
        return input_html(block, errors)
    if kind == "data_visualization":
        return chart_svg(block)
    if kind == "rich_text":
        from sandbox.render_terminal import block_lines

        return f'<div class="block rich-text">{escape(block_lines(block)[0].plain)}</div>'
    return f'<div class="block unknown">[unsupported block: {escape(str(kind))}]</div>'


def message_html(message: dict) -> str:
    """A message: its blocks, or its `text` when it has none."""
    blocks = message.get("blocks") or []
    if not blocks:
        return (
            f'<div class="block section"><div class="body">{mrkdwn_html(message.get("text", ""))}</div></div>'
        )
    return "".join(block_html(b) for b in blocks)


def view_html(view: dict, errors: dict[str, str] | None = None) -> str:
    """A modal or App Home: title, blocks (inputs named for submission), submit and close."""
    title = f'<h2 class="view-title">{text_html(view.get("title"))}</h2>' if view.get("title") else ""
    body = "".join(block_html(b, errors) for b in view.get("blocks", []))
    buttons = ""
    if view.get("type") == "modal":
        close = text_html(view.get("close")) or "Cancel"
        submit = (
            f'<button type="submit" class="button primary">{text_html(view["submit"])}</button>'
            if view.get("submit")
            else ""
        )
        buttons = f'<div class="view-buttons"><button type="button" class="button close">{close}</button>{submit}</div>'
    return f"{title}{body}{buttons}"
