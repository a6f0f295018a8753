"""`quolum-bot usage export`: the stored snapshots of a workspace between two dates, each priced by its
provider's contract (core/spend.py). Reads only what was collected; collects nothing."""

from __future__ import annotations

from datetime import date

from core.spend import SpendRow, spend_row
from storage.contracts import ContractStore
from storage.usage import SnapshotStore


async def export(
    snapshots: SnapshotStore, contracts: ContractStore, team_id: str, first: date, last: date
) -> list[SpendRow]:
    """One row per stored report whose period lies within `first`..`last`, inclusive."""
    priced = {stored.contract.provider: stored.contract for stored in await contracts.for_team(team_id)}
    reports = await snapshots.between(team_id, first.isoformat(), last.isoformat())
    return [spend_row(report, priced.get(report.provider)) for report in reports]
