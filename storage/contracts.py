"""Contracts and the workspace's contract settings.

A contract is the row (team, provider). Saving one whose dates (start, renewal, notice) changed bumps
`dates_rev`, the revision its renewal reminders are claimed under, so new dates start them afresh.
`save_all` writes a whole import in one transaction: all of it or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.clock import Clock, utcnow
from core.contracts import Contract, dates_changed
from core.renewals import REMIND_FROM_HOUR
from storage.db import Database
from storage.models import ContractRow, ContractSettings

DEFAULT_LOCALE = "en-US"
DEFAULT_REMINDER_DAYS = (90, 60, 30, 14, 7)
CONTRACT_FIELDS = [f.name for f in fields(Contract)]
CHUNK = 500  # rows per statement: well under SQLite's and asyncpg's bound-parameter limits


@dataclass(frozen=True)
class Price:
    """One paid seat's monthly price, what digests and reclaims count idle seats with."""

    provider: str
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class StoredContract:
    team_id: str
    contract: Contract
    dates_rev: int
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class Settings:
    locale: str = DEFAULT_LOCALE
    reminder_days: tuple[int, ...] = DEFAULT_REMINDER_DAYS
    timezone: str | None = None  # IANA; None: the digest subscription's, else UTC (services/renewals.py)
    reminder_hour: int = REMIND_FROM_HOUR  # the local hour from which the day's reminders go out


def _contract(row: ContractRow) -> Contract:
    return Contract(**{name: getattr(row, name) for name in CONTRACT_FIELDS})


def _stored(row: ContractRow) -> StoredContract:
    return StoredContract(row.team_id, _contract(row), row.dates_rev, row.updated_by, row.updated_at)


class ContractStore:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock

    def _insert(self):
        return sqlite_insert if self.db.is_sqlite else pg_insert

    async def get(self, team_id: str, provider: str) -> StoredContract | None:
        async with self.db.session() as session:
            row = await session.get(ContractRow, (team_id, provider))
            return _stored(row) if row else None

    async def for_team(self, team_id: str) -> list[StoredContract]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(ContractRow).where(ContractRow.team_id == team_id).order_by(ContractRow.provider)
            )
            return [_stored(r) for r in rows]

    async def dated(self) -> list[StoredContract]:
        """Every contract with a renewal date, of every workspace (what renewal reminders look at)."""
        async with self.db.session() as session:
            rows = await session.scalars(
                select(ContractRow)
                .where(ContractRow.renews_on.is_not(None))
                .order_by(ContractRow.team_id, ContractRow.provider)
            )
            return [_stored(r) for r in rows]

    async def save(self, team_id: str, contract: Contract, user: str) -> StoredContract:
        await self.save_all([(team_id, contract)], user)
        saved = await self.get(team_id, contract.provider)
        assert saved is not None
        return saved

    async def save_all(self, contracts: Sequence[tuple[str, Contract]], user: str) -> int:
        """Write every (team, contract) in one transaction, replacing what each had; returns how many."""
        now = self.clock()
        keys = [(team, c.provider) for team, c in contracts]
        async with self.db.session() as session, session.begin():
            old: dict[tuple[str, str], ContractRow] = {}
            for start in range(0, len(keys), CHUNK):
                rows = await session.scalars(
                    select(ContractRow).where(
                        tuple_(ContractRow.team_id, ContractRow.provider).in_(keys[start : start + CHUNK])
                    )
                )
                old.update({(r.team_id, r.provider): r for r in rows})
            values = []
            for team, contract in contracts:
                before = old.get((team, contract.provider))
                rev = 0 if before is None else before.dates_rev
                if before is not None and dates_changed(_contract(before), contract):
                    rev += 1
                values.append(
                    {
                        "team_id": team,
                        **{name: getattr(contract, name) for name in CONTRACT_FIELDS},
                        "dates_rev": rev,
                        "updated_by": user,
                        "updated_at": now,
                    }
                )
            for start in range(0, len(values), CHUNK):
                statement = self._insert()(ContractRow)
                statement = statement.on_conflict_do_update(
                    index_elements=["team_id", "provider"],
                    set_={
                        name: statement.excluded[name]
                        for name in (*CONTRACT_FIELDS, "dates_rev", "updated_by", "updated_at")
                        if name != "provider"
                    },
                )
                await session.execute(statement, values[start : start + CHUNK])
        return len(values)

    # --- `/quolum price`: the contract's price alone ---------------------------------------------
    async def set_price(
        self, team_id: str, provider: str, amount_minor: int, currency: str, user: str
    ) -> None:
        """One seat's monthly price; a contract without one is made with nothing else known."""
        values = dict(
            price_minor=amount_minor,
            period="month",
            currency=currency,
            updated_by=user,
            updated_at=self.clock(),
        )
        statement = self._insert()(ContractRow).values(
            team_id=team_id, provider=provider, dates_rev=0, **values
        )
        statement = statement.on_conflict_do_update(index_elements=["team_id", "provider"], set_=values)
        async with self.db.session() as session, session.begin():
            await session.execute(statement)

    async def prices(self, team_id: str) -> dict[str, Price]:
        """Each priced contract's seat price per month."""
        return {
            s.contract.provider: Price(s.contract.provider, s.contract.monthly_minor(), s.contract.currency)
            for s in await self.for_team(team_id)
            if s.contract.price_minor is not None
        }

    # --- settings ----------------------------------------------------------------------------------
    async def settings(self, team_id: str) -> Settings:
        async with self.db.session() as session:
            row = await session.get(ContractSettings, team_id)
        if row is None:
            return Settings()
        return Settings(
            row.locale,
            tuple(int(d) for d in row.reminder_days.split(",") if d),
            row.timezone,
            REMIND_FROM_HOUR if row.reminder_hour is None else row.reminder_hour,
        )

    async def set_settings(self, team_id: str, settings: Settings, user: str) -> None:
        values = dict(
            locale=settings.locale,
            reminder_days=",".join(str(d) for d in settings.reminder_days),
            timezone=settings.timezone,
            reminder_hour=settings.reminder_hour,
            updated_by=user,
            updated_at=self.clock(),
        )
        statement = self._insert()(ContractSettings).values(team_id=team_id, **values)
        statement = statement.on_conflict_do_update(index_elements=["team_id"], set_=values)
        async with self.db.session() as session, session.begin():
            await session.execute(statement)

    async def forget_team(self, session, team_id: str) -> None:
        await session.execute(delete(ContractRow).where(ContractRow.team_id == team_id))
        await session.execute(delete(ContractSettings).where(ContractSettings.team_id == team_id))
