"""What the Slack seats tests share: the Slack stand-in served once per module (an AppSwitch), a
workspace seeded with members, guests, bots, billing and access logs, and the hooks pointed at it on
one injected clock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from core.clock import FrozenClock
from core.config import Settings
from core.periods import Period, parse_period, today_in
from providers.http import ProviderHTTP
from providers.plugin import BEARER, Connection
from providers.ratelimit import Limiter
from providers.slack_seats.client import SlackSeatsHooks
from providers.slack_seats.entry import SPEC
from providers.slack_seats.policy import POLICY
from sandbox.standins.server import AppSwitch, serve_in_thread
from sandbox.standins.slack import SlackStandIn, Workspace
from sandbox.standins.slack_seats_seed import seed_workspace

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
TEAM = "T0001"
ADMIN_USER = "U000100001"  # the seed's workspace admin (n == 1), who grants billing
OWNER = "U000100000"  # the seed's primary owner (n == 0)


@pytest.fixture(scope="module")
def served():
    """The stand-in's server, once per module; each test's stand-in is switched in (`make_slack`)."""
    switch = AppSwitch()
    with serve_in_thread(switch) as srv:
        yield switch, srv.url


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


@dataclass
class Slack:
    standin: SlackStandIn
    ws: Workspace
    clock: FrozenClock
    url: str

    def settings(self) -> Settings:
        return Settings(
            client_id=self.standin.client_id, client_secret=self.standin.client_secret
        ).with_overrides(slack_api_url=f"{self.url}/api/", slack_scim_url=self.url)

    def hooks(
        self, http: httpx.AsyncClient, *, sleep=no_sleep, limiter: Limiter | None = None
    ) -> SlackSeatsHooks:
        return SlackSeatsHooks(
            ProviderHTTP(http, POLICY, limiter=limiter, sleep=sleep), self.settings(), clock=self.clock
        )

    def period(self, text: str = "last-30-days") -> Period:
        return parse_period(text, timezone="UTC", today=today_in("UTC", self.clock()))

    def admin_token(self, **kwargs) -> str:
        return self.standin.grant_user_token(TEAM, ADMIN_USER, **kwargs)

    def connection(self, token: str, scopes=("users:read",), **details) -> Connection:
        return Connection(
            id=1,
            account_id=TEAM,
            credentials={BEARER: self.ws.bot_token, "access_token": token},
            scopes=tuple(scopes),
            details=details,
        )

    async def collect(self, hooks: SlackSeatsHooks, token: str, scopes, period: Period | None = None):
        from providers.http import Bearer

        return await hooks.collect(
            hooks.http,
            Bearer(token),
            base_url=hooks.base_url({}),
            team_id=TEAM,
            account_id=TEAM,
            account_name="Acme",
            period=period or self.period(),
            scopes=set(scopes) if scopes is not None else None,
            clock=self.clock,
        )


async def connect_with_billing(storage, standin: SlackStandIn, granter: str = ADMIN_USER) -> int:
    """Slack seats saved as connected in workspace T0001 (by U0001) with the bot token and `granter`'s
    user token from *Connect Slack billing* (`admin`; the OAuth steps are test_slack_seats_app.py's):
    the connection's id."""
    token = standin.grant_user_token(TEAM, granter)
    saved = await storage.connections.save_connected(
        team_id=TEAM,
        provider=SPEC.key,
        account_id=TEAM,
        account_name="Acme",
        credentials={BEARER: standin.workspaces[TEAM].bot_token, "access_token": token},
        connected_by="U0001",
        scopes=["admin", "users:read"],
        details={"billing_admin": granter},
    )
    return saved.record.id


def make_slack(
    switch, url: str, *, n_users: int = 80, seed: int = 7, plan: str = "business_plus", **kwargs
) -> Slack:
    standin = SlackStandIn()
    standin.url = url
    ws = standin.add_workspace(TEAM, "Acme")
    seed_workspace(standin, TEAM, now=NOW, n_users=n_users, seed=seed, plan=plan, **kwargs)
    switch.app = standin.app
    return Slack(standin, ws, FrozenClock(NOW), url)


__all__ = [
    "ADMIN_USER",
    "NOW",
    "OWNER",
    "SPEC",
    "TEAM",
    "Slack",
    "connect_with_billing",
    "http",
    "make_slack",
    "no_sleep",
    "served",
]
