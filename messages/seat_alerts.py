"""Seats running out (issue 26, item 3): the one alert per incident, its update, its resolution. Pure:
data in, message out. The incident's lifecycle is the reconnect alerts' (services/alerts.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from messages import blocks

HEADLINE = ":chair: *{provider}*: {free} of {bought} seats free"
WHAT_TO_DO = (
    "{provider} ({account}) has {assigned} of the {bought} seats bought assigned. Free some seats or buy "
    "more before someone cannot be added; `/quolum seats` shows the idle ones to review."
)
CHECKED = "From the usage collected {checked}"
RESOLVED = ":white_check_mark: *Resolved* — *{provider}*: {free} of {bought} seats free again ({at})."
UNCOUNTED = (
    ":white_check_mark: *Resolved* — the {provider} contract no longer counts the seats bought ({at})."
)
WAS = "Was: *{provider}*: {reason}"


@dataclass(frozen=True)
class SeatsView:
    provider: str  # display name
    account: str
    bought: int
    assigned: int
    free: int
    checked: datetime
    resolved_at: datetime | None = None


def headline(view: SeatsView) -> str:
    return HEADLINE.format(provider=blocks.escape(view.provider), free=view.free, bought=view.bought)


def alert_message(view: SeatsView) -> dict:
    text = headline(view)
    body = WHAT_TO_DO.format(
        provider=blocks.escape(view.provider),
        account=blocks.escape(view.account),
        assigned=view.assigned,
        bought=view.bought,
    )
    return blocks.message(
        text,
        [
            SectionBlock(block_id="alert", text=MarkdownTextObject(text=f"{text}\n{body}")).to_dict(),
            ContextBlock(
                elements=[MarkdownTextObject(text=CHECKED.format(checked=blocks.slack_date(view.checked)))]
            ).to_dict(),
        ],
    )


def reason(view: SeatsView) -> str:
    """What the incident records: "1 of 100 seats free" (plain text; escaped where shown)."""
    return f"{view.free} of {view.bought} seats free"


def resolved_message(view: SeatsView, was: str) -> dict:
    """`was`: the incident's reason when it opened or was last checked, shown under the resolution."""
    at = blocks.slack_date(view.resolved_at or view.checked)
    template = RESOLVED if view.bought else UNCOUNTED
    text = template.format(provider=blocks.escape(view.provider), free=view.free, bought=view.bought, at=at)
    return blocks.message(
        text,
        [
            SectionBlock(block_id="alert", text=MarkdownTextObject(text=text)).to_dict(),
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=WAS.format(provider=blocks.escape(view.provider), reason=blocks.escape(was))
                    )
                ]
            ).to_dict(),
        ],
    )
