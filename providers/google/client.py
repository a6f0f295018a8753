"""Google Workspace's hooks: the JWT-bearer exchange, verifying the pasted key, the hourly check, the
hour-long token obtained again (`renew`), failures, and the seat actions (seats.py).

Domain-wide delegation is all or nothing per request: the token endpoint answers `unauthorized_client`
when any scope asked for is not delegated. So verifying asks for every scope at once and, when refused,
for each scope alone, to say which are missing (one sentence each, naming the Admin console page).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal

from core.clock import utcnow
from core.config import Settings
from core.reports import InactiveSeat
from core.seats import SeatResult
from providers.failures import Failure, Operation
from providers.google import seats
from providers.google.assertion import GRANT_TYPE, KeyProblem, ServiceAccountKey, parse_key
from providers.google.entry import (
    ADMIN,
    DEFAULTS,
    DELEGATION_PAGE,
    DIRECTORY,
    DIRECTORY_URL,
    KEY,
    LICENSING,
    LICENSING_URL,
    MAX_FIELD,
    MY_CUSTOMER,
    REPORTS_URL,
    SPEC,
    TOKEN_URL,
)
from providers.google.policy import FORBIDDEN, INVALID_GRANT, UNAUTHORIZED_CLIENT, classify
from providers.google.usage import collect_google
from providers.http import Auth, Bearer, ProviderError, ProviderHTTP, TransientError
from providers.plugin import BEARER, Checked, Connection, Renewed, Verified

VERIFY_ACCOUNT = "verify"  # rate-limit key before the customer is known
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
CUSTOMER = re.compile(r"C[0-9a-z]{6,16}", re.I)
ALL_SCOPES = tuple(s.name for s in SPEC.scopes)

NO_ADMIN = "Type the email of a super admin of the domain: Quolum reads the directory as them."
BAD_ADMIN = "This is not an email address: type the super admin's email, like admin@example.com."
BAD_CUSTOMER = (
    "A customer ID looks like C01abc234 (Admin console → Account → Account settings), or leave it empty."
)
KEY_UNKNOWN = (
    "Google does not accept this key: it was deleted, or is not this service account's. Create a new JSON "
    "key and paste the whole file."
)
NO_SUCH_ADMIN = (
    "Google knows no user {admin} in a domain that delegated to this service account: check the email."
)
CLOCK = "Google refused the key's signing time: this server's clock is wrong."
NO_DELEGATION = (
    "The service account's client ID {client_id} has no domain-wide delegation for Quolum's scopes: add it "
    f"at {DELEGATION_PAGE} with the scopes listed above."
)
NOT_ADMIN = "{admin} is not an administrator of the domain: type a super admin's email."
OTHER_CUSTOMER = "{admin} belongs to customer {actual}, not {given}: leave the customer ID empty, or fix it."
MISSING = (
    "Domain-wide delegation of client ID {client_id} lacks {scope}: add it at Admin console → Security → "
    f"API controls → Domain-wide delegation ({DELEGATION_PAGE}), then connect again."
)
UNAVAILABLE = "Google is not answering right now; nothing was saved. Please try again in a few minutes."
FAILED = "Google refused to check the service account; nothing was saved."
ADMIN_DEMOTED = "the admin Quolum acts as is no longer an administrator of the domain"

Kind = Literal["rejected", "unavailable", "failed"]


class NotAdmin(ProviderError):
    """The admin the key acts as may not read the directory (403 forbidden)."""


class OtherCustomer(ProviderError):
    """The customer ID typed is not the admin's."""


def field_problem(name: str, value: str | None) -> str | None:
    """Why a pasted value cannot be right (a sentence), before asking Google."""
    text = (value or "").strip()
    if name == "key":
        try:
            parse_key(text)
        except KeyProblem as problem:
            return str(problem)
        return None
    if name == "admin_email":
        if not text:
            return NO_ADMIN
        return None if len(text) <= MAX_FIELD and EMAIL.fullmatch(text) else BAD_ADMIN
    if name == "customer_id":
        return None if not text or text == MY_CUSTOMER or CUSTOMER.fullmatch(text) else BAD_CUSTOMER
    return None


def missing_sentences(client_id: str, scopes: tuple[str, ...]) -> list[str]:
    """One sentence per scope the delegation lacks, naming the Admin console page."""
    return [MISSING.format(client_id=client_id, scope=scope) for scope in scopes]


def verify_failure(error: ProviderError) -> Kind:
    if isinstance(error, TransientError) or error.status == 429:
        return "unavailable"
    if error.oauth_error in (INVALID_GRANT, UNAUTHORIZED_CLIENT) or isinstance(
        error, NotAdmin | OtherCustomer
    ):
        return "rejected"
    return "failed"


def failure_sentence(error: ProviderError, admin: str = "", client_id: str = "") -> str:
    """The one sentence a failed verification means for the person who pasted the key."""
    if isinstance(error, NotAdmin | OtherCustomer):
        return error.message
    reason = (error.message or "").lower()
    if error.oauth_error == INVALID_GRANT:
        if "email" in reason or "user id" in reason:
            return NO_SUCH_ADMIN.format(admin=admin)
        return CLOCK if "iat" in reason or "timeframe" in reason else KEY_UNKNOWN
    if error.oauth_error == UNAUTHORIZED_CLIENT:
        return NO_DELEGATION.format(client_id=client_id)
    return UNAVAILABLE if verify_failure(error) == "unavailable" else FAILED


class GoogleHooks:
    """Google Workspace's hooks (providers/plugin.py `Hooks`). `clock`: when assertions are signed."""

    def __init__(
        self,
        http: ProviderHTTP,
        settings: Settings,
        *,
        timeout: float = 8.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.http = http
        self.spec = SPEC
        url = {name: (SPEC.setting(settings, name) or DEFAULTS[name]).rstrip("/") for name in DEFAULTS}
        self.token_url, self.directory = url[TOKEN_URL], url[DIRECTORY_URL]
        self.licensing, self.reports = url[LICENSING_URL], url[REPORTS_URL]
        self.timeout = timeout
        self.clock = clock

    async def collect(self, http: ProviderHTTP, auth: Auth, **kwargs: Any):
        return await collect_google(
            http, auth, licensing_url=self.licensing, reports_url=self.reports, **kwargs
        )

    def classify(self, error: Exception, operation: Operation = "api") -> Failure:
        return classify(error, operation)

    def base_url(self, credentials: Mapping[str, Any]) -> str:
        return self.directory

    def reachable_urls(self) -> list[str]:
        return list(dict.fromkeys([self.token_url, self.directory, self.licensing, self.reports]))

    # --- the token ---------------------------------------------------------------------------------
    async def exchange(
        self, key: ServiceAccountKey, admin: str, scopes: tuple[str, ...], account: str, **kwargs
    ) -> dict:
        """An access token for `scopes`, acting as `admin`: Google's answer, checked."""
        assertion = key.assertion(admin, scopes, int(self.clock().timestamp()))
        response = await self.http.request(
            "POST",
            self.token_url,
            auth=None,
            account_key=account,
            data={"grant_type": GRANT_TYPE, "assertion": assertion},
            **kwargs,
        )
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise ProviderError("Google answered the token request without an access token.", provider=KEY)
        return body

    async def delegated(
        self, key: ServiceAccountKey, admin: str, scopes: tuple[str, ...], account: str, **kwargs
    ) -> tuple[tuple[str, ...], dict | None]:
        """The scopes of `scopes` delegated to the key's client, and a token for them (None: none is).
        Raises for anything but `unauthorized_client` (a wrong key, admin or clock; Google down)."""
        try:
            return scopes, await self.exchange(key, admin, scopes, account, **kwargs)
        except ProviderError as error:
            if error.oauth_error != UNAUTHORIZED_CLIENT or len(scopes) == 1:
                if error.oauth_error == UNAUTHORIZED_CLIENT:
                    return (), None
                raise
        alone = await asyncio.gather(*(self.delegated(key, admin, (s,), account, **kwargs) for s in scopes))
        granted = tuple(s for s, (ok, _) in zip(scopes, alone, strict=True) if ok)
        if not granted:
            return (), None
        return granted, await self.exchange(key, admin, granted, account, **kwargs)

    async def renew(self, credentials: Mapping[str, Any]) -> Renewed:
        """The hour-long bearer, obtained again with the scopes granted at connect (there is no refresh
        token). An optional scope whose delegation was removed is dropped rather than failing."""
        key, admin = parse_key(str(credentials["key"])), str(credentials["admin_email"])
        account = str(credentials.get("customer_id") or VERIFY_ACCOUNT)
        stored = tuple(credentials.get("scopes") or SPEC.required_scopes)
        try:
            body = await self.exchange(key, admin, stored, account)
        except ProviderError as error:
            required = tuple(s for s in stored if s in SPEC.required_scopes)
            if error.oauth_error != UNAUTHORIZED_CLIENT or required == stored:
                raise
            body = await self.exchange(key, admin, required, account)
        return Renewed(token=body["access_token"], expires_in=_int(body.get("expires_in")))

    # --- the credential form -----------------------------------------------------------------------
    def problem(self, name: str, value: str) -> str | None:
        return field_problem(name, value)

    def verify_failure(self, error: ProviderError) -> Kind:
        return verify_failure(error)

    async def verify_form(self, values: Mapping[str, str]) -> Verified:
        """Ask for every scope (then each alone when refused), read the admin's own record (their
        customer, that they are an admin). Raises `ProviderError` (`failure_sentence` says it)."""
        raw = (values.get("key") or "").strip()
        try:
            key = parse_key(raw)
        except KeyProblem as problem:
            raise ProviderError(str(problem), provider=KEY) from None
        admin = (values.get("admin_email") or "").strip().lower()
        given = (values.get("customer_id") or "").strip() or MY_CUSTOMER
        quick = {"timeout": self.timeout, "max_retries": 1}  # a person is waiting
        granted, body = await self.delegated(key, admin, ALL_SCOPES, VERIFY_ACCOUNT, **quick)
        if body is None:
            raise ProviderError(
                UNAUTHORIZED_CLIENT, provider=KEY, status=401, oauth_error=UNAUTHORIZED_CLIENT
            )
        customer = given if given != MY_CUSTOMER else admin.partition("@")[2]
        if DIRECTORY in granted:
            customer = await self._admin_customer(body["access_token"], admin, given, **quick)
        missing = tuple(s.name for s in SPEC.scopes if s.name not in granted)
        return Verified(
            account_id=customer,
            account_name=admin.partition("@")[2] or None,
            scopes=granted,
            missing=tuple(s for s in SPEC.required_scopes if s not in granted),
            write_scopes=(LICENSING,) if LICENSING in granted else (),
            details={
                "admin_email": admin,
                "client_id": key.client_id,
                "service_account": key.client_email,
                "delegation_missing": missing_sentences(key.client_id, missing),
            },
            credentials={
                "key": raw,
                "admin_email": admin,
                "customer_id": customer,
                "scopes": list(granted),
                BEARER: body["access_token"],
            },
            expires_in=_int(body.get("expires_in")),
            missing_sentence=" ".join(missing_sentences(key.client_id, missing)),
        )

    async def _admin_customer(self, token: str, admin: str, given: str, **kwargs) -> str:
        """The admin's customer ID, checking they may read the directory and belong to `given`."""
        try:
            me = await self.http.get_json(
                f"{self.directory}/admin/directory/v1/users/{admin}",
                auth=Bearer(token),
                account_key=VERIFY_ACCOUNT,
                bucket=ADMIN,
                **kwargs,
            )
        except ProviderError as error:
            if error.category == FORBIDDEN:
                raise NotAdmin(NOT_ADMIN.format(admin=admin), provider=KEY, status=403) from None
            raise
        actual = str((me or {}).get("customerId") or "")
        if given != MY_CUSTOMER and actual and given != actual:
            message = OTHER_CUSTOMER.format(admin=admin, actual=actual, given=given)
            raise OtherCustomer(message, provider=KEY, status=400)
        return actual or given

    # --- health ------------------------------------------------------------------------------------
    async def check(self, connection: Connection, auth: Auth, now: datetime) -> Checked:
        """Ask for the stored scopes (each alone when refused: which delegation was removed), then read
        the admin's own record with the connection's bearer (still an administrator)."""
        credentials = connection.credentials
        try:
            key = parse_key(str(credentials["key"]))
            stored = tuple(credentials.get("scopes") or SPEC.required_scopes)
            granted, body = await self.delegated(
                key, str(credentials["admin_email"]), stored, connection.account_key
            )
        except ProviderError as error:
            return Checked(self.classify(error, "refresh"), reason=str(error))
        lacking = tuple(s for s in stored if s not in granted)
        if body is None or all(s in lacking for s in SPEC.required_scopes):
            failure = self.classify(
                ProviderError(UNAUTHORIZED_CLIENT, provider=KEY, status=401, oauth_error=UNAUTHORIZED_CLIENT)
            )
            return Checked(failure, reason="no scope is delegated any more")
        if DIRECTORY in granted:
            try:
                await self.http.get_json(
                    f"{self.directory}/admin/directory/v1/users/{credentials['admin_email']}",
                    auth=auth,
                    account_key=connection.account_key,
                    bucket=ADMIN,
                )
            except ProviderError as error:
                if error.category == FORBIDDEN:
                    return Checked(Failure("revoked", ADMIN_DEMOTED, code=FORBIDDEN), reason=str(error))
                return Checked(self.classify(error), reason=str(error))
        return Checked(scopes=granted, unavailable=lacking)

    async def access(self, credentials: Mapping[str, Any], account_key: str) -> list[str]:
        """`doctor`: the required scopes the delegation lacks (raises when the key does not work)."""
        key = parse_key(str(credentials["key"]))
        granted, _ = await self.delegated(key, str(credentials["admin_email"]), ALL_SCOPES, account_key)
        return [s for s in SPEC.required_scopes if s not in granted]

    # --- seats -------------------------------------------------------------------------------------
    def protected(self, connection: Connection, seat: InactiveSeat) -> str | None:
        return seats.protected(connection, seat)

    async def reclaim(self, connection: Connection, auth: Auth, seat: InactiveSeat) -> SeatResult:
        return await seats.reclaim(self.http, self.licensing, connection, auth, seat)

    async def undo(
        self, connection: Connection, auth: Auth, seat: InactiveSeat, undo: Mapping[str, str]
    ) -> SeatResult:
        return await seats.undo(self.http, self.licensing, connection, auth, seat, undo)


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and value > 0 else None


__all__ = ["GoogleHooks", "failure_sentence", "field_problem", "missing_sentences", "verify_failure"]
