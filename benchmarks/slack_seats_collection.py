"""Slack seats collection: a seeded workspace, real HTTP, Slack's Tier 2 limit, latency.

    python benchmarks/slack_seats_collection.py [--users 2000] [--latency 0.05] [--repeat 3]

1. Starts the Slack stand-in (sandbox/standins/slack.py with slack_seats.py) in another process (its
   CPU is not this process's) with one workspace of `--users` people (members, guests, deactivated,
   bots, billing, access logs over 60 days), Tier 2 enforced (20 calls a minute per method and
   workspace: 429 `ratelimited` beyond), each answer `--latency` seconds late, and an admin's user token.
2. Collects it with `collect_slack_seats` over the last 30 days — `users.list`, `team.billableInfo` and
   `team.accessLogs`, 1,000 a page, the three at once — with the bot's client
   (`providers.http_client.provider_client`) and one Limiter with the entry's buckets.
3. Checks the report against the seed's truth (`seats_truth`, counted without HTTP), and prints calls,
   wall time, the bound, the client's CPU per call and the requests refused for rate.

The bound: each listing is a chain of pages that wait for each other (a cursor, or the page number
read after the last entry's date); the three chains run at once and none is slowed by Tier 2 while a
method makes fewer than 20 calls a minute. The bound is the longest chain's pages times the latency.
`--repeat` collections run in a row (at most 20 / pages of a method a minute: Tier 2). Targets: wall
<= 1.2x the bound, CPU per call <= 1 ms, 0 requests refused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, datetime, timedelta

from harness.child import (  # importing harness puts the repository on sys.path
    StandInChild,
    benchmark_now,
    best_and_median,
    collection_parser,
)

from core.periods import Period  # noqa: E402
from providers.http import Bearer, ProviderHTTP  # noqa: E402
from providers.http_client import provider_client  # noqa: E402
from providers.ratelimit import Limiter  # noqa: E402
from providers.slack_seats.entry import POLICY, SPEC  # noqa: E402
from providers.slack_seats.usage import collect_slack_seats  # noqa: E402

TEAM = "T0BENCH01"


def period_of(now: datetime) -> Period:
    today = now.date()
    return Period(start=today - timedelta(days=30), end=today - timedelta(days=1), timezone="UTC")


def serve(args: argparse.Namespace) -> None:
    from sandbox.standins.server import ThreadedServer
    from sandbox.standins.slack import SlackStandIn
    from sandbox.standins.slack_seats_seed import seed_workspace

    now = datetime.fromtimestamp(args.now, UTC)
    standin = SlackStandIn()
    standin.add_workspace(TEAM, "Bench")
    seed_workspace(standin, TEAM, now=now, n_users=args.users)
    standin.tier2_per_minute = 20
    standin.latency = args.latency
    token = standin.grant_user_token(TEAM, f"U{TEAM[1:]}00001")
    truth = standin.seats_truth(TEAM, period_of(now).start_utc)
    server = ThreadedServer(standin.app).start()
    print(
        json.dumps(
            {"url": server.url, "token": token, "billable": truth.billable, "idle": sorted(truth.idle)}
        ),
        flush=True,
    )
    sys.stdin.read()  # until the benchmark closes it
    calls = {m: len(standin.calls_to(m)) for m in ("users.list", "team.billableInfo", "team.accessLogs")}
    print(json.dumps({"refused": standin.tier2_refused, "calls": calls}), flush=True)


async def measure(args: argparse.Namespace, ready: dict, now: datetime) -> list[dict]:
    period, calls, runs = period_of(now), 0, []

    async def count(request) -> None:
        nonlocal calls
        calls += 1

    async with provider_client(event_hooks={"request": [count]}) as client:
        http = ProviderHTTP(client, POLICY, limiter=Limiter({SPEC.key: SPEC.limits}))
        for _ in range(args.repeat):
            calls = 0
            cpu, wall = time.process_time(), time.perf_counter()
            report = await collect_slack_seats(
                http, Bearer(ready["token"]), base_url=f"{ready['url']}/api/", team_id=TEAM, account_id=TEAM,
                account_name="Bench", period=period, scopes={"admin", "users:read"}, clock=lambda: now,
            )  # fmt: skip
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            right = (
                report.seats.paid_seats == ready["billable"]
                and sorted(s.user_id for s in report.seats.inactive_paid_users) == ready["idle"]
            )
            runs.append({"calls": calls, "wall": wall, "cpu": cpu, "right": right})
    return runs


def main() -> int:
    parser = collection_parser(__doc__, repeat=3)
    parser.add_argument("--users", type=int, default=2000)
    args = parser.parse_args()
    if args.serve:  # the child: the stand-in
        return serve(args) or 0
    now = benchmark_now()
    child = StandInChild(__file__, now, users=args.users, latency=args.latency)
    runs = asyncio.run(measure(args, child.ready, now))
    seen = child.finish()
    pages = max(seen["calls"].values()) / args.repeat  # the longest chain, per run
    bound = pages * args.latency
    best, median, calls, cpu = best_and_median(runs)
    print(
        f"1 Slack workspace x {args.users} people, members, billing and access logs, latency {args.latency * 1000:.0f} ms, {args.repeat} runs"
    )
    print(
        f"calls {calls} a run {seen['calls']}, wall best {best:.3f} s / median {median:.3f} s, bound {bound:.3f} s ({pages:.0f} pages in the longest chain), ratio best {best / bound:.2f}x / median {median / bound:.2f}x (target <= 1.2x)"
    )
    print(f"client CPU {cpu * 1000:.2f} ms per call (target <= 1 ms); refused for rate: {seen['refused']}")
    print(f"reports equal to the truth: {sum(r['right'] for r in runs)}/{len(runs)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
