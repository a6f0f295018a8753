"""SendGrid's seat hook (providers/sendgrid/seat_actions.py): the pure decisions table-driven, then
removing a teammate against the SendGrid stand-in over real HTTP, with the next collection compared
with the seed's truth (`expected_sendgrid`, over the account the stand-in changed)."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from core.config import Settings
from core.reports import InactiveSeat
from core.seats import SeatOutcome
from providers.http import (
    Bearer,
    MissingScopes,
    ProviderError,
    ProviderHTTP,
    RateLimited,
    TransientError,
    Unauthorized,
)
from providers.plugin import Connection
from providers.sendgrid import Hooks, seat_actions
from providers.sendgrid.entry import POLICY, SPEC
from sandbox.standins.sendgrid import SendGridStandIn
from sandbox.standins.sendgrid_seed import Teammate, generate_account
from sandbox.standins.server import serve_in_thread
from tests.providers.test_hubspot_usage import AppSwitch, ScaledTime
from tests.providers.test_sendgrid_usage import ALL_SCOPES, NOW, PERIOD, expected_sendgrid, observed, run

DELETE = "teammates.delete"


def error(kind=ProviderError, status=None):
    return kind("x", provider="sendgrid", status=status)


@pytest.mark.parametrize(
    "failure,outcome,answer",
    [
        (error(MissingScopes, 403), SeatOutcome.MISSING_SCOPE, "403"),
        (error(ProviderError, 404), SeatOutcome.GONE, "404"),
        (error(ProviderError, 400), SeatOutcome.REFUSED, "400"),
        (error(Unauthorized, 401), SeatOutcome.FAILED, "401"),
        (error(TransientError, 503), SeatOutcome.FAILED, "503"),
        (error(RateLimited, 429), SeatOutcome.FAILED, "429"),
        (error(TransientError), SeatOutcome.FAILED, "no answer"),
    ],
)
def test_what_a_failure_means(failure, outcome, answer):
    result = seat_actions.result_of(failure, "Mira Costa")
    assert (result.outcome, result.answer) == (outcome, answer)
    assert "Mira Costa" in result.sentence and "SendGrid" in result.sentence
    assert result.sentence.count(". ") == 0 and result.sentence.endswith(".")
    assert not result.done


@pytest.mark.parametrize(
    "seat,details,protected",
    [
        (InactiveSeat("acme_123", None, None, name="Owner"), {"username": "acme_123"}, "owns the SendGrid"),
        (InactiveSeat("mira.costa", None, None, name="Mira", admin=True), {}, "admin teammate"),
        (InactiveSeat("mira.costa", None, None, name="Mira"), {"username": "acme_123"}, None),
    ],
)
def test_who_is_never_removed(seat, details, protected):
    why = seat_actions.protected(Connection(id=1, account_id="1", credentials={}, details=details), seat)
    assert (why is None) if protected is None else (protected in why and seat.name in why)


def test_the_entry_says_removing_saves_no_cost_and_cannot_be_undone():
    action = SPEC.reclaim
    assert action is not None and action.write_scope_names == (DELETE,)
    assert not action.saves_cost and action.undo_days == 0
    assert "volume" in action.note and DELETE in action.enable and "Restricted Access" in action.enable
    assert DELETE not in SPEC.required_scopes + SPEC.optional_scopes
    assert not hasattr(Hooks, "undo")


# --------------------------------------------------------------------------- against the stand-in


@pytest.fixture(scope="module")
def served():
    switch = AppSwitch()
    with serve_in_thread(switch) as server:
        yield switch, server.url


@pytest.fixture
def clock() -> ScaledTime:
    return ScaledTime(NOW)


@pytest.fixture
def account():
    return generate_account(
        5, account_id="acme", start=date(2026, 5, 1), end=date(2026, 5, 31), n_teammates=9
    )


@pytest.fixture
def standin(served, clock, account) -> SendGridStandIn:
    switch, _ = served
    standin = SendGridStandIn(clock=clock.time)
    standin.add_account(account)
    switch.app = standin.app
    return standin


def seat_of(mate: Teammate) -> InactiveSeat:
    return InactiveSeat(
        mate.username, mate.email, None, name=f"{mate.first_name} {mate.last_name}", admin=mate.is_admin
    )


def plain(account) -> Teammate:
    return next(m for m in account.teammates if m.user_type == "teammate")


async def remove(served, clock, key: str, seat: InactiveSeat, details=None):
    _, url = served
    async with httpx.AsyncClient() as client:
        http = ProviderHTTP(client, POLICY, sleep=clock.sleep, clock=clock.time)
        hooks = Hooks(http, Settings().with_overrides(sendgrid_api_url=url))
        connection = Connection(
            id=1, account_id="acme", credentials={"api_key": key, "region": "global"}, details=details or {}
        )
        return await hooks.reclaim(connection, Bearer(key), seat)


async def test_removing_a_teammate_once_and_the_next_collection_no_longer_counts_them(
    served, standin, clock, account
):
    mate = plain(account)
    before = await run(served, standin, clock, standin.add_key("acme", ALL_SCOPES))
    key = standin.add_key("acme", ALL_SCOPES + [DELETE])

    result = await remove(served, clock, key, seat_of(mate))

    assert (result.outcome, result.answer) == (SeatOutcome.DONE, "204")
    assert mate.first_name in result.sentence and "no seat cost" in result.sentence and result.undo == {}
    assert [d["username"] for d in standin.teammate_deletes] == [mate.username]
    after = await run(served, standin, clock, key)
    assert observed(after) == expected_sendgrid(account, PERIOD)  # the truth agrees
    assert after.seats.total_users == before.seats.total_users - 1
    again = await remove(served, clock, key, seat_of(mate))
    assert (again.outcome, again.answer) == (SeatOutcome.GONE, "404")
    assert len(standin.teammate_deletes) == 1


async def test_without_the_delete_permission_nothing_changes(served, standin, clock, account):
    mate = plain(account)
    result = await remove(served, clock, standin.add_key("acme", ALL_SCOPES), seat_of(mate))
    assert (result.outcome, result.answer) == (SeatOutcome.MISSING_SCOPE, "403")
    assert mate in account.teammates and standin.teammate_deletes == []


async def test_an_unknown_teammate_is_gone(served, standin, clock):
    key = standin.add_key("acme", ALL_SCOPES + [DELETE])
    result = await remove(served, clock, key, InactiveSeat("nobody.here", None, None, name="Nobody"))
    assert (result.outcome, result.answer) == (SeatOutcome.GONE, "404")


async def test_the_owner_is_protected_and_sendgrid_refuses_deleting_them_anyway(
    served, standin, clock, account
):
    owner = next(m for m in account.teammates if m.user_type == "owner")
    key = standin.add_key("acme", ALL_SCOPES + [DELETE])
    protected = await remove(served, clock, key, seat_of(owner), details={"username": account.username})
    assert (protected.outcome, protected.answer) == (SeatOutcome.REFUSED, "not sent")
    unflagged = InactiveSeat(owner.username, owner.email, None, name="The owner")  # neither admin nor known
    refused = await remove(served, clock, key, unflagged)
    assert (refused.outcome, refused.answer) == (SeatOutcome.REFUSED, "400")
    assert owner in account.teammates and standin.teammate_deletes == []


async def test_rate_limited_then_done_with_one_delete(served, standin, clock, account):
    mate = plain(account)
    key = standin.add_key("acme", ALL_SCOPES + [DELETE])
    reset = str(int(clock.time()) + 1)
    standin.faults.fail_next(
        f"/v3/teammates/{mate.username}",
        status=429,
        body={"errors": [{"field": None, "message": "too many requests"}]},
        headers={"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
        method="DELETE",
    )
    result = await remove(served, clock, key, seat_of(mate))
    assert result.outcome is SeatOutcome.DONE
    assert [r["method"] for r in standin.requests if r["path"] == f"/v3/teammates/{mate.username}"] == [
        "DELETE"
    ] * 2
    assert len(standin.teammate_deletes) == 1
