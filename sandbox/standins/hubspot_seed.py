"""Seeded HubSpot portal data for the HubSpot stand-in: pure, deterministic, no HTTP.

`generate_portal(seed, portal_id=..., start=..., end=...)` builds one HubSpot
account: roles, teams, users (paid seats, free users, super admins), owners
(one per user plus archived owners of deactivated users), login attempts and
CRM records of every object type the bot reads, with create/update times
spread over [start, end]. The dataclasses it fills are in hubspot_model.py.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sandbox.standins.hubspot_model import (
    ENGAGEMENT_TYPES,
    OBJECT_TYPES,
    LoginAttempt,
    Owner,
    PortalData,
    Record,
    Role,
    Team,
    User,
)

DAY_MS = 86_400_000

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
class Burst:
    """Extra records of one type created within [start, end] (e.g. >10,000 in one week)."""

    object_type: str
    count: int
    start: datetime
    end: datetime


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
