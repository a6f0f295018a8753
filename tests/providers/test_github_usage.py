"""collect_github against the GitHub stand-in over real HTTP, every figure checked against the seed's
truth (sandbox/standins/github_seed.py `copilot_truth`, counted without HTTP)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from providers.github.entry import COPILOT, MEMBERS
from providers.github.usage import NO_COPILOT, judge
from sandbox.standins.github_seed import Seat, copilot_truth, generate_org
from tests.providers import github_world
from tests.providers.github_world import (
    CLASSIC_ALL,
    FINE_ALL,
    FINE_READ,
    NOW,
    ORG,
    PERIOD,
    World,
    world_of,
)

served, recording = github_world.served, github_world.recording  # the fixtures


def expected(world: World) -> dict:
    truth = copilot_truth(world.org, PERIOD.start_utc, PERIOD.end_utc)
    return {
        "copilot_seats": truth.seats,
        "copilot_active": len(truth.active),
        "copilot_idle": len(truth.idle),
        "copilot_never_used": len(truth.never_used),
        "copilot_pending_cancellation": len(truth.pending),
        "members": truth.members,
        "idle": sorted(truth.idle),
        "owners_idle": sorted(set(truth.idle) & set(truth.owners)),
        "editors": truth.editors,
    }


def observed(report) -> dict:
    values = report.values()
    idle = report.seats.inactive_paid_users
    return {
        **{
            key: values[key]
            for key in (
                "copilot_seats",
                "copilot_active",
                "copilot_idle",
                "copilot_never_used",
                "copilot_pending_cancellation",
                "members",
            )
        },
        "idle": sorted(seat.user_id for seat in idle),
        "owners_idle": sorted(seat.user_id for seat in idle if seat.admin),
        "editors": report.details["editors"],
    }


async def test_every_figure_equals_the_seeded_truth(served, recording):
    world = world_of(served, recording)
    token = world.standin.add_fine_grained_token(world.owner, ORG, FINE_ALL)
    report = await world.collect(token)

    assert observed(report) == expected(world)
    truth = copilot_truth(world.org, PERIOD.start_utc, PERIOD.end_utc)
    seats = report.seats
    assert seats.paid_seats == len(truth.active) + len(truth.idle)  # pending cancellation: leaving
    assert seats.active_paid_users == len(truth.active) and seats.idle == len(truth.idle)
    assert seats.total_users == len(world.org.members)
    assert seats.seat_types == {"Copilot Business": seats.paid_seats}
    plan = {f.key: f for f in report.capacity}["plan_seats"]
    assert (plan.value, plan.of) == (world.org.filled_seats, world.org.plan_seats)
    assert report.signals.used == ("copilot", "members", "plan")
    # emails: the public ones only, from GET /users/{login}
    public = {m.login: m.public_email for m in world.org.members}
    assert {s.user_id: s.email for s in seats.inactive_paid_users} == {
        login: public[login] for login in truth.idle
    }
    assert any(s.email is None for s in seats.inactive_paid_users)
    # never used first, then least recently active
    lasts = [s.last_active for s in seats.inactive_paid_users]
    never = [x for x in lasts if x is None]
    assert lasts[: len(never)] == never and lasts[len(never) :] == sorted(x for x in lasts if x)
    assert report.details["pending_cancellation"] and all(
        p["date"] for p in report.details["pending_cancellation"]
    )
    # read from the test's clock, not the machine's (which faketime moves by 400 days); a retry on a
    # loaded machine may have moved the test's clock on by a wait, so not exactly NOW
    assert NOW <= report.collected_at < NOW + timedelta(minutes=5)


async def test_a_token_that_may_read_less_says_what_is_missing(served, recording):
    world = world_of(served, recording)
    token = world.standin.add_fine_grained_token(
        world.owner, ORG, {"organization_copilot_seat_management": "read"}
    )
    report = await world.collect(token)  # scopes unknown: every read is tried, a 403 makes it unavailable

    unavailable = {u.signal for u in report.signals.unavailable}
    assert unavailable == {"members", "plan", "emails"}
    assert report.values()["members"] is None
    assert report.values()["copilot_idle"] == len(
        copilot_truth(world.org, PERIOD.start_utc, PERIOD.end_utc).idle
    )
    assert not any(s.admin for s in report.seats.inactive_paid_users)  # owners unknown without Members

    world.sent.clear()
    known = await world.collect(token, scopes=[COPILOT])  # known missing: not even asked
    assert known.values() == report.values()
    assert world.sent and not any(r.url.path.endswith("/members") for r in world.sent)

    no_copilot = world.standin.add_fine_grained_token(world.owner, ORG, {"members": "read"})
    report = await world.collect(no_copilot, scopes=[MEMBERS, COPILOT])
    assert report.values()["copilot_seats"] is None and report.seats.active_users is None
    assert "copilot" in {u.signal for u in report.signals.unavailable}


async def test_a_member_who_is_not_an_owner_cannot_read_copilot(served, recording):
    world = world_of(served, recording)
    token = world.standin.add_classic_token(world.member, CLASSIC_ALL)
    report = await world.collect(token)
    assert report.values()["copilot_seats"] is None
    assert report.values()["members"] == len(world.org.members)


@pytest.mark.parametrize("n_seats,seat_pages", [(0, 1), (100, 1), (101, 2), (250, 3)])
async def test_paging_edges(served, recording, n_seats, seat_pages):
    org = generate_org(11, login=ORG, now=NOW, n_members=max(n_seats, 100) + 1, n_seats=n_seats)
    world = world_of(served, recording, org)
    token = world.standin.add_fine_grained_token(world.owner, ORG, FINE_READ)
    report = await world.collect(token)

    assert observed(report) == expected(world)
    seat_calls = [r for r in world.sent if r.url.path.endswith("/copilot/billing/seats")]
    assert len(seat_calls) == seat_pages
    assert all(r.url.params["per_page"] == "100" for r in seat_calls)
    member_calls = [r for r in world.sent if r.url.path.endswith("/members") and "role" not in str(r.url)]
    assert len(member_calls) == -(-len(org.members) // 100)
    assert all(r.headers["user-agent"] and r.headers["x-github-api-version"] for r in world.sent)


def _seat(login, last, pending=None):
    return Seat(login, NOW - timedelta(days=400), last, "vscode/1.0", pending)


@pytest.mark.parametrize(
    "last,pending,group",
    [
        (None, None, "idle"),  # never used
        (PERIOD.start_utc - timedelta(seconds=1), None, "idle"),  # only before the period
        (PERIOD.start_utc, None, "active"),  # the period's first instant
        (PERIOD.end_utc + timedelta(hours=1), None, "active"),  # used after it: not idle
        (None, NOW.date(), "pending"),  # leaving: never idle
        (PERIOD.start_utc - timedelta(days=90), NOW.date(), "pending"),
    ],
)
def test_judge(last, pending, group):
    stamp = last.strftime("%Y-%m-%dT%H:%M:%SZ") if last else None
    seat = {
        "assignee": {"login": "x"},
        "last_activity_at": stamp,
        "pending_cancellation_date": pending and pending.isoformat(),
    }
    groups = judge([seat], PERIOD)
    assert [name for name, seats in groups.items() if seats] == [group]


async def test_boundaries_through_the_stand_in(served, recording):
    org = generate_org(3, login=ORG, now=NOW, n_members=10, n_seats=0)
    logins = [m.login for m in org.members[4:9]]
    org.seats = [
        _seat(logins[0], None),
        _seat(logins[1], PERIOD.start_utc - timedelta(seconds=1)),
        _seat(logins[2], PERIOD.start_utc),
        _seat(logins[3], NOW - timedelta(hours=1)),
        replace(_seat(logins[4], None), pending_cancellation_date=NOW.date() + timedelta(days=5)),
    ]
    world = world_of(served, recording, org)
    token = world.standin.add_classic_token(world.owner, CLASSIC_ALL)
    report = await world.collect(token)
    assert sorted(s.user_id for s in report.seats.inactive_paid_users) == sorted(logins[:2])
    assert report.values()["copilot_pending_cancellation"] == 1
    assert report.values()["copilot_never_used"] == 1
    assert observed(report) == expected(world)


async def test_an_organisation_without_copilot_is_collected_without_it(served, recording):
    org = generate_org(4, login=ORG, now=NOW, n_members=120, n_seats=0)
    org.copilot = False
    world = world_of(served, recording, org)
    token = world.standin.add_fine_grained_token(world.owner, ORG, FINE_ALL)
    report = await world.collect(token)
    assert report.values()["copilot_seats"] is None and report.values()["members"] == 120
    assert report.seats.paid_seats == 0 and report.seats.active_users is None
    reasons = {u.signal: u.reason for u in report.signals.unavailable}
    assert reasons["copilot"] == NO_COPILOT
    verified = await world.hooks().verify_form({"org": ORG, "token": token})
    assert verified.missing == ()  # not a permission the token lacks
