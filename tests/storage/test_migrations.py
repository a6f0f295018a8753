"""The Alembic migrations build exactly the schema the models describe, on each backend."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.models import Base


async def test_models_and_migrations_agree(storage):
    def diff(sync_conn):
        return compare_metadata(MigrationContext.configure(sync_conn), Base.metadata)

    async with storage.db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
    assert await storage.db.is_up_to_date()
