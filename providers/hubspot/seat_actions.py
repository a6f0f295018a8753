"""HubSpot's seat actions: unassign an idle person's paid seats without deleting the user, give them
back within the undo window, and say who is never touched.

HubSpot's user provisioning API, date version 2026-09: the first whose user update
(`PublicUserUpdate`) carries `seatNames`, "the seat names associated with the user" (v3 and 2026-03
take only the role and teams). Published spec: https://github.com/HubSpot/HubSpot-public-api-spec-collection,
PublicApiSpecs/Settings/User Provisioning/Rollouts/325901/2026-09/userProvisioning.json

- ``GET /settings/users/2026-09/{userId}`` (``settings.users.read``): the user, with `seatNames`,
  `roleId` and `superAdmin`; 404 for a user the account does not have.
- ``PUT /settings/users/2026-09/{userId}`` (``settings.users.write``) with ``{"seatNames": []}``:
  the user keeps their login, teams and records and holds no paid seat; 200 with the user as it is
  now. Undo sends the seat names (and the role, when HubSpot changed it) back the same way.
  ``DELETE`` on that path would remove the user: Quolum never calls it.

Errors arrive in HubSpot's shape (`category`, `subCategory`): 403 ``MISSING_SCOPES`` when the
connection may not write, 404 for an unknown user, 400 ``VALIDATION_ERROR`` when HubSpot refuses.
`result_of(error, ...)` reads them into a `SeatResult` (pure).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from core.reports import InactiveSeat
from core.seats import SeatOutcome, SeatResult
from providers.http import Auth, ProviderError, Unauthorized
from providers.plugin import Connection
from providers.seat_outcome import outcome_of

if TYPE_CHECKING:
    from providers.hubspot.client import HubSpotClient

USERS_VERSION = "2026-09"
USER_PATH = "/settings/users/{version}/{user_id}"
Action = Literal["reclaim", "undo"]


def person(seat: InactiveSeat) -> str:
    """How the sentences name the seat's holder."""
    return seat.name or seat.email or f"HubSpot user {seat.user_id}"


def protected(connection: Connection, seat: InactiveSeat) -> str | None:
    """A super admin, or the person whose consent connected the portal: never reclaimed."""
    who = person(seat)
    if seat.admin:
        return f"{who} is a HubSpot super admin: Quolum never takes their seat."
    details = connection.details or {}
    installer_id = details.get("installer_user_id")
    installer = details.get("installer")
    same_email = bool(installer and seat.email and str(installer).lower() == seat.email.lower())
    if (installer_id is not None and str(installer_id) == seat.user_id) or same_email:
        return f"{who} connected HubSpot to Quolum: Quolum never takes their seat."
    return None


def answer_of(status: int | None, category: str | None = None, sub_category: str | None = None) -> str:
    """The provider's answer for the audit: "200", "403 MISSING_SCOPES", "400 VALIDATION_ERROR/…"."""
    code = "/".join(part for part in (category, sub_category) if part)
    text = str(status) if status is not None else "no answer"
    return f"{text} {code}" if code else text


def result_of(error: ProviderError, who: str, action: Action) -> SeatResult:
    """What a failed call means for the admin (pure; table-tested)."""
    answer = answer_of(error.status, error.category, error.sub_category)
    doing = "unassign the paid seat of" if action == "reclaim" else "give back the seat of"
    outcome = outcome_of(error)
    if outcome is SeatOutcome.MISSING_SCOPE:
        sentence = f"HubSpot does not let Quolum {doing} {who} yet: turn on reclaiming to grant it."
    elif outcome is SeatOutcome.GONE:
        sentence = f"{who} is no longer a user in HubSpot: nothing changed."
    elif isinstance(error, Unauthorized):
        sentence = f"HubSpot rejected Quolum's access, so it could not {doing} {who}: reconnect HubSpot."
    elif outcome is SeatOutcome.FAILED:
        sentence = (
            f"HubSpot did not answer when Quolum tried to {doing} {who}: nothing changed, try again later."
        )
    else:
        reason = f" ({error.category})" if error.category else ""
        sentence = f"HubSpot refused to {doing} {who}{reason}."
    return SeatResult(outcome, sentence, answer)


def _url(client: HubSpotClient, seat: InactiveSeat) -> str:
    user_id = quote(seat.user_id, safe="")  # the provider's text: never a path of its own
    return client.spec.api_base_url + USER_PATH.format(version=USERS_VERSION, user_id=user_id)


async def _user(client: HubSpotClient, connection: Connection, auth: Auth, seat: InactiveSeat) -> dict:
    body = await client.http.get_json(_url(client, seat), auth=auth, account_key=connection.account_key)
    return body if isinstance(body, dict) else {}


async def _put(
    client: HubSpotClient, connection: Connection, auth: Auth, seat: InactiveSeat, body: Mapping[str, Any]
) -> dict:
    """PUT is idempotent (it sets the seats, it does not toggle them): a retried 429/5xx is safe."""
    response = await client.http.request(
        "PUT", _url(client, seat), auth=auth, account_key=connection.account_key, json=dict(body)
    )
    answer = response.json() if response.content else {}
    return answer if isinstance(answer, dict) else {}


async def reclaim(
    client: HubSpotClient, connection: Connection, auth: Auth, seat: InactiveSeat
) -> SeatResult:
    who = person(seat)
    if why := protected(connection, seat):
        return SeatResult(SeatOutcome.REFUSED, why, "not sent")
    try:
        user = await _user(client, connection, auth, seat)
        if user.get("superAdmin") is True:  # HubSpot's word now, not the last report's
            return SeatResult(
                SeatOutcome.REFUSED,
                f"{who} is a HubSpot super admin: Quolum never takes their seat.",
                "not sent",
            )
        seats = [str(name) for name in user.get("seatNames") or ()]
        if not seats:
            return SeatResult(
                SeatOutcome.GONE, f"{who} holds no paid seat in HubSpot any more: nothing changed.", "200"
            )
        after = await _put(client, connection, auth, seat, {"seatNames": []})
    except ProviderError as error:
        return result_of(error, who, "reclaim")
    undo = {"seat_names": json.dumps(seats)}
    if user.get("roleId") and after.get("roleId") != user.get("roleId"):
        undo["role_id"] = str(user["roleId"])  # HubSpot took the seat's role with it: give it back too
    names = ", ".join(seats)
    return SeatResult(SeatOutcome.DONE, f"Unassigned {who}'s {names} seat in HubSpot.", "200", undo=undo)


async def undo(
    client: HubSpotClient, connection: Connection, auth: Auth, seat: InactiveSeat, saved: Mapping[str, str]
) -> SeatResult:
    who = person(seat)
    try:
        seats = json.loads(saved.get("seat_names") or "[]")
    except ValueError:
        seats = None
    if not isinstance(seats, list) or not seats or not all(isinstance(s, str) for s in seats):
        return SeatResult(
            SeatOutcome.REFUSED, f"Quolum does not know which seat {who} held in HubSpot.", "not sent"
        )
    body: dict[str, Any] = {"seatNames": seats}
    if saved.get("role_id"):
        body["roleId"] = saved["role_id"]
    try:
        await _put(client, connection, auth, seat, body)
    except ProviderError as error:
        return result_of(error, who, "undo")
    return SeatResult(SeatOutcome.DONE, f"Gave {who} their {', '.join(seats)} seat back in HubSpot.", "200")
