"""`quolum-bot usage export` (issue 26, item 4): the stored figures per provider and period, priced by the
contract, as CSV or JSON lines; the spend computed here independently from the seeded numbers."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import date

import pytest

from core.contracts import Contract
from core.spend import COLUMNS, spend_row
from services.usage_export import export
from tests.conftest import TEST_KEY
from tests.messages.test_digest import report

HUBSPOT = Contract("hubspot", seats=50, price_minor=108000, period="year", currency="EUR")  # €90.00 a month
ZOOM_JPY = Contract("zoom", seats=10, price_minor=2000, period="month", currency="JPY")


@pytest.mark.parametrize(
    ("contract", "paid", "active", "expected"),
    [
        # 50 bought at €90.00 a month: €4,500.00; 10 idle: €900.00
        (HUBSPOT, 40, 30, ("EUR", "90.00", "4500.00", "900.00")),
        # JPY has no minor digits: ¥2,000 a seat
        (ZOOM_JPY, 8, 8, ("JPY", "2000", "20000", "0")),
        # no contract: the seats, no money
        (None, 40, 30, (None, None, None, None)),
        # a contract without a price: seats bought, no money
        (Contract("hubspot", seats=60), 40, 30, (None, None, None, None)),
        # the provider does not tell who used a seat: no idle figure, no idle spend
        (HUBSPOT, 12, None, ("EUR", "90.00", "4500.00", None)),
    ],
)
def test_a_row_prices_the_seats_by_the_contract(contract, paid, active, expected):
    r = report("hubspot", paid=paid, active_paid=active, idle_emails=[] if active is None else None)
    row = spend_row(r, contract)
    assert (row.currency, row.seat_price_month, row.spend_month, row.idle_spend_month) == expected
    assert row.seats_bought == (contract.seats if contract else None)
    assert row.paid_seats == paid and row.active_paid_users == active
    assert row.idle_paid_seats == (None if active is None else paid - active)
    assert list(row.as_dict()) == list(COLUMNS)


async def seeded(storage) -> None:
    for end, paid, active in (("2026-11-08", 44, 30), ("2026-11-15", 42, 31), ("2026-11-22", 40, 30)):
        await storage.snapshots.save(report("hubspot", paid=paid, active_paid=active, team="T0001", end=end))
    await storage.snapshots.save(
        report("sendgrid", paid=7, active_paid=None, idle_emails=[], team="T0001", end="2026-11-22")
    )
    await storage.snapshots.save(report("hubspot", paid=9, active_paid=1, team="T0002", end="2026-11-22"))
    await storage.contracts.save("T0001", HUBSPOT, "U0001")


async def test_the_export_reads_the_workspaces_snapshots_within_the_dates(storage):
    await seeded(storage)
    rows = await export(storage.snapshots, storage.contracts, "T0001", date(2026, 11, 9), date(2026, 11, 30))
    assert [(r.provider, r.period_start, r.period_end) for r in rows] == [
        ("hubspot", "2026-11-09", "2026-11-15"),
        ("hubspot", "2026-11-16", "2026-11-22"),
        ("sendgrid", "2026-11-16", "2026-11-22"),
    ]
    hub = rows[1]
    assert (hub.seats_bought, hub.paid_seats, hub.idle_paid_seats) == (50, 40, 10)
    assert (hub.spend_month, hub.idle_spend_month) == ("4500.00", "900.00")  # 50 x 90, 10 x 90
    assert rows[2].currency is None and rows[2].spend_month is None  # no SendGrid contract
    # a period reaching past either date is not in it
    none = await export(storage.snapshots, storage.contracts, "T0001", date(2026, 11, 10), date(2026, 11, 21))
    assert none == []


async def test_the_cli_prints_csv_and_json_and_one_line_for_a_bad_date(storage, database_url):
    from tests.test_cli import run as cli

    await seeded(storage)
    env = {
        "QUOLUM_DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "QUOLUM_ENCRYPTION_KEYS": TEST_KEY,
    }
    span = ("--team", "T0001", "--from", "2026-11-01", "--to", "2026-11-30")
    result = await asyncio.to_thread(cli, "usage", "export", *span, env=env)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == list(COLUMNS) and len(rows) == 4
    assert [r["spend_month"] for r in rows] == ["4500.00", "4500.00", "4500.00", ""]
    assert [r["idle_paid_seats"] for r in rows] == ["14", "11", "10", ""]

    lines = await asyncio.to_thread(cli, "usage", "export", *span, "--format", "json", env=env)
    parsed = [json.loads(line) for line in lines.stdout.splitlines()]
    assert [p["paid_seats"] for p in parsed] == [44, 42, 40, 7] and parsed[3]["active_paid_users"] is None

    for first, last, named in (("last week", "2026-11-30", "--from"), ("2026-11-01", "2026-10-01", "--to")):
        wrong = await asyncio.to_thread(
            cli, "usage", "export", "--team", "T0001", "--from", first, "--to", last, env=env
        )
        assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1 and named in wrong.stderr
        assert "Traceback" not in wrong.stderr and wrong.stdout == ""
