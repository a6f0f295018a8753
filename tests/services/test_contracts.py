"""Contracts stored and set: partial changes, dates that restart reminders, all-or-nothing imports, the
`/quolum price` shortcut, the migration from seat prices and `quolum-bot contracts`."""

from __future__ import annotations

import io
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select, text

from bot.cli import _parser
from bot.contracts_cli import run as cli
from core.config import ConfigError
from providers.registry import INSTALLED
from services.contracts import ContractsService
from storage.db import Database
from storage.models import ContractRow
from tests.conftest import install
from tests.storage.test_snapshot_migration import _migrate

HEADER = "team,provider,seats,price,period,currency,start,renewal,notice_days,auto_renews,owner\n"


@pytest.fixture
def contracts(storage, clock):
    return ContractsService(storage=storage, registry=INSTALLED, clock=clock)


async def test_set_keeps_what_it_is_not_told_and_counts_date_changes(contracts):
    saved, errors = await contracts.set(
        "T0001",
        {"provider": "hubspot", "seats": "100", "price": "45", "currency": "EUR", "renewal": "2027-06-30"},
        "U0001",
    )
    assert errors == {} and saved.dates_rev == 0 and saved.contract.seats == 100
    saved, _ = await contracts.set("T0001", {"provider": "HubSpot", "owner": "U0002"}, "U0002")
    assert (saved.contract.seats, saved.contract.owner, saved.dates_rev) == (100, "U0002", 0)
    saved, _ = await contracts.set("T0001", {"provider": "hubspot", "notice_days": "30"}, "U0002")
    assert saved.dates_rev == 1 and saved.contract.notice_deadline() == date(2027, 5, 31)
    saved, _ = await contracts.set("T0001", {"provider": "hubspot", "notice_days": "30"}, "U0002")
    assert saved.dates_rev == 1  # the same dates again change nothing


async def test_a_bad_field_changes_nothing(contracts):
    await contracts.set("T0001", {"provider": "hubspot", "seats": "10"}, "U0001")
    saved, errors = await contracts.set(
        "T0001", {"provider": "hubspot", "seats": "20", "period": "weekly"}, "U0001"
    )
    assert saved is None and errors == {"period": "`weekly` is not a period: use month or year."}
    assert (await contracts.get("T0001", "hubspot")).contract.seats == 10


async def test_price_is_a_shortcut_for_the_contracts_price(contracts, storage):
    await contracts.set("T0001", {"provider": "hubspot", "seats": "100", "renewal": "2027-01-01"}, "U0001")
    await storage.digests.set_price("T0001", "hubspot", 9000, "EUR", "U0001")
    contract = (await contracts.get("T0001", "hubspot")).contract
    assert (contract.seats, contract.price_minor, contract.currency, contract.period) == (
        100,
        9000,
        "EUR",
        "month",
    )
    await contracts.set(
        "T0001", {"provider": "zoom", "price": "120", "period": "year", "currency": "USD"}, "U1"
    )
    prices = await storage.digests.prices("T0001")
    assert {p: (v.amount_minor, v.currency) for p, v in prices.items()} == {
        "hubspot": (9000, "EUR"),
        "zoom": (1000, "USD"),  # a yearly price counts a twelfth a month
    }


async def test_an_import_is_all_or_nothing_and_names_each_bad_row(contracts):
    good = HEADER + "T0001,hubspot,100,45,month,EUR,2026-01-01,2027-01-01,30,yes,U0001\n"
    bad = (
        good
        + "T0001,zoom,ten,10,month,USD,,,,,\n"
        + "T0002,zoom,5,10,month,QQQ,,,,maybe,\n"
        + "T0001,hubspot,1,,,,,,,,\n"
        + ",zoom,1,,,,,,,,\n"
    )
    result = await contracts.import_csv(bad, None, "cli")
    assert result.count == 0
    assert result.errors == [
        "row 3: seats: `ten` is not a whole number from 0 to 1,000,000.",
        "row 4: currency: `QQQ` is not an ISO 4217 currency I know: use one such as EUR, USD or JPY.",
        "row 4: auto_renews: `maybe` is neither yes nor no.",
        "row 5: provider: hubspot of T0001 is on row 2 already.",
        "row 6: team: missing (give a team column or --team).",
    ]
    assert await contracts.list("T0001") == []
    result = await contracts.import_csv(good, None, "cli")
    assert result == type(result)(1, [])
    assert (await contracts.get("T0001", "hubspot")).contract.owner == "U0001"


async def test_an_import_names_a_bad_header_and_unknown_workspaces(contracts):
    result = await contracts.import_csv("provider,colour\nhubspot,red\n", "T0001", "cli")
    assert result.errors == [
        "row 1 (the header): unknown columns 'colour'; the columns are team, provider, seats, price, period, "
        "currency, start, renewal, notice_days, auto_renews, owner."
    ]
    result = await contracts.import_csv("provider,seats\nhubspot,3\n", "T0404", "cli", known_teams={"T0001"})
    assert result.errors == ["row 2: team: `T0404` is no workspace where the app is installed."]


async def test_the_migration_makes_each_seat_price_a_contract(database_url):
    database = Database(database_url)

    try:
        await _migrate(database, "0012", down=True)
        at = datetime(2026, 11, 1, tzinfo=UTC)
        async with database.session() as session, session.begin():
            await session.execute(
                text(
                    "INSERT INTO seat_prices (team_id, provider, amount_minor, currency, set_by, set_at) "
                    "VALUES ('T1', 'hubspot', 9000, 'EUR', 'U1', :at)"
                ),
                {"at": at},
            )
        await _migrate(database, "head")
        async with database.session() as session:
            row = (await session.scalars(select(ContractRow))).one()
        assert (row.team_id, row.provider, row.price_minor, row.currency, row.period, row.seats) == (
            "T1",
            "hubspot",
            9000,
            "EUR",
            "month",
            None,
        )
        async with database.session() as session, session.begin():
            await session.execute(
                insert(ContractRow),
                [
                    dict(
                        team_id="T1",
                        provider="zoom",
                        price_minor=12000,
                        period="year",
                        currency="USD",
                        dates_rev=0,
                        updated_by="U1",
                        updated_at=at,
                    )
                ],
            )
        await _migrate(database, "0012", down=True)
        async with database.session() as session:
            back = (
                await session.execute(
                    text("SELECT provider, amount_minor FROM seat_prices ORDER BY provider")
                )
            ).all()
        assert [tuple(r) for r in back] == [("hubspot", 9000), ("zoom", 1000)]
        await _migrate(database, "head")
    finally:
        await database.dispose()


async def test_the_cli_sets_lists_and_imports(storage, slack, settings, tmp_path):
    await install(storage, slack)
    settings = (
        settings.with_overrides(database_url=storage.db.url)
        if hasattr(settings, "with_overrides")
        else settings
    )

    async def call(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = await cli(_parser().parse_args(["contracts", *argv]), settings, out, err)
        return code, out.getvalue(), err.getvalue()

    code, out, err = await call(
        "set",
        "--team",
        "T0001",
        "hubspot",
        "--seats",
        "100",
        "--price",
        "1234.56",
        "--currency",
        "EUR",
        "--renewal",
        "2027-03-31",
        "--notice-days",
        "30",
    )
    assert (code, err) == (0, "") and out == "Saved the hubspot contract of T0001.\n"
    code, out, err = await call("set", "--team", "T0001", "hubspot", "--seats", "lots", "--period", "week")
    assert (
        code == 2
        and out == ""
        and err.splitlines()
        == [
            "--seats: `lots` is not a whole number from 0 to 1,000,000.",
            "--period: `week` is not a period: use month or year.",
        ]
    )
    code, out, _ = await call("settings", "--team", "T0001", "--locale", "de-DE")
    assert out == (
        "locale de-DE; reminders 90,60,30,14,7 days before each notice deadline, "
        "from 09:00 in UTC days (default: the digest subscription's, else UTC)\n"
    )
    code, out, _ = await call("settings", "--team", "T0001", "--hour", "07:00")
    assert code == 0 and "deadline, from 07:00 in UTC days" in out
    assert (await storage.contracts.settings("T0001")).reminder_hour == 7
    for wrong in ("7:30", "24", "nine", "-1", "٩"):  # one sentence, nothing changed
        with pytest.raises(ConfigError, match=r"^The reminder hour is a whole hour from 0 to 23"):
            await call("settings", "--team", "T0001", "--hour", wrong)
    assert (await storage.contracts.settings("T0001")).reminder_hour == 7
    code, out, _ = await call("settings", "--team", "T0001")
    assert "from 07:00" in out and (await storage.contracts.settings("T0001")).locale == "de-DE"
    code, out, _ = await call("settings", "--team", "T0001", "--timezone", "Asia/Tokyo")
    assert out.endswith("in Asia/Tokyo days (set)\n")
    with pytest.raises(ConfigError, match=r"^'Mars/Olympus' is not a time zone I know \(use a name like"):
        await call("settings", "--team", "T0001", "--timezone", "Mars/Olympus")
    code, out, _ = await call("settings", "--team", "T0001", "--timezone", "")
    assert out.endswith("in UTC days (default: the digest subscription's, else UTC)\n")
    code, out, _ = await call("list", "--team", "T0001")
    assert out.splitlines()[1].split() == ["hubspot", "100", "€1.234,56", "month", "2027-03-31", "2027-03-01"]
    csv = tmp_path / "contracts.csv"
    csv.write_text(HEADER + "T0001,zoom,10,20,month,USD,,,,,\nT0999,zoom,10,20,month,USD,,,,,\n")
    code, out, err = await call("import", str(csv))
    assert code == 2 and err.splitlines() == [
        "row 3: team: `T0999` is no workspace where the app is installed.",
        "Nothing was imported.",
    ]
    csv.write_text(HEADER + "T0001,zoom,10,20,month,USD,,,,,\n")
    code, out, err = await call("import", str(csv))
    assert (code, out) == (0, "Imported 1 contracts.\n")
    assert [c.contract.provider for c in await storage.contracts.for_team("T0001")] == ["hubspot", "zoom"]


def _rows(count: int) -> list[str]:
    """`count` good rows, every field set: 2,000 workspaces × the installed providers."""
    providers = list(INSTALLED)
    return [
        f"T{i // len(providers):07d},{providers[i % len(providers)]},{10 + i % 500},{(i % 90) + 9.5},"
        f"{'month' if i % 2 else 'year'},EUR,2026-0{1 + i % 9}-01,2027-0{1 + i % 9}-01,{30 + i % 60},"
        f"{'yes' if i % 3 else 'no'},U{i:08d}\n"
        for i in range(count)
    ]


async def _stored(storage) -> int:
    async with storage.db.session() as session:
        return len((await session.execute(select(ContractRow.team_id))).all())


async def test_ten_thousand_rows_in_under_five_seconds_and_one_bad_row_imports_none(contracts, storage):
    """Issue 26: 10,000 rows in under 5 s; a bad row is named and nothing of the file is imported."""
    rows = _rows(10_000)
    broken = [*rows[:7_000], rows[7_000].replace(",EUR,", ",QQQ,"), *rows[7_001:]]
    refused = await contracts.import_csv(HEADER + "".join(broken), None, "cli")
    assert refused.count == 0 and refused.errors == [
        "row 7002: currency: `QQQ` is not an ISO 4217 currency I know: use one such as EUR, USD or JPY."
    ]
    assert await _stored(storage) == 0
    started = time.perf_counter()
    imported = await contracts.import_csv(HEADER + "".join(rows), None, "cli")
    elapsed = time.perf_counter() - started
    assert imported.errors == [] and imported.count == 10_000
    assert elapsed < 5, f"10,000 rows took {elapsed:.2f} s"
    assert await _stored(storage) == 10_000
    last = rows[-1].rstrip("\n").split(",")
    got = (await contracts.get(last[0], last[1])).contract
    assert (got.seats, got.owner, got.currency) == (int(last[2]), last[10], "EUR")
