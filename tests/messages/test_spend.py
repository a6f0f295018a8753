"""The digest's spend line (issue 26, item 4): every connection with a priced contract added up, per
currency, with the part that pays for idle seats; written in the workspace's locale."""

from __future__ import annotations

import json

import pytest

from core.contracts import Contract
from core.money import Money
from core.spend import month_cost, totals
from messages import digest as db
from messages.spend import spend_line
from tests.messages.test_digest import data, report

HUB = Contract("hubspot", seats=50, price_minor=9000, period="month", currency="EUR")
ZOOM = Contract("zoom", seats=None, price_minor=180000, period="year", currency="EUR")  # €150.00 a month
GH = Contract("github", seats=20, price_minor=1900, period="month", currency="USD")


@pytest.mark.parametrize(
    ("contract", "paid", "active", "expected"),
    [
        (HUB, 40, 30, (Money(450000, "EUR"), Money(90000, "EUR"))),  # 50 bought x 90; 10 idle x 90
        (ZOOM, 12, 12, (Money(180000, "EUR"), Money(0, "EUR"))),  # no seats bought: the 12 assigned
        (GH, 8, None, (Money(38000, "USD"), None)),  # nobody's activity known: no idle figure
        (Contract("hubspot", seats=50), 40, 30, None),  # no price
        (None, 40, 30, None),
    ],
)
def test_a_connection_costs_its_seats_at_the_contracts_monthly_price(contract, paid, active, expected):
    r = report(paid=paid, active_paid=active, idle_emails=[] if active is None else None)
    assert month_cost(r, contract) == expected


def test_the_line_adds_up_per_currency_and_says_the_idle_part():
    costs = [
        month_cost(report(paid=40, active_paid=30), HUB),
        month_cost(report(paid=12, active_paid=10), ZOOM),  # 2 idle x 150
        month_cost(report(paid=8, active_paid=8), GH),
    ]
    assert totals(costs) == {"EUR": (450000 + 180000, 90000 + 30000), "USD": (38000, 0)}
    assert spend_line(totals(costs), 3) == (
        "Spend on 3 contracts: *€6,300 + $380/month*, €1,200/month of it on idle seats"
    )
    assert spend_line(totals(costs[:1]), 1, "de-DE") == (
        "Spend on 1 contract: *€4.500/month*, €900/month of it on idle seats"
    )
    assert spend_line({}, 0) is None


def test_the_digest_puts_the_spend_at_the_top_and_in_the_notification():
    line = spend_line(totals([month_cost(report(paid=40, active_paid=30), HUB)]), 1)
    c = db.ConnectionDigest("hubspot", "HubSpot", "acme", report=report(paid=40, active_paid=30))
    message = db.digest_message(
        data(c, spend=line, savings="Saved €1,080 a year since 1 Dec: 1 seat reclaimed")
    )
    top = json.dumps(message["blocks"][:4], ensure_ascii=False)
    assert ":moneybag: Spend on 1 contract: *€4,500/month*" in top
    assert (
        "Spend on 1 contract: €4,500/month, €900/month of it on idle seats. Saved €1,080" in message["text"]
    )
