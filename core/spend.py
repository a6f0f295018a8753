"""What finance reads per provider and period: seats bought, assigned, used and idle, and what they cost
a month by the contract's price (`quolum-bot usage export`). Pure: a stored report and a contract in, a
row out."""

from __future__ import annotations

from dataclasses import dataclass

from core.contracts import Contract
from core.money import Money, major
from core.reports import UsageReport

COLUMNS = (
    "provider",
    "account",
    "period_start",
    "period_end",
    "timezone",
    "seats_bought",
    "paid_seats",
    "active_paid_users",
    "idle_paid_seats",
    "currency",
    "seat_price_month",
    "spend_month",
    "idle_spend_month",
)


@dataclass(frozen=True)
class SpendRow:
    provider: str
    account: str
    period_start: str
    period_end: str
    timezone: str
    seats_bought: int | None  # the contract's, when one is recorded
    paid_seats: int  # assigned, as the provider counts them
    active_paid_users: int | None  # None where the provider does not tell who used a seat
    idle_paid_seats: int | None
    currency: str | None
    seat_price_month: str | None  # decimal text in the currency's major unit ("90.00", "1235" for JPY)
    spend_month: str | None  # the seats paid for (bought, else assigned) at that price
    idle_spend_month: str | None

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in COLUMNS}


def _amount(minor: int | None, currency: str | None) -> str | None:
    return None if minor is None or currency is None else str(major(Money(minor, currency)))


def spend_row(report: UsageReport, contract: Contract | None) -> SpendRow:
    seats, period = report.seats, report.period
    counted = seats.active_paid_users is not None
    idle = seats.idle if counted else None
    monthly = contract.monthly_minor() if contract else None
    currency = contract.currency if contract and monthly is not None else None
    paid_for = (contract.seats if contract and contract.seats is not None else seats.paid_seats) or 0
    return SpendRow(
        provider=report.provider,
        account=report.account.name or report.account.id,
        period_start=period.start.isoformat(),
        period_end=period.end.isoformat(),
        timezone=period.timezone,
        seats_bought=contract.seats if contract else None,
        paid_seats=seats.paid_seats,
        active_paid_users=seats.active_paid_users,
        idle_paid_seats=idle,
        currency=currency,
        seat_price_month=_amount(monthly, currency),
        spend_month=_amount(None if monthly is None else monthly * paid_for, currency),
        idle_spend_month=_amount(None if monthly is None or idle is None else monthly * idle, currency),
    )
