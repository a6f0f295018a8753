"""Google Workspace collection: seeded domains, real HTTP, Google's quotas, latency.

    python benchmarks/google_collection.py [--customers 10] [--users 2000] [--latency 0.05] [--lag 2]

1. Starts the Google stand-in (sandbox/standins/google.py) in another process (its CPU is not this
   process's) with `--customers` seeded domains of `--users` users, each answering `--latency` seconds
   late, the usage report `--lag` days behind, one service account delegated by every domain, and one
   access token per domain acting as its super admin (each admin has its own quotas).
2. Collects every domain at once with `collect_google`, the bot's client
   (`providers.http_client.provider_client`) and one Limiter with the entry's buckets.
3. Checks every report against the seed's truth (`truth`, counted without HTTP), and prints calls,
   wall time, the bound (below), the client's CPU per call and the requests refused for quota.

The bound: a domain's collection runs three chains at once, each of requests that wait for each other:
the Directory's pages (500 users a page), the License Manager's pages (1,000 licences a page, at most
one query a second: pages after the first start a second apart) and the usage report (yesterday's,
refused while not ready, then the newest ready day's pages, 1,000 users a page). The bound is the
longest chain, each request `--latency` late. Targets: wall <= 1.2x the bound, CPU per call <= 1 ms,
0 requests refused.
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

from harness import ROOT  # importing harness puts the repository on sys.path
from harness.floor import Recorder, StandInCPU, print_floors, replay

from core.periods import Period  # noqa: E402
from providers.google.entry import POLICY, SPEC  # noqa: E402
from providers.google.usage import collect_google  # noqa: E402
from providers.http import Bearer, ProviderHTTP  # noqa: E402
from providers.http_client import provider_client  # noqa: E402
from providers.ratelimit import Limiter  # noqa: E402

LICENSING_QPS = 1.0  # the License Manager's documented quota


def serve(args: argparse.Namespace) -> None:
    from providers.google.assertion import GRANT_TYPE, parse_key
    from sandbox.standins.google import GoogleStandIn
    from sandbox.standins.google_seed import generate_domain, truth
    from sandbox.standins.server import ThreadedServer

    now = datetime.fromtimestamp(args.now, UTC)
    period = Period.last_days(30, timezone="UTC", today=now.date())
    standin = GoogleStandIn(clock=lambda: now, lag_days=args.lag)
    standin.faults.latency = args.latency
    key_file = standin.authority.create_key()
    key = parse_key(json.dumps(key_file))
    scopes = [s.name for s in SPEC.scopes]
    customers = []
    for i in range(args.customers):
        name, customer_id = f"c{i}.example", f"C0{i:07d}"
        domain = standin.add_domain(
            generate_domain(i, now=now, n_users=args.users, domain=name, customer_id=customer_id)
        )
        standin.authority.delegate(customer_id, key_file["client_id"], scopes)
        form = {
            "grant_type": GRANT_TYPE,
            "assertion": key.assertion(f"admin@{name}", tuple(scopes), int(now.timestamp())),
        }
        token = standin.authority.exchange(form, now.timestamp(), standin._subject)["access_token"]
        found = truth(domain, period.start_utc)
        customers.append(
            {
                "id": customer_id,
                "name": name,
                "token": token,
                "idle": list(found.idle),
                "active": found.active,
                "licences": found.licences,
                "users": found.users,
            }
        )
    server = ThreadedServer(standin.app).start()
    print(json.dumps({"url": server.url, "customers": customers}), flush=True)
    for _ in sys.stdin:  # each line asks for the refusals so far; the end of the input stops the stand-in
        print(json.dumps({"refused": len(standin.quotas.refused)}), flush=True)
    print(json.dumps({"refused": len(standin.quotas.refused)}), flush=True)


async def measure(
    args: argparse.Namespace,
    url: str,
    customers: list[dict],
    now: datetime,
    pid: int,
    refusals: Callable[[], Any],
) -> tuple[list[dict], Any, dict, float | None]:
    period = Period.last_days(30, timezone="UTC", today=now.date())
    recorder = Recorder()
    runs = []
    standin = StandInCPU(pid)
    # one client and one limiter for every run, as the bot's process keeps them
    async with provider_client(event_hooks=recorder.hooks) as client:
        http = ProviderHTTP(client, POLICY, limiter=Limiter({SPEC.key: SPEC.limits}))

        async def one(customer: dict):
            return await collect_google(
                http, Bearer(customer["token"]), base_url=url, team_id="T1", account_id=customer["id"],
                account_name=customer["name"], period=period, scopes=None, clock=lambda: now,
                licensing_url=url, reports_url=url,
            )  # fmt: skip

        for n in range(args.repeat):
            if n:
                await asyncio.sleep(1 / LICENSING_QPS + 0.1)  # the License Manager's quota has room again
            recorder.start()
            standin.run_starts(n)
            cpu, wall = time.process_time(), time.perf_counter()
            reports = await asyncio.gather(*(one(customer) for customer in customers))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            wrong = [
                customer["id"]
                for customer, report in zip(customers, reports, strict=True)
                if sorted(s.user_id for s in report.seats.inactive_paid_users) != customer["idle"]
                or report.seats.active_paid_users != customer["active"]
                or report.seats.paid_seats != customer["licences"]
                or report.seats.total_users != customer["users"]
            ]
            runs.append({"calls": recorder.calls, "wall": wall, "cpu": cpu, "wrong": wrong})
        standin.runs_end()
    refused = refusals()  # before the floor's replays, which the stand-in counts too
    # the License Manager's pages are left out of the replay: sent at once they would exceed its quota
    # (one query a second), and the stand-in would count the refusals
    floors = await replay(
        recorder,
        policy=POLICY,
        limits={SPEC.key: SPEC.limits},
        rounds=args.floor_rounds,
        keep=lambda url: "/apps/licensing/" not in url,
    )
    return runs, refused, floors, standin.per_request(sum(run["calls"] for run in runs[1:]))


def bound(users: int, licences: int, latency: float) -> tuple[float, str]:
    """The longest of a domain's three chains (see the module docstring)."""
    directory = math.ceil(max(users, 1) / 500) * latency
    pages = math.ceil(max(licences, 1) / 1000)
    licensing = (pages - 1) * max(latency, 1 / LICENSING_QPS) + latency
    reports = (1 + math.ceil(max(users, 1) / 1000)) * latency
    chains = {"directory": directory, "licensing": licensing, "reports": reports}
    longest = max(chains, key=chains.get)
    return chains[longest], longest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--lag", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5, help="collections in a row: the best and the median")
    parser.add_argument(
        "--floor-rounds", type=int, default=3, help="the last run's GETs again through bare clients (0: not)"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--now", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return 0
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    command = [sys.executable, __file__, "--serve", "--now", str(now.timestamp()), "--customers", str(args.customers),
               "--users", str(args.users), "--latency", str(args.latency), "--lag", str(args.lag)]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)

    def refusals() -> Any:
        """The stand-in's count of requests refused for exceeding a limit, so far."""
        process.stdin.write("\n")
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    try:
        ready = json.loads(process.stdout.readline())
        runs, refused, floors, standin = asyncio.run(
            measure(args, ready["url"], ready["customers"], now, process.pid, refusals)
        )
    finally:
        process.stdin.close()
    after_floor = json.loads(process.stdout.readline())
    process.wait()
    limit, chain = max(bound(args.users, c["licences"], args.latency) for c in ready["customers"])
    walls = sorted(run["wall"] for run in runs)
    best, median = walls[0], statistics.median(walls)
    warm = runs[1:] or runs  # the first run opens the connections
    calls, cpu = sum(run["calls"] for run in warm), sum(run["cpu"] for run in warm)
    cold = runs[0]["cpu"] / runs[0]["calls"] * 1000
    wrong = sorted({customer for run in runs for customer in run["wrong"]})
    print(
        f"{args.customers} customers x {args.users} users, usage report {args.lag} days behind, latency {args.latency * 1000:.0f} ms, {args.repeat} runs"
    )
    print(
        f"calls {calls // len(warm)} a run, wall best {best:.3f} s / median {median:.3f} s, bound {limit:.3f} s (the {chain} chain), ratio best {best / limit:.2f}x / median {median / limit:.2f}x (target <= 1.2x)"
    )
    print(
        f"client CPU {cpu / calls * 1000:.2f} ms per call (target <= 1 ms; the first run, opening connections: {cold:.2f} ms); refused for quota: {refused['refused']}"
    )
    print(f"reports equal to the truth: {args.customers - len(wrong)}/{args.customers} {wrong or ''}")
    print_floors(floors, standin, after_floor, "the last run's GETs but the License Manager's")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
