"""`quolum-bot contracts list|set|import|settings`: contracts for people who keep them in a spreadsheet.

Bad input is one sentence per field (a bad import: one line per row and field) on stderr, exit status 2,
and nothing changed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from core.config import ConfigError, Settings
from core.contracts import FIELDS

SET_FLAGS = {name: "--" + name.replace("_", "-") for name in FIELDS if name != "provider"}
COLUMNS = ("provider", "seats", "price", "period", "start", "renewal", "notice by", "auto-renews", "owner")


def add_parser(sub) -> None:
    contracts = sub.add_parser(
        "contracts",
        help="contracts: seats bought, prices, renewal dates",
        description="The contracts of a workspace: what was bought from each provider, for how much, and when "
        "it renews. `/quolum contract <provider>` sets the same in Slack.",
    )
    actions = contracts.add_subparsers(dest="contracts_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="print a workspace's contracts")
    listing.add_argument("--team", required=True, help="the Slack workspace (team id, e.g. T0123ABC)")
    listing.add_argument("--json", action="store_true", help="one JSON object per contract and line")
    setting = actions.add_parser(
        "set",
        help="set a contract's fields (the others keep their value)",
        description="Set the fields given of a workspace's contract with a provider; an empty value clears "
        "one. Nothing is saved when any field is wrong.",
    )
    setting.add_argument("--team", required=True, help="the Slack workspace (team id, e.g. T0123ABC)")
    setting.add_argument("provider", help="the provider, e.g. " + ", ".join(_providers()))
    for name, flag in SET_FLAGS.items():
        setting.add_argument(flag, dest=name, metavar="VALUE", help=FIELDS[name])
    importing = actions.add_parser(
        "import",
        help="set contracts from a CSV file, all or none",
        description=f"Set contracts from a CSV file whose header names its columns: team (else --team), "
        f"{', '.join(FIELDS)}. Each row replaces that workspace's contract with its provider. Every row is "
        "checked first; a file with any bad row imports nothing and each bad row is named with its field.",
    )
    importing.add_argument("file", help="the CSV file (UTF-8), or - for standard input")
    importing.add_argument("--team", help="the workspace of rows without a team column")
    options = actions.add_parser(
        "settings",
        help="a workspace's locale for amounts, its renewal reminder days and their timezone",
        description="Print or set the locale amounts are shown in (e.g. de-DE), how many days before a "
        "contract's notice deadline its renewal reminders go out (e.g. 90,60,30,14,7), and the timezone whose "
        "days they count (by default the workspace's digest subscription's, else UTC), and the hour of that "
        "day from which they go out (default 09:00).",
    )
    options.add_argument("--team", required=True, help="the Slack workspace (team id, e.g. T0123ABC)")
    options.add_argument("--locale", help="e.g. en-US, de-DE, fr-FR")
    options.add_argument("--reminder-days", dest="stages", help="e.g. 90,60,30,14,7")
    options.add_argument(
        "--timezone", help="an IANA name, e.g. Asia/Tokyo; empty: the digest subscription's, else UTC"
    )
    options.add_argument("--hour", help="the local hour reminders go out from, e.g. 9 or 09:00 (default 9)")


def _providers() -> list[str]:
    from providers.registry import INSTALLED

    return list(INSTALLED)


def contracts(args, settings: Settings) -> int:
    return asyncio.run(run(args, settings))


async def run(args, settings: Settings, out=None, err=None) -> int:
    from bot.jobs_cli import _services, unknown_team

    out, err = out or sys.stdout, err or sys.stderr
    text = _read(args.file) if args.contracts_command == "import" else None
    async with _services(settings) as services:
        service = services.contracts
        if args.contracts_command == "import":
            imported = await service.import_csv(
                text, args.team, "cli", known_teams=await _known_teams(services)
            )
            if imported.errors:
                for line in imported.errors:
                    print(line, file=err)
                print("Nothing was imported.", file=err)
                return 2
            print(f"Imported {imported.count} contracts.", file=out)
            return 0
        if problem := await unknown_team(services, args.team):
            raise ConfigError(problem)
        if args.contracts_command == "set":
            raw = {"provider": args.provider} | {
                name: getattr(args, name) for name in SET_FLAGS if getattr(args, name) is not None
            }
            saved, errors = await service.set(args.team, raw, "cli")
            if errors:
                for name, sentence in errors.items():
                    print(f"{SET_FLAGS.get(name, name)}: {sentence}", file=err)
                return 2
            print(f"Saved the {saved.contract.provider} contract of {args.team}.", file=out)
            return 0
        if args.contracts_command == "settings":
            if all(getattr(args, name) is None for name in ("locale", "stages", "timezone", "hour")):
                current = await service.settings(args.team)
            else:
                current, problem = await service.set_settings(
                    args.team,
                    "cli",
                    locale=args.locale,
                    stages=args.stages,
                    timezone=args.timezone,
                    hour=args.hour,
                )
                if problem:
                    raise ConfigError(problem)
            days = ",".join(str(d) for d in current.reminder_days)
            counted = (await services.renewals.settings(args.team)).timezone
            source = "set" if current.timezone else "default: the digest subscription's, else UTC"
            print(
                f"locale {current.locale}; reminders {days} days before each notice deadline, "
                f"from {current.reminder_hour:02d}:00 in {counted} days ({source})",
                file=out,
            )
            return 0
        return await _list(service, args, out)


async def _list(service, args, out) -> int:
    stored = await service.list(args.team)
    rows = []
    for item in stored:
        c = item.contract
        fields = c.fields()
        deadline = c.notice_deadline()
        price = await service.money(args.team, c.price)
        if args.json:
            print(json.dumps({"team": args.team, **fields, "notice_deadline": str(deadline or "")}), file=out)
            continue
        rows.append(
            [
                c.provider,
                fields["seats"],
                price,
                fields["period"],
                fields["start"],
                fields["renewal"],
                deadline.isoformat() if deadline else "",
                fields["auto_renews"],
                fields["owner"],
            ]
        )
    if args.json:
        return 0
    if not rows:
        print(
            f"{args.team} has no contract yet: `quolum-bot contracts set --team {args.team} PROVIDER ...`.",
            file=out,
        )
        return 0
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    for row in [list(COLUMNS), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), file=out)
    return 0


def _read(name: str) -> str:
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as error:
        raise ConfigError(f"cannot read {name!r}: {error.strerror or error}.") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{name!r} is not UTF-8 text: save the spreadsheet as CSV UTF-8.") from None


async def _known_teams(services) -> set[str] | None:
    """The workspaces where the app is installed; None with a single-workspace token (its own workspace
    is the only one, and Slack would have to be asked which)."""
    if services.settings.bot_token and not services.settings.multi_workspace:
        return None
    return set(await services.storage.installations.team_ids())
