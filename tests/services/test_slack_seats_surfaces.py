"""A Slack seats connection shows wherever a connection shows (issue 25): `quolum-bot doctor` (its API
and SCIM answer, the connection's access works, a revoked admin token fails in one line), `/metrics`
(its calls counted under `slack_seats`), App Home (its row) and `quolum-bot usage
collect --json` (the report with members and guests, billing unknown without the admin's grant)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from bot import doctor
from core.metrics import REGISTRY
from providers.registry import INSTALLED
from sandbox.standins.slack_seats_seed import seed_workspace
from tests.conftest import install
from tests.providers.slack_seats_rig import connect_with_billing
from tests.services.test_alerts import replica
from tests.services.test_usage import cli

KEY = "slack_seats"
TEAM = "T0001"
GRANTER = "U000100001"


@pytest.fixture
async def connected(settings, storage, slack, clock):
    """A workspace with Slack seats connected (bot token and an admin's grant); every other provider's
    URL points at a listening server, as doctor only asks whether each answers."""
    await install(storage, slack)
    seed_workspace(slack, TEAM, now=clock(), n_users=30, seed=5)
    slack.add_user("U0001", is_admin=True)
    await connect_with_billing(storage, slack, GRANTER)
    token = next(t for t, g in slack.user_grants.items() if g.user_id == GRANTER)
    others = {
        setting.name.lower(): slack.url
        for spec in INSTALLED.values()
        for setting in spec.settings
        if setting.name.endswith("_URL") and setting.name != "SLACK_API_URL"
    }
    return settings.with_overrides(**others), token


async def test_doctor_checks_slack_seats_api_scim_and_the_connection(connected, slack):
    settings, token = connected
    lines = [f.line() for f in await doctor._collect(settings)]
    mine = [line for line in lines if f" {KEY}" in line or line.startswith(f"ok    {KEY}:")]
    assert f"ok    {KEY}: {slack.url}/api/ answers" in mine
    assert f"ok    {KEY}: {slack.url}/ answers" in mine  # SLACK_SCIM_URL
    assert f"ok    connection: {TEAM} {KEY} (Acme): access works" in mine

    slack.revoke(token)
    lines = [f.line() for f in await doctor._collect(settings)]
    [failed] = [line for line in lines if line.startswith(f"FAIL  connection: {TEAM} {KEY} (Acme)")]
    assert "refuses the stored credentials" in failed and token not in failed


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_app_home_and_usage_json_show_the_connection(
    connected, serve, slack, clock, database_url
):
    settings, _ = connected
    bot = serve(settings)
    before = sample("quolum_provider_requests_total", provider=KEY, status="200")
    async with replica(bot.settings, database_url, clock, "r1") as one:
        await one.usage.collect(team_id=TEAM)
        # /metrics: Slack seats' calls are counted under their own provider label
        calls = len(slack.calls_to("users.list") + slack.calls_to("team.billableInfo"))
        assert sample("quolum_provider_requests_total", provider=KEY, status="200") >= before + calls
        scraped = httpx.get(f"{bot.url}/metrics", timeout=5).text
        assert f'quolum_provider_requests_total{{provider="{KEY}",status="200"}}' in scraped

        # App Home, for an admin: the Slack row, connected to the workspace
        home = await one.home.view(await one.slack_clients(TEAM), TEAM, "U0001")
        [row] = [b for b in home["blocks"] if b.get("block_id") == f"row:{KEY}"]
        assert row["text"]["text"].startswith("*Slack*\n:white_check_mark: *Connected* to *Acme*")
        truth = slack.seats_truth(
            TEAM, (await one.storage.snapshots.history(TEAM, KEY, 1))[0].period.start_utc
        )

    # usage collect --json: one line for Slack seats, the seed's figures
    result = await asyncio.to_thread(cli, "--period", "last-30-days", "--json", settings=bot.settings)
    assert result.returncode == 0, result.stderr
    [report] = [json.loads(line) for line in result.stdout.splitlines()]
    assert report["provider"] == KEY and report["account"]["id"] == TEAM
    figures = {f["key"]: f["value"] for f in report["activity"]}
    assert figures["members"] == truth.members and figures["single_channel_guests"] == truth.single_guests
    assert report["seats"]["paid_seats"] == truth.billable and report["signals"]["unavailable"] == []


async def test_seats_commands_take_the_name_on_the_card(connected, serve, slack, clock, database_url):
    """`/quolum seats slack` (the card's name, the alias its entry declares) is `/quolum seats
    slack_seats`, in any case; a name no provider answers to gets one sentence of the valid ones."""
    from tests.handlers.test_digest import run

    settings, _ = connected
    bot = serve(settings)
    async with replica(bot.settings, database_url, clock, "r1") as one:
        await one.usage.collect(team_id=TEAM)
    by_key = await run(bot, slack, f"seats {KEY}")
    assert "I don't know" not in json.dumps(by_key)
    for typed in ("slack", "Slack", "SLACK"):
        assert (await run(bot, slack, f"seats {typed}"))["blocks"] == by_key["blocks"]
    reply = await run(bot, slack, "seats exempt di@acme.example slack")
    assert "exempt list for Slack" in reply["text"]

    unknown = (await run(bot, slack, "seats slak"))["text"]
    assert unknown.startswith("I don't know a provider called `slak`: name one of ")
    assert f"Slack (`slack`, `{KEY}`)" in unknown and unknown.count(".") <= 1  # one sentence
