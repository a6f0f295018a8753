"""`quolum-bot keys rotate`: re-encrypt every stored secret under the first key.

Secrets live in columns named `*_enc` (see storage.models); each table is
rewritten in batches, one transaction per batch.
"""

from __future__ import annotations

from sqlalchemy import select, update

from storage.crypto import Encryptor
from storage.db import Database
from storage.models import Base


def encrypted_columns():
    for table in Base.metadata.sorted_tables:
        cols = [c for c in table.columns if c.name.endswith("_enc")]
        if cols:
            yield table, cols


async def rotate_all(db: Database, encryptor: Encryptor, batch: int = 500) -> int:
    rewritten = 0
    for table, cols in encrypted_columns():
        pk = list(table.primary_key.columns)
        offset = 0
        while True:
            async with db.session() as session, session.begin():
                rows = (
                    await session.execute(select(*pk, *cols).order_by(*pk).offset(offset).limit(batch))
                ).all()
                for row in rows:
                    values = {
                        c.name: encryptor.rotate(row._mapping[c.name]) for c in cols if row._mapping[c.name]
                    }
                    if values:
                        where = [c == row._mapping[c.name] for c in pk]
                        await session.execute(update(table).where(*where).values(**values))
                        rewritten += 1
            if len(rows) < batch:
                break
            offset += batch
    return rewritten
