"""Serve an ASGI app on 127.0.0.1:<free port> in a background thread.

Stand-ins run in their own thread and event loop so that the code under test
talks to them over real sockets, exactly as it would talk to the real APIs.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator

import uvicorn


class ThreadedServer:
    """A uvicorn server bound to a pre-opened loopback socket on port 0."""

    def __init__(self, app, *, lifespan: str = "off", port: int = 0, **options) -> None:
        self.app = app
        self.options = options  # more uvicorn.Config options (the bot's server passes its own)
        self._sock = socket.socket(
            socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
        )  # TCP_NODELAY on accept
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.lifespan = lifespan
        self._thread = threading.Thread(target=self._run, name=f"standin-{self.port}", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self) -> ThreadedServer:
        """Serve `self.app` (which may be set after construction, once the port is known)."""
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan=self.lifespan, timeout_graceful_shutdown=1, **self.options
        )
        self._server = uvicorn.Server(config)
        self._thread.start()
        for _ in range(500):
            if self._server.started:
                return self
            if not self._thread.is_alive():
                raise RuntimeError("stand-in server failed to start")
            threading.Event().wait(0.01)
        raise RuntimeError("stand-in server did not start within 5 s")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._sock.close()


@contextlib.contextmanager
def serve_in_thread(app) -> Iterator[ThreadedServer]:
    server = ThreadedServer(app).start()
    try:
        yield server
    finally:
        server.stop()


class AppSwitch:
    """An ASGI app that forwards to whichever app it currently points at.

    A test module can serve one AppSwitch for all its tests (starting uvicorn per test costs time)
    and point it at each test's own stand-in."""

    def __init__(self) -> None:
        self.app = None

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)
