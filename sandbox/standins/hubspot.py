"""A local stand-in for HubSpot's HTTP API (OAuth and the read APIs Quolum Bot uses).

Serve it with `serve_in_thread(standin.app)`; its URL is both the authorize
base (`<url>/oauth/authorize`) and the API base (`<url>/oauth/2026-03/token`,
`<url>/crm/v3/...`). Portals come from `hubspot_seed.generate_portal`.

    standin = HubSpotStandIn(clock=fake_clock)
    standin.add_portal(generate_portal(1, portal_id=101, start=..., end=...))
    with serve_in_thread(standin.app) as server:
        tokens = standin.issue_tokens(101, ["oauth", "settings.users.read"])
        httpx.get(f"{server.url}/settings/v3/users/",
                  headers={"Authorization": f"Bearer {tokens['access_token']}"})

The clock (seconds since the epoch) drives token and code expiry, the login
history window and the rate-limit windows: tests move it instead of sleeping.
Pass it at construction; the rate limiter keeps the one it was given.

Routes live in hubspot_oauth.py (consent page, token endpoints) and
hubspot_crm.py (API routes, rate limits, CRM search).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

from sandbox.standins.faults import FaultInjector
from sandbox.standins.hubspot_crm import RateLimiter, api_routes
from sandbox.standins.hubspot_oauth import TokenStore, correlation_id, oauth_routes
from sandbox.standins.hubspot_seed import PortalData


class HubSpotStandIn:
    def __init__(
        self,
        *,
        client_id: str = "test-client-id",
        client_secret: str = "test-client-secret",
        expires_in: int = 1800,
        clock: Callable[[], float] = time.time,
        rotate_refresh_tokens: bool = False,
        app_name: str = "Quolum Bot",
        app_id: int = 4_242_424,
    ) -> None:
        self._lock = threading.RLock()
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self.app_name = app_name
        self.app_id = app_id
        self.faults = FaultInjector()
        # Login history order: HubSpot does not document one. "newest" (what it is seen to do),
        # "oldest" or "shuffled" (the same shuffle on every page).
        self.login_order = "newest"
        # Benchmarks only: answers of successful reads kept by request (portal, method, path, query,
        # body) and served again as they are. Valid while the seed does not change and no answer
        # depends on the time (a seed younger than the 90 days of login history); None: off.
        self.response_cache: dict | None = None
        self.limiter = RateLimiter(clock)
        self._portals: dict[int, PortalData] = {}
        self._next_install_portal: int | None = None
        self._deny_next = False
        self._grant_optional: set[str] | None = None
        self._registered_redirect_uris: set[str] | None = None
        self._token_requests: list[dict] = []
        self.legacy_status = True  # False: token errors carry `category` and no legacy `status`
        self.withheld_scopes: set[str] = set()  # scopes the consent page no longer grants
        self.tokens = TokenStore(
            self._lock, clock, self._portals, client_id, client_secret, expires_in, rotate_refresh_tokens
        )
        self.app = self._build_app()

    def _build_app(self) -> Starlette:
        async def not_found(request: Request, exc: Exception) -> JSONResponse:
            status = getattr(exc, "status_code", 404)
            message = "Resource not found" if status == 404 else "Method not allowed"
            body = {"status": "error", "message": message, "correlationId": correlation_id()}
            return JSONResponse(body | {"category": "OBJECT_NOT_FOUND"} if status == 404 else body, status)

        app = Starlette(
            routes=oauth_routes() + api_routes(), exception_handlers={404: not_found, 405: not_found}
        )
        app.state.standin = self
        return app

    # --- portals ---------------------------------------------------------------------------

    def add_portal(self, portal: PortalData) -> None:
        with self._lock:
            self._portals[portal.portal_id] = portal

    @property
    def portals(self) -> dict[int, PortalData]:
        """A snapshot (portal id -> data); the PortalData objects themselves are live."""
        with self._lock:
            return dict(self._portals)

    def install_target(self) -> PortalData | None:
        """The portal the consent page installs into."""
        with self._lock:
            if self._next_install_portal is not None:
                return self._portals.get(self._next_install_portal)
            return next(iter(self._portals.values()), None)

    # --- knobs (read and written from the test thread) -------------------------------------

    @property
    def next_install_portal(self) -> int | None:
        with self._lock:
            return self._next_install_portal

    @next_install_portal.setter
    def next_install_portal(self, portal_id: int | None) -> None:
        with self._lock:
            self._next_install_portal = portal_id

    @property
    def deny_next(self) -> bool:
        with self._lock:
            return self._deny_next

    @deny_next.setter
    def deny_next(self, value: bool) -> None:
        with self._lock:
            self._deny_next = value

    def take_deny_next(self) -> bool:
        """True once after `deny_next` was set: the next consent decision is a denial."""
        with self._lock:
            denied, self._deny_next = self._deny_next, False
            return denied

    @property
    def grant_optional(self) -> set[str] | None:
        """Optional scopes the account can grant; None (default) grants every one requested."""
        with self._lock:
            return None if self._grant_optional is None else set(self._grant_optional)

    @grant_optional.setter
    def grant_optional(self, scopes: Iterable[str] | None) -> None:
        with self._lock:
            self._grant_optional = None if scopes is None else set(scopes)

    def granted_optional(self, requested: list[str]) -> list[str]:
        allowed = self.grant_optional
        return [s for s in requested if allowed is None or s in allowed]

    @property
    def registered_redirect_uris(self) -> set[str] | None:
        """The app's redirect URLs; None (default) accepts any redirect_uri."""
        with self._lock:
            return None if self._registered_redirect_uris is None else set(self._registered_redirect_uris)

    @registered_redirect_uris.setter
    def registered_redirect_uris(self, uris: Iterable[str] | None) -> None:
        with self._lock:
            self._registered_redirect_uris = None if uris is None else set(uris)

    @property
    def expires_in(self) -> int:
        with self._lock:
            return self.tokens.expires_in

    @expires_in.setter
    def expires_in(self, seconds: int) -> None:
        with self._lock:
            self.tokens.expires_in = seconds

    @property
    def rotate_refresh_tokens(self) -> bool:
        with self._lock:
            return self.tokens.rotate_refresh_tokens

    @rotate_refresh_tokens.setter
    def rotate_refresh_tokens(self, value: bool) -> None:
        with self._lock:
            self.tokens.rotate_refresh_tokens = value

    # --- what happened ---------------------------------------------------------------------

    def record_token_request(self, grant_type: str | None) -> None:
        with self._lock:
            self._token_requests.append({"grant_type": grant_type, "at": self.clock()})

    @property
    def token_requests(self) -> list[dict]:
        """One {"grant_type", "at"} per POST to the token endpoint (failed ones included)."""
        with self._lock:
            return [dict(r) for r in self._token_requests]

    @property
    def revoked(self) -> list[str]:
        """Refresh tokens revoked through the revoke endpoint or an uninstall."""
        with self._lock:
            return list(self.tokens.revoked)

    @property
    def rate_limit_violations(self) -> int:
        """429s answered because a client went over a limit (injected faults not counted)."""
        return self.limiter.violations

    # --- test helpers ----------------------------------------------------------------------

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (API calls answer 401 EXPIRED_AUTHENTICATION)."""
        self.tokens.expire_access_tokens()

    def uninstall(self, portal_id: int) -> None:
        """The customer removed the app: refresh tokens answer invalid_grant, access tokens 401."""
        self.tokens.uninstall(portal_id)

    def revoke_portal(self, portal_id: int) -> None:
        """The account is deleted/disconnected: its refresh tokens answer BAD_HUB, its access tokens 401."""
        self.tokens.revoke_portal(portal_id)

    def issue_tokens(self, portal_id: int, scopes: Iterable[str]) -> dict:
        """A connection without the browser flow: the token endpoint's 200 body."""
        return self.tokens.issue(portal_id, list(scopes))
