"""Bodies and slow clients: refused on Content-Length at once, capped while streaming, timed out.

Raw sockets against the real server (uvicorn as `serve` runs it), because an HTTP client will not
declare a gigabyte it does not send or stall halfway through a header.
"""

from __future__ import annotations

import socket
import time

import pytest

from bot.web import MAX_BODY
from tests.conftest import install


def connect(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_response(sock: socket.socket, timeout: float = 3.0) -> bytes:
    """Everything the server sends until it closes the connection or `timeout` passes."""
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def status_of(response: bytes) -> int | None:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else None


HEAD = "POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/x-www-form-urlencoded\r\n"


@pytest.fixture
async def bot(serve, settings, storage, slack):
    await install(storage, slack)
    return serve(settings, head_timeout=0.5, body_timeout=0.5)


async def test_a_declared_gigabyte_is_refused_at_once(bot):
    sock = connect(bot)
    started = time.monotonic()
    sock.sendall((HEAD + f"Content-Length: {1 << 30}\r\n\r\n").encode() + b"token=x")
    response = read_response(sock)
    assert status_of(response) == 413 and time.monotonic() - started < 1.0
    assert b"connection: close" in response.lower()


@pytest.mark.parametrize("declared", ["12abc", "-1", "1e9"])
async def test_a_content_length_that_is_not_a_number_is_refused(bot, declared):
    sock = connect(bot)
    sock.sendall((HEAD + f"Content-Length: {declared}\r\n\r\n").encode())
    assert status_of(read_response(sock)) == 400


async def test_a_chunked_body_is_cut_off_at_the_limit(bot):
    sock = connect(bot)
    sock.sendall((HEAD + "Transfer-Encoding: chunked\r\n\r\n").encode())
    chunk = b"a" * 65536
    sent = 0
    try:
        while sent < 200 * MAX_BODY:  # the attack sent 200 MB
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    # the server answered and hung up after about 1 MB (plus what the sockets' buffers held)
    assert sent < 16 * MAX_BODY
    assert status_of(read_response(sock)) in (413, None)  # a reset may swallow the answer


async def test_a_stalled_body_times_out(bot):
    sock = connect(bot)
    sock.sendall((HEAD + "Content-Length: 100\r\n\r\n").encode() + b"token=x")
    started = time.monotonic()
    response = read_response(sock, timeout=5)
    assert status_of(response) == 408 and time.monotonic() - started < 3.0


async def test_stalled_connections_are_closed(bot):
    """100 connections that never finish their headers (the attack held them open for ever)."""
    socks = [connect(bot) for _ in range(100)]
    for n, sock in enumerate(socks):
        if n % 2:
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: b")  # half a head; the rest never comes
    time.sleep(1.0)
    closed = sum(read_response(sock, timeout=2) == b"" for sock in socks)
    assert closed == 100
    for sock in socks:
        sock.close()


async def test_a_slow_header_drip_does_not_reset_the_timer(bot):
    sock = connect(bot)
    sock.sendall(b"GET /healthz HTTP/1.1\r\n")
    started = time.monotonic()
    with pytest.raises((BrokenPipeError, ConnectionResetError)):
        for _ in range(40):  # one header byte every 0.1 s: each byte would cancel uvicorn's own timer
            sock.sendall(b"X")
            time.sleep(0.1)
    assert time.monotonic() - started < 2.0


async def test_keep_alive_requests_each_get_a_fresh_head_timer(bot):
    sock = connect(bot)
    for _ in range(3):
        time.sleep(0.3)  # less than the head timeout each time, more than it in total
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n")
        sock.settimeout(2)
        response = b""
        while not response.endswith(b'{"status":"ok"}'):
            response += sock.recv(65536)
        assert response.startswith(b"HTTP/1.1 200")
