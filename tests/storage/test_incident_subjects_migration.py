"""Migration 0016: incidents written before it are access incidents; a seats incident of the same
connection can then be open beside one; going back to 0015 drops the seats incidents only."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from storage.db import Database
from storage.incidents import ACCESS, SEATS, IncidentStore
from tests.storage.test_snapshot_migration import _migrate

AT = datetime(2026, 11, 23, 9, tzinfo=UTC)
OLD_ROW = text(
    "INSERT INTO incidents (connection_id, number, team_id, provider, kind, reason, failing_since,"
    " opened_at, last_checked_at) VALUES (7, 1, 'T1', 'hubspot', 'revoked', 'token revoked', :at, :at, :at)"
)


async def test_old_incidents_are_access_incidents_and_seats_ones_open_beside_them(database_url):
    database = Database(database_url)
    try:
        await _migrate(database, "0015", down=True)
        async with database.session() as session, session.begin():
            await session.execute(OLD_ROW, {"at": AT})
        await _migrate(database, "head")

        store = IncidentStore(database, clock=lambda: AT)
        access = await store.open_for(7)
        assert (access.subject, access.number, access.reason) == (ACCESS, 1, "token revoked")
        seats, opened = await store.open(
            connection_id=7,
            team_id="T1",
            provider="hubspot",
            kind="seats",
            reason="1 of 100 seats free",
            feature=None,
            failing_since=AT,
            subject=SEATS,
        )
        assert opened and seats.number == 1 and seats.id != access.id
        assert (await store.open_for(7)).id == access.id  # the default still means access
        assert {p: i.id for p, i in (await store.open_in_team("T1")).items()} == {"hubspot": access.id}

        await _migrate(database, "0015", down=True)
        async with database.session() as session:
            rows = (await session.execute(text("SELECT reason FROM incidents"))).scalars().all()
        assert rows == ["token revoked"]
        await _migrate(database, "head")
    finally:
        await database.dispose()
