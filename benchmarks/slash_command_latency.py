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
import json
import logging
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bot.messages.blocks import HELP_TITLE  # noqa: E402
from sandbox.slack_requests import SIGNING_SECRET, command, signed_headers  # noqa: E402

TEAM_ID = "T0001"
P99_TARGET_MS = 50.0
THROUGHPUT_TARGET = 0.80  # bot throughput >= 80% of the bare app's
# The help reply's title, as it appears in the JSON body of the ack.
EXPECTED = json.dumps(HELP_TITLE)[1:-1].encode()
STARTUP_TIMEOUT = 60.0
REQUEST_TIMEOUT = 10.0
COLD_SLACK_LATENCY = 0.1  # seconds: a realistic round trip to slack.com for the cold-start burst
OPEN_LOOP_SENDERS = 64  # concurrent requests the open-loop generator can have in flight
MAX_SEND_LAG_MS = 10.0  # open loop: beyond this the load generator, not the server, sets the pace
NOISE_WARNING = 0.25  # cores used by other processes during a window before the figures are flagged


class BenchmarkError(Exception):
    """The benchmark could not run (a server did not start, the set-up failed)."""


# --- statistics -------------------------------------------------------------------------------------
def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil(n * p / 100)
    return sorted_values[int(rank) - 1]


@dataclass
class RunResult:
    name: str
    mode: str  # "open" or "closed"
    seconds: float  # measured window: first scheduled send to last answer (open), T (closed)
    latencies_ms: list[float] = field(default_factory=list)  # successful requests only
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    offered: int = 0  # requests sent
    send_lag_ms: list[float] = field(default_factory=list)  # open loop: actual minus scheduled send
    offered_rate: float | None = None  # open loop: requests sent per second, as achieved
    server_cpu: float | None = None  # server CPU seconds / wall seconds (1.0 = one core busy)
    client_cpu: float | None = None  # this process's CPU seconds / wall seconds
    other_cpu: float | None = None  # every other process on the machine, in cores (noise)
    steal: float | None = None  # CPU the hypervisor took from this VM, in cores

    def kept_timetable(self, rate: float) -> bool:
        """Open loop: did the load generator send at the rate asked, on time (lag p99 ≤ 10 ms)?"""
        if self.offered_rate is None:
            return True
        return (
            self.offered_rate >= 0.97 * rate and percentile(sorted(self.send_lag_ms), 99) <= MAX_SEND_LAG_MS
        )

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    def stats(self) -> dict[str, float]:
        values = sorted(self.latencies_ms)
        return {
            "p50": percentile(values, 50),
            "p90": percentile(values, 90),
            "p99": percentile(values, 99),
            "max": values[-1] if values else float("nan"),
        }

    def as_dict(self) -> dict:
        lag = sorted(self.send_lag_ms)
        return {
            "name": self.name,
            "mode": self.mode,
            "seconds": round(self.seconds, 3),
            "requests": self.offered,
            "ok": self.ok,
            "errors": self.errors,
            "statuses": self.statuses,
            "throughput_rps": round(self.throughput, 1),
            "latency_ms": {k: round(v, 2) for k, v in self.stats().items()},
            "send_lag_p99_ms": round(percentile(lag, 99), 2) if lag else None,
            "offered_rps": None if self.offered_rate is None else round(self.offered_rate, 1),
            "server_cpu_cores": None if self.server_cpu is None else round(self.server_cpu, 2),
            "client_cpu_cores": None if self.client_cpu is None else round(self.client_cpu, 2),
            "other_processes_cpu_cores": None if self.other_cpu is None else round(self.other_cpu, 2),
            "steal_cores": None if self.steal is None else round(self.steal, 2),
        }


# --- processes ----------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (Linux /proc), or None where /proc is not available."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def machine_cpu_seconds() -> tuple[float, float] | None:
    """(busy, steal) CPU seconds of the whole machine since boot (Linux /proc/stat), or None."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


class CpuMeter:
    """CPU used during a window by the server, by this process (the load generator and the Slack
    stand-in) and by everything else on the machine, in cores (CPU seconds per wall second)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.wall = time.monotonic()
        self.client = time.process_time()
        self.server_cpu = server.cpu_seconds()
        self.machine = machine_cpu_seconds()

    def record(self, result: RunResult) -> None:
        wall = time.monotonic() - self.wall
        if wall <= 0:
            return
        result.client_cpu = (time.process_time() - self.client) / wall
        server_cpu = self.server.cpu_seconds()
        if self.server_cpu is not None and server_cpu is not None:
            result.server_cpu = (server_cpu - self.server_cpu) / wall
        machine = machine_cpu_seconds()
        if self.machine is not None and machine is not None and result.server_cpu is not None:
            busy = (machine[0] - self.machine[0]) / wall
            result.other_cpu = max(0.0, busy - result.server_cpu - result.client_cpu)
            result.steal = (machine[1] - self.machine[1]) / wall


class Server:
    """A server in a child process, listening on 127.0.0.1:port; stopped by stop() whatever happens."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log_path: Path) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        # A session of its own: Ctrl-C reaches only this script, which then stops the server in order.
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False, timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise BenchmarkError(
                        f"{self.name} exited with status {self.proc.returncode} before it was ready:\n"
                        + self.log_tail()
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                time.sleep(0.1)
        raise BenchmarkError(
            f"{self.name} did not answer /healthz within {timeout:.0f} s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            self._log.flush()
            text = self.log_path.read_text(errors="replace").splitlines()
            return "\n".join("    " + line for line in text[-lines:])
        return ""

    def cpu_seconds(self) -> float | None:
        return process_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # uvicorn's graceful shutdown
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


def server_env(base: dict[str, str], **overrides: str) -> dict[str, str]:
    """The parent's environment without any bot setting, plus the benchmark's."""
    prefixes = ("SLACK_", "QUOLUM_", "HUBSPOT_", "SENDGRID_")
    env = {k: v for k, v in base.items() if not k.startswith(prefixes) and k not in ("HOST", "PORT")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), base.get("PYTHONPATH", "")) if p)
    env.update(overrides)
    return env


# --- load generation ---------------------------------------------------------------------------------
class Signer:
    """Signed headers for the one request body, re-signed once per second (Slack's timestamp)."""

    def __init__(self, body: str) -> None:
        self.body = body.encode()
        self._text = body
        self._second = -1
        self._headers: dict[str, str] = {}

    def headers(self) -> dict[str, str]:
        now = int(time.time())
        if now != self._second:
            self._second, self._headers = now, signed_headers(self._text, timestamp=now)
        return self._headers


def new_client(connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        trust_env=False,
        timeout=REQUEST_TIMEOUT,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


async def send_one(
    client: httpx.AsyncClient, url: str, signer: Signer, result: RunResult, start: float
) -> None:
    """POST the command; record latency since `start` (loop time) if the reply is the help message."""
    loop = asyncio.get_running_loop()
    try:
        response = await client.post(url, content=signer.body, headers=signer.headers())
    except httpx.HTTPError as error:
        result.errors += 1
        key = type(error).__name__
        result.statuses[key] = result.statuses.get(key, 0) + 1
        return
    elapsed_ms = (loop.time() - start) * 1000
    key = str(response.status_code)
    result.statuses[key] = result.statuses.get(key, 0) + 1
    if response.status_code == 200 and EXPECTED in response.content:
        result.latencies_ms.append(elapsed_ms)
    else:
        result.errors += 1


async def open_loop(server: Server, signer: Signer, rate: float, seconds: float, name: str) -> RunResult:
    """Send `rate` requests/s for `seconds` on a fixed timetable; latency counts from the scheduled time.

    The timetable puts each request on a queue at its time; 64 senders share one httpx client (so at
    most 64 connections) and take requests off the queue. A request that waits on the queue because
    every sender is busy has that wait in its latency, as it should. Handing every request to httpx at
    once instead makes httpx's own pool the queue, and its bookkeeping grows with the queue: after a
    stall of the machine the load generator, not the server, fell behind and never caught up.
    """
    url = f"{server.url}/slack/events"
    total = max(1, int(round(rate * seconds)))
    result = RunResult(name=name, mode="open", seconds=0.0, offered=total)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[float | None] = asyncio.Queue()
    senders = OPEN_LOOP_SENDERS
    async with new_client(connections=senders) as client:

        async def sender() -> None:
            while (scheduled := await queue.get()) is not None:
                await send_one(client, url, signer, result, scheduled)

        await client.post(url, content=signer.body, headers=signer.headers())  # open a connection
        tasks = [asyncio.create_task(sender()) for _ in range(senders)]
        try:
            meter = CpuMeter(server)
            t0 = loop.time() + 0.05
            for i in range(total):
                scheduled = t0 + i / rate
                delay = scheduled - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                result.send_lag_ms.append(max(0.0, loop.time() - scheduled) * 1000)
                queue.put_nowait(scheduled)
            result.offered_rate = total / (loop.time() - t0 + 1 / rate)
            for _ in tasks:
                queue.put_nowait(None)
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        result.seconds = loop.time() - t0
        meter.record(result)
    return result


class RawConnection:
    """One keep-alive HTTP/1.1 connection that POSTs the signed command: the closed-loop client.

    httpx costs the load generator about a millisecond of CPU per request, which on a 2-core machine
    caps a closed loop near the servers' own capacity (it measured the client, not the server).
    Writing the request bytes and reading Content-Length bytes back costs a few microseconds.
    """

    def __init__(self, server: Server, signer: Signer) -> None:
        self.host, self.port = "127.0.0.1", server.port
        self.signer = signer
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._second = -1
        self._request = b""

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)  # TCP_NODELAY is set

    def _request_bytes(self) -> bytes:
        headers = self.signer.headers()
        second = int(headers["X-Slack-Request-Timestamp"])
        if second != self._second:
            lines = [
                "POST /slack/events HTTP/1.1",
                f"Host: {self.host}:{self.port}",
                *(f"{name}: {value}" for name, value in headers.items()),
                f"Content-Length: {len(self.signer.body)}",
                "",
                "",
            ]
            self._second, self._request = second, "\r\n".join(lines).encode() + self.signer.body
        return self._request

    async def post(self) -> tuple[int, bytes]:
        if self.writer is None:
            await self._connect()
        try:
            self.writer.write(self._request_bytes())
            head = await self.reader.readuntil(b"\r\n\r\n")
            status_line, _, header_block = head.partition(b"\r\n")
            status = int(status_line.split()[1])
            length, close = None, False
            for line in header_block.split(b"\r\n"):
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            if length is None:
                raise ConnectionError("response without Content-Length")
            body = await self.reader.readexactly(length)
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def closed_loop(
    server: Server, signer: Signer, concurrency: int, seconds: float, name: str
) -> RunResult:
    """`concurrency` clients, each on its own keep-alive connection, sending the next request as soon
    as the last one is answered, for `seconds`."""
    result = RunResult(name=name, mode="closed", seconds=seconds)
    loop = asyncio.get_running_loop()
    connections = [RawConnection(server, signer) for _ in range(concurrency)]
    try:
        # Open every connection first, so the window measures requests, not TCP handshakes.
        await asyncio.gather(*(conn.post() for conn in connections))
        meter = CpuMeter(server)
        deadline = loop.time() + seconds

        async def worker(conn: RawConnection) -> None:
            while True:
                start = loop.time()
                if start >= deadline:
                    return
                result.offered += 1
                try:
                    status, body = await asyncio.wait_for(conn.post(), REQUEST_TIMEOUT)
                except (
                    OSError,
                    asyncio.IncompleteReadError,
                    asyncio.LimitOverrunError,
                    TimeoutError,
                    ValueError,
                ) as error:
                    result.errors += 1
                    key = type(error).__name__
                    result.statuses[key] = result.statuses.get(key, 0) + 1
                    continue
                result.statuses[str(status)] = result.statuses.get(str(status), 0) + 1
                if status == 200 and EXPECTED in body:
                    result.latencies_ms.append((loop.time() - start) * 1000)
                else:
                    result.errors += 1

        await asyncio.gather(*(worker(conn) for conn in connections))
        # Requests in flight at the deadline finish after it; the window ends at the last answer.
        result.seconds = max(seconds, loop.time() - (deadline - seconds))
        meter.record(result)
    finally:
        for conn in connections:
            conn.close()
    return result


# --- the bare baseline app (runs in a child process: `--serve-baseline multi|single`) -------------------
def build_baseline_app(mode: str, env: dict[str, str]):
    """A bare Bolt AsyncApp with one `/quolum` listener, mounted in Starlette with Bolt's adapter.

    mode "multi": multi-workspace, authorised as the bot is (AsyncInstallationStoreAuthorize, bot_only,
    cache_enabled) over the bot's encrypted installation store; "single": one workspace's bot token.
    """
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncApp
    from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
    from slack_sdk.web.async_client import AsyncWebClient
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from bot.messages import blocks
    from handlers import commands

    api_url = env["SLACK_API_URL"]
    common = dict(signing_secret=env["SLACK_SIGNING_SECRET"], process_before_response=False)
    if mode == "multi":
        from storage.crypto import Encryptor
        from storage.db import Database
        from storage.installations import EncryptedInstallationStore

        store = EncryptedInstallationStore(
            Database(env["QUOLUM_DATABASE_URL"]), Encryptor(env["QUOLUM_ENCRYPTION_KEYS"].split(","))
        )
        client = AsyncWebClient(base_url=api_url)
        authorize = AsyncInstallationStoreAuthorize(
            logger=logging.getLogger("bare.authorize"),
            installation_store=store,
            client_id=env["SLACK_CLIENT_ID"],
            client_secret=env["SLACK_CLIENT_SECRET"],
            bot_only=True,
            cache_enabled=True,
            client=client,
        )
        bolt = AsyncApp(
            client=client,
            authorize=authorize,
            installation_store=store,
            installation_store_bot_only=True,
            **common,
        )
    else:
        token = env["SLACK_BOT_TOKEN"]
        bolt = AsyncApp(client=AsyncWebClient(token=token, base_url=api_url), token=token, **common)

    reply = blocks.help_message(commands.help_entries())  # the blocks the bot sends, built once

    @bolt.command("/quolum")
    async def quolum(ack) -> None:
        await ack(**reply)

    handler = AsyncSlackRequestHandler(bolt)

    async def events(request):
        return await handler.handle(request)

    async def healthz(request):
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/slack/events", events, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])]
    )


def serve_baseline(mode: str, port: int) -> int:
    """The bare app's process: `--serve-baseline multi|single --port P` (settings from the environment)."""
    import uvicorn

    app = build_baseline_app(mode, dict(os.environ))
    # `quolum-bot serve`'s uvicorn settings, minus the forwarded-header trust (plain http here). No
    # logging is configured: uvicorn's access log has no handler, as a bare app's would not.
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, timeout_graceful_shutdown=25)
    return 0


# --- set-up -------------------------------------------------------------------------------------------
async def save_installation(database_url: str, key: str, slack) -> None:
    """Record the stand-in workspace's installation as the OAuth flow would, as the tests do."""
    from storage.crypto import Encryptor
    from storage.db import Database
    from storage.store import Storage
    from tests.conftest import install

    storage = Storage(Database(database_url), Encryptor([key]), replica_id="benchmark")
    try:
        await install(storage, slack, team_id=TEAM_ID)
    finally:
        await storage.db.dispose()


@dataclass
class Setup:
    tmp: Path
    slack: object  # SlackStandIn
    workspace: object
    env: dict[str, str]  # multi-workspace environment shared by the bot and the bare app


def prepare(tmp: Path, slack, workspace) -> Setup:
    from storage.crypto import generate_key

    key = generate_key()
    database_url = f"sqlite:///{(tmp / 'quolum.db').as_posix()}"
    env = server_env(
        dict(os.environ),
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_CLIENT_ID=slack.client_id,
        SLACK_CLIENT_SECRET=slack.client_secret,
        SLACK_API_URL=f"{slack.url}/api/",
        QUOLUM_DATA_DIR=str(tmp),
        QUOLUM_DATABASE_URL=database_url,
        QUOLUM_ENCRYPTION_KEYS=key,
        QUOLUM_LOG_LEVEL="INFO",
    )
    upgrade = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if upgrade.returncode != 0:
        raise BenchmarkError(f"`quolum-bot db upgrade` failed:\n{upgrade.stdout}{upgrade.stderr}")
    from bot.core.config import normalise_database_url

    asyncio.run(save_installation(normalise_database_url(database_url, tmp), key, slack))
    env["QUOLUM_DATABASE_URL"] = normalise_database_url(database_url, tmp)
    return Setup(tmp=tmp, slack=slack, workspace=workspace, env=env)


# --- reporting ----------------------------------------------------------------------------------------
def print_run(result: RunResult) -> None:
    s = result.stats()
    cpu = ""
    if result.server_cpu is not None:
        cpu = f"  CPU cores: server {result.server_cpu:.2f}, client {result.client_cpu:.2f}"
        if result.other_cpu is not None:
            cpu += f", other {result.other_cpu:.2f}"
        if result.steal:
            cpu += f", steal {result.steal:.2f}"
    print(
        f"  {result.name:<26} p50 {s['p50']:6.1f}  p90 {s['p90']:6.1f}  p99 {s['p99']:6.1f}  max {s['max']:6.1f} ms"
        f"  {result.throughput:5.0f} req/s  errors {result.errors}{cpu}",
        flush=True,
    )
    if result.errors:
        print(f"    answers: {result.statuses}", flush=True)
    if result.mode == "open" and result.send_lag_ms:
        lag = sorted(result.send_lag_ms)
        print(
            f"    {result.offered} requests sent at {result.offered_rate:.1f}/s;"
            f" load generator send lag p99 {percentile(lag, 99):.2f} ms (counted in the latencies)",
            flush=True,
        )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def log_counts(path: Path) -> tuple[int, list[str]]:
    """(access lines, error lines) in a bot server's log."""
    access, errors = 0, []
    with contextlib.suppress(OSError), open(path, "rb") as fh:
        for line in fh:
            if b'"logger": "quolum.access"' in line:
                access += 1
            if b'"level": "error"' in line or b"Traceback" in line:
                errors.append(line.decode(errors="replace").rstrip()[:300])
    return access, errors


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


# --- main -----------------------------------------------------------------------------------------------
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


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def install_stop_signals() -> None:
    """SIGTERM and SIGHUP stop the benchmark as Ctrl-C does: servers stopped, temporary files removed."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise_interrupt)


def run_async(coro):
    """asyncio.run, with SIGTERM/SIGHUP cancelling the work (as asyncio.run does for Ctrl-C) rather than
    raising inside whichever task happens to run; either way it ends in KeyboardInterrupt."""

    async def main():
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        stopped = []

        def stop() -> None:
            stopped.append(True)
            task.cancel()

        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, stop)
        try:
            return await coro
        except asyncio.CancelledError:
            if stopped:
                raise KeyboardInterrupt from None
            raise
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)
            install_stop_signals()  # the loop's removal restored the default (fatal) disposition

    return asyncio.run(main())


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


@dataclass
class Target:
    """One server under test and what was measured on it."""

    label: str
    server: Server
    auth_calls: int = 0
    open: RunResult | None = None
    closed: list[RunResult] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return median([r.throughput for r in self.closed]) if self.closed else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        """Server CPU per answered request over every closed-loop window (less noisy than throughput)."""
        windows = [r for r in self.closed if r.server_cpu is not None]
        answered = sum(r.ok for r in windows)
        cpu_seconds = sum(r.server_cpu * r.seconds for r in windows)
        return cpu_seconds / answered * 1000 if answered else float("nan")


def speed_check() -> float:
    """Milliseconds for a fixed pure-Python workload (best of 5): tells runs on a slower or busier
    host apart, which the VM's own CPU counters do not always show."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        total = 0
        for i in range(300_000):
            total += i * i % 7
        best = min(best, time.perf_counter() - start)
    return best * 1000


def source_revision() -> str:
    """The commit measured, and whether the working tree differs from it (read-only git calls)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}{' + uncommitted changes' if dirty else ''}" if head else "unknown"


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

    p99 = bot.open.stats()["p99"]
    ratio = bot.throughput / bare.throughput if bare.throughput else 0.0
    p99_ok = p99 < P99_TARGET_MS and bot.open.errors == 0
    ratio_ok = ratio >= THROUGHPUT_TARGET and not any(r.errors for r in bot.closed)
    steady_auth = bot.auth_calls - (burst_calls or 0)
    windows = [r for t in targets for r in ([t.open] if t.open else []) + t.closed]
    noise = max((r.other_cpu or 0.0) + (r.steal or 0.0) for r in windows)

    print("\nSummary (throughput: median of the rounds, [min–max]):", flush=True)
    for target in targets:
        values = [r.throughput for r in target.closed]
        line = f"  {target.label:<11} {target.throughput:5.0f} req/s [{min(values):.0f}–{max(values):.0f}]"
        line += f", {target.cpu_ms_per_request:.2f} ms server CPU per request"
        if target.open:
            st = target.open.stats()
            line += (
                f"; at {args.rate:g}/s p50 {st['p50']:.1f}, p90 {st['p90']:.1f}, p99 {st['p99']:.1f},"
                f" max {st['max']:.1f} ms"
            )
        print(line, flush=True)
    print(f"  bot access log: {access} lines, one per request", flush=True)
    print(
        f"  speed check (a fixed Python loop, lower is faster): {speed_before:.1f} ms before,"
        f" {speed_after:.1f} ms after",
        flush=True,
    )
    for line in errors[:5]:
        print(f"  bot logged an error: {line}", flush=True)
    if noise > NOISE_WARNING:
        print(
            f"  note: other processes (or the hypervisor) took up to {noise:.2f} cores during a window; on a "
            f"{os.cpu_count()}-CPU machine that makes these figures noisy. Rerun on a quiet machine.",
            flush=True,
        )

    kept = bot.open.kept_timetable(args.rate)
    if not kept:
        print(
            f"  note: the load generator fell behind its timetable in the bot's latency run (sent at "
            f"{bot.open.offered_rate:.1f}/s, send lag p99 {percentile(sorted(bot.open.send_lag_ms), 99):.1f} ms):"
            " its own delays are in those latencies. Rerun on a quiet machine.",
            flush=True,
        )
    caveat = "" if noise <= NOISE_WARNING and kept else " (noisy machine, see above)"

    print("\nTargets:")
    print(
        f"  bot p99 at {args.rate:g} requests/s: {p99:.1f} ms (target < {P99_TARGET_MS:g} ms, no errors)"
        f"  {verdict(p99_ok)}{caveat}"
    )
    print(
        f"  bot throughput {bot.throughput:.0f} req/s = {ratio:.2f} × the bare app's {bare.throughput:.0f} req/s"
        f" (target ≥ {THROUGHPUT_TARGET:.2f})  {verdict(ratio_ok)}{caveat}"
    )
    print(
        f"    (server CPU per request: bot {bot.cpu_ms_per_request:.2f} ms, bare {bare.cpu_ms_per_request:.2f} ms,"
        f" bare/bot {bare.cpu_ms_per_request / bot.cpu_ms_per_request:.2f})"
    )
    requests = sum(r.offered for r in ([bot.open] if bot.open else []) + bot.closed)
    print(
        f"  auth.test calls by the bot over {requests} measured requests (and their warm-ups): {steady_auth}"
        f" (target ≤ 1: authorisation is cached)  {verdict(steady_auth <= 1)}"
    )
    if burst_calls is not None:
        print(
            f"  auth.test calls by the bot for {args.cold_burst} concurrent first requests: {burst_calls}"
            f" (target ≤ 1)  {verdict(burst_calls <= 1)}",
            flush=True,
        )
    if args.json:
        report = {
            "date": started.isoformat(timespec="seconds"),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "source": source_revision(),
            "args": {
                k: v for k, v in vars(args).items() if k not in ("serve_baseline", "port", "json", "keep")
            },
            "servers": {
                t.label: {
                    "throughput_rps": round(t.throughput, 1),
                    "server_cpu_ms_per_request": round(t.cpu_ms_per_request, 3),
                    "auth_test_calls": t.auth_calls,
                    "open_loop": t.open.as_dict() if t.open else None,
                    "closed_loop": [r.as_dict() for r in t.closed],
                }
                for t in targets
            },
            "bot_access_log_lines": access,
            "max_other_cpu_cores": round(noise, 2),
            "speed_check_ms": [round(speed_before, 2), round(speed_after, 2)],
            "load_generator_kept_timetable": kept,
            "targets": {
                "p99_ms": round(p99, 2),
                "p99_pass": p99_ok,
                "throughput_ratio": round(ratio, 3),
                "throughput_pass": ratio_ok,
                "auth_test_calls": steady_auth,
                "auth_test_pass": steady_auth <= 1,
                "cold_burst_auth_test_calls": burst_calls,
            },
        }
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
