"""What the Zoom tests share: the stand-in served once per module, an app on its seeded account,
and the hooks pointed at it, all on one injected clock."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from core.clock import FrozenClock
from core.config import Settings
from providers.http import ProviderHTTP
from providers.plugin import BEARER, Connection
from providers.ratelimit import Limiter
from providers.zoom.client import ZoomHooks
from providers.zoom.entry import POLICY, SPEC
from sandbox.standins.zoom import ZoomStandIn
from sandbox.standins.zoom_seed import ZoomAccount, generate_account

READ = ["user:read:admin"]
READ_WRITE = ["user:read:admin", "user:write:admin"]


async def no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


@dataclass
class Zoom:
    standin: ZoomStandIn
    account: ZoomAccount
    clock: FrozenClock
    url: str

    def app(self, scopes=READ) -> dict[str, str]:
        client_id, secret = self.standin.add_app(self.account.account_id, list(scopes))
        return {"account_id": self.account.account_id, "client_id": client_id, "client_secret": secret}

    def hooks(
        self, http: httpx.AsyncClient, *, sleep=no_sleep, limiter: Limiter | None = None, clock=time.time
    ) -> ZoomHooks:
        settings = Settings().with_overrides(zoom_api_url=self.url, zoom_oauth_url=self.url)
        return ZoomHooks(ProviderHTTP(http, POLICY, limiter=limiter, sleep=sleep, clock=clock), settings)

    def connection(self, credentials: dict, token: str, **details) -> Connection:
        return Connection(
            id=1,
            account_id=self.account.account_id,
            credentials={**credentials, BEARER: token},
            details=details,
        )


def make_zoom(
    switch, url: str, *, n_users: int = 240, seed: int = 11, account: ZoomAccount | None = None
) -> Zoom:
    clock = FrozenClock()
    standin = ZoomStandIn(clock=clock)
    account = account or generate_account(seed, now=clock(), n_users=n_users)
    standin.add_account(account)
    switch.app = standin.app
    return Zoom(standin, account, clock, url)


__all__ = ["READ", "READ_WRITE", "SPEC", "Zoom", "make_zoom", "no_sleep"]
