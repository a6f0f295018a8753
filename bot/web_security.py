"""Two pure ASGI middlewares for every route: response security headers, and request-body limits.

Hand-written because each is a few lines over the ASGI interface and the libraries that do this
(secure.py, starlette-csrf ...) cover headers only, not Bolt's responses mounted beside ours.

- `SecurityHeaders` adds the header set below to every response, Bolt's (install, OAuth redirect,
  events) included: a CSP with no external source (our one inline style allowed by its hash), no
  framing, no sniffing, no referrer (the OAuth callback URL carries the code), no caching (OAuth
  pages), and HSTS when the bot's public URL is https.
- `BodyLimit` refuses a body declared larger than the limit at once (413, nothing read), counts a
  body of unknown length while it streams and stops at the limit, and gives the client a deadline
  for the whole body (408): uvicorn has no body-read timeout of its own.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time

from messages.pages import STYLE

log = logging.getLogger("quolum.web")

STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; img-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(*, https: bool) -> dict[str, str]:
    return {**HEADERS, "strict-transport-security": HSTS} if https else dict(HEADERS)


class SecurityHeaders:
    def __init__(self, app, *, https: bool) -> None:
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in security_headers(https=https).items()]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in self._names]
                message = {**message, "headers": headers + self.headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @property
    def _names(self) -> set[bytes]:
        return {k for k, _ in self.headers}


class _Refused(Exception):
    def __init__(self, status: int, text: str) -> None:
        self.status, self.text = status, text


class BodyLimit:
    def __init__(self, app, *, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = _content_length(scope)
        if declared == "invalid":
            return await _answer(send, 400, "Invalid Content-Length")
        if declared is not None and declared > self.max_bytes:
            return await _answer(send, 413, "Payload too large")
        state = {"received": 0, "complete": False, "started": False}
        deadline = time.monotonic() + self.timeout

        async def limited_receive():
            if state["complete"]:  # the body is in: waiting for a disconnect is not a body read
                return await receive()
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    message = await receive()
            except TimeoutError:
                raise _Refused(408, "Request body not received in time") from None
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max_bytes:
                    raise _Refused(413, "Payload too large")
                state["complete"] = not message.get("more_body", False)
            return message

        async def tracking_send(message):
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _Refused as refused:
            log.info("request body refused: %s", refused.text)
            if not state["started"]:
                await _answer(send, refused.status, refused.text)


def _content_length(scope) -> int | str | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else "invalid"
    return None


async def _answer(send, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})
