"""OAuth state of the HubSpot stand-in: authorization codes, connections and tokens, and the token
endpoint's errors.

`TokenStore` holds codes, connections (one per install, keyed by its current
refresh token) and access tokens. It is guarded by the stand-in's lock because
tests read and change it from their own thread while the server thread serves.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.responses import JSONResponse

from sandbox.standins.hubspot_errors import correlation_id
from sandbox.standins.hubspot_model import PortalData

CODE_TTL_SECONDS = 60
TOKEN_USE = "user"  # present in HubSpot's token responses; its values are not documented


class OAuthError(Exception):
    """A token-endpoint error: HTTP 400 with HubSpot's `status` and the OAuth `error`."""

    def __init__(self, status: str, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description

    def response(self, version: str = "v1", *, legacy_status: bool = True) -> JSONResponse:
        """v1/v3: the OAuth fields plus HubSpot's legacy `status`. Date-versioned endpoints (2026-03 on)
        also carry `category` (required by the 2026-03 spec) and `links`; `status` is kept only for
        backward compatibility, so 2026-09 (and 2026-03 with `legacy_status=False`) leave it out."""
        body = {"error": self.error, "error_description": self.description, "message": self.description}
        if version[:1].isdigit():
            body["category"] = self.category
            body["links"] = {"knowledge-base": "https://developers.hubspot.com/docs/api/oauth"}
            legacy_status = legacy_status and version < "2026-09"
        if legacy_status:
            body["status"] = self.status
        body["correlationId"] = correlation_id()
        return JSONResponse(body, status_code=400)

    @property
    def category(self) -> str:
        return "INVALID_AUTHENTICATION" if self.error == "invalid_client" else "VALIDATION_ERROR"


def bad_grant_type() -> OAuthError:
    return OAuthError("BAD_GRANT_TYPE", "unsupported_grant_type", "missing or unknown grant type")


def bad_refresh_token() -> OAuthError:
    return OAuthError("BAD_REFRESH_TOKEN", "invalid_grant", "refresh token is invalid, expired or revoked")


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    portal_id: int
    user_id: int
    scopes: list[str]
    expires_at: float
    used: bool = False


@dataclass
class Connection:
    """One install of the app into one portal; survives refresh-token rotation."""

    portal_id: int
    user_id: int
    scopes: list[str]
    client_id: str
    refresh_token: str
    revoked: bool = False  # refresh token revoked (revoke endpoint, uninstall)
    hub_revoked: bool = False  # account deleted / disconnected: refresh answers BAD_HUB


@dataclass
class AccessToken:
    token: str
    connection: Connection
    expires_at: float
    revoked: bool = False

    @property
    def valid(self) -> bool:
        return not (self.revoked or self.connection.revoked or self.connection.hub_revoked)


@dataclass
class TokenStore:
    lock: threading.RLock
    clock: Callable[[], float]
    portals: dict[int, PortalData]
    client_id: str
    client_secret: str
    expires_in: int
    rotate_refresh_tokens: bool
    codes: dict[str, AuthCode] = field(default_factory=dict)
    connections: dict[str, Connection] = field(default_factory=dict)  # by current refresh token
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    revoked: list[str] = field(default_factory=list)

    # --- codes and grants -----------------------------------------------------------------

    def new_code(self, redirect_uri: str, portal_id: int, user_id: int, scopes: list[str]) -> str:
        code = str(uuid.uuid4())
        with self.lock:
            self.codes[code] = AuthCode(
                code,
                self.client_id,
                redirect_uri,
                portal_id,
                user_id,
                scopes,
                self.clock() + CODE_TTL_SECONDS,
            )
        return code

    def grant(self, form: dict[str, str]) -> dict:
        grant_type = form.get("grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise bad_grant_type()
        self.check_client(form)
        with self.lock:
            if grant_type == "authorization_code":
                return self._exchange_code(form)
            return self._refresh(form)

    def check_client(self, form: dict[str, str]) -> None:
        if form.get("client_id") != self.client_id:
            raise OAuthError("BAD_CLIENT_ID", "invalid_client", "missing or unknown client id")
        if form.get("client_secret") != self.client_secret:
            raise OAuthError("BAD_CLIENT_SECRET", "invalid_client", "missing or invalid client secret")

    def _exchange_code(self, form: dict[str, str]) -> dict:
        code = self.codes.get(form.get("code", ""))
        if code is None or code.used or code.client_id != form.get("client_id"):
            raise OAuthError("BAD_AUTH_CODE", "invalid_grant", "missing or unknown auth code")
        if self.clock() >= code.expires_at:
            raise OAuthError("EXPIRED_AUTH_CODE", "invalid_grant", "auth code is expired")
        if form.get("redirect_uri") != code.redirect_uri:
            raise OAuthError(
                "BAD_REDIRECT_URI",
                "invalid_grant",
                "redirect_uri does not match the initial authorization request",
            )
        code.used = True
        return self._connect(code.portal_id, code.user_id, code.scopes)

    def _refresh(self, form: dict[str, str]) -> dict:
        connection = self.connections.get(form.get("refresh_token", ""))
        if connection is None or connection.revoked:
            raise bad_refresh_token()
        if connection.hub_revoked:
            raise OAuthError("BAD_HUB", "access_denied", "the HubSpot account is deleted or disconnected")
        if self.rotate_refresh_tokens:
            del self.connections[connection.refresh_token]
            connection.refresh_token = self._new_refresh_token(connection.portal_id)
            self.connections[connection.refresh_token] = connection
        return self._token_response(connection)

    def _connect(self, portal_id: int, user_id: int, scopes: list[str]) -> dict:
        connection = Connection(
            portal_id, user_id, list(scopes), self.client_id, self._new_refresh_token(portal_id)
        )
        self.connections[connection.refresh_token] = connection
        return self._token_response(connection)

    def issue(self, portal_id: int, scopes: list[str]) -> dict:
        with self.lock:
            return self._connect(portal_id, self.portals[portal_id].installer_user_id, scopes)

    def _new_refresh_token(self, portal_id: int) -> str:
        portal = self.portals.get(portal_id)
        region = portal.data_hosting_location if portal else "na1"
        return f"{region}-{uuid.uuid4()}"

    def _token_response(self, connection: Connection) -> dict:
        token = AccessToken("C" + secrets.token_urlsafe(96), connection, self.clock() + self.expires_in)
        self.access_tokens[token.token] = token
        return {
            "access_token": token.token,
            "refresh_token": connection.refresh_token,
            "expires_in": self.expires_in,
            "token_type": "bearer",
            "token_use": TOKEN_USE,
            "hub_id": connection.portal_id,
            "user_id": connection.user_id,
            "scopes": list(connection.scopes),
        }

    # --- lookups, introspection, revocation -----------------------------------------------

    def lookup(self, token: str) -> AccessToken | None:
        with self.lock:
            return self.access_tokens.get(token)

    def introspect(self, token: str, app_id: int) -> dict:
        with self.lock:
            access = self.access_tokens.get(token)
            if access is not None:
                remaining = int(access.expires_at - self.clock())
                if not access.valid or remaining <= 0:
                    return {"active": False}
                return self._introspection(access.connection, app_id, "access") | {"expires_in": remaining}
            connection = self.connections.get(token)
            if connection is None or connection.revoked or connection.hub_revoked:
                return {"active": False}
            return self._introspection(connection, app_id, "refresh")

    def _introspection(self, connection: Connection, app_id: int, token_type: str) -> dict:
        portal = self.portals.get(connection.portal_id)
        user = next((u for u in portal.users if u.id == connection.user_id), None) if portal else None
        return {
            "active": True,
            "hub_id": connection.portal_id,
            "hub_domain": portal.domain if portal else None,
            "user": user.email if user else None,
            "user_id": connection.user_id,
            "scopes": list(connection.scopes),
            "app_id": app_id,
            "client_id": connection.client_id,
            "token_type": token_type,
            "token_use": TOKEN_USE,
        }

    def revoke(self, token: str) -> None:
        with self.lock:
            connection = self.connections.get(token)
            if connection is not None and not connection.revoked:
                connection.revoked = True
                self.revoked.append(token)
            elif token in self.access_tokens:
                self.access_tokens[token].revoked = True

    def live(self, portal_id: int | None = None) -> int:
        with self.lock:
            return sum(
                1
                for c in self.connections.values()
                if not (c.revoked or c.hub_revoked) and portal_id in (None, c.portal_id)
            )

    def revoke_refresh_token(self, token: str) -> bool:
        """The v1 `DELETE /oauth/v1/refresh-tokens/{token}`: False for a token HubSpot does not know."""
        with self.lock:
            connection = self.connections.get(token)
            if connection is None:
                return False
            if not connection.revoked:
                connection.revoked = True
                self.revoked.append(token)
            return True

    def uninstall(self, portal_id: int) -> None:
        with self.lock:
            for connection in self.connections.values():
                if connection.portal_id == portal_id and not connection.revoked:
                    connection.revoked = True
                    self.revoked.append(connection.refresh_token)

    def revoke_portal(self, portal_id: int) -> None:
        with self.lock:
            for connection in self.connections.values():
                if connection.portal_id == portal_id:
                    connection.hub_revoked = True

    def expire_access_tokens(self) -> None:
        with self.lock:
            now = self.clock()
            for token in self.access_tokens.values():
                token.expires_at = min(token.expires_at, now)
