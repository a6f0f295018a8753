"""The Slack answers collection reads, as msgspec Structs of only the fields read: a `users.list` page
holds 1,000 full member objects, and building dicts of all of them, then reading them by key, was most
of a call's CPU.

Every Struct here is `gc=False`: its instances hold only strings, booleans, numbers, other such
Structs and JSON values, none of which can refer back to it, so no reference cycle can run through
them and the cyclic garbage collector has nothing to find there. Tracked, the ~3,000 objects of a
collection of 2,000 people set off about ten young-generation collections a run (about 2 ms of a
run's ~16 ms of CPU, measured with `gc.callbacks`; benchmarks/README.md, 6 December, second round),
as Zoom's and Google's page Structs already avoid."""

from __future__ import annotations

from typing import Any

import msgspec


class Profile(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    email: str | None = None
    real_name: str | None = None


class Grid(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    is_admin: bool = False
    is_owner: bool = False


class Member(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    id: str = ""
    name: str | None = None
    real_name: str | None = None
    deleted: bool = False
    is_bot: bool = False
    is_app_user: bool = False
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    is_admin: bool = False
    is_owner: bool = False
    is_primary_owner: bool = False
    profile: Profile | None = None
    enterprise_user: Grid | None = None


class Metadata(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    next_cursor: str = ""


class Billing(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    billing_active: bool = False


class _Answer(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    ok: bool = False
    error: str | None = None
    needed: str | None = None
    response_metadata: Metadata | None = None

    @property
    def next_cursor(self) -> str:
        return self.response_metadata.next_cursor if self.response_metadata else ""


class MembersPage(_Answer, frozen=True, kw_only=True, gc=False):
    members: list[Member] = []


class BillingPage(_Answer, frozen=True, kw_only=True, gc=False):
    billable_info: dict[str, Billing] = {}


class Login(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A `team.accessLogs` entry, as much as is read of it (`Any`: read as the dict's values were)."""

    user_id: Any = None
    date_last: Any = None


class LoginsPage(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A `team.accessLogs` page. Every field takes any JSON value, so no answer that decoded into a dict
    before fails here (a list or other non-object answer was an `unknown_error` before and still is):
    `logins` entries that are not objects stay as they came and are skipped, as the dict reading
    skipped them; `ok`, `error` and `needed` are `Any` so that an `ok: false` answer is read by
    `api.error_of` exactly as before. Decoding a page of 1,000 entries this way takes about a third of
    the CPU of decoding it into dicts (0.17 against 0.50 ms measured here)."""

    ok: Any = None
    error: Any = None
    needed: Any = None
    logins: (
        list[Login | str | int | float | bool | None | list[Any]] | dict[str, Any] | str | float | bool | None
    ) = None
    paging: Any = None
