"""`quolum-bot usage collect`: a readable table (or JSON lines) of fresh usage reports."""

from __future__ import annotations

import asyncio
import sys

from bot.container import build_services
from core.clock import utcnow
from core.config import ConfigError, Settings
from core.reports import COUNT, UsageReport
from providers.http_client import provider_client
from services.usage import check_period, is_ours

COLUMNS = ("team", "provider", "account", "period", "users", "paid", "active", "inactive paid", "activity")


def collect(args, settings: Settings) -> int:
    try:
        check_period(args.period)
    except ValueError as error:
        raise ConfigError(f"--period: {error}") from None
    if args.concurrency < 1:
        raise ConfigError("--concurrency must be at least 1.")
    return asyncio.run(_collect(args, settings))


async def _collect(args, settings: Settings) -> int:
    from bot.cli_errors import require_current_schema
    from bot.web import build_storage

    await require_current_schema(settings)  # before any key is generated
    storage = build_storage(settings)
    rows: list[list[str]] = []
    failures: list[str] = []
    progress = Progress(enabled=not args.json and sys.stderr.isatty())
    try:
        async with provider_client() as http:
            service = build_services(settings, storage, utcnow, http).usage

            def on_report(report: UsageReport) -> None:
                if args.json:
                    print(report.encode().decode(), flush=True)
                else:
                    rows.append(table_row(report))

            def on_error(key: str, error: BaseException) -> None:
                ours = "Quolum's own error, not the provider's: " if is_ours(error) else ""
                failures.append(f"{key}: {ours}{error}")

            summary = await service.collect(
                team_id=args.team,
                provider=args.provider,
                period=args.period,
                concurrency=args.concurrency,
                on_report=on_report,
                on_error=on_error,
                on_progress=progress.update,
            )
    finally:
        progress.close()
        await storage.db.dispose()
    if not args.json:
        print(render_table(rows) if rows else "No connected accounts matched.")
    for line in failures:
        print(f"quolum-bot: could not collect {line}", file=sys.stderr)
    return 1 if summary.failed else 0


def table_row(report: UsageReport) -> list[str]:
    """One report as table cells; the activity column is its three largest counts, by label."""
    seats, period = report.seats, report.period
    counts = [f for f in report.activity if f.kind == COUNT and isinstance(f.value, int) and f.value]
    top = sorted(counts, key=lambda f: -(f.value or 0))
    activity = ", ".join(f"{f.label} {f.value_text()}" for f in top[:3]) or "-"

    def show(value) -> str:
        return "-" if value is None else str(value)

    return [
        report.team_id,
        report.provider,
        report.account.name or report.account.id,
        f"{period.start.isoformat()}..{period.end.isoformat()}",
        show(seats.total_users),
        show(seats.paid_seats),
        show(seats.active_users),
        show(len(seats.inactive_paid_users)),
        activity,
    ]


def render_table(rows: list[list[str]]) -> str:
    widths = [max(len(COLUMNS[i]), *(len(r[i]) for r in rows)) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in sorted(rows)]
    return "\n".join(lines)


class Progress:
    """A one-line progress bar on a terminal, for runs over several connections."""

    WIDTH = 30

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.shown = False

    def update(self, done: int, total: int | None) -> None:
        if not self.enabled or not total or total < 2:
            return
        filled = int(self.WIDTH * done / total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total} connections")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
