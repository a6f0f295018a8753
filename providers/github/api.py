"""How Quolum talks to GitHub's REST API: the headers every request carries, Link-header paging, and
what a token may do (scopes from `X-OAuth-Scopes` for classic tokens)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import httpx
import msgspec

from providers.github.entry import CLASSIC, HEADERS, KEY
from providers.http import Auth, ProviderError, ProviderHTTP
from providers.pagination import CursorGuard

PER_PAGE = 100  # GitHub's maximum

CLASSIC_PREFIXES = ("ghp_", "gho_", "ghu_")  # classic and OAuth tokens: scopes in X-OAuth-Scopes
FINE_GRAINED_PREFIX = "github_pat_"


async def get(
    http: ProviderHTTP,
    url: str,
    *,
    auth: Auth,
    account: str,
    params: Mapping[str, Any] | None = None,
    **kwargs,
) -> httpx.Response:
    return await http.request(
        "GET", url, auth=auth, account_key=account, params=params, headers=HEADERS, **kwargs
    )


def body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        raise ProviderError(
            f"GitHub answered {response.status_code} with a body that is not JSON.", provider=KEY
        ) from None


async def get_json(http: ProviderHTTP, url: str, *, auth: Auth, account: str, **kwargs) -> Any:
    return body(await get(http, url, auth=auth, account=account, **kwargs))


def next_url(response: httpx.Response) -> str | None:
    """The `Link` header's ``rel="next"`` (httpx parses the header)."""
    return (response.links.get("next") or {}).get("url")


async def pages(
    http: ProviderHTTP,
    url: str,
    *,
    auth: Auth,
    account: str,
    params: Mapping[str, Any] | None = None,
    items: Callable[[Any], list[Any]] = lambda page: list(page or []),
) -> AsyncIterator[tuple[Any, list[Any]]]:
    """Each page's body and items, following `Link: rel="next"` (never guessing page counts); a next
    link seen before raises `PaginationError` instead of looping."""
    guard = CursorGuard(KEY)
    response = await get(
        http, url, auth=auth, account=account, params={"per_page": PER_PAGE, **(params or {})}
    )
    while True:
        page = body(response)
        yield page, items(page)
        following = next_url(response)
        if not following:
            return
        guard.next(following)
        response = await get(http, following, auth=auth, account=account)


def classic_scopes(response: httpx.Response) -> tuple[str, ...] | None:
    """A classic token's scopes from `X-OAuth-Scopes`; None when GitHub sent no such header
    (a fine-grained token: its permissions must be probed)."""
    header = response.headers.get("x-oauth-scopes")
    if header is None:
        return None
    return tuple(sorted({s.strip() for s in header.split(",") if s.strip()}))


def permissions_of(scopes: tuple[str, ...]) -> set[str]:
    """The permissions (the entry's scope names) classic `scopes` give."""
    return {permission for scope in scopes for permission in CLASSIC.get(scope, ())}
