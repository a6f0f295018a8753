"""The weekly digest for many workspaces: one HubSpot connection each, one channel each.

    python benchmarks/digest_fanout.py [--workspaces 1000] [--users 5] [--records 5] [--latency 0.05]
        [--database-url postgresql://...]

What it does (everything on 127.0.0.1, free ports):

1. Starts the Slack and HubSpot stand-ins in threads of this process, both answering every call
   `--latency` seconds late; the Slack stand-in enforces chat.postMessage's per-channel rate (about
   one per second with a burst of 3, 429 + Retry-After beyond). One small seeded portal per workspace.
2. Prepares a database (a temporary SQLite file, or `--database-url`, which is wiped): each workspace
   installed, its HubSpot connected, one channel subscribed weekly, all due at the same minute.
3. Runs the `digests` job once as an operator would, `quolum-bot jobs run digests --at T`, in its
   own process: the same claims and the same code as the scheduler. Its peak memory is that
   process's ru_maxrss (the stand-ins' memory is not counted).
4. Prints wall time, the lower bound the rate limits allow (how it is computed is printed too), the
   ratio, peak memory, duplicates (channels with more than one digest), drops (subscriptions without
   one), the 429s answered and how the HubSpot calls split.

Exit status 0 either way (this is a measurement) unless the benchmark could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.config import normalise_database_url  # noqa: E402
from sandbox.slack_requests import SIGNING_SECRET  # noqa: E402
from sandbox.standins.hubspot import HubSpotStandIn  # noqa: E402
from sandbox.standins.hubspot_seed import generate_portal  # noqa: E402
from sandbox.standins.server import ThreadedServer  # noqa: E402
from sandbox.standins.slack import SlackStandIn  # noqa: E402
from services.digest_schedule import WEEKLY, Schedule  # noqa: E402
from storage.crypto import Encryptor  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.store import Storage  # noqa: E402
from tests.conftest import TEST_KEY, connect_hubspot, install, subscribe_due  # noqa: E402

SCOPES = ["oauth", "settings.users.read", "crm.objects.owners.read", "crm.objects.contacts.read"]
HUBSPOT_SEARCH_SPACING = 0.2  # HubSpot: 5 searches per second per account
HUBSPOT_WINDOW = (110, 10.0)  # HubSpot: 110 calls per 10 s per account
SLACK_PER_CHANNEL = 1.0  # chat.postMessage: about 1 per second per channel (one digest per channel here)


class Counting:
    """ASGI wrapper counting HubSpot calls per account (by bearer token) and searches."""

    def __init__(self, app, tokens: dict[str, int]) -> None:
        self.app, self.tokens = app, tokens
        self.calls: Counter[int] = Counter()
        self.searches: Counter[int] = Counter()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            auth = dict(scope["headers"]).get(b"authorization", b"").decode()
            portal = self.tokens.get(auth[7:], 0)
            self.calls[portal] += 1
            if scope["path"].endswith("/search"):
                self.searches[portal] += 1
        await self.app(scope, receive, send)


async def prepare(
    args, url: str, slack: SlackStandIn, hubspot: HubSpotStandIn, tokens: dict, send_at: datetime
):
    db = Database(url)
    if not db.is_sqlite:
        from sqlalchemy import text

        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await db.upgrade()
    storage = Storage(db, Encryptor([TEST_KEY]), replica_id="bench")
    schedule = Schedule(WEEKLY, send_at.weekday(), f"{send_at:%H:%M}", "UTC")
    now = send_at - timedelta(days=1)
    for i in range(args.workspaces):
        team_id, portal_id = f"T{i:06d}", 100_000 + i
        slack.add_workspace(team_id, f"Team {i}")
        await install(storage, slack, team_id)
        issued = await connect_hubspot(storage, hubspot, portal_id, SCOPES, team_id=team_id, time_zone="UTC")
        tokens[issued["access_token"]] = portal_id
        await subscribe_due(storage, team_id, "C" + team_id[1:], schedule, now)
    await db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workspaces", type=int, default=1000)
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--records", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=32, help="QUOLUM_DIGEST_CONCURRENCY of the job")
    parser.add_argument("--profile", help="write a cProfile of the job process to this file")
    parser.add_argument("--database-url", help="PostgreSQL to use (wiped!); default a temporary SQLite file")
    args = parser.parse_args()

    send_at = (datetime.now(UTC) + timedelta(minutes=2)).replace(second=0, microsecond=0)  # due then
    slack = SlackStandIn()
    slack.latency = args.latency
    hubspot = HubSpotStandIn()
    seed_end = send_at - timedelta(hours=1)
    t0 = time.monotonic()
    for i in range(args.workspaces):
        hubspot.add_portal(
            generate_portal(
                i,
                portal_id=100_000 + i,
                start=seed_end - timedelta(days=14),
                end=seed_end,
                n_users=args.users,
                n_deactivated=1,
                records_per_type=args.records,
                logins_per_user=3,
            )
        )
    hubspot.faults.latency = args.latency
    tokens: dict[str, int] = {}
    counting = Counting(hubspot.app, tokens)
    slack_server = ThreadedServer(slack.app).start()
    slack.url = slack_server.url
    hub_server = ThreadedServer(counting).start()
    with tempfile.TemporaryDirectory() as tmp:
        url = normalise_database_url(args.database_url or f"sqlite:///{tmp}/bench.db", Path(tmp))
        asyncio.run(prepare(args, url, slack, hubspot, tokens, send_at))
        print(f"prepared {args.workspaces} workspaces in {time.monotonic() - t0:.1f} s", flush=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "QUOLUM_", "HUBSPOT_"))}
        env |= {
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_CLIENT_ID": slack.client_id,
            "SLACK_CLIENT_SECRET": slack.client_secret,
            "SLACK_API_URL": f"{slack.url}/api/",
            "QUOLUM_DATABASE_URL": url,
            "QUOLUM_ENCRYPTION_KEYS": TEST_KEY,
            "QUOLUM_LOG_LEVEL": "ERROR",
            "QUOLUM_DATA_DIR": tmp,
            "QUOLUM_DIGEST_CONCURRENCY": str(args.concurrency),
            "HUBSPOT_CLIENT_ID": "test-client-id",
            "HUBSPOT_CLIENT_SECRET": "test-client-secret",
            "HUBSPOT_API_URL": hub_server.url,
        }
        command = [sys.executable, "-m", "bot.cli", "jobs", "run", "digests", "--at", send_at.isoformat()]
        if args.profile:
            command[1:1] = ["-m", "cProfile", "-o", args.profile]
        started, bench_cpu = time.monotonic(), time.process_time()
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
        out, err = process.stdout.read(), process.stderr.read()
    slack_server.stop()
    hub_server.stop()

    channels = ["C" + f"{i:06d}" for i in range(args.workspaces)]
    per_channel = Counter({c: len(slack.posts_to(c)) for c in channels})
    duplicates = sum(1 for n in per_channel.values() if n > 1)
    drops = sum(1 for n in per_channel.values() if n == 0)
    per_account = []
    for portal in range(100_000, 100_000 + args.workspaces):
        searches, calls = counting.searches[portal], counting.calls[portal]
        by_search = max(0, searches - 1) * HUBSPOT_SEARCH_SPACING
        by_window = max(0, calls // HUBSPOT_WINDOW[0]) * HUBSPOT_WINDOW[1]
        per_account.append(max(by_search, by_window) + args.latency)  # at least one round trip
    bound = max(per_account) + args.latency  # accounts are independent; then one post per channel
    print(f"job exit status {os.waitstatus_to_exitcode(status)}: {out.strip()} {err.strip()[-500:]}")
    print(
        f"HubSpot calls: {sum(counting.calls.values()):,} ({sum(counting.searches.values()):,} searches), "
        f"{max(counting.calls.values() or [0])} at most per account"
    )
    print(
        f"Slack: {len(slack.calls_to('chat.postMessage')):,} chat.postMessage calls, {slack.rate_limited} answered 429"
    )
    print(
        f"lower bound: max over accounts of max((searches - 1) x {HUBSPOT_SEARCH_SPACING} s, "
        f"calls // 110 x 10 s) + one {args.latency} s round trip, + one post ({SLACK_PER_CHANNEL}/s per channel "
        f"never binds with one digest per channel) = {bound:.2f} s"
    )
    ratio = wall / bound if bound else float("inf")
    print(
        f"wall time {wall:.1f} s, bound {bound:.2f} s, ratio {ratio:.1f} ({'PASS' if ratio <= 1.5 else 'MISS'} <= 1.5)"
    )
    cpu = usage.ru_utime + usage.ru_stime
    print(
        f"CPU of the job process {cpu:.1f} s ({cpu / max(wall, 1e-9):.0%} of one core over the wall time), "
        f"{cpu / max(1, sum(per_channel.values())) * 1000:.1f} ms per digest posted (start-up included); "
        f"the benchmark process (stand-ins) {time.process_time() - bench_cpu:.1f} s"
    )
    print(
        f"CPU floor: the job runs on one event loop, so it cannot finish before its own {cpu:.1f} s of CPU; "
        f"wall / that floor = {wall / max(cpu, 1e-9):.2f} (how much of the wall time is waiting, not work)"
    )
    rss = usage.ru_maxrss / 1024
    print(f"peak RSS of the job process {rss:.0f} MB ({'PASS' if rss < 300 else 'MISS'} < 300 MB)")
    print(
        f"digests posted {sum(per_channel.values())} for {args.workspaces} subscriptions: "
        f"duplicates {duplicates}, drops {drops}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
