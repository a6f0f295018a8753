"""Pure Block Kit builders: data in, message dicts out (validated by slack_sdk's models)."""

from __future__ import annotations

from collections.abc import Iterable

from slack_sdk.models.blocks import ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock


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
    if not_understood is not None:
        blocks.append(markdown(NOT_UNDERSTOOD.format(text=not_understood[:200])))
    blocks += [markdown(f"*{HELP_TITLE}*"), markdown(lines)]
    fallback = NOT_UNDERSTOOD.format(text=not_understood[:200]) if not_understood is not None else HELP_TITLE
    return message(fallback, blocks)
