"""Async page iterators for the two paging styles our providers use.

Both are async generators that hold one page at a time (memory does not grow
with the number of pages) and yield each non-empty page's items as a list.
They stop, rather than loop forever, when a provider misbehaves: a cursor seen
again or the same page served twice raises `PaginationError`, because a
silently truncated list would make a seat count wrong.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from providers.http import ProviderError

# How many recent cursors the repeat guard remembers (keeps memory constant).
CURSOR_MEMORY = 100


class PaginationError(ProviderError):
    """The provider's paging went in circles."""


class CursorGuard:
    """Remembers the last `CURSOR_MEMORY` cursors of one listing; a repeat raises `PaginationError`."""

    def __init__(self, provider: str = "") -> None:
        self.provider = provider
        self._recent: deque[str] = deque()
        self._seen: set[str] = set()

    def next(self, cursor: str) -> str:
        """`cursor`, checked: the one to ask for next."""
        if cursor in self._seen:
            raise PaginationError(
                f"Paging repeated the cursor {cursor[:40]!r}; stopped to avoid an endless loop.",
                provider=self.provider,
            )
        self._recent.append(cursor)
        self._seen.add(cursor)
        if len(self._recent) > CURSOR_MEMORY:
            self._seen.discard(self._recent.popleft())
        return cursor


async def cursor_pages(
    fetch: Callable[[str | None], Awaitable[Mapping[str, Any]]],
    *,
    provider: str = "",
) -> AsyncIterator[list[Any]]:
    """HubSpot-style paging: ``fetch(after)`` returns ``{"results": [...], "paging": {"next": {"after": ...}}}``.

    The first call gets ``after=None``; iteration ends when ``paging.next`` is
    absent. A cursor repeated within the last `CURSOR_MEMORY` pages raises
    `PaginationError`.
    """
    after: str | None = None
    guard = CursorGuard(provider)
    while True:
        page = await fetch(after)
        results = page.get("results") or []
        if results:
            yield list(results)
        next_link = (page.get("paging") or {}).get("next") or {}
        cursor = next_link.get("after")
        if cursor in (None, ""):
            return
        after = guard.next(str(cursor))


async def offset_pages(
    fetch: Callable[[int, int], Awaitable[Sequence[Any]]],
    limit: int,
    *,
    provider: str = "",
) -> AsyncIterator[list[Any]]:
    """SendGrid-style paging: ``fetch(offset, limit)`` returns that page's items.

    Offsets advance by the number of items received; iteration ends on a page
    shorter than `limit` (there is no total). A page identical to the previous
    non-empty one (a provider ignoring `offset`) raises `PaginationError`.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    offset = 0
    previous: list[Any] | None = None
    while True:
        items = list(await fetch(offset, limit))
        if items and items == previous:
            raise PaginationError(
                f"Paging returned the same page again at offset {offset}; stopped to avoid an endless loop.",
                provider=provider,
            )
        if items:
            yield items
        if len(items) < limit:
            return
        previous = items
        offset += len(items)
