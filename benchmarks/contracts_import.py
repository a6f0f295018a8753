"""Benchmark: `quolum-bot contracts import` of a 10,000-row CSV, in seconds (the issue asks under 5 s).

    python benchmarks/contracts_import.py [--rows 10000] [--database-url URL]

The file holds 2,000 workspaces × 5 providers with every field set. What is timed is what the command
does after reading the file: parse and check every row (core.contracts.parse), then write them all in
one transaction (storage/contracts.py, 500 rows a statement). SQLite in a temporary directory unless
--database-url names another database (it is migrated; its contracts table is emptied first).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.clock import FrozenClock  # noqa: E402
from providers.registry import INSTALLED  # noqa: E402
from services.contracts import ContractsService  # noqa: E402
from storage.crypto import Encryptor, generate_key  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.store import Storage  # noqa: E402

HEADER = "team,provider,seats,price,period,currency,start,renewal,notice_days,auto_renews,owner"


def csv_text(rows: int) -> str:
    providers = list(INSTALLED)
    lines = [HEADER]
    for i in range(rows):
        team, provider = f"T{i // len(providers):07d}", providers[i % len(providers)]
        lines.append(
            f"{team},{provider},{10 + i % 500},{(i % 90) + 9.5},{'month' if i % 2 else 'year'},EUR,"
            f"2026-0{1 + i % 9}-01,2027-0{1 + i % 9}-01,{30 + i % 60},{'yes' if i % 3 else 'no'},U{i:08d}"
        )
    return "\n".join(lines) + "\n"


async def measure(rows: int, url: str) -> tuple[float, int]:
    db = Database(url)
    await db.upgrade()
    storage = Storage(db, Encryptor([generate_key()]), replica_id="bench", clock=FrozenClock())
    service = ContractsService(storage=storage, registry=INSTALLED, clock=storage.clock)
    text = csv_text(rows)
    try:
        from sqlalchemy import delete

        from storage.models import ContractRow

        async with db.session() as session, session.begin():
            await session.execute(delete(ContractRow))
        start = time.perf_counter()
        result = await service.import_csv(text, None, "bench")
        elapsed = time.perf_counter() - start
        assert result.errors == [], result.errors[:3]
        return elapsed, result.count
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        elapsed, count = asyncio.run(measure(args.rows, url))
    backend = url.split(":", 1)[0]
    print(f"contracts import: {count} rows in {elapsed:.2f} s ({count / elapsed:,.0f} rows/s) on {backend}")


if __name__ == "__main__":
    main()
