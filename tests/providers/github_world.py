"""What the GitHub tests share: one real server per module pointed at each test's stand-in, a seeded
organisation, tokens, and the client built on one virtual clock (client, limiter and stand-in read it,
so retry waits and rate-limit windows take no real time; `EventTime` holds it still while a request is
in flight, so the stand-in counts each request at the instant the limiter booked it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from core.config import Settings
from core.periods import Period
from providers.github.client import GitHubClient
from providers.github.entry import POLICY, SPEC
from providers.http import Bearer, ProviderHTTP
from providers.plugin import BEARER, Connection
from providers.ratelimit import Limiter
from sandbox.standins.github import GitHubStandIn
from sandbox.standins.github_seed import Org, generate_org
from sandbox.standins.server import AppSwitch, serve_in_thread
from tests.clocks import EventTime, VirtualTime

NOW = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)
PERIOD = Period.last_days(30, timezone="UTC", today=NOW.date())
ORG = "acme-corp"
CLASSIC_READ = ["read:org"]
CLASSIC_ALL = ["read:org", "manage_billing:copilot"]
FINE_READ = {"members": "read", "organization_copilot_seat_management": "read"}
FINE_ALL = {"members": "read", "organization_copilot_seat_management": "write", "organization_plan": "read"}


@dataclass
class World:
    standin: GitHubStandIn
    org: Org
    url: str
    time: VirtualTime
    client: httpx.AsyncClient
    sent: list[httpx.Request]

    @property
    def owner(self) -> str:
        return next(m.login for m in self.org.members if m.role == "admin")

    @property
    def member(self) -> str:
        return next(m.login for m in self.org.members if m.role == "member")

    def http(self) -> ProviderHTTP:
        limiter = Limiter({SPEC.key: SPEC.limits}, clock=self.time.time, sleep=self.time.sleep)
        return ProviderHTTP(
            self.client, POLICY, limiter=limiter, sleep=self.time.sleep, clock=self.time.time, timeout=5
        )

    def hooks(self) -> GitHubClient:
        return GitHubClient(self.http(), Settings().with_overrides(github_api_url=self.url))

    def connection(self, token: str, **details) -> Connection:
        return Connection(
            id=1,
            account_id=str(self.org.id),
            credentials={BEARER: token, "org": self.org.login},
            details={"org": self.org.login, **details},
        )

    async def collect(self, token: str, scopes=None, period: Period = PERIOD):
        hooks = self.hooks()
        return await hooks.collect(
            hooks.http,
            Bearer(token),
            base_url=self.url,
            team_id="T1",
            account_id=str(self.org.id),
            account_name=self.org.login,
            period=period,
            scopes=scopes,
            clock=self.time.now,
        )


def make_world(
    url: str,
    client: httpx.AsyncClient,
    sent: list,
    org: Org | None = None,
    *,
    time: VirtualTime | None = None,
    **standin,
) -> World:
    time = time or VirtualTime(NOW)
    org = org or generate_org(7, login=ORG, now=NOW)
    github = GitHubStandIn(clock=time.time, **standin)
    github.add_org(org)
    return World(github, org, url, time, client, sent)


@pytest.fixture(scope="module")
def served():
    """One real server per test module, pointed at each test's stand-in."""
    switch = AppSwitch()
    with serve_in_thread(switch) as server:
        yield server, switch


@pytest.fixture
async def recording():
    """A client, the requests it sent, and the virtual clock its transport holds still in flight."""
    sent: list[httpx.Request] = []
    time = EventTime(NOW)

    async def record(request: httpx.Request) -> None:
        sent.append(request)

    async with httpx.AsyncClient(event_hooks={"request": [record]}, transport=time.transport()) as http:
        yield http, sent, time


def world_of(served, recording, org: Org | None = None, **standin) -> World:
    """A world on the module's server, its stand-in serving `org` (the default seed)."""
    (server, switch), (http, sent, time) = served, recording
    world = make_world(server.url, http, sent, org, time=time, **standin)
    switch.app = world.standin.app
    return world
