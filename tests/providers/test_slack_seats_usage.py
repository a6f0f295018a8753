"""Slack seats' collection against the stand-in: the figures equal the seed's truth (counted without
HTTP), with the bot token only and with an admin's grant, and at the paging edges (1,000 per page,
the access logs' 100-page cap), on a free plan, on Enterprise Grid, and through a Tier 2 refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from providers.slack_seats.usage import NEEDS_ADMIN, PAID_ONLY_NOTE
from tests.providers import slack_seats_rig
from tests.providers.slack_seats_rig import NOW, TEAM, make_slack

ADMIN_SCOPES = ("admin", "users:read")

served, http = slack_seats_rig.served, slack_seats_rig.http  # the rig's fixtures


@pytest.fixture
def slack(served):
    return make_slack(*served, n_users=120)


def figures(report) -> dict:
    return {figure.key: figure.value for figure in report.activity}


async def test_the_bot_token_alone_shows_members_and_guests_and_says_what_needs_an_admin(slack, http):
    report = await slack.collect(slack.hooks(http), slack.ws.bot_token, ("users:read",))
    truth = slack.standin.seats_truth(TEAM, slack.period().start_utc)
    values = figures(report)
    assert values["members"] == truth.members
    assert values["multi_channel_guests"] == truth.multi_guests
    assert values["single_channel_guests"] == truth.single_guests
    assert values["deactivated"] == truth.deactivated
    # never 0 for what it cannot read: billing and activity are unknown, and said so
    assert values["billable_members"] is None and values["no_access_in_period"] is None
    assert values["deactivated_still_billed"] is None
    assert report.seats.active_paid_users is None and report.seats.inactive_paid_users == ()
    assert report.seats.paid_seats == truth.members + truth.multi_guests  # the seats Slack bills when active
    assert {u.reason for u in report.signals.unavailable} == {NEEDS_ADMIN}
    assert not slack.standin.calls_to("team.billableInfo") and not slack.standin.calls_to("team.accessLogs")


async def test_with_an_admins_grant_billing_and_idle_seats_equal_the_seeded_truth(slack, http):
    token = slack.admin_token()
    report = await slack.collect(slack.hooks(http), token, ADMIN_SCOPES)
    truth = slack.standin.seats_truth(TEAM, slack.period().start_utc)
    values = figures(report)
    assert values["billable_members"] == report.seats.paid_seats == truth.billable
    assert {seat.user_id for seat in report.seats.inactive_paid_users} == truth.idle
    assert values["no_access_in_period"] == len(truth.idle)
    assert values["deactivated_still_billed"] == truth.still_billed == 0
    assert report.seats.active_paid_users == truth.billable - len(truth.idle)
    assert report.signals.unavailable == ()
    assert sum(report.seats.seat_types.values()) == truth.billable
    admins = {s.user_id for s in report.seats.inactive_paid_users if s.admin}
    assert admins <= {"U000100000", "U000100001"}


async def test_a_deactivated_member_still_billed_is_counted(served, http):
    slack = make_slack(*served, n_users=120, still_billed=1)
    report = await slack.collect(slack.hooks(http), slack.admin_token(), ADMIN_SCOPES)
    assert figures(report)["deactivated_still_billed"] == 1
    # still billed but deactivated: not a seat anyone can be asked about
    deleted = {u["id"] for u in slack.standin.users.values() if u.get("deleted")}
    assert not deleted & {s.user_id for s in report.seats.inactive_paid_users}


async def test_members_page_at_1000_and_every_call_names_the_workspace(served, http):
    slack = make_slack(*served, n_users=1998)  # + a bot and Slackbot: exactly two full pages
    report = await slack.collect(slack.hooks(http), slack.admin_token(), ADMIN_SCOPES)
    truth = slack.standin.seats_truth(TEAM, slack.period().start_utc)
    listing = slack.standin.calls_to("users.list")
    assert [c.args["limit"] for c in listing] == ["1000", "1000"]
    assert figures(report)["billable_members"] == truth.billable
    assert len(slack.standin.calls_to("team.billableInfo")) == 2
    for call in slack.standin.calls:  # Enterprise Grid: team_id on every call
        assert call.args.get("team_id") == TEAM


async def test_access_logs_past_the_100_page_cap_go_on_before_the_oldest_entry(served, http):
    slack = make_slack(*served, n_users=40)
    seats = slack.standin.seats_of(TEAM)
    late = "U000100039"
    seats.billing[late] = True
    start = slack.period().start_utc
    # 100,500 entries inside the period, newest first; the late member's only access is the oldest
    base = int((NOW - timedelta(hours=1)).timestamp())
    seats.logins = [
        {"user_id": "U000100002", "date_first": base - i, "date_last": base - i, "count": 1}
        for i in range(100_500)
    ]
    seats.logins.append(
        {"user_id": late, "date_first": int(start.timestamp()) + 5, "date_last": int(start.timestamp()) + 5}
    )
    slack.standin.sort_logs(TEAM)
    report = await slack.collect(slack.hooks(http), slack.admin_token(), ADMIN_SCOPES)
    logs = slack.standin.calls_to("team.accessLogs")
    assert all(c.args["count"] == "1000" and int(c.args["page"]) <= 100 for c in logs)
    assert "before" not in logs[99].args and "before" in logs[100].args
    assert late not in {s.user_id for s in report.seats.inactive_paid_users}  # seen on page 101's side
    assert report.signals.unavailable == ()


async def test_the_stand_in_refuses_more_than_1000_a_page_or_100_pages(slack, http):
    token = slack.admin_token()
    for params in ({"count": 1001}, {"page": 101}):
        answer = await http.get(
            f"{slack.url}/api/team.accessLogs", params=params, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.json() == {"ok": False, "error": "over_pagination_limit"}


async def test_a_free_plan_has_no_access_logs_so_nobody_is_called_idle(served, http):
    slack = make_slack(*served, n_users=60, plan="free")
    report = await slack.collect(slack.hooks(http), slack.admin_token(), ADMIN_SCOPES)
    assert report.seats.inactive_paid_users == () and report.seats.active_paid_users is None
    assert figures(report)["billable_members"] is not None
    assert [u.reason for u in report.signals.unavailable] == [PAID_ONLY_NOTE]


async def test_a_tier_2_refusal_is_waited_out_for_its_retry_after(slack, http):
    waits = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    slack.standin.rate_limit_next("team.billableInfo", retry_after=7)
    report = await slack.collect(slack.hooks(http, sleep=sleep), slack.admin_token(), ADMIN_SCOPES)
    assert waits == [7.0]
    assert (
        figures(report)["billable_members"]
        == slack.standin.seats_truth(TEAM, slack.period().start_utc).billable
    )


async def test_the_stand_ins_tier_2_limit_answers_429_with_retry_after(slack, http):
    slack.standin.tier2_per_minute = 2
    token = slack.admin_token()
    answers = [
        await http.get(f"{slack.url}/api/team.billableInfo", headers={"Authorization": f"Bearer {token}"})
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["error"] == "ratelimited" and int(answers[2].headers["Retry-After"]) >= 1
