"""Renewal reminders in Slack: the owner's DM and the alerts channel's message, and the missed deadline.
Pure builders: a Reminder in (amounts already formatted, core/money.py), Block Kit out; every provider or
person string goes through `esc`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from messages import blocks

esc = blocks.escape

LATER, RENEWED, CANCEL = "renewal_later", "renewal_renewed", "renewal_cancel"
BUTTONS = ((LATER, "Remind me later"), (RENEWED, "Mark renewed"), (CANCEL, "Will cancel"))
DUE = ":date: *{provider}*: the notice deadline is *{deadline}* ({days} days left); the contract {renews} on {renewal}."
AS_IS = "Renewing as it is: {seats} seats, {cost} a year."
USE = "Last {weeks} weeks: peak {peak} active seats, {average} on average ({periods} periods stored)."
NO_USE = "No usage is stored for the last {weeks} weeks, so I cannot say how many seats are used."
ADVICE = "*Renew {recommended} seats, not {seats}:* peak use {peak} plus {headroom} % headroom saves {saves} a year."
ENOUGH = "Peak use {peak} plus {headroom} % headroom needs all {seats} seats."
OWNER = "Owner: <@{owner}>."
MISSED = (
    ":warning: *{provider}*: the notice deadline {deadline} passed; the contract {renews} on {renewal} as it is. "
    "No more reminders for these dates."
)
ANSWERED = {
    LATER: "<@{user}> will be reminded again on {until}.",
    RENEWED: "<@{user}> is entering the renewed contract's dates.",
    CANCEL: "<@{user}> will cancel: no more reminders for this contract's dates.",
}


@dataclass(frozen=True)
class Reminder:
    provider: str  # the provider's display name
    key: str  # what the buttons carry back (opaque here)
    deadline: date
    renewal: date
    days_left: int
    auto_renews: bool | None
    owner: str | None  # Slack member id
    seats: int | None
    as_is: str | None  # what renewing as it is costs a year, formatted
    weeks: int
    peak: int | None
    average: float | None
    periods: int
    recommended: int | None
    saves: str | None  # what renewing `recommended` seats saves a year, formatted
    headroom: int


def _renews(auto_renews: bool | None) -> str:
    return "renews by itself" if auto_renews else "is up for renewal"


def reminder_lines(r: Reminder) -> list[str]:
    lines = [
        DUE.format(
            provider=esc(r.provider),
            deadline=r.deadline.isoformat(),
            days=r.days_left,
            renews=_renews(r.auto_renews),
            renewal=r.renewal.isoformat(),
        )
    ]
    if r.seats is not None and r.as_is:
        lines.append(AS_IS.format(seats=r.seats, cost=esc(r.as_is)))
    if r.peak is None:
        lines.append(NO_USE.format(weeks=r.weeks))
    else:
        lines.append(
            USE.format(weeks=r.weeks, peak=r.peak, average=f"{r.average or 0:.1f}", periods=r.periods)
        )
        if r.seats is not None and r.recommended is not None and r.recommended < r.seats and r.saves:
            lines.append(
                ADVICE.format(
                    recommended=r.recommended,
                    seats=r.seats,
                    peak=r.peak,
                    headroom=r.headroom,
                    saves=esc(r.saves),
                )
            )
        elif r.seats is not None:
            lines.append(ENOUGH.format(peak=r.peak, headroom=r.headroom, seats=r.seats))
    if r.owner:
        lines.append(OWNER.format(owner=esc(r.owner)))
    return lines


def _buttons(key: str, which=BUTTONS) -> dict:
    return {
        "type": "actions",
        "block_id": "renewal_actions",
        "elements": [
            {
                "type": "button",
                "action_id": action,
                "text": {"type": "plain_text", "text": label},
                "value": key,
            }
            for action, label in which
        ],
    }


def reminder_message(r: Reminder) -> dict:
    lines = reminder_lines(r)
    text = "\n".join(lines)
    return blocks.message(lines[0], [blocks.markdown(text), _buttons(r.key)])


def missed_message(r: Reminder) -> dict:
    text = MISSED.format(
        provider=esc(r.provider),
        deadline=r.deadline.isoformat(),
        renews=_renews(r.auto_renews),
        renewal=r.renewal.isoformat(),
    )
    return blocks.message(text, [blocks.markdown(text), _buttons(r.key, BUTTONS[1:2])])


def answered_line(action: str, user: str, until: date | None = None) -> str:
    return ANSWERED[action].format(user=esc(user), until=until.isoformat() if until else "")
