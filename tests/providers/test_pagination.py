"""Cursor and offset page iterators."""

from __future__ import annotations

import pytest

from providers.http import ProviderError
from providers.pagination import PaginationError, cursor_pages, offset_pages


def cursor_fetcher(pages: dict[str | None, dict]):
    calls: list[str | None] = []

    async def fetch(after: str | None) -> dict:
        calls.append(after)
        return pages[after]

    return fetch, calls


async def collect(pages) -> list[list]:
    return [page async for page in pages]


async def test_cursor_pages_follow_paging_next_after_until_it_is_absent():
    fetch, calls = cursor_fetcher(
        {
            None: {"results": [1, 2], "paging": {"next": {"after": "a", "link": "..."}}},
            "a": {"results": [3, 4], "paging": {"next": {"after": "b"}}},
            "b": {"results": [5]},
        }
    )

    assert await collect(cursor_pages(fetch)) == [[1, 2], [3, 4], [5]]
    assert calls == [None, "a", "b"]


@pytest.mark.parametrize(
    "last_page",
    [
        {"results": [], "paging": {}},
        {"results": [], "paging": {"next": None}},
        {"results": []},
        {"paging": {"next": {"after": ""}}},
    ],
)
async def test_cursor_pages_stop_without_a_next_cursor_and_skip_empty_pages(last_page):
    fetch, calls = cursor_fetcher(
        {None: {"results": [1], "paging": {"next": {"after": "x"}}}, "x": last_page}
    )

    assert await collect(cursor_pages(fetch)) == [[1]]
    assert calls == [None, "x"]


async def test_cursor_pages_are_fetched_lazily():
    fetch, calls = cursor_fetcher(
        {
            None: {"results": [1], "paging": {"next": {"after": "a"}}},
            "a": {"results": [2]},
        }
    )
    pages = cursor_pages(fetch)

    assert await anext(pages) == [1]
    assert calls == [None]
    await pages.aclose()


async def test_a_repeated_cursor_raises_instead_of_looping_forever():
    fetch, calls = cursor_fetcher(
        {
            None: {"results": [1], "paging": {"next": {"after": "a"}}},
            "a": {"results": [2], "paging": {"next": {"after": "b"}}},
            "b": {"results": [3], "paging": {"next": {"after": "a"}}},  # cycle b -> a
        }
    )
    seen = []

    with pytest.raises(PaginationError, match="repeated the cursor") as caught:
        async for page in cursor_pages(fetch, provider="hubspot"):
            seen.append(page)

    assert seen == [[1], [2], [3]] and calls == [None, "a", "b"]
    assert isinstance(caught.value, ProviderError) and caught.value.provider == "hubspot"


async def test_a_cursor_that_never_changes_raises():
    async def fetch(after):
        return {"results": [1], "paging": {"next": {"after": "same"}}}

    with pytest.raises(PaginationError):
        await collect(cursor_pages(fetch))


def offset_fetcher(items: list, *, ignore_offset: bool = False):
    calls: list[tuple[int, int]] = []

    async def fetch(offset: int, limit: int) -> list:
        calls.append((offset, limit))
        start = 0 if ignore_offset else offset
        return items[start : start + limit]

    return fetch, calls


async def test_offset_pages_stop_on_a_short_page():
    fetch, calls = offset_fetcher(list(range(7)))

    assert await collect(offset_pages(fetch, 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert calls == [(0, 3), (3, 3), (6, 3)]


async def test_offset_pages_on_an_exact_multiple_end_with_one_empty_fetch():
    fetch, calls = offset_fetcher(list(range(6)))

    assert await collect(offset_pages(fetch, 3)) == [[0, 1, 2], [3, 4, 5]]
    assert calls == [(0, 3), (3, 3), (6, 3)]


async def test_offset_pages_of_nothing():
    fetch, calls = offset_fetcher([])

    assert await collect(offset_pages(fetch, 500)) == []
    assert calls == [(0, 500)]


async def test_a_provider_ignoring_the_offset_is_caught():
    fetch, calls = offset_fetcher(list(range(10)), ignore_offset=True)

    with pytest.raises(PaginationError, match="same page"):
        await collect(offset_pages(fetch, 3, provider="sendgrid"))

    assert len(calls) == 2


async def test_offset_pages_reject_a_silly_limit():
    fetch, _ = offset_fetcher([1])

    with pytest.raises(ValueError):
        await collect(offset_pages(fetch, 0))
