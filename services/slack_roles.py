"""Who is a Slack admin of the workspace a request is for: decided here, once, from `users.info`.

`users.info` answers for anyone the bot can see, and an admin's flags (`is_admin`, `is_owner`,
`is_primary_owner`) are about *their own* workspace: a member of another workspace in a shared channel
(Slack Connect) is an admin there, not here. So the user's own team must be the request's; for an
org-wide (Enterprise Grid) install, where one installation serves every workspace of the org, the user's
enterprise must be the request's. Anyone else is a guest of this workspace for the bot.

Grid users carry `enterprise_user` (`enterprise_id`, `is_admin`, `is_owner`, `teams`: the workspaces they
belong to); `team_id` is their home workspace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ROLE_FLAGS = ("is_admin", "is_owner", "is_primary_owner")


@dataclass(frozen=True)
class Workspace:
    """Where a request comes from, as Slack signed it."""

    team_id: str
    enterprise_id: str | None = None
    org_wide: bool = False  # the app is installed on the whole Enterprise Grid org


def belongs(user: Mapping, where: Workspace) -> bool:
    """The user is a member of the request's workspace (or, for an org-wide install, of its org)."""
    grid = _grid(user)
    same_org = bool(where.enterprise_id) and grid.get("enterprise_id") == where.enterprise_id
    if where.org_wide:
        return same_org
    if user.get("team_id") == where.team_id:
        return True
    teams = grid.get("teams")
    return same_org and isinstance(teams, list) and where.team_id in teams  # a Grid member of this one too


def is_admin(user: Mapping, where: Workspace) -> bool:
    """A Slack admin or owner of the request's workspace (an org admin or owner counts in its org)."""
    if user.get("deleted") or user.get("is_bot") or not belongs(user, where):
        return False
    grid = _grid(user)
    if grid.get("is_admin") is True or grid.get("is_owner") is True:
        return True
    # the workspace flags are about the user's home workspace: they count there (or org-wide) only
    at_home = where.org_wide or user.get("team_id") == where.team_id
    return at_home and any(user.get(flag) is True for flag in ROLE_FLAGS)


def _grid(user: Mapping) -> Mapping:
    grid = user.get("enterprise_user")
    return grid if isinstance(grid, Mapping) else {}
