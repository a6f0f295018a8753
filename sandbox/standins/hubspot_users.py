"""The HubSpot stand-in's user provisioning routes, date version 2026-09: read one user, change one
user's seats (what Quolum's reclaim and undo call).

As HubSpot's published spec describes them (HubSpot-public-api-spec-collection,
PublicApiSpecs/Settings/User Provisioning/Rollouts/325901/2026-09/userProvisioning.json):

    GET /settings/users/2026-09/{userId}   settings.users.read | crm.objects.users.read   PublicUser
    PUT /settings/users/2026-09/{userId}   settings.users.write | crm.objects.users.write PublicUser

`?idProperty=EMAIL` names the user by email. The PUT body is a `PublicUserUpdate`: `seatNames`
replaces the user's seats, `roleId` their role (other fields are accepted and ignored here). Errors in
HubSpot's shape: 404 OBJECT_NOT_FOUND for a user the portal does not have, 400 VALIDATION_ERROR for a
body that is not a `PublicUserUpdate` or a role or seat the portal does not have, 403 MISSING_SCOPES
without a write scope (hubspot_api.py).

Where the spec is silent, the stand-in chooses (and says so):
- A super admin cannot be changed through the API (400 VALIDATION_ERROR): what integrators report of
  HubSpot; Quolum never tries (super admins are protected), the refusal path is still exercised.
- A role with `requiresBillingWrite` "has a paid seat": once a user holds no seat, such a role goes
  too (the user keeps `roleIds` without it), so the next listing no longer counts them as paid.
  Giving the role back (`roleId`) is how undo restores it.
Every PUT the stand-in accepts is logged in `standin.seat_writes` ("exactly once" checks count them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.standins.hubspot_api import api_endpoint
from sandbox.standins.hubspot_crm import user_json
from sandbox.standins.hubspot_errors import ValidationError, api_error
from sandbox.standins.hubspot_model import PortalData, User
from sandbox.standins.hubspot_seed import SEAT_NAMES

if TYPE_CHECKING:
    from sandbox.standins.hubspot import HubSpotStandIn

VERSIONS = ("2026-09",)
UPDATE_FIELDS = frozenset(
    {"firstName", "lastName", "primaryTeamId", "roleId", "seatNames", "secondaryTeamIds"}
)
READ_SCOPES = ("settings.users.read", "crm.objects.users.read")
WRITE_SCOPES = ("settings.users.write", "crm.objects.users.write")


def _not_found(what: str) -> JSONResponse:
    return api_error(404, f"Could not find user with {what}", "OBJECT_NOT_FOUND")


def find_user(request: Request, portal: PortalData) -> User | Response:
    """The user the path names (by id, or by email with `idProperty=EMAIL`), else HubSpot's 404."""
    if request.path_params["version"] not in VERSIONS:
        return api_error(404, "Resource not found", "OBJECT_NOT_FOUND")
    key = request.path_params["user_id"]
    by_email = request.query_params.get("idProperty", "USER_ID").upper() == "EMAIL"
    for user in portal.users:
        if (user.email.lower() == key.lower()) if by_email else str(user.id) == key:
            return user
    return _not_found(f"{'email' if by_email else 'id'} {key}")


async def get_user(request: Request, portal: PortalData) -> dict | Response:
    user = find_user(request, portal)
    return user if isinstance(user, Response) else user_json(user)


def _update(request_body: bytes) -> dict:
    try:
        body = msgspec.json.decode(request_body) if request_body else None
    except msgspec.DecodeError:
        raise ValidationError("Invalid input JSON: the body is not JSON") from None
    if not isinstance(body, dict):
        raise ValidationError("Invalid input JSON: expected a PublicUserUpdate object")
    unknown = sorted(set(body) - UPDATE_FIELDS)
    if unknown:
        raise ValidationError(f"Invalid input JSON: unrecognized field(s) {', '.join(unknown)}")
    seats = body.get("seatNames")
    if seats is not None and not (isinstance(seats, list) and all(isinstance(s, str) for s in seats)):
        raise ValidationError("Invalid input JSON: seatNames must be an array of strings")
    if (role := body.get("roleId")) is not None and not isinstance(role, str):
        raise ValidationError("Invalid input JSON: roleId must be a string")
    return body


def _apply(portal: PortalData, user: User, body: dict) -> None:
    """Check the whole update, then make it (a refused update changes nothing)."""
    roles = {role.id: role for role in portal.roles}
    if "roleId" in body and body["roleId"] not in roles:
        raise ValidationError(f"Role {body['roleId']} does not exist in this account")
    unknown = [name for name in body.get("seatNames") or () if name not in SEAT_NAMES]
    if unknown:
        raise ValidationError(f"Seat {unknown[0]} is not available in this account")
    if "roleId" in body:
        user.role_id, user.role_ids = body["roleId"], [body["roleId"]]
    if "seatNames" in body:
        user.seat_names = list(dict.fromkeys(body["seatNames"]))
    if not user.seat_names:  # a role that "has a paid seat" cannot stay without one
        user.role_ids = [r for r in user.role_ids if not (r in roles and roles[r].requires_billing_write)]
        user.role_id = user.role_id if user.role_id in user.role_ids else None


async def put_user(request: Request, portal: PortalData) -> dict | Response:
    standin: HubSpotStandIn = request.app.state.standin
    user = find_user(request, portal)
    if isinstance(user, Response):
        return user
    body = _update(await request.body())
    if user.super_admin:
        return api_error(400, "Super admin users can't be modified through the API", "VALIDATION_ERROR")
    before = (list(user.seat_names), user.role_id)
    _apply(portal, user, body)
    standin.record_seat_write(
        {
            "portal_id": portal.portal_id,
            "user_id": str(user.id),
            "body": body,
            "seats_before": before[0],
            "seats_after": list(user.seat_names),
            "role_before": before[1],
            "role_after": user.role_id,
        }
    )
    return user_json(user)


def users_routes() -> list[Route]:
    def scopes(request: Request) -> tuple[str, ...]:
        return WRITE_SCOPES if request.method == "PUT" else READ_SCOPES

    endpoint = api_endpoint(_by_method, scopes)
    return [Route("/settings/users/{version}/{user_id}", endpoint, methods=["GET", "PUT"])]


async def _by_method(request: Request, portal: PortalData) -> dict | Response:
    return await (put_user if request.method == "PUT" else get_user)(request, portal)
