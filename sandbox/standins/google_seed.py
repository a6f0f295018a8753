"""Deterministic Google Workspace domain data for the stand-in, and its truth counted without HTTP.

`generate_domain(seed, now=..., n_users=...)` is pure: the same arguments give the same domain. Sign-ins
are placed relative to `now` (the injected clock), so the domain is as idle a year from now as today.
`truth(domain, since)` counts, from the plain data, what a collection must report.

What is modelled (Admin SDK Directory `users`, Enterprise License Manager `licenseAssignments`,
Reports `accounts:last_login_time`):
- a user: Directory's id (21 digits), `primaryEmail`, `name`, `isAdmin` (super admin),
  `isDelegatedAdmin`, `suspended`, `creationTime`, `lastLoginTime` (``1970-01-01T00:00:00.000Z`` for
  one who never signed in), and the sign-in before the last one (`previous_login`): the usage report
  of a day before the last sign-in shows that one;
- a licence: one SKU of the product ``Google-Apps`` (Business Standard or Business Plus) per licensed
  user, or none.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

PRODUCT = "Google-Apps"
PRODUCT_NAME = "Google Workspace"
STANDARD = ("1010020028", "Google Workspace Business Standard")
PLUS = ("1010020025", "Google Workspace Business Plus")
SKUS = {STANDARD[0]: STANDARD[1], PLUS[0]: PLUS[1]}
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # Directory's lastLoginTime for one who never signed in
FIRST = ("Ada", "Bo", "Chen", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea", "Milo", "Nia")
LAST = ("Ng", "Okafor", "Park", "Quinn", "Rossi", "Silva", "Tanaka", "Umar", "Vega", "Weiss", "Xu", "Young")


def google_time(moment: datetime) -> str:
    """Google's timestamps: UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class User:
    id: str
    email: str
    given_name: str
    family_name: str
    created: datetime
    last_login: datetime | None  # None: never signed in
    previous_login: datetime | None = None  # the sign-in before `last_login`
    admin: bool = False  # a super admin
    delegated_admin: bool = False
    suspended: bool = False
    sku: str | None = None  # the Google-Apps SKU id the user holds, or None

    def login_as_of(self, day: date) -> datetime | None:
        """The last sign-in the usage report of `day` knows (it covers the day, UTC)."""
        end = datetime.combine(day + timedelta(days=1), time(), UTC)
        for moment in (self.last_login, self.previous_login):
            if moment is not None and moment < end:
                return moment
        return None

    def to_json(self, customer_id: str) -> dict[str, object]:
        """The Directory `User` resource (projection=basic)."""
        body: dict[str, object] = {
            "kind": "admin#directory#user",
            "id": self.id,
            "etag": f'"{self.id[-8:]}"',
            "primaryEmail": self.email,
            "name": {
                "givenName": self.given_name,
                "familyName": self.family_name,
                "fullName": f"{self.given_name} {self.family_name}",
            },
            "isAdmin": self.admin,
            "isDelegatedAdmin": self.delegated_admin,
            "lastLoginTime": google_time(self.last_login or NEVER),
            "creationTime": google_time(self.created),
            "agreedToTerms": self.last_login is not None,
            "suspended": self.suspended,
            "archived": False,
            "changePasswordAtNextLogin": False,
            "ipWhitelisted": False,
            "emails": [{"address": self.email, "primary": True}],
            "customerId": customer_id,
            "orgUnitPath": "/",
            "isMailboxSetup": True,
            "isEnrolledIn2Sv": self.admin,
            "isEnforcedIn2Sv": False,
            "includeInGlobalAddressList": True,
        }
        if self.suspended:
            body["suspensionReason"] = "ADMIN"
        return body


@dataclass
class Domain:
    customer_id: str
    domain: str
    users: list[User] = field(default_factory=list)

    def find(self, key: str) -> User | None:
        """A user by id or primary email (case-insensitive), as Google's `userKey` is read."""
        key = key.lower()
        return next((u for u in self.users if key in (u.id, u.email.lower())), None)

    def set_sku(self, email: str, sku: str | None) -> None:
        self.users = [replace(u, sku=sku) if u.email.lower() == email.lower() else u for u in self.users]

    def licensed(self, sku: str | None = None) -> list[User]:
        return [u for u in self.users if u.sku is not None and (sku is None or u.sku == sku)]

    @property
    def super_admins(self) -> list[User]:
        return [u for u in self.users if u.admin and not u.suspended]


def _id(rng: random.Random) -> str:
    return "1" + "".join(rng.choice("0123456789") for _ in range(20))


def generate_domain(
    seed: int,
    *,
    now: datetime,
    n_users: int = 300,
    domain: str = "acme.example",
    customer_id: str = "C01x2y3z4",
) -> Domain:
    """A domain of `n_users` users (at least 1: the super admin `admin@<domain>`, licensed, signed in
    today). Mix: a few more super admins and delegated admins; licensed users active in the last 20
    days, licensed idle 40-400 days, licensed never signed in, suspended users still holding a licence,
    unlicensed users (some suspended)."""
    rng = random.Random(seed)
    users: list[User] = []
    for n in range(max(1, n_users)):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        created = (now - timedelta(days=rng.randint(400, 1500))).replace(microsecond=0)
        sku = PLUS[0] if rng.random() < 0.3 else STANDARD[0]
        admin, delegated, suspended = n % 40 == 1, n % 30 == 2, False
        if n == 0:
            email, admin, login = f"admin@{domain}", True, now - timedelta(hours=2)
        else:
            email = f"{first.lower()}.{last.lower()}.{n}@{domain}"
            draw = rng.random()
            if draw < 0.45:
                login = now - timedelta(days=rng.uniform(0.05, 20))
            elif draw < 0.65:
                login = now - timedelta(days=rng.uniform(40, 400))
            elif draw < 0.73:
                login = None
            elif draw < 0.80:
                suspended, login = True, now - timedelta(days=rng.uniform(1, 200))
            elif draw < 0.85:
                suspended, sku, login = True, None, now - timedelta(days=rng.uniform(1, 200))
            else:
                sku = None
                login = now - timedelta(days=rng.uniform(0.5, 300)) if rng.random() < 0.7 else None
        login = login.replace(microsecond=rng.randint(0, 999) * 1000) if login else None
        previous = login - timedelta(days=rng.uniform(2, 60)) if login else None
        users.append(
            User(
                id=_id(rng),
                email=email,
                given_name=first,
                family_name=last,
                created=created,
                last_login=login,
                previous_login=previous.replace(microsecond=0) if previous else None,
                admin=admin,
                delegated_admin=delegated and not admin,
                suspended=suspended,
                sku=sku,
            )
        )
    return Domain(customer_id=customer_id, domain=domain, users=users)


@dataclass(frozen=True)
class Truth:
    users: int
    licences: int  # seats: licences held
    by_sku: dict[str, int]  # SKU name -> licences held
    active: int  # licensed, not suspended, signed in since `since`
    idle: tuple[str, ...]  # Directory ids: licensed and suspended, or no sign-in since `since`
    suspended_licensed: tuple[str, ...]
    never: int  # licensed, never signed in
    idle_admins: tuple[str, ...]  # idle seats of super or delegated admins


def truth(domain: Domain, since: datetime) -> Truth:
    """What a collection over a period starting at `since` must find, counted from the seed."""
    licensed = domain.licensed()
    idle = [u for u in licensed if u.suspended or u.last_login is None or u.last_login < since]
    by_sku: dict[str, int] = {}
    for user in licensed:
        by_sku[SKUS[user.sku]] = by_sku.get(SKUS[user.sku], 0) + 1
    return Truth(
        users=len(domain.users),
        licences=len(licensed),
        by_sku=dict(sorted(by_sku.items())),
        active=len(licensed) - len(idle),
        idle=tuple(sorted(u.id for u in idle)),
        suspended_licensed=tuple(sorted(u.id for u in licensed if u.suspended)),
        never=sum(1 for u in licensed if u.last_login is None),
        idle_admins=tuple(sorted(u.id for u in idle if u.admin or u.delegated_admin)),
    )
