"""HubSpot's seat hooks (providers/hubspot/seat_actions.py): the pure decisions table-driven, then
reclaim and undo against the HubSpot stand-in over real HTTP, with the next collection compared with
the seed's truth (`expected_hubspot`, which reads the seed the stand-in changed)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from core.config import Settings
from core.reports import InactiveSeat
from core.seats import SeatOutcome
from providers.http import MissingScopes, ProviderError, RateLimited, TransientError, Unauthorized
from providers.hubspot import seat_actions
from providers.hubspot.client import HubSpotClient
from providers.hubspot.entry import SPEC
from providers.plugin import Connection
from sandbox.standins.hubspot import HubSpotStandIn
from sandbox.standins.hubspot_model import PortalData, User
from sandbox.standins.server import serve_in_thread
from tests.providers.test_hubspot_usage import (
    ALL_SCOPES,
    NOW,
    PERIOD,
    AppSwitch,
    ScaledTime,
    Sent,
    World,
    collect,
    expected_hubspot,
    make_http,
    observed,
    seeded_portal,
)

WRITE = "settings.users.write"
CLIENT_SETTINGS = {"hubspot_client_id": "test-client-id", "hubspot_client_secret": "test-client-secret"}


def seat_of(user: User, *, admin: bool = False) -> InactiveSeat:
    return InactiveSeat(
        str(user.id), user.email, None, name=f"{user.first_name} {user.last_name}", admin=admin
    )


def connection_for(portal: PortalData) -> Connection:
    installer = portal.installer
    details = {"installer": installer.email, "installer_user_id": str(installer.id)}
    return Connection(id=1, account_id=str(portal.portal_id), credentials={}, details=details)


# --------------------------------------------------------------------------- pure decisions


def error(kind=ProviderError, status=None, category=None, sub=None):
    return kind("x", provider="hubspot", status=status, category=category, sub_category=sub)


@pytest.mark.parametrize(
    "failure,outcome,answer",
    [
        (error(MissingScopes, 403, "MISSING_SCOPES"), SeatOutcome.MISSING_SCOPE, "403 MISSING_SCOPES"),
        (error(ProviderError, 404, "OBJECT_NOT_FOUND"), SeatOutcome.GONE, "404 OBJECT_NOT_FOUND"),
        (
            error(ProviderError, 400, "VALIDATION_ERROR", "USER_IS_SUPER_ADMIN"),
            SeatOutcome.REFUSED,
            "400 VALIDATION_ERROR/USER_IS_SUPER_ADMIN",
        ),
        (error(ProviderError, 409, None), SeatOutcome.REFUSED, "409"),
        (
            error(Unauthorized, 401, "INVALID_AUTHENTICATION"),
            SeatOutcome.FAILED,
            "401 INVALID_AUTHENTICATION",
        ),
        (error(TransientError, 503), SeatOutcome.FAILED, "503"),
        (error(RateLimited, 429, "DAILY"), SeatOutcome.FAILED, "429 DAILY"),
        (error(TransientError), SeatOutcome.FAILED, "no answer"),  # never reached
        (error(ProviderError, 502), SeatOutcome.FAILED, "502"),
    ],
)
@pytest.mark.parametrize("action", ["reclaim", "undo"])
def test_what_a_failure_means(failure, outcome, answer, action):
    result = seat_actions.result_of(failure, "Max Ng", action)
    assert (result.outcome, result.answer) == (outcome, answer)
    assert "Max Ng" in result.sentence and "HubSpot" in result.sentence
    assert result.sentence.count(". ") == 0 and result.sentence.endswith(".")  # one sentence
    assert not result.done and result.undo == {}


INSTALLER = {"installer": "Ada@Example.com", "installer_user_id": "7000000"}


@pytest.mark.parametrize(
    "seat,details,protected",
    [
        (InactiveSeat("7000007", "max@example.com", None, name="Max", admin=True), {}, "super admin"),
        (InactiveSeat("7000000", "other@example.com", None, name="Ada"), INSTALLER, "connected HubSpot"),
        (InactiveSeat("7000099", "ada@example.com", None, name="Ada"), INSTALLER, "connected HubSpot"),
        (InactiveSeat("7000007", "max@example.com", None, name="Max"), INSTALLER, None),
        (InactiveSeat("7000007", None, None), {}, None),
    ],
)
def test_who_is_never_reclaimed(seat, details, protected):
    connection = Connection(id=1, account_id="101", credentials={}, details=details)
    why = seat_actions.protected(connection, seat)
    assert (why is None) if protected is None else (protected in why and (seat.name or "") in why)


def test_the_entry_declares_the_write_scope_and_undo():
    action = SPEC.reclaim
    assert action is not None and action.write_scope_names == (WRITE,)
    assert action.saves_cost and action.undo_days == 14
    assert WRITE not in SPEC.required_scopes + SPEC.optional_scopes  # never asked at first connect


@pytest.mark.parametrize("write", [False, True])
def test_the_consent_url_asks_for_the_write_scope_only_when_reclaiming_is_enabled(write):
    hooks = HubSpotClient(None, Settings().with_overrides(**CLIENT_SETTINGS))
    query = parse_qs(urlsplit(hooks.authorize_url("st-1", write=write)).query)
    scopes = query["scope"][0].split(" ")
    assert scopes[: len(SPEC.required_scopes)] == SPEC.required_scopes
    assert (WRITE in scopes) is write
    assert WRITE not in query["optional_scope"][0].split(" ")
    assert hooks.authorize_url("st-1") == hooks.authorize_url("st-1", write=False)


# --------------------------------------------------------------------------- against the stand-in


@pytest.fixture(scope="module")
def served():
    switch = AppSwitch()
    with serve_in_thread(switch) as server:
        yield switch, server.url


@pytest.fixture
def world(served) -> World:
    switch, url = served
    clock = ScaledTime(NOW)  # the stand-in's clock and the client's sleeps, 20x faster
    standin = HubSpotStandIn(clock=clock.time)
    switch.app = standin.app
    return World(standin, url, clock, Sent())


@pytest.fixture
def portal() -> PortalData:
    return seeded_portal(23, 101, n_users=24, records_per_type=30)


def reclaimable(portal: PortalData) -> list[User]:
    """Paid users who are neither super admins nor the installer (computed from the seed)."""
    return [
        u for u in portal.users if u.seat_names and not u.super_admin and u.id != portal.installer_user_id
    ]


class Hub:
    """The hooks wired to the stand-in of one test."""

    def __init__(self, world: World, portal: PortalData, client, scopes) -> None:
        settings = Settings().with_overrides(hubspot_api_url=world.url, **CLIENT_SETTINGS)
        self.world, self.portal, self.client = world, portal, client
        self.hooks = HubSpotClient(make_http(client, world.clock), settings)
        self.auth = world.auth(portal.portal_id, scopes)
        self.connection = connection_for(portal)

    async def reclaim(self, seat: InactiveSeat):
        return await self.hooks.reclaim(self.connection, self.auth, seat)

    async def undo(self, seat: InactiveSeat, saved):
        return await self.hooks.undo(self.connection, self.auth, seat, saved)

    async def report(self):
        http = make_http(self.client, self.world.clock)
        return await collect(self.world.url, http, self.world.auth(101), self.portal, clock=self.world.clock)


@pytest.fixture
async def hub(world, portal):
    world.standin.add_portal(portal)
    async with world.client() as client:
        yield Hub(world, portal, client, ALL_SCOPES + [WRITE])


async def test_reclaim_unassigns_once_and_the_next_collection_no_longer_counts_the_seat(hub):
    user = reclaimable(hub.portal)[0]
    seats, role = list(user.seat_names), user.role_id
    before = await hub.report()
    assert observed(before) == expected_hubspot(hub.portal, PERIOD)

    result = await hub.reclaim(seat_of(user))

    assert result.outcome is SeatOutcome.DONE and result.answer == "200"
    assert user.first_name in result.sentence and "HubSpot" in result.sentence
    assert json.loads(result.undo["seat_names"]) == seats
    writes = hub.world.standin.seat_writes
    assert len(writes) == 1 and writes[0]["user_id"] == str(user.id)
    assert writes[0]["body"] == {"seatNames": []} and writes[0]["seats_after"] == []
    assert user in hub.portal.users  # never deleted
    after = await hub.report()
    assert observed(after) == expected_hubspot(hub.portal, PERIOD)  # the truth agrees
    assert after.seats.paid_seats == before.seats.paid_seats - 1
    assert str(user.id) not in {s.user_id for s in after.seats.inactive_paid_users}
    assert any(r.id == role and r.requires_billing_write for r in hub.portal.roles)  # a paid role
    assert result.undo["role_id"] == role and user.role_id is None  # it went with the seat


async def test_undo_gives_the_seat_back(hub):
    user = reclaimable(hub.portal)[0]
    seats, role = list(user.seat_names), user.role_id
    before = await hub.report()
    reclaimed = await hub.reclaim(seat_of(user))

    result = await hub.undo(seat_of(user), reclaimed.undo)

    assert result.outcome is SeatOutcome.DONE and result.answer == "200"
    assert (user.seat_names, user.role_id) == (seats, role)
    assert [w["seats_after"] for w in hub.world.standin.seat_writes] == [[], seats]
    after = await hub.report()
    assert after.seats.paid_seats == before.seats.paid_seats
    assert observed(after) == expected_hubspot(hub.portal, PERIOD)


async def test_reclaiming_twice_is_gone_the_second_time(hub):
    seat = seat_of(reclaimable(hub.portal)[0])
    assert (await hub.reclaim(seat)).outcome is SeatOutcome.DONE
    again = await hub.reclaim(seat)
    assert again.outcome is SeatOutcome.GONE and not again.undo
    assert len(hub.world.standin.seat_writes) == 1


async def test_an_unknown_user_is_gone(hub):
    result = await hub.reclaim(InactiveSeat("424242", "ghost@example.com", None, name="Ghost"))
    assert (result.outcome, result.answer) == (SeatOutcome.GONE, "404 OBJECT_NOT_FOUND")
    assert "Ghost" in result.sentence and hub.world.standin.seat_writes == []


async def test_without_the_write_scope_nothing_changes(world, portal):
    world.standin.add_portal(portal)
    user = reclaimable(portal)[0]
    seats = list(user.seat_names)
    async with world.client() as client:
        hub = Hub(world, portal, client, ALL_SCOPES)
        result = await hub.reclaim(seat_of(user))
    assert (result.outcome, result.answer) == (SeatOutcome.MISSING_SCOPE, "403 MISSING_SCOPES")
    assert user.seat_names == seats and world.standin.seat_writes == []


async def test_protected_people_are_refused_without_a_call(hub):
    installer = hub.portal.installer
    admin = next(u for u in hub.portal.users if u.super_admin and u.id != installer.id)
    sent_before = len(hub.world.sent.requests)
    for seat in (seat_of(installer), seat_of(admin, admin=True)):
        result = await hub.reclaim(seat)
        assert (result.outcome, result.answer) == (SeatOutcome.REFUSED, "not sent")
    assert len(hub.world.sent.requests) == sent_before and hub.world.standin.seat_writes == []


async def test_a_super_admin_the_report_did_not_flag_is_refused_on_hubspots_word(hub):
    admin = next(u for u in hub.portal.users if u.super_admin and u.id != hub.portal.installer_user_id)
    result = await hub.reclaim(seat_of(admin))  # a stale report: admin=False
    assert result.outcome is SeatOutcome.REFUSED and "super admin" in result.sentence
    assert hub.world.standin.seat_writes == []


async def test_hubspot_refusing_is_refused_with_its_category(hub):
    user = reclaimable(hub.portal)[0]
    body = {
        "status": "error",
        "message": "This user's seat cannot be changed",
        "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf",
        "category": "VALIDATION_ERROR",
        "subCategory": "SEAT_LOCKED",
    }
    hub.world.standin.faults.fail_next(
        f"/settings/users/2026-09/{user.id}", status=400, body=body, method="PUT"
    )
    result = await hub.reclaim(seat_of(user))
    assert (result.outcome, result.answer) == (SeatOutcome.REFUSED, "400 VALIDATION_ERROR/SEAT_LOCKED")
    assert "VALIDATION_ERROR" in result.sentence and hub.world.standin.seat_writes == []


async def test_rate_limited_then_done_with_one_write(hub):
    user = reclaimable(hub.portal)[0]
    limited = {
        "status": "error",
        "message": "You have reached your secondly limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": "c0ffee00-0000-4000-8000-000000000000",
        "policyName": "SECONDLY",
    }
    hub.world.standin.faults.fail_next(
        f"/settings/users/2026-09/{user.id}", status=429, body=limited, method="PUT"
    )
    result = await hub.reclaim(seat_of(user))
    assert result.outcome is SeatOutcome.DONE
    assert (429, f"/settings/users/2026-09/{user.id}") in hub.world.sent.refused
    assert len(hub.world.standin.seat_writes) == 1


async def test_hubspot_down_fails_without_a_change(hub):
    user = reclaimable(hub.portal)[0]
    seats = list(user.seat_names)
    hub.world.standin.faults.fail_next(
        f"/settings/users/2026-09/{user.id}", status=503, count=10, method="PUT"
    )
    result = await hub.reclaim(seat_of(user))
    assert (result.outcome, result.answer) == (SeatOutcome.FAILED, "503")
    assert user.seat_names == seats and hub.world.standin.seat_writes == []


@pytest.mark.parametrize(
    "saved", [{}, {"seat_names": "not json"}, {"seat_names": "[]"}, {"seat_names": "[1]"}]
)
async def test_an_undo_without_what_it_needs_sends_nothing(hub, saved):
    user = reclaimable(hub.portal)[0]
    result = await hub.undo(seat_of(user), saved)
    assert (result.outcome, result.answer) == (SeatOutcome.REFUSED, "not sent")
    assert hub.world.standin.seat_writes == []


def make_idle(portal: PortalData, user: User) -> None:
    """The seed without any login or CRM action of `user`."""
    portal.logins = [a for a in portal.logins if a.user_id != user.id]
    owned = {o.id for o in portal.owners if o.user_id_including_inactive == user.id}
    for record in (r for records in portal.records.values() for r in records):
        record.owner_id = None if record.owner_id in owned else record.owner_id
        record.created_by_user_id = (
            None if record.created_by_user_id == user.id else record.created_by_user_id
        )
        record.updated_by_user_id = (
            None if record.updated_by_user_id == user.id else record.updated_by_user_id
        )


async def test_the_report_flags_super_admins_among_idle_seats(hub):
    admins = {str(u.id) for u in hub.portal.users if u.super_admin}
    admin = next(u for u in hub.portal.users if u.super_admin and u.seat_names)
    plain = reclaimable(hub.portal)[0]
    for user in (admin, plain):
        make_idle(hub.portal, user)
    report = await hub.report()
    flagged = {s.user_id: s.admin for s in report.seats.inactive_paid_users}
    assert (flagged[str(admin.id)], flagged[str(plain.id)]) == (True, False)
    assert flagged == {user_id: user_id in admins for user_id in flagged}
