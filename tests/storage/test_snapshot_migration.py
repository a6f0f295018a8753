"""Migration 0011: snapshots stored in the old, provider-shaped dict are rewritten into the typed
report, the same one the providers build today, so the digest's trend still reaches back to them."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import insert, select

from core.reports import UsageReport
from messages import digest as db
from providers.hubspot import figures as hubspot_figures
from providers.sendgrid import usage as sendgrid_usage
from storage.db import Database, alembic_config
from storage.models import UsageSnapshot
from storage.usage import SnapshotStore
from tests.messages.test_digest import report as typed_report

migration = importlib.import_module("storage.migrations.versions.0011_typed_reports")

HUB_ACTIVITY = {
    "contacts_created": 3,
    "contacts_updated": 4,
    "companies_created": 1,
    "companies_updated": 0,
    "deals_created": 2,
    "deals_updated": 1,
    "calls_logged": 5,
    "emails_logged": 6,
    "meetings_logged": None,
    "notes_logged": 7,
    "tasks_logged": 8,
    "logins": 9,
}
SG_ACTIVITY = {
    "requests": 1000,
    "delivered": 980,
    "bounces": 20,
    "spam_reports": 1,
    "opens": 500,
    "unique_opens": 392,
    "clicks": 120,
    "unique_clicks": 98,
    "delivered_rate": 0.98,
    "bounce_rate": 0.02,
    "open_rate": 0.4,
    "click_rate": 0.1,
    "spam_rate": 0.001,
}
CREDITS = {
    "used": 1200,
    "total": 100000,
    "remaining": 98800,
    "overage": 3,
    "last_reset": "2026-11-01",
    "next_reset": "2026-12-01",
    "reset_frequency": "monthly",
}


def old(
    provider="hubspot", *, paid=40, active_paid=30, end="2026-11-22", start="2026-11-16", **extra
) -> dict:
    """A snapshot as 0010's code stored it (UsageReport.to_json() of providers/usage.py then)."""
    return {
        "team_id": "T1",
        "provider": provider,
        "account": {"id": "101", "name": "acme"},
        "period": {"start": start, "end": end, "timezone": "US/Eastern"},
        "seats": {
            "total_users": paid + 5,
            "paid_seats": paid,
            "active_users": None if active_paid is None else active_paid + 2,
            "active_paid_users": active_paid,
            "inactive_paid_users": [
                {
                    "user_id": str(i),
                    "email": f"user{i}@acme.com",
                    "last_active": "2026-10-02T14:03:11+00:00" if i % 2 else None,
                    "team": {"id": "501", "name": "Sales"} if i % 3 else None,
                }
                for i in range(paid - (active_paid or paid))
            ],
            "seat_types": {"Sales Hub Professional": paid},
            "teams": None,
        },
        "activity": extra.get("activity", HUB_ACTIVITY),
        "per_user": {"7": {"contacts_created": 2, "logins": 1}},
        "capacity": extra.get("capacity", {"credits": None, "teammates_by_type": None}),
        "signals": extra.get("signals", {"used": ["logins", "crm_activity"], "unavailable": []}),
        "details": extra.get("details", {}),
        "collected_at": "2026-11-23T08:00:00+00:00",
    }


def sendgrid_old(credits=CREDITS) -> dict:
    return old(
        "sendgrid",
        paid=6,
        active_paid=None,
        activity=SG_ACTIVITY,
        capacity={"credits": credits, "teammates_by_type": {"owner": 1, "admin": 2, "teammate": 3}},
        signals={"used": ["account", "credits", "stats", "teammates"], "unavailable": []},
        details={"account_type": "paid", "reputation": 99.1},
    )


def sendgrid_body(credits: dict) -> dict:
    """The /v3/user/credits body those credits came from."""
    return {**credits, "remain": credits["remaining"]}


@pytest.mark.parametrize(
    ("snapshot", "activity", "summary", "capacity", "active_means"),
    [
        (
            old(),
            hubspot_figures.activity_figures(HUB_ACTIVITY),
            hubspot_figures.summary_figures(HUB_ACTIVITY),
            (),
            hubspot_figures.ACTIVE_MEANS,
        ),
        (
            old(
                signals={
                    "used": ["crm_activity"],
                    "unavailable": [{"signal": "logins", "reason": "no scope"}],
                }
            ),
            hubspot_figures.activity_figures(HUB_ACTIVITY),
            hubspot_figures.summary_figures(HUB_ACTIVITY),
            (),
            hubspot_figures.ACTIVE_MEANS_NO_LOGINS,
        ),
        (
            sendgrid_old(),
            sendgrid_usage.activity_figures(SG_ACTIVITY),
            tuple(f for f in sendgrid_usage.activity_figures(SG_ACTIVITY) if f.key in sendgrid_usage.SUMMARY),
            sendgrid_usage.credit_figures(sendgrid_body(CREDITS)),
            "",
        ),
        (
            sendgrid_old(credits=None),
            sendgrid_usage.activity_figures(SG_ACTIVITY),
            tuple(f for f in sendgrid_usage.activity_figures(SG_ACTIVITY) if f.key in sendgrid_usage.SUMMARY),
            (),
            "",
        ),
    ],
)
def test_an_old_snapshot_becomes_the_report_the_provider_builds_now(
    snapshot, activity, summary, capacity, active_means
):
    report = UsageReport.from_json(migration.new_shape(snapshot))
    assert report.activity == activity and report.summary == summary and report.capacity == capacity
    assert report.seats.active_means == active_means
    if report.provider == "sendgrid":
        rates = tuple(f for f in activity if f.key in sendgrid_usage.RATES)
        assert report.highlights == capacity[:2] + rates and report.seats.noun == "teammates"
    # everything else comes across as it was
    seats = snapshot["seats"]
    assert (report.seats.paid_seats, report.seats.active_paid_users) == (
        seats["paid_seats"],
        seats["active_paid_users"],
    )
    assert [
        (s.user_id, s.email, s.last_active and s.last_active.isoformat())
        for s in report.seats.inactive_paid_users
    ] == [(s["user_id"], s["email"], s["last_active"]) for s in seats["inactive_paid_users"]]
    assert report.per_user == snapshot["per_user"] and report.details == snapshot["details"]
    assert report.collected_at == datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert migration.new_shape(report.to_json()) == report.to_json()  # the new shape is left alone


async def _migrate(database: Database, revision: str, *, down: bool = False) -> None:
    def run(sync_conn) -> None:
        cfg = alembic_config(database.url)
        cfg.attributes["connection"] = sync_conn
        (command.downgrade if down else command.upgrade)(cfg, revision)

    async with database.engine.begin() as conn:
        await conn.run_sync(run)


async def test_old_snapshots_still_draw_the_trend_after_the_upgrade(database_url):
    database = Database(database_url)
    try:
        await _migrate(database, "0010", down=True)
        earlier = [
            old(active_paid=32, start="2026-11-09", end="2026-11-15"),
            old(active_paid=35, start="2026-11-02", end="2026-11-08"),
        ]
        rows = [
            {
                "team_id": r["team_id"],
                "provider": r["provider"],
                "account_id": r["account"]["id"],
                "period_start": r["period"]["start"],
                "period_end": r["period"]["end"],
                "timezone": r["period"]["timezone"],
                "collected_at": datetime.fromisoformat(r["collected_at"]),
                "report": json.dumps(r),
            }
            for r in earlier
        ]
        async with database.session() as session, session.begin():
            await session.execute(insert(UsageSnapshot), rows)
        await _migrate(database, "head")

        history = await SnapshotStore(database).history("T1", "hubspot")
        now = typed_report(active_paid=30)  # this period, as collected today
        # what 0010's digest said for the same figures
        assert (
            db.change_text(now, history) == "▲ 2 more idle seats than the period before (8) · utilisation █▄▁"
        )

        await _migrate(database, "0010", down=True)  # the old code cannot read the new shape: gone
        async with database.session() as session:
            assert (await session.scalars(select(UsageSnapshot.id))).all() == []
        await _migrate(database, "head")
    finally:
        await database.dispose()


async def test_a_snapshot_that_is_not_a_report_is_collected_again_not_shown(storage, caplog):
    """A row the typed report cannot read (hand-edited, half-written) is skipped with a warning: the
    trend leaves it out and a digest collects that period afresh."""
    good = typed_report(active_paid=32, end="2026-11-15")
    await storage.snapshots.save(good)
    row = {
        "team_id": "T1",
        "provider": "hubspot",
        "account_id": "101",
        "period_start": "2026-11-16",
        "period_end": "2026-11-22",
        "timezone": "US/Eastern",
        "collected_at": datetime(2026, 11, 23, tzinfo=UTC),
        "report": json.dumps({"team_id": "T1", "seats": "?"}),
    }
    async with storage.db.session() as session, session.begin():
        await session.execute(insert(UsageSnapshot), [row])
    assert await storage.snapshots.history("T1", "hubspot") == [good]
    assert await storage.snapshots.get("T1", "hubspot", "101", "2026-11-16", "2026-11-22") is None
    assert await storage.snapshots.get("T1", "hubspot", "101", "2026-11-09", "2026-11-15") == good
    assert "not a report" in caplog.text
