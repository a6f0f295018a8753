"""Usage collection at scale: many seeded HubSpot portals, real HTTP, real rate limits, latency.

    python benchmarks/usage_collection.py [--portals 200] [--users 200] [--records 2000]
        [--concurrency 20] [--latency 0.05] [--standins 4] [--limits bot|documented] [--tracemalloc]

What it does (everything on 127.0.0.1, free ports):

1. Starts `--standins` HubSpot stand-in processes (sandbox/standins/hubspot.py under uvicorn, each in
   its own process, so their CPU is not this process's and their memory is not counted here). Each
   generates its share of the portals: `--users` users, `--records` records per object type spread
   over the last 60 days, logins, owners... and answers every call `--latency` seconds late
   (`faults.latency`). The period collected is the last 30 days, so a bit over half of the records
   fall in it.
2. Collects every portal with `providers.collect.collect_many` and `collect_hubspot`: the bot's
   own client (`providers.http_client.provider_client`), one ProviderHTTP per stand-in (per host), one
   Limiter (per-portal windows), `--concurrency` portals in flight. `--limits bot` (default) uses
   the bot's own buckets (providers/ratelimit.py: HubSpot's limits, each window 50 ms longer);
   `--limits documented` HubSpot's documented limits taken literally, for comparison.
3. Checks every report against the seeded truth (each stand-in computes it from its own data with
   the documented rules, as the tests do; any difference is printed), and prints total calls, wall
   time, two lower bounds (at HubSpot's documented limits, and at the bot's own pacing) and the
   ratios, the client's CPU per call and the stand-ins' separately, peak memory (ru_maxrss of this
   process; tracemalloc's peak with --tracemalloc, which slows Python down), 429s the stand-ins had
   to answer and the machine's load. Targets: client CPU <= 1 ms per call, wall time within 1.2x of
   the bound at the documented limits, peak memory under 300 MB. The bounds' formula is printed
   with the figures.

Exit status 0 either way (this is a measurement) unless the benchmark could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
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

from core.periods import parse_period, today_in  # noqa: E402
from providers.collect import CollectJob, collect_many  # noqa: E402
from providers.http import ProviderHTTP  # noqa: E402
from providers.http_client import provider_client  # noqa: E402
from providers.hubspot.entry import LIMITS as HUBSPOT_LIMITS  # noqa: E402
from providers.hubspot.entry import POLICY as HUBSPOT  # noqa: E402
from providers.hubspot.usage import collect_hubspot  # noqa: E402
from providers.ratelimit import Bucket, Limiter, ProviderLimits  # noqa: E402
from tests.providers.test_hubspot_usage import expected_hubspot, observed  # noqa: E402

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
# HubSpot's documented limits for a public app, per account (API usage guidelines,
# https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines): 110 requests per
# 10 s; CRM search 5 per second, not counted in the 10 s budget.
DOCUMENTED = ProviderLimits(
    buckets={"default": Bucket(110, 10.0), "search": Bucket(5, 1.0)}, standalone=frozenset({"search"})
)
LIMITS = {"bot": HUBSPOT_LIMITS, "documented": DOCUMENTED}


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
    period = bench_period(now)
    standin = HubSpotStandIn()
    tokens, truth = {}, {}
    for portal_id in (int(p) for p in args.portal_ids.split(",")):
        portal = generate_portal(
            portal_id,
            portal_id=portal_id,
            start=now - timedelta(days=SEED_DAYS),
            end=now - timedelta(hours=1),
            n_users=args.users,
            records_per_type=args.records,
        )
        standin.add_portal(portal)
        tokens[portal_id] = standin.issue_tokens(portal_id, SCOPES)["access_token"]
        truth[portal_id] = fingerprint(expected_hubspot(portal, period))

    async def stats(request):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return JSONResponse(
            {
                "violations": standin.rate_limit_violations,
                "search_violations": standin.limiter.secondly.violations,
                "cpu": usage.ru_utime + usage.ru_stime,
                "cpu_at_start": cpu_at_start,
                "cached": len(standin.response_cache or ()),
            }
        )

    app = Starlette(routes=[Route("/_bench/stats", stats), Mount("/", app=standin.app)])
    with serve_in_thread(app) as server:
        if args.precompute:
            precompute(standin, server.url, tokens, period)
        gc.collect()
        gc.freeze()  # the seed is long-lived: keep it out of full collections (no long pauses)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu_at_start = usage.ru_utime + usage.ru_stime  # seeding and precomputing are not measured
        standin.faults.latency = args.latency
        print(json.dumps({"url": server.url, "tokens": tokens, "truth": truth}), flush=True)
        sys.stdin.read()  # until the parent closes it


def precompute(standin, url: str, tokens: dict, period) -> None:
    """Fill the stand-in's response cache with the answers the collection will ask for, by running
    the same collection against it once, with its rate limits lifted. The measurement then costs
    the stand-in a lookup per request instead of a search over its records and the JSON encoding.
    """
    from sandbox.standins.hubspot_limits import RateLimiter

    standin.response_cache = {}
    limiter, standin.limiter = standin.limiter, RateLimiter(standin.clock)
    standin.limiter.ten_secondly.limit = standin.limiter.secondly.limit = 10**9

    async def run() -> None:
        async with provider_client() as client:
            http = ProviderHTTP(client, HUBSPOT, timeout=60)
            gate = asyncio.Semaphore(8)

            async def one(portal_id, token) -> None:
                async with gate:
                    await collect_hubspot(
                        http,
                        Bearer(token),
                        base_url=url,
                        team_id="TBENCH",
                        account_id=str(portal_id),
                        account_name=f"portal {portal_id}",
                        period=period,
                        scopes=set(SCOPES),
                        clock=lambda: datetime.now(UTC),
                    )

            await asyncio.gather(*(one(p, t) for p, t in tokens.items()))

    try:
        asyncio.run(run())
    finally:
        standin.limiter = limiter


def bench_period(now: datetime):
    return parse_period("last-30-days", timezone=TIMEZONE, today=today_in(TIMEZONE, now))


def fingerprint(figures: dict) -> dict:
    """Headline figures and a digest of everything (activity, per-user counts, seats, inactive seats)."""
    canonical = json.dumps(figures, sort_keys=True, default=str)
    return {
        "digest": hashlib.sha256(canonical.encode()).hexdigest(),
        "events": sum(v or 0 for k, v in figures["activity"].items() if k != "logins"),
        "logins": figures["activity"]["logins"],
        "inactive": len(figures["seats"]["inactive_paid_users"]),
    }


@dataclass
class StandIn:
    process: subprocess.Popen
    url: str
    tokens: dict[str, str]
    truth: dict[str, dict]


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
        ] + ([] if args.precompute else ["--no-precompute"])
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
        standins.append(StandIn(process, ready["url"], ready["tokens"], ready["truth"]))
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
    cpu: float = 0.0  # spent in these hooks: the benchmark's bookkeeping, not the collection's

    async def answered(self, response: httpx.Response) -> None:
        started = time.process_time()
        self.in_flight -= 1
        if response.status_code >= 400:
            portal = self.by_token.get(response.request.headers.get("authorization", ""), "?")
            search = response.request.url.path.endswith("/search")
            (self.refused_searches if search else self.refused_plain)[portal] += 1
        self.cpu += time.process_time() - started

    async def hook(self, request: httpx.Request) -> None:
        started = time.process_time()
        self.count(request)
        self.cpu += time.process_time() - started

    def count(self, request: httpx.Request) -> None:
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


def portal_bound(
    limits: ProviderLimits, searches: int, plain: int, longest_chain: int, latency: float
) -> float:
    """Searches and other calls have windows of their own (searches are outside the 10 s budget)."""
    search, default = limits.buckets["search"], limits.buckets["default"]
    return latency + max(span(searches, search), span(plain, default), (longest_chain - 1) * latency)


def bound(limits: ProviderLimits, per_portal: list[tuple[int, int, int]], latency: float, k: int) -> dict:
    times = [portal_bound(limits, s, c, chain, latency) for s, c, chain in per_portal]
    return {"bound": max(max(times), sum(times) / k), "max": max(times), "sum": sum(times)}


async def measure(args: argparse.Namespace, standins: list[StandIn], now: datetime) -> dict:
    period = bench_period(now)
    calls = Calls()
    jobs_spec = []
    truth = {}
    for standin in standins:
        truth.update(standin.truth)
        for portal_id, token in standin.tokens.items():
            calls.by_token[f"Bearer {token}"] = portal_id
            jobs_spec.append((standin.url, portal_id, token))
    jobs_spec.sort(key=lambda j: int(j[1]))

    hooks = {"request": [calls.hook], "response": [calls.answered]}
    limiter = Limiter({"hubspot": LIMITS[args.limits]})
    failures: list[tuple[str, str]] = []
    wrong: list[str] = []
    figures = {"users": 0, "records": 0, "check_cpu": 0.0}

    async with provider_client(event_hooks=hooks, timeout=30) as client:
        http = {s.url: ProviderHTTP(client, HUBSPOT, limiter=limiter, timeout=30) for s in standins}

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
            check_started = time.process_time()
            figures["users"] += report.seats.total_users
            figures["records"] += sum(v or 0 for k, v in report.values().items() if k != "logins")
            got, want = fingerprint(observed(report)), truth[job.key]
            if got != want:
                wrong.append(f"portal {job.key}: collected {got}, seeded {want}")
            figures["check_cpu"] += time.process_time() - check_started

        def on_progress(done, total):
            if done % max(1, total // 10) == 0 or done == total:
                print(f"  {done}/{total} portals, {time.perf_counter() - started:.0f} s", flush=True)

        if args.tracemalloc:
            tracemalloc.start()
        started, cpu_started = time.perf_counter(), time.process_time()
        await collect_many(
            jobs(),
            concurrency=args.concurrency,
            on_report=on_report,
            on_error=lambda job, error: failures.append((job.key, repr(error))),
            on_progress=on_progress,
            total=len(jobs_spec),
        )
        wall = time.perf_counter() - started
        figures["check_cpu"] += calls.cpu
        figures["cpu"] = time.process_time() - cpu_started - figures["check_cpu"]
        traced_peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None

    portals = [p for _, p, _ in jobs_spec]
    chain = {p: max(calls.chains[p].values()) for p in portals}
    # the requests each portal needed: answered ones, not the attempts that were refused
    needed = [
        (calls.searches[p] - calls.refused_searches[p], calls.plain[p] - calls.refused_plain[p], chain[p])
        for p in portals
    ]
    sent = [(calls.searches[p], calls.plain[p], chain[p]) for p in portals]  # refused attempts too
    k = args.concurrency
    return {
        "wall": wall,
        "documented": bound(DOCUMENTED, needed, args.latency, k),
        "paced": bound(HUBSPOT_LIMITS, needed, args.latency, k),
        "documented_with_retries": bound(DOCUMENTED, sent, args.latency, k)["bound"],
        "refused": sum(calls.refused_searches.values()) + sum(calls.refused_plain.values()),
        "calls": sum(calls.plain.values()) + sum(calls.searches.values()),
        "searches": sum(calls.searches.values()),
        "per_portal_searches": sum(calls.searches.values()) / len(jobs_spec),
        "per_portal_plain": sum(calls.plain.values()) / len(jobs_spec),
        "failures": failures,
        "wrong": wrong,
        "peak_in_flight": calls.peak_in_flight,
        "traced_peak": traced_peak,
        "period": period,
        **figures,
    }


def standin_stats(standins: list[StandIn]) -> list[dict]:
    return [httpx.get(f"{s.url}/_bench/stats", timeout=10).json() for s in standins]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(args, result: dict, stats: list[dict], setup: float) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    maxrss_mb = usage.ru_maxrss / 1024
    client_cpu = result["cpu"]  # the collection's CPU, the benchmark's bookkeeping left out
    standin_cpu = sum(s["cpu"] - s["cpu_at_start"] for s in stats)
    wall, calls = result["wall"], result["calls"]
    documented, paced = result["documented"], result["paced"]
    per_call = client_cpu / calls * 1000
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
        f"  calls             {calls:,} ({result['searches']:,} searches; per portal "
        f"{result['per_portal_searches']:.1f} searches + {result['per_portal_plain']:.1f} other calls)"
    )
    print(f"  in flight         at most {result['peak_in_flight']} requests at once")
    print(f"  users / events    {result['users']:,} users, {result['records']:,} counted CRM events")
    print(
        f"  failures          {len(result['failures'])}"
        + (f": {result['failures'][:3]}" if result["failures"] else "")
    )
    print(
        f"  seeded truth      {n - len(result['wrong']) - len(result['failures'])} of {n} reports equal to it"
        + (f"; DIFFERENT: {result['wrong'][:3]}" if result["wrong"] else "")
    )
    answered_429 = sum(s["violations"] for s in stats)
    share = answered_429 / calls * 100 if calls else 0.0
    print(
        f"  429s answered     {answered_429} (stand-ins' rate-limit violations; "
        f"{sum(s['search_violations'] for s in stats)} of them on the search limit), "
        f"{result['refused']} refused attempts retried"
    )
    print(f"  429 share         {share:.2f} % of {calls:,} calls (target <= 0.5 %: {verdict(share <= 0.5)})")
    print(f"  wall time         {wall:.1f} s")
    print(
        f"  bound, documented {documented['bound']:.1f} s at HubSpot's documented limits, ratio "
        f"{wall / documented['bound']:.2f} (target <= 1.2: {verdict(wall / documented['bound'] <= 1.2)})"
    )
    print(
        f"  bound, our pacing {paced['bound']:.1f} s at the bot's own buckets, ratio {wall / paced['bound']:.2f}"
    )
    print(
        f"  client CPU        {client_cpu:.1f} s, {per_call:.2f} ms per call "
        f"(target <= 1 ms: {verdict(per_call <= 1.0)}), {client_cpu / wall:.0%} of one core; "
        f"the benchmark's bookkeeping (counting calls, the cross-check) {result['check_cpu']:.1f} s more"
    )
    print(
        f"  stand-ins' CPU    {standin_cpu:.1f} s in all ({standin_cpu / calls * 1000:.2f} ms per call): "
        + ", ".join(f"{s['cpu'] - s['cpu_at_start']:.1f} s" for s in stats)
    )
    peak = f"  peak memory       ru_maxrss {maxrss_mb:.0f} MB"
    if result["traced_peak"] is not None:
        peak += f", tracemalloc peak {result['traced_peak'] / 2**20:.0f} MB"
    print(peak + f"  (target < 300 MB: {verdict(maxrss_mb < 300)})")
    load = os.getloadavg()
    print(
        f"  machine           {os.cpu_count()} CPUs; load average {load[0]:.1f} (1 min), {load[1]:.1f} (5 min)"
    )
    search, default = HUBSPOT_LIMITS.buckets["search"], HUBSPOT_LIMITS.buckets["default"]
    print(
        f"""
How the bounds are computed. For each portal, from the requests it needed (S searches, C other
calls, each answered once: refused attempts left out) and the latency L = {args.latency * 1000:.0f} ms:
    T = L + max( (ceil(S / 5) - 1) x 1 s,              searches: at most 5 start per second
                 (ceil(C / 110) - 1) x 10 s,           other calls: 110 per 10 s (searches not counted)
                 (longest chain of dependent pages - 1) x L )   pages of one listing are sequential
i.e. the last start the limits allow plus one round trip. Portals have their own limits, so across
portals with concurrency K: bound = max(max T, sum T / K) = max({documented["max"]:.1f}, \
{documented["sum"]:.0f} / {args.concurrency}) s. The bound at our pacing is the same with the bot's buckets
({search.limit} searches per {search.window:g} s, {default.limit} calls per {default.window:g} s): \
max({paced["max"]:.1f}, {paced["sum"]:.0f} / {args.concurrency}) s.
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
    parser.add_argument("--limits", choices=sorted(LIMITS), default="bot")
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument(
        "--no-precompute",
        dest="precompute",
        action="store_false",
        help="stand-ins compute every answer when asked (by default they precompute them while seeding)",
    )
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
        print(f"Collecting (concurrency {args.concurrency})...", flush=True)
        result = asyncio.run(measure(args, standins, now))
        stats = standin_stats(standins)
    finally:
        for standin in standins:
            standin.process.stdin.close()
            standin.process.wait(timeout=30)
    report(args, result, stats, setup)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
