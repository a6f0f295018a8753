"""`quolum-bot audit --team T [--since DATE] [--json]`: everything done about a workspace's idle seats —
every ask, reminder, answer, reclaim, undo, refusal and exemption, with who, what, when and the
provider's answer — oldest first, as a table or JSON lines."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from core.config import ConfigError, Settings

COLUMNS = ("at", "who", "action", "provider", "subject", "detail")


def parse_since(text: str | None) -> datetime | None:
    """`2026-12-01` or an ISO-8601 time (UTC when it names no zone); ConfigError with a sentence otherwise."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--since: {text!r} is not a date like 2026-12-01 or a time like 2026-12-01T09:00Z."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def audit(args, settings: Settings) -> int:
    since = parse_since(args.since)
    return asyncio.run(_audit(args.team, since, args.json, settings))


async def _audit(team: str, since: datetime | None, as_json: bool, settings: Settings) -> int:
    from bot.cli_errors import require_current_schema
    from bot.web import build_storage

    await require_current_schema(settings)
    storage = build_storage(settings)
    try:
        entries = list(reversed(await storage.seats.audit(team, since)))
    finally:
        await storage.db.dispose()
    rows = [
        [
            e.at.isoformat().replace("+00:00", "Z"),
            e.actor,
            e.action,
            e.provider or "",
            e.subject or "",
            e.detail or "",
        ]
        for e in entries
    ]
    if as_json:
        for row in rows:
            print(json.dumps(dict(zip(COLUMNS, row, strict=True))))
        return 0
    if not rows:
        print(
            f"Nothing was done about idle seats in {team}" + (f" since {since:%Y-%m-%d}." if since else ".")
        )
        return 0
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    for row in [list(COLUMNS), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0
