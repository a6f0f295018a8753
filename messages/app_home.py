"""The App Home tab: connections, digests, invitations, incidents. Pure: data in, a `home` view out.

Sections whose feature has no data yet (digest subscriptions, incidents, the last digest) say so in one
line rather than disappearing, so a person sees what the tab will hold. The digest and alert features
hand their data in as ready mrkdwn lines (`HomeData.subscriptions`, `incidents`, `last_digest`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ContextBlock, MarkdownTextObject
from slack_sdk.models.views import View

from messages import blocks, cards
from messages import invite_blocks as ib
from messages.digest import REVIEW, REVIEW_ACTION

TITLE = "Quolum Bot"
INTRO = "Connect your company's SaaS accounts and get a weekly digest of who uses the seats you pay for."
CONNECTIONS = "Connections"
DIGESTS = "Digest subscriptions"
INVITATIONS = "Open invitations"
INCIDENTS = "Open incidents"
LAST_DIGEST = "Last digest"
CONNECTED = "Connected"  # the state word cards.CONNECTED_TEXT starts with
NO_SUBSCRIPTIONS = "No channel gets a digest yet."
NO_INVITATIONS = "No open invitations."
NO_INCIDENTS = "No open incidents: every connection answers."
NO_DIGEST = "No digest has been sent yet."
CONTRACTS = "Contracts"
NO_CONTRACTS = "No contract recorded: `/quolum contract <provider>` records one, and its renewal is watched."
CONTRACT_LINE = "*{provider}* · {seats}{price}{renewal}"
SEATS = "Idle seats"
NO_SEATS = "Nothing asked or reclaimed yet."
FOOTER = "Type `/quolum help` in any channel for every command."
MAX_LINES = 20  # per section: App Home allows 100 blocks, a section 3000 characters


@dataclass(frozen=True)
class HomeData:
    rows: list[cards.Row]
    can_connect: bool
    invitations: list = field(default_factory=list)  # storage.invitations.InvitationRecord
    provider_names: dict[str, str] = field(default_factory=dict)
    subscriptions: list[str] = field(default_factory=list)  # mrkdwn lines, e.g. "#saas-usage · next Mon"
    incidents: list[str] = field(default_factory=list)  # mrkdwn lines
    last_digest: str | None = None  # the last digest: where and when it was posted, mrkdwn
    seats: list[str] | None = None  # admins only: the savings line and the latest audit lines, mrkdwn
    contracts: list[str] | None = None  # admins only: each contract with its next deadline, mrkdwn


def _section(title: str, lines: list[str], empty: str) -> list[dict]:
    shown = lines[:MAX_LINES]
    more = len(lines) - len(shown)
    body = "\n".join(shown) + (f"\n…and {more} more." if more > 0 else "") if shown else f"_{empty}_"
    return [blocks.divider(), blocks.markdown(f"*{title}*\n{body}"[:3000])]


def invitation_lines(data: HomeData) -> list[str]:
    return [ib.open_line(i, data.provider_names) for i in data.invitations]


SUBSCRIPTION_LINE = "<#{channel}> · {cadence} · next {next}"
PAUSED_LINE = "<#{channel}> · {cadence} · paused: {reason}"
INCIDENT_LINE = ":rotating_light: {provider} · failing since {since}"
LAST_DIGEST_LINE = "Posted in <#{channel}> {when}"


def subscription_line(sub) -> str:
    """One digest subscription (storage.digests.Subscription) for the tab."""
    if sub.status != "active":
        return PAUSED_LINE.format(
            channel=blocks.escape(sub.channel_id),
            cadence=blocks.escape(sub.cadence),
            reason=blocks.escape(sub.paused_reason or sub.status),
        )
    return SUBSCRIPTION_LINE.format(
        channel=blocks.escape(sub.channel_id),
        cadence=blocks.escape(sub.cadence),
        next=blocks.slack_date(sub.next_send_at),
    )


def incident_line(incident, provider_name: str) -> str:
    """One open incident (storage.incidents.IncidentRecord) for the tab."""
    return INCIDENT_LINE.format(
        provider=blocks.escape(provider_name), since=blocks.slack_date(incident.failing_since)
    )


def last_digest_line(sub) -> str:
    """Where and when the last digest went (a subscription, or an on-demand post: `channel_id` and
    `last_sent_at`)."""
    return LAST_DIGEST_LINE.format(
        channel=blocks.escape(sub.channel_id), when=blocks.slack_date(sub.last_sent_at)
    )


def contract_line(contract, provider_name: str, price: str | None) -> str:
    """One contract (core.contracts.Contract) for admins: seats bought, the seat's price (written by the
    caller in the workspace's locale), and the next deadline — the last day to give notice — then the
    renewal, as Slack dates every reader sees in their own time zone."""
    seats = f"{contract.seats} seats bought" if contract.seats is not None else "seats bought not set"
    per = "month" if contract.period != "year" else "year"
    price_text = f" · {price} a seat a {per}" if price else ""
    renewal = ""
    if contract.renews_on is not None:
        deadline = contract.notice_deadline()
        renews = blocks.slack_day(contract.renews_on)
        renewal = (
            f" · notice by {blocks.slack_day(deadline)}, renews {renews}"
            if deadline
            else f" · renews {renews}"
        )
        if contract.auto_renews is False:
            renewal += " (ends unless renewed)"
    return CONTRACT_LINE.format(
        provider=blocks.escape(provider_name), seats=seats, price=price_text, renewal=renewal
    )


def home_view(data: HomeData) -> dict:
    card = cards.connections_card(data.rows, can_connect=data.can_connect)
    out: list[dict] = [blocks.header(TITLE), blocks.markdown(INTRO), blocks.divider()]
    out.append(blocks.markdown(f"*{CONNECTIONS}*"))
    out += card["blocks"][1:]  # the card's rows and buttons, without its header
    out += _section(DIGESTS, data.subscriptions, NO_SUBSCRIPTIONS)
    out += _section(INVITATIONS, invitation_lines(data), NO_INVITATIONS)
    out += _section(INCIDENTS, data.incidents, NO_INCIDENTS)
    out += _section(LAST_DIGEST, [data.last_digest] if data.last_digest else [], NO_DIGEST)
    if data.contracts is not None:  # admins: what is bought, at what price, and the next deadline
        out += _section(CONTRACTS, data.contracts, NO_CONTRACTS)
    if data.seats is not None:  # admins: the ledger, what was done lately, and the way in
        out += _section(SEATS, data.seats, NO_SEATS)
        review = ButtonElement(text=REVIEW, action_id=REVIEW_ACTION, value="review")
        out.append(ActionsBlock(elements=[review]).to_dict())
    out.append(ContextBlock(elements=[MarkdownTextObject(text=FOOTER)]).to_dict())
    return View(type="home", blocks=out).to_dict()
