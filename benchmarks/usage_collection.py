"""Usage collection at scale: many seeded HubSpot portals, real HTTP, real rate limits, latency.

    python benchmarks/usage_collection.py [--portals 200] [--users 200] [--records 2000]
        [--concurrency 20] [--latency 0.05] [--standins 4] [--limits bot|bursty] [--tracemalloc]

What it does (everything on 127.0.0.1, free ports):

1. Starts `--standins` HubSpot stand-in processes (sandbox/standins/hubspot.py under uvicorn, each in
   its own process, so their CPU is not this process's and their memory is not counted here). Each
   generates its share of the portals: `--users` users, `--records` records per object type spread
   over the last 60 days, logins, owners... and answers every call `--latency` seconds late
   (`faults.latency`). The period collected is the last 30 days, so a bit over half of the records
   fall in it.
2. Collects every portal with `providers.collect.collect_many` and `collect_hubspot`: one
   httpx.AsyncClient and ProviderHTTP per stand-in (per host), one Limiter (per-portal windows),
   `--concurrency` portals in flight. `--limits bot` (default) uses the bot's own buckets
   (providers/ratelimit.py: one search per 250 ms, 100 calls per 10 s); `--limits bursty` HubSpot's
   documented limits taken literally (4 searches per 1 s window, 110 per 10 s), for comparison.
3. Prints total calls, wall time, the lower bound the rate limits allow and the ratio, peak memory
   (ru_maxrss of this process; tracemalloc's peak with --tracemalloc, which slows Python down),
   429s the stand-ins had to answer, the machine's load and everyone's CPU time (to tell whether
   the stand-ins or the machine were the bottleneck). Targets: wall time within 1.5x of the bound,
   peak memory under 300 MB. The bound's formula is printed with the figures.

Exit status 0 either way (this is a measurement) unless the benchmark could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import math
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx  # noqa: E402
from harness import ROOT  # importing harness puts the repository on sys.path

from providers.collect import CollectJob, collect_many  # noqa: E402
from providers.http import HUBSPOT, ProviderHTTP  # noqa: E402
from providers.hubspot_usage import collect_hubspot  # noqa: E402
from providers.ratelimit import HUBSPOT_LIMITS, Bucket, Limiter, ProviderLimits  # noqa: E402
from providers.usage import parse_period, today_in  # noqa: E402

SCOPES = [
    "oauth",
    "settings.users.read",
    "crm.objects.owners.read",
    "crm.objects.contacts.read",
    "account-info.security.read",
    "crm.objects.companies.read",
    "crm.objects.deals.read",
]
TIMEZONE = "US/Eastern"
SEED_DAYS = 60
LIMITS = {
    "bot": HUBSPOT_LIMITS,
    "bursty": ProviderLimits(buckets={"default": Bucket(110, 10.0), "search": Bucket(4, 1.0)}),
}
BOUND_SEARCH = Bucket(4, 1.0)  # the limits the bound is computed from (HubSpot's, as we throttle them)
BOUND_DEFAULT = Bucket(110, 10.0)


# --------------------------------------------------------------------------- stand-in process


def serve(args: argparse.Namespace) -> None:
    """Child process: generate portals, serve them, report stats when stdin closes."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    from sandbox.standins.hubspot import HubSpotStandIn
    from sandbox.standins.hubspot_seed import generate_portal
    from sandbox.standins.server import serve_in_thread

    now = datetime.fromtimestamp(args.now, UTC)
    standin = HubSpotStandIn()
    tokens = {}
    for portal_id in (int(p) for p in args.portal_ids.split(",")):
        standin.add_portal(
            generate_portal(
                portal_id,
                portal_id=portal_id,
                start=now - timedelta(days=SEED_DAYS),
                end=now - timedelta(hours=1),
                n_users=args.users,
                records_per_type=args.records,
            )
        )
        tokens[portal_id] = standin.issue_tokens(portal_id, SCOPES)["access_token"]
    gc.collect()
    gc.freeze()  # the seed is long-lived: keep it out of full collections (no long pauses)
    standin.faults.latency = args.latency

    async def stats(request):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return JSONResponse(
            {
                "violations": standin.rate_limit_violations,
                "search_violations": standin.limiter.secondly.violations,
                "cpu": usage.ru_utime + usage.ru_stime,
            }
        )

    app = Starlette(routes=[Route("/_bench/stats", stats), Mount("/", app=standin.app)])
    with serve_in_thread(app) as server:
        print(json.dumps({"url": server.url, "tokens": tokens}), flush=True)
        sys.stdin.read()  # until the parent closes it


@dataclass
class StandIn:
    process: subprocess.Popen
    url: str
    tokens: dict[str, str]


def start_standins(args: argparse.Namespace, now: datetime) -> list[StandIn]:
    ids = [100_000 + i for i in range(args.portals)]
    shares = [ids[i :: args.standins] for i in range(args.standins)]
    processes = []
    for share in shares:
        command = [
            sys.executable,
            __file__,
            "--serve",
            "--portal-ids",
            ",".join(map(str, share)),
            "--users",
            str(args.users),
            "--records",
            str(args.records),
            "--latency",
            str(args.latency),
            "--now",
            str(now.timestamp()),
        ]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        processes.append(
            subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
        )
    standins = []
    for process in processes:
        line = process.stdout.readline()
        if not line:
            raise SystemExit("a stand-in process failed to start")
        ready = json.loads(line)
        standins.append(StandIn(process, ready["url"], ready["tokens"]))
    return standins


# --------------------------------------------------------------------------- the measurement


class Bearer:
    def __init__(self, token: str) -> None:
        self.token = token

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def refresh(self) -> bool:
        return False


@dataclass
class Calls:
    """Requests sent per portal (retries included: they use the rate limits too)."""

    by_token: dict[str, str] = field(default_factory=dict)  # "Bearer x" -> portal id
    plain: Counter[str] = field(default_factory=Counter)
    searches: Counter[str] = field(default_factory=Counter)
    chains: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    in_flight: int = 0
    peak_in_flight: int = 0

    refused_plain: Counter[str] = field(default_factory=Counter)  # 429s and 5xx: sent again
    refused_searches: Counter[str] = field(default_factory=Counter)

    async def answered(self, response: httpx.Response) -> None:
        self.in_flight -= 1
        if response.status_code >= 400:
            portal = self.by_token.get(response.request.headers.get("authorization", ""), "?")
            search = response.request.url.path.endswith("/search")
            (self.refused_searches if search else self.refused_plain)[portal] += 1

    async def hook(self, request: httpx.Request) -> None:
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        portal = self.by_token.get(request.headers.get("authorization", ""), "?")
        path = request.url.path
        if path.endswith("/search"):
            self.searches[portal] += 1
            self.chains[portal][path] += 1
        else:
            self.plain[portal] += 1
            group = "owners" if "owners" in path else "roles" if path.endswith("/roles") else "users+logins"
            self.chains[portal][group] += 1


def span(count: int, bucket: Bucket) -> float:
    """The least time between the first and the last of `count` starts under `bucket`."""
    return max(0, math.ceil(count / bucket.limit) - 1) * bucket.window


def portal_bound(searches: int, plain: int, longest_chain: int, latency: float) -> float:
    return latency + max(
        span(searches, BOUND_SEARCH), span(searches + plain, BOUND_DEFAULT), (longest_chain - 1) * latency
    )


async def measure(args: argparse.Namespace, standins: list[StandIn], now: datetime) -> dict:
    period = parse_period("last-30-days", timezone=TIMEZONE, today=today_in(TIMEZONE, now))
    calls = Calls()
    jobs_spec = []
    for standin in standins:
        for portal_id, token in standin.tokens.items():
            calls.by_token[f"Bearer {token}"] = portal_id
            jobs_spec.append((standin.url, portal_id, token))
    jobs_spec.sort(key=lambda j: int(j[1]))

    # One client per stand-in (in production: one per provider host). httpcore's pool does work
    # proportional to (pooled connections)^2 on every request, so pools are kept per host and sized to
    # what is really in flight (about 8 per portal at the start of a portal, far fewer afterwards).
    pool = args.pool or max(8, 8 * args.concurrency // len(standins))
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    hooks = {"request": [calls.hook], "response": [calls.answered]}
    limiter = Limiter({"hubspot": LIMITS[args.limits]})
    failures: list[tuple[str, str]] = []
    figures = {"users": 0, "records": 0}

    async with contextlib.AsyncExitStack() as stack:
        http = {}
        for standin in standins:
            client = await stack.enter_async_context(httpx.AsyncClient(limits=limits, event_hooks=hooks))
            http[standin.url] = ProviderHTTP(client, HUBSPOT, limiter=limiter, timeout=30)

        def jobs():
            for url, portal_id, token in jobs_spec:

                async def run(url=url, portal_id=portal_id, token=token):
                    return await collect_hubspot(
                        http[url],
                        Bearer(token),
                        base_url=url,
                        team_id="TBENCH",
                        account_id=portal_id,
                        account_name=f"portal {portal_id}",
                        period=period,
                        scopes=set(SCOPES),
                        clock=lambda: datetime.now(UTC),
                    )

                yield CollectJob(portal_id, run)

        def on_report(job, report):
            figures["users"] += report.seats.total_users
            figures["records"] += sum(v or 0 for k, v in report.activity.items() if k != "logins")

        def on_progress(done, total):
            if done % max(1, total // 10) == 0 or done == total:
                print(f"  {done}/{total} portals, {time.perf_counter() - started:.0f} s", flush=True)

        if args.tracemalloc:
            tracemalloc.start()
        started = time.perf_counter()
        await collect_many(
            jobs(),
            concurrency=args.concurrency,
            on_report=on_report,
            on_error=lambda job, error: failures.append((job.key, repr(error))),
            on_progress=on_progress,
            total=len(jobs_spec),
        )
        wall = time.perf_counter() - started
        traced_peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None

    needed = [  # the requests each portal needed: answered ones, not the attempts that were refused
        portal_bound(
            calls.searches[p] - calls.refused_searches[p],
            calls.plain[p] - calls.refused_plain[p],
            max(calls.chains[p].values()),
            args.latency,
        )
        for _, p, _ in jobs_spec
    ]
    sent = [  # every attempt, refused ones included (they used the limits too)
        portal_bound(calls.searches[p], calls.plain[p], max(calls.chains[p].values()), args.latency)
        for _, p, _ in jobs_spec
    ]
    return {
        "wall": wall,
        "bound": max(max(needed), sum(needed) / args.concurrency),
        "bound_with_retries": max(max(sent), sum(sent) / args.concurrency),
        "max_portal_bound": max(needed),
        "sum_bounds": sum(needed),
        "refused": sum(calls.refused_searches.values()) + sum(calls.refused_plain.values()),
        "calls": sum(calls.plain.values()) + sum(calls.searches.values()),
        "searches": sum(calls.searches.values()),
        "per_portal_searches": sum(calls.searches.values()) / len(jobs_spec),
        "per_portal_plain": sum(calls.plain.values()) / len(jobs_spec),
        "failures": failures,
        "peak_in_flight": calls.peak_in_flight,
        "traced_peak": traced_peak,
        "period": period,
        **figures,
    }


def standin_stats(standins: list[StandIn]) -> list[dict]:
    return [httpx.get(f"{s.url}/_bench/stats", timeout=10).json() for s in standins]


def report(args, result: dict, stats: list[dict], setup: float, cpu_before: float) -> None:
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    usage = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = usage.ru_utime + usage.ru_stime - cpu_before
    wall, bound = result["wall"], result["bound"]
    n = args.portals
    print()
    print(f"Usage collection: {n} HubSpot portals x {args.users} users, {args.records} records per type over")
    print(
        f"{SEED_DAYS} days, period {result['period'].start}..{result['period'].end} ({TIMEZONE}), "
        f"latency {args.latency * 1000:.0f} ms per call, concurrency {args.concurrency}, limits {args.limits!r}, "
        f"{args.standins} stand-in process(es); setup (seeding) {setup:.0f} s"
    )
    print()
    print(
        f"  calls             {result['calls']:,} ({result['searches']:,} searches; per portal "
        f"{result['per_portal_searches']:.1f} searches + {result['per_portal_plain']:.1f} other calls)"
    )
    print(f"  in flight         at most {result['peak_in_flight']} requests at once")
    print(f"  users / events    {result['users']:,} users, {result['records']:,} counted CRM events")
    print(
        f"  failures          {len(result['failures'])}"
        + (f": {result['failures'][:3]}" if result["failures"] else "")
    )
    print(
        f"  429s answered     {sum(s['violations'] for s in stats)} (stand-ins' rate-limit violations; "
        f"{sum(s['search_violations'] for s in stats)} of them on the search limit)"
    )
    print(f"  wall time         {wall:.1f} s")
    print(
        f"  lower bound       {bound:.1f} s  (from the requests each portal needed; "
        f"{result['bound_with_retries']:.1f} s counting the {result['refused']} refused attempts too)"
    )
    print(
        f"  ratio             {wall / bound:.2f}  (target <= 1.5: {'PASS' if wall / bound <= 1.5 else 'MISS'})"
    )
    peak = f"  peak memory       ru_maxrss {maxrss_mb:.0f} MB"
    if result["traced_peak"] is not None:
        peak += f", tracemalloc peak {result['traced_peak'] / 2**20:.0f} MB"
    print(peak + f"  (target < 300 MB: {'PASS' if maxrss_mb < 300 else 'MISS'})")
    cpu = ", ".join(f"{s['cpu']:.0f} s" for s in stats)
    load = os.getloadavg()
    print(
        f"  machine           {os.cpu_count()} CPUs; load average {load[0]:.1f} (1 min), {load[1]:.1f} (5 min)"
    )
    print(
        f"  CPU time          client {client_cpu:.0f} s ({client_cpu / wall:.0%} of one core); stand-ins {cpu}"
    )
    print(
        f"""
How the bound is computed. For each portal, from the requests it needed (S searches, C other
calls, each answered once: refused attempts left out) and the latency L = {args.latency * 1000:.0f} ms:
    T = L + max( (ceil(S / 4) - 1) x 1 s,              searches: at most 4 start per second
                 (ceil((S + C) / 110) - 1) x 10 s,     every call (searches too): 110 per 10 s
                 (longest chain of dependent pages - 1) x L )   pages of one listing are sequential
i.e. the last start the limits allow plus one round trip. Portals have their own limits, so across
portals with concurrency K: bound = max(max T, sum T / K) = max({result["max_portal_bound"]:.1f}, \
{result["sum_bounds"]:.0f} / {args.concurrency}) s.
Memory is this process only (the stand-ins, which hold the seeded data, run in their own processes)."""
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--portals", type=int, default=200)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--records", type=int, default=2000, help="records per object type per portal")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--standins", type=int, default=4, help="stand-in server processes")
    parser.add_argument(
        "--pool", type=int, default=0, help="connections per stand-in (default 8 x concurrency / stand-ins)"
    )
    parser.add_argument("--limits", choices=sorted(LIMITS), default="bot")
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--portal-ids", help=argparse.SUPPRESS)
    parser.add_argument("--now", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return 0

    logging.getLogger("quolum.providers.http").setLevel(logging.ERROR)  # retries are counted, not logged
    now = datetime.now(UTC)
    started = time.perf_counter()
    print(f"Seeding {args.portals} portals in {args.standins} stand-in process(es)...", flush=True)
    standins = start_standins(args, now)
    setup = time.perf_counter() - started
    try:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu_before = usage.ru_utime + usage.ru_stime
        print(f"Collecting (concurrency {args.concurrency})...", flush=True)
        result = asyncio.run(measure(args, standins, now))
        stats = standin_stats(standins)
    finally:
        for standin in standins:
            standin.process.stdin.close()
            standin.process.wait(timeout=30)
    report(args, result, stats, setup, cpu_before)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
