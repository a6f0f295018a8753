"""Connection alerts: the one message per incident, its updates, the reminder, the resolution, and
the incident's line on the Connections card (`/quolum connect`, `/quolum status`, App Home). Pure: data
in, message out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from messages import blocks
from messages.cards import RECONNECT  # the one Reconnect label, the Connections card's

ALERT_RECONNECT_ACTION = "alert_reconnect"  # value: the incident id (the digest's is its own: a provider)

HEADLINES = {
    "revoked": ":rotating_light: *{provider}* ({account}) stopped working: {reason}. "
    "Reconnect it so Quolum can keep reading seats and usage.",
    "scope_lost": ":warning: *{provider}* ({account}) still works, but Quolum can no longer {purpose}: "
    "the `{feature}` permission was removed. Reconnect and grant it to turn that back on.",
    "transient": ":hourglass_flowing_sand: *{provider}* ({account}) has not answered since {since}. "
    "Quolum keeps trying every hour; nothing needs doing unless it goes on.",
    "configuration": ":gear: *{provider}* ({account}): the bot's {provider} app is misconfigured "
    "({provider} rejects the bot's own app credentials). Nothing is wrong with your {provider} account: "
    "please tell whoever runs this Quolum bot.",
}
FAILED = "Failed when Quolum checked {checked}"
STILL_FAILING = "Failing since {since} · still failing, last checked {checked}"
RESOLVED_BY = ":white_check_mark: *Resolved* — reconnected by <@{user}> at {at}."
RESOLVED_ITSELF = ":white_check_mark: *Resolved* — {provider} answers again since {at}."
WAS = "Was: {headline}"
REMINDER = (
    "Reminder: *{provider}* ({account}) has been failing since {since} and Quolum cannot read it until "
    "someone reconnects it."
)
CARD_LINE = {
    "revoked": ":rotating_light: Open incident since {since}: {reason}",
    "scope_lost": ":warning: Degraded since {since}: Quolum can no longer {purpose} (`{feature}`)",
    "transient": ":hourglass_flowing_sand: {provider} has not answered since {since}",
    "configuration": ":gear: Since {since}: the bot's {provider} app is misconfigured",
}
RECONNECT_LINK = "Here is a fresh Connect link for {provider}, for you only and valid for 10 minutes: <{url}|Reconnect {provider}>."
NOT_ALLOWED = (
    "Only Slack admins and Quolum admins can reconnect {provider}. If the person who administers the "
    "{provider} account is not one, ask them with `/quolum invite @them {key}`: the invitation lets them "
    "reconnect it."
)
ALREADY_RESOLVED = "This alert is resolved already: {provider} works again."


@dataclass(frozen=True)
class AlertView:
    """What an alert says; built by the alerts service from the incident and its connection."""

    incident_id: int
    provider: str  # display name
    provider_key: str
    account: str
    kind: str  # revoked | scope_lost | transient | configuration
    reason: str
    feature: str | None
    purpose: str | None  # what the lost feature did, in plain words
    failing_since: datetime
    last_checked: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    opened_at: datetime | None = None  # when the incident was opened (its first check)


def when(moment: datetime) -> str:
    """A Slack date the reader sees in their own time zone (the fallback is UTC)."""
    return blocks.slack_date(moment)


def headline(view: AlertView) -> str:
    return HEADLINES[view.kind].format(
        provider=blocks.escape(view.provider),
        account=blocks.escape(view.account),
        reason=blocks.escape(view.reason),
        purpose=blocks.escape(view.purpose or "read one feature"),
        feature=blocks.escape(view.feature or "?"),
        since=when(view.failing_since),
    )


def alert_message(view: AlertView) -> dict:
    """The open incident: what is wrong, since when, last checked, and a Reconnect button when the
    customer can fix it (not for a transient outage or our own misconfiguration)."""
    text = headline(view)
    out = [
        SectionBlock(block_id="alert", text=MarkdownTextObject(text=text)).to_dict(),
        ContextBlock(elements=[MarkdownTextObject(text=checked_line(view))]).to_dict(),
    ]
    if view.kind in ("revoked", "scope_lost"):
        button = ButtonElement(
            text=RECONNECT, action_id=ALERT_RECONNECT_ACTION, value=str(view.incident_id), style="primary"
        )
        out.append(ActionsBlock(block_id="alert_actions", elements=[button]).to_dict())
    return blocks.message(text, out)


def checked_line(view: AlertView) -> str:
    """The first alert says it failed; once checked again, that it is still failing."""
    if view.opened_at is not None and view.last_checked <= view.opened_at:
        return FAILED.format(checked=when(view.last_checked))
    return STILL_FAILING.format(since=when(view.failing_since), checked=when(view.last_checked))


def resolved_message(view: AlertView) -> dict:
    at = when(view.resolved_at) if view.resolved_at else "now"
    if view.resolved_by:
        text = RESOLVED_BY.format(user=blocks.escape(view.resolved_by), at=at)
    else:
        text = RESOLVED_ITSELF.format(provider=blocks.escape(view.provider), at=at)
    was = ContextBlock(elements=[MarkdownTextObject(text=WAS.format(headline=headline(view)))]).to_dict()
    section = SectionBlock(block_id="alert", text=MarkdownTextObject(text=text)).to_dict()
    return blocks.message(text, [section, was])


def reminder_message(view: AlertView) -> dict:
    return blocks.message(
        REMINDER.format(
            provider=blocks.escape(view.provider),
            account=blocks.escape(view.account),
            since=when(view.failing_since),
        )
    )


def incident_line(
    *,
    provider: str,
    kind: str,
    reason: str,
    since: datetime,
    feature: str | None = None,
    purpose: str | None = None,
) -> str:
    """One line for a card, `/quolum status` or a digest: an open incident and since when."""
    return CARD_LINE.get(kind, CARD_LINE["revoked"]).format(
        provider=blocks.escape(provider),
        reason=blocks.escape(reason),
        since=when(since),
        feature=blocks.escape(feature or "?"),
        purpose=blocks.escape(purpose or "read one feature"),
    )


def incident_summary(incident, spec) -> str:
    """`incident_line` for an open `storage.incidents.IncidentRecord` of the provider `spec`: what the
    Connections card shows (`IncidentStore.open_in_team` finds them)."""
    return incident_line(
        provider=spec.display_name,
        kind=incident.kind,
        reason=incident.reason,
        since=incident.failing_since,
        feature=incident.feature,
        purpose=spec.purpose_of(incident.feature) if incident.feature else None,
    )
