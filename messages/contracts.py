"""The contract modal (`/quolum contract <provider>`) and what it says once saved. Pure builders: a
Contract in, Block Kit out; the block ids are core.contracts' field names, so the validator's errors go
under their fields as they are, and amounts come in already formatted (core/money.py)."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from core.contracts import MONTH, PERIODS, YEAR, Contract
from messages import blocks

CALLBACK_ID = "contract_modal"
TITLE, SUBMIT, CANCEL = "Contract", "Save", "Cancel"
SAVED_TITLE = "Contract saved"
LABELS = {
    "seats": "Seats bought",
    "price": "Price per seat",
    "period": "The price is for a",
    "currency": "Currency (ISO 4217)",
    "start": "Start date",
    "renewal": "Renewal date",
    "notice_days": "Notice period (days)",
    "auto_renews": "Renews by itself",
    "owner": "Owner",
}
HINTS = {
    "price": "e.g. 45 or 1234.50, in the currency below",
    "notice_days": "the notice deadline is the renewal date minus these days",
    "owner": "gets the renewal reminders",
}
PERIOD_NAMES = {MONTH: "month", YEAR: "year"}
YES_NO = (("yes", "Yes"), ("no", "No"))
INTRO = "*{provider}*: what this workspace bought, and when it renews."
SAVED = "Saved the {provider} contract: {seats}{price}.{deadline}"
DEADLINE = " Notice deadline: {date}."


def _text(name: str, value: str, *, max_length: int = 20) -> InputBlock:
    element = PlainTextInputElement(action_id=name, initial_value=value or None, max_length=max_length)
    return InputBlock(block_id=name, label=LABELS[name], hint=HINTS.get(name), element=element, optional=True)


def _option(value: str, text: str) -> Option:
    return Option(value=value, text=text)


def contract_modal(provider: str, contract: Contract, meta: str, currency: str) -> dict:
    """The form with `contract`'s values filled in (`currency`: the one to offer when it has none)."""
    fields = contract.fields()
    period = fields["period"] if fields["period"] in PERIODS else MONTH
    renews = fields["auto_renews"]
    form = [
        _text("seats", fields["seats"], max_length=9),
        _text("price", fields["price"]),
        InputBlock(
            block_id="period",
            label=LABELS["period"],
            element=RadioButtonsElement(
                action_id="period",
                options=[_option(p, PERIOD_NAMES[p]) for p in PERIODS],
                initial_option=_option(period, PERIOD_NAMES[period]),
            ),
        ),
        _text("currency", fields["currency"] or currency, max_length=3),
        InputBlock(
            block_id="start",
            label=LABELS["start"],
            element=DatePickerElement(action_id="start", initial_date=fields["start"] or None),
            optional=True,
        ),
        InputBlock(
            block_id="renewal",
            label=LABELS["renewal"],
            element=DatePickerElement(action_id="renewal", initial_date=fields["renewal"] or None),
            optional=True,
        ),
        _text("notice_days", fields["notice_days"], max_length=3),
        InputBlock(
            block_id="auto_renews",
            label=LABELS["auto_renews"],
            element=StaticSelectElement(
                action_id="auto_renews",
                options=[_option(v, t) for v, t in YES_NO],
                initial_option=next((_option(v, t) for v, t in YES_NO if v == renews), None),
            ),
            optional=True,
        ),
        InputBlock(
            block_id="owner",
            label=LABELS["owner"],
            hint=HINTS["owner"],
            element=UserSelectElement(action_id="owner", initial_user=fields["owner"] or None),
            optional=True,
        ),
    ]
    intro = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": INTRO.format(provider=blocks.escape(provider))},
    }
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        title=TITLE,
        submit=SUBMIT,
        close=CANCEL,
        private_metadata=meta,
        blocks=[intro, *form],
    ).to_dict()


def saved_view(provider: str, contract: Contract, price: str) -> dict:
    """What the modal says once saved; `price`: one seat's price, formatted ("" for none)."""
    seats = f"{contract.seats} seats" if contract.seats is not None else "seats not given"
    each = f" at {price} a {PERIOD_NAMES.get(contract.period or MONTH, MONTH)} each" if price else ""
    deadline = contract.notice_deadline()
    text = SAVED.format(
        provider=blocks.escape(provider),
        seats=seats,
        price=blocks.escape(each),
        deadline=DEADLINE.format(date=deadline.isoformat()) if deadline else "",
    )
    return View(
        type="modal",
        title=SAVED_TITLE,
        close="Done",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    ).to_dict()


def notice_view(text: str) -> dict:
    """A modal that only says `text`: one of the handler's own sentences (mrkdwn)."""
    return View(
        type="modal",
        title=TITLE,
        close="Close",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    ).to_dict()
