"""Zoom's active-hosts report (providers/zoom/hosts.py): the windows Zoom's one-month, six-month rules
allow (pure, table-driven), and collections against the stand-in whose meeting figures equal the seed's
own count (`hosts_truth`, without HTTP), across windows and pages; unavailable, said plainly, without
the scope, on a Free account, or for a period Zoom no longer keeps."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from core.periods import Period
from providers.plugin import BEARER
from providers.ratelimit import Limiter
from providers.zoom import hosts
from providers.zoom.entry import LIMITS
from providers.zoom.hosts import FREE, NOT_GRANTED, TOO_OLD, add_months, windows
from sandbox.standins.server import AppSwitch, serve_in_thread
from sandbox.standins.zoom_seed import hosts_truth
from tests.clocks import EventTime
from tests.providers.test_zoom_usage import assert_equals_truth, collect
from tests.providers.zoom_rig import READ, Zoom, make_zoom

WITH_REPORT = [*READ, "report:read:admin"]


@pytest.fixture(scope="module")
def served():
    switch = AppSwitch()
    with serve_in_thread(switch) as srv:
        yield switch, srv.url


# --- pure ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "day,months,expected",
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 8, 31), -6, date(2026, 2, 28)),
        (date(2026, 3, 1), -6, date(2025, 9, 1)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    "start,end,expected",
    [
        (date(2026, 11, 1), date(2026, 11, 30), [(date(2026, 11, 1), date(2026, 11, 30))]),
        (date(2026, 11, 23), date(2026, 11, 29), [(date(2026, 11, 23), date(2026, 11, 29))]),
        (
            date(2026, 1, 31),
            date(2026, 3, 31),
            [
                (date(2026, 1, 31), date(2026, 2, 27)),
                (date(2026, 2, 28), date(2026, 3, 27)),
                (date(2026, 3, 28), date(2026, 3, 31)),
            ],
        ),
        (date(2026, 5, 2), date(2026, 5, 1), []),
    ],
)
def test_windows_stay_within_a_month_and_cover_the_period(start, end, expected):
    found = windows(start, end)
    assert found == expected
    assert all(b < add_months(a, 1) for a, b in found)  # Zoom allows `to` up to a month after `from`


# --- against the stand-in -------------------------------------------------------------------------
def period_of(zoom: Zoom, days: int) -> Period:
    today = zoom.clock().date()
    return Period(start=today - timedelta(days=days), end=today - timedelta(days=1), timezone="UTC")


async def collected(zoom: Zoom, scopes, period: Period, known=True):
    """One collection paced by the entry's limits, client and stand-in on one virtual clock."""
    vt = EventTime(zoom.clock())
    zoom.standin._clock = vt.time
    async with httpx.AsyncClient(transport=vt.transport()) as http:
        token = (await zoom.hooks(http).verify_form(zoom.app(scopes))).credentials[BEARER]
        zoom.standin.clear_requests()
        limiter = Limiter({"zoom": LIMITS}, clock=vt.time, sleep=vt.sleep)
        report = await collect(
            zoom,
            http,
            token,
            period,
            scopes=scopes if known else None,
            limiter=limiter,
            sleep=vt.sleep,
            clock=vt.time,
        )
    assert zoom.standin.rate_limit_violations == 0
    return report


def reports_asked(zoom: Zoom) -> list[dict]:
    return [r["query"] for r in zoom.standin.requests if r["path"] == "/v2/report/users"]


@pytest.mark.parametrize("days,page_size", [(7, 300), (30, 300), (75, 300), (75, 10)])
async def test_the_meeting_figures_equal_the_seeded_truth(served, monkeypatch, days, page_size):
    monkeypatch.setattr(hosts, "PAGE_SIZE", page_size)
    zoom = make_zoom(*served)
    period = period_of(zoom, days)
    report = await collected(zoom, WITH_REPORT, period)
    expected = hosts_truth(zoom.account, period.start, period.end)
    figures = report.values()
    assert figures["licensed_hosts"] == len(expected.licensed_hosts) > 0
    assert figures["meetings"] == expected.meetings and figures["meeting_minutes"] == expected.minutes
    assert "meetings" in report.signals.used and not report.signals.unavailable
    assert_equals_truth(report, zoom, period)  # the seat figures are unchanged by it
    asked = reports_asked(zoom)
    spans = {(q["from"], q["to"]) for q in asked}
    assert spans == {(a.isoformat(), b.isoformat()) for a, b in windows(period.start, period.end)}
    assert all(q["type"] == "active" and q["page_size"] == str(page_size) for q in asked)
    if page_size == 10:
        assert len(asked) > len(spans)  # paged, each window's pages followed to the end


@pytest.mark.parametrize("known", [True, False])
async def test_without_the_scope_it_is_unavailable_and_said_so(served, known):
    zoom = make_zoom(*served)
    report = await collected(zoom, READ, period_of(zoom, 30), known=known)
    assert report.signals.unavailable == (NOT_GRANTED,) and "meetings" not in report.values()
    assert "report:read:admin" in NOT_GRANTED.reason
    assert len(reports_asked(zoom)) == (0 if known else 1)  # known scopes: not even asked


async def test_a_free_account_and_an_old_period_are_said_plainly(served):
    zoom = make_zoom(*served)
    old = await collected(zoom, WITH_REPORT, period_of(zoom, 200))
    assert old.signals.unavailable == (TOO_OLD,) and reports_asked(zoom) == []
    zoom.account.plan = "free"
    free = await collected(zoom, WITH_REPORT, period_of(zoom, 30))
    assert free.signals.unavailable == (FREE,)
    assert_equals_truth(free, zoom, period_of(zoom, 30))


@pytest.mark.parametrize(
    "ago,length,code",
    [
        (40, "month", 200),  # `to` exactly a month after `from`: allowed (Zoom's own example)
        (40, "month+1", 300),  # a day more
        (10, -5, 300),  # `to` before `from`
        (200, 5, 300),  # older than six months
        (10, 9, 200),
    ],
)
async def test_the_standin_keeps_zooms_date_rules(served, ago, length, code):
    zoom = make_zoom(*served)
    start = zoom.clock().date() - timedelta(days=ago)
    month = add_months(start, 1)
    end = {"month": month, "month+1": month + timedelta(days=1)}.get(length) or start + timedelta(days=length)
    async with httpx.AsyncClient() as http:
        token = (await zoom.hooks(http).verify_form(zoom.app(WITH_REPORT))).credentials[BEARER]
        answer = await http.get(
            f"{zoom.url}/v2/report/users",
            params={"type": "active", "from": start.isoformat(), "to": end.isoformat()},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.headers["X-RateLimit-Category"] == "Heavy"
    assert answer.status_code == (200 if code == 200 else 400)
    if code == 200:
        body = answer.json()
        assert (body["from"], body["to"]) == (start.isoformat(), end.isoformat())
        truth = hosts_truth(zoom.account, start, end)
        assert body["total_meetings"] == truth.meetings and body["total_records"] == len(truth.hosts)
    else:
        assert answer.json()["code"] == code
