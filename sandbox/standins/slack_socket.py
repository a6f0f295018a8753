"""The Socket Mode side of the Slack stand-in: Slack's WebSocket protocol, served on 127.0.0.1.

As Slack does it (https://docs.slack.dev/apis/events-api/using-socket-mode):

1. the app calls `apps.connections.open` with its app-level token (`xapp-...`, in the Authorization
   header) and gets `{"ok": true, "url": "wss://.../link/?ticket=...&app_id=..."}`; here the URL is
   `ws://127.0.0.1:<port>/link/?ticket=...&app_id=...` and each ticket opens one connection only;
2. on connecting the app is sent `{"type": "hello", "num_connections": n, "debug_info": {...},
   "connection_info": {"app_id": ...}}`;
3. then envelopes `{"envelope_id", "type": "slash_commands" | "interactive" | "events_api",
   "accepts_response_payload", "payload"}` (events also carry `retry_attempt` and `retry_reason`),
   each acknowledged by the app with `{"envelope_id": ..., "payload": {...}}` (the payload only where
   `accepts_response_payload` is true: a command's ack response);
4. Slack may send `{"type": "disconnect", "reason": "refresh_requested", "debug_info": {...}}`, after
   which the app opens a new connection.

Tests drive it from their own thread: `send_command`, `send_event`, `send_interactive` push an
envelope on the current connection and wait (with a timeout) for its acknowledgement, which they
return. Every connection and every acknowledgement is recorded.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.websockets import WebSocket

from sandbox.slack_requests import command_fields

if TYPE_CHECKING:
    from sandbox.standins.slack import SlackStandIn

APP_ID = "A0QUOLUM"
HOST = "applink-standin"
ACK_TIMEOUT = 5.0  # Slack wants the ack within 3 s; a little slack for a loaded CI machine


@dataclass
class Connection:
    """One WebSocket connection from the app, from `hello` to close."""

    number: int
    app_token: str = field(repr=False)
    websocket: WebSocket = field(repr=False)
    loop: asyncio.AbstractEventLoop = field(repr=False)
    acks: list[dict] = field(default_factory=list)
    close_code: int | None = None  # how it ended: 1000 when the app closed it cleanly, 1012 stand-in shutdown
    closed: threading.Event = field(default_factory=threading.Event)
    _pending: dict[str, concurrent.futures.Future] = field(default_factory=dict, repr=False)

    def send(self, message: dict, timeout: float = ACK_TIMEOUT) -> None:
        """Send one JSON text frame from any thread."""
        text = json.dumps(message)
        asyncio.run_coroutine_threadsafe(self.websocket.send_text(text), self.loop).result(timeout)

    def close(self, code: int = 1000, timeout: float = ACK_TIMEOUT) -> None:
        """Slack ends the connection (as it does some seconds after a `disconnect` message)."""
        asyncio.run_coroutine_threadsafe(self.websocket.close(code), self.loop).result(timeout)


class SocketModeServer:
    def __init__(self, standin: SlackStandIn) -> None:
        self._standin = standin
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._numbers = itertools.count(1)
        self.app_tokens: set[str] = set()
        self.revoked: set[str] = set()
        self._tickets: dict[str, str] = {}  # one-time ticket -> the app token it was issued to
        self.connections: list[Connection] = []  # every connection accepted, oldest first
        self.acks: list[dict] = []  # every ack, on any connection, in order
        self.rejected = 0  # connection attempts with an unknown, used or revoked ticket
        self.stray: list[dict] = []  # frames from the app that acknowledge no envelope we sent

    # --- test set-up -------------------------------------------------------
    def add_app_token(self) -> str:
        """Register a valid app-level token (connections:write) and return it."""
        token = f"xapp-1-{APP_ID}-{int(time.time())}-{secrets.token_hex(32)}"
        with self._lock:
            self.app_tokens.add(token)
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            self.revoked.add(token)

    # --- apps.connections.open -----------------------------------------------
    def check_app_token(self, token: str | None, *, in_header: bool) -> str | None:
        """The error `apps.connections.open` answers for this token, or None when it may connect."""
        if not token:
            return "not_authed"
        if token in self.revoked:
            return "token_revoked"
        if token in self._standin.tokens:
            return "not_allowed_token_type"  # a bot token: this method takes app-level tokens only
        if token not in self.app_tokens or not in_header:  # Slack: "passing it as a POST parameter ... error"
            return "invalid_auth"
        return None

    def issue_url(self, app_token: str) -> str:
        ticket = str(uuid.uuid4())
        with self._lock:
            self._tickets[ticket] = app_token
        base = self._standin.url.replace("http://", "ws://", 1)
        return f"{base}/link/?ticket={ticket}&app_id={APP_ID}"

    # --- the WebSocket endpoint ------------------------------------------------
    async def endpoint(self, websocket: WebSocket) -> None:
        ticket = websocket.query_params.get("ticket", "")
        with self._lock:
            token = self._tickets.pop(ticket, None)
            if token is None or token in self.revoked:
                self.rejected += 1
        if token is None or token in self.revoked:
            await websocket.close(code=1008)  # before accept(): the handshake is refused (HTTP 403)
            return
        await websocket.accept()
        with self._lock:
            live = sum(1 for c in self.connections if not c.closed.is_set() and c.app_token == token)
        await websocket.send_text(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": live + 1,
                    "debug_info": {"host": HOST, "build_number": 1, "approximate_connection_time": 18060},
                    "connection_info": {"app_id": APP_ID},
                }
            )
        )
        conn = Connection(next(self._numbers), token, websocket, asyncio.get_running_loop())
        with self._changed:
            self.connections.append(conn)
            self._changed.notify_all()
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    conn.close_code = message.get("code")
                    return
                self._received(conn, message.get("text") or (message.get("bytes") or b"").decode())
        finally:
            with self._changed:
                conn.closed.set()
                for future in conn._pending.values():
                    future.cancel()
                self._changed.notify_all()

    def _received(self, conn: Connection, text: str) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            frame = {"unparsable": text}
        with self._lock:
            future = conn._pending.pop(frame.get("envelope_id") or "", None)
            if future is None:
                self.stray.append(frame)
                return
            conn.acks.append(frame)
            self.acks.append(frame)
        future.set_result(frame)

    # --- what tests call ----------------------------------------------------
    def wait_connected(self, count: int = 1, timeout: float = 5.0) -> Connection:
        """Wait until `count` connections have been opened and the newest is open; return it."""
        with self._changed:
            ok = self._changed.wait_for(
                lambda: len(self.connections) >= count and not self.connections[-1].closed.is_set(),
                timeout,
            )
            if not ok:
                raise AssertionError(
                    f"the app did not open Socket Mode connection #{count} within {timeout} s "
                    f"({len(self.connections)} opened, {self.rejected} rejected)"
                )
            return self.connections[-1]

    @property
    def current(self) -> Connection:
        with self._lock:
            live = [c for c in self.connections if not c.closed.is_set()]
        if not live:
            raise AssertionError("the app has no open Socket Mode connection")
        return live[-1]

    def send_envelope(
        self,
        type_: str,
        payload: dict,
        *,
        accepts_response_payload: bool,
        timeout: float = ACK_TIMEOUT,
        **extra,
    ) -> dict:
        """Push one envelope on the current connection; return the app's ack (`{"envelope_id", ...}`)."""
        conn = self.current
        envelope_id = str(uuid.uuid4())
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            conn._pending[envelope_id] = future
        conn.send(
            {
                "envelope_id": envelope_id,
                "payload": payload,
                "type": type_,
                "accepts_response_payload": accepts_response_payload,
                **extra,
            }
        )
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            with self._lock:
                conn._pending.pop(envelope_id, None)
            raise AssertionError(f"no ack for {type_} envelope {envelope_id} within {timeout} s") from None
        except concurrent.futures.CancelledError:
            raise AssertionError(f"the connection closed before the {type_} envelope was acked") from None

    def send_command(
        self,
        text: str,
        *,
        team_id: str = "T0001",
        user_id: str = "U0001",
        channel_id: str = "C0001",
        command: str = "/quolum",
        response_url: str | None = None,
        trigger_id: str = "1.2.abc",
        timeout: float = ACK_TIMEOUT,
    ) -> dict:
        """A slash command: the same fields as the HTTP form, as strings; the ack carries the response."""
        payload = command_fields(
            text,
            team_id=team_id,
            user_id=user_id,
            channel_id=channel_id,
            command=command,
            response_url=response_url or self._standin.response_url(),
            trigger_id=trigger_id,
        )
        return self.send_envelope("slash_commands", payload, accepts_response_payload=True, timeout=timeout)

    def send_event(
        self,
        event: dict,
        *,
        team_id: str = "T0001",
        event_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = ACK_TIMEOUT,
    ) -> dict:
        """An Events API event wrapped in its event_callback, as over HTTP; the ack carries nothing."""
        payload = {
            "token": "deprecated-verification-token",
            "team_id": team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {"enterprise_id": None, "team_id": team_id, "user_id": "UBOT0001", "is_bot": True}
            ],
            "is_ext_shared_channel": False,
        }
        return self.send_envelope(
            "events_api",
            payload,
            accepts_response_payload=False,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
            timeout=timeout,
        )

    def send_interactive(self, payload: dict, *, timeout: float = ACK_TIMEOUT) -> dict:
        """An interactivity payload (block_actions, view_submission, ...) as the decoded `payload=` JSON."""
        accepts = payload.get("type") in ("view_submission", "block_suggestion")
        return self.send_envelope("interactive", payload, accepts_response_payload=accepts, timeout=timeout)

    def disconnect(self, reason: str = "refresh_requested") -> Connection:
        """Ask the app to reconnect, as Slack does before it drops a connection; return the old one."""
        conn = self.current
        conn.send({"type": "disconnect", "reason": reason, "debug_info": {"host": HOST}})
        return conn
