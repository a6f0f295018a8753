"""What HubSpot's figures are called and which of them a short summary shows. Pure: data in, figures out."""

from __future__ import annotations

from collections.abc import Mapping

from core.reports import Figure

# feature -> label, in the order reports list them
FEATURES: Mapping[str, str] = {
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
HUBSPOT_FEATURES: tuple[str, ...] = tuple(FEATURES)
# the digest's activity line: (key, label, the features it adds up)
SUMMARY: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("records_created", "Records created", ("contacts_created", "companies_created", "deals_created")),
    (
        "engagements_logged",
        "Engagements logged",
        ("calls_logged", "emails_logged", "meetings_logged", "notes_logged", "tasks_logged"),
    ),
    ("logins", "Logins", ("logins",)),
)
ACTIVE_MEANS = "signed in, or created, changed or logged a CRM record"
ACTIVE_MEANS_NO_LOGINS = "created, changed or logged a CRM record (sign-ins could not be read)"


def activity_figures(activity: Mapping[str, int | None]) -> tuple[Figure, ...]:
    return tuple(Figure(key, label, activity.get(key)) for key, label in FEATURES.items())


def summary_figures(activity: Mapping[str, int | None]) -> tuple[Figure, ...]:
    """Each summary figure adds up its features; None when none of them could be read."""
    out = []
    for key, label, parts in SUMMARY:
        known = [value for part in parts if (value := activity.get(part)) is not None]
        out.append(Figure(key, label, sum(known) if known else None))
    return tuple(out)
