"""The one HTTP layer every provider module uses: retries, auth refresh, rate limits, errors.

`ProviderHTTP` sends one logical request through a shared `httpx.AsyncClient`:
it takes a slot from the proactive `Limiter`, adds the caller's auth headers,
and asks the pure function `decide()` what to make of each answer: `Ok`,
`Retry(wait)`, `Reauth(error)` (401: refresh credentials once) or `Fail(error)`.

Per-provider differences live in small policy objects (`HubSpotPolicy`,
`SendGridPolicy`): which statuses are transient, minimum waits, how a 429 is
to be waited out, how to read an error body, what a missing scope looks like.

Every exception raised here subclasses `ProviderError` and carries `provider`,
`status`, `category` and a human sentence. None of them ever holds request
headers, tokens or request/response objects; their text is scrubbed of the
auth header values as a last line of defence.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from providers.error_bodies import read_hubspot_error
from providers.ratelimit import Limiter

log = logging.getLogger("quolum.providers.http")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]
Rand = Callable[[], float]

_MAX_MESSAGE = 300
# Credentials that must never reach an error text, even if a provider echoes them.
_SECRET_PATTERNS = (
    (re.compile(r"(?i)\bbearer\s+[^\s\"',;]{8,}"), "Bearer [redacted]"),
    (re.compile(r"\bSG\.[\w-]{8,}\.[\w-]{8,}"), "[redacted]"),  # SendGrid API key shape
)


# --------------------------------------------------------------------------- errors


class ProviderError(Exception):
    """A provider call failed. `str()` is a sentence fit for logs and admins; no secrets."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        category: str | None = None,
        correlation_id: str | None = None,
        oauth_error: str | None = None,
        legacy_status: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.category = category  # the deciding code: OAuth `error`, else `category`, `policyName`, `status`
        self.correlation_id = correlation_id
        self.oauth_error = oauth_error
        self.legacy_status = legacy_status

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.provider!r}, status={self.status!r}, "
            f"category={self.category!r}, message={self.message!r})"
        )

    def __reduce__(self):  # keyword-only arguments: make pickling (e.g. to a worker) work
        return (_rebuild_error, (type(self), self.__dict__.copy()))


def _rebuild_error(cls: type[ProviderError], state: dict[str, Any]) -> ProviderError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


class Unauthorized(ProviderError):
    """Credentials rejected (401) even after a refresh: the connection needs Reconnect."""


class MissingScopes(ProviderError):
    """The credentials lack a scope (403): that feature is unavailable, the connection is fine."""


class NeedsReconnect(ProviderError):
    """The provider refused the connection's credentials for good (raised by the credential manager)."""


class TransientError(ProviderError):
    """Timeouts, connection errors or transient statuses outlasted the retries."""


class RateLimited(TransientError):
    """Rate limited beyond what we are willing to wait. `retry_after`: seconds, if known."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


# --------------------------------------------------------------------------- auth hook


class Auth(Protocol):
    """Supplies credentials for one connection."""

    async def headers(self) -> dict[str, str]:
        """Headers to add to each attempt (e.g. ``Authorization``); called before every send."""
        ...

    async def refresh(self) -> bool:
        """Force a credential refresh; True if new credentials were obtained."""
        ...


# --------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Ok:
    """A 2xx answer: hand it to the caller."""


@dataclass(frozen=True)
class Retry:
    """Send again after `wait` seconds."""

    wait: float
    reason: str


@dataclass(frozen=True)
class Reauth:
    """401: refresh the credentials once and send again, else raise `error`."""

    error: Unauthorized


@dataclass(frozen=True)
class Fail:
    """Give up with `error`."""

    error: ProviderError


Decision = Ok | Retry | Reauth | Fail
Outcome = httpx.Response | httpx.RequestError

# Failures where the request may simply be sent again (the rest are configuration errors).
_RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError)


@dataclass(frozen=True)
class ErrorInfo:
    """What a provider's error body says."""

    message: str | None = None
    category: str | None = None
    correlation_id: str | None = None
    oauth_error: str | None = None
    legacy_status: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """Provider-neutral retry rules; subclasses override the hooks for a provider's quirks.

    `max_retries` is the number of retries after the first attempt. Backoff is
    full-jitter exponential: ``rand() * min(max_delay, base_delay * 2 ** (attempt - 1))``.
    `min_wait` raises the floor for some statuses; `retry_after_statuses` honour a
    `Retry-After` header. A server-requested wait longer than `max_wait` gives up
    with `RateLimited(retry_after=...)` so the caller can reschedule instead.
    """

    provider: str
    display_name: str
    transient_statuses: frozenset[int] = frozenset({500, 502, 503, 504})
    retry_after_statuses: frozenset[int] = frozenset({429, 503})
    min_wait: Mapping[int, float] = field(default_factory=dict)
    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_wait: float = 120.0

    def backoff(self, attempt: int, rand: Rand) -> float:
        return rand() * min(self.max_delay, self.base_delay * 2 ** (attempt - 1))

    def error_info(self, body: Any) -> ErrorInfo:
        """Read the provider's error body (already JSON-decoded, or None)."""
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return ErrorInfo(message=body["message"])
        return ErrorInfo()

    def is_missing_scopes(self, status: int, info: ErrorInfo) -> bool:
        return False

    def rate_limit_wait(
        self, response: httpx.Response, body: Any, attempt: int, now: float, rand: Rand
    ) -> float | None:
        """Seconds to wait out a 429, or None to give up now."""
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
        return retry_after if retry_after is not None else max(1.0, self.backoff(attempt, rand))


@dataclass(frozen=True)
class HubSpotPolicy(RetryPolicy):
    """HubSpot: 423 waits >= 2 s, 477 honours Retry-After, 429 backs off by `policyName`."""

    provider: str = "hubspot"
    display_name: str = "HubSpot"
    transient_statuses: frozenset[int] = frozenset({423, 477, 500, 502, 503, 504, 521, 523, 524})
    retry_after_statuses: frozenset[int] = frozenset({429, 477, 503})
    min_wait: Mapping[int, float] = field(default_factory=lambda: {423: 2.0})
    # 429 without Retry-After: wait about `seconds * attempt` by `policyName`; None gives up.
    policy_waits: Mapping[str, float | None] = field(
        default_factory=lambda: {"SECONDLY": 1.0, "TEN_SECONDLY_ROLLING": 10.0, "DAILY": None}
    )

    def error_info(self, body: Any) -> ErrorInfo:
        fields = read_hubspot_error(body)  # `error` first, then `category`, `policyName`, `status`
        return ErrorInfo(
            message=fields.message,
            category=fields.code,
            correlation_id=fields.correlation_id,
            oauth_error=fields.error,
            legacy_status=fields.status if fields.status != "error" else None,
        )

    def is_missing_scopes(self, status: int, info: ErrorInfo) -> bool:
        return status == 403 and info.category == "MISSING_SCOPES"

    def rate_limit_wait(
        self, response: httpx.Response, body: Any, attempt: int, now: float, rand: Rand
    ) -> float | None:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
        if retry_after is not None:
            return retry_after
        name = body.get("policyName") if isinstance(body, dict) else None
        if isinstance(name, str) and name in self.policy_waits:
            seconds = self.policy_waits[name]
            return None if seconds is None else seconds * attempt * (1.0 + 0.1 * rand())
        return max(1.0, self.backoff(attempt, rand))


@dataclass(frozen=True)
class SendGridPolicy(RetryPolicy):
    """SendGrid: any 403 is a missing scope; 429 waits until `X-RateLimit-Reset` (Unix seconds)."""

    provider: str = "sendgrid"
    display_name: str = "SendGrid"
    reset_margin: float = 0.5  # the reset is whole seconds and clocks drift a little

    def error_info(self, body: Any) -> ErrorInfo:
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list):
            messages = [
                e["message"] for e in errors if isinstance(e, dict) and isinstance(e.get("message"), str)
            ]
            if messages:
                return ErrorInfo(message="; ".join(messages))
        return super().error_info(body)

    def is_missing_scopes(self, status: int, info: ErrorInfo) -> bool:
        return status == 403

    def rate_limit_wait(
        self, response: httpx.Response, body: Any, attempt: int, now: float, rand: Rand
    ) -> float | None:
        try:
            reset = float(response.headers["X-RateLimit-Reset"])
        except (KeyError, ValueError):
            return super().rate_limit_wait(response, body, attempt, now, rand)
        return max(0.0, reset - now) + self.reset_margin


HUBSPOT = HubSpotPolicy()
SENDGRID = SendGridPolicy()


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds from `now` per a Retry-After header (delta-seconds or HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


def decide(
    outcome: Outcome,
    attempt: int,
    policy: RetryPolicy,
    now: float,
    *,
    rand: Rand = random.random,
    where: str = "",
    max_retries: int | None = None,
) -> Decision:
    """What to do with one attempt's `outcome` (a response, or the exception it raised).

    Pure apart from `rand` (the jitter source). `attempt` starts at 1; `now` is
    wall-clock Unix seconds; `where` (e.g. ``"GET /crm/v3/owners"``) only feeds messages.
    """
    retries = policy.max_retries if max_retries is None else max_retries
    name = policy.display_name
    at = f" for {where}" if where else ""

    if isinstance(outcome, Exception):
        if not isinstance(outcome, httpx.RequestError):
            raise TypeError(f"not an HTTP outcome: {type(outcome).__name__}")
        reason = type(outcome).__name__
        if not isinstance(outcome, _RETRYABLE_ERRORS):  # e.g. UnsupportedProtocol, TooManyRedirects
            return Fail(ProviderError(f"{name} request failed{at} ({reason}).", provider=policy.provider))
        kind = "timed out" if isinstance(outcome, httpx.TimeoutException) else "could not be reached"
        if attempt <= retries:
            return Retry(policy.backoff(attempt, rand), reason)
        return Fail(
            TransientError(
                f"{name} {kind}{at} after {attempt} attempts ({reason}).", provider=policy.provider
            )
        )

    response = outcome
    status = response.status_code
    if 200 <= status < 300:
        return Ok()

    body = _json_or_none(response)
    info = policy.error_info(body)
    detail = f": {info.message}" if info.message else "."
    fields = {
        "provider": policy.provider,
        "status": status,
        "category": info.category,
        "correlation_id": info.correlation_id,
        "oauth_error": info.oauth_error,
        "legacy_status": info.legacy_status,
    }

    if status == 401:
        return Reauth(Unauthorized(f"{name} rejected the credentials{at} (401){detail}", **fields))
    if status == 403 and policy.is_missing_scopes(status, info):
        return Fail(MissingScopes(f"{name} has not granted the scope needed{at} (403){detail}", **fields))

    if status == 429:
        wait = policy.rate_limit_wait(response, body, attempt, now, rand)
        if wait is None:
            return Fail(RateLimited(f"{name} rate limit reached{at} (429){detail}", **fields))
        if wait > policy.max_wait or attempt > retries:
            return Fail(
                RateLimited(
                    f"{name} is still rate limiting{at} after {attempt} attempts (429){detail}",
                    retry_after=wait,
                    **fields,
                )
            )
        return Retry(wait, f"rate limited ({info.category or 429})")

    if status in policy.transient_statuses:
        wait = policy.backoff(attempt, rand)
        if status in policy.retry_after_statuses:
            requested = parse_retry_after(response.headers.get("Retry-After"), now)
            wait = requested if requested is not None else wait
        wait = max(wait, policy.min_wait.get(status, 0.0))
        if wait > policy.max_wait:
            return Fail(TransientError(f"{name} asked to wait {wait:.0f}s{at} ({status}){detail}", **fields))
        if attempt <= retries:
            return Retry(wait, f"status {status}")
        return Fail(
            TransientError(f"{name} kept failing{at} after {attempt} attempts ({status}){detail}", **fields)
        )

    return Fail(ProviderError(f"{name} refused the request{at} ({status}){detail}", **fields))


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:  # not JSON (includes UnicodeDecodeError)
        return None


def safe_path(url: httpx.URL) -> str:
    """The URL's path plus query parameter NAMES only: values may be secret."""
    names = list(dict.fromkeys(key for key, _ in url.params.multi_items()))
    return url.path + ("?" + "&".join(names) if names else "")


# --------------------------------------------------------------------------- the client


class ProviderHTTP:
    """Sends requests to one provider through a shared `httpx.AsyncClient` (not owned).

    `sleep` and `clock` (wall-clock Unix seconds, compared with rate-limit reset
    headers) are injectable; `rand` is the jitter source.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        policy: RetryPolicy,
        *,
        limiter: Limiter | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.time,
        rand: Rand = random.random,
        timeout: float = 20.0,
    ) -> None:
        self.client = client
        self.policy = policy
        self._limiter = limiter
        self._sleep = sleep
        self._clock = clock
        self._rand = rand
        self._timeout = timeout

    async def request(
        self,
        method: str,
        url: str,
        *,
        auth: Auth | None,
        account_key: str,
        bucket: str | None = None,
        max_retries: int | None = None,
        **httpx_kwargs: Any,
    ) -> httpx.Response:
        """Send one logical request; return the 2xx response or raise a `ProviderError`.

        `account_key` selects the rate-limit windows (the provider's account id);
        `bucket` an extra one (``"search"``); `max_retries` overrides the policy's
        (pass 0 for calls that must not be repeated). Other keyword arguments go to
        `httpx.AsyncClient.request` (`params`, `json`, `data`, `headers`, `timeout`...).

        A 401 calls ``auth.refresh()`` once and, if it returns True, sends again
        (not counted as a retry); an exception raised by ``refresh()`` propagates.
        """
        method = method.upper()
        extra_headers = dict(httpx_kwargs.pop("headers", None) or {})
        httpx_kwargs.setdefault("timeout", self._timeout)
        where = self._where(method, url, httpx_kwargs.get("params"))
        attempt, refreshed = 1, False
        sent_secrets: set[str] = set()  # every auth header value used, to scrub from errors
        while True:
            if self._limiter is not None:
                await self._limiter.acquire(self.policy.provider, account_key, bucket)
            auth_headers = await auth.headers() if auth is not None else {}
            sent_secrets.update(auth_headers.values())
            outcome = await self._send(method, url, {**extra_headers, **auth_headers}, httpx_kwargs)
            decision = decide(
                outcome,
                attempt,
                self.policy,
                self._clock(),
                rand=self._rand,
                where=where,
                max_retries=max_retries,
            )
            if isinstance(decision, Ok):
                assert isinstance(outcome, httpx.Response)
                return outcome
            if isinstance(decision, Retry):
                self._log_retry(where, outcome, attempt, decision.wait)
                await self._sleep(decision.wait)
                attempt += 1
                continue
            if isinstance(decision, Reauth) and auth is not None and not refreshed:
                refreshed = True
                log.info("%s %s: 401, refreshing credentials", self.policy.provider, where)
                if await auth.refresh():
                    continue
            error = decision.error
            _scrub(error, sent_secrets)
            if error.correlation_id:  # HubSpot asks for it in support requests
                log.info(
                    "%s %s failed (%s, %s), correlationId %s",
                    self.policy.provider,
                    where,
                    error.status,
                    error.category,
                    error.correlation_id,
                    extra={"provider": self.policy.provider, "correlation_id": error.correlation_id},
                )
            raise error

    async def get_json(
        self,
        url: str,
        *,
        auth: Auth | None,
        account_key: str,
        params: Mapping[str, Any] | None = None,
        bucket: str | None = None,
        **httpx_kwargs: Any,
    ) -> Any:
        """GET and decode the JSON body (None for an empty body)."""
        response = await self.request(
            "GET", url, auth=auth, account_key=account_key, bucket=bucket, params=params, **httpx_kwargs
        )
        return self._decode(response)

    async def post_json(
        self,
        url: str,
        body: Any,
        *,
        auth: Auth | None,
        account_key: str,
        bucket: str | None = None,
        **httpx_kwargs: Any,
    ) -> Any:
        """POST `body` as JSON and decode the JSON answer (None for an empty body)."""
        response = await self.request(
            "POST", url, auth=auth, account_key=account_key, bucket=bucket, json=body, **httpx_kwargs
        )
        return self._decode(response)

    def _where(self, method: str, url: str, params: Any) -> str:
        """``"GET /path?param&names"`` for messages and logs: no query values, no host."""
        return f"{method} {safe_path(self.client.build_request(method, url, params=params).url)}"

    async def _send(self, method: str, url: str, headers: dict[str, str], kwargs: dict[str, Any]) -> Outcome:
        try:
            return await self.client.request(method, url, headers=headers, **kwargs)
        except httpx.RequestError as exc:  # never re-raised: it holds the request, headers included
            return exc

    def _decode(self, response: httpx.Response) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ProviderError(
                f"{self.policy.display_name} answered {response.status_code} with a body that is not JSON.",
                provider=self.policy.provider,
                status=response.status_code,
            ) from None

    def _log_retry(self, where: str, outcome: Outcome, attempt: int, wait: float) -> None:
        status = outcome.status_code if isinstance(outcome, httpx.Response) else type(outcome).__name__
        log.warning(
            "%s %s: %s on attempt %d, retrying in %.2fs",
            self.policy.provider,
            where,
            status,
            attempt,
            wait,
            extra={"provider": self.policy.provider, "status": status, "attempt": attempt, "wait": wait},
        )


def _scrub(error: ProviderError, secrets: set[str]) -> None:
    """Remove credentials from the error's text (providers may echo input) and bound its length."""
    message = error.message
    for secret in sorted(secrets, key=len, reverse=True):
        for value in (secret, secret.split(" ", 1)[-1]):  # "Bearer <token>" and "<token>"
            if len(value) >= 8:
                message = message.replace(value, "[redacted]")
    for pattern, replacement in _SECRET_PATTERNS:
        message = pattern.sub(replacement, message)
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    error.message = message
    error.args = (message,)
