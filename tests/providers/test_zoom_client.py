"""Zoom's hooks against the stand-in: connecting, the hour-long token obtained again, the hourly check,
failures classified, and the seat actions (downgrade to Basic, undo, protected seats)."""

from __future__ import annotations

import httpx
import pytest

from core.reports import InactiveSeat
from core.seats import SeatOutcome
from providers.errors import MissingScopes, ProviderError, RateLimited, TransientError, Unauthorized
from providers.http import Bearer
from providers.plugin import BEARER
from providers.zoom import policy
from providers.zoom.client import (
    NO_READ,
    NOT_ACTIVATED,
    WRONG_ACCOUNT,
    WRONG_CREDENTIALS,
    failure_sentence,
    field_problem,
    granted,
    verify_failure,
)
from sandbox.standins.server import AppSwitch, serve_in_thread
from sandbox.standins.zoom_seed import ADMIN_ROLE, BASIC, LICENSED, MEMBER_ROLE
from tests.providers.zoom_rig import READ, READ_WRITE, make_zoom


@pytest.fixture(scope="module")
def served():
    switch = AppSwitch()
    with serve_in_thread(switch) as srv:
        yield switch, srv.url


@pytest.fixture
def zoom(served):
    return make_zoom(*served, n_users=60)


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


# --- connecting ----------------------------------------------------------------------------------
async def test_good_credentials_connect_with_their_scopes_and_the_owner_named(zoom, http):
    app = zoom.app(READ_WRITE)
    verified = await zoom.hooks(http).verify_form({**app, "client_secret": f"  {app['client_secret']} "})
    assert verified.account_id == zoom.account.account_id and verified.missing == ()
    assert verified.scopes == ("user:read:admin", "user:write:admin")
    assert verified.write_scopes == ("user:write:admin",)
    assert verified.account_name == zoom.account.owner.email.partition("@")[2]
    assert verified.expires_in == 3600
    assert verified.credentials["client_secret"] == app["client_secret"]  # stored trimmed, encrypted
    assert verified.credentials[BEARER].startswith("eyJ")
    assert app["client_secret"] not in repr(verified)


@pytest.mark.parametrize(
    ("change", "kind", "sentence"),
    [
        ({"client_secret": "not-the-secret"}, "rejected", WRONG_CREDENTIALS),
        ({"client_id": "not-an-app"}, "rejected", WRONG_CREDENTIALS),
        ({"account_id": "someoneelse"}, "rejected", WRONG_ACCOUNT),
        ({"deactivate": True}, "rejected", NOT_ACTIVATED),
    ],
)
async def test_refused_credentials_give_one_sentence(zoom, http, change, kind, sentence):
    app = zoom.app(READ)
    if change.pop("deactivate", False):
        zoom.standin.deactivate(app["client_id"])
    with pytest.raises(ProviderError) as raised:
        await zoom.hooks(http).verify_form({**app, **change})
    assert verify_failure(raised.value) == kind
    assert failure_sentence(raised.value) == sentence
    assert app["client_secret"] not in str(raised.value)


async def test_too_few_scopes_name_the_missing_one(zoom, http):
    from services.credential_connect import missing_note

    verified = await zoom.hooks(http).verify_form(zoom.app(["report:read:admin"]))
    assert verified.missing == ("user:read:admin",) and verified.account_name is None
    note = missing_note([(s, zoom_purpose(s)) for s in verified.missing])
    assert "`user:read:admin`" in note and "licensed Zoom users" in note


def zoom_purpose(scope: str) -> str:
    from providers.zoom.entry import SPEC

    return SPEC.purpose_of(scope)


async def test_granular_scopes_count_as_the_classic_one(zoom, http):
    verified = await zoom.hooks(http).verify_form(
        zoom.app(["user:read:list_users:admin", "user:read:user:admin"])
    )
    assert verified.missing == ()


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("account_id", "", "Paste the app's account ID from its App Credentials page."),
        ("client_id", "ab cd", "The client ID contains spaces or line breaks: copy it again, in one piece."),
        ("client_secret", "x" * 201, "This is longer than any Zoom client secret."),
        ("client_secret", "  s3cr3tValue  ", None),
    ],
)
def test_field_problems(name, value, problem):
    assert field_problem(name, value) == problem


@pytest.mark.parametrize(
    ("scopes", "scope", "expected"),
    [
        (("user:read:admin",), "user:read:admin", True),
        (("user:read:list_users:admin",), "user:read:admin", True),
        (("user:update:user:admin",), "user:write:admin", True),
        (("user:read:admin",), "user:write:admin", False),
        ((), "user:read:admin", False),
    ],
)
def test_granted(scopes, scope, expected):
    assert granted(scopes, scope) is expected


# --- the hour-long token ------------------------------------------------------------------------
async def test_renew_exchanges_the_stored_credentials_again(zoom, http):
    hooks, app = zoom.hooks(http), zoom.app(READ)
    first = await hooks.verify_form(app)
    zoom.clock.advance(hours=1)
    old = Bearer(first.credentials[BEARER])
    with pytest.raises(Unauthorized) as expired:
        await hooks.http.get_json(f"{zoom.url}/v2/users/me", auth=old, account_key="a", bucket="light")
    assert hooks.classify(expired.value).kind == "revoked"  # 124: a token Zoom no longer takes
    renewed = await hooks.renew(first.credentials)
    assert renewed.token != first.credentials[BEARER] and renewed.expires_in == 3600
    me = await hooks.http.get_json(
        f"{zoom.url}/v2/users/me", auth=Bearer(renewed.token), account_key="a", bucket="light"
    )
    assert me["id"] == zoom.account.owner.id
    assert zoom.standin.exchanges == 2


# --- the hourly check ---------------------------------------------------------------------------
async def test_check_reads_the_scopes_again_and_sees_a_removed_one(zoom, http):
    hooks, app = zoom.hooks(http), zoom.app(READ)
    verified = await hooks.verify_form(app)
    connection = zoom.connection(app, verified.credentials[BEARER])
    ok = await hooks.check(connection, Bearer(verified.credentials[BEARER]), zoom.clock())
    assert ok.failure is None and ok.scopes == ("user:read:admin",) and ok.unavailable == ()
    zoom.standin.set_scopes(app["client_id"], ["report:read:admin"])
    lost = await hooks.check(connection, Bearer(verified.credentials[BEARER]), zoom.clock())
    assert lost.failure is None and lost.unavailable == ("user:read:admin",)
    zoom.standin.deactivate(app["client_id"])
    gone = await hooks.check(connection, Bearer(verified.credentials[BEARER]), zoom.clock())
    assert gone.failure.kind == "revoked"


# --- failures ------------------------------------------------------------------------------------
def error(cls=ProviderError, status=400, **fields):
    return cls("Zoom said no", provider="zoom", status=status, **fields)


@pytest.mark.parametrize(
    ("raised", "operation", "kind", "feature"),
    [
        (error(Unauthorized, 401, category="124"), "api", "revoked", None),
        (
            ProviderError(
                "Zoom refused (400): Invalid access token, does not contain scopes:[user:read:admin, x].",
                provider="zoom",
                status=400,
                category="4711",
            ),
            "api",
            "scope_lost",
            "user:read:admin",
        ),
        (error(Unauthorized, 401, oauth_error="invalid_client"), "refresh", "revoked", None),
        (error(ProviderError, 400, oauth_error="invalid_client"), "refresh", "revoked", None),
        (error(RateLimited, 429, category="429"), "api", "transient", None),
        (error(TransientError, 503), "api", "transient", None),
        (error(ProviderError, 404, category="1001"), "api", "transient", None),
        (RuntimeError("boom"), "api", "transient", None),
    ],
)
def test_failures_are_classified(raised, operation, kind, feature):
    failure = policy.classify(raised, operation)
    assert (failure.kind, failure.feature) == (kind, feature)


@pytest.mark.parametrize(
    ("raised", "kind"),
    [
        (error(Unauthorized, 401, oauth_error="invalid_client"), "rejected"),
        (error(ProviderError, 400, oauth_error="invalid_request"), "rejected"),
        (error(MissingScopes, 403), "rejected"),
        (error(TransientError, 503), "unavailable"),
        (error(RateLimited, 429), "unavailable"),
        (error(ProviderError, 400, category="300"), "failed"),
    ],
)
def test_verify_failure_kinds(raised, kind):
    assert verify_failure(raised) == kind


def test_a_4711_answer_reads_as_no_read_scope():
    assert failure_sentence(error(ProviderError, 400, category="4711")) == NO_READ


# --- seats ---------------------------------------------------------------------------------------
def seat_of(user) -> InactiveSeat:
    return InactiveSeat(
        user_id=user.id,
        email=user.email,
        last_active=user.last_login_time,
        name=f"{user.first_name} {user.last_name}",
        seat_type="Licensed",
        admin=user.role_id in ("0", "1"),
    )


async def test_reclaim_downgrades_once_and_undo_gives_the_licence_back(zoom, http):
    hooks, app = zoom.hooks(http), zoom.app(READ_WRITE)
    verified = await hooks.verify_form(app)
    connection, auth = (
        zoom.connection(app, verified.credentials[BEARER]),
        Bearer(verified.credentials[BEARER]),
    )
    user = next(u for u in zoom.account.users if u.type == LICENSED and u.role_id == MEMBER_ROLE)
    zoom.standin.clear_requests()
    done = await hooks.reclaim(connection, auth, seat_of(user))
    assert done.outcome is SeatOutcome.DONE and done.undo == {"user_id": user.id, "type": "2"}
    assert zoom.account.find(user.id).type == BASIC
    again = await hooks.reclaim(connection, auth, seat_of(user))
    assert again.outcome is SeatOutcome.GONE
    patches = [r for r in zoom.standin.requests if r["method"] == "PATCH"]
    assert [(r["path"], r["body"]) for r in patches] == [(f"/v2/users/{user.id}", '{"type":1}')]
    undone = await hooks.undo(connection, auth, seat_of(user), done.undo)
    assert undone.outcome is SeatOutcome.DONE and zoom.account.find(user.id).type == LICENSED


async def test_reclaim_without_write_scope_or_user(zoom, http):
    hooks, app = zoom.hooks(http), zoom.app(READ)
    verified = await hooks.verify_form(app)
    connection, auth = (
        zoom.connection(app, verified.credentials[BEARER]),
        Bearer(verified.credentials[BEARER]),
    )
    user = next(u for u in zoom.account.users if u.type == LICENSED and u.role_id == MEMBER_ROLE)
    refused = await hooks.reclaim(connection, auth, seat_of(user))
    assert refused.outcome is SeatOutcome.MISSING_SCOPE and zoom.account.find(user.id).type == LICENSED
    ghost = InactiveSeat(user_id="nobody", email=None, last_active=None)
    assert (await hooks.reclaim(connection, auth, ghost)).outcome is SeatOutcome.GONE


def test_owners_admins_and_the_owner_email_are_protected(zoom):
    from providers.zoom.client import ZoomHooks

    hooks = ZoomHooks.__new__(ZoomHooks)
    admin = next(u for u in zoom.account.users if u.role_id == ADMIN_ROLE)
    member = next(u for u in zoom.account.users if u.role_id == MEMBER_ROLE)
    connection = zoom.connection({}, "t", owner_email=member.email.upper())
    assert hooks.protected(zoom.connection({}, "t"), seat_of(admin))
    assert hooks.protected(zoom.connection({}, "t"), seat_of(zoom.account.owner))
    assert hooks.protected(zoom.connection({}, "t"), seat_of(member)) is None
    assert hooks.protected(connection, seat_of(member)) == "owns the Zoom account"
