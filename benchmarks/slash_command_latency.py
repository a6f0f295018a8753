"""Slash-command latency and throughput of the real bot server, against a bare Bolt app.

    python benchmarks/slash_command_latency.py [--rate 100] [--seconds 20] [--concurrency 64]
                                               [--rounds 5] [--quiet-logs] [--json out.json]

Everything listens on 127.0.0.1 on free ports, sends traffic only there, and stops by itself
(about three minutes with the defaults); every process it starts is stopped on the way
out, Ctrl-C and SIGTERM included.

Set-up. The Slack Web API stand-in (sandbox/standins/slack.py) runs in a thread of this process. A
temporary SQLite database is migrated with `quolum-bot db upgrade` and one installation is saved
through the bot's own storage code, encrypted with the key the servers get in QUOLUM_ENCRYPTION_KEYS.

Servers, each its own process (own CPU and GIL, none shared with the load generator):
- bot: the real `python -m bot.cli serve` in multi-workspace mode on that database, default INFO
  logging (one JSON access line per request is part of the product) to a file.
- bare: a bare Bolt AsyncApp served by this script (`--serve-baseline multi`): the same signing
  secret, the same multi-workspace authorisation (Bolt's AsyncInstallationStoreAuthorize, bot_only,
  cache_enabled) over the same encrypted installation store and SQLite file, one `/quolum` listener
  that acks with the help blocks the bot sends (built once), Bolt's Starlette adapter, uvicorn with
  the bot's settings, no logging. Multi-workspace because the bot runs so: a Bolt app in this mode
  must find the installation for every request, so this is the floor Bolt sets and bot/bare is the
  cost of the bot's own code.
- bare-token: the same bare app in single-workspace mode (a bot token, no database), for scale: the
  difference to `bare` is what the per-request installation lookup costs.

Measurements:
1. Cold start: N concurrent first requests to the fresh bot while the stand-in answers in 100 ms;
   how many auth.test calls it makes before its authorisation cache is warm.
2. Latency, open loop: signed `/quolum help` requests on a fixed timetable (100/s for 20 s after a
   3 s warm-up) with httpx.AsyncClient and keep-alive. Each request is sent at its scheduled time
   whether or not earlier ones were answered, and its latency counts from that time, so a slow
   server can neither lower the offered load nor hide its queueing (no coordinated omission).
3. Throughput, closed loop: N clients on their own keep-alive connections, each sending its next
   request when the last is answered, in windows interleaved between the servers (bot, bare,
   bare-token, bot, ...) so that drifting background load hits them alike; the median window counts.
   This client writes prepared request bytes to a socket: httpx costs about a millisecond of CPU per
   request, which on a 2-core machine capped the loop at the servers' own speed.
For every window it prints the CPU used by the server, by this process and by everything else on
the machine, and warns when other processes were busy enough to make the figures noisy.

Targets: bot p99 < 50 ms at 100 requests/s; bot throughput within 20% of the bare app; auth.test
called at most once. PASS/MISS is printed next to each and the exit status is 0 either way (this is
a measurement, not a test) unless the benchmark could not run (1) or was interrupted (130).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

import httpx
from harness import ROOT  # noqa: F401  (importing harness puts the repository on sys.path)
from harness.machine import free_port, source_revision, speed_check
from harness.processes import BenchmarkError, Server, install_stop_signals, run_async
from harness.slash_load import EXPECTED, RawConnection, Signer, closed_loop, open_loop
from harness.slash_report import log_counts, print_run, summarize
from harness.slash_setup import TEAM_ID, prepare, serve_baseline
from harness.stats import Target

from sandbox.slack_requests import command

COLD_SLACK_LATENCY = 0.1  # seconds: a realistic round trip to slack.com for the cold-start burst


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Latency (open loop) and maximum throughput (closed loop) of `/quolum help` on the real "
        "bot server, against a bare Bolt app. Prints figures and PASS/MISS per target; exits 0 either way."
    )
    parser.add_argument("--rate", type=float, default=100.0, help="open-loop requests per second (100)")
    parser.add_argument("--seconds", type=float, default=20.0, help="open-loop duration in seconds (20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="open-loop warm-up in seconds (3)")
    parser.add_argument(
        "--concurrency", type=int, default=64, help="closed-loop concurrent clients, one connection each (64)"
    )
    parser.add_argument(
        "--throughput-seconds",
        type=float,
        default=5.0,
        help="length of one closed-loop window in seconds (5)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="closed-loop windows per server, interleaved between servers; the median counts (5)",
    )
    parser.add_argument(
        "--quiet-logs",
        action="store_true",
        help="also measure the bot with QUOLUM_LOG_LEVEL=WARNING (no access lines), for comparison",
    )
    parser.add_argument(
        "--cold-burst",
        type=int,
        default=16,
        help="concurrent first requests sent to the fresh bot to count its auth.test calls; 0: skip (16)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (server logs)")
    parser.add_argument("--serve-baseline", choices=["multi", "single"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_baseline is None:
        if (
            min(args.rate, args.seconds, args.throughput_seconds) <= 0
            or min(args.concurrency, args.rounds) < 1
        ):
            parser.error(
                "--rate, --seconds, --throughput-seconds, --concurrency and --rounds must be positive"
            )
        if (
            args.seconds > 300
            or args.throughput_seconds > 60
            or args.rounds > 10
            or not 0 <= args.warmup <= 30
        ):
            parser.error(
                "durations are bounded: --seconds ≤ 300, --throughput-seconds ≤ 60, --rounds ≤ 10, "
                "--warmup 0..30"
            )
        if args.rate * args.seconds > 200_000 or args.concurrency > 1000 or not 0 <= args.cold_burst <= 1000:
            parser.error("--rate × --seconds must stay under 200000 requests and --concurrency under 1000")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_baseline:
        return serve_baseline(args.serve_baseline, args.port)
    install_stop_signals()
    try:
        return run(args)
    except BenchmarkError as error:
        print(f"benchmark could not run: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: every server this benchmark started has been stopped", file=sys.stderr)
        return 130


async def cold_burst(target: Target, slack, signer: Signer, size: int, slack_latency: float) -> int:
    """`size` concurrent first requests to a server that has not authorised yet, while Slack answers
    in `slack_latency` s: how many auth.test calls does it make before its cache is warm?"""
    before = len(slack.calls_to("auth.test"))
    slack.faults.latency = slack_latency
    connections = [RawConnection(target.server, signer) for _ in range(size)]
    try:
        answers = await asyncio.gather(*(c.post() for c in connections), return_exceptions=True)
    finally:
        slack.faults.latency = 0.0
        for conn in connections:
            conn.close()
    bad = [a for a in answers if isinstance(a, BaseException) or a[0] != 200 or EXPECTED not in a[1]]
    if bad:
        raise BenchmarkError(f"{len(bad)} of the {size} first requests to {target.label} failed: {bad[0]!r}")
    calls = len(slack.calls_to("auth.test")) - before
    target.auth_calls += calls
    return calls


def run(args: argparse.Namespace) -> int:
    from sandbox.standins.server import ThreadedServer
    from sandbox.standins.slack import SlackStandIn

    started = dt.datetime.now().astimezone()
    speed_before = speed_check()
    print(
        f"Quolum Bot slash-command benchmark, {started:%Y-%m-%d %H:%M %Z}, {platform.node()}: "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, source {source_revision()}; "
        f"speed check {speed_before:.1f} ms",
        flush=True,
    )
    with contextlib.ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="quolum-bench-"))
        if args.keep:
            print(f"temporary directory (kept, with the server logs): {tmp}", flush=True)
        else:
            stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        slack = SlackStandIn()
        standin = ThreadedServer(slack.app).start()
        stack.callback(standin.stop)
        slack.url = standin.url
        workspace = slack.add_workspace(TEAM_ID, "Acme")
        setup = prepare(tmp, slack, workspace)
        signer = Signer(command("help", team_id=TEAM_ID, response_url=f"{slack.url}/response/benchmark"))

        def start(label: str, argv: list[str], env: dict[str, str]) -> Target:
            port = free_port()
            server = Server(label, [*argv, "--port", str(port)], env, port, tmp / f"{label}.log")
            stack.callback(server.stop)
            return Target(label, server)

        bot_argv = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1"]
        bare_argv = [sys.executable, str(Path(__file__).resolve()), "--serve-baseline"]
        token_env = {
            k: v for k, v in setup.env.items() if k not in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
        }
        token_env["SLACK_BOT_TOKEN"] = workspace.bot_token
        bot = start("bot", bot_argv, setup.env)
        quiet = None
        if args.quiet_logs:
            quiet = start("bot-quiet", bot_argv, {**setup.env, "QUOLUM_LOG_LEVEL": "WARNING"})
        bare = start("bare", [*bare_argv, "multi"], setup.env)
        token = start("bare-token", [*bare_argv, "single"], token_env)
        targets = [t for t in (bot, quiet, bare, token) if t is not None]
        for target in targets:
            target.server.wait_ready()
        burst_calls = None

        async def measured(target: Target, work):
            before = len(slack.calls_to("auth.test"))
            try:
                result = await work
            except (OSError, ValueError, httpx.HTTPError, asyncio.IncompleteReadError) as error:
                raise BenchmarkError(
                    f"{target.label} stopped answering ({type(error).__name__}: {error}):\n"
                    + target.server.log_tail()
                ) from None
            target.auth_calls += len(slack.calls_to("auth.test")) - before
            return result

        async def measure() -> None:
            nonlocal burst_calls
            if args.cold_burst:
                burst_calls = await cold_burst(bot, slack, signer, args.cold_burst, COLD_SLACK_LATENCY)
                print(
                    f"\nCold start: {args.cold_burst} concurrent first requests to the bot while Slack answers in "
                    f"{COLD_SLACK_LATENCY * 1000:.0f} ms: {burst_calls} auth.test calls",
                    flush=True,
                )
            print(
                f"\nLatency, open loop: {args.rate:g} requests/s for {args.seconds:g} s after {args.warmup:g} s of "
                "warm-up, httpx with keep-alive; ms from each request's scheduled send time:",
                flush=True,
            )
            for target in (bot, quiet, bare):
                if target is None:
                    continue
                if args.warmup:
                    await measured(
                        target, open_loop(target.server, signer, args.rate, args.warmup, "warm-up")
                    )
                name = f"{target.label} @ {args.rate:g}/s"
                target.open = await measured(
                    target, open_loop(target.server, signer, args.rate, args.seconds, name)
                )
                print_run(target.open)
            print(
                f"\nThroughput, closed loop: {args.concurrency} clients on keep-alive connections, "
                f"{args.rounds} × {args.throughput_seconds:g} s windows per server, interleaved:",
                flush=True,
            )
            for round_ in range(args.rounds):
                shift = round_ % len(targets)
                for target in targets[shift:] + targets[:shift]:
                    await measured(
                        target, closed_loop(target.server, signer, args.concurrency, 1.0, "warm-up")
                    )
                    name = f"{target.label} round {round_ + 1}"
                    result = await measured(
                        target,
                        closed_loop(target.server, signer, args.concurrency, args.throughput_seconds, name),
                    )
                    target.closed.append(result)
                    print_run(result)

        run_async(measure())
        speed_after = speed_check()
        for target in targets:
            target.server.stop()
        access, errors = log_counts(bot.server.log_path)
    summarize(args, targets, bot, bare, burst_calls, access, errors, started, speed_before, speed_after)
    return 0


if __name__ == "__main__":
    sys.exit(main())
