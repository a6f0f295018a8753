"""GitHub listings: the pages a first page's `Link` names are asked for at once (pure rule,
table-driven), and against the stand-in: member pages 2 and 3 are in flight together, and the first
seat page's idle seats' emails are asked for while the second seat page is still coming; the figures
stay those of the seed."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from providers.github.api import MAX_PAGES, later_pages
from sandbox.standins.github_seed import copilot_truth
from tests.clocks import EventTime
from tests.providers import github_world
from tests.providers.github_world import FINE_ALL, NOW, ORG, PERIOD, make_world

served = github_world.served  # the fixture
BASE = "https://api.github.com/orgs/acme/members"


def first_page(link: str | None, url: str = f"{BASE}?per_page=100") -> httpx.Response:
    headers = {"Link": link} if link else {}
    return httpx.Response(200, json=[], headers=headers, request=httpx.Request("GET", url))


def link(next_page: int | str, last: int | str, host: str = "api.github.com") -> str:
    base = f"https://{host}/orgs/acme/members?per_page=100"
    return f'<{base}&page={next_page}>; rel="next", <{base}&page={last}>; rel="last"'


@pytest.mark.parametrize(
    "header,pages",
    [
        (link(2, 3), [2, 3]),
        (link(2, 2), [2]),
        (None, None),  # one page: no Link
        (f'<{BASE}?per_page=100&page=2>; rel="next"', None),  # no last: follow next
        (link(2, 3, host="evil.example"), None),  # another server: never sent the token at once
        (link(2, "x"), None),
        (link(3, 5), None),  # next is not page 2: not page-numbered as expected
        (link(2, MAX_PAGES + 1), None),  # not believed
    ],
)
def test_later_pages(header, pages):
    found = later_pages(first_page(header))
    if pages is None:
        assert found is None
    else:
        assert [int(httpx.URL(u).params["page"]) for u in found] == pages
        assert all(httpx.URL(u).params["per_page"] == "100" for u in found)


class Overlaps(httpx.AsyncBaseTransport):
    """Records, for each request, the requests in flight when it was sent (each waits a moment)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.flying, self.seen = inner, set(), []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        name = f"{request.url.path}?{request.url.query.decode()}"
        self.seen.append((name, set(self.flying)))
        self.flying.add(name)
        try:
            await asyncio.sleep(0.02)
            return await self.inner.handle_async_request(request)
        finally:
            self.flying.discard(name)


async def test_pages_and_emails_overlap_and_the_figures_stay_right(served):
    server, switch = served
    time = EventTime(NOW)
    overlaps = Overlaps(time.transport())
    async with httpx.AsyncClient(transport=overlaps) as http:
        world = make_world(server.url, http, [], time=time)
        switch.app = world.standin.app
        token = world.standin.add_fine_grained_token(world.owner, ORG, FINE_ALL)
        report = await world.collect(token)
    truth = copilot_truth(world.org, PERIOD.start_utc, PERIOD.end_utc)
    assert report.values()["members"] == truth.members == 300
    assert sorted(s.user_id for s in report.seats.inactive_paid_users) == list(truth.idle)

    def sent(part: str) -> list[tuple[str, set[str]]]:
        return [(name, flying) for name, flying in overlaps.seen if part in name]

    [(_, with_page_3)] = sent("/members?per_page=100&page=3")
    assert f"/orgs/{ORG}/members?per_page=100&page=2" in with_page_3  # pages 2 and 3 at once
    seat_page_2 = f"/orgs/{ORG}/copilot/billing/seats?per_page=100&page=2"
    assert any(seat_page_2 in flying for _, flying in sent("/users/"))  # emails while page 2 comes
