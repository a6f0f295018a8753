"""What the GitHub stand-in answers: the bodies, the paging and the errors, as GitHub's REST
description (github/rest-api-description, version 2022-11-28) gives them. No state of its own:
github.py calls these with the organisation and the request.

- Errors: ``{"message", "documentation_url", "status"}`` (status as a string, as GitHub writes it).
- Paging: `per_page` (default 30, at most 100: a larger value is served as 100), `page` (from 1),
  and a `Link` header with ``rel="next"``, ``"last"``, ``"first"``, ``"prev"`` where they apply;
  no `Link` header when everything fits on one page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from starlette.datastructures import URL

from .github_seed import Org, Seat, cycle_start

DOCS = "https://docs.github.com/rest"
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100


def error(message: str, status: int, docs: str = DOCS) -> dict[str, str]:
    return {"message": message, "documentation_url": docs, "status": str(status)}


def stamp(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def page_of(
    items: Sequence[Any], params: Mapping[str, str], url: URL
) -> tuple[Sequence[Any], dict[str, str]]:
    """One page of `items` and its `Link` header (empty when one page holds everything)."""
    per_page = _int(params.get("per_page"), DEFAULT_PER_PAGE)
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    page = max(_int(params.get("page"), 1), 1)
    last = max((len(items) + per_page - 1) // per_page, 1)
    chunk = items[(page - 1) * per_page : page * per_page]
    if last == 1 and page == 1:
        return chunk, {}
    links = []

    def link(number: int, rel: str) -> None:
        links.append(f'<{url.include_query_params(per_page=per_page, page=number)}>; rel="{rel}"')

    if page < last:
        link(page + 1, "next")
        link(last, "last")
    if page > 1:
        link(1, "first")
        link(min(page - 1, last), "prev")
    return chunk, {"Link": ", ".join(links)}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def org_body(org: Org, *, plan: bool) -> dict[str, Any]:
    """`organization-full`; `plan` only for an owner whose token may read it."""
    body: dict[str, Any] = {
        "login": org.login,
        "id": org.id,
        "node_id": f"O_kgDO{org.id}",
        "url": f"https://api.github.com/orgs/{org.login}",
        "repos_url": f"https://api.github.com/orgs/{org.login}/repos",
        "members_url": f"https://api.github.com/orgs/{org.login}/members{{/member}}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{org.id}?v=4",
        "description": None,
        "name": org.name,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "is_verified": False,
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": 12,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "html_url": f"https://github.com/{org.login}",
        "created_at": stamp(org.created_at),
        "updated_at": stamp(org.created_at),
        "archived_at": None,
        "type": "Organization",
    }
    if plan:
        body["plan"] = {
            "name": org.plan_name,
            "space": 976562499,
            "private_repos": 999999,
            "filled_seats": org.filled_seats,
            "seats": org.plan_seats,
        }
    return body


def seat_body(org: Org, seat: Seat) -> dict[str, Any]:
    """`copilot-seat-details`."""
    member = org.member(seat.login)
    assert member is not None, seat.login
    team = None
    if seat.assigning_team:
        team = {
            "id": 77,
            "name": seat.assigning_team.title(),
            "slug": seat.assigning_team,
            "url": f"https://api.github.com/orgs/{org.login}/teams/{seat.assigning_team}",
        }
    pending = seat.pending_cancellation_date
    return {
        "created_at": stamp(seat.created_at),
        "updated_at": stamp(seat.created_at),
        "pending_cancellation_date": pending.isoformat() if pending else None,
        "last_activity_at": stamp(seat.last_activity_at),
        "last_activity_editor": seat.last_activity_editor,
        "last_authenticated_at": stamp(seat.last_activity_at),
        "plan_type": org.plan_type,
        "assignee": member.simple(),
        "assigning_team": team,
    }


def billing_body(org: Org, today: date) -> dict[str, Any]:
    """`copilot-organization-details`: the seat breakdown of the current cycle."""
    start = cycle_start(today)
    active = sum(1 for s in org.seats if s.last_activity_at and s.last_activity_at.date() >= start)
    return {
        "seat_breakdown": {
            "total": len(org.seats),
            "added_this_cycle": sum(1 for s in org.seats if s.created_at.date() >= start),
            "pending_cancellation": sum(1 for s in org.seats if s.pending_cancellation_date),
            "pending_invitation": 0,
            "active_this_cycle": active,
            "inactive_this_cycle": len(org.seats) - active,
        },
        "seat_management_setting": org.seat_management_setting,
        "ide_chat": "enabled",
        "platform_chat": "enabled",
        "cli": "enabled",
        "public_code_suggestions": "block",
        "plan_type": org.plan_type,
    }


def user_body(org: Org, login: str) -> dict[str, Any] | None:
    """`public-user`: the email is the public one, null for most people."""
    member = org.member(login)
    if member is None:
        return None
    return {**member.simple(), "name": member.name, "email": member.public_email, "company": None}
