"""SendGrid's seat action: remove an idle teammate, and who is never removed.

SendGrid bills by email volume, not by teammate: removing one tidies access and saves no seat cost
(the entry's `SeatAction(saves_cost=False)`). Its report lists no idle teammates (SendGrid keeps no
per-teammate activity), so the bot only reaches this hook with a seat it was given by other means.

``DELETE /v3/teammates/{username}`` (scope ``teammates.delete``; "only the parent user or an admin
teammate can delete another teammate"): 204 No Content; 404 for a username the account does not
have; 403 when the key lacks the scope; errors as ``{"errors": [{"field", "message"}]}``.
https://www.twilio.com/docs/sendgrid/api-reference/teammates/delete-teammate

No undo: SendGrid can only invite the person again, and they must accept it (`undo_days=0`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from core.reports import InactiveSeat
from core.seats import SeatOutcome, SeatResult
from providers.http import Auth, ProviderError, Unauthorized
from providers.plugin import Connection
from providers.seat_outcome import outcome_of

if TYPE_CHECKING:
    from providers.sendgrid.client import SendGridClient


def person(seat: InactiveSeat) -> str:
    return seat.name or seat.email or f"SendGrid teammate {seat.user_id}"


def protected(connection: Connection, seat: InactiveSeat) -> str | None:
    """The account owner (the username the key's account has) and admin teammates: never removed."""
    who = person(seat)
    owner = (connection.details or {}).get("username")
    if owner and seat.user_id == owner:
        return f"{who} owns the SendGrid account: Quolum never removes them."
    if seat.admin:
        return f"{who} is a SendGrid admin teammate: Quolum never removes them."
    return None


def result_of(error: ProviderError, who: str) -> SeatResult:
    """What a failed DELETE means for the admin (pure; table-tested)."""
    answer = str(error.status) if error.status is not None else "no answer"
    outcome = outcome_of(error)
    if outcome is SeatOutcome.MISSING_SCOPE:
        sentence = (
            f"The SendGrid API key may not remove {who}: give Quolum a key with Teammates full access "
            "to turn on removing."
        )
    elif outcome is SeatOutcome.GONE:
        sentence = f"{who} is no longer a SendGrid teammate: nothing changed."
    elif isinstance(error, Unauthorized):
        sentence = f"SendGrid rejected the API key, so Quolum could not remove {who}: reconnect SendGrid."
    elif outcome is SeatOutcome.FAILED:
        sentence = (
            f"SendGrid did not answer when Quolum tried to remove {who}: nothing changed, try again later."
        )
    else:
        sentence = f"SendGrid refused to remove {who}."
    return SeatResult(outcome, sentence, answer)


async def reclaim(
    client: SendGridClient, connection: Connection, auth: Auth, seat: InactiveSeat
) -> SeatResult:
    who = person(seat)
    if why := protected(connection, seat):
        return SeatResult(SeatOutcome.REFUSED, why, "not sent")
    url = f"{client.base_url(connection.credentials)}/v3/teammates/{quote(seat.user_id, safe='')}"
    try:
        response = await client.http.request("DELETE", url, auth=auth, account_key=connection.account_key)
    except ProviderError as error:
        return result_of(error, who)
    sentence = (
        f"Removed {who} from SendGrid (access only: SendGrid bills by volume, so no seat cost is saved)."
    )
    return SeatResult(SeatOutcome.DONE, sentence, str(response.status_code))
