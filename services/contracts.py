"""Contracts as people set them: the modal, `quolum-bot contracts list|set|import`, `/quolum price`.

Every way in goes through core.contracts.parse, so the same field gets the same sentence wherever it
was typed. An import is checked whole before anything is written, then written in one transaction.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from core.clock import Clock
from core.contracts import FIELDS, Contract, parse, parse_stages
from core.money import Money, format_money, locale_sentence
from core.periods import zone
from core.renewals import parse_hour
from providers.registry import Registry
from storage.contracts import Settings, StoredContract
from storage.store import Storage

log = logging.getLogger("quolum.contracts")

TEAM = "team"  # an import's optional column: the workspace of its row (else --team)
MAX_ERRORS = 50  # an import names this many bad rows, then how many more


@dataclass(frozen=True)
class Imported:
    count: int  # contracts written (0 when there was any error)
    errors: list[str]  # one line per bad row and field


class ContractsService:
    def __init__(self, *, storage: Storage, registry: Registry, clock: Clock) -> None:
        self.storage = storage
        self.store = storage.contracts
        self.registry = registry
        self.clock = clock
        # called as hook(team_id, provider) after a contract is saved (seats running out re-checks)
        self.saved_hooks: list[Callable[[str, str], Awaitable[Any]]] = []

    async def _saved(self, saved: Iterable[tuple[str, str]]) -> None:
        for team_id, provider in saved:
            for hook in self.saved_hooks:
                try:
                    await hook(team_id, provider)
                except Exception:  # the contract is saved; a listener's failure is only logged
                    log.exception("a contract listener failed for %s/%s", team_id, provider)

    def find_provider(self, name: str) -> str | None:
        spec = self.registry.find(name)
        return spec.key if spec else None

    async def list(self, team_id: str) -> list[StoredContract]:
        return await self.store.for_team(team_id)

    async def get(self, team_id: str, provider: str) -> StoredContract | None:
        return await self.store.get(team_id, provider)

    async def set(
        self, team_id: str, raw: Mapping[str, str | None], user_id: str, *, partial: bool = True
    ) -> tuple[StoredContract | None, dict[str, str]]:
        """Save the fields given (`partial`: the others keep their value; else they are cleared). Returns
        (saved, {}) or (None, {field: sentence}) and nothing changed."""
        provider = self.find_provider(raw.get("provider") or "")
        base = None
        if provider is not None:
            stored = await self.store.get(team_id, provider)
            base = stored.contract if stored and partial else Contract(provider=provider)
        contract, errors = parse(raw, self.find_provider, base=base)
        if errors:
            return None, errors
        saved = await self.store.save(team_id, contract, user_id)
        await self._saved([(team_id, contract.provider)])
        return saved, {}

    async def import_csv(
        self, text: str, team_id: str | None, user_id: str, *, known_teams: set[str] | None = None
    ) -> Imported:
        """A CSV with a header naming FIELDS (and optionally `team`): every row checked first, one line per
        bad row and field; then all written in one transaction, or none when any row is bad."""
        reader = csv.DictReader(io.StringIO(text))
        header = reader.fieldnames or []
        unknown = [h for h in header if h not in FIELDS and h != TEAM]
        if "provider" not in header or unknown:
            what = (
                f"unknown columns {', '.join(repr(h[:30]) for h in unknown[:5])}"
                if unknown
                else "no provider column"
            )
            return Imported(0, [f"row 1 (the header): {what}; the columns are {TEAM}, {', '.join(FIELDS)}."])
        return await self.import_rows(enumerate(reader, start=2), team_id, user_id, known_teams=known_teams)

    async def import_rows(
        self,
        rows: Iterable[tuple[int, Mapping[str, str | None]]],
        team_id: str | None,
        user_id: str,
        *,
        known_teams: set[str] | None = None,
    ) -> Imported:
        """Rows numbered as the file's lines; `known_teams` (None: any) are the workspaces rows may name."""
        errors: list[str] = []
        contracts: list[tuple[str, Contract]] = []
        seen: dict[tuple[str, str], int] = {}
        for number, row in rows:
            if None in row:  # csv puts a row's extra cells under None
                errors.append(f"row {number}: more cells than the header has columns.")
                continue
            team = (row.get(TEAM) or "").strip() or team_id
            if not team:
                errors.append(f"row {number}: {TEAM}: missing (give a {TEAM} column or --team).")
                continue
            if known_teams is not None and team not in known_teams:
                errors.append(
                    f"row {number}: {TEAM}: `{team[:40]}` is no workspace where the app is installed."
                )
                continue
            fields = {k: v for k, v in row.items() if k != TEAM}
            contract, problems = parse(fields, self.find_provider)
            errors.extend(f"row {number}: {name}: {sentence}" for name, sentence in problems.items())
            if contract is None:
                continue
            key = (team, contract.provider)
            if key in seen:
                errors.append(
                    f"row {number}: provider: {contract.provider} of {team} is on row {seen[key]} already."
                )
                continue
            seen[key] = number
            contracts.append((team, contract))
        if errors:
            more = len(errors) - MAX_ERRORS
            return Imported(0, errors[:MAX_ERRORS] + ([f"... and {more} more."] if more > 0 else []))
        count = await self.store.save_all(contracts, user_id)
        if self.saved_hooks:
            await self._saved((team, contract.provider) for team, contract in contracts)
        return Imported(count, [])

    # --- the workspace's settings ------------------------------------------------------------------
    async def settings(self, team_id: str) -> Settings:
        return await self.store.settings(team_id)

    async def set_settings(
        self,
        team_id: str,
        user_id: str,
        *,
        locale: str | None = None,
        stages: str | None = None,
        timezone: str | None = None,
        hour: str | None = None,
    ) -> tuple[Settings | None, str | None]:
        """(settings, None) or (None, the sentence) and nothing changed. `timezone`: an IANA name, or ""
        for the default (the digest subscription's, else UTC). `hour`: the local hour reminders go out
        from (`9`, `09:00`)."""
        current = await self.store.settings(team_id)
        if hour is not None:
            try:
                current = replace(current, reminder_hour=parse_hour(hour))
            except ValueError as error:
                return None, str(error)
        if timezone is not None:
            name = timezone.strip()
            if name:
                try:
                    zone(name)
                except ValueError as error:
                    return None, str(error)
            current = replace(current, timezone=name or None)
        if locale is not None:
            if problem := locale_sentence(locale):
                return None, problem
            current = replace(current, locale=locale.strip().replace("_", "-"))
        if stages is not None:
            try:
                current = replace(current, reminder_days=parse_stages(stages))
            except ValueError as error:
                return None, str(error)
        await self.store.set_settings(team_id, current, user_id)
        return current, None

    async def money(self, team_id: str, money: Money | None) -> str:
        """An amount in the workspace's locale ("" for none)."""
        if money is None:
            return ""
        return format_money(money, (await self.store.settings(team_id)).locale)
