"""Micro-benchmark: CPU per provider request in each layer of the HTTP stack, before and after.

    python benchmarks/http_stack.py [--requests 3000] [--concurrency 20] [--latency 0]

A server process on 127.0.0.1 answers every request at once (or `--latency` seconds late) with
precomputed bytes: a CRM search page of 200 contacts as the HubSpot stand-in renders them, or a
page of 100 users, both with HubSpot's rate-limit headers (sizes printed). This process sends
`--requests` of each kind, `--concurrency` at a time, through:

- aiohttp       aiohttp's ClientSession alone, the floor under every httpx-based client here;
- httpx-aiohttp httpx over httpx-aiohttp's stock transport, what `provider_client` was until
                December 2026 (cookie jars on, bodies streamed to httpx in 16 KB chunks);
- provider      `providers.http_client.provider_client` (no cookie jars, bodies read whole);
- ProviderHTTP  `ProviderHTTP` over `provider_client`, as the collector sends: auth headers,
                metrics, a limiter without buckets (nothing waits), the URL parsed once
                (`providers.http.parsed`);

and prints the CPU time of this process per request (time.process_time, the server's not
included), the best of `--rounds` rounds. Then the CPU of `httpx.AsyncClient.build_request` for a
search URL as a string and parsed, and a listing URL with `params` merged by httpx and first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import timeit
from datetime import UTC, datetime, timedelta

import aiohttp
import httpx
from harness import ROOT  # importing harness puts the repository on sys.path
from harness.machine import free_port
from httpx_aiohttp import HttpxAiohttpClient

from providers.http import ProviderHTTP  # noqa: E402
from providers.http_client import provider_client  # noqa: E402
from providers.hubspot.entry import POLICY as HUBSPOT  # noqa: E402
from providers.hubspot.records import OBJECTS  # noqa: E402
from providers.ratelimit import Limiter  # noqa: E402

SEARCH = "/crm/v3/objects/contacts/search"
USERS = "/settings/v3/users/"
SEARCH_BODY = json.dumps({"limit": 200, "properties": OBJECTS[0].properties}).encode()
HEADERS = {
    "Content-Type": "application/json;charset=utf-8",
    "X-HubSpot-RateLimit-Max": "110",
    "X-HubSpot-RateLimit-Remaining": "100",
    "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
    "X-HubSpot-Correlation-Id": "2d4c1f3e-1111-2222-3333-444455556666",
    "Vary": "origin, Accept-Encoding",
}


# --------------------------------------------------------------------------- the server process


def answers() -> dict[str, bytes]:
    from sandbox.standins.hubspot_search import record_json
    from sandbox.standins.hubspot_seed import generate_portal

    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    portal = generate_portal(1, portal_id=1, start=now - timedelta(days=60), end=now, n_users=200)
    spec = OBJECTS[0]
    search = {
        "total": 1000,
        "results": [record_json(r, spec.properties) for r in portal.records["contacts"][:200]],
        "paging": {"next": {"after": "200"}},
    }
    users = {"results": [{"id": str(i), "email": f"u{i}@example.com", "roleIds": []} for i in range(100)]}

    def answer(body: dict) -> bytes:
        data = json.dumps(body).encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items())
        return f"HTTP/1.1 200 OK\r\n{head}Content-Length: {len(data)}\r\n\r\n".encode() + data

    return {"search": answer(search), "users": answer(users)}


class _Answering(asyncio.Protocol):
    """HTTP/1.1 keep-alive: for each request (head and Content-Length body) the precomputed answer."""

    prepared: dict[str, bytes] = {}
    latency = 0.0

    def connection_made(self, transport) -> None:
        self.transport, self.buffer = transport, b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            length = next(
                (int(v) for k, _, v in (h.partition(":") for h in head[1:]) if k.lower() == "content-length"),
                0,
            )
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            answer = self.prepared["search" if "/search" in head[0] else "users"]
            if self.latency:
                asyncio.get_running_loop().call_later(self.latency, self.transport.write, answer)
            else:
                self.transport.write(answer)


def serve(port: int, latency: float) -> None:
    _Answering.prepared, _Answering.latency = answers(), latency

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Answering, "127.0.0.1", port)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until stdin closes
        server.close()

    asyncio.run(main())


# --------------------------------------------------------------------------- the clients


class Bearer:
    async def headers(self) -> dict[str, str]:
        return {"Authorization": "Bearer pat-na1-00000000-0000-0000-0000-000000000000"}

    async def refresh(self) -> bool:
        return False


def senders(layer: str, base: str):
    """An async context manager giving `send(kind, n)` for one layer."""
    listing = {"limit": 100}

    class Layer:
        async def __aenter__(self):
            if layer == "aiohttp":
                self.session = aiohttp.ClientSession()
            else:
                self.client = (HttpxAiohttpClient if layer == "httpx-aiohttp" else provider_client)(
                    timeout=30
                )
                self.http = ProviderHTTP(self.client, HUBSPOT, limiter=Limiter({}), timeout=30)
            return self

        async def __aexit__(self, *exc):
            await (self.session.close() if layer == "aiohttp" else self.client.aclose())

        async def send(self, kind: str, n: int) -> None:
            search, headers = (
                kind == "search",
                {"Content-Type": "application/json", "Authorization": "Bearer x"},
            )
            params = listing | {"after": str(n)}
            if layer == "aiohttp":
                if search:
                    async with self.session.post(base + SEARCH, data=SEARCH_BODY, headers=headers) as r:
                        await r.read()
                else:
                    async with self.session.get(base + USERS, params=params, headers=headers) as r:
                        await r.read()
            elif layer == "ProviderHTTP":
                if search:
                    await self.http.request(
                        "POST", base + SEARCH, auth=Bearer(), account_key="1", bucket="search",
                        content=SEARCH_BODY, headers={"Content-Type": "application/json"},
                    )  # fmt: skip
                else:
                    await self.http.request(
                        "GET", base + USERS, auth=Bearer(), account_key="1", params=params
                    )
            elif search:
                await self.client.post(base + SEARCH, content=SEARCH_BODY, headers=headers)
            else:
                await self.client.get(base + USERS, params=params, headers=headers)

    return Layer()


async def measure(layer: str, kind: str, base: str, args) -> float:
    async with senders(layer, base) as layer_:
        for n in range(50):  # connections opened, code paths warm
            await layer_.send(kind, n)
        per_worker = args.requests // args.concurrency
        best = float("inf")
        for _ in range(args.rounds):

            async def worker() -> None:
                for n in range(per_worker):
                    await layer_.send(kind, n)

            started = time.process_time()
            await asyncio.gather(*(worker() for _ in range(args.concurrency)))
            best = min(best, (time.process_time() - started) / (per_worker * args.concurrency))
        return best * 1e6


def build_request_figures() -> list[tuple[str, float]]:
    client = httpx.AsyncClient()
    search, users = "https://api.hubapi.com" + SEARCH, "https://api.hubapi.com" + USERS
    parsed_search, params = httpx.URL(search), {"limit": 100, "after": "MTAw"}
    headers = {"Content-Type": "application/json", "Authorization": "Bearer x"}
    cases = [
        (
            "search, URL as a string",
            lambda: client.build_request("POST", search, content=b"{}", headers=headers),
        ),
        (
            "search, URL parsed",
            lambda: client.build_request("POST", parsed_search, content=b"{}", headers=headers),
        ),
        (
            "listing, params merged by httpx",
            lambda: client.build_request("GET", users, params=params, headers=headers),
        ),
        (
            "listing, URL built with params first",
            lambda: client.build_request("GET", httpx.URL(users, params=params), headers=headers),
        ),
    ]
    number = 20_000
    return [(name, min(timeit.repeat(case, number=number, repeat=5)) / number * 1e6) for name, case in cases]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.latency)
        return 0

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--latency", str(args.latency)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        if server.stdout.readline().strip() != b"ready":
            print("the answering server did not start", file=sys.stderr)
            return 1
        base = f"http://127.0.0.1:{port}"
        print(
            f"CPU of this process per request, best of {args.rounds} rounds of {args.requests}, "
            f"{args.concurrency} at a time, answers {args.latency * 1000:.0f} ms late:"
        )
        sizes = {kind: len(answer) // 1000 for kind, answer in answers().items()}
        search_label, users_label = f"search page ({sizes['search']} KB)", f"users page ({sizes['users']} KB)"
        print(f"  {'layer':14} {search_label:>20} {users_label:>18}")
        for layer in ("aiohttp", "httpx-aiohttp", "provider", "ProviderHTTP"):
            figures = [asyncio.run(measure(layer, kind, base, args)) for kind in ("search", "users")]
            print(f"  {layer:14} {figures[0]:>17.0f} µs {figures[1]:>15.0f} µs", flush=True)
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    print("httpx.AsyncClient.build_request, in process:")
    for name, micros in build_request_figures():
        print(f"  {name:40} {micros:6.1f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
