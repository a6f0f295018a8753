"""Structured logging: one JSON line per record, secrets redacted, one access line per request.

The redaction filter is the last line of defence, not the first: code never
formats a token into a message. It scrubs anything shaped like a Slack token
or a bearer header, `code=` and `state=` values (OAuth codes, Connect links),
Slack response URLs, the shapes each provider registers with `register_pattern`
(its entry's `secret_patterns`: API keys, refresh tokens), plus any value
registered with `register_secret` (client secrets, signing secret).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time

from core import metrics

SECRET_PATTERNS = [
    re.compile(r"xox[a-z]-[A-Za-z0-9-]{6,}"),  # Slack bot/user/refresh tokens
    re.compile(r"xapp-[A-Za-z0-9-]{6,}"),  # Slack app-level tokens
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    # query strings and forms, also URL-encoded once (a link inside a logged form or URL)
    re.compile(
        r"(?i)((?:access_token|refresh_token|client_secret|api_key|token|code|state)(?:=|%3D))[^&\s'\"\\]+"
    ),
    # JSON and Python-dict fields, also inside a JSON-escaped string (\"state\": \"...\")
    re.compile(
        r"(?i)(\\?[\"'](?:access_token|refresh_token|client_secret|api_key|token|bot_token|code|state"
        r"|response_url)\\?[\"']\s*:\s*\\?[\"'])[^\"'\\]+"
    ),
    # Slack's response_url and incoming webhooks are capability URLs: whoever has one can post
    re.compile(r"(?i)(hooks\.slack\.com/)[^\s'\"\\]+"),
    re.compile(r"(Sending a request - url: )[^\s,]+"),  # slack_sdk's DEBUG line, webhooks included
]
REDACTED = "[redacted]"
_registered: set[str] = set()


def register_pattern(pattern: str) -> None:
    """A credential shape a provider issues (case-insensitive), redacted wherever it appears."""
    if all(p.pattern != pattern for p in SECRET_PATTERNS):
        SECRET_PATTERNS.insert(2, re.compile(pattern, re.I))


def register_secret(value: str | None) -> None:
    if value and len(value) >= 6:
        _registered.add(value)


def redact(text: str) -> str:
    for secret in _registered:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + REDACTED, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            entry.update(fields)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        line = json.dumps(entry, default=str)
        # Access lines hold only fields we set (ids, status, timing; the path is scrubbed when logged):
        # no second redaction pass over the whole line, which was most of their cost.
        return line if record.name == access_log.name and not record.exc_info else redact(line)


def setup_logging(level: str = "INFO", stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries log request bodies and headers at DEBUG; keep them quiet even when we debug.
    for noisy in (
        "slack_sdk",
        "slack_bolt",
        "quolum.bolt",  # Bolt's logger for our app: at DEBUG it logs whole requests and responses
        "httpx",
        "httpcore",
        "aiosqlite",
        "asyncio",
        "apscheduler",
        "alembic",
    ):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("uvicorn.access").disabled = True  # our access line replaces it


# --- access log ---------------------------------------------------------------
request_info: contextvars.ContextVar[dict | None] = contextvars.ContextVar("request_info", default=None)
access_log = logging.getLogger("quolum.access")


def annotate(**fields) -> None:
    """Add fields (team, command, action, outcome...) to the current request's access line."""
    info = request_info.get()
    if info is not None:
        info.update({k: v for k, v in fields.items() if v is not None})


class AccessLogMiddleware:
    """Pure ASGI middleware: one structured line per HTTP request with latency and outcome."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        info: dict = {}
        token = request_info.set(info)
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            request_info.reset(token)
            elapsed = time.perf_counter() - start
            fields = {
                "method": scope["method"],
                "path": redact(scope["path"][:200]),  # the one field a client chooses freely
                "status": status["code"],
                "latency_ms": round(elapsed * 1000, 2),
                **info,
            }
            fields.setdefault("outcome", "ok" if status["code"] < 400 else "rejected")
            # the route's template, never the raw path (which a client chooses, and may carry a state)
            route = getattr(scope.get("route"), "path", None) or metrics.OTHER
            metrics.HTTP_REQUESTS.labels(route, scope["method"], str(fields["outcome"])).inc()
            metrics.HTTP_LATENCY.labels(route).observe(elapsed)
            if scope["path"] not in ("/healthz", "/readyz", "/metrics"):  # probes and scrapes
                access_log.info("request", extra={"fields": fields})
