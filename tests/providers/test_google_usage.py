"""Google Workspace collection against the stand-in: every figure equals the seed's truth (counted without
HTTP), paging edges, the Reports lag, scopes missing, and the pure judgement of each licence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import msgspec
import pytest

from core.periods import Period
from providers.errors import MissingScopes
from providers.google import api
from providers.google.entry import DIRECTORY, LICENSING, REPORTS
from providers.google.usage import NO_REPORTS, NOT_READY, covers, judge
from providers.http import Bearer
from sandbox.standins.google_seed import truth
from sandbox.standins.server import AppSwitch, serve_in_thread
from tests.providers.google_rig import ALL, BEARER, REQUIRED, make_google


@pytest.fixture(scope="module")
def served():
    switch = AppSwitch()
    with serve_in_thread(switch) as srv:
        yield switch, srv.url


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


async def collect(google, http, *, scopes=None, days=30):
    hooks = google.hooks(http)
    verified = await hooks.verify_form(google.values())
    period = Period.last_days(days, timezone="UTC", today=google.clock().date())
    report = await hooks.collect(
        hooks.http,
        Bearer(verified.credentials[BEARER]),
        base_url=hooks.base_url(verified.credentials),
        team_id="T1",
        account_id=verified.account_id,
        account_name=verified.account_name,
        period=period,
        scopes=scopes,
        clock=google.clock,
    )
    return report, period


@pytest.mark.parametrize("n_users", [120, 500, 501])
async def test_every_figure_equals_the_seeded_truth(served, http, n_users):
    google = make_google(*served, n_users=n_users)
    report, period = await collect(google, http)
    expected = truth(google.domain, period.start_utc)
    seats = report.seats
    assert seats.total_users == expected.users and seats.paid_seats == expected.licences
    assert seats.active_paid_users == expected.active and seats.seat_types == expected.by_sku
    assert sorted(s.user_id for s in seats.inactive_paid_users) == list(expected.idle)
    assert sorted(s.user_id for s in seats.inactive_paid_users if s.admin) == list(expected.idle_admins)
    values = report.values()
    assert values["suspended_licensed"] == len(expected.suspended_licensed)
    assert values["never_signed_in"] == expected.never and values["idle_licences"] == len(expected.idle)
    first = [s.user_id for s in seats.inactive_paid_users[: len(expected.suspended_licensed)]]
    assert sorted(first) == list(expected.suspended_licensed)  # suspended holders first


async def test_the_listings_page_at_their_maximums(served, http):
    google = make_google(*served, n_users=501)
    await collect(google, http)
    users = [r for r in google.standin.requests if r["path"] == "/admin/directory/v1/users"]
    assert [r["query"].get("maxResults") for r in users] == ["500", "500"]
    assert "pageToken" in users[1]["query"]
    licences = [r for r in google.standin.requests if r["path"].endswith("/Google-Apps/users")]
    assert len(licences) == 1 and licences[0]["query"]["maxResults"] == "1000"


async def test_no_licence_held_is_zero_seats_not_a_failure(served, http):
    google = make_google(*served, n_users=40)
    for user in google.domain.users:
        google.domain.set_sku(user.email, None)
    report, _ = await collect(google, http)
    assert report.seats.paid_seats == 0 and report.seats.inactive_paid_users == ()
    assert report.seats.total_users == 40


@pytest.mark.parametrize("lag", [1, 2, 3])
async def test_the_report_says_what_day_its_data_is_of(served, http, lag):
    google = make_google(*served, n_users=60, lag_days=lag)
    report, _ = await collect(google, http)
    day = (google.clock() - timedelta(days=lag)).date()
    assert report.details["report_day"] == day.isoformat()
    lagging = next(f for f in report.activity if f.key == "report_lag_days")
    assert lagging.value == lag and day.isoformat() in lagging.note
    asked = [
        r["path"].rsplit("/", 1)[1] for r in google.standin.requests if "/usage/users/all/dates/" in r["path"]
    ]
    assert asked[-1] == day.isoformat() and len(asked) <= 2  # yesterday, then the day Google names


async def test_no_report_ready_is_said_and_the_directory_still_judges(served, http):
    google = make_google(*served, n_users=60, lag_days=6)
    report, period = await collect(google, http)
    assert NOT_READY in report.signals.unavailable and report.details["report_day"] is None
    assert report.seats.active_paid_users == truth(google.domain, period.start_utc).active


async def test_without_the_reports_scope_it_is_unavailable_not_fatal(served, http):
    google = make_google(*served, n_users=60, delegate=REQUIRED)
    report, period = await collect(google, http, scopes=set(REQUIRED))
    assert report.signals.unavailable == (NO_REPORTS,)
    assert not [r for r in google.standin.requests if "/usage/" in r["path"]]
    assert report.seats.active_paid_users == truth(google.domain, period.start_utc).active


async def test_without_the_licensing_scope_collection_fails_as_a_missing_scope(served, http):
    google = make_google(*served, n_users=30, delegate=[DIRECTORY, REPORTS])
    with pytest.raises(MissingScopes):
        await collect(google, http)


async def test_the_collection_never_goes_faster_than_googles_quotas(served, http):
    google = make_google(*served, n_users=60)
    await collect(google, http)
    assert google.standin.quotas.refused == []


# --- the pure judgement ----------------------------------------------------------------------------
NOW = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
PERIOD = Period.last_days(30, timezone="UTC", today=NOW.date() - timedelta(days=1))
SKU = {"skuName": "Google Workspace Business Standard"}


def user(email, login=None, **extra) -> api.User:
    body = {"id": email.split("@")[0], "primaryEmail": email, **extra}
    if login is not ...:
        body["lastLoginTime"] = login or "1970-01-01T00:00:00.000Z"
    return msgspec.convert(body, api.User)


RECENT, OLD = "2026-06-05T10:00:00.000Z", "2026-01-05T10:00:00.000Z"


@pytest.mark.parametrize(
    ("users", "logins", "day", "active", "idle", "unjudged"),
    [
        ([user("a@x", RECENT)], {}, None, 1, [], 0),
        ([user("a@x", OLD)], {}, None, 0, ["a"], 0),
        ([user("a@x")], {}, None, 0, ["a"], 0),  # never signed in (1970)
        ([user("a@x", RECENT, suspended=True)], {}, None, 0, ["a"], 0),  # suspended: idle anyway
        ([user("a@x", OLD)], {"a@x": datetime(2026, 6, 1, tzinfo=UTC)}, NOW.date(), 1, [], 0),  # report newer
        ([user("a@x", ...)], {}, NOW.date() - timedelta(days=3), 0, [], 1),  # no data to the period's end
        (
            [user("a@x", ...)],
            {"a@x": None},
            NOW.date() - timedelta(days=1),
            0,
            ["a"],
            0,
        ),  # the report reaches it
        ([user("a@x", OLD), user("b@x", OLD, suspended=True)], {}, None, 0, ["b", "a"], 0),  # suspended first
    ],
)
def test_judging_each_licence(users, logins, day, active, idle, unjudged):
    held = [msgspec.convert({"userId": u.primaryEmail, **SKU}, api.Assignment) for u in users]
    judged = judge(users, held, logins, day, PERIOD)
    assert (judged.active, [s.user_id for s in judged.idle], judged.unjudged) == (active, idle, unjudged)


@pytest.mark.parametrize(("lag", "covered"), [(0, True), (1, True), (2, False), (3, False)])
def test_a_report_covers_the_period_only_up_to_its_day(lag, covered):
    assert covers(PERIOD.end_utc.date() - timedelta(days=lag), PERIOD) is covered


def test_scopes_in_the_rig_are_the_entrys():
    assert set(ALL) == {DIRECTORY, LICENSING, REPORTS}
