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

A 403 (a scope the key lacks), or a scope we know is missing, makes that signal unavailable
(its activity counts null) and the rest carries on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from providers.collect import run_all
from providers.http import Auth, MissingScopes, ProviderHTTP
from providers.pagination import offset_pages
from providers.usage import (
    SENDGRID_COUNTS,
    SENDGRID_RATES,
    Account,
    Capacity,
    Clock,
    Credits,
    Period,
    Seats,
    Signals,
    Unavailable,
    UsageReport,
    sendgrid_rates,
)

PROVIDER = "sendgrid"
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


def credits_from(body: Mapping[str, Any]) -> Credits:
    used, total = int(body.get("used") or 0), int(body.get("total") or 0)
    remain = body.get("remain")
    return Credits(
        used=used,
        total=total,
        remaining=int(remain) if remain is not None else max(total - used, 0),
        overage=int(body.get("overage") or 0),
        last_reset=_day(body.get("last_reset")),
        next_reset=_day(body.get("next_reset")),
        reset_frequency=body.get("reset_frequency"),
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
    )
    details = {}
    if account is not None:
        details = {"account_type": plan, "reputation": account.get("reputation")}
    order = list(SCOPES)
    return UsageReport(
        team_id=team_id,
        provider=PROVIDER,
        account=Account(id=account_id, name=account_name),
        period=period,
        seats=seats,
        activity=activity,
        signals=Signals(
            used=tuple(sorted(run.used, key=order.index)),
            unavailable=(*sorted(run.unavailable, key=lambda u: order.index(u.signal)), NO_USER_ACTIVITY),
        ),
        collected_at=clock(),
        capacity=Capacity(
            credits=credits_from(credits) if credits is not None else None,
            teammates_by_type=teammates,
        ),
        details=details,
    )
