"""Zoom's hooks: the Server-to-Server OAuth exchange, verifying the pasted app, checking it hourly,
obtaining the hour-long token again (`renew`), failures, and the seat actions (downgrade to Basic).

A Server-to-Server OAuth app gives no refresh token: ``POST /oauth/token?grant_type=account_credentials
&account_id=…`` with HTTP Basic (client ID, client secret) answers a bearer for an hour and the scopes
it carries. The connection stores the three credentials (encrypted) and the current bearer under
`BEARER`; services/credentials.py calls `renew` before it expires and after a 401.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal

from core.clock import utcnow
from core.config import Settings
from core.reports import InactiveSeat
from core.seats import SeatOutcome, SeatResult
from providers.failures import Failure, Operation
from providers.http import (
    Auth,
    Bearer,
    MissingScopes,
    ProviderError,
    ProviderHTTP,
    TransientError,
    Unauthorized,
)
from providers.plugin import BEARER, Checked, Connection, ProviderSpec, Renewed, Verified
from providers.zoom.entry import (
    API_URL,
    KEY,
    LIGHT,
    MAX_FIELD,
    OAUTH_URL,
    READ_SCOPE,
    REPORT_SCOPE,
    SPEC,
    WRITE_SCOPE,
)
from providers.zoom.hosts import REPORT_SCOPES
from providers.zoom.policy import INVALID_TOKEN, MISSING_SCOPE, NO_SUCH_USER, classify
from providers.zoom.usage import ADMIN_ROLES, LICENSED, collect_zoom

BASIC = 1
VERIFY_ACCOUNT = "verify"  # rate-limit key before the account is known
# a scope and the granular scopes Zoom accepts in its place (apps created since 2024 list these)
EQUIVALENT = {
    READ_SCOPE: ("user:read:list_users:admin", "user:read:user:admin"),
    WRITE_SCOPE: ("user:update:user:admin",),
    REPORT_SCOPE: REPORT_SCOPES[1:],
}
FIELD_NAMES = {"account_id": "account ID", "client_id": "client ID", "client_secret": "client secret"}

WRONG_CREDENTIALS = (
    "Zoom did not accept this client ID and secret: copy both again from the app's App Credentials page."
)
NOT_ACTIVATED = (
    "Zoom says this app is not activated: activate it in the Zoom App Marketplace, then try again."
)
WRONG_ACCOUNT = (
    "Zoom says this app does not belong to that account ID: copy the account ID from the same app."
)
NO_READ = (
    f"The Zoom app cannot list users: give it the *{READ_SCOPE}* scope under Scopes, then connect again."
)
UNAVAILABLE = "Zoom is not answering right now; nothing was saved. Please try again in a few minutes."
FAILED = "Zoom refused to check the app; nothing was saved."

Kind = Literal["rejected", "unavailable", "failed"]


def granted(scopes: tuple[str, ...] | list[str], scope: str) -> bool:
    """The token may do what `scope` allows (itself, or its granular equivalents)."""
    return scope in scopes or any(s in scopes for s in EQUIVALENT.get(scope, ()))


def with_classic(scopes: tuple[str, ...]) -> tuple[str, ...]:
    """The token's scopes and the classic names its granular ones stand for (what the entry and the
    seat action name), sorted."""
    return tuple(sorted({*scopes, *(s for s in EQUIVALENT if granted(scopes, s))}))


def field_problem(name: str, value: str | None) -> str | None:
    """Why a pasted credential cannot be right (a sentence), before asking Zoom."""
    text = (value or "").strip()
    label = FIELD_NAMES.get(name, name)
    if not text:
        return f"Paste the app's {label} from its App Credentials page."
    if any(ch.isspace() for ch in text):
        return f"The {label} contains spaces or line breaks: copy it again, in one piece."
    if len(text) > MAX_FIELD:
        return f"This is longer than any Zoom {label}."
    return None


def verify_failure(error: ProviderError) -> Kind:
    if isinstance(error, TransientError) or error.status == 429:
        return "unavailable"
    if error.oauth_error in ("invalid_client", "invalid_request") or isinstance(
        error, Unauthorized | MissingScopes
    ):
        return "rejected"
    return "failed"


def failure_sentence(error: ProviderError) -> str:
    """The one sentence a failed verification means for the person who pasted the credentials."""
    reason = (error.message or "").lower()
    if error.oauth_error == "invalid_client":
        return NOT_ACTIVATED if "deactivated" in reason or "not activated" in reason else WRONG_CREDENTIALS
    if error.oauth_error == "invalid_request" and "account" in reason:
        return WRONG_ACCOUNT
    if error.category == MISSING_SCOPE:
        return NO_READ
    return UNAVAILABLE if verify_failure(error) == "unavailable" else FAILED


class _Basic:
    """`Auth` for the token exchange: HTTP Basic with the app's client ID and secret (scrubbed from any
    error by ProviderHTTP, as every auth header is). Nothing to refresh."""

    def __init__(self, client_id: str, secret: str) -> None:
        self._value = base64.b64encode(f"{client_id}:{secret}".encode()).decode()

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Basic {self._value}"}

    async def refresh(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "Basic([redacted])"


class ZoomHooks:
    """Zoom's hooks (providers/plugin.py `Hooks`)."""

    collect = staticmethod(collect_zoom)

    def __init__(
        self,
        http: ProviderHTTP,
        settings: Settings,
        *,
        timeout: float = 8.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.clock = clock
        self.http = http
        self.spec: ProviderSpec = SPEC
        self.api = (SPEC.setting(settings, API_URL) or SPEC.api_base_url).rstrip("/")
        self.oauth = (SPEC.setting(settings, OAUTH_URL) or "https://zoom.us").rstrip("/")
        self.timeout = timeout

    def classify(self, error: Exception, operation: Operation = "api") -> Failure:
        return classify(error, operation)

    def base_url(self, credentials: Mapping[str, Any]) -> str:
        return self.api

    def reachable_urls(self) -> list[str]:
        return [self.api, self.oauth]

    # --- the token ------------------------------------------------------------------------------
    async def exchange(self, credentials: Mapping[str, Any], account: str = VERIFY_ACCOUNT, **kwargs) -> dict:
        """A new access token for the stored (or pasted) app credentials: Zoom's answer, checked."""
        body = await self.http.post_json(
            f"{self.oauth}/oauth/token",
            None,
            auth=_Basic(str(credentials["client_id"]), str(credentials["client_secret"])),
            account_key=account,
            params={"grant_type": "account_credentials", "account_id": str(credentials["account_id"])},
            **kwargs,
        )
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise ProviderError("Zoom answered the token exchange without an access token.", provider=KEY)
        return body

    async def renew(self, credentials: Mapping[str, Any]) -> Renewed:
        """The hour-long bearer, obtained again (there is no refresh token)."""
        body = await self.exchange(credentials, str(credentials.get("account_id") or VERIFY_ACCOUNT))
        return Renewed(token=body["access_token"], expires_in=_int(body.get("expires_in")))

    async def access(self, credentials: Mapping[str, Any], account_key: str) -> list[str]:
        scopes = _scopes(await self.exchange(credentials, account_key))
        return [s for s in SPEC.required_scopes if not granted(scopes, s)]

    # --- the credential form --------------------------------------------------------------------
    def problem(self, name: str, value: str) -> str | None:
        return field_problem(name, value)

    def verify_failure(self, error: ProviderError) -> Kind:
        return verify_failure(error)

    def verify_message(self, error: ProviderError) -> str:
        return failure_sentence(error)

    async def verify_form(self, values: Mapping[str, str]) -> Verified:
        """Exchange the pasted credentials, read the scopes the token carries, and name the account by
        its owner when the token may read users. Raises `ProviderError` (`failure_sentence` says it)."""
        credentials = {name: (values.get(name) or "").strip() for name in FIELD_NAMES}
        quick = {"timeout": self.timeout, "max_retries": 1}  # a person is waiting
        body = await self.exchange(credentials, **quick)
        scopes = _scopes(body)
        owner: dict = {}
        if granted(scopes, READ_SCOPE):
            owner = await self.http.get_json(
                f"{self.api}{SPEC.verify_path}",
                auth=Bearer(body["access_token"]),
                account_key=credentials["account_id"],
                bucket=LIGHT,
                **quick,
            )
        email = str(owner.get("email") or "")
        missing = tuple(s for s in SPEC.required_scopes if not granted(scopes, s))
        return Verified(
            account_id=credentials["account_id"],
            account_name=email.partition("@")[2] or None,
            scopes=with_classic(scopes),
            missing=missing,
            missing_sentence=NO_READ if READ_SCOPE in missing else "",
            write_scopes=tuple(s for s in SPEC.reclaim.write_scope_names if granted(scopes, s)),
            details={"owner_email": email} if email else {},
            credentials={**credentials, BEARER: body["access_token"]},
            expires_in=_int(body.get("expires_in")),
        )

    # --- health ---------------------------------------------------------------------------------
    async def check(self, connection: Connection, auth: Auth, now: datetime) -> Checked:
        """Exchange the stored credentials (the app still exists, is active, and which scopes it has),
        then one Light read with the connection's own bearer."""
        try:
            scopes = _scopes(await self.exchange(connection.credentials, connection.account_key))
        except ProviderError as error:
            return Checked(self.classify(error, "refresh"), reason=str(error))
        lacking = tuple(s for s in SPEC.required_scopes if not granted(scopes, s))
        if not lacking:
            try:
                await self._get(f"{SPEC.verify_path}", auth, connection.account_key)
            except ProviderError as error:
                return Checked(self.classify(error), reason=str(error))
        return Checked(scopes=with_classic(scopes), unavailable=lacking)

    async def _get(self, path: str, auth: Auth, account: str) -> Any:
        return await self.http.get_json(f"{self.api}{path}", auth=auth, account_key=account, bucket=LIGHT)

    # --- seats ----------------------------------------------------------------------------------
    def protected(self, connection: Connection, seat: InactiveSeat) -> str | None:
        if seat.admin:
            return "is the Zoom account's owner or an admin"
        owner = str(connection.details.get("owner_email") or "").lower()
        if owner and (seat.email or "").lower() == owner:
            return "owns the Zoom account"
        return None

    async def reclaim(self, connection: Connection, auth: Auth, seat: InactiveSeat) -> SeatResult:
        """Downgrade a licensed user to Basic (`PATCH /v2/users/{id}` `{"type": 1}`): the account and
        its meetings stay, the licence is freed. A user no longer licensed is left alone."""
        who = seat.name or seat.email or seat.user_id
        try:
            user = await self._get(f"/v2/users/{seat.user_id}", auth, connection.account_key)
        except ProviderError as error:
            return _result(error, who)
        if user.get("type") != LICENSED:
            return SeatResult(SeatOutcome.GONE, f"{who} no longer holds a Zoom licence.", answer="200")
        return await self._set_type(connection, auth, seat.user_id, BASIC, who, downgrade=True)

    async def undo(
        self, connection: Connection, auth: Auth, seat: InactiveSeat, undo: Mapping[str, str]
    ) -> SeatResult:
        who = seat.name or seat.email or seat.user_id
        kind = int(undo.get("type") or LICENSED)
        return await self._set_type(
            connection, auth, undo.get("user_id") or seat.user_id, kind, who, downgrade=False
        )

    async def _set_type(
        self, connection: Connection, auth: Auth, user_id: str, kind: int, who: str, *, downgrade: bool
    ) -> SeatResult:
        try:
            await self.http.request(
                "PATCH",
                f"{self.api}/v2/users/{user_id}",
                auth=auth,
                account_key=connection.account_key,
                bucket=LIGHT,
                json={"type": kind},
            )
        except ProviderError as error:
            return _result(error, who)
        if downgrade:
            return SeatResult(
                SeatOutcome.DONE,
                f"Downgraded {who} to Basic in Zoom: the licence is free.",
                answer="204",
                undo={"user_id": user_id, "type": str(LICENSED)},
            )
        return SeatResult(SeatOutcome.DONE, f"Gave {who} their Zoom licence back.", answer="204")


def _result(error: ProviderError, who: str) -> SeatResult:
    answer = f"{error.status or 'no answer'} {error.category or ''}".strip()
    if error.category == NO_SUCH_USER or error.status == 404:
        return SeatResult(SeatOutcome.GONE, f"{who} no longer exists in Zoom.", answer=answer)
    if error.category == MISSING_SCOPE:
        return SeatResult(
            SeatOutcome.MISSING_SCOPE,
            f"The Zoom app may not change users (it lacks {WRITE_SCOPE}).",
            answer=answer,
        )
    if isinstance(error, TransientError) or error.status == 429 or error.category == INVALID_TOKEN:
        return SeatResult(
            SeatOutcome.FAILED, f"Zoom could not be asked to change {who}'s licence.", answer=answer
        )
    return SeatResult(SeatOutcome.REFUSED, f"Zoom refused to change {who}'s licence.", answer=answer)


def _scopes(body: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(body.get("scope") or "").split())


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and value > 0 else None


__all__ = ["ADMIN_ROLES", "ZoomHooks", "failure_sentence", "field_problem", "granted", "verify_failure"]
