"""Seeded HubSpot portal data for the HubSpot stand-in: pure, deterministic, no HTTP.

`generate_portal(seed, portal_id=..., start=..., end=...)` builds one HubSpot
account: roles, teams, users (paid seats, free users, super admins), owners
(one per user plus archived owners of deactivated users), login attempts and
CRM records of every object type the bot reads, with create/update times
spread over [start, end].

Everything is a plain dataclass in plain lists so tests can compute expected
answers without going through HTTP. Record property values are typed here
(epoch milliseconds for dates, ints for ids); the stand-in formats them as
HubSpot does (ISO 8601 strings, decimal strings).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

DAY_MS = 86_400_000

OBJECT_TYPES = ("contacts", "companies", "deals", "calls", "emails", "meetings", "notes", "tasks")
ENGAGEMENT_TYPES = ("calls", "emails", "meetings", "notes", "tasks")

# Date properties as HubSpot names them per object type.
CREATE_PROPERTY = {"contacts": "createdate", "companies": "createdate", "deals": "createdate"}
MODIFIED_PROPERTY = {
    "contacts": "lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
}
for _t in ENGAGEMENT_TYPES:
    CREATE_PROPERTY[_t] = "hs_createdate"
    MODIFIED_PROPERTY[_t] = "hs_lastmodifieddate"

SEAT_NAMES = ("Sales Hub Professional", "Service Hub Professional", "Core Seat")
FIRST_NAMES = ("Ada", "Ben", "Cleo", "Dev", "Eva", "Finn", "Gia", "Hugo", "Iris", "Jon", "Kai", "Lena")
LAST_NAMES = ("Ng", "Okafor", "Patel", "Quinn", "Rossi", "Silva", "Tanaka", "Ulla", "Vega", "Weber")
LOCATIONS = (("Boston, MA, US", "US"), ("Dublin, IE", "IE"), ("Berlin, DE", "DE"), ("Austin, TX, US", "US"))
USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/125.0 Safari/537.36",
    "HubSpot/6.12 (iPhone; iOS 17.5)",
)


@dataclass
class Role:
    id: str
    name: str
    requires_billing_write: bool


@dataclass
class Team:
    id: str
    name: str


@dataclass
class User:
    id: int
    email: str
    first_name: str
    last_name: str
    role_id: str | None
    role_ids: list[str]
    primary_team_id: str | None
    super_admin: bool
    seat_names: list[str]  # paid seats; empty for free users
    deactivated_at_ms: int | None = None  # set for users no longer in the settings API


@dataclass
class Owner:
    id: int
    email: str
    first_name: str
    last_name: str
    user_id: int | None  # None once the user is deactivated (archived owner)
    user_id_including_inactive: int
    created_at_ms: int
    updated_at_ms: int
    archived: bool
    teams: list[Team]


@dataclass
class LoginAttempt:
    id: int
    login_at_ms: int
    login_succeeded: bool
    user_id: int
    email: str
    ip_address: str
    location: str
    country_code: str
    user_agent: str


@dataclass(slots=True)
class Record:
    object_type: str
    id: int
    created_ms: int
    updated_ms: int
    timestamp_ms: int | None  # hs_timestamp, engagements only
    owner_id: int | None  # hubspot_owner_id
    created_by_user_id: int | None  # hs_created_by_user_id (None: import/integration)
    updated_by_user_id: int | None  # hs_updated_by_user_id
    archived: bool = False  # archived records are never returned by search


@dataclass
class Burst:
    """Extra records of one type created within [start, end] (e.g. >10,000 in one week)."""

    object_type: str
    count: int
    start: datetime
    end: datetime


@dataclass
class PortalData:
    portal_id: int
    domain: str
    roles: list[Role]
    teams: list[Team]
    users: list[User]  # active users: what GET /settings/v3/users lists
    deactivated_users: list[User]
    owners: list[Owner]  # active and archived
    logins: list[LoginAttempt]  # newest first
    records: dict[str, list[Record]]
    installer_user_id: int
    account_type: str = "STANDARD"
    time_zone: str = "US/Eastern"
    company_currency: str = "USD"
    additional_currencies: list[str] = field(default_factory=lambda: ["EUR"])
    utc_offset: str = "-05:00"
    utc_offset_milliseconds: int = -18_000_000
    ui_domain: str = "app.hubspot.com"
    data_hosting_location: str = "na1"

    @property
    def installer(self) -> User:
        return next(u for u in self.users if u.id == self.installer_user_id)

    def live_records(self, object_type: str) -> list[Record]:
        """Records search can return (not archived)."""
        return [r for r in self.records[object_type] if not r.archived]

    def owner(self, owner_id: int) -> Owner | None:
        return next((o for o in self.owners if o.id == owner_id), None)


# --- record properties -------------------------------------------------------------------

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


# --- generation --------------------------------------------------------------------------


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _roles() -> list[Role]:
    return [
        Role("101", "Sales Rep", False),
        Role("102", "Sales Manager (Sales Hub Professional)", True),
        Role("103", "Service Agent (Service Hub Professional)", True),
        Role("104", "Marketing Contributor", False),
        Role("105", "Core Seat User", True),
    ]


def _teams() -> list[Team]:
    return [Team("501", "Sales"), Team("502", "Support"), Team("503", "Marketing")]


def _make_user(rng: random.Random, index: int, user_id: int, domain: str, teams: list[Team]) -> User:
    first, last = FIRST_NAMES[index % len(FIRST_NAMES)], LAST_NAMES[index % len(LAST_NAMES)]
    super_admin = index < 2 or rng.random() < 0.05
    paid = index == 0 or rng.random() < 0.6
    if paid:
        seats = [SEAT_NAMES[rng.randrange(2)]] if rng.random() < 0.8 else [SEAT_NAMES[2]]
        role_id = {"Sales Hub Professional": "102", "Service Hub Professional": "103"}.get(seats[0], "105")
    else:
        seats, role_id = [], rng.choice(("101", "104"))
    if super_admin and rng.random() < 0.5:
        role_id = None
    team = rng.choice(teams) if rng.random() < 0.8 else None
    return User(
        id=user_id,
        email=f"{first.lower()}.{last.lower()}{index}@{domain}",
        first_name=first,
        last_name=last,
        role_id=role_id,
        role_ids=[role_id] if role_id else [],
        primary_team_id=team.id if team else None,
        super_admin=super_admin,
        seat_names=seats,
    )


def _make_users(rng, n_users, n_deactivated, domain, teams, start_ms, end_ms):
    users = [_make_user(rng, i, 7_000_000 + i * 7, domain, teams) for i in range(n_users)]
    gone = [_make_user(rng, n_users + i, 7_500_000 + i * 7, domain, teams) for i in range(n_deactivated)]
    for user in gone:
        user.super_admin = False
        user.deactivated_at_ms = rng.randint(start_ms + (end_ms - start_ms) // 3, end_ms)
    return users, gone


def _make_owners(rng, users, gone, teams, start_ms) -> list[Owner]:
    team_by_id = {t.id: t for t in teams}
    owners = []
    for index, user in enumerate(users + gone):
        created = start_ms - rng.randint(30, 400) * DAY_MS
        archived = user.deactivated_at_ms is not None
        team = team_by_id.get(user.primary_team_id) if user.primary_team_id else None
        owners.append(
            Owner(
                id=90_000_000 + index * 13,
                email=user.email,
                first_name=user.first_name,
                last_name=user.last_name,
                user_id=None if archived else user.id,
                user_id_including_inactive=user.id,
                created_at_ms=created,
                updated_at_ms=user.deactivated_at_ms or created,
                archived=archived,
                teams=[team] if team else [],
            )
        )
    return owners


def _make_logins(rng, users, gone, start_ms, end_ms, per_user) -> list[LoginAttempt]:
    attempts = []
    for index, user in enumerate(users + gone):
        if index % 5 == 4:  # every fifth user never logs in: a dormant seat
            continue
        last = user.deactivated_at_ms or end_ms
        for _ in range(rng.randint(per_user // 2, per_user)):
            where, country = LOCATIONS[index % len(LOCATIONS)]
            attempts.append(
                LoginAttempt(
                    id=0,
                    login_at_ms=rng.randint(start_ms, last),
                    login_succeeded=rng.random() >= 0.1,
                    user_id=user.id,
                    email=user.email,
                    ip_address=f"203.0.113.{index % 250 + 1}",
                    location=where,
                    country_code=country,
                    user_agent=USER_AGENTS[index % len(USER_AGENTS)],
                )
            )
    attempts.sort(key=lambda a: (a.login_at_ms, a.user_id), reverse=True)
    for number, attempt in enumerate(reversed(attempts)):
        attempt.id = 4_000_000 + number
    return attempts


@dataclass
class _Attribution:
    owners: list[Owner]
    user_ids: list[int]
    unowned_fraction: float
    archived_fraction: float


def _make_records(rng, object_type, count, start_ms, end_ms, who: _Attribution) -> list[Record]:
    records = []
    engagement = object_type in ENGAGEMENT_TYPES
    for _ in range(count):
        created = rng.randint(start_ms, end_ms)
        updated = created if rng.random() < 0.3 else rng.randint(created, end_ms)
        owner = None if rng.random() < who.unowned_fraction else rng.choice(who.owners)
        creator = owner.user_id_including_inactive if owner else None
        if creator is None or rng.random() < 0.2:
            creator = rng.choice(who.user_ids) if rng.random() < 0.7 else None
        updater = creator if updated == created else rng.choice(who.user_ids + [None])
        records.append(
            Record(
                object_type=object_type,
                id=0,
                created_ms=created,
                updated_ms=updated,
                timestamp_ms=max(start_ms, created - rng.randint(0, DAY_MS)) if engagement else None,
                owner_id=owner.id if owner else None,
                created_by_user_id=creator,
                updated_by_user_id=updater,
                archived=rng.random() < who.archived_fraction,
            )
        )
    return records


def _assign_ids(records: list[Record], type_index: int) -> None:
    records.sort(key=lambda r: r.created_ms)  # ids grow with creation time, as in HubSpot
    base = (type_index + 1) * 10_000_000_000
    for number, record in enumerate(records):
        record.id = base + number * 3 + 1


def generate_portal(
    seed: int,
    *,
    portal_id: int,
    start: datetime,
    end: datetime,
    n_users: int = 20,
    n_deactivated: int = 3,
    records_per_type: int | Mapping[str, int] = 300,
    logins_per_user: int = 30,
    unowned_fraction: float = 0.1,
    archived_fraction: float = 0.01,
    burst: Burst | None = None,
    domain: str | None = None,
    data_hosting_location: str = "na1",
) -> PortalData:
    """One HubSpot account, fully determined by `seed` and the arguments.

    `records_per_type` is a count for every type or a mapping type -> count
    (types left out get none). `burst` adds that many records of one type
    created within its own window (use it for the >10,000-results case).
    """
    rng = random.Random(seed)
    start_ms, end_ms = to_ms(start), to_ms(end)
    domain = domain or f"portal{portal_id}.example.com"
    teams = _teams()
    users, gone = _make_users(rng, n_users, n_deactivated, domain, teams, start_ms, end_ms)
    owners = _make_owners(rng, users, gone, teams, start_ms)
    who = _Attribution(owners, [u.id for u in users + gone], unowned_fraction, archived_fraction)
    counts = (
        records_per_type
        if isinstance(records_per_type, Mapping)
        else dict.fromkeys(OBJECT_TYPES, records_per_type)
    )
    records: dict[str, list[Record]] = {}
    for type_index, object_type in enumerate(OBJECT_TYPES):
        items = _make_records(rng, object_type, counts.get(object_type, 0), start_ms, end_ms, who)
        if burst and burst.object_type == object_type:
            items += _make_records(rng, object_type, burst.count, to_ms(burst.start), to_ms(burst.end), who)
        _assign_ids(items, type_index)
        records[object_type] = items
    return PortalData(
        portal_id=portal_id,
        domain=domain,
        roles=_roles(),
        teams=teams,
        users=users,
        deactivated_users=gone,
        owners=owners,
        logins=_make_logins(rng, users, gone, start_ms, end_ms, logins_per_user),
        records=records,
        installer_user_id=users[0].id,
        data_hosting_location=data_hosting_location,
    )
