"""providers/sendgrid/client.py: the key-shape check (pure), and verifying and probing keys against the
SendGrid stand-in over real HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from core.config import Settings
from providers.http import MissingScopes, ProviderError, ProviderHTTP, TransientError, Unauthorized
from providers.sendgrid import client as sg
from providers.sendgrid.entry import POLICY as SENDGRID
from sandbox.standins.sendgrid import AUTO_SCOPES, SendGridStandIn, mint_key
from sandbox.standins.sendgrid_seed import generate_account
from sandbox.standins.server import serve_in_thread

READ_SCOPES = ["user.account.read", "user.credits.read", "teammates.read", "stats.read"]
ALL_SCOPES = [*READ_SCOPES, "user.username.read"]
# fixed, not minted: the ids of test_key_shape show it, and pytest-xdist needs every worker to collect
# the same ids (test_minted_keys_have_sendgrid_length_and_normalise_strips checks mint_key's shape)
GOOD = "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"


@pytest.mark.parametrize(
    "pasted,problem",
    [
        (GOOD, None),
        (f"  {GOOD}\n", None),  # surrounding whitespace from a copy is forgiven
        ("SG.abcdefgh.ijklmnop", None),  # short, but shaped like a key: SendGrid decides
        ("SG." + "a" * 22 + "." + "b" * 60, None),  # longer than today's keys: SendGrid decides
        ("", sg.KEY_EMPTY),
        ("   ", sg.KEY_EMPTY),
        (None, sg.KEY_EMPTY),
        (GOOD[:30] + " " + GOOD[30:], sg.KEY_HAS_SPACES),
        (GOOD[:30] + "\n" + GOOD[30:], sg.KEY_HAS_SPACES),
        (GOOD[3:25], sg.KEY_LOOKS_LIKE_ID),  # the "API Key ID" column of SendGrid's list
        ("xoxb-1234-5678-abcdefgh", sg.KEY_NOT_SG),
        ("sg." + GOOD[3:], sg.KEY_NOT_SG),  # the prefix is case-sensitive
        (f"Bearer {GOOD}", sg.KEY_HAS_SPACES),
        ("SG.", sg.KEY_MALFORMED),
        ("SG.abc", sg.KEY_MALFORMED),
        (GOOD.replace(".", "", 2).replace("SG", "SG.", 1), sg.KEY_MALFORMED),  # one dot missing
        (GOOD[:-1] + "!", sg.KEY_MALFORMED),
        (GOOD[:40] + "é" + GOOD[41:], sg.KEY_MALFORMED),
        ("SG." + "a" * 300, sg.KEY_TOO_LONG),
    ],
)
def test_key_shape(pasted, problem):
    assert sg.key_problem(pasted) == problem


def test_minted_keys_have_sendgrid_length_and_normalise_strips():
    assert len(GOOD) == sg.KEY_LENGTH
    assert sg.normalise_key(f"\t{GOOD} ") == GOOD


@pytest.mark.parametrize(
    "error,kind",
    [
        (Unauthorized("x", provider="sendgrid", status=401), "rejected"),
        (MissingScopes("x", provider="sendgrid", status=403), "rejected"),
        (TransientError("x", provider="sendgrid", status=503), "unavailable"),
        (ProviderError("x", provider="sendgrid", status=404), "failed"),
    ],
)
def test_verify_failure(error, kind):
    assert sg.verify_failure(error) == kind


@pytest.mark.parametrize(
    "scope,write",
    [
        ("stats.read", False),
        ("mail.send", True),
        ("api_keys.create", True),
        ("2fa_exempt", False),
        ("2fa_required", False),
        ("sender_verification_eligible", False),
        ("sender_verification_exempt", False),
    ],
)
def test_write_scopes(scope, write):
    assert sg.is_write_scope(scope) is write


def test_api_key_auth_never_shows_the_key():
    auth = sg.ApiKey(GOOD)
    assert GOOD not in repr(auth) and GOOD not in str(auth)


def test_regions_and_the_override():
    plain = sg.SendGridClient(None, Settings())
    assert plain.region_url("global") == "https://api.sendgrid.com"
    assert plain.region_url("eu") == "https://api.eu.sendgrid.com"
    with pytest.raises(ValueError):
        plain.region_url("mars")
    overridden = sg.SendGridClient(None, Settings().with_overrides(sendgrid_api_url="http://127.0.0.1:9"))
    assert {overridden.region_url(r) for r in ("global", "eu")} == {"http://127.0.0.1:9"}
    # a stored key is used where its region is now; an unknown region falls back to its stored URL
    assert plain.base_url_for({"region": "eu", "base_url": "http://old"}) == "https://api.eu.sendgrid.com"
    assert plain.base_url_for({"region": "??", "base_url": "http://old/"}) == "http://old"


# --- against the stand-in ----------------------------------------------------------------------
@pytest.fixture
def standin():
    standin = SendGridStandIn()
    end = datetime.now(UTC).date()
    standin.account = generate_account(3, account_id="acme", start=end - timedelta(days=10), end=end)
    standin.add_account(standin.account)
    with serve_in_thread(standin.app) as server:
        standin.url = server.url
        yield standin


@pytest.fixture
async def client(standin):
    async def no_sleep(_seconds: float) -> None:
        return None

    async with httpx.AsyncClient() as http:
        yield sg.SendGridClient(
            ProviderHTTP(http, SENDGRID, sleep=no_sleep),
            Settings().with_overrides(sendgrid_api_url=standin.url),
            # the bot's default: on a loaded CI machine even a local connect once took over 2 s
            timeout=8.0,
        )


async def test_verify_reads_scopes_identity_and_plan(standin, client):
    key = standin.add_key("acme", ALL_SCOPES)
    info = await client.verify(key, "global")
    account = standin.account
    # SendGrid adds 2fa_required and sender_verification_* to every key: still a read-only key
    assert info.missing == () and set(info.scopes) == set(ALL_SCOPES) | set(AUTO_SCOPES)
    assert info.user_id == str(account.user_id) and info.username == account.username
    assert info.account_type == "paid" and info.reputation == account.reputation
    assert info.write_scopes == ()
    paths = [r["path"] for r in standin.requests]
    assert paths[0] == "/v3/scopes" and set(paths) == {"/v3/scopes", "/v3/user/username", "/v3/user/account"}


async def test_verify_lists_missing_scopes_and_skips_what_the_key_cannot_read(standin, client):
    key = standin.add_key("acme", ["stats.read", "mail.send"])
    info = await client.verify(key, "eu")
    assert info.missing == ("user.account.read", "user.credits.read", "teammates.read")
    assert info.user_id is None and info.username is None and info.account_type is None
    assert info.write_scopes == ("mail.send",)
    assert [r["path"] for r in standin.requests] == ["/v3/scopes"]  # nothing it would be refused


async def test_verify_401_is_unauthorized_and_never_echoes_the_key(standin, client):
    key = standin.add_key("acme", ALL_SCOPES)
    standin.revoke_key(key)
    with pytest.raises(Unauthorized) as caught:
        await client.verify(key, "global")
    assert sg.verify_failure(caught.value) == "rejected"
    assert key not in str(caught.value) and key not in repr(caught.value)
    with pytest.raises(Unauthorized):
        await client.verify(mint_key(), "global")  # a key SendGrid never issued


async def test_verify_retries_a_5xx_once_then_says_unavailable(standin, client):
    key = standin.add_key("acme", ALL_SCOPES)
    standin.faults.fail_next("/v3/scopes", status=503, count=1)
    assert (await client.verify(key, "global")).missing == ()
    standin.faults.fail_next("/v3/scopes", status=502, count=2)
    with pytest.raises(TransientError) as caught:
        await client.verify(key, "global")
    assert sg.verify_failure(caught.value) == "unavailable"


async def test_verify_times_out_per_request(standin, client):
    key = standin.add_key("acme", ALL_SCOPES)
    client.timeout = 0.2
    standin.faults.hang_next("/v3/scopes", seconds=1.0, count=2)
    with pytest.raises(TransientError):
        await client.verify(key, "global")


async def test_an_identity_forbidden_despite_the_scope_is_not_fatal(standin, client):
    key = standin.add_key("acme", ALL_SCOPES)
    standin.faults.fail_next(
        "/v3/user/username", status=403, body={"errors": [{"message": "access forbidden"}]}
    )
    info = await client.verify(key, "global")
    assert info.user_id is None and info.account_type == "paid"


async def test_health_ok_revoked_forbidden_and_unknown(standin, client):
    today = datetime.now(UTC).date()
    key = standin.add_key("acme", [*ALL_SCOPES])
    ok = await client.health(key, standin.url, today=today, account="acme")
    assert ok.status == "ok" and ok.unavailable == () and ok.unknown == ()
    probed = {r["path"] for r in standin.requests}
    assert probed >= {"/v3/user/account", "/v3/user/credits", "/v3/teammates", "/v3/stats"}

    standin.faults.fail_next("/v3/stats", status=403, body={"errors": [{"message": "access forbidden"}]})
    forbidden = await client.health(key, standin.url, today=today, account="acme")
    assert forbidden.status == "ok" and forbidden.unavailable == ("stats.read",)

    lacking = standin.add_key("acme", ["stats.read"])
    partial = await client.health(lacking, standin.url, today=today, account="acme")
    assert partial.unavailable == ("teammates.read", "user.account.read", "user.credits.read")

    standin.faults.fail_next("/v3/scopes", status=503, count=5)
    down = await client.health(key, standin.url, today=today, account="acme")
    assert down.status == "unknown" and "SendGrid" in down.reason

    standin.revoke_key(key)
    assert (await client.health(key, standin.url, today=today, account="acme")).status == "revoked"


def test_probes_ask_for_yesterday():
    probes = sg.SendGridClient(None, Settings()).probes(date(2026, 3, 1))
    assert probes["stats.read"][1]["start_date"] == "2026-02-28"
    assert set(probes) == set(READ_SCOPES)
