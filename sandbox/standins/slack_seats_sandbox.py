"""The Slack workspace's own seats in the sandbox: the demo's one Slack stand-in (never a second one),
its workspace seeded with members, guests, billing and access logs; Ada (a Slack admin) connects with
the bot token the workspace already gave, then approves *Connect Slack billing* on the stand-in's
consent page."""

from __future__ import annotations

from datetime import datetime, timedelta

from sandbox.standins.sandboxed import Sandboxed
from sandbox.standins.slack import SlackStandIn
from sandbox.standins.slack_seats_seed import seed_workspace


def _team(standin: SlackStandIn) -> str:
    """The demo's workspace: the one the sandbox installed Quolum in (the stand-in holds no other)."""
    return next(iter(standin.workspaces))


def seed(standin: SlackStandIn, now: datetime) -> None:
    team = _team(standin)
    people = [u for u in standin.users.values() if u["team_id"] == team]  # the demo's people, seeded before
    seed_workspace(standin, team, now=now, n_users=24, seed=25)
    seats = standin.seats_of(team)
    for person in people:  # they hold paid seats and used Slack today
        seats.billing[person["id"]] = True
        standin.log_access(team, person["id"], now - timedelta(hours=2))
    standin.sort_logs(team)
    admin = next(u["id"] for u in people if u.get("is_admin"))  # Ada, a Slack admin
    standin.consenting = (team, admin)  # she approves Connect Slack billing


def paid_seats(standin: SlackStandIn, start: datetime) -> int:
    """Members Slack bills (`billing_active`), counted without HTTP."""
    return standin.seats_truth(_team(standin), start).billable


SANDBOX = Sandboxed(
    key="slack_seats",
    make=None,
    seed=seed,
    settings=lambda standin: {"SLACK_SCIM_URL": standin.url},
    credentials=lambda standin: {},  # nothing to paste: the bot token is the workspace's own
    paid_seats=paid_seats,
    labels={},
    on_slack=True,
)
