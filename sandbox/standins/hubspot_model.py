"""The HubSpot stand-in's data model: one portal (account) and what it holds, as plain dataclasses in
plain lists, so tests can compute expected answers without going through HTTP. Record property values
are typed (epoch milliseconds for dates, ints for ids); the stand-in formats them as HubSpot does (ISO
8601 strings, decimal strings). hubspot_seed.py generates portals; hubspot_properties.py names and reads
the record properties."""

from __future__ import annotations

from dataclasses import dataclass, field

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
