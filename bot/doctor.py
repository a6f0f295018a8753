"""`quolum-bot doctor`: check a set-up from configuration to each connection; one line per finding.

Read-only, except that a HubSpot access token about to expire is refreshed as the bot itself would (and a
refresh HubSpot refuses for good marks the connection Needs reconnect, as it would). It never generates an
encryption key and never creates a database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

import httpx
from slack_sdk.errors import SlackApiError

from core.config import ConfigError, Settings
from providers.registry import INSTALLED

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass(frozen=True)
class Finding:
    ok: bool
    area: str
    text: str
    warning: bool = False  # works, but should not be so in production (exit status stays 0)

    def line(self) -> str:
        return f"{'warn' if self.warning else 'ok  ' if self.ok else 'FAIL'}  {self.area}: {self.text}"


def ok(area: str, text: str) -> Finding:
    return Finding(True, area, text)


def fail(area: str, text: str) -> Finding:
    return Finding(False, area, text)


def history_note(lacking: list[str]) -> str:
    """Which of the two a workspace gets after a post (a digest, a DM) Slack never answered (README)."""
    if not lacking:
        return "an unanswered post is looked for in its channel or DM (optional history scopes granted)"
    return (
        f"an unanswered post is marked uncertain, never posted twice (optional {', '.join(lacking)} "
        "not granted)"
    )


def missing_scopes(granted: Iterable[str], wanted: Iterable[str]) -> list[str]:
    """The wanted scopes not granted, in the wanted order (pure, for the Slack and SendGrid checks)."""
    have = {s.strip() for s in granted if s.strip()}
    return [s for s in wanted if s not in have]


def run(settings: Settings) -> int:
    """Print every finding; 1 when any is wrong."""
    findings = asyncio.run(_collect(settings))
    for finding in findings:
        print(finding.line(), flush=True)
    return 0 if all(f.ok for f in findings) else 1


async def _collect(settings: Settings) -> list[Finding]:
    return [finding async for finding in check_all(settings)]


async def check_all(settings: Settings) -> AsyncIterator[Finding]:
    yield _config(settings)
    for warning in settings.warnings():
        yield Finding(True, "config", warning, warning=True)
    storage = None
    finding, db = await _database(settings)
    yield finding
    if db is not None:
        finding, readable = await _keys(settings, db)
        await db.dispose()
        yield finding
        if readable:
            from bot.web import build_storage

            storage = build_storage(settings)
    async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as http:
        async for finding in _slack(settings, storage):
            yield finding
        async for finding in _reachable(settings, http):
            yield finding
        if storage is not None:  # connections are only tried with credentials we can read
            async for finding in _connections(settings, storage, http):
                yield finding
    if storage is not None:
        await storage.db.dispose()


def _config(settings: Settings) -> Finding:
    try:
        settings.check_slack()
    except ConfigError as error:
        return fail("config", str(error))
    for spec in INSTALLED.oauth():
        client_id, secret = spec.oauth.client_id_setting, spec.oauth.client_secret_setting
        if settings.value(client_id) and not settings.value(secret):
            return fail("config", f"{secret} is missing: {spec.display_name} cannot be connected without it.")
    mode = "multi-workspace" if settings.multi_workspace else "single-workspace"
    return ok("config", f"{mode} mode{', Socket Mode' if settings.socket_mode else ''}")


async def _database(settings: Settings):
    """(finding, the database when it is reachable and current, else None). Creates nothing."""
    from bot.cli_errors import explain
    from storage.db import Database, missing_sqlite

    if path := missing_sqlite(settings.database_url):
        return fail(
            "database", f"no database at {path}: run `quolum-bot db upgrade` (or start `serve`)."
        ), None
    db = Database(settings.database_url)
    try:
        current, head = await db.current_revision(), db.head_revision()
    except Exception as error:
        await db.dispose()
        why = explain(error, settings) or f"cannot use the database ({type(error).__name__})."
        return fail("database", why), None
    if current != head:
        await db.dispose()
        why = f"schema is at {current or 'none'}, this version needs {head}: run `quolum-bot db upgrade`."
        return fail("database", why), None
    return ok("database", f"{db.engine.url.get_backend_name()} reachable, schema at {head}"), db


async def _keys(settings: Settings, db) -> tuple[Finding, bool]:
    """(finding, whether every stored secret decrypts). Reads the key file; never generates one."""
    from storage.crypto import KEY_FILE, DecryptionError, Encryptor

    key_file = settings.data_dir / KEY_FILE
    keys = list(settings.encryption_keys)
    if not keys and key_file.exists():
        keys = [k.strip() for k in key_file.read_text().splitlines() if k.strip()]
    stored = 0
    async for _ in _stored_secrets(db):
        stored += 1
    if not keys and stored:
        why = f"no key (QUOLUM_ENCRYPTION_KEYS unset, no {key_file}) for {stored} stored secrets"
        return fail("keys", f"{why}: restore the key they were encrypted with."), False
    if not keys:
        return ok("keys", f"no key yet: `serve` generates {key_file} on first start (back it up)"), False
    try:
        encryptor = Encryptor(keys)
    except ConfigError as error:
        return fail("keys", str(error)), False
    unreadable = 0
    async for value in _stored_secrets(db):
        try:
            encryptor.decrypt(value)
        except DecryptionError:
            unreadable += 1
    if unreadable:
        return fail(
            "keys",
            f"{unreadable} of {stored} stored secrets cannot be decrypted with these keys: add the key they "
            "were encrypted with to QUOLUM_ENCRYPTION_KEYS (after the first).",
        ), False
    return ok("keys", f"{len(keys)} key(s) decrypt all {stored} stored secrets"), True


async def _stored_secrets(db) -> AsyncIterator[str]:
    """Every encrypted value in the database (the `*_enc` columns), streamed."""
    from storage.rotation import encrypted_columns

    async with db.session() as session:
        for table, cols in encrypted_columns():
            result = await session.stream(table.select().with_only_columns(*cols))
            async for row in result:
                for value in row:
                    if value:
                        yield value


async def _slack(settings: Settings, storage) -> AsyncIterator[Finding]:
    from bot.cli_errors import slack_refusal
    from bot.slack_app import BOT_OPTIONAL_SCOPES, BOT_SCOPES
    from providers.slack import web_client

    tokens: list[tuple[str, str]] = []
    if settings.bot_token and not settings.multi_workspace:
        tokens.append(("SLACK_BOT_TOKEN", settings.bot_token))
    elif storage is not None:
        for team in await storage.installations.team_ids():
            bot = await storage.installations.async_find_bot(enterprise_id=None, team_id=team)
            if bot is not None and bot.bot_token:
                tokens.append((f"workspace {team}", bot.bot_token))
        if not tokens:
            yield ok("slack", "no workspace has installed the app yet")
    for name, token in tokens:
        try:
            answer = await web_client(settings, token).auth_test()
        except SlackApiError as error:
            token_name = name if name.startswith("SLACK_") else f"the bot token of {name}"
            yield fail("slack", slack_refusal(token_name, error.response.get("error")))
            continue
        except Exception as error:
            yield fail(
                "slack", f"{name}: cannot reach Slack at {settings.slack_api_url} ({type(error).__name__})."
            )
            continue
        granted = (answer.headers.get("x-oauth-scopes") or answer.headers.get("X-OAuth-Scopes") or "").split(
            ","
        )
        if lacking := missing_scopes(granted, BOT_SCOPES):
            yield fail(
                "slack",
                f"{name} ({answer.get('team')}): the bot lacks {', '.join(lacking)}: update the app from `quolum-bot manifest` and reinstall it.",
            )
        else:
            yield ok(
                "slack",
                f"{name} ({answer.get('team')}): token works, every scope of the manifest granted; "
                + history_note(missing_scopes(granted, BOT_OPTIONAL_SCOPES)),
            )
    if settings.socket_mode:
        try:
            await web_client(settings).apps_connections_open(app_token=settings.app_token)
            yield ok("slack", "SLACK_APP_TOKEN opens Socket Mode connections")
        except SlackApiError as error:
            yield fail("slack", slack_refusal("SLACK_APP_TOKEN", error.response.get("error")))
        except Exception as error:
            yield fail("slack", f"cannot reach Slack to check SLACK_APP_TOKEN ({type(error).__name__}).")


async def _reachable(settings: Settings, http: httpx.AsyncClient) -> AsyncIterator[Finding]:
    """Each provider answers at all (any HTTP status counts: we send no credentials)."""
    targets: list[tuple[str, str, str, str]] = []  # area, base URL, a path, the variable overriding it

    def configured(spec) -> bool:  # an OAuth provider is offered once its app's client id is set
        return spec.oauth is None or bool(settings.value(spec.oauth.client_id_setting))

    for spec in INSTALLED.values():
        if not configured(spec):
            others = " and ".join(s.display_name for s in INSTALLED.values() if configured(s))
            unset = spec.oauth.client_id_setting
            yield ok(spec.key, f"not configured ({unset} unset): the card offers {others or 'nothing'} only")
            continue
        hooks = INSTALLED.hooks(spec.key, http, settings)
        targets += [
            (spec.key, base, spec.verify_path, spec.api_url_setting or "") for base in hooks.reachable_urls()
        ]
    for area, base, path, variable in targets:
        try:
            await http.get(base + path)
            yield ok(area, f"{base} answers")
        except httpx.HTTPError as error:
            yield fail(
                area, f"cannot reach {base} ({type(error).__name__}): check the network or {variable}."
            )


async def _connections(settings: Settings, storage, http: httpx.AsyncClient) -> AsyncIterator[Finding]:
    from bot.container import build_services
    from core.clock import utcnow
    from providers.http import NeedsReconnect, ProviderError, Unauthorized

    services = build_services(settings, storage, utcnow, http)
    count = 0
    async for connection_id in storage.connections.active():
        record = await storage.connections.by_id(connection_id)
        if record is None:
            continue
        count += 1
        name = f"{record.team_id} {record.provider} ({record.account_name or record.account_id})"
        if record.status != "connected":
            yield fail(
                "connection",
                f"{name}: {record.status.replace('_', ' ')} ({record.status_reason}): an admin reconnects it from /quolum connect.",
            )
            continue
        try:
            spec, hooks = INSTALLED[record.provider], services.providers(record.provider)
            if spec.oauth is not None:
                record = await services.credentials.current(record.id)  # refreshed first when about to expire
            lacking = await hooks.access(record.credentials, record.account_id or "doctor")
            if lacking:
                yield fail(
                    "connection",
                    f"{name}: the API key lacks {', '.join(lacking)}: create a key with them and reconnect.",
                )
            else:
                yield ok("connection", f"{name}: access works")
        except NeedsReconnect as error:
            yield fail(
                "connection",
                f"{name}: needs reconnect ({error}): an admin reconnects it from /quolum connect.",
            )
        except Unauthorized:
            yield fail(
                "connection",
                f"{name}: the provider refuses the stored credentials (401): an admin reconnects it from /quolum connect.",
            )
        except ProviderError as error:
            yield fail("connection", f"{name}: {error}")
    if not count:
        yield ok("connection", "no provider connected yet")
