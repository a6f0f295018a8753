"""One sentence for the database and data-directory failures an operator meets, instead of a traceback.

`explain(error, settings)` walks the exception chain (SQLAlchemy wraps the driver's error, which wraps the
socket's) and names the variable to fix; None means "not one of ours: let it raise".
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.core.config import ConfigError, Settings

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


def explain(error: BaseException, settings: Settings | None) -> str | None:
    if settings is None:
        return None
    url = make_url(settings.database_url)
    sqlite = url.get_backend_name() == "sqlite"
    data_dir = settings.data_dir
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
        if isinstance(link, OSError) and link.errno in WRITE_ERRNOS and link.filename is not None:
            return (
                f"cannot write {link.filename} ({link.strerror}): make QUOLUM_DATA_DIR ({data_dir}) a "
                "directory this user can write, or point it elsewhere."
            )
        if sqlite and "unable to open database file" in str(link):
            if Path(url.database or "").parent == data_dir:
                return (
                    f"SQLite cannot open {url.database}: make QUOLUM_DATA_DIR ({data_dir}) a directory this "
                    "user can write, or point it elsewhere."
                )
            return f"SQLite cannot open {url.database}: check the path in QUOLUM_DATABASE_URL."
        if not sqlite and isinstance(link, OSError | TimeoutError):  # refused, unknown host, timed out
            return (
                f"cannot reach PostgreSQL at {_where(settings)} ({name}): check QUOLUM_DATABASE_URL and that "
                "the server is running."
            )
    return None


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
