"""What to make of one answer: the pure `decide()` and the per-provider retry policies.

`decide()` returns `Ok`, `Retry(wait)`, `Reauth(error)` (401: refresh credentials once) or
`Fail(error)`. Per-provider differences live in small `RetryPolicy` subclasses, one in each provider's package: which statuses are transient, minimum waits, how a 429 is to be waited out, how
to read an error body, what a missing scope looks like.
"""

from __future__ import annotations

import email.utils
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from providers.errors import MissingScopes, ProviderError, RateLimited, TransientError, Unauthorized

Rand = Callable[[], float]


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
Answer = httpx.Response | httpx.RequestError

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
    sub_category: str | None = None  # a finer code where the provider gives one (HubSpot `subCategory`)


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

    def is_rate_limited(self, status: int, info: ErrorInfo) -> bool:
        """A refusal for going too fast, waited out by `rate_limit_wait` (GitHub also answers 403)."""
        return status == 429

    def rate_limit_wait(
        self, response: httpx.Response, body: Any, attempt: int, now: float, rand: Rand
    ) -> float | None:
        """Seconds to wait out a 429, or None to give up now."""
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
        return retry_after if retry_after is not None else max(1.0, self.backoff(attempt, rand))


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
    outcome: Answer,
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
        "sub_category": info.sub_category,
    }

    if status == 401:
        return Reauth(Unauthorized(f"{name} rejected the credentials{at} (401){detail}", **fields))
    if status == 403 and policy.is_missing_scopes(status, info):
        return Fail(MissingScopes(f"{name} has not granted the scope needed{at} (403){detail}", **fields))

    if policy.is_rate_limited(status, info):
        wait = policy.rate_limit_wait(response, body, attempt, now, rand)
        if wait is None:
            return Fail(RateLimited(f"{name} rate limit reached{at} ({status}){detail}", **fields))
        if wait > policy.max_wait or attempt > retries:
            return Fail(
                RateLimited(
                    f"{name} is still rate limiting{at} after {attempt} attempts ({status}){detail}",
                    retry_after=wait,
                    **fields,
                )
            )
        return Retry(wait, f"rate limited ({info.category or status})")

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
