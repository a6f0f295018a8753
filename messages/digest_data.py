"""The digest's typed data: what services/digests.py gathers and the builders draw. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from core.reports import UsageReport


@dataclass(frozen=True)
class Person:
    label: str  # the account's email (or its id): shown escaped when no Slack member matches
    last_active: datetime | None  # None when never seen
    user_id: str | None = None  # the Slack member with that email: shown as a mention
    kept_until: datetime | None = None  # they chose *Keep*: not asked again before then


@dataclass(frozen=True)
class ConnectionDigest:
    provider: str  # the provider's key (the Reconnect button's value)
    provider_name: str
    account: str
    state: str = "ok"  # ok | needs_reconnect | unavailable (the provider's) | failed (ours)
    reason: str | None = None
    since: datetime | None = None
    report: UsageReport | None = None
    history: Sequence[UsageReport] = ()  # earlier reports of the same length, newest first
    named: Sequence[Person] = ()  # the first inactive seats, resolved to Slack mentions
    price: tuple[int, str] | None = None  # (amount in minor units per seat per month, currency)


@dataclass(frozen=True)
class DigestData:
    period: tuple[date, date]
    timezone: str
    connections: Sequence[ConnectionDigest]
    collected_at: datetime | None = None
    late_since: datetime | None = None  # the send time it was due at, when sent late
    preview: bool = False
    spend: str | None = None  # "Spend on 2 contracts: €4,500/month, €900/month of it on idle seats"
    savings: str | None = None  # "Saved €1,560 a year since 1 Dec: 10 seats reclaimed" (messages.seats)
    review: bool = False  # offer *Review idle seats* (some seat is idle)
    charts: bool = True  # False once the workspace's Slack refused the data visualization block
    locale: str = "en-US"  # how amounts are written (the workspace's, `quolum-bot contracts settings`)


def utilisation(report: UsageReport) -> float | None:
    return report.seats.utilisation


def idle_count(report: UsageReport) -> int:
    return report.seats.idle


def counted(report: UsageReport) -> bool:
    """Whether the provider tells who used their seat (else seats are only counted)."""
    return report.seats.active_paid_users is not None
