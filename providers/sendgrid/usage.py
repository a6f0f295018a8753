"""SendGrid seats, capacity and sending activity for one account and one period, as a `UsageReport`.

Four reads, concurrently, through `ProviderHTTP` (the key is an API key: a 401 is final):

- ``GET /v3/user/account`` (`user.account.read`): plan type (``free`` | ``paid``) and reputation;
- ``GET /v3/user/credits`` (`user.credits.read`): plan capacity, used / total / remaining, resets;
- ``GET /v3/stats?start_date=&end_date=&aggregated_by=day`` (`stats.read`): the period's days,
  summed. SendGrid cuts days on its own clock; the period's dates are passed as they are;
- ``GET /v3/teammates?limit=500&offset=`` (`teammates.read`, offset paging, stop on a short page):
  the seats, counted by `user_type`.

Seats: every teammate (the owner included) is a user; on a paid plan each is a paid seat, on the
free plan none is (an unknown plan counts them as paid). SendGrid has no per-teammate activity, so
`active_users` is null and no seat is listed as inactive; `signals.unavailable` says so.

Figures: the counts and rates of `COUNTS` and `RATES` (rates are shares, null when the denominator
is 0) as `activity`; the credits (used of total, remaining with the next reset, overage) as
`capacity`. A short summary shows the credits and the rates as fields, requests and deliveries on
its activity line.

A 403 (a scope the key lacks), or a scope we know is missing, makes that signal unavailable
(its activity counts null) and the rest carries on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from core.periods import Period
from core.reports import SHARE, Account, Figure, Seats, Signals, Unavailable, UsageReport
from providers.collect import run_all
from providers.http import Auth, MissingScopes, ProviderHTTP
from providers.pagination import offset_pages
from providers.usage import Clock, rate

PROVIDER = "sendgrid"
# count -> label, in the order reports list them
COUNTS: Mapping[str, str] = {
    "requests": "Emails requested",
    "delivered": "Delivered",
    "bounces": "Bounces",
    "spam_reports": "Spam reports",
    "opens": "Opens",
    "unique_opens": "Unique opens",
    "clicks": "Clicks",
    "unique_clicks": "Unique clicks",
}
SENDGRID_COUNTS: tuple[str, ...] = tuple(COUNTS)
# rate -> (label, numerator, denominator)
RATES: Mapping[str, tuple[str, str, str]] = {
    "delivered_rate": ("Delivered", "delivered", "requests"),
    "bounce_rate": ("Bounces", "bounces", "requests"),
    "open_rate": ("Opens", "unique_opens", "delivered"),
    "click_rate": ("Clicks", "unique_clicks", "delivered"),
    "spam_rate": ("Spam reports", "spam_reports", "delivered"),
}
SENDGRID_RATES: Mapping[str, tuple[str, str]] = {name: (n, d) for name, (_, n, d) in RATES.items()}
SUMMARY = ("requests", "delivered")  # the digest's activity line
TEAMMATES_PAGE = 500
USER_TYPES = ("owner", "admin", "teammate")
SCOPES = {
    "account": "user.account.read",
    "credits": "user.credits.read",
    "stats": "stats.read",
    "teammates": "teammates.read",
}
NO_USER_ACTIVITY = Unavailable(
    "user_activity", "SendGrid does not report activity per teammate, so active seats are unknown."
)


def sum_stats(rows: Any) -> dict[str, int]:
    """Sum every metric of `/v3/stats` rows (each row's `stats` may hold several entries)."""
    totals = dict.fromkeys(SENDGRID_COUNTS, 0)
    for row in rows or []:
        for entry in row.get("stats") or []:
            for name, value in (entry.get("metrics") or {}).items():
                if name in totals and isinstance(value, int | float):
                    totals[name] += int(value)
    return totals


def sendgrid_rates(totals: Mapping[str, int]) -> dict[str, float | None]:
    return {name: rate(totals.get(n, 0), totals.get(d, 0)) for name, (n, d) in SENDGRID_RATES.items()}


def activity_figures(values: Mapping[str, int | float | None]) -> tuple[Figure, ...]:
    counts = tuple(Figure(key, label, values.get(key)) for key, label in COUNTS.items())
    return counts + tuple(Figure(key, label, values.get(key), SHARE) for key, (label, _, _) in RATES.items())


def credit_figures(body: Mapping[str, Any]) -> tuple[Figure, ...]:
    """The plan's email credits: used of total, remaining (with the next reset), overage."""
    used, total = int(body.get("used") or 0), int(body.get("total") or 0)
    remain = body.get("remain")
    remaining = int(remain) if remain is not None else max(total - used, 0)
    resets = f"resets {_day(body.get('next_reset')) or '—'}"
    if frequency := body.get("reset_frequency"):
        resets += f", {frequency}"
    return (
        Figure("credits_used", "Credits used", used, of=total),
        Figure("credits_remaining", "Remaining", remaining, note=resets),
        Figure("credits_overage", "Overage", int(body.get("overage") or 0)),
    )


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


class _Collection:
    def __init__(self, http: ProviderHTTP, auth: Auth, base_url: str, account_id: str, scopes) -> None:
        self.http, self.auth, self.base, self.key = http, auth, base_url.rstrip("/"), account_id
        self.scopes = None if scopes is None else set(scopes)
        self.unavailable: list[Unavailable] = []
        self.used: list[str] = []

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self.http.get_json(
            f"{self.base}{path}", auth=self.auth, account_key=self.key, params=params
        )

    async def read(self, signal: str, reader) -> Any:
        """`reader()`'s result, or None with `signal` marked unavailable when the key may not read it."""
        scope = SCOPES[signal]
        if self.scopes is not None and scope not in self.scopes:
            self.unavailable.append(Unavailable(signal, _reason(signal, scope)))
            return None
        try:
            result = await reader()
        except MissingScopes:
            self.unavailable.append(Unavailable(signal, _reason(signal, scope)))
            return None
        self.used.append(signal)
        return result

    async def teammates(self) -> dict[str, int]:
        counts = dict.fromkeys(USER_TYPES, 0)

        async def fetch(offset: int, limit: int) -> list[Any]:
            body = await self.get("/v3/teammates", {"limit": limit, "offset": offset}) or {}
            return list(body.get("result") or [])

        async for page in offset_pages(fetch, TEAMMATES_PAGE, provider=PROVIDER):
            for mate in page:
                kind = str(mate.get("user_type") or "teammate")
                counts[kind] = counts.get(kind, 0) + 1
        return counts


def _reason(signal: str, scope: str) -> str:
    return f"The SendGrid API key may not read {signal} (it lacks the {scope} scope)."


async def collect_sendgrid(
    http: ProviderHTTP,
    auth: Auth,
    *,
    base_url: str,
    team_id: str,
    account_id: str,
    account_name: str,
    period: Period,
    scopes: Collection[str] | None,
    clock: Clock,
) -> UsageReport:
    """Read one SendGrid account over `period` (see the module docstring).

    `scopes`: the key's scopes (from ``GET /v3/scopes``), or None to try every read.
    """
    run = _Collection(http, auth, base_url, account_id, scopes)
    stats_params = {
        "start_date": period.start.isoformat(),
        "end_date": period.end.isoformat(),
        "aggregated_by": "day",
    }
    account, credits, stats, teammates = await run_all(
        run.read("account", lambda: run.get("/v3/user/account")),
        run.read("credits", lambda: run.get("/v3/user/credits")),
        run.read("stats", lambda: run.get("/v3/stats", stats_params)),
        run.read("teammates", run.teammates),
    )

    activity: dict[str, int | float | None] = dict.fromkeys((*SENDGRID_COUNTS, *SENDGRID_RATES), None)
    if stats is not None:
        totals = sum_stats(stats)
        activity.update(totals)
        activity.update(sendgrid_rates(totals))

    plan = (account or {}).get("type")
    users = sum(teammates.values()) if teammates is not None else 0
    seats = Seats(
        total_users=users,
        paid_seats=0 if plan == "free" else users,
        active_users=None,
        active_paid_users=None,
        seat_types={k: v for k, v in (teammates or {}).items() if v},
        noun="teammates",
    )
    details = {}
    if account is not None:
        details = {"account_type": plan, "reputation": account.get("reputation")}
    order = list(SCOPES)
    figures = activity_figures(activity)
    capacity = credit_figures(credits) if credits is not None else ()
    return UsageReport(
        team_id=team_id,
        provider=PROVIDER,
        account=Account(id=account_id, name=account_name),
        period=period,
        seats=seats,
        activity=figures,
        capacity=capacity,
        highlights=(*capacity[:2], *(f for f in figures if f.key in RATES)),
        summary=tuple(f for f in figures if f.key in SUMMARY),
        signals=Signals(
            used=tuple(sorted(run.used, key=order.index)),
            unavailable=(*sorted(run.unavailable, key=lambda u: order.index(u.signal)), NO_USER_ACTIVITY),
        ),
        collected_at=clock(),
        details=details,
    )
