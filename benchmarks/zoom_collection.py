"""Zoom collection: seeded accounts, real HTTP, Zoom's per-second limits, latency.

    python benchmarks/zoom_collection.py [--accounts 1] [--users 700] [--latency 0.05] [--plan pro] [--repeat 5]

1. Starts the Zoom stand-in (sandbox/standins/zoom.py) in another process (its CPU is not this
   process's) with `--accounts` seeded accounts of `--users` active users on `--plan` (its rate
   limits: Pro allows Medium 20 and Heavy 10 requests a second per account), each answer `--latency`
   seconds late, and one Server-to-Server app per account with `user:read:admin` and
   `report:read:admin`.
2. Exchanges each app's credentials for a token (not timed), then collects every account at once with
   `collect_zoom` over the last 30 days — the users listing (Medium) and the active-hosts report
   (Heavy) — with the bot's client (`providers.http_client.provider_client`) and one Limiter with the
   entry's buckets.
3. Checks every report against the seed's truth (`truth`, `hosts_truth`, counted without HTTP), and
   prints calls, wall time, the bound (below), the client's CPU per call and the requests refused for
   rate.

The bound: an account's listing is a chain of pages that wait for each other (`next_page_token`), and
so is each window of its report; a page may start one latency after the previous one, and no sooner
than Zoom's limit allows (at most `limit` starts of a category in any second). The bound is the
longest such chain, each start as early as both rules allow, plus the last page's latency. `--repeat`
collections run in a row, a second apart, with one client (as the bot's process keeps it): the best
and the median wall time are printed (a shared machine's noise), the CPU per call of the runs after
the first (which opens the connections). Targets: wall <= 1.2x the bound, CPU per call <= 1 ms, 0 requests refused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from harness import ROOT  # importing harness puts the repository on sys.path
from harness.floor import Recorder, StandInCPU, print_floors, replay

from core.periods import Period  # noqa: E402
from providers.http import Bearer, ProviderHTTP  # noqa: E402
from providers.http_client import provider_client  # noqa: E402
from providers.ratelimit import Limiter  # noqa: E402
from providers.zoom.entry import POLICY, SPEC  # noqa: E402
from providers.zoom.hosts import PAGE_SIZE as REPORT_PAGE  # noqa: E402
from providers.zoom.usage import PAGE_SIZE, collect_zoom  # noqa: E402

SCOPES = ["user:read:admin", "report:read:admin"]
WINDOW = 1.0  # Zoom's limits are per second


def period_of(now: datetime) -> Period:
    today = now.date()
    return Period(start=today - timedelta(days=30), end=today - timedelta(days=1), timezone="UTC")


def serve(args: argparse.Namespace) -> None:
    from sandbox.standins.server import ThreadedServer
    from sandbox.standins.zoom import LIMITS, ZoomStandIn
    from sandbox.standins.zoom_seed import generate_account, hosts_truth, truth

    now = datetime.fromtimestamp(args.now, UTC)
    period = period_of(now)
    standin = ZoomStandIn()  # real time: its per-second windows are the real ones
    standin.faults.latency = args.latency
    accounts = []
    for i in range(args.accounts):
        account = generate_account(i, now=now, account_id=f"acct{i:04d}", plan=args.plan, n_users=args.users)
        standin.add_account(account)
        client_id, secret = standin.add_app(account.account_id, SCOPES)
        seats, hosts = truth(account, period.start_utc), hosts_truth(account, period.start, period.end)
        accounts.append(
            {
                "id": account.account_id,
                "client_id": client_id,
                "secret": secret,
                "idle": sorted(seats.idle_licensed),
                "licensed": seats.licensed,
                "hosts": len(hosts.licensed_hosts),
                "meetings": hosts.meetings,
                "report_rows": len(hosts.hosts),
            }
        )
    server = ThreadedServer(standin.app).start()
    limits = {category.lower(): n for category, n in LIMITS[args.plan].items()}
    print(json.dumps({"url": server.url, "accounts": accounts, "limits": limits}), flush=True)
    for _ in sys.stdin:  # each line asks for the refusals so far; the end of the input stops the stand-in
        print(json.dumps(standin.rate_limit_violations), flush=True)
    print(json.dumps(standin.rate_limit_violations), flush=True)


def chain(pages: int, latency: float, limit: int) -> float:
    """The earliest the last of `pages` dependent pages is answered: each starts a latency after the one
    before, and at most `limit` start in any second."""
    starts: list[float] = []
    for i in range(pages):
        start = starts[-1] + latency if starts else 0.0
        if i >= limit:
            start = max(start, starts[i - limit] + WINDOW)
        starts.append(start)
    return (starts[-1] + latency) if starts else 0.0


async def measure(
    args: argparse.Namespace,
    url: str,
    accounts: list[dict],
    now: datetime,
    pid: int,
    refusals: Callable[[], Any],
) -> tuple[list[dict], Any, dict, float | None]:
    period = period_of(now)
    tokens = {}
    async with httpx.AsyncClient() as plain:
        for account in accounts:
            answer = await plain.post(
                f"{url}/oauth/token",
                params={"grant_type": "account_credentials", "account_id": account["id"]},
                auth=(account["client_id"], account["secret"]),
            )
            tokens[account["id"]] = answer.raise_for_status().json()["access_token"]
    recorder = Recorder()
    runs = []
    standin = StandInCPU(pid)
    # one client and one limiter for every run, as the bot's process keeps them
    async with provider_client(event_hooks=recorder.hooks) as client:
        http = ProviderHTTP(client, POLICY, limiter=Limiter({SPEC.key: SPEC.limits}))

        async def one(account: dict):
            return await collect_zoom(
                http, Bearer(tokens[account["id"]]), base_url=url, team_id="T1", account_id=account["id"],
                account_name=account["id"], period=period, scopes=SCOPES, clock=lambda: now,
            )  # fmt: skip

        for n in range(args.repeat):
            if n:
                await asyncio.sleep(WINDOW + 0.1)  # the previous run's per-second windows have passed
            recorder.start()
            standin.run_starts(n)
            cpu, wall = time.process_time(), time.perf_counter()
            reports = await asyncio.gather(*(one(account) for account in accounts))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            wrong = [
                account["id"]
                for account, report in zip(accounts, reports, strict=True)
                if sorted(s.user_id for s in report.seats.inactive_paid_users) != account["idle"]
                or report.seats.paid_seats != account["licensed"]
                or report.values().get("licensed_hosts") != account["hosts"]
                or report.values().get("meetings") != account["meetings"]
            ]
            runs.append({"calls": recorder.calls, "wall": wall, "cpu": cpu, "wrong": wrong})
        standin.runs_end()
    refused = refusals()  # before the floor's replays, which the stand-in counts too
    floors = await replay(recorder, policy=POLICY, limits={SPEC.key: SPEC.limits}, rounds=args.floor_rounds)
    return runs, refused, floors, standin.per_request(sum(run["calls"] for run in runs[1:]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1)
    parser.add_argument("--users", type=int, default=700)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=5, help="collections in a row: the best and the median")
    parser.add_argument(
        "--floor-rounds", type=int, default=3, help="the last run's GETs again through bare clients (0: not)"
    )
    parser.add_argument("--plan", choices=("free", "pro", "business"), default="pro")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--now", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return 0
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    command = [sys.executable, __file__, "--serve", "--now", str(now.timestamp()), "--accounts", str(args.accounts),
               "--users", str(args.users), "--latency", str(args.latency), "--plan", args.plan]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)

    def refusals() -> Any:
        """The stand-in's count of requests refused for exceeding a limit, so far."""
        process.stdin.write("\n")
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    ready = json.loads(process.stdout.readline())
    runs, refused, floors, standin = asyncio.run(
        measure(args, ready["url"], ready["accounts"], now, process.pid, refusals)
    )
    process.stdin.close()
    after_floor = json.loads(process.stdout.readline())
    process.wait()
    limits = ready["limits"]
    first = ready["accounts"][0]
    listing = chain(math.ceil(args.users / PAGE_SIZE), args.latency, limits["medium"])
    report = chain(max(1, math.ceil(first["report_rows"] / REPORT_PAGE)), args.latency, limits["heavy"])
    bound = max(listing, report)
    walls = sorted(run["wall"] for run in runs)
    best, median = walls[0], statistics.median(walls)
    warm = runs[1:] or runs  # the first run opens the connections
    calls, cpu = sum(run["calls"] for run in warm), sum(run["cpu"] for run in warm)
    cold = runs[0]["cpu"] / runs[0]["calls"] * 1000
    wrong = sorted({account for run in runs for account in run["wrong"]})
    print(
        f"{args.accounts} Zoom accounts ({args.plan}) x {args.users} users, the users and the active-hosts report, latency {args.latency * 1000:.0f} ms, {args.repeat} runs"
    )
    print(
        f"calls {calls // len(warm)} a run, wall best {best:.3f} s / median {median:.3f} s, bound {bound:.3f} s (listing {listing:.3f} s, report {report:.3f} s), ratio best {best / bound:.2f}x / median {median / bound:.2f}x (target <= 1.2x)"
    )
    print(
        f"client CPU {cpu / calls * 1000:.2f} ms per call (target <= 1 ms; the first run, opening connections: {cold:.2f} ms); refused for rate: {refused}"
    )
    print(f"reports equal to the truth: {args.accounts - len(wrong)}/{args.accounts} {wrong or ''}")
    print_floors(floors, standin, after_floor, "the last run's GETs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
