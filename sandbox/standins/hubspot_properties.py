"""Record properties of the HubSpot stand-in as HubSpot names them per object type: each property's
type ("datetime", "number", "string", "enumeration") and how to read it from a seeded `Record`."""

from __future__ import annotations

import functools
from collections.abc import Callable

from sandbox.standins.hubspot_model import CREATE_PROPERTY, ENGAGEMENT_TYPES, MODIFIED_PROPERTY, Record
from sandbox.standins.hubspot_seed import FIRST_NAMES, LAST_NAMES

PropertyGetter = Callable[[Record], "int | str | None"]


def _text(template: str) -> PropertyGetter:
    return lambda r: template.format(id=r.id)


_COMMON: dict[str, tuple[str, PropertyGetter]] = {
    "hs_object_id": ("number", lambda r: r.id),
    "hubspot_owner_id": ("number", lambda r: r.owner_id),
    "hs_created_by_user_id": ("number", lambda r: r.created_by_user_id),
    "hs_updated_by_user_id": ("number", lambda r: r.updated_by_user_id),
}
_SPECIFIC: dict[str, dict[str, tuple[str, PropertyGetter]]] = {
    "contacts": {
        "email": ("string", _text("contact{id}@example.org")),
        "firstname": ("string", lambda r: FIRST_NAMES[r.id % len(FIRST_NAMES)]),
        "lastname": ("string", lambda r: LAST_NAMES[r.id % len(LAST_NAMES)]),
    },
    "companies": {
        "name": ("string", _text("Company {id}")),
        "domain": ("string", _text("company{id}.example.com")),
    },
    "deals": {
        "dealname": ("string", _text("Deal {id}")),
        "amount": ("number", lambda r: (r.id % 50 + 1) * 1000),
        "dealstage": ("enumeration", lambda r: ("appointmentscheduled", "closedwon", "closedlost")[r.id % 3]),
        "pipeline": ("enumeration", lambda r: "default"),
    },
    "calls": {
        "hs_call_title": ("string", _text("Call {id}")),
        "hs_call_direction": ("enumeration", lambda r: ("INBOUND", "OUTBOUND")[r.id % 2]),
    },
    "emails": {
        "hs_email_subject": ("string", _text("Re: proposal {id}")),
        "hs_email_direction": ("enumeration", lambda r: ("EMAIL", "INCOMING_EMAIL")[r.id % 2]),
    },
    "meetings": {"hs_meeting_title": ("string", _text("Meeting {id}"))},
    "notes": {"hs_note_body": ("string", _text("Note {id}"))},
    "tasks": {
        "hs_task_subject": ("string", _text("Task {id}")),
        "hs_task_status": ("enumeration", lambda r: ("NOT_STARTED", "COMPLETED")[r.id % 2]),
    },
}


@functools.cache
def property_schema(object_type: str) -> dict[str, tuple[str, PropertyGetter]]:
    """name -> (type, getter) for every property of `object_type`; type is
    "datetime", "number", "string" or "enumeration". Cached: do not mutate the result."""
    schema: dict[str, tuple[str, PropertyGetter]] = {
        CREATE_PROPERTY[object_type]: ("datetime", lambda r: r.created_ms),
        MODIFIED_PROPERTY[object_type]: ("datetime", lambda r: r.updated_ms),
    }
    if object_type in ENGAGEMENT_TYPES:
        schema["hs_timestamp"] = ("datetime", lambda r: r.timestamp_ms)
    schema.update(_COMMON)
    schema.update(_SPECIFIC[object_type])
    return schema


def default_properties(object_type: str) -> tuple[str, ...]:
    """Properties search returns when the request names none (always includes these)."""
    base = (CREATE_PROPERTY[object_type], MODIFIED_PROPERTY[object_type], "hs_object_id")
    return base + tuple(_SPECIFIC[object_type])
