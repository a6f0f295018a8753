"""Socket Mode in the background: the HTTP server opens at once, the WebSocket follows when Slack answers.

slack_sdk's `connect()` retries forever inside the caller, logging a traceback every few seconds, so
awaiting it in the lifespan kept the HTTP port closed and the process deaf to SIGTERM while Slack was
unreachable. Here the first connection is made by a background task: `apps.connections.open`, then the
WebSocket, each attempt bounded by a timeout, retried with capped exponential backoff and one log line
per failure. Once connected, slack_sdk's own monitor reconnects (its messages are kept to one line too).

Each envelope gets the checks an HTTP request gets (bot/web.py): a payload of the wrong shape is acked
empty and logged, never handed to Bolt; a listener that fails before `ack()` gets the same answer as
over HTTP (`handlers.slack_request.failed_answer`), where Bolt's adapter would send no ack at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from handlers import slack_request

log = logging.getLogger("quolum.socket_mode")

FIRST_DELAY = 1.0
MAX_DELAY = 60.0
ATTEMPT_TIMEOUT = 20.0  # apps.connections.open plus the WebSocket handshake


class OneLine(logging.Filter):
    """slack_sdk logs reconnect failures with `logger.exception`: keep the message, drop the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            error = record.exc_info[1]
            record.msg = f"{record.getMessage()} ({type(error).__name__})"
            record.args = None
            record.exc_info = record.exc_text = None
        return True


def backoff(attempt: int, first: float = FIRST_DELAY, cap: float = MAX_DELAY) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, 4 ... capped)."""
    return min(cap, first * 2 ** (attempt - 1))


class SocketModeRunner:
    def __init__(self, bolt, app_token: str, *, first_delay: float = FIRST_DELAY) -> None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        sdk_log = logging.getLogger("quolum.socket_mode.sdk")
        if not any(isinstance(f, OneLine) for f in sdk_log.filters):
            sdk_log.addFilter(OneLine())
        self.handler = AsyncSocketModeHandler(bolt, app_token, logger=sdk_log, web_client=bolt.client)
        self.handler.client.socket_mode_request_listeners[:] = [self._handle]  # instead of Bolt's
        self.first_delay = first_delay
        self.connected = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def _handle(self, client, req: SocketModeRequest) -> None:
        payload = req.payload
        problem = slack_request.problem(payload) if isinstance(payload, dict) else "not a JSON object"
        if problem:
            log.info("malformed Socket Mode %s envelope: %s", req.type, problem)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        started = time.time()  # what Bolt's send_async_response measures from
        try:
            response = await run_async_bolt_app(self.handler.app, req)
        except Exception:  # a shape we did not foresee reached Bolt: a bug, but Slack gets its ack
            log.exception("Socket Mode %s envelope failed before it was acknowledged", req.type)
            response = None
        if response is None or response.status >= 500:
            _, answer = slack_request.failed_answer(payload)
            await client.send_socket_mode_response(
                SocketModeResponse(envelope_id=req.envelope_id, payload=answer)
            )
            return
        await send_async_response(client, req, response, started)

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._connect())

    async def _connect(self) -> None:
        client = self.handler.client
        attempt = 0
        while not client.closed:
            attempt += 1
            try:
                async with asyncio.timeout(ATTEMPT_TIMEOUT):
                    # apps.connections.open ourselves (slack_sdk's issue_new_wss_url logs a second line per
                    # failure); a ticket is good for one connection, so each attempt gets a new one
                    opened = await client.web_client.apps_connections_open(app_token=client.app_token)
                    client.wss_uri = opened["url"]
                    await client.connect()
                self.connected.set()
                log.info("socket mode connected to Slack after %d attempt(s)", attempt)
                return
            except SlackApiError as error:
                reason = f"Slack answered {error.response.get('error')}"
            except TimeoutError:
                reason = f"no connection within {ATTEMPT_TIMEOUT:.0f} s"
            except Exception as error:  # unreachable, refused, TLS: the class name says which
                reason = type(error).__name__
            delay = backoff(attempt, self.first_delay)
            log.warning(
                "socket mode: cannot connect to Slack (%s); attempt %d, retrying in %.0f s",
                reason,
                attempt,
                delay,
            )
            await asyncio.sleep(delay)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.handler.close_async()
