"""What acting on one idle seat gives back, whichever provider did it (providers/plugin.py `Hooks.reclaim`).

A provider's `reclaim` / `undo` hook answers with a `SeatResult`: what happened (`SeatOutcome`), one
sentence for the admin, the provider's answer for the audit log (status and error code, never a
credential), what an undo would need, and when the seat really goes (GitHub keeps a cancelled Copilot
seat until the billing cycle ends). Only `DONE` counts as saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class SeatOutcome(StrEnum):
    DONE = "done"  # the provider took the seat back (or gave it back, for an undo)
    GONE = "gone"  # the user or the seat was already gone: nothing changed, nothing saved
    REFUSED = "refused"  # the provider said no (last admin, the account owner…): nothing changed
    MISSING_SCOPE = "missing_scope"  # the connection may not write: offer *Enable reclaiming*
    NOT_SUPPORTED = "not_supported"  # this provider has no such action
    FAILED = "failed"  # it could not be reached or answered 5xx after retries: may be tried again


@dataclass(frozen=True)
class SeatResult:
    outcome: SeatOutcome
    sentence: str  # one sentence for the admin: "Removed Max's Sales Hub seat in HubSpot."
    answer: str = ""  # the provider's answer for the audit: "204", "403 MISSING_SCOPES" (never a secret)
    undo: Mapping[str, str] = field(default_factory=dict)  # what `undo` needs; empty: it cannot be undone
    effective: date | None = None  # when the seat really goes, when that is later than now

    @property
    def done(self) -> bool:
        return self.outcome is SeatOutcome.DONE


def not_supported(provider: str) -> SeatResult:
    return SeatResult(SeatOutcome.NOT_SUPPORTED, f"Quolum cannot give seats back in {provider}.")
