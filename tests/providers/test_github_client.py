"""providers/github/client.py and seats.py: what was pasted (pure), connecting, the hourly check and
cancelling a Copilot seat, against the GitHub stand-in over real HTTP."""

from __future__ import annotations

import pytest

from core.reports import InactiveSeat
from core.seats import SeatOutcome
from providers.github import client as gh
from providers.github import seats
from providers.github.entry import COPILOT, COPILOT_WRITE, MEMBERS, PLAN, SPEC
from providers.http import Bearer, MissingScopes, ProviderError, RateLimited, TransientError, Unauthorized
from providers.plugin import Connection
from sandbox.standins.github_seed import next_cycle
from tests.providers import github_world
from tests.providers.github_world import (
    CLASSIC_ALL,
    CLASSIC_READ,
    FINE_ALL,
    FINE_READ,
    NOW,
    ORG,
    World,
    world_of,
)

CLASSIC = "ghp_" + "a1B2" * 9
FINE = "github_pat_" + "A" * 22 + "_" + "b" * 59
served, recording = github_world.served, github_world.recording  # the fixtures


@pytest.mark.parametrize(
    "name,value,problem",
    [
        ("token", CLASSIC, None),
        ("token", FINE, None),
        ("token", f"  {FINE}\n", None),
        ("token", "gho_" + "x" * 36, None),
        ("token", "", gh.TOKEN_EMPTY),
        ("token", "   ", gh.TOKEN_EMPTY),
        ("token", CLASSIC[:10] + " " + CLASSIC[10:], gh.TOKEN_HAS_SPACES),
        ("token", f"Bearer {CLASSIC}", gh.TOKEN_HAS_SPACES),
        ("token", "xoxb-1234-5678", gh.TOKEN_NOT_GITHUB),
        ("token", "ghp_short", gh.TOKEN_NOT_GITHUB),
        ("token", "SG.abcdefgh.ijklmnop", gh.TOKEN_NOT_GITHUB),
        ("token", "ghp_" + "a" * 300, gh.TOKEN_TOO_LONG),
        ("org", "acme-corp", None),
        ("org", "A1", None),
        ("org", "a" * 39, None),
        ("org", "", gh.ORG_EMPTY),
        ("org", "a" * 40, gh.ORG_MALFORMED),
        ("org", "-acme", gh.ORG_MALFORMED),
        ("org", "acme-", gh.ORG_MALFORMED),
        ("org", "acme--corp", gh.ORG_MALFORMED),
        ("org", "https://github.com/acme", gh.ORG_MALFORMED),
        ("org", "acme corp", gh.ORG_MALFORMED),
    ],
)
def test_what_was_pasted(name, value, problem):
    assert gh.GitHubClient(None, _settings()).problem(name, value) == problem


def _settings(url: str | None = None):
    from core.config import Settings

    return Settings().with_overrides(github_api_url=url) if url else Settings()


def test_the_api_url_setting():
    assert gh.GitHubClient(None, _settings()).base_url({}) == "https://api.github.com"
    assert gh.GitHubClient(None, _settings("http://127.0.0.1:9/")).reachable_urls() == ["http://127.0.0.1:9"]


@pytest.mark.parametrize(
    "error,kind,feature",
    [
        (
            Unauthorized("GitHub rejected the credentials (401).", provider="github", status=401),
            "revoked",
            None,
        ),
        (gh.OrgNotVisible("not visible", provider="github", status=404), "revoked", None),
        (
            ProviderError(
                "GitHub refused the request for GET /orgs/acme (404).", provider="github", status=404
            ),
            "revoked",
            None,
        ),
        (
            MissingScopes(
                "... for GET /orgs/acme/copilot/billing/seats (403)", provider="github", status=403
            ),
            "scope_lost",
            COPILOT,
        ),
        (
            MissingScopes("... for GET /orgs/acme/members (403)", provider="github", status=403),
            "scope_lost",
            MEMBERS,
        ),
        (TransientError("GitHub kept failing (502).", provider="github", status=502), "transient", None),
        (
            RateLimited(
                "GitHub is still rate limiting (403)", provider="github", status=403, retry_after=600
            ),
            "transient",
            None,
        ),
        (
            ProviderError("GitHub refused the request (422).", provider="github", status=422),
            "transient",
            None,
        ),
        (ValueError("not a provider error"), "transient", None),
    ],
)
def test_failures_are_classified(error, kind, feature):
    failure = gh.GitHubClient(None, _settings()).classify(error)
    assert (failure.kind, failure.feature) == (kind, feature)
    assert "ghp_" not in failure.reason


# --------------------------------------------------------------------------- against the stand-in


@pytest.fixture
async def world(served, recording):
    return world_of(served, recording)


async def test_connect_with_a_fine_grained_token(world: World):
    token = world.standin.add_fine_grained_token(world.owner, ORG, FINE_ALL)
    verified = await world.hooks().verify_form({"org": ORG, "token": f" {token} "})
    assert (verified.account_id, verified.account_name) == (str(world.org.id), ORG)
    assert verified.scopes == (MEMBERS, COPILOT, PLAN, COPILOT_WRITE) and verified.missing == ()
    # a fine-grained token's write permission cannot be read: it was asked to cancel nobody
    assert verified.write_scopes == (COPILOT_WRITE,) and world.standin.cancelled == []
    read_only = world.standin.add_fine_grained_token(world.owner, ORG, FINE_READ)
    other = await world.hooks().verify_form({"org": ORG, "token": read_only})
    assert other.write_scopes == () and COPILOT_WRITE not in other.scopes
    probes = [r for r in world.standin.requests if r["method"] == "DELETE"]
    assert len(probes) == 2 and world.standin.cancelled == []  # one each, nothing changed
    assert verified.credentials == {"api_key": token, "org": ORG}
    assert verified.details["token_owner"] == world.owner and verified.details["token_kind"] == "fine-grained"
    assert token not in repr(verified)


async def test_connect_with_a_classic_token(world: World):
    token = world.standin.add_classic_token(world.owner, CLASSIC_ALL)
    verified = await world.hooks().verify_form({"org": ORG.upper(), "token": token})
    assert verified.account_name == ORG  # as GitHub spells it
    assert verified.scopes == (MEMBERS, COPILOT, COPILOT_WRITE) and verified.missing == ()
    assert verified.write_scopes == (COPILOT_WRITE,)
    assert not [r for r in world.standin.requests if r["method"] == "DELETE"]  # its scopes say it
    assert verified.details["classic_scopes"] == sorted(CLASSIC_ALL)
    read_only = world.standin.add_classic_token(world.owner, CLASSIC_READ)
    assert (await world.hooks().verify_form({"org": ORG, "token": read_only})).write_scopes == ()


async def test_a_wrong_token_is_one_sentence(world: World):
    hooks = world.hooks()
    with pytest.raises(Unauthorized) as caught:
        await hooks.verify_form({"org": ORG, "token": CLASSIC})
    assert hooks.verify_failure(caught.value) == "rejected"
    assert hooks.verify_message(caught.value) == gh.BAD_CREDENTIALS
    assert CLASSIC not in str(caught.value)


@pytest.mark.parametrize("org", ["someone-else", "no-such-org"])
async def test_an_organisation_the_token_cannot_see_is_one_sentence(world: World, org):
    from sandbox.standins.github_seed import generate_org

    world.standin.add_org(generate_org(99, login="someone-else", now=NOW, n_members=5, n_seats=2))
    token = world.standin.add_fine_grained_token(world.owner, ORG, FINE_ALL)
    hooks = world.hooks()
    with pytest.raises(gh.OrgNotVisible) as caught:
        await hooks.verify_form({"org": org, "token": token})
    assert hooks.verify_failure(caught.value) == "failed"
    assert hooks.verify_message(caught.value) == gh.ORG_NOT_VISIBLE.format(org=org)


@pytest.mark.parametrize(
    "kind,grant,missing",
    [
        ("fine", {"organization_copilot_seat_management": "read"}, (MEMBERS,)),
        ("fine", {"members": "read"}, (COPILOT,)),
        ("fine", {}, (MEMBERS, COPILOT)),
        ("classic", ["manage_billing:copilot"], (MEMBERS,)),
        ("classic", [], (MEMBERS, COPILOT)),
        ("member", ["read:org"], (COPILOT,)),  # not an owner: Copilot is the owners'
    ],
)
async def test_too_few_permissions_name_the_missing_one(world: World, kind, grant, missing):
    if kind == "fine":
        token = world.standin.add_fine_grained_token(world.owner, ORG, grant)
    else:
        token = world.standin.add_classic_token(world.member if kind == "member" else world.owner, grant)
    verified = await world.hooks().verify_form({"org": ORG, "token": token})
    assert verified.missing == missing
    assert not set(missing) & set(verified.scopes)


async def test_the_hourly_check(world: World):
    token = world.standin.add_fine_grained_token(world.owner, ORG, FINE_READ)
    hooks, connection = world.hooks(), world.connection(token)
    checked = await hooks.check(connection, Bearer(token), NOW)
    assert checked.failure is None and checked.scopes == (MEMBERS, COPILOT) and checked.unavailable == ()

    world.standin.set_permissions(token, {"members": "read"})  # Copilot taken away: that feature only
    checked = await hooks.check(connection, Bearer(token), NOW)
    assert checked.failure is None and checked.unavailable == (COPILOT,)

    world.standin.revoke(token)
    checked = await hooks.check(connection, Bearer(token), NOW)
    assert checked.failure is not None and checked.failure.kind == "revoked"
    assert checked.failure.reason == gh.REVOKED_REASON


async def test_doctor_access(world: World):
    token = world.standin.add_fine_grained_token(world.owner, ORG, {"members": "read"})
    assert await world.hooks().access({"api_key": token, "org": ORG}, "doctor") == [COPILOT]


# --------------------------------------------------------------------------- seats


def _idle(world: World, login: str, admin: bool = False) -> InactiveSeat:
    return InactiveSeat(
        user_id=login, email=None, last_active=None, seat_type="Copilot Business", admin=admin
    )


def _holder(world: World, *, pending: bool = False, team: bool = False) -> str:
    return next(
        s.login
        for s in world.org.seats
        if (s.pending_cancellation_date is not None) == pending
        and bool(s.assigning_team) == team
        and world.org.member(s.login).role == "member"
    )


async def test_reclaim_cancels_the_seat_once(world: World):
    token = world.standin.add_fine_grained_token(world.owner, ORG, FINE_ALL)
    hooks, connection, login = world.hooks(), world.connection(token), _holder(world)
    seat = _idle(world, login)
    assert hooks.protected(connection, seat) is None

    result = await hooks.reclaim(connection, Bearer(token), seat)
    assert result.outcome is SeatOutcome.DONE
    assert result.effective == next_cycle(NOW.date())
    assert result.effective.isoformat() in result.sentence and login in result.sentence
    assert world.standin.cancelled == [(ORG, login)]
    assert world.org.seat(login).pending_cancellation_date == result.effective  # still listed until then

    again = await hooks.reclaim(connection, Bearer(token), seat)
    assert again.outcome is SeatOutcome.GONE and again.effective == result.effective
    assert world.standin.cancelled == [(ORG, login)]  # the stand-in shows the change once
    deletes = [r for r in world.sent if r.method == "DELETE"]
    assert len(deletes) == 2 and deletes[0].read() == b'{"selected_usernames":["%s"]}' % login.encode()


async def test_reclaim_outcomes(world: World):
    token = world.standin.add_fine_grained_token(world.owner, ORG, FINE_ALL)
    hooks, connection = world.hooks(), world.connection(token)
    seatless = next(m.login for m in world.org.members if world.org.seat(m.login) is None)
    result = await hooks.reclaim(connection, Bearer(token), _idle(world, seatless))
    assert result.outcome is SeatOutcome.GONE and result.sentence == seats.NO_SEAT.format(login=seatless)

    through_team = _holder(world, team=True)
    result = await hooks.reclaim(connection, Bearer(token), _idle(world, through_team))
    assert result.outcome is SeatOutcome.REFUSED and result.answer == "422"
    assert result.sentence == seats.THROUGH_TEAM.format(login=through_team)

    read_only = world.standin.add_fine_grained_token(world.owner, ORG, FINE_READ)
    result = await hooks.reclaim(world.connection(read_only), Bearer(read_only), _idle(world, _holder(world)))
    assert result.outcome is SeatOutcome.MISSING_SCOPE and result.sentence == seats.NO_PERMISSION

    world.standin.revoke(token)
    result = await hooks.reclaim(connection, Bearer(token), _idle(world, _holder(world)))
    assert result.outcome is SeatOutcome.FAILED and result.answer == "401"
    assert world.standin.cancelled == []


@pytest.mark.parametrize(
    "login,admin,details,reason",
    [
        ("ana", True, {}, seats.OWNER),
        ("ana", False, {"token_owner": "Ana"}, seats.TOKEN_OWNER),
        ("ana", False, {"token_owner": "bo"}, None),
        ("ana", False, {}, None),
    ],
)
def test_protected(login, admin, details, reason):
    connection = Connection(id=1, account_id="9", credentials={}, details=details)
    seat = InactiveSeat(user_id=login, email=None, last_active=None, admin=admin)
    assert seats.protected(connection, seat) == reason


def test_the_seat_action_is_declared():
    action = SPEC.reclaim
    assert action is not None and action.verb == "Cancel the Copilot seat"
    assert action.write_scope_names == (COPILOT_WRITE,) and "billing cycle" in action.note
    assert COPILOT_WRITE not in SPEC.required_scopes + SPEC.optional_scopes  # asked only when reclaiming


def test_secret_patterns_cover_every_token_shape():
    import re

    for token in (CLASSIC, FINE, "gho_" + "x" * 36, "ghs_" + "y" * 36):
        assert any(re.fullmatch(p, token) for p in SPEC.secret_patterns), token
    assert not any(re.search(p, "acme-corp ghp_short") for p in SPEC.secret_patterns)


async def test_a_fine_grained_write_grant_is_used_without_a_new_token(world: World):
    token = world.standin.add_fine_grained_token(world.owner, ORG, FINE_READ)
    connection = world.connection(token)
    login = _holder(world)
    assert (
        await world.hooks().reclaim(connection, Bearer(token), _idle(world, login))
    ).outcome is SeatOutcome.MISSING_SCOPE
    world.standin.set_permissions(token, {**FINE_READ, "organization_copilot_seat_management": "write"})
    assert (await world.hooks().reclaim(connection, Bearer(token), _idle(world, login))).done
