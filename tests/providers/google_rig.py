"""What the Google tests share: the stand-in served once per module, a service account key made once
per session (RSA keys are slow to make), a seeded domain delegating to it, and the hooks pointed at it,
all on one injected clock."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from functools import cache

import httpx

from core.clock import FrozenClock
from core.config import Settings
from providers.google.client import GoogleHooks
from providers.google.entry import DIRECTORY, LICENSING, POLICY, REPORTS, SPEC
from providers.http import ProviderHTTP
from providers.plugin import BEARER, Connection
from providers.ratelimit import Limiter
from sandbox.standins.google import GoogleStandIn
from sandbox.standins.google_seed import Domain, generate_domain
from sandbox.standins.google_tokens import TokenAuthority

ALL = [DIRECTORY, LICENSING, REPORTS]
REQUIRED = [DIRECTORY, LICENSING]
ADMIN_EMAIL = "admin@acme.example"


@cache
def key_file() -> dict[str, str]:
    return TokenAuthority().create_key()


async def no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


@dataclass
class Google:
    standin: GoogleStandIn
    domain: Domain
    clock: FrozenClock
    url: str

    @property
    def key(self) -> dict[str, str]:
        return key_file()

    def delegate(self, scopes=ALL) -> None:
        self.standin.authority.delegate(self.domain.customer_id, self.key["client_id"], list(scopes))

    def values(self, **changes) -> dict[str, str]:
        return {
            "key": json.dumps(self.key, indent=2),
            "admin_email": ADMIN_EMAIL,
            "customer_id": "",
        } | changes

    def settings(self) -> Settings:
        return Settings().with_overrides(
            google_token_url=f"{self.url}/token",
            google_directory_api_url=self.url,
            google_licensing_api_url=self.url,
            google_reports_api_url=self.url,
        )

    def hooks(
        self, http: httpx.AsyncClient, *, sleep=no_sleep, limiter: Limiter | None = None
    ) -> GoogleHooks:
        limiter = limiter if limiter is not None else Limiter({SPEC.key: SPEC.limits})
        return GoogleHooks(
            ProviderHTTP(http, POLICY, limiter=limiter, sleep=sleep), self.settings(), clock=self.clock
        )

    def connection(self, verified, **details) -> Connection:
        return Connection(
            id=1,
            account_id=verified.account_id,
            credentials=dict(verified.credentials),
            scopes=tuple(verified.scopes),
            details={**verified.details, **details},
        )


def make_google(
    switch, url: str, *, n_users: int = 120, seed: int = 7, lag_days: int = 2, delegate=ALL
) -> Google:
    clock = FrozenClock()
    standin = GoogleStandIn(clock=clock, lag_days=lag_days)
    standin.authority.register(key_file())
    domain = standin.add_domain(generate_domain(seed, now=clock(), n_users=n_users))
    switch.app = standin.app
    google = Google(standin, domain, clock, url)
    google.delegate(delegate)
    return google


__all__ = ["ADMIN_EMAIL", "ALL", "BEARER", "REQUIRED", "Google", "make_google", "no_sleep"]
