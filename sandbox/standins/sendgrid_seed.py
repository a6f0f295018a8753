"""Deterministic SendGrid account data for the stand-in and for the tests that check it.

`generate_account(seed, account_id=..., start=..., end=...)` is pure: the same
arguments always give the same account. Everything the stand-in serves comes
from the returned `SendGridAccount`, and the dataclasses are plain so a test can
compute the figures it expects (sums, seat counts, credits) on its own, without
going through the stand-in.

Internal consistency of each day's metrics (see `check_day_metrics`):

    requests  = processed + bounce_drops + spam_report_drops + unsubscribe_drops + invalid_emails
    processed = delivered + bounces + blocks
    unique_opens <= opens, unique_opens <= delivered
    unique_clicks <= clicks, unique_clicks <= unique_opens
    spam_reports <= delivered, unsubscribes <= delivered
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

# SendGrid's global stats metrics, in the order its documentation lists them.
METRIC_NAMES: tuple[str, ...] = (
    "blocks",
    "bounce_drops",
    "bounces",
    "clicks",
    "deferred",
    "delivered",
    "invalid_emails",
    "opens",
    "processed",
    "requests",
    "spam_report_drops",
    "spam_reports",
    "unique_clicks",
    "unique_opens",
    "unsubscribe_drops",
    "unsubscribes",
)

USER_TYPES = ("owner", "admin", "teammate")


def zero_metrics() -> dict[str, int]:
    return dict.fromkeys(METRIC_NAMES, 0)


def sum_metrics(days: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """Sum metric dicts field by field (all METRIC_NAMES present in the result)."""
    total = zero_metrics()
    for metrics in days:
        for name in METRIC_NAMES:
            total[name] += metrics.get(name, 0)
    return total


def check_day_metrics(m: Mapping[str, int]) -> None:
    """Raise AssertionError if one day's metrics break SendGrid's accounting."""
    assert all(m[name] >= 0 for name in METRIC_NAMES), m
    drops = m["bounce_drops"] + m["spam_report_drops"] + m["unsubscribe_drops"] + m["invalid_emails"]
    assert m["requests"] == m["processed"] + drops, m
    assert m["processed"] == m["delivered"] + m["bounces"] + m["blocks"], m
    assert m["delivered"] <= m["processed"] <= m["requests"], m
    assert m["unique_opens"] <= m["opens"] and m["unique_opens"] <= m["delivered"], m
    assert m["unique_clicks"] <= m["clicks"] and m["unique_clicks"] <= m["unique_opens"], m
    assert m["spam_reports"] <= m["delivered"] and m["unsubscribes"] <= m["delivered"], m


@dataclass(frozen=True)
class Teammate:
    username: str
    email: str
    first_name: str
    last_name: str
    user_type: str  # "owner" | "admin" | "teammate"
    is_admin: bool
    phone: str = ""
    website: str = ""
    address: str = ""
    address2: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""

    def to_json(self) -> dict[str, object]:
        """The object GET /v3/teammates returns for this teammate."""
        return {
            "username": self.username,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "user_type": self.user_type,
            "is_admin": self.is_admin,
            "phone": self.phone,
            "website": self.website,
            "address": self.address,
            "address2": self.address2,
            "city": self.city,
            "state": self.state,
            "zip": self.zip,
            "country": self.country,
        }


@dataclass(frozen=True)
class Credits:
    total: int
    used: int
    last_reset: date
    next_reset: date
    reset_frequency: str = "monthly"

    @property
    def remain(self) -> int:
        return max(self.total - self.used, 0)

    @property
    def overage(self) -> int:
        return max(self.used - self.total, 0)

    def to_json(self) -> dict[str, object]:
        """The body of GET /v3/user/credits (dates as SendGrid writes them, YYYY-MM-DD)."""
        return {
            "remain": self.remain,
            "total": self.total,
            "overage": self.overage,
            "used": self.used,
            "last_reset": self.last_reset.isoformat(),
            "next_reset": self.next_reset.isoformat(),
            "reset_frequency": self.reset_frequency,
        }


@dataclass(frozen=True)
class AccessAttempt:
    """One row of GET /v3/access_settings/activity (account-level, not per teammate)."""

    allowed: bool
    auth_method: str
    first_at: int  # Unix seconds
    last_at: int  # Unix seconds
    ip: str
    location: str

    def to_json(self) -> dict[str, object]:
        return {
            "allowed": self.allowed,
            "auth_method": self.auth_method,
            "first_at": self.first_at,
            "ip": self.ip,
            "last_at": self.last_at,
            "location": self.location,
        }


@dataclass
class SendGridAccount:
    account_id: str
    username: str
    user_id: int
    account_type: str  # "free" | "paid"
    reputation: float
    credits: Credits
    teammates: list[Teammate]
    daily_metrics: dict[date, dict[str, int]] = field(default_factory=dict)  # days with no entry: zeros
    access_activity: list[AccessAttempt] = field(default_factory=list)  # most recent first

    def metrics_for(self, day: date) -> dict[str, int]:
        return dict(self.daily_metrics.get(day) or zero_metrics())

    def totals(self, start: date, end: date) -> dict[str, int]:
        """Sum of every metric over [start, end], both inclusive."""
        return sum_metrics(m for d, m in self.daily_metrics.items() if start <= d <= end)

    def seats_by_type(self) -> dict[str, int]:
        counts = dict.fromkeys(USER_TYPES, 0)
        for mate in self.teammates:
            counts[mate.user_type] += 1
        return counts


_FIRST = (
    "Ada", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Ivo", "Jun", "Kemi", "Luca",
    "Mira", "Nils", "Olu", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wen", "Yara",
)  # fmt: skip
_LAST = (
    "Abara", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jansen",
    "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quispe", "Rossi", "Silva", "Tanaka",
)  # fmt: skip
_CITIES = (
    ("Denver", "CO", "80202", "US"),
    ("Austin", "TX", "78701", "US"),
    ("Toronto", "ON", "M5V 2T6", "CA"),
    ("Dublin", "", "D02 X285", "IE"),
    ("Berlin", "", "10115", "DE"),
)
_LOCATIONS = ("Denver, Colorado", "Austin, Texas", "Toronto, Ontario", "Dublin, Ireland", "Berlin, Germany")
_IP_PREFIXES = ("192.0.2.", "198.51.100.", "203.0.113.")  # documentation ranges (RFC 5737)


def _days(start: date, end: date) -> Iterable[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _day_metrics(rng: random.Random, day: date, base: int) -> dict[str, int]:
    """One consistent day of sending; some days send nothing at all."""
    weekend = day.weekday() >= 5
    if rng.random() < (0.35 if weekend else 0.05):
        return zero_metrics()
    requests = max(1, int(base * rng.uniform(0.6, 1.4) * (0.3 if weekend else 1.0)))

    invalid_emails = int(requests * rng.uniform(0.0, 0.01))
    bounce_drops = int(requests * rng.uniform(0.0, 0.01))
    spam_report_drops = int(requests * rng.uniform(0.0, 0.003))
    unsubscribe_drops = int(requests * rng.uniform(0.0, 0.005))
    processed = requests - invalid_emails - bounce_drops - spam_report_drops - unsubscribe_drops

    bounces = int(processed * rng.uniform(0.0, 0.03))
    blocks = int(processed * rng.uniform(0.0, 0.01))
    delivered = processed - bounces - blocks
    deferred = int(processed * rng.uniform(0.0, 0.05))  # deferral events; the mail may still deliver

    unique_opens = int(delivered * rng.uniform(0.15, 0.45))
    opens = unique_opens + int(unique_opens * rng.uniform(0.1, 0.8))
    unique_clicks = int(unique_opens * rng.uniform(0.05, 0.3))
    clicks = unique_clicks + int(unique_clicks * rng.uniform(0.0, 0.6))
    spam_reports = int(delivered * rng.uniform(0.0, 0.001))
    unsubscribes = int(delivered * rng.uniform(0.0, 0.004))

    return {
        "blocks": blocks,
        "bounce_drops": bounce_drops,
        "bounces": bounces,
        "clicks": clicks,
        "deferred": deferred,
        "delivered": delivered,
        "invalid_emails": invalid_emails,
        "opens": opens,
        "processed": processed,
        "requests": requests,
        "spam_report_drops": spam_report_drops,
        "spam_reports": spam_reports,
        "unique_clicks": unique_clicks,
        "unique_opens": unique_opens,
        "unsubscribe_drops": unsubscribe_drops,
        "unsubscribes": unsubscribes,
    }


def _first_of_next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def generate_account(
    seed: int,
    *,
    account_id: str,
    start: date,
    end: date,
    n_teammates: int = 12,
    account_type: str = "paid",
) -> SendGridAccount:
    """A deterministic SendGrid account with sending history over [start, end].

    - `n_teammates` counts every user GET /v3/teammates returns, the owner
      included: one owner, about a quarter admins, the rest plain teammates.
      Free accounts allow one teammate besides the owner (SendGrid's plan
      rule), so for `account_type="free"` the count is capped at 2.
    - Paid accounts reset credits monthly: last_reset is the first of `end`'s
      month, next_reset the first of the month after (always after `end`), and
      `used` is the processed mail between last_reset and `end`. Free accounts
      reset daily (100 credits): last_reset = end, next_reset = end + 1 day.
    - Access activity: a handful of login rows in the week before `end`,
      most recent first, timestamps as Unix seconds.
    """
    if account_type not in ("free", "paid"):
        raise ValueError(f"account_type must be 'free' or 'paid', not {account_type!r}")
    if end < start:
        raise ValueError("end must not be before start")
    if n_teammates < 1:
        raise ValueError("an account has at least its owner")
    rng = random.Random(f"sendgrid:{seed}:{account_id}")
    free = account_type == "free"
    if free:
        n_teammates = min(n_teammates, 2)

    slug = "".join(ch for ch in account_id.lower() if ch.isalnum()) or "acct"
    domain = f"{slug}.example.com"
    username = f"{slug}_{rng.randrange(100, 1000)}"
    user_id = rng.randrange(1_000_000, 99_999_999)
    reputation = round(rng.uniform(85.0, 100.0), 1)

    # Teammates: unique names, owner first.
    pairs = [(f, la) for f in _FIRST for la in _LAST]
    chosen = rng.sample(pairs, n_teammates)
    n_admins = 0 if n_teammates == 1 else max(1, (n_teammates - 1) // 4)
    teammates: list[Teammate] = []
    for i, (first, last) in enumerate(chosen):
        user_type = "owner" if i == 0 else ("admin" if i <= n_admins else "teammate")
        mate_username = username if i == 0 else f"{first.lower()}.{last.lower()}"
        profile: dict[str, str] = {}
        if i == 0 or rng.random() < 0.5:  # the owner has a full profile; teammates sometimes do
            city, state, zip_code, country = rng.choice(_CITIES)
            profile = {
                "phone": f"+1-555-{rng.randrange(100, 1000)}-{rng.randrange(1000, 10000)}",
                "website": f"https://www.{domain}",
                "address": f"{rng.randrange(1, 999)} Main St",
                "address2": rng.choice(("", "Suite 200", "Floor 3")),
                "city": city,
                "state": state,
                "zip": zip_code,
                "country": country,
            }
        teammates.append(
            Teammate(
                username=mate_username,
                email=f"{first.lower()}.{last.lower()}@{domain}",
                first_name=first,
                last_name=last,
                user_type=user_type,
                is_admin=user_type in ("owner", "admin"),
                **profile,
            )
        )

    # Sending history.
    base = rng.randrange(20, 90) if free else rng.randrange(800, 6000)
    daily = {day: _day_metrics(rng, day, base) for day in _days(start, end)}

    # Credits, consistent with the history.
    if free:
        last_reset, next_reset, total, frequency = end, end + timedelta(days=1), 100, "daily"
    else:
        last_reset = end.replace(day=1)
        next_reset = _first_of_next_month(end)
        total = rng.choice((50_000, 100_000, 300_000))
        frequency = "monthly"
    used = sum(m["processed"] for d, m in daily.items() if last_reset <= d <= end)
    credits = Credits(
        total=total, used=used, last_reset=last_reset, next_reset=next_reset, reset_frequency=frequency
    )

    # Account-level login activity in the week before `end`, newest first.
    end_ts = int(datetime.combine(end, time(18, 0), tzinfo=UTC).timestamp())
    activity = []
    for _ in range(rng.randrange(5, 10)):
        last_at = end_ts - rng.randrange(0, 7 * 86_400)
        activity.append(
            AccessAttempt(
                allowed=rng.random() < 0.85,
                auth_method=rng.choice(("Web", "Web", "API")),
                first_at=last_at - rng.randrange(0, 30 * 86_400),
                last_at=last_at,
                ip=rng.choice(_IP_PREFIXES) + str(rng.randrange(1, 255)),
                location=rng.choice(_LOCATIONS),
            )
        )
    activity.sort(key=lambda a: a.last_at, reverse=True)

    return SendGridAccount(
        account_id=account_id,
        username=username,
        user_id=user_id,
        account_type=account_type,
        reputation=reputation,
        credits=credits,
        teammates=teammates,
        daily_metrics=daily,
        access_activity=activity,
    )
