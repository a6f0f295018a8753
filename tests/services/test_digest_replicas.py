"""Three `quolum-bot serve` processes on one PostgreSQL across a scheduled send time: each
subscription gets exactly one digest, also when the replica doing the run is killed mid-collection.

Slow by nature (the digests job runs on the minute grid): PostgreSQL only, since SQLite is one process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from services.digest_schedule import WEEKLY, Schedule, next_send
from tests.conftest import POSTGRES_URL, TEST_KEY, connect_hubspot, install, subscribe_due

pytestmark = [
    pytest.mark.skipif(
        not POSTGRES_URL,
        reason="needs QUOLUM_TEST_POSTGRES_URL: replicas share one PostgreSQL (SQLite is one process)",
    ),
    pytest.mark.slow,
]
SCOPES = ["oauth", "settings.users.read", "crm.objects.owners.read", "crm.objects.contacts.read"]
TEAMS = {"T0001": 101, "T0002": 202}
CHANNELS = ("C{n}01", "C{n}02", "C{n}03")
LEASE = 15


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def replica(settings, n: int) -> subprocess.Popen:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "QUOLUM_", "HUBSPOT_", "SENDGRID_"))
    }
    env |= {
        "SLACK_SIGNING_SECRET": settings.signing_secret,
        "SLACK_CLIENT_ID": settings.client_id,
        "SLACK_CLIENT_SECRET": settings.client_secret,
        "SLACK_API_URL": settings.slack_api_url,
        "QUOLUM_DATABASE_URL": settings.database_url,
        "QUOLUM_ENCRYPTION_KEYS": TEST_KEY,
        "QUOLUM_DIGEST_LEASE_SECONDS": str(LEASE),
        "QUOLUM_LOG_LEVEL": "WARNING",
        "HUBSPOT_CLIENT_ID": settings.value("HUBSPOT_CLIENT_ID"),
        "HUBSPOT_CLIENT_SECRET": settings.value("HUBSPOT_CLIENT_SECRET"),
        "HUBSPOT_API_URL": settings.value("HUBSPOT_API_URL"),
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


@pytest.fixture
async def workspaces(storage, slack, hubspot, hub_settings):
    """Two workspaces with HubSpot connected and three channels each, all due at the same minute."""
    if storage.db.is_sqlite:
        pytest.skip("replicas share PostgreSQL; SQLite is one process")
    now = datetime.now(UTC)
    send_at = (now + timedelta(seconds=75)).replace(second=0, microsecond=0)  # a grid minute >= 15 s away
    schedule = Schedule(WEEKLY, send_at.weekday(), f"{send_at:%H:%M}", "UTC")
    channels = []
    for team_id, portal in TEAMS.items():
        if team_id not in slack.workspaces:
            slack.add_workspace(team_id, team_id)
        await install(storage, slack, team_id)
        await connect_hubspot(storage, hubspot, portal, SCOPES, team_id=team_id, time_zone="UTC")
        for pattern in CHANNELS:
            channel = pattern.format(n=team_id[-1])
            slack.add_channel(channel, team_id=team_id)
            await subscribe_due(storage, team_id, channel, schedule, now)
            channels.append(channel)
    assert next_send(schedule, now) == send_at
    return send_at, channels


async def wait_for(probe, timeout: float):
    for _ in range(int(timeout / 0.25)):
        value = await probe()
        if value:
            return value
        await asyncio.sleep(0.25)
    return None


def stop(processes) -> None:
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in processes:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def posts_per_channel(slack, channels) -> Counter:
    return Counter({c: len(slack.posts_to(c)) for c in channels})


async def test_three_replicas_send_each_digest_exactly_once(workspaces, storage, slack, hub_settings):
    send_at, channels = workspaces
    processes = [replica(hub_settings, n) for n in range(3)]
    try:
        wait = (send_at - datetime.now(UTC)).total_seconds() + 60

        async def all_posted():
            return all(slack.posts_to(c) for c in channels)

        assert await wait_for(all_posted, wait), (
            f"not every channel got its digest: {posts_per_channel(slack, channels)}"
        )
        await asyncio.sleep(65)  # one more minute tick on every replica: nothing is sent again
    finally:
        stop(processes)
    assert posts_per_channel(slack, channels) == Counter(dict.fromkeys(channels, 1))
    deliveries = await storage.digests.deliveries()
    assert len(deliveries) == len(channels) and {d["state"] for d in deliveries} == {"posted"}
    assert {d["ts"] for d in deliveries} == {slack.posts_to(c)[0]["ts"] for c in channels}


async def test_a_replica_killed_mid_collection_still_sends_each_digest_once(
    workspaces, storage, slack, hubspot, hub_settings
):
    send_at, channels = workspaces
    hubspot.faults.latency = 0.4  # collection takes a while: there is time to kill the replica mid-way
    first = replica(hub_settings, 0)
    others = []
    try:

        async def claimed():
            return [
                d for d in await storage.digests.deliveries() if d["claimed_by"] and d["state"] == "pending"
            ]

        wait = (send_at - datetime.now(UTC)).total_seconds() + 60
        assert await wait_for(claimed, wait), "the replica never claimed a delivery"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert all(not slack.posts_to(c) for c in channels), "posted before the kill: the test proves nothing"
        hubspot.faults.latency = 0.0
        others = [replica(hub_settings, n) for n in range(3)]  # the restart, and two more replicas

        async def all_posted():
            return all(slack.posts_to(c) for c in channels)

        assert await wait_for(all_posted, LEASE + 130), (
            f"missing digests: {posts_per_channel(slack, channels)}"
        )
        await asyncio.sleep(5)
    finally:
        if first.poll() is None:
            first.kill()
        stop(others)
    assert posts_per_channel(slack, channels) == Counter(dict.fromkeys(channels, 1))
    deliveries = await storage.digests.deliveries()
    assert {d["state"] for d in deliveries} == {"posted"} and max(d["attempts"] for d in deliveries) >= 2
