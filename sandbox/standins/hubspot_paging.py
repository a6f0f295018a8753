"""Paging and formatting helpers of the HubSpot stand-in's API: `limit` / `after` cursors as HubSpot
pages its v3 lists, and ISO 8601 timestamps with milliseconds."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from starlette.requests import Request

from sandbox.standins.hubspot_errors import ValidationError


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def int_param(request: Request, name: str, default: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise ValidationError(f"{name} must be an integer between 1 and {maximum}; got {raw!r}")
    return int(raw)


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith("o:") and text[2:].isdigit():
            return int(text[2:])
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise ValidationError(f"Invalid paging cursor: {cursor!r}")


def cursor_page(items: list, request: Request, default: int, maximum: int) -> tuple[list, dict | None]:
    limit = int_param(request, "limit", default, maximum)
    offset = decode_cursor(request.query_params.get("after"))
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return page, ({"next": {"after": encode_cursor(offset + limit)}} if more else None)


def listing(results: list[dict], paging: dict | None) -> dict:
    return {"results": results, "paging": paging} if paging else {"results": results}
