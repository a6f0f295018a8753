"""Engine and sessions (SQLAlchemy 2 asyncio) and the schema's migration state (Alembic)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            database = make_url(url).database
            if database and database != ":memory:":
                create_private_file(Path(database))
            self.engine: AsyncEngine = create_async_engine(
                url, echo=echo, async_creator=_sqlite_connector(url)
            )
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_async_engine(
                url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10
            )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> AsyncSession:
        return self.sessions()

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()

    # --- migrations -------------------------------------------------------
    async def current_revision(self) -> str | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())

    def head_revision(self) -> str:
        return head_revision()

    async def is_up_to_date(self) -> bool:
        return await self.current_revision() == self.head_revision()

    async def upgrade(self, revision: str = "head") -> None:
        """Run Alembic's upgrade on this engine's connection (no second engine, no blocking the loop)."""

        def run(sync_conn) -> None:
            cfg = alembic_config(self.url)
            cfg.attributes["connection"] = sync_conn
            command.upgrade(cfg, revision)

        async with self.engine.begin() as conn:
            await conn.run_sync(run)


def create_private_file(path: Path) -> None:
    """Make the database file's directory (0700) and the file itself (0600), for this user only: it holds the
    encrypted tokens and who uses what. SQLite gives the -wal, -shm and -journal files the database file's
    mode, so they are 0600 too; made here, before SQLite would make it 0644 (its default, less the umask).
    OSError (not a directory, read-only, no permission) passes, naming the path (bot/cli_errors.py says it).
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # SQLite takes an empty file
    except FileExistsError:
        pass  # an existing database keeps the mode it has


def missing_sqlite(url: str) -> Path | None:
    """The file of a SQLite URL that does not exist yet (opening it would create it), else None."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _sqlite_connector(url: str):
    """aiosqlite's connect as SQLAlchemy makes it (same arguments, a daemon thread), but one that waits for
    the connection's worker thread to end when the database cannot be opened. aiosqlite 0.22 only asks the
    thread to stop; a process that then exits at once (the CLI with its one sentence) closes the event loop
    under it, and the thread prints "Exception in thread ... Event loop is closed" (1 run in 8 measured)."""
    import aiosqlite

    parsed = make_url(url)
    args, kwargs = parsed.get_dialect()().create_connect_args(parsed)
    kwargs["timeout"] = 30

    async def connect() -> aiosqlite.Connection:
        connection = aiosqlite.connect(*args, **kwargs)
        connection._thread.daemon = True  # as SQLAlchemy's own aiosqlite connect does
        try:
            return await connection
        except BaseException:
            await asyncio.to_thread(connection._thread.join, 5)
            raise

    return connect


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def upgrade_blocking(url: str) -> None:
    """For the CLI: `quolum-bot db upgrade`."""

    async def main() -> None:
        db = Database(url)
        try:
            await db.upgrade()
        finally:
            await db.dispose()

    asyncio.run(main())
