"""One Slack Web API call: HTTP 200 with ``{"ok": true, …}`` or ``{"ok": false, "error": …}``.

`call` sends it through the provider's `ProviderHTTP` (which waits out HTTP 429 ``ratelimited`` for
its ``Retry-After``) and raises an ``ok: false`` answer as a `ProviderError` whose `category` is
Slack's code: `Unauthorized` for a revoked token (policy.REVOKED_CODES), `MissingScopes` for
``missing_scope`` (the scope Slack names in ``needed`` kept as `sub_category`). A rotated token that
expired (``token_expired``) is refreshed once through the connection's `Auth`.
"""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from providers.errors import MissingScopes, ProviderError, Unauthorized
from providers.http import Auth, ProviderHTTP
from providers.slack_seats.policy import MISSING_SCOPE, PROVIDER, REVOKED_CODES


def error_of(body: Any, method: str) -> ProviderError:
    """The `ProviderError` an ``ok: false`` answer means."""
    body = body if isinstance(body, dict) else {}
    code = str(body.get("error") or "unknown_error")
    message = f"Slack answered {method} with {code}"
    if code in REVOKED_CODES:
        return Unauthorized(message, provider=PROVIDER, status=401, category=code)
    if code == MISSING_SCOPE:
        needed = body.get("needed")
        return MissingScopes(
            f"{message} (needs {needed})" if needed else message,
            provider=PROVIDER,
            status=403,
            category=code,
            sub_category=str(needed) if needed else None,
        )
    return ProviderError(message, provider=PROVIDER, status=200, category=code)


async def answer(
    http: ProviderHTTP,
    auth: Auth | None,
    base_url: str,
    method: str,
    params: dict[str, Any],
    *,
    account: str,
    bucket: str | None,
    decode: type | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """The raw answer of one successful call (its headers carry `x-oauth-scopes`). `decode`: a Struct
    with `ok` (pages.py) the body is read into, once: only the fields read are built."""
    url = f"{base_url.rstrip('/')}/{method}"
    for attempt in (1, 2):
        response = await http.request(
            "GET", url, auth=auth, account_key=account, bucket=bucket, params=params, **kwargs
        )
        body = _body(response, decode)
        if decode is not None and getattr(body, "ok", False) is True:
            return response
        if decode is None and isinstance(body, dict) and body.get("ok") is True:
            return response
        if decode is not None and body is not None:
            body = msgspec.structs.asdict(body)
        error = error_of(body, method)
        if attempt == 1 and error.category == "token_expired" and auth is not None and await auth.refresh():
            continue
        raise error
    raise AssertionError("unreachable")


async def call(*args: Any, **kwargs: Any) -> Any:
    """The body of one successful call (`answer`'s arguments: a dict, or its `decode` Struct); raises
    as the module docstring says."""
    return _body(await answer(*args, **kwargs), kwargs.get("decode"))


def granted(response: httpx.Response) -> tuple[str, ...]:
    """The scopes of the token that made the call (Slack's `x-oauth-scopes` header)."""
    header = response.headers.get("x-oauth-scopes") or ""
    return tuple(sorted({s.strip() for s in header.split(",") if s.strip()}))


def _body(response: httpx.Response, decode: type | None = None) -> Any:
    """The decoded answer, once per response (msgspec: a 1,000-member page is most of a call's CPU);
    into `decode` when given, else a dict. An answer of another shape is None."""
    key = f"quolum_body:{decode.__name__ if decode else ''}"
    cached = response.extensions.get(key, _UNREAD)
    if cached is not _UNREAD:
        return cached
    try:
        if not response.content:
            body = None
        elif decode is None:
            body = msgspec.json.decode(response.content)
        else:
            body = msgspec.json.decode(response.content, type=decode)
    except (msgspec.DecodeError, msgspec.ValidationError):
        body = None
    response.extensions[key] = body
    return body


_UNREAD = object()
