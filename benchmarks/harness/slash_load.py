"""Load for the slash-command benchmark: signed `/quolum help` requests, open loop and closed loop."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from harness.processes import Server
from harness.stats import CpuMeter, RunResult
from messages.blocks import HELP_TITLE
from sandbox.slack_requests import signed_headers

# The help reply's title, as it appears in the JSON body of the ack.
EXPECTED = json.dumps(HELP_TITLE)[1:-1].encode()
REQUEST_TIMEOUT = 10.0
OPEN_LOOP_SENDERS = 64  # concurrent requests the open-loop generator can have in flight


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
