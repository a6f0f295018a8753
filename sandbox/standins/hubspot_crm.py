"""API routes of the HubSpot stand-in: account details, users, roles, teams, owners, login history and
uninstall; CRM search is in hubspot_search.py. Every route goes through `api_endpoint` (hubspot_api.py:
faults, authentication, rate limits, scopes)."""

from __future__ import annotations

import random

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.standins.hubspot_api import api_endpoint
from sandbox.standins.hubspot_model import LoginAttempt, Owner, PortalData, User
from sandbox.standins.hubspot_paging import cursor_page, iso, listing
from sandbox.standins.hubspot_search import search, search_scopes

LOGIN_HISTORY_MS = 90 * 86_400_000


async def account_details(request: Request, portal: PortalData) -> dict:
    return {
        "portalId": portal.portal_id,
        "accountType": portal.account_type,
        "timeZone": portal.time_zone,
        "companyCurrency": portal.company_currency,
        "additionalCurrencies": list(portal.additional_currencies),
        "utcOffset": portal.utc_offset,
        "utcOffsetMilliseconds": portal.utc_offset_milliseconds,
        "uiDomain": portal.ui_domain,
        "dataHostingLocation": portal.data_hosting_location,
    }


def user_json(user: User) -> dict:
    body = {
        "id": str(user.id),
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "roleIds": list(user.role_ids),
        "superAdmin": user.super_admin,
    }
    if user.role_id:
        body["roleId"] = user.role_id
    if user.primary_team_id:
        body["primaryTeamId"] = user.primary_team_id
    if user.seat_names:
        body["seatNames"] = list(user.seat_names)
    return body


async def list_users(request: Request, portal: PortalData) -> dict:
    users = sorted(portal.users, key=lambda u: u.id)
    page, paging = cursor_page(users, request, 100, 100)
    return listing([user_json(u) for u in page], paging)


async def list_roles(request: Request, portal: PortalData) -> dict:
    roles = [
        {"id": r.id, "name": r.name, "requiresBillingWrite": r.requires_billing_write} for r in portal.roles
    ]
    return {"results": roles}


async def list_teams(request: Request, portal: PortalData) -> dict:
    """`GET /settings/v3/users/teams`: every team with its members (primary and secondary)."""
    return {
        "results": [
            {
                "id": team.id,
                "name": team.name,
                "userIds": [str(u.id) for u in portal.users if u.primary_team_id == team.id],
                "secondaryUserIds": [],
            }
            for team in portal.teams
        ]
    }


def owner_json(owner: Owner) -> dict:
    return {
        "id": str(owner.id),
        "email": owner.email,
        "type": "PERSON",
        "firstName": owner.first_name,
        "lastName": owner.last_name,
        "userId": owner.user_id,
        "userIdIncludingInactive": owner.user_id_including_inactive,
        "createdAt": iso(owner.created_at_ms),
        "updatedAt": iso(owner.updated_at_ms),
        "archived": owner.archived,
        "teams": [{"id": t.id, "name": t.name, "primary": i == 0} for i, t in enumerate(owner.teams)],
    }


async def list_owners(request: Request, portal: PortalData) -> dict:
    archived = request.query_params.get("archived", "false").lower() == "true"
    email = request.query_params.get("email")
    owners = [o for o in portal.owners if o.archived == archived and (not email or o.email == email)]
    page, paging = cursor_page(sorted(owners, key=lambda o: o.id), request, 100, 500)
    return listing([owner_json(o) for o in page], paging)


def login_json(attempt: LoginAttempt) -> dict:
    return {
        "id": str(attempt.id),
        "loginAt": iso(attempt.login_at_ms),
        "loginSucceeded": attempt.login_succeeded,
        "userId": attempt.user_id,
        "email": attempt.email,
        "ipAddress": attempt.ip_address,
        "location": attempt.location,
        "countryCode": attempt.country_code,
        "userAgent": attempt.user_agent,
    }


async def list_logins(request: Request, portal: PortalData) -> dict:
    now_ms = int(request.app.state.standin.clock() * 1000)
    user_id = request.query_params.get("userId")
    attempts = [
        a
        for a in portal.logins
        if now_ms - LOGIN_HISTORY_MS <= a.login_at_ms <= now_ms and (not user_id or str(a.user_id) == user_id)
    ]
    attempts.sort(key=lambda a: (a.login_at_ms, a.id), reverse=True)
    order = request.app.state.standin.login_order
    if order == "oldest":
        attempts.reverse()
    elif order == "shuffled":  # the same permutation for every page of one history
        random.Random(portal.portal_id).shuffle(attempts)
    page, paging = cursor_page(attempts, request, 100, 200)
    return listing([login_json(a) for a in page], paging)


async def uninstall(request: Request, portal: PortalData) -> Response:
    request.app.state.standin.tokens.uninstall(portal.portal_id)
    return Response(status_code=204)


def api_routes() -> list[Route]:
    users_scopes = ("settings.users.read", "crm.objects.users.read")
    search_endpoint = api_endpoint(search, search_scopes, search=True)
    return [
        Route("/account-info/v3/details", api_endpoint(account_details, ("oauth",))),
        Route("/settings/v3/users/", api_endpoint(list_users, users_scopes)),
        Route("/settings/v3/users", api_endpoint(list_users, users_scopes)),
        Route("/settings/v3/users/roles", api_endpoint(list_roles, users_scopes)),
        Route("/settings/v3/users/teams", api_endpoint(list_teams, ("settings.users.teams.read",))),
        Route("/crm/v3/owners/", api_endpoint(list_owners, ("crm.objects.owners.read",))),
        Route("/crm/v3/owners", api_endpoint(list_owners, ("crm.objects.owners.read",))),
        Route("/account-info/v3/activity/login", api_endpoint(list_logins, ("account-info.security.read",))),
        Route("/appinstalls/v3/external-install", api_endpoint(uninstall, ("oauth",)), methods=["DELETE"]),
        Route("/crm/v3/objects/{object_type}/search", search_endpoint, methods=["POST"]),
        Route("/crm/objects/{version}/{object_type}/search", search_endpoint, methods=["POST"]),
    ]
