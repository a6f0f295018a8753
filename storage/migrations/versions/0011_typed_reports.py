"""Usage snapshots in the typed report's shape (core/reports.py): labelled figures, not provider keys.

Until 0010 a snapshot held the provider-shaped dict (`activity` a dict of HubSpot or SendGrid keys,
`capacity.credits`, `capacity.teammates_by_type`), which only code that knew the provider could
read. Every stored snapshot is rewritten here into the typed shape, with the labels, capacity,
highlights and summary the providers give a new report, so the trend still compares this period
with the ones before. This migration is history: it names the providers of its time and carries
their labels as they were, on purpose (the providers' own code may change later; this must not).

A snapshot already in the new shape is left alone. Downgrading deletes the snapshots in the new
shape (the old code cannot read them): they are a cache of figures, collected again when a digest
needs them, and only the trend's earlier periods are lost.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

HUBSPOT = {
    "contacts_created": "Contacts created",
    "contacts_updated": "Contacts updated",
    "companies_created": "Companies created",
    "companies_updated": "Companies updated",
    "deals_created": "Deals created",
    "deals_updated": "Deals updated",
    "calls_logged": "Calls logged",
    "emails_logged": "Emails logged",
    "meetings_logged": "Meetings logged",
    "notes_logged": "Notes logged",
    "tasks_logged": "Tasks logged",
    "logins": "Logins",
}
HUBSPOT_SUMMARY = (
    ("records_created", "Records created", ("contacts_created", "companies_created", "deals_created")),
    (
        "engagements_logged",
        "Engagements logged",
        ("calls_logged", "emails_logged", "meetings_logged", "notes_logged", "tasks_logged"),
    ),
    ("logins", "Logins", ("logins",)),
)
HUBSPOT_ACTIVE = "signed in, or created, changed or logged a CRM record"
HUBSPOT_ACTIVE_NO_LOGINS = "created, changed or logged a CRM record (sign-ins could not be read)"
SENDGRID_COUNTS = {
    "requests": "Emails requested",
    "delivered": "Delivered",
    "bounces": "Bounces",
    "spam_reports": "Spam reports",
    "opens": "Opens",
    "unique_opens": "Unique opens",
    "clicks": "Clicks",
    "unique_clicks": "Unique clicks",
}
SENDGRID_RATES = {
    "delivered_rate": "Delivered",
    "bounce_rate": "Bounces",
    "open_rate": "Opens",
    "click_rate": "Clicks",
    "spam_rate": "Spam reports",
}
SENDGRID_SUMMARY = ("requests", "delivered")


def figure(key: str, label: str, value: Any, kind: str = "count", of: Any = None, note: Any = None) -> dict:
    return {"key": key, "label": label, "value": value, "kind": kind, "of": of, "note": note}


def is_old(report: dict) -> bool:
    return isinstance(report.get("activity"), dict)


def _hubspot(report: dict, activity: dict) -> dict:
    figures = [figure(key, label, activity.get(key)) for key, label in HUBSPOT.items()]
    summary = []
    for key, label, parts in HUBSPOT_SUMMARY:
        known = [activity[p] for p in parts if activity.get(p) is not None]
        summary.append(figure(key, label, sum(known) if known else None))
    logins = "logins" in (report.get("signals") or {}).get("used", [])
    active = HUBSPOT_ACTIVE if logins else HUBSPOT_ACTIVE_NO_LOGINS
    return {"activity": figures, "summary": summary, "noun": "users", "active_means": active}


def _credits(credits: dict) -> list[dict]:
    resets = f"resets {credits.get('next_reset') or '—'}"
    if credits.get("reset_frequency"):
        resets += f", {credits['reset_frequency']}"
    return [
        figure("credits_used", "Credits used", credits.get("used", 0), of=credits.get("total", 0)),
        figure("credits_remaining", "Remaining", credits.get("remaining", 0), note=resets),
        figure("credits_overage", "Overage", credits.get("overage") or 0),
    ]


def _sendgrid(report: dict, activity: dict) -> dict:
    counts = [figure(key, label, activity.get(key)) for key, label in SENDGRID_COUNTS.items()]
    rates = [figure(key, label, activity.get(key), "share") for key, label in SENDGRID_RATES.items()]
    credits = ((report.get("capacity") or {}).get("credits")) or None
    capacity = _credits(credits) if credits else []
    return {
        "activity": counts + rates,
        "capacity": capacity,
        "highlights": capacity[:2] + rates,
        "summary": [f for f in counts if f["key"] in SENDGRID_SUMMARY],
        "noun": "teammates",
        "active_means": "",
    }


def _other(report: dict, activity: dict) -> dict:
    figures = [
        figure(key, key.replace("_", " ").capitalize(), value, "share" if key.endswith("_rate") else "count")
        for key, value in activity.items()
    ]
    return {"activity": figures, "noun": "users", "active_means": ""}


def new_shape(report: dict) -> dict:
    """One snapshot of the old shape in the typed report's shape (a new one is returned as it is)."""
    if not is_old(report):
        return report
    activity = report["activity"]
    convert = {"hubspot": _hubspot, "sendgrid": _sendgrid}.get(report.get("provider"), _other)
    parts = convert(report, activity)
    seats = dict(report["seats"])
    seats["inactive_paid_users"] = [
        {"name": None, "seat_type": None, "team": None, **seat}
        for seat in seats.get("inactive_paid_users") or []
    ]
    seats.setdefault("seat_types", {})
    seats.setdefault("teams", None)
    seats["noun"], seats["active_means"] = parts["noun"], parts["active_means"]
    return {
        "team_id": report["team_id"],
        "provider": report["provider"],
        "account": report["account"],
        "period": report["period"],
        "seats": seats,
        "activity": parts["activity"],
        "signals": report.get("signals") or {"used": [], "unavailable": []},
        "collected_at": report["collected_at"],
        "capacity": parts.get("capacity", []),
        "highlights": parts.get("highlights", []),
        "summary": parts.get("summary", []),
        "per_user": report.get("per_user") or {},
        "details": report.get("details") or {},
    }


SNAPSHOTS = sa.table("usage_snapshots", sa.column("id", sa.Integer), sa.column("report", sa.Text))
BATCH = 500  # snapshots read at once: memory stays flat however many a deployment holds


def _rows():
    """(id, report) of every snapshot, BATCH at a time."""
    bind = op.get_bind()
    ids = list(bind.scalars(sa.select(SNAPSHOTS.c.id).order_by(SNAPSHOTS.c.id)))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        query = sa.select(SNAPSHOTS.c.id, SNAPSHOTS.c.report).where(SNAPSHOTS.c.id.in_(chunk))
        yield from bind.execute(query).all()  # read whole before its rows are written


def upgrade() -> None:
    bind = op.get_bind()
    for row_id, text in _rows():
        report = json.loads(text)
        if is_old(report):
            new = json.dumps(new_shape(report), separators=(",", ":"))
            bind.execute(SNAPSHOTS.update().where(SNAPSHOTS.c.id == row_id).values(report=new))


def downgrade() -> None:
    bind = op.get_bind()
    for row_id, text in _rows():
        if not is_old(json.loads(text)):
            bind.execute(SNAPSHOTS.delete().where(SNAPSHOTS.c.id == row_id))
