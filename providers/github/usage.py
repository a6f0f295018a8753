"""GitHub organisation seats and Copilot seats for one organisation and one period, as a `UsageReport`.

Reads, concurrently, through `ProviderHTTP` (a personal access token: a 401 is final):

- ``GET /orgs/{org}``: the plan's `seats` and `filled_seats` (only for an owner's token that may read
  the plan; otherwise unavailable, and said so);
- ``GET /orgs/{org}/members`` (*Members: read*; Link paging, 100 a page), and with ``role=admin`` the
  owners, who are never offered for reclaiming;
- ``GET /orgs/{org}/copilot/billing`` (*GitHub Copilot Business: read*): the seat breakdown;
- ``GET /orgs/{org}/copilot/billing/seats`` (the same; Link paging, 100 a page): every seat with
  `last_activity_at`, `last_activity_editor`, `created_at`, `pending_cancellation_date`;
- ``GET /users/{login}`` for each idle seat, asked as soon as its page of seats is in: the person's
  public email, which most people leave empty (the rest are matched to Slack members by hand).

A listing whose first page's `Link` names its last page has its other pages asked for at once
(api.py `pages`), within GitHub's limits (the limiter books them).

Seats: the paid seats are the Copilot seats still billed after this cycle (a seat pending
cancellation is already leaving: counted apart, never idle). A seat is active when its holder used
Copilot in the period or after it (`last_activity_at` ≥ the period's start), idle otherwise (never,
or only before the period). The editor last used is counted per editor (`details["editors"]`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

from core.periods import Period
from core.reports import Account, Figure, InactiveSeat, Seats, Signals, Unavailable, UsageReport
from providers.collect import run_all
from providers.github import api
from providers.github.entry import COPILOT, KEY, MEMBERS, PLAN
from providers.http import Auth, MissingScopes, ProviderError, ProviderHTTP, TransientError
from providers.usage import Clock, inactive_order

SEAT_TYPES = {"business": "Copilot Business", "enterprise": "Copilot Enterprise"}
ACTIVE_MEANS = "used Copilot (in an editor, the CLI or on github.com) in the period"
EMAILS = Unavailable(
    "emails",
    "GitHub shows a member's email only where they made it public: link the others to Slack members by hand.",
)
REASONS = {
    "members": f"The GitHub token may not list the organisation's members (it lacks {MEMBERS}).",
    "copilot": f"The GitHub token may not read Copilot seats (it lacks {COPILOT}, or its owner is not an organisation owner).",
    "plan": f"GitHub shows the plan's seats only to an organisation owner's token with {PLAN} (a classic token: admin:org).",
}
NO_COPILOT = (
    "GitHub shows no Copilot Business subscription for this organisation (not set up, or a billing problem)."
)
NEEDS = {"members": MEMBERS, "copilot": COPILOT}
ORDER = ("copilot", "members", "plan")


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def editor_name(editor: Any) -> str:
    """ "vscode/1.96.2/copilot/1.254.0" -> "vscode"."""
    return (editor.split("/")[0] if isinstance(editor, str) else "") or "unknown"


def judge(seats: list[Mapping[str, Any]], period: Period) -> dict[str, list[Mapping[str, Any]]]:
    """The seats as `pending` (cancellation pending), `active` (used in or after the period) and
    `idle` (never used, or only before the period)."""
    groups: dict[str, list[Mapping[str, Any]]] = {"pending": [], "active": [], "idle": []}
    for seat in seats:
        if seat.get("pending_cancellation_date"):
            groups["pending"].append(seat)
            continue
        last = parse_time(seat.get("last_activity_at"))
        groups["active" if last is not None and last >= period.start_utc else "idle"].append(seat)
    return groups


def login_of(seat: Mapping[str, Any]) -> str:
    return str((seat.get("assignee") or {}).get("login") or "")


class _Collection:
    def __init__(self, http: ProviderHTTP, auth: Auth, base_url: str, org: str, account: str, scopes) -> None:
        self.http, self.auth, self.account = http, auth, account
        self.org_url = f"{base_url.rstrip('/')}/orgs/{org}"
        self.base = base_url.rstrip("/")
        self.scopes = None if scopes is None else set(scopes)
        self.unavailable: dict[str, Unavailable] = {}
        self.used: list[str] = []

    async def read(self, signal: str, reader) -> Any:
        """`reader()`'s result, or None with `signal` unavailable when the token may not read it."""
        need = NEEDS.get(signal)
        if need and self.scopes is not None and need not in self.scopes:
            self.unavailable[signal] = Unavailable(signal, REASONS[signal])
            return None
        try:
            result = await reader()
        except MissingScopes:
            self.unavailable[signal] = Unavailable(signal, REASONS[signal])
            return None
        except ProviderError as error:
            # the organisation has no Copilot subscription GitHub will show (not set up, or its billing
            # is in trouble): GitHub documents 404 and 422 for the Copilot reads
            if signal != "copilot" or isinstance(error, TransientError) or error.status not in (404, 422):
                raise
            self.unavailable[signal] = Unavailable(signal, NO_COPILOT)
            return None
        self.used.append(signal)
        return result

    async def get(self, url: str, **params: Any) -> Any:
        return await api.get_json(self.http, url, auth=self.auth, account=self.account, params=params or None)

    async def listing(self, url: str, items=lambda page: list(page or []), **params: Any) -> list[Any]:
        found: list[Any] = []
        async for _, page in api.pages(
            self.http, url, auth=self.auth, account=self.account, params=params, items=items
        ):
            found += page
        return found

    async def members(self) -> tuple[int, set[str]]:
        everyone, owners = await run_all(
            self.listing(f"{self.org_url}/members"), self.listing(f"{self.org_url}/members", role="admin")
        )
        return len(everyone), {str(m.get("login") or "").lower() for m in owners}

    async def copilot(self, period: Period) -> tuple[dict, list[dict], dict[str, str | None]]:
        """The breakdown, every seat, and the idle seats' public emails (asked as soon as the seats
        are known, while the member pages may still be coming)."""
        seats_url = f"{self.org_url}/copilot/billing/seats"

        async def seats_and_emails() -> tuple[list[dict], dict[str, str | None]]:
            """Each page's idle seats' emails are asked for as soon as that page is in, while the
            next pages may still be coming."""
            seats: list[dict] = []
            lookups: dict[str, asyncio.Future[str | None]] = {}
            try:
                async for _, page in api.pages(
                    self.http,
                    seats_url,
                    auth=self.auth,
                    account=self.account,
                    items=lambda body: list((body or {}).get("seats") or []),
                ):
                    seats += page
                    for seat in judge(page, period)["idle"]:
                        login = login_of(seat)
                        lookups.setdefault(login, asyncio.ensure_future(self.email(login)))
                emails = await asyncio.gather(*lookups.values())
            except BaseException:
                for lookup in lookups.values():
                    lookup.cancel()
                await asyncio.gather(*lookups.values(), return_exceptions=True)
                raise
            return seats, dict(zip(lookups, emails, strict=True))

        billing, (seats, emails) = await run_all(
            self.get(f"{self.org_url}/copilot/billing"), seats_and_emails()
        )
        return billing or {}, seats, emails

    async def email(self, login: str) -> str | None:
        """The public email of `login`; None when they show none (or the account is gone: 404)."""
        try:
            user = await self.get(f"{self.base}/users/{login}") or {}
        except ProviderError as error:
            if error.status == 404 and not isinstance(error, TransientError):
                return None
            raise
        email = user.get("email")
        return email if isinstance(email, str) and email else None


async def collect_github(
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
    """Read one organisation (`account_name` is its login) over `period` (see the module docstring).

    `scopes`: the permissions the token was found to have at connect (the entry's scope names), or
    None to try every read."""
    run = _Collection(http, auth, base_url, account_name, account_id, scopes)
    org, members, copilot = await run_all(
        run.get(run.org_url),
        run.read("members", run.members),
        run.read("copilot", lambda: run.copilot(period)),
    )
    plan = (org or {}).get("plan") if isinstance(org, dict) else None
    if isinstance(plan, dict):
        run.used.append("plan")
    else:
        plan = None
        run.unavailable["plan"] = Unavailable("plan", REASONS["plan"])
    count, owners = members if members is not None else (None, set())
    billing, seats, emails = copilot if copilot is not None else ({}, [], {})
    groups = judge(seats, period)
    idle = groups["idle"]
    seat_type = SEAT_TYPES.get(str(billing.get("plan_type") or ""), "Copilot")
    inactive = sorted(
        (
            InactiveSeat(
                user_id=login_of(seat),
                email=email,
                last_active=parse_time(seat.get("last_activity_at")),
                seat_type=SEAT_TYPES.get(str(seat.get("plan_type") or ""), seat_type),
                admin=login_of(seat).lower() in owners,
            )
            for seat in idle
            for email in (emails.get(login_of(seat)),)
        ),
        key=inactive_order,
    )
    billed = len(groups["active"]) + len(idle)
    known = copilot is not None
    editors: dict[str, int] = {}
    for seat in groups["active"]:
        name = editor_name(seat.get("last_activity_editor"))
        editors[name] = editors.get(name, 0) + 1
    value = (lambda n: n) if known else (lambda n: None)
    activity = (
        Figure("copilot_seats", "Copilot seats", value(len(seats))),
        Figure("copilot_active", "Used Copilot", value(len(groups["active"]))),
        Figure("copilot_idle", "Idle Copilot seats", value(len(idle))),
        Figure(
            "copilot_never_used", "Never used", value(sum(1 for s in idle if not s.get("last_activity_at")))
        ),
        Figure(
            "copilot_pending_cancellation",
            "Pending cancellation",
            value(len(groups["pending"])),
            note=_leaving(groups["pending"]),
        ),
    )
    capacity: tuple[Figure, ...] = ()
    if plan is not None:
        capacity = (
            Figure(
                "plan_seats",
                "Organisation seats filled",
                int(plan.get("filled_seats") or 0),
                of=int(plan.get("seats") or 0),
            ),
        )
    members_figure = (Figure("members", "Members", count),)
    return UsageReport(
        team_id=team_id,
        provider=KEY,
        account=Account(id=account_id, name=account_name),
        period=period,
        seats=Seats(
            total_users=count if count is not None else len(seats),
            paid_seats=billed,
            active_users=len(groups["active"]) if known else None,
            active_paid_users=len(groups["active"]) if known else None,
            inactive_paid_users=tuple(inactive),
            seat_types={seat_type: billed} if billed else {},
            noun="members",
            active_means=ACTIVE_MEANS if known else "",
        ),
        activity=activity + members_figure,
        capacity=capacity,
        highlights=(*capacity, activity[0], activity[2]),
        summary=(activity[1], activity[2], activity[4]),
        signals=Signals(
            used=tuple(s for s in ORDER if s in run.used),
            unavailable=(*(run.unavailable[s] for s in ORDER if s in run.unavailable), EMAILS),
        ),
        collected_at=clock(),
        details={
            "plan_type": billing.get("plan_type"),
            "seat_breakdown": billing.get("seat_breakdown"),
            "seat_management_setting": billing.get("seat_management_setting"),
            "editors": dict(sorted(editors.items())),
            "pending_cancellation": [
                {"login": login_of(s), "date": s.get("pending_cancellation_date")} for s in groups["pending"]
            ],
        },
    )


def _leaving(pending: list[Mapping[str, Any]]) -> str | None:
    days = sorted({d for s in pending if (d := parse_day(s.get("pending_cancellation_date")))})
    return f"leaving {days[0].isoformat()}" if days else None
