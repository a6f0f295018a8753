"""The typed usage report: its JSON shape (the one core/reports.py documents), an exact round trip,
and the generic reading of figures and seats, by table."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import msgspec
import pytest

from core.periods import Period
from core.reports import (
    SHARE,
    Account,
    Figure,
    InactiveSeat,
    Seats,
    Signals,
    Team,
    TeamSeats,
    Unavailable,
    UsageReport,
)

D = date.fromisoformat


def sample() -> UsageReport:
    return UsageReport(
        team_id="T1",
        provider="mailer",
        account=Account("acme", "Acme mail"),
        period=Period(D("2026-05-01"), D("2026-05-07"), "Europe/Dublin"),
        seats=Seats(
            total_users=3,
            paid_seats=2,
            active_users=1,
            active_paid_users=1,
            inactive_paid_users=(
                InactiveSeat(
                    "9",
                    "i@x.io",
                    datetime(2026, 4, 2, 8, tzinfo=UTC),
                    Team("501", "Sales"),
                    name="Ida",
                    seat_type="Core Seat",
                ),
            ),
            seat_types={"Core Seat": 2},
            teams=(TeamSeats(Team("501", "Sales"), 2, 1, 1),),
            active_means="signed in",
        ),
        activity=(Figure("requests", "Emails requested", 10), Figure("open_rate", "Opens", None, SHARE)),
        signals=Signals(used=("stats",), unavailable=(Unavailable("credits", "No scope."),)),
        collected_at=datetime(2026, 5, 8, 9, tzinfo=UTC),
        capacity=(Figure("credits_used", "Credits used", 1, of=10),),
        highlights=(Figure("credits_used", "Credits used", 1, of=10),),
        summary=(Figure("requests", "Emails requested", 10),),
        per_user={"9": {"logins": 1}},
        details={"account_type": "paid"},
    )


def test_to_json_shape():
    used = {
        "key": "credits_used",
        "label": "Credits used",
        "value": 1,
        "kind": "count",
        "of": 10,
        "note": None,
    }
    requests = {
        "key": "requests",
        "label": "Emails requested",
        "value": 10,
        "kind": "count",
        "of": None,
        "note": None,
    }
    assert sample().to_json() == {
        "team_id": "T1",
        "provider": "mailer",
        "account": {"id": "acme", "name": "Acme mail"},
        "period": {"start": "2026-05-01", "end": "2026-05-07", "timezone": "Europe/Dublin"},
        "seats": {
            "total_users": 3,
            "paid_seats": 2,
            "active_users": 1,
            "active_paid_users": 1,
            "inactive_paid_users": [
                {
                    "user_id": "9",
                    "email": "i@x.io",
                    "last_active": "2026-04-02T08:00:00Z",
                    "team": {"id": "501", "name": "Sales"},
                    "name": "Ida",
                    "seat_type": "Core Seat",
                    "admin": False,
                }
            ],
            "seat_types": {"Core Seat": 2},
            "teams": [
                {
                    "team": {"id": "501", "name": "Sales"},
                    "paid_seats": 2,
                    "active_paid_users": 1,
                    "inactive_paid_users": 1,
                }
            ],
            "noun": "users",
            "active_means": "signed in",
        },
        "activity": [
            requests,
            {"key": "open_rate", "label": "Opens", "value": None, "kind": "share", "of": None, "note": None},
        ],
        "signals": {"used": ["stats"], "unavailable": [{"signal": "credits", "reason": "No scope."}]},
        "collected_at": "2026-05-08T09:00:00Z",
        "capacity": [used],
        "highlights": [used],
        "summary": [requests],
        "per_user": {"9": {"logins": 1}},
        "details": {"account_type": "paid"},
    }


def test_json_round_trip_is_exact():
    report = sample()
    assert UsageReport.from_json(report.to_json()) == report
    assert UsageReport.from_json(json.dumps(report.to_json())) == report
    assert UsageReport.from_json(report.encode()) == report


@pytest.mark.parametrize(
    "change",
    [
        {"activity": {"requests": 10}},  # the old, provider-shaped dict
        {"period": {"start": "2026-05-07", "end": "2026-05-01", "timezone": "UTC"}},  # ends before it starts
        {"period": {"start": "2026-05-01", "end": "2026-05-07", "timezone": "Mars/Olympus"}},
        {"collected_at": "yesterday"},
        {"seats": None},
    ],
)
def test_a_wrong_shape_is_refused(change):
    with pytest.raises(msgspec.ValidationError):
        UsageReport.from_json(sample().to_json() | change)


@pytest.mark.parametrize(
    ("figure", "value", "text"),
    [
        (Figure("a", "A", 1200), "1,200", "1,200"),
        (Figure("a", "A", 0), "0", "0"),
        (Figure("a", "A", None), "—", "—"),
        (Figure("a", "A", 0.98, SHARE), "98.0%", "98.0%"),
        (Figure("a", "A", 0.00049, SHARE), "0.0%", "0.0%"),
        (Figure("a", "A", None, SHARE), "—", "—"),
        (Figure("a", "A", 1200, of=100_000), "1,200 of 100,000", "1,200 of 100,000"),
        (Figure("a", "A", 98_800, note="resets 2026-06-01"), "98,800", "98,800 (resets 2026-06-01)"),
    ],
)
def test_figures_format_by_their_kind(figure, value, text):
    assert figure.value_text() == value and figure.text() == text


@pytest.mark.parametrize(
    ("paid", "active_paid", "inactive", "utilisation", "idle"),
    [
        (40, 30, 10, 0.75, 10),
        (40, 40, 0, 1.0, 0),
        (0, 0, 0, None, 0),  # nothing paid: no utilisation
        (12, None, 0, None, 0),  # activity unknown: seats only counted
        (12, None, 2, None, 2),  # activity unknown but idle seats listed
        (5, 7, 0, 1.4, 0),  # never a negative idle count
    ],
)
def test_utilisation_and_idle_seats(paid, active_paid, inactive, utilisation, idle):
    people = tuple(InactiveSeat(str(i), None, None) for i in range(inactive))
    seats = Seats(paid + 1, paid, active_paid, active_paid, people)
    assert seats.utilisation == utilisation and seats.idle == idle


def test_values_lists_every_activity_figure_by_key():
    assert sample().values() == {"requests": 10, "open_rate": None}


def test_usage_collects_table_reads_any_report_by_its_labels():
    from bot.usage_cli import table_row

    report = sample()
    more = (
        Figure("a", "Calls", 7),
        Figure("b", "Meetings", 30),
        Figure("c", "Notes", 0),
        Figure("d", "Chats", 12),
    )
    row = table_row(msgspec.structs.replace(report, activity=report.activity + more))
    assert row == [
        "T1",
        "mailer",
        "Acme mail",
        "2026-05-01..2026-05-07",
        "3",
        "2",
        "1",
        "1",
        "Meetings 30, Chats 12, Emails requested 10",
    ]
