"""A workspace's contract with a provider, and the one validator every way of setting it goes through.

The modal, `quolum-bot contracts set` and a CSV import all hand `parse` the same fields as text
(FIELDS); it answers either a Contract or, per field, the one sentence that says what is wrong — the
modal shows it under the field, the CLI names the row and the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from core.money import Money, currency_sentence, major, to_minor

MONTH, YEAR = "month", "year"
PERIODS = (MONTH, YEAR)
MAX_SEATS = 1_000_000
MAX_NOTICE_DAYS = 730
# field -> what it holds (CSV header, `contracts set --field`, the modal's block ids)
FIELDS = {
    "provider": "the provider's key, e.g. the one `quolum-bot contracts list` shows",
    "seats": "seats bought",
    "price": "price of one seat per period, e.g. 90 or 1234.50",
    "period": "month or year: what the price is for",
    "currency": "ISO 4217 code, e.g. EUR",
    "start": "start date, YYYY-MM-DD",
    "renewal": "renewal date, YYYY-MM-DD",
    "notice_days": "notice period in days",
    "auto_renews": "yes or no",
    "owner": "the owner's Slack member id, e.g. U0123ABC",
}
DATED = ("start", "renewal", "notice_days")  # changing one starts the renewal reminders afresh
USER = re.compile(r"^<?@?([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>?$")
YES, NO = ("yes", "y", "true", "1"), ("no", "n", "false", "0")


@dataclass(frozen=True)
class Contract:
    provider: str
    seats: int | None = None
    price_minor: int | None = None  # one seat, per `period`, in the currency's minor units
    period: str | None = None
    currency: str | None = None
    starts_on: date | None = None
    renews_on: date | None = None
    notice_days: int | None = None
    auto_renews: bool | None = None
    owner: str | None = None  # Slack member id

    @property
    def price(self) -> Money | None:
        return Money(self.price_minor, self.currency) if self.price_minor is not None else None

    def monthly_minor(self) -> int | None:
        """One seat's price per month (a yearly price over twelve, rounded half up)."""
        if self.price_minor is None:
            return None
        return self.price_minor if self.period != YEAR else (self.price_minor * 2 + 12) // 24

    def yearly_cost(self, seats: int | None = None) -> Money | None:
        """What `seats` (default: those bought) cost a year."""
        count = self.seats if seats is None else seats
        if self.price_minor is None or count is None:
            return None
        per_year = self.price_minor * (12 if self.period != YEAR else 1)
        return Money(per_year * count, self.currency)

    def notice_deadline(self) -> date | None:
        """The last day to give notice: the renewal date minus the notice period."""
        if self.renews_on is None:
            return None
        return self.renews_on - timedelta(days=self.notice_days or 0)

    def fields(self) -> dict[str, str]:
        """The contract as the text fields `parse` reads (CSV, CLI)."""
        return {
            "provider": self.provider,
            "seats": "" if self.seats is None else str(self.seats),
            "price": "" if self.price is None else _major_text(self.price),
            "period": self.period or "",
            "currency": self.currency or "",
            "start": self.starts_on.isoformat() if self.starts_on else "",
            "renewal": self.renews_on.isoformat() if self.renews_on else "",
            "notice_days": "" if self.notice_days is None else str(self.notice_days),
            "auto_renews": "" if self.auto_renews is None else ("yes" if self.auto_renews else "no"),
            "owner": self.owner or "",
        }


def _major_text(money: Money) -> str:
    return str(major(money))


def dates_changed(old: Contract | None, new: Contract) -> bool:
    if old is None:
        return True
    return (old.starts_on, old.renews_on, old.notice_days) != (new.starts_on, new.renews_on, new.notice_days)


def parse(
    raw: Mapping[str, str | None],
    find_provider: Callable[[str], str | None],
    *,
    base: Contract | None = None,
) -> tuple[Contract | None, dict[str, str]]:
    """(contract, {}) or (None, {field: sentence}). Fields missing from `raw` keep `base`'s value (a
    partial `contracts set`); an empty one clears it. Unknown fields are refused."""
    errors: dict[str, str] = {}
    for name in raw:
        if name not in FIELDS:
            errors[name] = f"`{str(name)[:30]}` is not a contract field (known: {', '.join(FIELDS)})."
    text = {k: (v or "").strip() for k, v in raw.items() if k in FIELDS}
    provider = None
    if "provider" in text or base is None:
        provider = find_provider(text.get("provider", "")) if text.get("provider") else None
        if provider is None:
            errors["provider"] = (
                f"`{text.get('provider', '')[:30]}` is not a provider I know."
                if text.get("provider")
                else "the provider is missing."
            )
    current = base or Contract(provider=provider or "")
    values: dict = {}
    if provider:
        values["provider"] = provider

    def field(name: str, convert: Callable[[str], object], key: str) -> None:
        if name not in text:
            return
        if not text[name]:
            values[key] = None
            return
        try:
            values[key] = convert(text[name])
        except ValueError as error:
            errors[name] = str(error)

    field("seats", _count("seats", MAX_SEATS), "seats")
    field("period", _period, "period")
    field("currency", _currency, "currency")
    field("start", _date, "starts_on")
    field("renewal", _date, "renews_on")
    field("notice_days", _count("notice_days", MAX_NOTICE_DAYS), "notice_days")
    field("auto_renews", _yes_no, "auto_renews")
    field("owner", _owner, "owner")
    currency = values.get("currency", current.currency) if "currency" not in errors else None
    if text.get("price"):
        if currency is None and "currency" not in errors:
            errors["currency"] = "a price needs its currency, e.g. EUR."
        elif currency is not None:
            try:
                values["price_minor"] = to_minor(text["price"], currency)
            except ValueError as error:
                errors["price"] = str(error)
    elif "price" in text:
        values["price_minor"] = None
    elif "currency" in text and current.price_minor is not None and currency != current.currency:
        errors["price"] = "the currency changed: give the price in the new currency too."
    if errors:
        return None, errors
    contract = replace(current, **values)
    if contract.price_minor is not None and contract.period is None:
        contract = replace(contract, period=MONTH)
    if contract.starts_on and contract.renews_on and contract.renews_on <= contract.starts_on:
        return None, {"renewal": "the renewal date must come after the start date."}
    return contract, {}


def _count(name: str, most: int) -> Callable[[str], int]:
    def convert(text: str) -> int:
        if not re.fullmatch(r"\d{1,9}", text) or int(text) > most:
            raise ValueError(f"`{text[:20]}` is not a whole number from 0 to {most:,}.")
        return int(text)

    return convert


def _period(text: str) -> str:
    if text.lower() not in PERIODS:
        raise ValueError(f"`{text[:20]}` is not a period: use month or year.")
    return text.lower()


def _currency(text: str) -> str:
    if sentence := currency_sentence(text):
        raise ValueError(sentence)
    return text.upper()


def _date(text: str) -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"`{text[:20]}` is not a date like 2027-03-31.") from None


def _yes_no(text: str) -> bool:
    if text.lower() in YES:
        return True
    if text.lower() in NO:
        return False
    raise ValueError(f"`{text[:20]}` is neither yes nor no.")


def _owner(text: str) -> str:
    match = USER.match(text)
    if not match:
        raise ValueError(f"`{text[:30]}` is not a Slack member id like U0123ABC.")
    return match.group(1)


def parse_stages(text: str) -> tuple[int, ...]:
    """Reminder stages as days before the notice deadline, e.g. "90,60,30,14,7": largest first; ValueError
    with a sentence for anything else."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or len(parts) > 8 or not all(re.fullmatch(r"\d{1,3}", p) for p in parts):
        raise ValueError(
            f"`{text[:40]}` is not a list of days before the notice deadline like 90,60,30,14,7 "
            "(one to eight whole numbers)."
        )
    days = sorted({int(p) for p in parts}, reverse=True)
    if days[0] > 365 or days[-1] < 1:
        raise ValueError("reminder days go from 1 to 365 days before the notice deadline.")
    return tuple(days)
