"""`quolum-bot usage collect` and the service behind it: connections in, snapshots and reports out."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import httpx
import pytest

from bot.container import build_services
from core.clock import utcnow
from sandbox.standins.sendgrid import SendGridStandIn
from sandbox.standins.sendgrid_seed import generate_account
from sandbox.standins.server import ThreadedServer
from sandbox.workspace import SENDGRID_SCOPES
from tests.services.test_digests import cli_env

PERIOD = "2026-11-01..2026-11-21"


@pytest.fixture
def sendgrid():
    standin = SendGridStandIn()
    standin.add_account(
        generate_account(5, account_id="sg-1", start=date(2026, 10, 1), end=date(2026, 11, 22))
    )
    server = ThreadedServer(standin.app).start()
    standin.url = server.url
    yield standin
    server.stop()


@pytest.fixture
async def connected(storage, hubspot, sendgrid, hub_settings):
    """Workspace T0001 with HubSpot portal 101 and a SendGrid account connected."""
    tokens = hubspot.issue_tokens(
        101,
        [
            "oauth",
            "settings.users.read",
            "crm.objects.owners.read",
            "crm.objects.contacts.read",
            "crm.objects.companies.read",
            "crm.objects.deals.read",
            "account-info.security.read",
        ],
    )
    await storage.connections.save_connected(
        team_id="T0001",
        provider="hubspot",
        account_id="101",
        account_name="portal101.example.com",
        credentials={"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"]},
        connected_by="U0001",
        scopes=tokens["scopes"],
        details={"time_zone": "US/Eastern"},
        expires_in=tokens["expires_in"],
    )
    key = sendgrid.add_key("sg-1", SENDGRID_SCOPES)
    await storage.connections.save_connected(
        team_id="T0001",
        provider="sendgrid",
        account_id="sg-1",
        account_name="acme-mail",
        credentials={"api_key": key, "base_url": sendgrid.url},
        connected_by="U0001",
        scopes=SENDGRID_SCOPES,
        details={},
    )
    return hub_settings.with_overrides(sendgrid_api_url=sendgrid.url)


async def test_collect_stores_one_snapshot_per_period_and_replaces_it(connected, storage, hubspot):
    reports, errors = [], []
    async with httpx.AsyncClient() as http:
        service = build_services(connected, storage, utcnow, http).usage
        for _ in range(2):
            summary = await service.collect(
                period=PERIOD,
                on_report=reports.append,
                on_error=lambda key, error: errors.append((key, error)),
            )
            assert (summary.reported, summary.failed) == (2, 0), errors
    assert {r.provider for r in reports} == {"hubspot", "sendgrid"}
    hub = next(r for r in reports if r.provider == "hubspot").to_json()
    assert hub["period"] == {"start": "2026-11-01", "end": "2026-11-21", "timezone": "US/Eastern"}
    assert hub["seats"]["total_users"] == len(hubspot.portals[101].users)
    for provider in ("hubspot", "sendgrid"):
        history = await storage.snapshots.history("T0001", provider)
        assert len(history) == 1  # the second run replaced the first
    assert (await storage.connections.get("T0001", "hubspot")).last_used_at is not None


async def test_a_revoked_key_marks_the_connection_and_the_rest_carries_on(connected, storage, sendgrid):
    sendgrid.revoke_key((await storage.connections.get("T0001", "sendgrid")).credentials["api_key"])
    errors = []
    async with httpx.AsyncClient() as http:
        service = build_services(connected, storage, utcnow, http).usage
        summary = await service.collect(period=PERIOD, on_error=lambda key, error: errors.append(key))
    assert (summary.reported, summary.failed) == (1, 1) and errors == ["T0001/sendgrid/sg-1"]
    connection = await storage.connections.get("T0001", "sendgrid")
    assert connection.status == "needs_reconnect" and "revoked" in connection.status_reason
    # a real use reports to the health checks: an incident for SendGrid, a good check for HubSpot
    incidents = await storage.incidents.open_in_team("T0001")
    assert list(incidents) == ["sendgrid"] and incidents["sendgrid"].kind == "revoked"
    hub = await storage.connections.get("T0001", "hubspot")
    assert await storage.checks.last_checked(hub.id) is not None


def cli(*args: str, settings) -> subprocess.CompletedProcess:
    scim = settings.value("SLACK_SCIM_URL")  # Slack seats deactivates through its own stand-in
    env = cli_env(settings) | ({"SLACK_SCIM_URL": scim} if scim else {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "usage", "collect", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_cli_prints_json_lines_and_a_table(connected):
    result = cli("--period", PERIOD, "--json", settings=connected)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(r["provider"] for r in lines) == ["hubspot", "sendgrid"]
    for report in lines:
        assert {
            "team_id",
            "provider",
            "account",
            "period",
            "seats",
            "activity",
            "signals",
            "collected_at",
        } <= set(report)
        assert set(report["seats"]) >= {"total_users", "paid_seats", "active_users", "inactive_paid_users"}
        assert set(report["signals"]) == {"used", "unavailable"}
    table = cli("--period", PERIOD, "--provider", "hubspot", "--team", "T0001", settings=connected)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split()[:3] == ["team", "provider", "account"]
    assert "portal101.example.com" in table.stdout and "acme-mail" not in table.stdout


async def test_cli_bad_period_is_one_sentence(connected):
    result = cli("--period", "2026-13-01..2026-13-02", settings=connected)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
