"""`quolum-bot jobs list|run` and `quolum-bot digest preview`: the scheduler's jobs by hand."""

from __future__ import annotations

import asyncio
import json
import sys
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from core.clock import utcnow
from core.config import ConfigError, Settings
from providers.http_client import provider_client


def parse_at(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"--at must be an ISO-8601 time such as 2026-11-23T09:00:00+01:00, not {text!r}."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@asynccontextmanager
async def _services(settings: Settings, clock=utcnow):
    from bot.container import build_services
    from bot.web import build_storage

    storage = build_storage(settings, clock=clock)
    try:
        if not await storage.db.is_up_to_date():
            raise ConfigError("the database schema is not up to date: run `quolum-bot db upgrade` first.")
        async with provider_client() as http:
            yield build_services(settings, storage, clock, http)
    finally:
        await storage.db.dispose()


def jobs(args, settings: Settings) -> int:
    return asyncio.run(_jobs(args, settings))


async def _jobs(args, settings: Settings) -> int:
    from bot.web import build_scheduler

    at = parse_at(getattr(args, "at", None))
    # The job decides as of --at; leases and records keep the real clock, so a run for a past time
    # still holds its claims for as long as a scheduled one would.
    async with _services(settings) as services:
        scheduler = build_scheduler(services)
        if args.jobs_command == "list":
            runs = await services.storage.claims.last_runs()
            print(f"{'job':20} {'every':10} {'last run':26} outcome")
            for job in scheduler.jobs.values():
                run = runs.get(job.name)
                last = run.claimed_at.strftime("%Y-%m-%d %H:%M:%S UTC") if run else "never"
                outcome = (run.outcome or "running") if run else "-"
                print(f"{job.name:20} {_every(job.every):10} {last:26} {outcome}")
            return 0
        if args.name not in scheduler.jobs:
            raise ConfigError(f"there is no job called {args.name!r}; `quolum-bot jobs list` shows them.")
        outcome = await scheduler.run_slot(args.name, now=at or utcnow())
        if outcome is None:
            print(f"{args.name}: this slot already ran (or is running) elsewhere; nothing done.")
            return 0
        print(f"{args.name}: {outcome}")
        return 0 if outcome == "ok" else 1


def _every(delta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def digest(args, settings: Settings) -> int:
    return asyncio.run(_digest(args, settings))


async def _digest(args, settings: Settings) -> int:
    from bot.cli_checks import check_timezone

    check_timezone("--tz", args.tz)
    async with _services(settings) as services:
        if problem := await unknown_team(services, args.team):
            raise ConfigError(problem)
        message = await services.digests.preview(args.team, args.tz)
    if args.json:
        print(json.dumps(message, ensure_ascii=False))
    else:
        print(render_text(message))
    return 0


async def unknown_team(services, team_id: str) -> str | None:
    """Why `team_id` is not a workspace this bot knows (installed, connected or subscribed), else None."""
    storage, settings = services.storage, services.settings
    if await storage.connections.for_team(team_id) or await storage.digests.for_team(team_id):
        return None
    installed = await storage.installations.team_ids()
    if settings.bot_token and not settings.multi_workspace:  # one workspace: the token's own
        client = await services.slack_clients(team_id)
        try:
            installed.append((await client.auth_test())["team_id"])
        except Exception:  # Slack cannot tell us now: let the preview show what it finds
            return None
    return None if team_id in installed else unknown_team_sentence(team_id[:40], installed)


def unknown_team_sentence(team_id: str, installed: list[str]) -> str:
    known = f"known: {', '.join(sorted(installed)[:10])}" if installed else "none is installed yet"
    return (
        f"--team {team_id!r} is no workspace this bot knows (no installation, connection or digest; {known}): "
        "give the team id (T...) of a workspace where the app is installed."
    )


def render_text(message: dict) -> str:
    """A readable rendering of the blocks for a terminal."""
    lines = []
    for block in message.get("blocks", []):
        kind = block["type"]
        if kind == "header":
            lines += [block["text"]["text"], "=" * len(block["text"]["text"])]
        elif kind == "section":
            if block.get("text"):
                lines.append(block["text"]["text"])
            for field in block.get("fields", []):
                lines.append("  " + field["text"].replace("\n", ": ", 1))
        elif kind == "context":
            lines += [e.get("text", "") for e in block["elements"]]
        elif kind == "divider":
            lines.append("-" * 40)
        elif kind == "actions":
            lines.append(
                "[" + "] [".join(e.get("text", {}).get("text", e["type"]) for e in block["elements"]) + "]"
            )
    return "\n".join(lines) if lines else message.get("text", "")


if __name__ == "__main__":
    sys.exit(0)
