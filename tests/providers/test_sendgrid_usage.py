"""collect_sendgrid against the SendGrid stand-in over real HTTP, checked against the seed's own data."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

import providers.sendgrid.usage as sendgrid_usage
from core.periods import Period, parse_period
from providers.http import ProviderHTTP, Unauthorized
from providers.ratelimit import Limiter
from providers.sendgrid.entry import POLICY as SENDGRID
from providers.sendgrid.usage import collect_sendgrid, sum_stats
from sandbox.standins.sendgrid import ROUTE_SCOPES, SendGridStandIn
from sandbox.standins.sendgrid_seed import generate_account
from sandbox.standins.server import serve_in_thread
from tests.clocks import VirtualTime
from tests.providers.test_hubspot_usage import AppSwitch, ScaledTime

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
PERIOD = parse_period("2026-05-04..2026-05-31", timezone="UTC", today=date(2026, 6, 1))
ALL_SCOPES = [s for s in ROUTE_SCOPES.values() if s]
COUNTS = (
    "requests",
    "delivered",
    "bounces",
    "spam_reports",
    "opens",
    "unique_opens",
    "clicks",
    "unique_clicks",
)


class ApiKey:
    """An API key cannot be refreshed: a 401 is final."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.refresh_calls = 0

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    async def refresh(self) -> bool:
        self.refresh_calls += 1
        return False


def expected_sendgrid(account, period: Period, *, stats: bool = True) -> dict:
    """Figures straight from the seed's plain data."""
    days = [m for d, m in account.daily_metrics.items() if period.start <= d <= period.end]
    totals = {name: sum(m[name] for m in days) for name in COUNTS}

    def ratio(n: str, d: str):
        return totals[n] / totals[d] if totals[d] else None

    activity = dict.fromkeys(
        (*COUNTS, "delivered_rate", "bounce_rate", "open_rate", "click_rate", "spam_rate")
    )
    if stats:
        activity |= totals | {
            "delivered_rate": ratio("delivered", "requests"),
            "bounce_rate": ratio("bounces", "requests"),
            "open_rate": ratio("unique_opens", "delivered"),
            "click_rate": ratio("unique_clicks", "delivered"),
            "spam_rate": ratio("spam_reports", "delivered"),
        }
    types = {"owner": 0, "admin": 0, "teammate": 0}
    for mate in account.teammates:
        types[mate.user_type] += 1
    credits = account.credits
    return {
        "activity": activity,
        "teammates_by_type": {kind: n for kind, n in types.items() if n},
        "seats": (len(account.teammates), 0 if account.account_type == "free" else len(account.teammates)),
        "credits": (
            credits.used,
            credits.total,
            max(credits.total - credits.used, 0),
            f"resets {credits.next_reset}, {credits.reset_frequency}",
        ),
    }


def observed(report) -> dict:
    used, remaining, _ = report.capacity
    return {
        "activity": report.values(),
        "teammates_by_type": dict(report.seats.seat_types),
        "seats": (report.seats.total_users, report.seats.paid_seats),
        "credits": (used.value, used.of, remaining.value, remaining.note),
    }


@pytest.fixture(scope="module")
def served():
    switch = AppSwitch()
    with serve_in_thread(switch) as server:
        yield switch, server.url


@pytest.fixture
def clock() -> ScaledTime:
    return ScaledTime(NOW)


@pytest.fixture
def standin(served, clock) -> SendGridStandIn:
    switch, _ = served
    standin = SendGridStandIn(clock=clock.time)
    switch.app = standin.app
    return standin


@pytest.fixture
def account():
    return generate_account(
        5, account_id="acme", start=date(2026, 1, 1), end=date(2026, 5, 31), n_teammates=140
    )


async def run(served, standin, clock, key: str, *, scopes=ALL_SCOPES, timeout: float = 5.0):
    _, url = served
    async with httpx.AsyncClient() as client:
        http = ProviderHTTP(
            client, SENDGRID, limiter=Limiter(clock=clock.time, sleep=clock.sleep), sleep=clock.sleep,
            clock=clock.time, timeout=timeout,
        )  # fmt: skip
        return await collect_sendgrid(
            http,
            ApiKey(key),
            base_url=url,
            team_id="T0001",
            account_id="acme",
            account_name="Acme mail",
            period=PERIOD,
            scopes=None if scopes is None else set(scopes),
            clock=clock.now,
        )


async def test_every_figure_matches_the_seed(served, standin, clock, account):
    standin.add_account(account)
    report = await run(served, standin, clock, standin.add_key("acme", ALL_SCOPES))

    expected = expected_sendgrid(account, PERIOD)
    assert observed(report) == expected
    assert expected["activity"]["requests"] > 0 and expected["teammates_by_type"]["admin"] > 0
    assert report.details == {"account_type": "paid", "reputation": account.reputation}
    assert report.seats.active_users is None and report.seats.inactive_paid_users == ()
    assert report.signals.used == ("account", "credits", "stats", "teammates")
    assert [u.signal for u in report.signals.unavailable] == ["user_activity"]
    stats_calls = [r for r in standin.requests if r["path"] == "/v3/stats"]
    assert [r["query"] for r in stats_calls] == [
        {"start_date": "2026-05-04", "end_date": "2026-05-31", "aggregated_by": "day"}
    ]
    json = report.to_json()
    assert json["capacity"][1]["note"].startswith(f"resets {account.credits.next_reset.isoformat()}")
    assert [f.key for f in report.highlights] == [
        "credits_used",
        "credits_remaining",
        "delivered_rate",
        "bounce_rate",
        "open_rate",
        "click_rate",
        "spam_rate",
    ]
    assert [(f.label, f.value) for f in report.summary] == [
        ("Emails requested", expected["activity"]["requests"]),
        ("Delivered", expected["activity"]["delivered"]),
    ]
    assert report.seats.noun == "teammates" and report.seats.utilisation is None


async def test_teammates_are_paged_by_offset_and_a_429_waits_for_the_reset(served, account, monkeypatch):
    monkeypatch.setattr(sendgrid_usage, "TEAMMATES_PAGE", 50)  # 140 teammates: pages of 50, 50, 40
    # virtual time: the three pages fall in one window however slow the machine, and the wait for
    # the reset takes no real time
    clock = VirtualTime(NOW)
    switch, _ = served
    standin = SendGridStandIn(clock=clock.time)
    switch.app = standin.app
    standin.add_account(account)
    standin.set_endpoint_rate_limit("/v3/teammates", 2, 60.0)  # the third page has to wait
    standin.faults.fail_next("/v3/stats", status=503)
    standin.faults.hang_next("/v3/user/credits", seconds=1.0)
    report = await run(served, standin, clock, standin.add_key("acme", ALL_SCOPES), timeout=0.3)

    assert observed(report) == expected_sendgrid(account, PERIOD)
    pages = [r["query"] for r in standin.requests if r["path"] == "/v3/teammates"]
    assert [p["offset"] for p in pages if p["offset"] != "100"] == ["0", "50"]
    assert pages[-1] == {"limit": "50", "offset": "100"}
    assert standin.rate_limit_violations == 1  # SendGrid is handled reactively: it answered 429 once


async def test_a_missing_scope_makes_that_signal_unavailable_and_the_rest_carries_on(
    served, standin, clock, account
):
    standin.add_account(account)
    granted = [s for s in ALL_SCOPES if s != "stats.read"]
    # we think every scope was granted; SendGrid answers 403 for the stats
    report = await run(served, standin, clock, standin.add_key("acme", granted), scopes=ALL_SCOPES)

    assert observed(report) == expected_sendgrid(account, PERIOD, stats=False)
    assert [u.signal for u in report.signals.unavailable] == ["stats", "user_activity"]
    assert "stats.read" in report.signals.unavailable[0].reason
    assert report.signals.used == ("account", "credits", "teammates")


async def test_a_scope_known_to_be_missing_is_not_even_asked_for(served, standin, clock, account):
    standin.add_account(account)
    granted = [s for s in ALL_SCOPES if s != "user.account.read"]
    report = await run(served, standin, clock, standin.add_key("acme", granted), scopes=granted)

    assert not [r for r in standin.requests if r["path"] == "/v3/user/account"]
    assert report.details == {} and report.seats.paid_seats == len(account.teammates)
    assert [u.signal for u in report.signals.unavailable] == ["account", "user_activity"]


async def test_a_free_account_has_no_paid_seats(served, standin, clock):
    free = generate_account(
        9, account_id="acme", start=date(2026, 4, 1), end=date(2026, 5, 31), account_type="free"
    )
    standin.add_account(free)
    report = await run(served, standin, clock, standin.add_key("acme", ALL_SCOPES))
    assert observed(report) == expected_sendgrid(free, PERIOD)
    assert report.seats.paid_seats == 0 and report.capacity[1].note.endswith(", daily")


async def test_a_revoked_key_fails_the_report(served, standin, clock, account):
    standin.add_account(account)
    key = standin.add_key("acme", ALL_SCOPES)
    standin.revoke_key(key)
    with pytest.raises(Unauthorized):
        await run(served, standin, clock, key)


@pytest.mark.parametrize(
    ("rows", "totals"),
    [
        ([], dict.fromkeys(COUNTS, 0)),
        (
            [
                {"date": "2026-05-01", "stats": [{"metrics": {"requests": 3, "delivered": 2, "blocks": 1}}]},
                {"date": "2026-05-02", "stats": [{"metrics": {"requests": 4}}, {"metrics": {"requests": 1}}]},
                {"date": "2026-05-03", "stats": []},
            ],
            dict.fromkeys(COUNTS, 0) | {"requests": 8, "delivered": 2},
        ),
    ],
)
def test_sum_stats(rows, totals):
    assert sum_stats(rows) == totals
