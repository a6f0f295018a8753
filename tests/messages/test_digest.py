"""The digest builder: pure, table-driven, within Slack's limits however much there is to say."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block

from core.periods import Period
from core.reports import SHARE, Account, Figure, InactiveSeat, Seats, Signals, Unavailable, UsageReport
from messages import charts
from messages import digest as db
from providers.hubspot import figures as hubspot_figures
from providers.sendgrid import usage as sendgrid_usage
from sandbox.standins.slack_blocks import block_errors

PERIOD = (date(2026, 11, 16), date(2026, 11, 22))


def report(
    provider="hubspot",
    *,
    paid=40,
    active_paid=30,
    idle_emails=None,
    team="T1",
    end="2026-11-22",
    activity=None,
    signals=None,
    credits=None,
) -> UsageReport:
    """A typed report, its figures made by the provider's own code (HubSpot's or SendGrid's)."""
    idle_emails = (
        idle_emails if idle_emails is not None else [f"user{i}@acme.com" for i in range(paid - active_paid)]
    )
    if provider == "sendgrid":
        values = activity or {}
        figures, summary = sendgrid_usage.activity_figures(values), ()
        capacity = sendgrid_usage.credit_figures(credits) if credits else ()
        highlights = (*capacity[:2], *(f for f in figures if f.key in sendgrid_usage.RATES))
        summary = tuple(f for f in figures if f.key in sendgrid_usage.SUMMARY)
        noun = "teammates"
    else:
        values = activity or {"contacts_created": 3, "companies_created": 1, "deals_created": 2, "logins": 9}
        figures, summary = hubspot_figures.activity_figures(values), hubspot_figures.summary_figures(values)
        capacity, highlights, noun = (), (), "users"
    signals = signals or {"used": ["logins"], "unavailable": []}
    return UsageReport(
        team_id=team,
        provider=provider,
        account=Account("101", "acme"),
        period=Period(date.fromisoformat(end) - timedelta(days=6), date.fromisoformat(end), "US/Eastern"),
        seats=Seats(
            total_users=paid + 5,
            paid_seats=paid,
            active_users=active_paid + 2 if active_paid is not None else None,
            active_paid_users=active_paid,
            inactive_paid_users=tuple(InactiveSeat(str(i), e, None) for i, e in enumerate(idle_emails)),
            noun=noun,
        ),
        activity=figures,
        capacity=capacity,
        highlights=highlights,
        summary=summary,
        signals=Signals(
            tuple(signals["used"]),
            tuple(Unavailable(u["signal"], u["reason"]) for u in signals["unavailable"]),
        ),
        collected_at=datetime(2026, 11, 23, 8, tzinfo=UTC),
    )


def hub(**kw) -> db.ConnectionDigest:
    r = report(**kw)
    named = [db.Person(s.email, s.last_active) for s in r.seats.inactive_paid_users[: db.NAMED]]
    return db.ConnectionDigest("hubspot", "HubSpot", "acme", report=r, named=named, price=(9000, "EUR"))


def sendgrid() -> db.ConnectionDigest:
    r = report(
        "sendgrid",
        paid=12,
        active_paid=None,
        idle_emails=[],
        activity={
            "requests": 1000,
            "delivered": 980,
            "delivered_rate": 0.98,
            "bounce_rate": 0.02,
            "open_rate": 0.4,
            "click_rate": 0.1,
            "spam_rate": 0.001,
        },
        credits={"used": 1200, "total": 100000, "remain": 98800, "overage": 0, "next_reset": "2026-12-01"},
    )
    return db.ConnectionDigest("sendgrid", "SendGrid", "acme-mail", report=r)


def limits_hold(message: dict) -> None:
    assert len(message["blocks"]) <= db.MAX_BLOCKS
    assert message["text"] and len(message["text"]) <= 3000
    assert block_errors(message["blocks"]) == []  # the charts, which slack_sdk has no model for
    for block in message["blocks"]:
        if block["type"] == charts.BLOCK_TYPE:
            continue
        Block.parse(block).validate_json()  # slack_sdk raises on any over-long text or too many fields
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= db.SECTION_LIMIT


def data(*connections, **kw) -> db.DigestData:
    return db.DigestData(
        PERIOD, "Europe/Berlin", list(connections), collected_at=datetime(2026, 11, 23, 8, tzinfo=UTC), **kw
    )


@pytest.mark.parametrize(
    "connections,expect,absent",
    [
        (
            [hub()],
            [
                "*10 of 40 paid seats idle* — about *€900/month*",
                "user0@acme.com",
                "…and 5 more",
                "Records created *6*",
            ],
            [],
        ),
        ([hub(active_paid=40)], ["*Every paid seat was used* (40 of 40)"], ["paid seats idle"]),
        (
            [sendgrid()],
            ["1,200 of 100,000", "98,800 (resets 2026-12-01)", "98.0%", "*17 teammates*"],
            ["paid seats idle"],
        ),
        (
            [
                db.ConnectionDigest(
                    "hubspot",
                    "HubSpot",
                    "acme",
                    state="needs_reconnect",
                    reason="refused",
                    since=datetime(2026, 11, 20, tzinfo=UTC),
                )
            ],
            [
                "HubSpot needs reconnecting* (since <!date^1795132800^{date_short_pretty}|2026-11-20>): refused",
                db.DIGEST_RECONNECT_ACTION,
            ],
            ["Paid seats"],
        ),
        (
            [db.ConnectionDigest("sendgrid", "SendGrid", "x", state="unavailable")],
            ["did not answer"],
            ["Credits"],
        ),
        (
            [
                hub(
                    signals={
                        "used": ["crm_activity"],
                        "unavailable": [{"signal": "logins", "reason": "scope missing"}],
                    },
                    activity={"contacts_created": 1, "logins": None},
                )
            ],
            ["Logins unavailable: scope missing"],
            ["Logins *"],
        ),
        (  # two signals missing for one reason: named together, the reason said once
            [
                hub(
                    signals={
                        "used": [],
                        "unavailable": [
                            {"signal": "logins", "reason": "an admin must consent"},
                            {"signal": "crm_activity", "reason": "an admin must consent"},
                            {"signal": "seat_types", "reason": "scope missing"},
                        ],
                    },
                    activity={"contacts_created": None, "logins": None},
                )
            ],
            [
                "Logins and crm activity unavailable: an admin must consent",
                "Seat types unavailable: scope missing",
            ],
            ["Logins unavailable", "Crm activity unavailable"],
        ),
        ([], [db.NO_CONNECTIONS], []),
    ],
)
def test_what_the_digest_says(connections, expect, absent):
    says(db.digest_message(data(*connections)), expect, absent)


def says(message: dict, expect, absent) -> None:
    """Within Slack's limits, every phrase of `expect` in the blocks and none of `absent`."""
    limits_hold(message)
    text = str(message["blocks"])
    for phrase in expect:
        assert phrase in text
    for phrase in absent:
        assert phrase not in text


def test_the_change_and_the_trend_come_from_earlier_periods():
    history = [report(active_paid=32, end="2026-11-15"), report(active_paid=35, end="2026-11-08")]
    c = hub()
    c = db.ConnectionDigest(**{**c.__dict__, "history": history})
    text = str(db.digest_message(data(c))["blocks"])
    assert "▲ 2 more idle seats than the period before (8)" in text
    assert "utilisation █▄▁" in text  # 35/40, 32/40, 30/40: falling


@pytest.mark.parametrize("n_connections,n_idle", [(1, 5000), (12, 300), (30, 50), (60, 1)])
def test_limits_hold_with_many_connections_and_long_lists(n_connections, n_idle):
    long = [f"someone.with.a.very.long.name.{i}@{'sub.' * 10}example.com" for i in range(n_idle)]
    connections = []
    for i in range(n_connections):
        c = hub(paid=n_idle + 1, active_paid=1, idle_emails=long)
        named = [
            db.Person(e, datetime(2026, 10, 2, 14, 3, 11, tzinfo=UTC), user_id=f"U{i:08d}" if i % 2 else None)
            for e in long[: db.NAMED]
        ]
        connections.append(
            db.ConnectionDigest(**{**c.__dict__, "account": f"account-{i} " + "x" * 200, "named": named})
        )
    message = db.digest_message(data(*connections, late_since=datetime(2026, 11, 23, 8, tzinfo=UTC)))
    limits_hold(message)
    text = str(message["blocks"])
    assert "is late" in text
    if n_connections > 8:
        assert "more accounts" in text


@pytest.mark.parametrize(
    "lines,limit,expected",
    [
        (["a", "b", "c"], 100, "a\nb\nc"),
        (["a" * 10, "b" * 10, "c" * 10], 25, "a" * 10 + "\n…and 2 more"),
        (["aaaa"], 100, "aaaa"),
    ],
)
def test_fit(lines, limit, expected):
    assert db.fit(lines, limit) == expected


@pytest.mark.parametrize(
    "values,line",
    [([], ""), ([1, 1, 1], "▅▅▅"), ([0, 1], "▁█"), ([0.5, 0.75, 1.0], "▁▅█")],
)
def test_sparkline(values, line):
    assert db.sparkline(values) == line


@pytest.mark.parametrize(
    "minor,currency,locale,text",
    [
        (9000, "EUR", "en-US", "€90"),
        (12345, "USD", "en-US", "$123.45"),
        (100000, "CHF", "en-US", "CHF\xa01,000"),
        (2000, "JPY", "en-US", "¥2,000"),  # yen have no minor units: 2000 is ¥2,000, not ¥20
        (123456, "EUR", "de-DE", "€1.234,56"),
        (9000, "XQQ", "en-US", "90.00 XQQ"),  # a code stored before currencies were checked
    ],
)
def test_money(minor, currency, locale, text):
    assert db.money(minor, currency, locale) == text


def other_provider(*, counted: bool) -> db.ConnectionDigest:
    """A provider the digest has never heard of: everything it shows comes from the report."""
    seats = Seats(
        total_users=8,
        paid_seats=6,
        active_users=5 if counted else None,
        active_paid_users=4 if counted else None,
        inactive_paid_users=(InactiveSeat("z1", "kim@acme.com", None),) if counted else (),
        noun="hosts",
    )
    minutes = Figure("minutes", "Meeting minutes", 12_345)
    r = UsageReport(
        team_id="T1",
        provider="meetings",
        account=Account("9", "acme-meet"),
        period=Period(date(2026, 11, 16), date(2026, 11, 22), "UTC"),
        seats=seats,
        activity=(minutes, Figure("recorded", "Recorded", 0.25, SHARE)),
        capacity=(Figure("storage", "Cloud storage (GB)", 40, of=100, note="plan limit"),),
        highlights=(
            Figure("storage", "Cloud storage (GB)", 40, of=100, note="plan limit"),
            Figure("recorded", "Recorded", 0.25, SHARE),
        ),
        summary=(minutes, Figure("webinars", "Webinars", None)),
        signals=Signals(used=("meetings",)),
        collected_at=datetime(2026, 11, 23, 8, tzinfo=UTC),
    )
    named = [db.Person("kim@acme.com", None)] if counted else []
    return db.ConnectionDigest("meetings", "Meet", "acme-meet", report=r, named=named)


@pytest.mark.parametrize(
    ("counted", "expect", "absent"),
    [
        (
            True,
            [
                "*2 of 6 paid seats idle*",
                "*Active paid users*\\n4 (66.7%)",
                "*Cloud storage (GB)*\\n40 of 100 (plan limit)",
                "*Recorded*\\n25.0%",
                "kim@acme.com — never signed in",
                "Meeting minutes *12,345*",
            ],
            ["Webinars", "8 hosts"],
        ),
        (
            False,
            [
                "*8 hosts*",
                "*Cloud storage (GB)*\\n40 of 100 (plan limit)",
                "*Recorded*\\n25.0%",
                "Meeting minutes *12,345*",
            ],
            ["paid seats idle", "Active paid users", "Webinars"],
        ),
    ],
)
def test_any_providers_report_is_shown_from_its_own_labels(counted, expect, absent):
    message = db.digest_message(data(other_provider(counted=counted)))
    says(message, expect, absent)
    headline = "2 idle paid Meet seats" if counted else "Meet: Cloud storage (GB) 40 of 100"
    assert headline in message["text"]


def test_amounts_are_written_in_the_workspaces_locale():
    r = report(paid=40, active_paid=30)  # 10 idle
    c = db.ConnectionDigest("hubspot", "HubSpot", "acme", report=r, price=(12345, "EUR"))
    german = db.digest_message(data(c, locale="de-DE"))
    assert "about *€1.234,50/month*" in json.dumps(german["blocks"], ensure_ascii=False)
    assert "€1.234,50/month" in german["text"]
    english = db.digest_message(data(c))
    assert "about *€1,234.50/month*" in json.dumps(english["blocks"], ensure_ascii=False)
