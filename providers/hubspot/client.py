"""HubSpot hooks the catalogue cannot express: the OAuth 2.0 code exchange, refresh,
introspection, revocation, and reading the portal after connecting.

All calls go through the shared ProviderHTTP layer. Token-endpoint calls are
retried once on a 5xx or a network failure (a code is short-lived: a person is
waiting) and never on a 4xx.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from core.clock import utcnow
from core.config import Settings
from core.reports import InactiveSeat
from core.seats import SeatResult
from providers import failures
from providers.failures import Failure, Operation
from providers.http import Auth, Bearer, MissingScopes, ProviderError, ProviderHTTP
from providers.hubspot import seat_actions
from providers.hubspot.entry import API_URL, AUTHORIZE_URL, KEY, OAUTH_VERSION_SETTING, SPEC
from providers.hubspot.usage import collect_hubspot
from providers.plugin import Account, Checked, Connection, ProviderSpec


@dataclass(frozen=True)
class TokenSet:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_in: int
    hub_id: str | None = None
    scopes: tuple[str, ...] = ()

    def credentials(self, previous_refresh_token: str | None = None) -> dict:
        """What we store (encrypted): keep the old refresh token when HubSpot sent none."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token or previous_refresh_token,
        }


@dataclass(frozen=True)
class Portal:
    hub_id: str
    domain: str
    installer: str | None
    installer_user_id: str | None
    scopes: tuple[str, ...]
    time_zone: str | None
    currency: str | None
    data_hosting: str | None
    ui_domain: str | None

    @property
    def details(self) -> dict:
        return {
            "hub_domain": self.domain,
            "installer": self.installer,
            "installer_user_id": self.installer_user_id,
            "time_zone": self.time_zone,
            "currency": self.currency,
            "data_hosting": self.data_hosting,
            "ui_domain": self.ui_domain,
        }


def resolve(settings: Settings) -> ProviderSpec:
    """The entry with the operator's URL overrides (stand-ins, EU hosting) applied."""
    oauth = replace(SPEC.oauth, authorize_url=SPEC.setting(settings, AUTHORIZE_URL) or "")
    return replace(SPEC, api_base_url=(SPEC.setting(settings, API_URL) or "").rstrip("/"), oauth=oauth)


class HubSpotClient:
    """HubSpot's hooks (providers/plugin.py `Hooks`): OAuth, the access check, collection, failures."""

    collect = staticmethod(collect_hubspot)

    def __init__(
        self, http: ProviderHTTP, settings: Settings, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.clock = clock
        self.http = http
        self.spec: ProviderSpec = resolve(settings)
        oauth = self.spec.oauth
        self.client_id = settings.value(oauth.client_id_setting) or ""
        self._client_secret = settings.value(oauth.client_secret_setting) or ""
        self.version = SPEC.setting(settings, OAUTH_VERSION_SETTING)
        self.redirect_uri = f"{settings.public_url}/oauth/{KEY}/callback"

    def authorize_url(self, state: str, write: bool = False) -> str:
        """The consent page; `write` (an admin turned reclaiming on) asks for the write scopes too."""
        scopes = self.spec.required_scopes + (list(self.spec.reclaim.write_scope_names) if write else [])
        query = {
            "client_id": self.client_id,
            "scope": " ".join(scopes),
            "optional_scope": " ".join(self.spec.optional_scopes),
            "redirect_uri": self.redirect_uri,
            "state": state,
        }
        return f"{self.spec.authorize_url}?{urlencode(query, quote_via=quote)}"  # spaces as %20

    def _url(self, path: str) -> str:
        return f"{self.spec.api_base_url}{path.format(version=self.version)}"

    async def _form(self, path: str, form: dict) -> dict:
        data = {"client_id": self.client_id, "client_secret": self._client_secret, **form}
        response = await self.http.request(
            "POST", self._url(path), auth=None, account_key="oauth", max_retries=1, data=data
        )
        return response.json() if response.content else {}

    async def exchange_code(self, code: str) -> TokenSet:
        body = await self._form(
            self.spec.oauth.token_path,
            {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri},
        )
        return _token_set(body)

    exchange = exchange_code

    async def refresh(self, refresh_token: str) -> TokenSet:
        body = await self._form(
            self.spec.oauth.token_path, {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )
        return _token_set(body)

    async def revoke(self, refresh_token: str) -> None:
        await self._form(
            self.spec.oauth.revoke_path, {"token": refresh_token, "token_type_hint": "refresh_token"}
        )

    async def portal(self, access_token: str) -> Portal:
        """Introspect the token (hub id, domain, installer) and read the account's details."""
        info = await self._form(
            self.spec.oauth.token_path + "/introspect",
            {"token": access_token, "token_type_hint": "access_token"},
        )
        if not info.get("active"):
            raise ProviderError("HubSpot says the new access token is not active", provider=KEY)
        details = await self.http.get_json(
            f"{self.spec.api_base_url}{self.spec.verify_path}",
            auth=BearerToken(access_token),
            account_key=str(info.get("hub_id")),
        )
        hub_id = str(info.get("hub_id") or details.get("portalId"))
        return Portal(
            hub_id=hub_id,
            domain=info.get("hub_domain") or details.get("uiDomain") or f"portal {hub_id}",
            installer=info.get("user"),
            installer_user_id=str(info["user_id"]) if info.get("user_id") is not None else None,
            scopes=tuple(info.get("scopes") or ()),
            time_zone=details.get("timeZone"),
            currency=details.get("companyCurrency"),
            data_hosting=details.get("dataHostingLocation"),
            ui_domain=details.get("uiDomain"),
        )

    async def account(self, access_token: str) -> Account:
        """After connecting: the portal (hub id, domain, time zone...)."""
        portal = await self.portal(access_token)
        return Account(portal.hub_id, portal.domain, portal.scopes, portal.details)

    def classify(self, error: Exception, operation: Operation = "api") -> Failure:
        return classify(error, operation)

    # --- seats (providers/hubspot/seat_actions.py) ------------------------------------------------
    def protected(self, connection: Connection, seat: InactiveSeat) -> str | None:
        return seat_actions.protected(connection, seat)

    async def reclaim(self, connection: Connection, auth: Auth, seat: InactiveSeat) -> SeatResult:
        return await seat_actions.reclaim(self, connection, auth, seat)

    async def undo(
        self, connection: Connection, auth: Auth, seat: InactiveSeat, undo: Mapping[str, str]
    ) -> SeatResult:
        return await seat_actions.undo(self, connection, auth, seat, undo)

    def base_url(self, credentials: Mapping[str, Any]) -> str:
        return self.spec.api_base_url

    def reachable_urls(self) -> list[str]:
        return [self.spec.api_base_url]

    async def access(self, credentials: Mapping[str, Any], account_key: str) -> list[str]:
        await self.http.get_json(
            f"{self.spec.api_base_url}{self.spec.verify_path}",
            auth=BearerToken(credentials["access_token"]),
            account_key=account_key,
        )
        return []

    async def check(self, connection: Connection, auth: Auth, now: datetime) -> Checked:
        """Read one user and one owner (each needs a required scope); a 401 that survives one
        refresh is `revoked`, a 403 MISSING_SCOPES the scope lost."""
        try:
            lost = await probe(self, auth, connection.account_key)
        except ProviderError as error:
            return Checked(self.classify(error, "api"))
        if lost:
            return Checked(Failure("scope_lost", f"the `{lost}` permission was removed", feature=lost))
        return Checked()


# The cheapest reads that prove access, one per required feature: (scope, path, query).
HEALTH_PROBES = (
    ("settings.users.read", "/settings/v3/users/", {"limit": 1}),
    ("crm.objects.owners.read", "/crm/v3/owners", {"limit": 1}),
)


async def probe(client: HubSpotClient, auth, account_key: str) -> str | None:
    """Prove the connection's access (a 401 that survives one refresh raises `Unauthorized`); returns
    the first scope whose read answers 403 MISSING_SCOPES, else None."""
    for scope, path, params in HEALTH_PROBES:
        try:
            await client.http.get_json(
                f"{client.spec.api_base_url}{path}", auth=auth, account_key=account_key, params=params
            )
        except MissingScopes:
            return scope
    return None


BearerToken = Bearer  # right after the code exchange: the new access token, no refresh


# HubSpot's codes for an account that is gone, said in its words.
REVOKED_REASONS = {
    "BAD_HUB": "the HubSpot account was deleted or disconnected",
    "access_denied": "the HubSpot account was deleted or disconnected",
}


def classify(error: Exception, operation: Operation = "api") -> Failure:
    """HubSpot's reading of a failure (providers/failures.py, with its own revocation sentences)."""
    return failures.classify(
        error, operation, provider_name=SPEC.display_name, revoked_reasons=REVOKED_REASONS
    )


def _token_set(body: dict) -> TokenSet:
    if not isinstance(body, dict) or not body.get("access_token"):
        raise ProviderError("HubSpot's token response had no access token", provider=KEY)
    scopes = body.get("scopes") or body.get("scope") or ()
    if isinstance(scopes, str):
        scopes = scopes.split()
    return TokenSet(
        access_token=body["access_token"],
        refresh_token=body.get("refresh_token"),
        expires_in=int(body.get("expires_in") or 1800),
        hub_id=str(body["hub_id"]) if body.get("hub_id") is not None else None,
        scopes=tuple(scopes),
    )
