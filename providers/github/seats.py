"""Giving an idle Copilot seat back (issue 23's `reclaim` and `protected` hooks).

``DELETE /orgs/{org}/copilot/billing/selected_users`` with ``{"selected_usernames": [login]}`` sets
the seat "pending cancellation": the person keeps Copilot, and the organisation pays for it, until
the start of the next billing cycle. GitHub answers ``{"seats_cancelled": n}``; when n is 1 the
seat's `pending_cancellation_date` (``GET /orgs/{org}/members/{login}/copilot``) is when it really
goes. n = 0: the seat was already pending cancellation, or the person had none.

Never offered: organisation owners, and the owner of the token that connects GitHub (stored at
verify time in the connection's details).
"""

from __future__ import annotations

from datetime import date

from core.reports import InactiveSeat
from core.seats import SeatOutcome, SeatResult
from providers.github import api
from providers.github.entry import COPILOT_WRITE, HEADERS
from providers.http import Auth, MissingScopes, ProviderError, ProviderHTTP, TransientError, Unauthorized
from providers.plugin import Connection

OWNER = "is an owner of the GitHub organisation"
TOKEN_OWNER = "owns the token that connects GitHub to Quolum"

DONE = "Cancelled {login}'s Copilot seat: it stays until {day}, when the billing cycle ends."
DONE_UNDATED = "Cancelled {login}'s Copilot seat: it stays until the billing cycle ends."
ALREADY = "{login}'s Copilot seat was already cancelled: it goes on {day}."
NO_SEAT = "{login} has no Copilot seat any more: nothing changed."
NO_PERMISSION = f"The GitHub token may not cancel Copilot seats: it needs {COPILOT_WRITE}."
THROUGH_TEAM = (
    "GitHub refused: {login}'s Copilot seat comes through a team, so remove them from that team instead."
)
REFUSED = "GitHub refused to cancel {login}'s Copilot seat ({status}): nothing changed."
REJECTED = "GitHub no longer accepts the token, so {login}'s seat was not cancelled: reconnect GitHub."
FAILED = "GitHub could not be reached to cancel {login}'s Copilot seat: it can be tried again."


def protected(connection: Connection, seat: InactiveSeat) -> str | None:
    if seat.admin:
        return OWNER
    token_owner = str(connection.details.get("token_owner") or "")
    if token_owner and token_owner.lower() == seat.user_id.lower():
        return TOKEN_OWNER
    return None


async def _seat(http: ProviderHTTP, org_url: str, login: str, auth: Auth, account: str) -> dict | None:
    """The seat's details now, or None when there is none (or it cannot be read)."""
    try:
        body = await api.get_json(http, f"{org_url}/members/{login}/copilot", auth=auth, account=account)
    except ProviderError:
        return None
    return body if isinstance(body, dict) else None


def _day(seat: dict | None) -> date | None:
    value = (seat or {}).get("pending_cancellation_date")
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


async def reclaim(
    http: ProviderHTTP, base_url: str, connection: Connection, auth: Auth, seat: InactiveSeat
) -> SeatResult:
    login, org = seat.user_id, connection.credentials.get("org") or connection.details.get("org")
    org_url, account = f"{base_url}/orgs/{org}", connection.account_key
    try:
        response = await http.request(
            "DELETE",
            f"{org_url}/copilot/billing/selected_users",
            auth=auth,
            account_key=account,
            json={"selected_usernames": [login]},
            headers=HEADERS,
        )
    except MissingScopes as error:
        return SeatResult(
            SeatOutcome.MISSING_SCOPE, NO_PERMISSION, answer=f"{error.status} {error.category or ''}".strip()
        )
    except Unauthorized:
        return SeatResult(SeatOutcome.FAILED, REJECTED.format(login=login), answer="401")
    except TransientError as error:
        return SeatResult(
            SeatOutcome.FAILED, FAILED.format(login=login), answer=str(error.status or "no answer")
        )
    except ProviderError as error:
        now = await _seat(http, org_url, login, auth, account)
        if error.status == 422 and now is not None and now.get("assigning_team"):
            return SeatResult(SeatOutcome.REFUSED, THROUGH_TEAM.format(login=login), answer="422")
        return SeatResult(
            SeatOutcome.REFUSED, REFUSED.format(login=login, status=error.status), answer=str(error.status)
        )
    cancelled = (api.body(response) or {}).get("seats_cancelled")
    now = await _seat(http, org_url, login, auth, account)
    day = _day(now)
    answer = f"{response.status_code} seats_cancelled={cancelled}"
    if isinstance(cancelled, int) and cancelled > 0:
        sentence = DONE.format(login=login, day=day.isoformat()) if day else DONE_UNDATED.format(login=login)
        return SeatResult(SeatOutcome.DONE, sentence, answer=answer, effective=day)
    if day is not None:
        return SeatResult(
            SeatOutcome.GONE, ALREADY.format(login=login, day=day.isoformat()), answer=answer, effective=day
        )
    return SeatResult(SeatOutcome.GONE, NO_SEAT.format(login=login), answer=answer)
