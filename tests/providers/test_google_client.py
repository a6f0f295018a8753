"""Google Workspace's hooks against the stand-in: connecting (good key, wrong key, too few scopes), the
hour-long token obtained again, the hourly check, failures classified, and the seat actions."""

from __future__ import annotations

import httpx
import pytest

from core.reports import InactiveSeat
from core.seats import SeatOutcome
from providers.errors import MissingScopes, ProviderError, RateLimited, TransientError, Unauthorized
from providers.google import policy
from providers.google.assertion import NOT_JSON, NOT_SERVICE_ACCOUNT
from providers.google.client import (
    BAD_ADMIN,
    BAD_CUSTOMER,
    KEY_UNKNOWN,
    NO_DELEGATION,
    NO_SUCH_ADMIN,
    NOT_ADMIN,
    failure_sentence,
    field_problem,
    verify_failure,
)
from providers.google.entry import DIRECTORY, LICENSING, REPORTS, SPEC
from providers.google.seats import ACTS_AS, ADMIN
from sandbox.standins.google_seed import PRODUCT, STANDARD
from sandbox.standins.google_tokens import TOKEN_LIFETIME, TokenAuthority
from sandbox.standins.server import AppSwitch, serve_in_thread
from tests.providers.google_rig import ADMIN_EMAIL, ALL, BEARER, REQUIRED, make_google


@pytest.fixture(scope="module")
def served():
    switch = AppSwitch()
    with serve_in_thread(switch) as srv:
        yield switch, srv.url


@pytest.fixture
def google(served):
    return make_google(*served, n_users=60)


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


# --- connecting ----------------------------------------------------------------------------------
async def test_a_delegated_key_connects_with_its_scopes_and_customer(google, http):
    verified = await google.hooks(http).verify_form(google.values())
    assert verified.account_id == google.domain.customer_id and verified.account_name == "acme.example"
    assert verified.scopes == tuple(ALL) and verified.missing == ()
    assert verified.write_scopes == (LICENSING,) and verified.expires_in == TOKEN_LIFETIME
    assert verified.credentials["customer_id"] == google.domain.customer_id
    assert verified.credentials[BEARER].startswith("ya29.")
    assert verified.details["admin_email"] == ADMIN_EMAIL and verified.details["delegation_missing"] == []
    assert google.key["private_key"] not in repr(verified) and "PRIVATE KEY" not in repr(verified)


async def test_delegation_missing_a_scope_names_it_in_one_sentence(google, http):
    google.delegate([DIRECTORY, REPORTS])
    verified = await google.hooks(http).verify_form(google.values())
    assert verified.missing == (LICENSING,) and verified.scopes == (DIRECTORY, REPORTS)
    (sentence,) = verified.details["delegation_missing"]
    assert LICENSING in sentence and google.key["client_id"] in sentence
    assert "admin.google.com/ac/owl/domainwidedelegation" in sentence and sentence.count(".") <= 6
    assert verified.missing_sentence == sentence  # what the Connections card says after connecting
    assert verified.write_scopes == ()


async def test_an_optional_scope_missing_is_not_a_missing_requirement(google, http):
    google.delegate(REQUIRED)
    verified = await google.hooks(http).verify_form(google.values())
    assert verified.missing == () and REPORTS not in verified.scopes
    assert [REPORTS in s for s in verified.details["delegation_missing"]] == [True]
    assert REPORTS in verified.missing_sentence  # said, though connecting goes on


@pytest.mark.parametrize(
    ("case", "kind", "sentence"),
    [
        ("deleted key", "rejected", KEY_UNKNOWN),
        ("unknown admin", "rejected", NO_SUCH_ADMIN.format(admin="nobody@acme.example")),
        ("not an admin", "rejected", None),
        ("no delegation", "rejected", None),
    ],
)
async def test_a_refused_key_gives_one_sentence(google, http, case, kind, sentence):
    values = google.values()
    if case == "deleted key":
        other = TokenAuthority()
        other_key = other.create_key()
        values = google.values(
            key=__import__("json").dumps({**other_key, "client_email": google.key["client_email"]})
        )
    if case == "unknown admin":
        values = google.values(admin_email="nobody@acme.example")
    plain = next(u for u in google.domain.users if not u.admin and not u.delegated_admin and not u.suspended)
    if case == "not an admin":
        values = google.values(admin_email=plain.email)
        sentence = NOT_ADMIN.format(admin=plain.email)
    if case == "no delegation":
        google.delegate([])
        sentence = NO_DELEGATION.format(client_id=google.key["client_id"])
    with pytest.raises(ProviderError) as raised:
        await google.hooks(http).verify_form(values)
    assert verify_failure(raised.value) == kind
    found = failure_sentence(raised.value, values["admin_email"], google.key["client_id"])
    assert found == sentence
    assert google.key["private_key"][40:80] not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("key", "", NOT_JSON),
        ("key", "not json", NOT_JSON),
        ("key", '{"type": "authorized_user"}', NOT_SERVICE_ACCOUNT),
        (
            "key",
            '{"type": "service_account", "private_key_id": "x"}',
            "The JSON key lacks its private_key: paste the whole file Google downloaded, unchanged.",
        ),
        ("admin_email", "admin", BAD_ADMIN),
        ("admin_email", "admin@acme.example", None),
        ("customer_id", "", None),
        ("customer_id", "my_customer", None),
        ("customer_id", "C01x2y3z4", None),
        ("customer_id", "acme", BAD_CUSTOMER),
    ],
)
def test_field_problems(name, value, problem):
    assert field_problem(name, value) == problem


def test_a_whole_key_has_no_problem():
    from tests.providers.google_rig import key_file

    assert field_problem("key", __import__("json").dumps(key_file())) is None


# --- the token again, the check ------------------------------------------------------------------
async def test_the_token_is_renewed_after_an_hour_on_the_injected_clock(google, http):
    hooks = google.hooks(http)
    verified = await hooks.verify_form(google.values())
    google.clock.advance(seconds=TOKEN_LIFETIME)
    url = f"{google.url}/admin/directory/v1/users"
    expired = httpx.get(
        url,
        params={"customer": "my_customer"},
        headers={"Authorization": f"Bearer {verified.credentials[BEARER]}"},
    )
    assert expired.status_code == 401
    renewed = await hooks.renew(verified.credentials)
    assert renewed.token != verified.credentials[BEARER] and renewed.expires_in == TOKEN_LIFETIME
    fresh = httpx.get(
        url, params={"customer": "my_customer"}, headers={"Authorization": f"Bearer {renewed.token}"}
    )
    assert fresh.status_code == 200


async def test_renewal_drops_an_optional_scope_whose_delegation_was_removed(google, http):
    hooks = google.hooks(http)
    verified = await hooks.verify_form(google.values())
    google.delegate(REQUIRED)
    renewed = await hooks.renew(verified.credentials)
    assert google.standin.authority.token(renewed.token).scopes == frozenset(REQUIRED)
    google.delegate([REPORTS])
    with pytest.raises(ProviderError) as raised:
        await hooks.renew(verified.credentials)
    assert hooks.classify(raised.value, "refresh").kind == "revoked"


async def test_the_check_says_which_delegation_was_removed(google, http):
    hooks = google.hooks(http)
    verified = await hooks.verify_form(google.values())
    connection = google.connection(verified)
    from providers.http import Bearer

    healthy = await hooks.check(connection, Bearer(verified.credentials[BEARER]), google.clock())
    assert healthy.failure is None and healthy.scopes == tuple(ALL)
    google.delegate([DIRECTORY, LICENSING])
    degraded = await hooks.check(connection, Bearer(verified.credentials[BEARER]), google.clock())
    assert degraded.failure is None and degraded.unavailable == (REPORTS,)
    google.delegate([])
    revoked = await hooks.check(connection, Bearer(verified.credentials[BEARER]), google.clock())
    assert revoked.failure.kind == "revoked"


async def test_doctor_names_the_required_scopes_missing(google, http):
    hooks = google.hooks(http)
    verified = await hooks.verify_form(google.values())
    google.delegate([DIRECTORY, REPORTS])
    assert await hooks.access(verified.credentials, verified.account_id) == [LICENSING]


# --- failures classified -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("error", "operation", "kind"),
    [
        (
            Unauthorized("x", provider="google", status=401, oauth_error="unauthorized_client"),
            "refresh",
            "revoked",
        ),
        (
            ProviderError("x", provider="google", status=400, oauth_error="invalid_grant"),
            "refresh",
            "revoked",
        ),
        (Unauthorized("x", provider="google", status=401, category="authError"), "api", "revoked"),
        (
            MissingScopes("x", provider="google", status=403, category="insufficientPermissions"),
            "api",
            "scope_lost",
        ),
        (MissingScopes("x", provider="google", status=403, category="forbidden"), "api", "scope_lost"),
        (
            RateLimited("x", provider="google", status=403, category="userRateLimitExceeded"),
            "api",
            "transient",
        ),
        (RateLimited("x", provider="google", status=429, category="rateLimitExceeded"), "api", "transient"),
        (ProviderError("x", provider="google", status=403, category="quotaExceeded"), "api", "transient"),
        (TransientError("x", provider="google", status=503), "api", "transient"),
        (ValueError("not a provider error"), "api", "transient"),
    ],
)
def test_failures_are_classified(error, operation, kind):
    assert policy.classify(error, operation).kind == kind


@pytest.mark.parametrize(
    ("status", "body", "rate", "scope"),
    [
        (403, {"error": {"code": 403, "errors": [{"reason": "userRateLimitExceeded"}]}}, True, False),
        (403, {"error": {"code": 403, "errors": [{"reason": "rateLimitExceeded"}]}}, True, False),
        (403, {"error": {"code": 403, "errors": [{"reason": "quotaExceeded"}]}}, True, False),
        (429, {"error": {"code": 429, "errors": [{"reason": "rateLimitExceeded"}]}}, True, False),
        (403, {"error": {"code": 403, "errors": [{"reason": "insufficientPermissions"}]}}, False, True),
        (403, {"error": {"code": 403, "errors": [{"reason": "forbidden"}]}}, False, True),
        (400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, False, False),
    ],
)
def test_the_policy_reads_googles_error_body(status, body, rate, scope):
    info = policy.POLICY.error_info(body)
    assert policy.POLICY.is_rate_limited(status, info) is rate
    assert policy.POLICY.is_missing_scopes(status, info) is scope


# --- seats ---------------------------------------------------------------------------------------
def seat_of(user, sku_name="Google Workspace Business Standard", admin=False) -> InactiveSeat:
    return InactiveSeat(
        user_id=user.id, email=user.email, last_active=None, name="Someone", seat_type=sku_name, admin=admin
    )


async def test_reclaim_unassigns_once_and_undo_gives_it_back(google, http):
    hooks = google.hooks(http)
    verified = await hooks.verify_form(google.values())
    connection = google.connection(verified)
    from providers.http import Bearer

    auth = Bearer(verified.credentials[BEARER])
    holder = google.domain.licensed(STANDARD[0])[2]
    done = await hooks.reclaim(connection, auth, seat_of(holder))
    assert done.outcome is SeatOutcome.DONE and google.standin.unassigned == [
        (PRODUCT, STANDARD[0], holder.email)
    ]
    assert google.domain.find(holder.email).sku is None
    again = await hooks.reclaim(connection, auth, seat_of(holder))
    assert again.outcome is SeatOutcome.GONE and len(google.standin.unassigned) == 1
    back = await hooks.undo(connection, auth, seat_of(holder), done.undo)
    assert back.outcome is SeatOutcome.DONE and google.domain.find(holder.email).sku == STANDARD[0]
    assert google.standin.assigned == [(PRODUCT, STANDARD[0], holder.email)]


async def test_reclaim_without_the_licensing_delegation_is_a_missing_scope(google, http):
    hooks = google.hooks(http)
    google.delegate([DIRECTORY])
    verified = await hooks.verify_form(google.values())
    from providers.http import Bearer

    holder = google.domain.licensed()[1]
    result = await hooks.reclaim(
        google.connection(verified),
        Bearer(verified.credentials[BEARER]),
        seat_of(
            holder,
            {
                "1010020028": "Google Workspace Business Standard",
                "1010020025": "Google Workspace Business Plus",
            }[holder.sku],
        ),
    )
    assert result.outcome is SeatOutcome.MISSING_SCOPE and google.standin.unassigned == []


def test_admins_and_the_acting_admin_are_protected(google):
    hooks_module = __import__("providers.google.seats", fromlist=["protected"])
    from providers.plugin import Connection

    connection = Connection(id=1, account_id="C1", credentials={}, details={"admin_email": ADMIN_EMAIL})
    user = google.domain.users[5]
    assert hooks_module.protected(connection, seat_of(user, admin=True)) == ADMIN
    acting = InactiveSeat(user_id="1", email="Admin@acme.example", last_active=None)
    assert hooks_module.protected(connection, acting) == ACTS_AS
    assert hooks_module.protected(connection, seat_of(user)) is None


def test_the_entry_declares_its_shapes():
    assert SPEC.required_scopes == REQUIRED and SPEC.reclaim.write_scope_names == (LICENSING,)
