"""The suite's own fixtures, where they can go wrong under pytest-xdist."""

import asyncio
import contextlib

from sqlalchemy import text

from storage.db import Database
from tests.conftest import truncate_all, worker_postgres_url


def test_each_xdist_worker_gets_its_own_postgres_database():
    url = "postgresql://quolum:pw@127.0.0.1:5432/quolum_test"
    assert worker_postgres_url(url, None) == url
    assert worker_postgres_url(url, "master") == url
    assert worker_postgres_url(url, "gw3") == "postgresql://quolum:pw@127.0.0.1:5432/quolum_test_gw3"
    assert worker_postgres_url(None, "gw0") is None


async def test_emptying_the_database_ends_a_session_an_earlier_test_left_in_a_transaction(_postgres_schema):
    leftover = Database(_postgres_schema)
    conn = await leftover.engine.connect()
    await conn.begin()
    await conn.execute(text("SELECT count(*) FROM connections"))  # holds a lock TRUNCATE waits for
    try:
        await asyncio.wait_for(truncate_all(_postgres_schema), timeout=20)
    finally:
        with contextlib.suppress(Exception):  # its server side was ended
            await conn.close()
        await leftover.dispose()
