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
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from harness import ROOT  # importing harness puts the repository on sys.path

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
    sys.stdin.read()  # until the benchmark closes it
    print(json.dumps({"refused": len(standin.quotas.refused)}), flush=True)


async def measure(args: argparse.Namespace, url: str, customers: list[dict], now: datetime) -> dict:
    period = Period.last_days(30, timezone="UTC", today=now.date())
    calls = 0

    async def count(request) -> None:
        nonlocal calls
        calls += 1

    async with provider_client(event_hooks={"request": [count]}) as client:
        http = ProviderHTTP(client, POLICY, limiter=Limiter({SPEC.key: SPEC.limits}))

        async def one(customer: dict):
            return await collect_google(
                http, Bearer(customer["token"]), base_url=url, team_id="T1", account_id=customer["id"],
                account_name=customer["name"], period=period, scopes=None, clock=lambda: now,
                licensing_url=url, reports_url=url,
            )  # fmt: skip

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
    return {"calls": calls, "wall": wall, "cpu": cpu, "wrong": wrong}


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
    try:
        ready = json.loads(process.stdout.readline())
        result = asyncio.run(measure(args, ready["url"], ready["customers"], now))
    finally:
        process.stdin.close()
    refused = json.loads(process.stdout.readline())
    process.wait()
    limit, chain = max(bound(args.users, c["licences"], args.latency) for c in ready["customers"])
    per_call = result["cpu"] / result["calls"] * 1000
    print(
        f"{args.customers} customers x {args.users} users, usage report {args.lag} days behind, latency {args.latency * 1000:.0f} ms"
    )
    print(
        f"calls {result['calls']}, wall {result['wall']:.3f} s, bound {limit:.3f} s (the {chain} chain), ratio {result['wall'] / limit:.2f}x (target <= 1.2x)"
    )
    print(f"client CPU {per_call:.2f} ms per call (target <= 1 ms); refused for quota: {refused['refused']}")
    print(
        f"reports equal to the truth: {args.customers - len(result['wrong'])}/{args.customers} {result['wrong'] or ''}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
