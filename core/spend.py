"""What finance reads per provider and period: seats bought, assigned, used and idle, and what they cost
a month by the contract's price (`quolum-bot usage export`). Pure: a stored report and a contract in, a
row out."""

from __future__ import annotations

from collections.abc import Iterable
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


def month_cost(report: UsageReport, contract: Contract | None) -> tuple[Money, Money | None] | None:
    """What the account costs a month by its contract's price — the seats bought (else those assigned)
    — and what its idle seats cost (None where the provider does not tell who used a seat); None
    without a priced contract."""
    monthly = contract.monthly_minor() if contract else None
    if contract is None or monthly is None or contract.currency is None:
        return None
    seats = report.seats
    paid_for = contract.seats if contract.seats is not None else seats.paid_seats
    idle = Money(monthly * seats.idle, contract.currency) if seats.active_paid_users is not None else None
    return Money(monthly * paid_for, contract.currency), idle


def totals(costs: Iterable[tuple[Money, Money | None]]) -> dict[str, tuple[int, int]]:
    """Per currency: (monthly spend, monthly spend on idle seats), in minor units."""
    out: dict[str, tuple[int, int]] = {}
    for spend, idle in costs:
        before = out.get(spend.currency, (0, 0))
        out[spend.currency] = (before[0] + spend.minor, before[1] + (idle.minor if idle else 0))
    return out


def spend_row(report: UsageReport, contract: Contract | None) -> SpendRow:
    seats, period = report.seats, report.period
    counted = seats.active_paid_users is not None
    cost = month_cost(report, contract)
    monthly = contract.monthly_minor() if cost and contract else None
    currency = cost[0].currency if cost else None
    return SpendRow(
        provider=report.provider,
        account=report.account.name or report.account.id,
        period_start=period.start.isoformat(),
        period_end=period.end.isoformat(),
        timezone=period.timezone,
        seats_bought=contract.seats if contract else None,
        paid_seats=seats.paid_seats,
        active_paid_users=seats.active_paid_users,
        idle_paid_seats=seats.idle if counted else None,
        currency=currency,
        seat_price_month=_amount(monthly, currency),
        spend_month=_amount(cost[0].minor, currency) if cost else None,
        idle_spend_month=_amount(cost[1].minor, currency) if cost and cost[1] else None,
    )
