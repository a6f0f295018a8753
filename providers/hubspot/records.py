"""HubSpot result pages, read fast: decode only the fields counted and tally while streaming.

A portal's collection reads tens of thousands of CRM records and login attempts, 200 to a page,
and the per-record work used to be a large part of the collector's CPU (4.7 µs per record, 0.9 ms
per page: benchmarks/aggregate_page.py). Here a page is decoded by msgspec straight into small typed
structs holding only the properties that are counted, dates parsed to aware datetimes in C; the
tallies compare them with the period's edges (datetimes computed once per collection) and bump
plain dict counters keyed by the raw id strings, normalised once per distinct id at the end.
Nothing is logged per record.

A page that does not fit the typed shape (a date sent as epoch milliseconds or without a time
zone, an id sent as a number) is decoded generically instead and counted record by record with
the tolerant rules of `record_events`: odd data costs speed, never a count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated, Any

import msgspec

UPDATE_GRACE_MS = 60_000
_GRACE = timedelta(milliseconds=UPDATE_GRACE_MS)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Moment = Annotated[datetime, msgspec.Meta(tz=True)]  # naive times go to the tolerant path


@dataclass(frozen=True)
class ObjectSpec:
    """How one CRM object type is searched and counted."""

    object_type: str
    created_property: str
    created_feature: str
    modified_property: str | None = None  # None: only creations count (engagements)
    updated_feature: str | None = None
    scope: str | None = None  # a scope we know it needs; None: let HubSpot say

    @property
    def features(self) -> tuple[str, ...]:
        return (self.created_feature,) + ((self.updated_feature,) if self.updated_feature else ())

    @property
    def properties(self) -> list[str]:
        names = [self.created_property, "hubspot_owner_id", "hs_created_by_user_id"]
        if self.modified_property:
            names += [self.modified_property, "hs_updated_by_user_id"]
        return names


def _crm(object_type: str, modified: str) -> ObjectSpec:
    return ObjectSpec(
        object_type,
        "createdate",
        f"{object_type}_created",
        modified,
        f"{object_type}_updated",
        f"crm.objects.{object_type}.read",
    )


OBJECTS: tuple[ObjectSpec, ...] = (
    _crm("contacts", "lastmodifieddate"),
    _crm("companies", "hs_lastmodifieddate"),
    _crm("deals", "hs_lastmodifieddate"),
    *(
        ObjectSpec(t, "hs_createdate", f"{t}_logged")
        for t in ("calls", "emails", "meetings", "notes", "tasks")
    ),
)


# --------------------------------------------------------------------------- tolerant helpers


def parse_ms(value: Any) -> int | None:
    """A HubSpot date value (ISO 8601 or epoch ms, as string or number) in epoch ms; None if absent."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    moment = datetime.fromisoformat(text)  # Python 3.11 reads the trailing "Z"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)  # exact: epoch ms fit a float's 53 bits


def from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def norm_id(value: Any) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    return text[:-2] if text.endswith(".0") else text  # numbers may come back as "123.0"


def record_events(
    spec: ObjectSpec, properties: Mapping[str, Any], period_start: int, period_end: int
) -> list[tuple[str, str | None, str | None]]:
    """The counted events of one record: (feature, acting user id, owner id) each.

    Pure: the rules of providers/hubspot/usage.py's docstring for one record's properties. The
    tolerant (slow) path; `TypeTally.count` applies the same rules to typed pages.
    """
    events: list[tuple[str, str | None, str | None]] = []
    created = parse_ms(properties.get(spec.created_property))
    owner = norm_id(properties.get("hubspot_owner_id"))
    if created is not None and period_start <= created < period_end:
        events.append((spec.created_feature, norm_id(properties.get("hs_created_by_user_id")), owner))
    if spec.modified_property and spec.updated_feature:
        modified = parse_ms(properties.get(spec.modified_property))
        if (
            modified is not None
            and period_start <= modified < period_end
            and (created is None or modified - created > UPDATE_GRACE_MS)
        ):
            events.append((spec.updated_feature, norm_id(properties.get("hs_updated_by_user_id")), owner))
    return events


# --------------------------------------------------------------------------- typed pages


class _Next(msgspec.Struct, gc=False):
    after: str | int | None = None


class _Paging(msgspec.Struct, gc=False):
    next: _Next | None = None


@cache
def _search_decoder(spec: ObjectSpec) -> msgspec.json.Decoder:
    """A decoder for one object type's search page: only the properties `TypeTally` counts."""

    def prop(name: str | None) -> Any:  # engagements have no modified/updater: always None
        return msgspec.field(default=None, name=name) if name else None

    updates = spec.modified_property is not None
    fields = [
        ("created", Moment | None, prop(spec.created_property)),
        ("owner", str | None, prop("hubspot_owner_id")),
        ("creator", str | None, prop("hs_created_by_user_id")),
        ("modified", Moment | None, prop(spec.modified_property)),
        ("updater", str | None, prop("hs_updated_by_user_id" if updates else None)),
    ]
    properties = msgspec.defstruct(f"{spec.object_type}Properties", fields, gc=False)
    record = msgspec.defstruct(f"{spec.object_type}Record", [("properties", properties)], gc=False)
    page = msgspec.defstruct(
        f"{spec.object_type}Page",
        [("results", list[record], []), ("total", int, 0), ("paging", _Paging | None, None)],
    )
    return msgspec.json.Decoder(page)


@dataclass(frozen=True)
class Page:
    """One decoded page: `records` typed structs (`typed`) or plain dicts (the tolerant path)."""

    records: list[Any]
    total: int
    after: str | None
    typed: bool


def _after(paging: Any) -> str | None:
    cursor = paging.get("next", {}).get("after") if isinstance(paging, dict) else None
    return None if cursor in (None, "") else str(cursor)


def _generic(raw: bytes) -> dict:
    body = msgspec.json.decode(raw) if raw else {}
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    return body


def read_search_page(raw: bytes, spec: ObjectSpec) -> Page:
    """Decode a CRM search answer. Raises ValueError if it is not JSON."""
    try:
        page = _search_decoder(spec).decode(raw)
    except msgspec.ValidationError:
        body = _generic(raw)
        records = [r.get("properties") or {} for r in body.get("results") or [] if isinstance(r, dict)]
        return Page(records, int(body.get("total") or 0), _after(body.get("paging")), typed=False)
    except msgspec.DecodeError as error:
        raise ValueError(str(error)) from None
    nxt = page.paging.next if page.paging is not None else None
    after = None if nxt is None or nxt.after in (None, "") else str(nxt.after)
    return Page(page.results, page.total, after, typed=True)


class _Attempt(msgspec.Struct, gc=False):
    loginAt: Moment | None = None  # noqa: N815 - HubSpot's field names
    loginSucceeded: bool = False  # noqa: N815
    userId: int | str | None = None  # noqa: N815


class _LoginPage(msgspec.Struct, gc=False):
    results: list[_Attempt] = []
    paging: _Paging | None = None


_LOGIN_DECODER = msgspec.json.Decoder(_LoginPage)


def read_login_page(raw: bytes) -> Page:
    """Decode a login-activity page (records: attempts with `loginAt` aware or None)."""
    try:
        page = _LOGIN_DECODER.decode(raw)
    except msgspec.ValidationError:
        body = _generic(raw)
        attempts = []
        for a in body.get("results") or []:
            if isinstance(a, dict):
                at = parse_ms(a.get("loginAt"))
                user = a.get("userId")
                attempts.append(
                    _Attempt(
                        None if at is None else from_ms(at),
                        bool(a.get("loginSucceeded")),
                        user if isinstance(user, int | str) else None,
                    )
                )
        return Page(attempts, 0, _after(body.get("paging")), typed=False)
    except msgspec.DecodeError as error:
        raise ValueError(str(error)) from None
    nxt = page.paging.next if page.paging is not None else None
    after = None if nxt is None or nxt.after in (None, "") else str(nxt.after)
    return Page(page.results, 0, after, typed=True)


# --------------------------------------------------------------------------- tallies


def _bump(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


class TypeTally:
    """Counts of one object type over the period [p0, p1) (epoch ms), merged only if the whole type was read.

    Creations and updates are counted per acting user (raw id strings) and, where HubSpot
    recorded no user, per owner; `per_user` resolves owners and normalises ids once per id.
    """

    __slots__ = ("spec", "p0", "p1", "t0", "t1", "created", "updated", "_by")

    def __init__(self, spec: ObjectSpec, p0: int, p1: int) -> None:
        self.spec, self.p0, self.p1 = spec, p0, p1
        self.t0, self.t1 = from_ms(p0), from_ms(p1)
        self.created = self.updated = 0
        # [created by user, created by owner, updated by user, updated by owner]
        self._by: tuple[dict[str, int], ...] = ({}, {}, {}, {})

    def count(self, page: Page) -> None:
        if not page.typed:
            for properties in page.records:
                for feature, user, owner in record_events(self.spec, properties, self.p0, self.p1):
                    self.add(feature, user, owner)
            return
        t0, t1 = self.t0, self.t1
        created_user, created_owner, updated_user, updated_owner = self._by
        created = updated = 0
        updates = self.spec.modified_property is not None
        for record in page.records:
            p = record.properties
            c = p.created
            if c is not None and t0 <= c < t1:
                created += 1
                if user := p.creator:
                    created_user[user] = created_user.get(user, 0) + 1
                elif owner := p.owner:
                    created_owner[owner] = created_owner.get(owner, 0) + 1
            if updates:
                m = p.modified
                if m is not None and t0 <= m < t1 and (c is None or m - c > _GRACE):
                    updated += 1
                    if user := p.updater:
                        updated_user[user] = updated_user.get(user, 0) + 1
                    elif owner := p.owner:
                        updated_owner[owner] = updated_owner.get(owner, 0) + 1
        self.created += created
        self.updated += updated

    def add(self, feature: str, user: str | None, owner: str | None) -> None:
        """One event from the tolerant path (ids already normalised)."""
        update = feature == self.spec.updated_feature
        if update:
            self.updated += 1
        else:
            self.created += 1
        by_user, by_owner = self._by[2:] if update else self._by[:2]
        if user is not None:
            _bump(by_user, user)
        elif owner is not None:
            _bump(by_owner, owner)

    def activity(self) -> dict[str, int]:
        counts = {self.spec.created_feature: self.created}
        if self.spec.updated_feature:
            counts[self.spec.updated_feature] = self.updated
        return counts

    def add_per_user(self, per_user: dict[str, Counter[str]], owners: Mapping[str, str]) -> None:
        """Add this type's attributed counts to `per_user` (owner ids resolved through `owners`)."""
        created_user, created_owner, updated_user, updated_owner = self._by
        for feature, by_user, by_owner in (
            (self.spec.created_feature, created_user, created_owner),
            (self.spec.updated_feature, updated_user, updated_owner),
        ):
            for raw, n in by_user.items():
                if (user := norm_id(raw)) is not None:
                    _counts(per_user, user)[feature] += n
            for raw, n in by_owner.items():
                owner = norm_id(raw)
                if owner is not None and (user := owners.get(owner)) is not None:
                    _counts(per_user, user)[feature] += n


def _counts(per_user: dict[str, Counter[str]], user: str) -> Counter[str]:
    counts = per_user.get(user)
    if counts is None:
        counts = per_user[user] = Counter()
    return counts


class LoginTally:
    """Successful logins in the period per user, and each user's last success before its end, in any order.

    `newest_first` stays True while every attempt read so far came no later than the one before
    it: only then may paging stop early (see `providers/hubspot/usage.py`).
    """

    __slots__ = ("t0", "t1", "in_period", "last_before_end", "newest_first", "oldest", "_ids")

    def __init__(self, p0: int, p1: int) -> None:
        self.t0, self.t1 = from_ms(p0), from_ms(p1)
        self.in_period: dict[str, int] = {}
        self.last_before_end: dict[str, datetime] = {}  # user -> the last success before the end
        self.newest_first = True
        self.oldest: datetime | None = None  # the earliest attempt read so far
        self._ids: dict[int | str, str | None] = {}  # raw user id -> normalised

    def count(self, page: Page) -> set[str]:
        """Count one page; return the users with a success before the period's end on it."""
        t0, t1, ids = self.t0, self.t1, self._ids
        in_period, last = self.in_period, self.last_before_end
        oldest, ordered = self.oldest, self.newest_first
        seen: set[str] = set()
        for attempt in page.records:
            at, raw = attempt.loginAt, attempt.userId
            if at is None or raw is None:
                continue
            if oldest is None or at < oldest:
                oldest = at
            elif at > oldest:
                ordered = False
            if not attempt.loginSucceeded or at >= t1:
                continue
            user = ids[raw] if raw in ids else ids.setdefault(raw, norm_id(raw))
            if user is None:
                continue
            if at >= t0:
                in_period[user] = in_period.get(user, 0) + 1
            previous = last.get(user)
            if previous is None or at > previous:
                last[user] = at
            seen.add(user)
        self.oldest, self.newest_first = oldest, ordered
        return seen

    def past_start(self) -> bool:
        """True once an attempt before the period's start has been read."""
        return self.oldest is not None and self.oldest < self.t0
