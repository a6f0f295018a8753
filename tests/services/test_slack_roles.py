"""The one Slack-admin predicate: the user's own team (or org, for an org-wide install) must be the
request's, then a role counts."""

from __future__ import annotations

import pytest

from services.slack_roles import Workspace, belongs, is_admin

T1 = Workspace("T1")
GRID_T1 = Workspace("T1", "E1")  # a workspace-level install in an Enterprise Grid org
ORG = Workspace("T1", "E1", org_wide=True)


def user(team: str = "T1", *, grid: dict | None = None, **flags) -> dict:
    return {"id": "U1", "team_id": team, **flags, **({"enterprise_user": grid} if grid else {})}


def grid(enterprise: str = "E1", teams=("T1",), **roles) -> dict:
    return {"id": "W1", "enterprise_id": enterprise, "teams": list(teams), **roles}


@pytest.mark.parametrize(
    "who,where,admin",
    [
        (user(is_admin=True), T1, True),
        (user(is_owner=True), T1, True),
        (user(is_primary_owner=True), T1, True),
        (user(), T1, False),
        (user("T2", is_admin=True), T1, False),  # an admin next door
        (user("T2", is_owner=True, is_primary_owner=True), T1, False),  # a Slack Connect guest's owner
        (user(is_admin=True, deleted=True), T1, False),
        (user(is_admin=True, is_bot=True), T1, False),
        (user(is_admin="yes"), T1, False),  # only a JSON true is a role
        # Enterprise Grid, workspace-level install
        (user(is_admin=True, grid=grid()), GRID_T1, True),
        (user("T2", is_admin=True, grid=grid(teams=("T2", "T1"))), GRID_T1, False),  # admin of T2 only
        (user("T2", grid=grid(teams=("T2", "T1"), is_admin=True)), GRID_T1, True),  # an org admin, in T1
        (user("T2", grid=grid(teams=("T2",), is_owner=True)), GRID_T1, False),  # an org owner, not in T1
        (user("T2", grid=grid("E2", teams=("T2", "T1"), is_admin=True)), GRID_T1, False),  # another org
        # org-wide install: the org is what must match
        (user("T2", is_admin=True, grid=grid(teams=("T2",))), ORG, True),
        (user("T2", grid=grid(teams=("T2",), is_admin=True)), ORG, True),
        (user("T2", grid=grid(teams=("T2",))), ORG, False),
        (user("T9", is_admin=True, grid=grid("E2", teams=("T9",), is_admin=True)), ORG, False),
        (user("T1", is_admin=True), ORG, False),  # not in the org at all (Slack Connect from outside)
        (user("T1", is_admin=True, grid="E1"), ORG, False),  # enterprise_user of the wrong shape
    ],
)
def test_is_admin(who, where, admin):
    assert is_admin(who, where) is admin


def test_a_member_from_a_sister_workspace_belongs_but_a_stranger_does_not():
    assert belongs(user("T2", grid=grid(teams=("T2", "T1"))), GRID_T1)
    assert not belongs(user("T2", grid=grid(teams=("T2",))), GRID_T1)
    assert not belongs(user("T2"), T1)
