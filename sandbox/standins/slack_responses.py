"""The Slack stand-in's Web API answers: HTTP 200 with `{"ok": true, ...}` or `{"ok": false, "error": ...}`."""

from __future__ import annotations

from starlette.responses import JSONResponse


def ok(**fields) -> JSONResponse:
    return JSONResponse({"ok": True, **fields})


def fail(error: str, *, messages: list[str] | None = None) -> JSONResponse:
    body: dict = {"ok": False, "error": error}
    if messages:
        body["response_metadata"] = {"messages": messages}
    return JSONResponse(body)
