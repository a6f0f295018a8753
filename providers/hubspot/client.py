"""HubSpot hooks the catalogue cannot express: the OAuth 2.0 code exchange, refresh,
introspection, revocation, and reading the portal after connecting.

All calls go through the shared ProviderHTTP layer. Token-endpoint calls are
retried once on a 5xx or a network failure (a code is short-lived: a person is
waiting) and never on a 4xx.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from core.config import Settings
from providers import failures
from providers.catalogue import HUBSPOT, ProviderSpec, resolve
from providers.http import MissingScopes, ProviderError, ProviderHTTP, TransientError


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


class HubSpotClient:
    def __init__(self, http: ProviderHTTP, settings: Settings) -> None:
        self.http = http
        self.spec: ProviderSpec = resolve(HUBSPOT, settings)
        self.client_id = settings.hubspot_client_id or ""
        self._client_secret = settings.hubspot_client_secret or ""
        self.version = settings.hubspot_oauth_version
        self.redirect_uri = f"{settings.public_url}/oauth/hubspot/callback"

    def authorize_url(self, state: str) -> str:
        query = {
            "client_id": self.client_id,
            "scope": " ".join(self.spec.required_scopes),
            "optional_scope": " ".join(self.spec.optional_scopes),
            "redirect_uri": self.redirect_uri,
            "state": state,
        }
        return f"{self.spec.authorize_url}?{urlencode(query, quote_via=quote)}"  # spaces as %20

    def _url(self, suffix: str = "") -> str:
        return f"{self.spec.api_base_url}/oauth/{self.version}/token{suffix}"

    async def _form(self, suffix: str, form: dict) -> dict:
        data = {"client_id": self.client_id, "client_secret": self._client_secret, **form}
        response = await self.http.request(
            "POST", self._url(suffix), auth=None, account_key="oauth", max_retries=1, data=data
        )
        return response.json() if response.content else {}

    async def exchange_code(self, code: str) -> TokenSet:
        body = await self._form(
            "", {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        )
        return _token_set(body)

    async def refresh(self, refresh_token: str) -> TokenSet:
        body = await self._form("", {"grant_type": "refresh_token", "refresh_token": refresh_token})
        return _token_set(body)

    async def revoke(self, refresh_token: str) -> None:
        await self._form("/revoke", {"token": refresh_token, "token_type_hint": "refresh_token"})

    async def portal(self, access_token: str) -> Portal:
        """Introspect the token (hub id, domain, installer) and read the account's details."""
        info = await self._form("/introspect", {"token": access_token, "token_type_hint": "access_token"})
        if not info.get("active"):
            raise ProviderError("HubSpot says the new access token is not active", provider="hubspot")
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


class BearerToken:
    """Auth for one fixed token (no refresh): used right after the code exchange."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    async def refresh(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "BearerToken(<redacted>)"


def classify(error: ProviderError, operation: str = "exchange") -> str:
    """'configuration' (our app is misconfigured), 'bad_code', 'revoked', 'unavailable' or 'other'."""
    if isinstance(error, TransientError):
        return "unavailable"
    kind = failures.classify(error, operation).kind  # type: ignore[arg-type]
    return "other" if kind in ("transient", "scope_lost") else kind


def revoked_reason(error: ProviderError) -> str:
    return failures.classify(error, "refresh").reason


def _token_set(body: dict) -> TokenSet:
    if not isinstance(body, dict) or not body.get("access_token"):
        raise ProviderError("HubSpot's token response had no access token", provider="hubspot")
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
