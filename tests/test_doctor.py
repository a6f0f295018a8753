"""`quolum-bot doctor` against the stand-ins: a healthy set-up passes; each fault gives its one failing line."""

from __future__ import annotations

import socket
import sqlite3

import pytest

from bot import doctor
from providers.registry import INSTALLED
from providers.sendgrid.entry import SPEC as SENDGRID_SPEC
from storage.crypto import generate_key
from tests.conftest import SENDGRID_ACCOUNT, install
from tests.test_cli import run

HUBSPOT_SCOPES = ["oauth", "settings.users.read", "crm.objects.owners.read", "crm.objects.contacts.read"]


@pytest.fixture
def refused_url():
    with socket.socket() as sock:  # bound, never listening: every connection is refused
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
async def healthy(hub_settings, sendgrid, storage, slack, hubspot):
    """One installed workspace with HubSpot and SendGrid connected; returns (settings, handles)."""
    await install(storage, slack)
    tokens = hubspot.issue_tokens(101, HUBSPOT_SCOPES)
    hub_credentials = {"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"]}
    key = sendgrid.add_key(SENDGRID_ACCOUNT, SENDGRID_SPEC.required_scopes)
    sg_credentials = {"api_key": key, "region": "global", "base_url": sendgrid.url}
    for provider, account_id, name, credentials, scopes, expires_in in (
        ("hubspot", "101", "portal101", hub_credentials, HUBSPOT_SCOPES, tokens["expires_in"]),
        ("sendgrid", str(sendgrid.account.user_id), sendgrid.account.username, sg_credentials, SENDGRID_SPEC.required_scopes, None),
    ):  # fmt: skip
        await storage.connections.save_connected(
            team_id="T0001", provider=provider, account_id=account_id, account_name=name, connected_by="U1",
            credentials=credentials, scopes=scopes, details={}, expires_in=expires_in,
        )  # fmt: skip
    # every other installed provider is configured but not connected: its URLs answer (doctor only asks
    # whether they answer at all, any status counts), here from a stand-in that is already listening
    others = {
        setting.name.lower(): sendgrid.url
        for spec in INSTALLED.values()
        if spec.key not in ("hubspot", "sendgrid")
        for setting in spec.settings
        if setting.name.endswith("_URL")
    }
    return hub_settings.with_overrides(sendgrid_api_url=sendgrid.url, **others), {"sendgrid_key": key}


async def findings(settings) -> list[doctor.Finding]:
    return await doctor._collect(settings)


def failing(found: list[doctor.Finding]) -> list[str]:
    return [f.line() for f in found if not f.ok]


async def test_a_healthy_set_up_passes_every_check(healthy):
    settings, _ = healthy
    found = await findings(settings)
    assert failing(found) == []
    areas = [f.area for f in found]
    assert {"config", "database", "keys", "slack", "hubspot", "sendgrid", "connection"} <= set(areas)
    assert areas.count("connection") == 2
    assert all(len(f.line().splitlines()) == 1 for f in found)


async def test_a_bad_configuration(healthy):
    settings, _ = healthy
    found = await findings(settings.with_overrides(bot_token="xoxb-also-set"))
    assert failing(found)[0].startswith("FAIL  config: Set either SLACK_CLIENT_ID")


async def test_a_database_without_schema(healthy, tmp_path):
    settings, _ = healthy
    sqlite3.connect(tmp_path / "empty.db").close()
    found = await findings(
        settings.with_overrides(database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    )
    assert failing(found)[0].startswith("FAIL  database: schema is at none")
    assert "run `quolum-bot db upgrade`" in failing(found)[0]


async def test_an_unreachable_database(healthy, refused_url):
    settings, _ = healthy
    port = refused_url.rsplit(":", 1)[1]
    found = await findings(
        settings.with_overrides(database_url=f"postgresql+asyncpg://q:q@127.0.0.1:{port}/q")
    )
    assert failing(found)[0].startswith("FAIL  database: cannot reach PostgreSQL at 127.0.0.1")


async def test_keys_that_do_not_decrypt_what_is_stored(healthy):
    settings, _ = healthy
    found = await findings(settings.with_overrides(encryption_keys=(generate_key(),)))
    lines = failing(found)
    assert lines[0].startswith("FAIL  keys: ") and "cannot be decrypted with these keys" in lines[0]
    assert not any("connection:" in line for line in lines)  # not tried without readable credentials


async def test_a_revoked_slack_token(healthy, slack):
    settings, _ = healthy
    slack.revoke(slack.workspaces["T0001"].bot_token)
    assert failing(await findings(settings)) == [
        "FAIL  slack: Slack refused the bot token of workspace T0001 (token_revoked: the token was revoked "
        "(the app was uninstalled or its tokens reset)): reinstall the app in that workspace (its install "
        "page is /slack/install)."
    ]


async def test_slack_scopes_missing_against_the_manifest(healthy, slack):
    settings, _ = healthy
    slack.workspaces["T0001"].scopes = "commands,chat:write"
    lines = failing(await findings(settings))
    assert len(lines) == 1 and "lacks chat:write.public, im:write, users:read" in lines[0]


@pytest.mark.parametrize("provider", ["hubspot", "sendgrid"])
async def test_an_unreachable_provider(healthy, refused_url, provider):
    settings, _ = healthy
    variable = {"hubspot": "hubspot_api_url", "sendgrid": "sendgrid_api_url"}[provider]
    lines = failing(await findings(settings.with_overrides(**{variable: refused_url})))
    assert lines[0] == (
        f"FAIL  {provider}: cannot reach {refused_url} (ConnectError): check the network or {variable.upper()}."
    )


async def test_a_hubspot_connection_whose_account_was_disconnected(healthy, hubspot):
    settings, _ = healthy
    hubspot.revoke_portal(101)
    lines = failing(await findings(settings))
    assert len(lines) == 1 and lines[0].startswith("FAIL  connection: T0001 hubspot (portal101): ")


async def test_a_sendgrid_key_that_was_deleted(healthy, sendgrid):
    settings, handles = healthy
    sendgrid.revoke_key(handles["sendgrid_key"])
    lines = failing(await findings(settings))
    assert len(lines) == 1 and lines[0].startswith("FAIL  connection: T0001 sendgrid (")
    assert "refuses the stored credentials (401)" in lines[0]


def test_the_command_prints_one_line_per_finding_and_exits_1(tmp_path, refused_url):
    env = {"QUOLUM_DATA_DIR": str(tmp_path), "SLACK_SIGNING_SECRET": "s", "SENDGRID_API_URL": refused_url}
    result = run("doctor", env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("FAIL  config: Set SLACK_BOT_TOKEN")
    assert lines[1].startswith("FAIL  database: no database at")
    assert all(line.startswith(("ok    ", "FAIL  ")) for line in lines)
    assert not (tmp_path / "quolum.db").exists() and not (tmp_path / "encryption.key").exists()


def test_missing_scopes_keeps_the_wanted_order():
    assert doctor.missing_scopes(["b", " a"], ["a", "b", "c", "d"]) == ["c", "d"]
    assert doctor.missing_scopes([""], []) == []


@pytest.mark.parametrize(
    "extra, says",
    [
        (
            "",
            "marked uncertain, never posted twice "
            "(optional channels:history, groups:history, im:history not granted)",
        ),
        (
            ",channels:history,im:history",
            "marked uncertain, never posted twice (optional groups:history not granted)",
        ),
        (
            ",channels:history,groups:history",
            "marked uncertain, never posted twice (optional im:history not granted)",
        ),
        (
            ",channels:history,groups:history,im:history",
            "looked for in its channel or DM (optional history scopes granted)",
        ),
    ],
)
async def test_doctor_says_what_an_unanswered_post_becomes(healthy, slack, extra, says):
    settings, _ = healthy
    slack.workspaces["T0001"].scopes += extra
    (line,) = [f.line() for f in await findings(settings) if f.area == "slack" and "token works" in f.line()]
    assert line.endswith("an unanswered post is " + says)
