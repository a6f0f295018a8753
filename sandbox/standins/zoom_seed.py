"""Deterministic Zoom account data for the stand-in, and its truth counted without HTTP.

`generate_account(seed, now=..., ...)` is pure: the same arguments give the same account. Logins are
placed relative to `now` (the injected clock), so the account is as idle a year from now as today.
`truth(account, since)` counts, from the plain data, what a collection must report: licensed users,
those who signed in since `since`, the idle licensed ones (owners and admins flagged), basic users;
`hosts_truth(account, start, end)` what the active-hosts report must list (who hosted meetings then).

Zoom's user `type`: 1 Basic, 2 Licensed, 4 Unassigned without Meetings Basic, 99 None (only with
another Zoom product). `role_id`: "0" Owner, "1" Admin, "2" Member (Zoom's default roles).
`last_login_time` is absent for a user who never signed in.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

BASIC, LICENSED, UNASSIGNED, NONE = 1, 2, 4, 99
OWNER_ROLE, ADMIN_ROLE, MEMBER_ROLE = "0", "1", "2"
ROLE_NAMES = {OWNER_ROLE: "Owner", ADMIN_ROLE: "Admin", MEMBER_ROLE: "Member"}
FIRST = ("Ada", "Bo", "Chen", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea", "Milo", "Nia")
LAST = ("Ng", "Okafor", "Park", "Quinn", "Rossi", "Silva", "Tanaka", "Umar", "Vega", "Weiss", "Xu", "Young")


def zoom_time(moment: datetime) -> str:
    """Zoom's timestamps: UTC, whole seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Hosted:
    """Meetings one user hosted on one day (UTC)."""

    day: date
    meetings: int
    minutes: int
    participants: int


@dataclass(frozen=True)
class ZoomUser:
    id: str
    email: str
    first_name: str
    last_name: str
    type: int
    role_id: str
    status: str  # "active" | "inactive" | "pending"
    created_at: datetime
    last_login_time: datetime | None  # None: never signed in (the field is absent)
    hosted: tuple[Hosted, ...] = ()  # the days they hosted meetings (the active-hosts report)

    @property
    def admin(self) -> bool:
        return self.role_id in (OWNER_ROLE, ADMIN_ROLE)

    def to_json(self) -> dict[str, object]:
        """The object `GET /v2/users` lists for this user."""
        body: dict[str, object] = {
            "id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "display_name": f"{self.first_name} {self.last_name}",
            "email": self.email,
            "type": self.type,
            "pmi": int(self.id.encode().hex()[:10], 16) % 10**10,
            "timezone": "UTC",
            "verified": 1,
            "dept": "",
            "created_at": zoom_time(self.created_at),
            "user_created_at": zoom_time(self.created_at),
            "language": "en-US",
            "status": self.status,
            "role_id": self.role_id,
        }
        if self.last_login_time is not None:
            body["last_login_time"] = zoom_time(self.last_login_time)
            body["last_client_version"] = "6.2.5.43096(mac)"
        return body


@dataclass
class ZoomAccount:
    account_id: str
    name: str
    plan: str  # "free" | "pro" | "business": selects the rate-limit table
    users: list[ZoomUser] = field(default_factory=list)

    @property
    def owner(self) -> ZoomUser:
        return next(u for u in self.users if u.role_id == OWNER_ROLE)

    def find(self, user_id: str) -> ZoomUser | None:
        return next((u for u in self.users if user_id in (u.id, u.email)), None)

    def set_type(self, user_id: str, kind: int) -> None:
        self.users = [replace(u, type=kind) if u.id == user_id else u for u in self.users]


def _user_id(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits + "_-") for _ in range(22))


def generate_account(
    seed: int,
    *,
    now: datetime,
    account_id: str = "aBcD1234EfGh",
    name: str = "Acme Video",
    plan: str = "pro",
    n_users: int = 240,
) -> ZoomAccount:
    """An account of `n_users` active users (at least 1: the owner), plus a few deactivated ones.

    Mix: the owner (licensed, signed in today), admins, licensed users active in the last 20 days,
    licensed users idle for 40-400 days, licensed users who never signed in, basic users, a few of
    type 4 and 99.
    """
    rng = random.Random(seed)
    users: list[ZoomUser] = []
    for n in range(max(1, n_users)):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        created = now - timedelta(days=rng.randint(400, 1500))
        if n == 0:
            role, kind, login = OWNER_ROLE, LICENSED, now - timedelta(hours=2)
        else:
            role = ADMIN_ROLE if n % 25 == 1 else MEMBER_ROLE
            draw = rng.random()
            if draw < 0.40:
                kind, login = LICENSED, now - timedelta(days=rng.uniform(0.1, 20))
            elif draw < 0.60:
                kind, login = LICENSED, now - timedelta(days=rng.uniform(40, 400))
            elif draw < 0.68:
                kind, login = LICENSED, None
            elif draw < 0.94:
                kind = BASIC
                login = now - timedelta(days=rng.uniform(0.5, 300)) if rng.random() < 0.7 else None
            else:
                kind, login = rng.choice((UNASSIGNED, NONE)), None
        users.append(
            ZoomUser(
                id=_user_id(rng),
                email=f"{first.lower()}.{last.lower()}.{n}@acme.example",
                first_name=first,
                last_name=last,
                type=kind,
                role_id=role,
                status="active",
                created_at=created,
                last_login_time=login.replace(microsecond=0) if login else None,
            )
        )
    for n in range(3):  # deactivated users: `status=active` never lists them
        users.append(
            ZoomUser(
                id=_user_id(rng),
                email=f"former.{n}@acme.example",
                first_name="Former",
                last_name=str(n),
                type=BASIC,
                role_id=MEMBER_ROLE,
                status="inactive",
                created_at=now - timedelta(days=900),
                last_login_time=(now - timedelta(days=500)).replace(microsecond=0),
            )
        )
    return ZoomAccount(account_id=account_id, name=name, plan=plan, users=_with_meetings(seed, users))


def _with_meetings(seed: int, users: list[ZoomUser]) -> list[ZoomUser]:
    """Most users who signed in hosted meetings on a few days up to their last sign-in (hosting
    needs a sign-in), drawn from a generator of their own so the users stay as they were."""
    rng = random.Random(seed * 7919 + 1)
    hosting = []
    for user in users:
        if user.last_login_time is None or user.status != "active" or rng.random() < 0.3:
            hosting.append(user)
            continue
        last = user.last_login_time.date()
        days = sorted({last - timedelta(days=rng.randint(0, 90)) for _ in range(rng.randint(1, 12))})
        hosted = tuple(
            Hosted(
                day, n, sum(rng.randint(10, 90) for _ in range(n)), sum(rng.randint(2, 12) for _ in range(n))
            )
            for day in days
            for n in (rng.randint(1, 3),)
        )
        hosting.append(replace(user, hosted=hosted))
    return hosting


@dataclass(frozen=True)
class HostsTruth:
    """The active-hosts report over [start, end] (days, UTC), counted from the seed."""

    hosts: tuple[str, ...]  # user ids who hosted at least one meeting
    licensed_hosts: tuple[str, ...]
    meetings: int
    minutes: int
    participants: int


def hosts_truth(account: ZoomAccount, start: date, end: date) -> HostsTruth:
    days = {u.id: [h for h in u.hosted if start <= h.day <= end] for u in account.users}
    hosts = [u for u in account.users if days[u.id]]
    every = [h for user in hosts for h in days[user.id]]
    return HostsTruth(
        hosts=tuple(u.id for u in hosts),
        licensed_hosts=tuple(u.id for u in hosts if u.type == LICENSED),
        meetings=sum(h.meetings for h in every),
        minutes=sum(h.minutes for h in every),
        participants=sum(h.participants for h in every),
    )


@dataclass(frozen=True)
class Truth:
    licensed: int
    active_licensed: int
    idle_licensed: tuple[str, ...]  # user ids
    idle_admins: tuple[str, ...]  # idle licensed owners and admins
    basic: int
    users: int  # active users of every type
    types: dict[int, int]


def truth(account: ZoomAccount, since: datetime) -> Truth:
    """What a collection over a period starting at `since` must find, counted from the seed."""
    listed = [u for u in account.users if u.status == "active"]
    licensed = [u for u in listed if u.type == LICENSED]
    idle = [u for u in licensed if u.last_login_time is None or u.last_login_time < since]
    types: dict[int, int] = {}
    for user in listed:
        types[user.type] = types.get(user.type, 0) + 1
    return Truth(
        licensed=len(licensed),
        active_licensed=len(licensed) - len(idle),
        idle_licensed=tuple(u.id for u in idle),
        idle_admins=tuple(u.id for u in idle if u.admin),
        basic=types.get(BASIC, 0),
        users=len(listed),
        types=types,
    )
