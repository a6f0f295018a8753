"""`quolum-bot usage export --team T --from DATE --to DATE [--format csv|json]`: finance's figures per
provider and period (seats bought, assigned, used, idle; the monthly spend and the spend on idle seats
by the contract's price), from the stored snapshots, as CSV (a header row) or JSON lines."""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from datetime import date

from core.config import ConfigError, Settings
from core.spend import COLUMNS


def add_parser(usage_sub) -> None:
    export = usage_sub.add_parser(
        "export",
        help="the stored figures per provider and period, priced, as CSV or JSON lines",
        description="Print every stored usage snapshot of a workspace whose period lies between two dates "
        "(inclusive), with seats bought (the contract), paid, active and idle seats and what they cost a "
        "month by the contract's price. Nothing is collected: run `usage collect` or let the digests do it.",
    )
    export.add_argument("--team", required=True, help="the Slack workspace (team id, e.g. T0123ABC)")
    export.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
    export.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD")
    export.add_argument(
        "--format", choices=("csv", "json"), default="csv", help="csv (default) or json lines"
    )


def _day(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option}: {text!r} is not a date like 2026-12-01.") from None


def export(args, settings: Settings) -> int:
    first, last = _day("--from", args.first), _day("--to", args.last)
    if last < first:
        raise ConfigError(f"--to ({last}) is before --from ({first}).")
    return asyncio.run(_export(args.team, first, last, args.format, settings))


async def _export(team: str, first: date, last: date, fmt: str, settings: Settings) -> int:
    from bot.cli_errors import require_current_schema
    from bot.web import build_storage
    from services.usage_export import export as rows_between

    await require_current_schema(settings)
    storage = build_storage(settings)
    try:
        rows = await rows_between(storage.snapshots, storage.contracts, team, first, last)
    finally:
        await storage.db.dispose()
    if fmt == "json":
        for row in rows:
            print(json.dumps(row.as_dict()))
    else:
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.as_dict().items()} for row in rows)
    if not rows:
        print(f"quolum-bot: no usage stored for {team} between {first} and {last}.", file=sys.stderr)
    return 0
