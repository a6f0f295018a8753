"""The SQLite files on disk: for this user only (issue 27, item 11), and a failed open leaves no thread behind."""

from __future__ import annotations

import stat
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage.db import Database


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_data_directory_is_0700_and_the_database_and_its_wal_files_0600(tmp_path):
    data = tmp_path / "data"
    db = Database(f"sqlite+aiosqlite:///{data / 'quolum.db'}")
    try:
        await db.upgrade()
        async with db.engine.connect() as conn:  # WAL mode: -wal and -shm exist while a connection is open
            await conn.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
            await conn.commit()
            files = sorted(p.name for p in data.iterdir())
            assert files == ["quolum.db", "quolum.db-shm", "quolum.db-wal"]
            assert {name: mode(data / name) for name in files} == dict.fromkeys(files, 0o600)
    finally:
        await db.dispose()
    assert mode(data) == 0o700


async def test_an_existing_database_keeps_its_mode(tmp_path):
    path = tmp_path / "quolum.db"
    path.touch(mode=0o640)
    path.chmod(0o640)
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.upgrade()
    await db.dispose()
    assert mode(path) == 0o640  # the operator chose it (a backup group, say)


def _workers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


async def test_a_database_that_cannot_be_opened_leaves_no_worker_thread(tmp_path):
    """aiosqlite stops its thread without waiting; the CLI's process then exits under it ("Exception in
    thread ... Event loop is closed" on stderr after the one sentence)."""
    (tmp_path / "quolum.db").mkdir()  # SQLite cannot open a directory, as root too
    before = _workers()
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'quolum.db'}")
    with pytest.raises(OperationalError, match="unable to open database file"):
        await db.current_revision()
    assert not {t for t in _workers() - before if t.is_alive()}
    await db.dispose()


def test_serve_makes_the_key_files_directory_0700_when_the_database_is_elsewhere(tmp_path):
    """PostgreSQL (here: a SQLite file outside QUOLUM_DATA_DIR): the data directory holds only the key file."""
    import asyncio

    from bot.cli import _prepare_database
    from core.config import Settings

    data = tmp_path / "data"
    settings = Settings.from_env(
        {"QUOLUM_DATA_DIR": str(data), "QUOLUM_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'q.db'}"}
    )
    asyncio.run(_prepare_database(settings))
    assert mode(data) == 0o700 and mode(data / "encryption.key") == 0o600
