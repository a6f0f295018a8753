"""How uvicorn serves the app: timeouts and limits so slow or stalled clients cannot hold the server.

uvicorn 0.54 times out only an idle keep-alive connection (`timeout_keep_alive`), and any byte the
client sends cancels that timer; nothing bounds the time a client takes to send a request's head, so
a connection that sends nothing, or one header byte a minute, stays open for ever. uvicorn offers no
setting for it, hence `HeadTimeoutH11Protocol` (its own H11 protocol plus one timer). The body's
deadline and size are `bot.web_security.BodyLimit`'s.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_TIMEOUT = 10.0  # seconds to send a request's line and headers, from connecting or the last response
BODY_TIMEOUT = 15.0  # seconds to send the body (BodyLimit)
KEEP_ALIVE = 5  # seconds an idle keep-alive connection is kept
MAX_CONNECTIONS = 1000  # uvicorn answers 503 past this many concurrent connections and tasks


class HeadTimeoutH11Protocol(H11Protocol):
    """Closes a connection whose next request head has not arrived `head_timeout` seconds after the
    connection opened or the previous response ended."""

    head_timeout = HEAD_TIMEOUT

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_cycle = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._note_new_request()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # may start a pipelined request
        if not self._note_new_request() and not self.transport.is_closing():
            self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _note_new_request(self) -> bool:
        """True (and the timer stopped) when a new request's head has arrived since the last look."""
        if self.cycle is not None and self.cycle is not self._head_cycle:
            self._head_cycle = self.cycle
            self._cancel_head_timer()
            return True
        return False

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def with_head_timeout(seconds: float) -> type[HeadTimeoutH11Protocol]:
    """The protocol with another head timeout (tests use a short one)."""
    return type("HeadTimeoutH11Protocol", (HeadTimeoutH11Protocol,), {"head_timeout": seconds})


def uvicorn_options(*, head_timeout: float = HEAD_TIMEOUT) -> dict:
    """The options `serve` gives uvicorn.Config (and the tests' server, so they test the same)."""
    return {
        "http": with_head_timeout(head_timeout) if head_timeout != HEAD_TIMEOUT else HeadTimeoutH11Protocol,
        "timeout_keep_alive": KEEP_ALIVE,
        "limit_concurrency": MAX_CONNECTIONS,
        "h11_max_incomplete_event_size": 16 * 1024,  # request line and headers
    }
