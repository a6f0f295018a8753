"""The `quolum-bot` command: serve, db, keys, manifest, usage, jobs, digest, audit, contracts."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from bot.cli_checks import package_version
from bot.contracts_cli import add_parser as add_contracts_parser
from bot.usage_export_cli import add_parser as add_export_parser
from core.config import VARIABLES, ConfigError, Settings
from providers.registry import INSTALLED

log = logging.getLogger("quolum.cli")
PROVIDER_NAMES = " and ".join(spec.display_name for spec in INSTALLED.values())


def _parser() -> argparse.ArgumentParser:
    variables = [*((name, desc) for name, (_, desc) in VARIABLES.items()), *INSTALLED.variable_help()]
    env_help = "\n".join(f"  {name:24} {desc}" for name, desc in variables)
    parser = argparse.ArgumentParser(
        prog="quolum-bot",
        description="Quolum Bot: a Slack bot that tells you who uses the SaaS seats you pay for.",
        epilog=f"Configuration comes from environment variables:\n{env_help}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"quolum-bot {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = sub.add_parser(
        "serve",
        help="run the bot: Slack endpoints, OAuth callbacks and background jobs",
        description="Serve Slack (HTTP, or Socket Mode with SLACK_APP_TOKEN), the OAuth "
        "callbacks, /healthz and /readyz, and run the background jobs. SQLite databases "
        "are migrated on start; PostgreSQL must be migrated with `quolum-bot db upgrade`.",
    )
    serve.add_argument("--host", help="interface to listen on (default: $HOST or 0.0.0.0)")
    serve.add_argument("--port", type=int, help="port to listen on (default: $PORT or 3000)")

    db = sub.add_parser("db", help="database schema", description="Manage the database schema (Alembic).")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser(
        "upgrade",
        help="migrate the database to the latest schema",
        description="Apply every pending migration to QUOLUM_DATABASE_URL.",
    )
    db_sub.add_parser(
        "current",
        help="print the schema revision of the database and the latest one",
        description="Print the database's schema revision and the latest one this version has.",
    )

    keys = sub.add_parser(
        "keys",
        help="encryption keys",
        description="Manage the Fernet keys that encrypt stored tokens and API keys.",
    )
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    keys_sub.add_parser(
        "generate",
        help="print a new encryption key",
        description="Print a new Fernet key. Put it first in QUOLUM_ENCRYPTION_KEYS to start "
        "encrypting with it, keep the old keys after it, then run `quolum-bot keys rotate`.",
    )
    keys_sub.add_parser(
        "rotate",
        help="re-encrypt every stored secret under the first key",
        description="Re-encrypt every stored secret with the first key of "
        "QUOLUM_ENCRYPTION_KEYS; afterwards the older keys can be removed.",
    )

    usage = sub.add_parser("usage", help="usage reports", description="Collect and print usage reports.")
    usage_sub = usage.add_subparsers(dest="usage_command", metavar="ACTION", required=True)
    collect = usage_sub.add_parser(
        "collect",
        help="collect usage from the connected accounts now",
        description="Collect seats and activity from every connected account (or those selected), store "
        "each report as a snapshot (replacing one for the same period) and print them. Dates are "
        "inclusive and in each account's own time zone.",
    )
    collect.add_argument("--team", help="only this Slack workspace (team id, e.g. T0123ABC)")
    collect.add_argument("--provider", choices=list(INSTALLED), help="only this provider")
    collect.add_argument(
        "--period",
        default="last-7-days",
        help="last-7-days (default), last-30-days, or YYYY-MM-DD..YYYY-MM-DD",
    )
    collect.add_argument("--json", action="store_true", help="print one JSON object per report per line")
    collect.add_argument(
        "--concurrency", type=int, default=8, help="connections collected at once (default 8)"
    )
    add_export_parser(usage_sub)

    jobs = sub.add_parser(
        "jobs",
        help="scheduled jobs: list them, run one now",
        description="The background jobs every `serve` process schedules.",
    )
    jobs_sub = jobs.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    jobs_sub.add_parser("list", help="each job, its period, its last run and outcome")
    run = jobs_sub.add_parser(
        "run",
        help="run one job now, through the same claims as the scheduler",
        description="Run one job now as if the clock read --at (default: now), claiming its slot like the "
        "scheduler does: a slot that already ran is not run again. For catching up by hand.",
    )
    run.add_argument("name", help="the job's name (see `quolum-bot jobs list`)")
    run.add_argument("--at", help="ISO-8601 time the job runs as of, e.g. 2026-11-23T09:00:00+01:00")

    digest = sub.add_parser("digest", help="usage digests", description="Usage digests.")
    digest_sub = digest.add_subparsers(dest="digest_command", metavar="ACTION", required=True)
    preview = digest_sub.add_parser(
        "preview",
        help="print the digest a workspace would get now",
        description="Print the digest for the period that ended last, collecting usage as needed. "
        "Nothing is posted.",
    )
    preview.add_argument("--team", required=True, help="the Slack workspace (team id, e.g. T0123ABC)")
    preview.add_argument("--tz", default="UTC", help="time zone when the workspace has no subscription")
    preview.add_argument("--json", action="store_true", help="print the Block Kit message as JSON")
    audit = sub.add_parser(
        "audit",
        help="what was done about idle seats",
        description="Print every ask, reminder, answer, reclaim, undo, refusal and exemption of a workspace: "
        "when, who, what, whose seat, and the provider's answer. Oldest first.",
    )
    audit.add_argument("--team", required=True, help="the Slack workspace (team id, e.g. T0123ABC)")
    audit.add_argument("--since", help="only from this date or time on, e.g. 2026-12-01")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    add_contracts_parser(sub)
    sub.add_parser(
        "doctor",
        help="check the set-up and print what to fix",
        description="Check the configuration, the database and its schema, the encryption keys (do they "
        "decrypt what is stored), Slack (auth.test, scopes against the manifest's), whether each provider "
        "answers and, for each connection, whether its access works. One line per finding; exit "
        "status 1 when anything is wrong.",
    )
    demo = sub.add_parser(
        "demo",
        help=f"try the bot without any account: a sandbox Slack, {PROVIDER_NAMES} on 127.0.0.1",
        description="Start the real server on SQLite in a temporary directory with stand-ins of Slack and "
        "the providers on 127.0.0.1, walk the story (connect a provider, invite another's admin, App "
        "Home) and print each Slack message. Exits 0 only if every step did what it should. Refuses to "
        "start when SLACK_* variables point at a real Slack app.",
    )
    demo.add_argument(
        "--open",
        action="store_true",
        help="afterwards keep everything running and serve the sandbox Slack page on 127.0.0.1",
    )
    demo.add_argument(
        "--port", type=int, default=0, help="port of the sandbox page with --open (default: any)"
    )

    manifest = sub.add_parser(
        "manifest",
        help="print the Slack app manifest for your host",
        description="Print the Slack app manifest (YAML) with your public URL filled in.",
    )
    manifest.add_argument(
        "--url",
        help="the bot's public https URL, e.g. https://quolum.acme.com (optional with --socket-mode: "
        "then no OAuth redirect URL, for one workspace)",
    )
    manifest.add_argument(
        "--socket-mode", action="store_true", help="a manifest for Socket Mode (no request URLs)"
    )
    return parser


# Bolt and slack_sdk read SLACK_BOT_TOKEN and its kin from the environment themselves (Bolt then warns that
# the token it found is unused, since the client we give it has it). Settings hold every value once read, so
# the secrets leave the environment: no library reads them behind our back and no child process inherits them.
SECRET_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_CLIENT_SECRET",
    "QUOLUM_ENCRYPTION_KEYS",
    "QUOLUM_METRICS_TOKEN",
    *(setting.name for setting in INSTALLED.settings() if setting.secret),  # e.g. an OAuth client secret
)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = None
    try:
        if args.command == "demo":  # before the secrets leave the environment: they say a real Slack is set
            from sandbox.workspace import refuse_real_slack

            if problem := refuse_real_slack(os.environ):
                raise ConfigError(f"demo: {problem}")
        settings = INSTALLED.load_settings()
        INSTALLED.redact_credentials()
        for name in SECRET_VARIABLES:
            os.environ.pop(name, None)
        from core.logs import setup_logging

        setup_logging(settings.log_level)
        if args.command == "serve":  # doctor reports them as findings
            for warning in settings.warnings():
                log.warning(warning)
        return COMMANDS[args.command](args, settings) or 0
    except ConfigError as error:
        print(f"quolum-bot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        from bot.cli_errors import explain

        if (sentence := explain(error, settings)) is None:
            raise
        print(f"quolum-bot: {sentence}", file=sys.stderr)
        return 2


def cmd_serve(args, settings: Settings) -> int:
    import uvicorn

    from bot.server import uvicorn_options
    from bot.web import create_app

    settings = settings.with_overrides(host=args.host or settings.host, port=args.port or settings.port)
    settings.check_slack()
    asyncio.run(_prepare_database(settings))  # what is local first: keys, database, schema
    from bot.slack_app import check_app_token, check_bot_token

    if settings.bot_token:
        asyncio.run(check_bot_token(settings))
    if settings.socket_mode:
        asyncio.run(check_app_token(settings))
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        timeout_graceful_shutdown=25,
        proxy_headers=True,
        forwarded_allow_ips="*" if settings.public_url.startswith("https") else None,
        **uvicorn_options(),  # timeouts for slow clients (bot/server.py)
    )
    return 0


async def _prepare_database(settings: Settings) -> None:
    from storage.crypto import Encryptor, load_keys
    from storage.db import Database

    if settings.encryption_keys:
        Encryptor(list(settings.encryption_keys))  # bad keys stop us before anything is touched
    db = Database(settings.database_url)
    try:
        if db.is_sqlite:
            await db.upgrade()
        elif not await db.is_up_to_date():
            raise ConfigError(
                f"the database schema is at revision {await db.current_revision() or 'none'} but this version "
                f"needs {db.head_revision()}: run `quolum-bot db upgrade` first."
            )
    finally:
        await db.dispose()
    # A generated key only once the database is known good: no key file for a database we cannot use.
    if not settings.encryption_keys:  # the key file's directory, for this user only like the database's
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    Encryptor(load_keys(settings.encryption_keys, settings.data_dir))


def cmd_db(args, settings: Settings) -> int:
    from storage.db import Database, head_revision, missing_sqlite

    async def run() -> None:
        if args.db_command == "current" and missing_sqlite(settings.database_url):
            print(
                f"database: none (no file at {missing_sqlite(settings.database_url)}); latest: {head_revision()}"
            )
            return
        db = Database(settings.database_url)
        try:
            if args.db_command == "upgrade":
                await db.upgrade()
                print(f"database is at revision {await db.current_revision()}")
            else:
                print(f"database: {await db.current_revision() or 'empty'}; latest: {db.head_revision()}")
        finally:
            await db.dispose()

    asyncio.run(run())
    return 0


def cmd_keys(args, settings: Settings) -> int:
    from storage.crypto import Encryptor, generate_key, load_keys

    if args.keys_command == "generate":
        print(generate_key())
        return 0
    from storage.db import Database
    from storage.rotation import rotate_all

    async def run() -> int:
        from bot.cli_errors import require_current_schema

        await require_current_schema(settings)
        db = Database(settings.database_url)
        try:
            return await rotate_all(db, Encryptor(load_keys(settings.encryption_keys, settings.data_dir)))
        finally:
            await db.dispose()

    print(f"re-encrypted {asyncio.run(run())} rows under the first key")
    return 0


def cmd_manifest(args, settings: Settings) -> int:
    from bot.manifest import check_url, render

    if args.url is None and not args.socket_mode:
        raise ConfigError("--url is needed (Slack's request URLs point at it), or --socket-mode without it.")
    if args.url is not None and (problem := check_url(args.url)):
        raise ConfigError(f"--url {problem}, not {args.url[:80]!r}.")
    sys.stdout.write(render(args.url.strip() if args.url else None, socket_mode=args.socket_mode))
    return 0


def cmd_doctor(args, settings: Settings) -> int:
    from bot.doctor import run

    return run(settings)


def cmd_demo(args, settings: Settings) -> int:
    from bot.cli_checks import check_port_free
    from core.logs import setup_logging
    from sandbox.demo import main as demo

    if args.open:  # before the story is played, not after
        check_port_free(args.port)
    setup_logging("ERROR")  # the demo prints what people see; the server's access log would drown it
    return demo(open_page=args.open, page_port=args.port)


def cmd_usage(args, settings: Settings) -> int:
    from bot.usage_cli import collect
    from bot.usage_export_cli import export

    return export(args, settings) if args.usage_command == "export" else collect(args, settings)


def cmd_jobs(args, settings: Settings) -> int:
    from bot.jobs_cli import jobs

    return jobs(args, settings)


def cmd_audit(args, settings: Settings) -> int:
    from bot.audit_cli import audit

    return audit(args, settings)


def cmd_contracts(args, settings: Settings) -> int:
    from bot.contracts_cli import contracts

    return contracts(args, settings)


def cmd_digest(args, settings: Settings) -> int:
    from bot.jobs_cli import digest

    return digest(args, settings)


COMMANDS = {
    "serve": cmd_serve,
    "db": cmd_db,
    "keys": cmd_keys,
    "manifest": cmd_manifest,
    "usage": cmd_usage,
    "jobs": cmd_jobs,
    "digest": cmd_digest,
    "audit": cmd_audit,
    "contracts": cmd_contracts,
    "doctor": cmd_doctor,
    "demo": cmd_demo,
}

if __name__ == "__main__":
    sys.exit(main())
