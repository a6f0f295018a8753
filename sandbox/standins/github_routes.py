"""The GitHub stand-in's endpoints: what each needs (classic scopes, fine-grained permissions, an
owner) and what it answers. github.py has checked the token, the limits and the organisation's
visibility before a handler runs, under the stand-in's lock."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.datastructures import URL

from .github_api import billing_body, error, org_body, page_of, seat_body, user_body
from .github_seed import Org, next_cycle

if TYPE_CHECKING:
    from .github import GitHubStandIn, Token

COPILOT_READ = ("manage_billing:copilot", "read:org")
COPILOT_READ_FINE = ("organization_copilot_seat_management=read", "organization_administration=read")
COPILOT_WRITE = ("manage_billing:copilot", "admin:org")
COPILOT_WRITE_FINE = ("organization_copilot_seat_management=write",)
MEMBERS_READ = ("read:org",)
MEMBERS_READ_FINE = ("members=read",)
TEAM_SEAT = (
    "The seat of {login} cannot be cancelled because it was assigned to them via a team: remove them "
    "from the team instead."
)


@dataclass
class Context:
    standin: GitHubStandIn
    token: Token
    org: Org | None
    args: Mapping[str, str]
    params: Mapping[str, str]
    url: URL
    body: bytes


@dataclass
class Answer:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


# An organisation without Copilot: GitHub documents 404 (and 422 for billing problems) without saying
# the wording; the stand-in answers its plain 404.
NO_COPILOT = Answer(error("Not Found", 404), 404)


def get_user(ctx: Context) -> Answer:
    found = ctx.standin.user(ctx.token.login)
    if found is None:
        return Answer({"login": ctx.token.login, "id": 1, "type": "User", "email": None})
    org, member = found
    return Answer(user_body(org, member.login))


def get_a_user(ctx: Context) -> Answer:
    found = ctx.standin.user(ctx.args["username"])
    if found is None:
        return Answer(error("Not Found", 404), 404)
    org, member = found
    return Answer(user_body(org, member.login))


def get_org(ctx: Context) -> Answer:
    org, token = ctx.org, ctx.token
    assert org is not None
    owner = (member := org.member(token.login)) is not None and member.role == "admin"
    readable = "admin:org" in token.scopes if token.classic else "organization_plan" in token.permissions
    return Answer(org_body(org, plan=owner and readable))


def list_members(ctx: Context) -> Answer:
    assert ctx.org is not None
    role = ctx.params.get("role", "all")
    if role not in ("all", "admin", "member"):
        return Answer(error("Validation Failed", 422), 422)
    members = [m for m in ctx.org.members if role == "all" or m.role == role]
    members.sort(key=lambda m: m.id)
    chunk, link = page_of(members, ctx.params, ctx.url)
    return Answer([m.simple() for m in chunk], headers=link)


def copilot_billing(ctx: Context) -> Answer:
    assert ctx.org is not None
    if not ctx.org.copilot:
        return NO_COPILOT
    return Answer(billing_body(ctx.org, ctx.standin.today()))


def copilot_seats(ctx: Context) -> Answer:
    org = ctx.org
    assert org is not None
    if not org.copilot:
        return NO_COPILOT
    chunk, link = page_of(org.seats, ctx.params, ctx.url)
    return Answer({"total_seats": len(org.seats), "seats": [seat_body(org, s) for s in chunk]}, headers=link)


def member_seat(ctx: Context) -> Answer:
    """`GET /orgs/{org}/members/{username}/copilot`: the member's seat, 404 when they have none."""
    org = ctx.org
    assert org is not None
    seat = org.seat(ctx.args["username"]) if org.member(ctx.args["username"]) else None
    if seat is None:
        return Answer(error("Not Found", 404), 404)
    return Answer(seat_body(org, seat))


def cancel_seats(ctx: Context) -> Answer:
    """Every named seat goes pending cancellation at the start of the next cycle; the answer counts
    the seats this request changed (a seat already pending, or no seat at all, counts 0)."""
    org = ctx.org
    assert org is not None
    try:
        payload = json.loads(ctx.body or b"null")
    except ValueError:
        return Answer(error("Problems parsing JSON", 400), 400)
    names = payload.get("selected_usernames") if isinstance(payload, dict) else None
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        return Answer(error("Invalid request.\n\nselected_usernames is missing or empty.", 422), 422)
    if org.seat_management_setting != "assign_selected":
        return Answer(error("Seat management is set to enable Copilot for all members.", 422), 422)
    seats = [org.seat(name) for name in names]
    if any(org.member(name) is None for name in names):
        return Answer(
            error("Invalid request.\n\nOne or more users are not members of this organization.", 422), 422
        )
    for name, seat in zip(names, seats, strict=True):
        if seat is not None and seat.assigning_team:
            return Answer(error(TEAM_SEAT.format(login=name), 422), 422)
    on = next_cycle(ctx.standin.today())
    cancelled = 0
    for seat in seats:
        if seat is not None and seat.pending_cancellation_date is None:
            org.cancel(seat.login, on)
            ctx.standin.cancelled.append((org.login, seat.login))
            cancelled += 1
    return Answer({"seats_cancelled": cancelled})


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[[Context], Answer]
    classic: tuple[str, ...] = ()  # any one of these classic scopes
    fine: tuple[str, ...] = ()  # any one of these fine-grained permissions (name=level)
    owners_only: bool = False


_ORG = r"/orgs/(?P<org>[A-Za-z0-9-]+)"
ROUTES = (
    Route("GET", re.compile(r"/user"), get_user),
    Route("GET", re.compile(r"/users/(?P<username>[A-Za-z0-9-]+)"), get_a_user),
    Route("GET", re.compile(_ORG), get_org),
    Route("GET", re.compile(_ORG + "/members"), list_members, MEMBERS_READ, MEMBERS_READ_FINE),
    Route(
        "GET", re.compile(_ORG + "/copilot/billing"), copilot_billing, COPILOT_READ, COPILOT_READ_FINE, True
    ),
    Route(
        "GET",
        re.compile(_ORG + "/copilot/billing/seats"),
        copilot_seats,
        COPILOT_READ,
        COPILOT_READ_FINE,
        True,
    ),
    Route(
        "GET",
        re.compile(_ORG + "/members/(?P<username>[A-Za-z0-9-]+)/copilot"),
        member_seat,
        COPILOT_READ,
        COPILOT_READ_FINE,
        True,
    ),
    Route(
        "DELETE",
        re.compile(_ORG + "/copilot/billing/selected_users"),
        cancel_seats,
        COPILOT_WRITE,
        COPILOT_WRITE_FINE,
        True,
    ),
)
