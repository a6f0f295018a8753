"""GitHub collection: seeded organisations, real HTTP, GitHub's limits, latency.

    python benchmarks/github_collection.py [--orgs 1] [--members 300] [--seats 180] [--latency 0.05] [--repeat 5]

1. Starts the GitHub stand-in (sandbox/standins/github.py) in another process (its CPU is not this
   process's) with `--orgs` seeded organisations of `--members` members and `--seats` Copilot seats,
   each answering `--latency` seconds late, and one fine-grained token per organisation (each of
   another owner, so each has its own 5,000 an hour and 900 points a minute).
2. Collects every organisation at once with `collect_github`, the bot's client
   (`providers.http_client.provider_client`) and one Limiter with the entry's buckets.
3. Checks every report against the seed's truth (`copilot_truth`, counted without HTTP), and prints
   calls, wall time, the bound (below), the client's CPU per call and the requests refused for rate.

The bound: GitHub's documented limits (5,000 an hour, 900 points a minute and 100 requests at once per
token) do not bind a collection this small, so an organisation's collection takes at least its longest
chain of requests that wait for each other, each `--latency` late: a listing's first page, then its
other pages at once (the first page's `Link` counts them), and after the last seat page the round of
its idle seats' emails. `--repeat` collections run in a row with one client (as the bot's process keeps
it): the best and the median wall time are printed (a shared machine's noise), the CPU per call of the
runs after the first (which opens the connections). Targets: wall <= 1.2x the bound, CPU per call <= 1 ms, 0 requests refused.
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
from providers.github.entry import POLICY, SPEC  # noqa: E402
from providers.github.usage import collect_github  # noqa: E402
from providers.http import Bearer, ProviderHTTP  # noqa: E402
from providers.http_client import provider_client  # noqa: E402
from providers.ratelimit import Limiter  # noqa: E402


def serve(args: argparse.Namespace) -> None:
    from sandbox.standins.github import GitHubStandIn
    from sandbox.standins.github_seed import copilot_truth, generate_org
    from sandbox.standins.server import ThreadedServer

    now = datetime.fromtimestamp(args.now, UTC)
    period = Period.last_days(30, timezone="UTC", today=now.date())
    standin = GitHubStandIn(clock=lambda: now)
    standin.faults.latency = args.latency
    orgs = []
    for i in range(args.orgs):
        org = standin.add_org(
            generate_org(i, login=f"org-{i}", now=now, n_members=args.members, n_seats=args.seats)
        )
        owner = next(m.login for m in org.members if m.role == "admin")
        token = standin.add_fine_grained_token(
            owner, org.login, {"members": "read", "organization_copilot_seat_management": "read"}
        )
        truth = copilot_truth(org, period.start_utc, period.end_utc)
        orgs.append(
            {
                "org": org.login,
                "id": str(org.id),
                "token": token,
                "idle": list(truth.idle),
                "active": len(truth.active),
                "pending": len(truth.pending),
                "members": truth.members,
            }
        )
    server = ThreadedServer(standin.app).start()
    print(json.dumps({"url": server.url, "orgs": orgs}), flush=True)
    for _ in sys.stdin:  # each line asks for the refusals so far; the end of the input stops the stand-in
        print(json.dumps(standin.limits.violations), flush=True)
    print(json.dumps(standin.limits.violations), flush=True)


async def measure(
    args: argparse.Namespace, url: str, orgs: list[dict], now: datetime, pid: int, refusals: Callable[[], Any]
) -> tuple[list[dict], Any, dict, float | None]:
    period = Period.last_days(30, timezone="UTC", today=now.date())
    recorder = Recorder()
    runs = []
    standin = StandInCPU(pid)
    # one client and one limiter for every run, as the bot's process keeps them
    async with provider_client(event_hooks=recorder.hooks) as client:
        http = ProviderHTTP(client, POLICY, limiter=Limiter({SPEC.key: SPEC.limits}))

        async def one(org: dict):
            return await collect_github(
                http, Bearer(org["token"]), base_url=url, team_id="T1", account_id=org["id"],
                account_name=org["org"], period=period, scopes=None, clock=lambda: now,
            )  # fmt: skip

        for n in range(args.repeat):
            recorder.start()
            standin.run_starts(n)
            cpu, wall = time.process_time(), time.perf_counter()
            reports = await asyncio.gather(*(one(org) for org in orgs))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            wrong = [
                org["org"]
                for org, report in zip(orgs, reports, strict=True)
                if sorted(s.user_id for s in report.seats.inactive_paid_users) != org["idle"]
                or report.values()["copilot_active"] != org["active"]
                or report.values()["copilot_pending_cancellation"] != org["pending"]
                or report.values()["members"] != org["members"]
            ]
            runs.append({"calls": recorder.calls, "wall": wall, "cpu": cpu, "wrong": wrong})
        standin.runs_end()
    refused = refusals()  # before the floor's replays, which the stand-in counts too
    floors = await replay(recorder, policy=POLICY, limits={SPEC.key: SPEC.limits}, rounds=args.floor_rounds)
    return runs, refused, floors, standin.per_request(sum(run["calls"] for run in runs[1:]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=1)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--seats", type=int, default=180)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=5, help="collections in a row: the best and the median")
    parser.add_argument(
        "--floor-rounds",
        type=int,
        default=1,
        help="the last run's GETs again through bare clients (0: not; more than 1 passes GitHub's 900 a minute)",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--now", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return 0
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    command = [sys.executable, __file__, "--serve", "--now", str(now.timestamp()), "--orgs", str(args.orgs),
               "--members", str(args.members), "--seats", str(args.seats), "--latency", str(args.latency)]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)

    def refusals() -> Any:
        """The stand-in's count of requests refused for exceeding a limit, so far."""
        process.stdin.write("\n")
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    ready = json.loads(process.stdout.readline())
    runs, violations, floors, standin = asyncio.run(
        measure(args, ready["url"], ready["orgs"], now, process.pid, refusals)
    )
    process.stdin.close()
    after_floor = json.loads(process.stdout.readline())
    process.wait()
    # pages after the first are asked for at once (their count is in the first page's Link), and the
    # idle seats' emails as soon as their page is in: the member pages take one round, or two; the
    # seat pages one or two, then a round for the emails of the last page's idle seats
    members, seats = math.ceil(args.members / 100), math.ceil(args.seats / 100)
    chain = max(1 + (members > 1), 1 + (seats > 1) + 1)
    bound = chain * args.latency
    walls = sorted(run["wall"] for run in runs)
    best, median = walls[0], statistics.median(walls)
    warm = runs[1:] or runs  # the first run opens the connections
    calls, cpu = sum(run["calls"] for run in warm), sum(run["cpu"] for run in warm)
    cold = runs[0]["cpu"] / runs[0]["calls"] * 1000
    wrong = sorted({org for run in runs for org in run["wrong"]})
    print(
        f"{args.orgs} organisations x {args.members} members, {args.seats} Copilot seats, latency {args.latency * 1000:.0f} ms, {args.repeat} runs"
    )
    print(
        f"calls {calls // len(warm)} a run, wall best {best:.3f} s / median {median:.3f} s, bound {bound:.3f} s ({chain} rounds), ratio best {best / bound if bound else float('inf'):.2f}x / median {median / bound if bound else float('inf'):.2f}x (target <= 1.2x)"
    )
    print(
        f"client CPU {cpu / calls * 1000:.2f} ms per call (target <= 1 ms; the first run, opening connections: {cold:.2f} ms); refused for rate: {violations}"
    )
    print(f"reports equal to the truth: {args.orgs - len(wrong)}/{args.orgs} {wrong or ''}")
    print_floors(floors, standin, after_floor, "the last run's GETs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
