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


class _PromptServer(uvicorn.Server):
    """uvicorn's server, woken as soon as it is told to exit: uvicorn's own loop looks every 0.1 s, which
    every stop paid (several servers per test). Its ticks (the Date header, once a second) are kept."""

    async def main_loop(self) -> None:
        self.wake = asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), 0.1)
            should_exit = await self.on_tick(counter)

    def exit_soon(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self.should_exit = True
        if loop is not None and not loop.is_closed() and hasattr(self, "wake"):
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: it has stopped anyway
                loop.call_soon_threadsafe(self.wake.set)


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
        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            await self._server.serve(sockets=[self._sock])

        asyncio.run(serve())

    def start(self) -> ThreadedServer:
        """Serve `self.app` (which may be set after construction, once the port is known)."""
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan=self.lifespan, timeout_graceful_shutdown=1, **self.options
        )
        self._server = _PromptServer(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread.start()
        for _ in range(500):
            if self._server.started:
                return self
            if not self._thread.is_alive():
                raise RuntimeError("stand-in server failed to start")
            threading.Event().wait(0.01)
        raise RuntimeError("stand-in server did not start within 5 s")

    def stop(self) -> None:
        self._server.exit_soon(self._loop)
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
