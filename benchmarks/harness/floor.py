"""The HTTP floor under a collection: the requests one run sent, sent again through bare clients.

A collection benchmark records the GETs of its last run (`Recorder`, httpx event hooks: URL and
headers, the bearer included, and the status answered); `floor` then sends the same requests, all at once, `rounds` times
through each client (a first round opens the connections and is not counted) and returns the CPU of
this process per request for each: what sending and receiving those answers costs before any of the
bot's own code (no decoding, no limiter, no retry decisions). The answers are read whole; a status
other than the one the collection saw is counted in `mismatched`.

Every replayed request reaches the stand-in like any other: the benchmark's refusal count covers
them too (a caller pauses between rounds, `pause`, so that per-second limits are not hit).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import aiohttp
import httpx

from harness.machine import process_cpu_seconds
from providers.http import ProviderError, ProviderHTTP
from providers.http_client import provider_client
from providers.ratelimit import Limiter, ProviderLimits
from providers.retry import RetryPolicy


@dataclass
class Recorder:
    """httpx event hooks (`hooks`) that count the requests of the current run and keep them with the
    status each was answered. The hooks only append (a microsecond a request, billed to the client
    like the rest); `gets()` reads them after the run."""

    calls: int = 0
    _sent: list[httpx.Request] = field(default_factory=list)
    _answered: dict[int, int] = field(default_factory=dict)

    def start(self) -> None:
        self.calls, self._sent, self._answered = 0, [], {}

    @property
    def hooks(self) -> dict[str, list]:
        return {"request": [self._request], "response": [self._response]}

    async def _request(self, request: httpx.Request) -> None:
        self.calls += 1
        self._sent.append(request)

    async def _response(self, response: httpx.Response) -> None:
        self._answered[id(response.request)] = response.status_code

    def gets(self) -> tuple[list[tuple[str, dict[str, str]]], list[int]]:
        """The run's GETs (URL, headers) and the status each was answered (0: none)."""
        sent = [r for r in self._sent if r.method == "GET"]
        return [(str(r.url), dict(r.headers.items())) for r in sent], [
            self._answered.get(id(r), 0) for r in sent
        ]


Send = Callable[[str, dict[str, str]], Awaitable[int]]


async def _rounds(
    send: Send, gets: list[tuple[str, dict[str, str]]], rounds: int, pause: float
) -> tuple[float, list[int]]:
    await asyncio.gather(*(send(url, headers) for url, headers in gets))  # opens the connections
    cpu, statuses = 0.0, []
    for _ in range(rounds):
        await asyncio.sleep(pause)
        started = time.process_time()
        statuses = await asyncio.gather(*(send(url, headers) for url, headers in gets))
        cpu += time.process_time() - started
    return cpu / (rounds * len(gets)) * 1000, statuses


async def floor(
    gets: list[tuple[str, dict[str, str]]],
    expected: list[int],
    *,
    policy: RetryPolicy | None = None,
    limits: Mapping[str, ProviderLimits] | None = None,
    rounds: int = 3,
    pause: float = 1.1,
) -> dict[str, tuple[float, int]]:
    """Client -> (CPU ms per request, requests whose status differed from `expected`). With `policy`
    (and the provider's `limits`, for a limiter), also the same GETs through `ProviderHTTP.get_json`
    over `provider_client`: the bot's HTTP layer, with generic decoding."""
    found: dict[str, tuple[float, int]] = {}

    def mismatched(statuses: list[int]) -> int:
        return sum(1 for got, want in zip(statuses, expected, strict=True) if got != want)

    async with aiohttp.ClientSession() as session:

        async def plain(url: str, headers: dict[str, str]) -> int:
            async with session.get(url, headers=headers) as answer:
                await answer.read()
                return answer.status

        cpu, statuses = await _rounds(plain, gets, rounds, pause)
        found["aiohttp alone"] = (cpu, mismatched(statuses))
    for name, make in (
        ("httpx.AsyncClient (httpcore)", httpx.AsyncClient),
        ("provider_client", provider_client),
    ):
        async with make() as client:

            async def through(url: str, headers: dict[str, str], client: httpx.AsyncClient = client) -> int:
                return (await client.get(url, headers=headers)).status_code

            cpu, statuses = await _rounds(through, gets, rounds, pause)
            found[name] = (cpu, mismatched(statuses))
    if policy is not None:
        async with provider_client() as client:
            http = ProviderHTTP(client, policy, limiter=Limiter(limits or {}))

            async def layered(url: str, headers: dict[str, str]) -> int:
                try:
                    await http.get_json(url, auth=None, account_key="floor", headers=headers, max_retries=0)
                except ProviderError as error:
                    return error.status or 0
                return 200

            cpu, statuses = await _rounds(layered, gets, rounds, pause)
            found["ProviderHTTP.get_json"] = (cpu, mismatched(statuses))
    return found


class StandInCPU:
    """The stand-in process's CPU over the runs after the first (Linux /proc: 10 ms ticks)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start: float | None = None
        self.end: float | None = None

    def run_starts(self, n: int) -> None:
        if n == 1:
            self.start = process_cpu_seconds(self.pid)

    def runs_end(self) -> None:
        self.end = process_cpu_seconds(self.pid)

    def per_request(self, requests: int) -> float | None:
        """ms per request answered in those runs; None when not measured."""
        if self.start is None or self.end is None or not requests:
            return None
        return (self.end - self.start) / requests * 1000


async def replay(
    recorder: Recorder,
    *,
    policy: RetryPolicy,
    limits: Mapping[str, ProviderLimits],
    rounds: int,
    keep: Callable[[str], bool] = lambda url: True,
) -> dict[str, tuple[float, int]]:
    """`floor` for the recorded run's GETs whose URL `keep` accepts ({} when `rounds` is 0)."""
    gets, statuses = recorder.gets()
    kept = [i for i, (url, _) in enumerate(gets) if keep(url)]
    if not rounds or not kept:
        return {}
    return await floor(
        [gets[i] for i in kept], [statuses[i] for i in kept], policy=policy, limits=limits, rounds=rounds
    )


def print_floors(
    floors: dict[str, tuple[float, int]], standin: float | None, after: object, what: str
) -> None:
    """The stand-in's CPU per request, each floor, and the refusals counted with the replays."""
    if standin is not None:
        print(
            f"stand-in CPU {standin:.2f} ms per request it answered (its own process, not the client's; 10 ms ticks)"
        )
    for client, (per_call, mismatched) in floors.items():
        otherwise = f" ({mismatched} answered otherwise)" if mismatched else ""
        print(f"floor, {what} through {client}: {per_call:.2f} ms per call{otherwise}")
    if floors:
        print(f"refused, counting the floor's replays too: {after}")
