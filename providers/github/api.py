"""How Quolum talks to GitHub's REST API: the headers every request carries, Link-header paging, and
what a token may do (scopes from `X-OAuth-Scopes` for classic tokens)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import httpx
import msgspec

from providers.github.entry import CLASSIC, HEADERS, KEY
from providers.http import Auth, ProviderError, ProviderHTTP
from providers.pagination import CursorGuard

PER_PAGE = 100  # GitHub's maximum
MAX_PAGES = 1000  # a `last` page beyond this is not believed: the pages are followed one by one

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


def later_pages(response: httpx.Response) -> list[str] | None:
    """Pages 2 to the last, when the first page's `Link` names them by number (``rel="next"`` is page 2,
    ``rel="last"`` page n, both on the server that answered): GitHub's own count, not a guess. None
    otherwise (follow ``next`` one page at a time)."""
    links = response.links
    following, last = (links.get("next") or {}).get("url"), (links.get("last") or {}).get("url")
    if not following or not last:
        return None
    following, last = httpx.URL(following), httpx.URL(last)
    origin = response.request.url
    if any(
        (u.scheme, u.host, u.port) != (origin.scheme, origin.host, origin.port) for u in (following, last)
    ):
        return None
    try:
        count = int(last.params.get("page") or "")
    except ValueError:
        return None
    if following.params.get("page") != "2" or not 2 <= count <= MAX_PAGES:
        return None
    return [str(last.copy_set_param("page", str(n))) for n in range(2, count + 1)]


async def pages(
    http: ProviderHTTP,
    url: str,
    *,
    auth: Auth,
    account: str,
    params: Mapping[str, Any] | None = None,
    items: Callable[[Any], list[Any]] = lambda page: list(page or []),
) -> AsyncIterator[tuple[Any, list[Any]]]:
    """Each page's body and items, in order. When the first page's `Link` says how many there are
    (`later_pages`), the others are asked for at once (the limiter keeps them within GitHub's limits);
    otherwise `Link: rel="next"` is followed, and a next link seen before raises `PaginationError`
    instead of looping."""
    guard = CursorGuard(KEY)
    response = await get(
        http, url, auth=auth, account=account, params={"per_page": PER_PAGE, **(params or {})}
    )
    if (urls := later_pages(response)) is not None:
        requests = [asyncio.ensure_future(get(http, u, auth=auth, account=account)) for u in urls]
        try:
            page = body(response)
            yield page, items(page)
            for request in requests:
                page = body(await request)
                yield page, items(page)
        finally:  # one failed, or the reader stopped: the others are not left running
            for request in requests:
                request.cancel()
            await asyncio.gather(*requests, return_exceptions=True)
        return
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
