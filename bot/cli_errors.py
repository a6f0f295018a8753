"""One sentence for the database and data-directory failures an operator meets, instead of a traceback.

`explain(error, settings)` walks the exception chain (SQLAlchemy wraps the driver's error, which wraps the
socket's) and names the variable to fix; None means "not one of ours: let it raise".
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from core.config import ConfigError, Settings

# asyncpg's classes, by name: this module should not import a driver to describe its errors.
BAD_LOGIN = {"InvalidPasswordError", "InvalidAuthorizationSpecificationError"}
NO_DATABASE = {"InvalidCatalogNameError"}
WRITE_ERRNOS = {
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENOTDIR,
    errno.EEXIST,
    errno.ENOSPC,
    errno.EISDIR,
}


def chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [getattr(current, "orig", None), current.__cause__, current.__context__]


def _where(settings: Settings) -> str:
    url = make_url(settings.database_url)
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def _related(filename: str | bytes, places: list[Path]) -> bool:
    """`filename` is one of `places`, above one (a parent that could not be made) or inside one."""
    path = Path(os.path.abspath(os.fsdecode(filename)))
    for place in (Path(os.path.abspath(p)) for p in places):
        if path == place or path in place.parents or place in path.parents:
            return True
    return False


def _fix(settings: Settings, sqlite_file: Path | None) -> str:
    """Which variable to change: QUOLUM_DATABASE_URL when it puts the SQLite file outside the data directory."""
    data_dir = settings.data_dir
    if sqlite_file is not None and Path(os.path.abspath(sqlite_file.parent)) != Path(
        os.path.abspath(data_dir)
    ):
        return f"check the path in QUOLUM_DATABASE_URL ({sqlite_file}): its directory must be one this user can write."
    return f"make QUOLUM_DATA_DIR ({data_dir}) a directory this user can write, or point it elsewhere."


def explain(error: BaseException, settings: Settings | None) -> str | None:
    if settings is None:
        return None
    url = make_url(settings.database_url)
    sqlite = url.get_backend_name() == "sqlite"
    sqlite_file = Path(url.database) if sqlite and url.database and url.database != ":memory:" else None
    places = [settings.data_dir] + ([sqlite_file] if sqlite_file else [])
    for link in chain(error):
        name = type(link).__name__
        if name in BAD_LOGIN:
            return (
                f"PostgreSQL at {_where(settings)} refused the user name or password ({name}): "
                "check them in QUOLUM_DATABASE_URL."
            )
        if name in NO_DATABASE:
            return (
                f"the database {url.database!r} does not exist at {_where(settings)}: create it "
                f"(createdb {url.database}) or fix QUOLUM_DATABASE_URL."
            )
        if (
            isinstance(link, OSError)
            and link.filename is not None
            and (link.errno in WRITE_ERRNOS or link.errno == errno.ENOENT and _related(link.filename, places))
        ):
            what = {
                errno.ENOENT: f"cannot create {link.filename}",
                errno.EEXIST: f"cannot make the directory {link.filename}: a file is in its place",
                errno.ENOTDIR: f"cannot make the directory {link.filename}: a file is in the way",
            }.get(link.errno, f"cannot write {link.filename}")
            return f"{what} ({link.strerror}): {_fix(settings, sqlite_file)}"
        if sqlite and ("unable to open database file" in str(link) or "readonly database" in str(link)):
            verb = "open" if "unable to open" in str(link) else "write"
            return f"SQLite cannot {verb} {url.database}: {_fix(settings, sqlite_file)}"
        if not sqlite and isinstance(link, OSError | TimeoutError):  # refused, unknown host, timed out
            return (
                f"cannot reach PostgreSQL at {_where(settings)} ({name}): check QUOLUM_DATABASE_URL and that "
                "the server is running."
            )
    return None


# Slack's token errors (auth.test, apps.connections.open; Slack's docs for token errors): what each means and
# what to do. The one table `serve` (which refuses to start) and `doctor` (which reports) both say.
COPY_BOT_TOKEN = "copy the Bot User OAuth Token (xoxb-...) from the app's OAuth & Permissions page"
REINSTALL = "reinstall the app to the workspace, then copy its new Bot User OAuth Token (xoxb-...)"
SLACK_TOKEN_ERRORS: dict[str, tuple[str, str]] = {
    "invalid_auth": ("the token is not valid", COPY_BOT_TOKEN),
    "not_authed": ("no token was sent", COPY_BOT_TOKEN),
    "not_allowed_token_type": ("that is not a bot token", COPY_BOT_TOKEN),
    "account_inactive": ("the token belongs to a deleted user or workspace", REINSTALL),
    "token_revoked": ("the token was revoked (the app was uninstalled or its tokens reset)", REINSTALL),
    "token_expired": ("the token expired", REINSTALL),
}
APP_TOKEN_ADVICE = (
    "create an app-level token with connections:write (the app's Basic Information page, App-Level Tokens)"
)
STORED_TOKEN_ADVICE = "reinstall the app in that workspace (its install page is /slack/install)"


def slack_refusal(token: str, code: str | None) -> str:
    """The sentence for a token Slack refused: `token` is SLACK_BOT_TOKEN, SLACK_APP_TOKEN, or `workspace T…`
    for a stored installation's token (which only a reinstall replaces)."""
    meaning, advice = SLACK_TOKEN_ERRORS.get(code or "", ("Slack refused it", COPY_BOT_TOKEN))
    if token == "SLACK_APP_TOKEN":
        advice = APP_TOKEN_ADVICE
    elif token != "SLACK_BOT_TOKEN":
        advice = STORED_TOKEN_ADVICE
    return f"Slack refused {token} ({code}: {meaning}): {advice}."


async def require_current_schema(settings: Settings) -> None:
    """For commands that use the data (usage collect, keys rotate): a ConfigError unless the schema is current,
    found on a bare engine, so that nothing (no SQLite file, no encryption key) is created for nothing."""
    from storage.db import Database, missing_sqlite

    if missing_sqlite(settings.database_url):
        raise ConfigError("there is no database yet: run `quolum-bot db upgrade` (or `serve`) first.")
    db = Database(settings.database_url)
    try:
        up_to_date = await db.is_up_to_date()
    finally:
        await db.dispose()
    if not up_to_date:
        raise ConfigError("the database schema is not up to date: run `quolum-bot db upgrade` first.")
