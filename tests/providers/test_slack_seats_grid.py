"""Slack seats on Enterprise Grid (issue 25): an org-wide install's tokens reach every workspace of the
org the app was added to, and Slack asks them to name one (`team_id`, "required if org token is used"
in the references of users.list, team.billableInfo and team.accessLogs). Quolum passes the
connection's workspace on every call, reads only that workspace's members, billing and logins, and
says so in the report: a member of several workspaces is billed once by the org."""

from __future__ import annotations

import httpx
import pytest

from core.clock import FrozenClock
from providers.slack_seats.usage import GRID_NOTE
from sandbox.standins.slack import SlackStandIn
from sandbox.standins.slack_seats_seed import seed_workspace
from tests.providers import slack_seats_rig
from tests.providers.slack_seats_rig import NOW, Slack

served, http = slack_seats_rig.served, slack_seats_rig.http  # the rig's fixtures

ORG, ONE, TWO, OUTSIDE = "E0001", "T0001", "T0002", "T0003"
ORG_ADMIN = "U000100001"  # the seed's admin of the first workspace, an org admin too
SEAT_METHODS = ("users.list", "team.billableInfo", "team.accessLogs")


@pytest.fixture
def grid(served):
    """An org of two workspaces (and a third the app was not added to), each seeded; the app installed
    org-wide; an org admin's user token with `admin`."""
    switch, url = served
    standin = SlackStandIn()
    standin.url = url
    one = standin.add_workspace(ONE, "Acme", enterprise_id=ORG)
    for team, seed in ((ONE, 3), (TWO, 4), (OUTSIDE, 5)):
        if team != ONE:
            standin.add_workspace(team, f"Acme {team}", enterprise_id=ORG)
        seed_workspace(standin, team, now=NOW, n_users=40, seed=seed)
    org_bot = standin.add_org_install(ORG, "Acme Org", teams=(ONE, TWO))
    admin = standin.grant_user_token(ORG, ORG_ADMIN)
    switch.app = standin.app
    return Slack(standin, one, FrozenClock(NOW), url), org_bot, admin


async def test_an_org_wide_install_reads_one_workspace_and_every_call_names_it(grid, http):
    slack, _, admin = grid
    report = await slack.collect(slack.hooks(http), admin, ("admin", "users:read"))
    calls = [c for c in slack.standin.calls if c.method in SEAT_METHODS]
    assert {c.method for c in calls} == set(SEAT_METHODS)
    assert {c.args.get("team_id") for c in calls} == {ONE}  # every call, every page
    truth = slack.standin.seats_truth(ONE, slack.period().start_utc)
    figures = {f.key: f for f in report.activity}
    assert figures["members"].value == truth.members and report.seats.paid_seats == truth.billable
    assert {s.user_id for s in report.seats.inactive_paid_users} == truth.idle  # nobody of T0002
    assert figures["members"].note == GRID_NOTE and GRID_NOTE in figures["members"].text()


async def test_a_grid_workspaces_own_bot_token_names_it_too_and_says_so(grid, http):
    slack, _, _ = grid
    report = await slack.collect(slack.hooks(http), slack.ws.bot_token, ("users:read",))
    assert {c.args.get("team_id") for c in slack.standin.calls_to("users.list")} == {ONE}
    assert {f.key: f for f in report.activity}["members"].note == GRID_NOTE


@pytest.mark.parametrize(
    "method,team,error",
    [
        ("users.list", None, "missing_argument"),
        ("team.billableInfo", None, "missing_argument"),
        ("team.accessLogs", None, "missing_argument"),
        ("users.list", OUTSIDE, "team_access_not_granted"),
        ("team.accessLogs", OUTSIDE, "team_access_not_granted"),
    ],
)
def test_the_stand_in_refuses_an_org_token_that_names_no_granted_workspace(grid, method, team, error):
    slack, org_bot, admin = grid
    token = org_bot if method == "users.list" else admin
    params = {"limit": 1} | ({"team_id": team} if team else {})
    answer = httpx.get(
        f"{slack.url}/api/{method}", params=params, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.json() == {"ok": False, "error": error}


@pytest.mark.parametrize(
    "kind,method", [("bot", "users.list")] + [("admin", method) for method in SEAT_METHODS]
)
def test_a_workspace_token_naming_another_workspace_reads_its_own(grid, kind, method):
    """A workspace's own token (not org-wide) reaches that workspace only, even naming another of the
    same org: Slack ignores `team_id` from a workspace-level token ("only relevant when using an
    org-level token"), so the answer is the token's workspace, never the other's members."""
    slack, _, _ = grid
    token = slack.ws.bot_token if kind == "bot" else slack.standin.grant_user_token(ONE, "U000100001")

    def read(team: str) -> dict:
        params = {"limit": 1000, "count": 1000, "team_id": team}
        answer = httpx.get(
            f"{slack.url}/api/{method}", params=params, headers={"Authorization": f"Bearer {token}"}
        )
        body = answer.json()
        assert body["ok"] is True, body
        return {k: v for k, v in body.items() if k in ("members", "billable_info", "logins")}

    own = read(ONE)
    assert own and all(own.values())
    for team in (TWO, OUTSIDE, "T0NOWHERE"):
        assert read(team) == own


async def test_a_workspace_outside_grid_has_no_grid_note(served, http):
    slack = slack_seats_rig.make_slack(*served, n_users=20)
    report = await slack.collect(slack.hooks(http), slack.admin_token(), ("admin", "users:read"))
    assert {f.key: f for f in report.activity}["members"].note is None
