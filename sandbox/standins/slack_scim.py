"""The Slack stand-in's SCIM API (mixed into SlackStandIn), as Slack's SCIM reference describes it.

`DELETE /scim/v2/Users/{id}` with an admin's user token (`admin` scope) deactivates the member: 204,
on Business+ and Enterprise Grid only (`SLACK_SCIM_URL` is the stand-in's own URL). Each accepted
deactivation is logged in `scim_deletes`. `GET` answers the SCIM user resource.

Errors come in the body the reference's *Example error* gives for SCIM v2.0,
``{"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "detail": "<error>", "status": <HTTP
status>}``, with the error names of the reference's *Errors* table
(https://docs.slack.dev/reference/scim-api#errors; the table gives no statuses, these are the ones
Slack answers for each kind). Here:

- 401 `missing_authentication`: no token ("The authentication token is missing");
- 401 `invalid_authentication`: an unknown or a revoked token;
- 403 `permission_denied`: a token without the `admin` scope;
- 403 `plus_teams_only`: a plan without SCIM ("only available for Business+ and Enterprise plans");
- 404 `no_such_user`: a member unknown here, or already deactivated ("The user provided does not
  exist");
- 403 `cannot_disable_primary_owner`: the primary owner is never deactivated.

On Enterprise Grid the SCIM API administers the whole org: an org admin's token reaches the members of
every workspace of the org.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

SCIM_PLANS = frozenset({"business_plus", "enterprise"})
SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_ERRORS = {  # the reference's error name -> status
    "missing_authentication": 401,
    "invalid_authentication": 401,
    "permission_denied": 403,
    "plus_teams_only": 403,
    "no_such_user": 404,
    "cannot_disable_primary_owner": 403,
}


class ScimMixin:
    """SCIM on SlackStandIn's `users`, `user_grants` and seat workspaces, under its lock."""

    async def scim_user(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        with self._lock:
            grant = self.user_grants.get(token)
            revoked = token in self.revoked
        if not token:
            return scim_error("missing_authentication")
        if grant is None or revoked:
            return scim_error("invalid_authentication")
        if "admin" not in grant.scopes:
            return scim_error("permission_denied")
        seats = self.seats_of(grant.team_id)
        if seats.plan not in SCIM_PLANS:
            return scim_error("plus_teams_only")
        user_id = request.path_params["user_id"]
        with self._lock:
            user = self.users.get(user_id)
            if user is None or not _reaches(user, grant.team_id) or user.get("deleted"):
                return scim_error("no_such_user")
            if request.method == "GET":
                return JSONResponse(_scim_resource(user))
            if user.get("is_primary_owner"):
                return scim_error("cannot_disable_primary_owner")
            user["deleted"] = True
            self.scim_deletes.append(user_id)
        self.seats_of(user["team_id"]).billing[user_id] = False  # its own lock: after ours
        return Response(status_code=204)


def scim_error(error: str) -> Response:
    """Slack's SCIM v2.0 error body for one of `SCIM_ERRORS`."""
    status = SCIM_ERRORS[error]
    body = {"schemas": [SCIM_ERROR_SCHEMA], "detail": error, "status": status}
    return JSONResponse(body, status_code=status)


def _reaches(user: dict, team_id: str) -> bool:
    """The token's workspace holds the member; an org's token (Enterprise Grid) reaches the whole org."""
    grid = user.get("enterprise_user") or {}
    return (
        user["team_id"] == team_id or team_id in grid.get("teams", ()) or grid.get("enterprise_id") == team_id
    )


def _scim_resource(user: dict) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": user["id"],
        "userName": user.get("name"),
        "active": not user.get("deleted"),
        "emails": [{"value": (user.get("profile") or {}).get("email"), "primary": True}],
    }
