"""The one HTTP layer every provider module uses: retries, auth refresh, rate limits, errors.

`ProviderHTTP` sends one logical request through a shared `httpx.AsyncClient`:
it takes a slot from the proactive `Limiter`, adds the caller's auth headers,
and asks the pure function `decide()` what to make of each answer: `Ok`,
`Retry(wait)`, `Reauth(error)` (401: refresh credentials once) or `Fail(error)`.

Per-provider differences live in small policy objects (a `RetryPolicy` in each provider's package): which statuses are transient, minimum waits, how a 429 is
to be waited out, how to read an error body, what a missing scope looks like.

Every exception raised here subclasses `ProviderError` and carries `provider`,
`status`, `category` and a human sentence. None of them ever holds request
headers, tokens or request/response objects; their text is scrubbed of the
auth header values as a last line of defence.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeVar

import httpx
import msgspec

from core import metrics
from providers.errors import (
    MissingScopes,
    NeedsReconnect,
    ProviderError,
    RateLimited,
    TransientError,
    Unauthorized,
    scrub,
)
from providers.ratelimit import Limiter
from providers.retry import Answer, Ok, Reauth, Retry, RetryPolicy, decide

# What the client raises is part of its interface (providers/errors.py defines them).
__all__ = [
    "Auth",
    "Bearer",
    "MissingScopes",
    "NeedsReconnect",
    "ProviderError",
    "ProviderHTTP",
    "RateLimited",
    "TransientError",
    "Unauthorized",
    "parsed",
    "safe_path",
]

log = logging.getLogger("quolum.providers.http")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]
Rand = Callable[[], float]
T = TypeVar("T")


class Auth(Protocol):
    """Supplies credentials for one connection."""

    async def headers(self) -> dict[str, str]:
        """Headers to add to each attempt (e.g. ``Authorization``); called before every send."""
        ...

    async def refresh(self) -> bool:
        """Force a credential refresh; True if new credentials were obtained."""
        ...


class Bearer:
    """`Auth` for one fixed token (an API key, an access token just issued): the bearer header and
    nothing to refresh, so a 401 is final."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    async def refresh(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "Bearer([redacted])"


# --------------------------------------------------------------------------- decisions


def safe_path(url: httpx.URL) -> str:
    """The URL's path plus query parameter NAMES only: values may be secret."""
    names = list(dict.fromkeys(key for key, _ in url.params.multi_items()))
    return url.path + ("?" + "&".join(names) if names else "")


@functools.lru_cache(maxsize=512)
def _url(url: str) -> httpx.URL:
    return httpx.URL(url)


def parsed(url: str | httpx.URL, params: Any) -> tuple[str | httpx.URL, Any]:
    """`(url, params)` for httpx, the URL parsed once for every attempt of a request.

    httpx parses a URL string in Python on each send, and parses it twice more to merge `params`
    into it. Measured here (benchmarks/http_stack.py), `build_request` took 36 µs for a search with
    the URL as a string, 21 µs with it parsed; 70 µs for a listing page with `params`, 48 µs with the
    URL built from them first. Repeated URLs (a search endpoint) are parsed once per process; `params`
    go into a URL without a query at once, as httpx would put them; a URL with a query keeps httpx's
    merge.
    """
    if isinstance(url, httpx.URL):
        return url, params
    if not params:
        return _url(url), None
    if "?" not in url:
        return httpx.URL(url, params=params), None
    return url, params


def _refused_for_rate(outcome: Answer) -> bool:
    return isinstance(outcome, httpx.Response) and outcome.status_code == 429


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
        url: str | httpx.URL,
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
        params = httpx_kwargs.pop("params", None)
        target, httpx_kwargs["params"] = parsed(url, params)
        where: str | None = None  # for messages and logs; built when first needed (it costs a Request)
        attempt, refreshed = 1, False
        sent_secrets: set[str] = set()  # every auth header value used, to scrub from errors
        while True:
            started = None
            if self._limiter is not None:
                started = await self._limiter.acquire(self.policy.provider, account_key, bucket)
            auth_headers = await auth.headers() if auth is not None else {}
            sent_secrets.update(auth_headers.values())
            outcome = await self._send(method, target, {**extra_headers, **auth_headers}, httpx_kwargs)
            if isinstance(outcome, httpx.Response):
                if self._limiter is not None:
                    self._limiter.observe(self.policy.provider, account_key, outcome.headers, started)
                    if outcome.status_code != 429:
                        self._limiter.taken(self.policy.provider, account_key, bucket)
                if outcome.is_success:  # decide() answers Ok for every 2xx
                    return outcome
            if where is None:
                where = self._where(method, url, params)
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
                if self._limiter is not None and _refused_for_rate(outcome):
                    # every request of this account waits, not just this one (and the pace slows)
                    self._limiter.slow_down(self.policy.provider, account_key, bucket, decision.wait)
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
            scrub(error, sent_secrets)
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
        url: str | httpx.URL,
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

    async def get_typed(
        self,
        url: str | httpx.URL,
        decoder: msgspec.json.Decoder[T],
        lenient: Callable[[Any], T],
        *,
        auth: Auth | None,
        account_key: str,
        params: Mapping[str, Any] | None = None,
        bucket: str | None = None,
        **httpx_kwargs: Any,
    ) -> T:
        """GET and decode the JSON body with `decoder`, a typed msgspec decoder: only the fields its
        type names are built, in C, no dict per item (a listing page of 300 users decodes in about
        half the CPU `get_json` takes). A body of another shape than that type (a field of
        another type, items that are not objects: `msgspec.ValidationError`), or an empty body, is
        decoded as `get_json` would and handed to `lenient`, which reads it as the caller did before
        (so an odd answer is read as leniently as ever, only more slowly). A body that is not JSON
        raises the `ProviderError` `get_json` raises."""
        response = await self.request(
            "GET", url, auth=auth, account_key=account_key, bucket=bucket, params=params, **httpx_kwargs
        )
        if response.content:
            try:
                return decoder.decode(response.content)
            except msgspec.ValidationError:
                pass
            except msgspec.DecodeError:
                self._decode(response)  # raises the ProviderError get_json raises
        return lenient(self._decode(response))

    async def post_json(
        self,
        url: str | httpx.URL,
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

    def _where(self, method: str, url: str | httpx.URL, params: Any) -> str:
        """``"GET /path?param&names"`` for messages and logs: no query values, no host."""
        return f"{method} {safe_path(self.client.build_request(method, url, params=params).url)}"

    async def _send(
        self, method: str, url: str | httpx.URL, headers: dict[str, str], kwargs: dict[str, Any]
    ) -> Answer:
        provider, started = self.policy.provider, time.perf_counter()
        try:
            response = await self.client.request(method, url, headers=headers, **kwargs)
        except httpx.RequestError as exc:  # never re-raised: it holds the request, headers included
            metrics.PROVIDER_CALLS.labels(provider, "error").inc()
            return exc
        metrics.PROVIDER_LATENCY.labels(provider).observe(time.perf_counter() - started)
        metrics.PROVIDER_CALLS.labels(provider, str(response.status_code)).inc()
        if response.status_code == 429:
            metrics.RATE_LIMITED.labels(provider).inc()
        return response

    def _decode(self, response: httpx.Response) -> Any:
        if not response.content:
            return None
        try:
            return msgspec.json.decode(response.content)  # about half json's CPU
        except msgspec.DecodeError:
            raise ProviderError(
                f"{self.policy.display_name} answered {response.status_code} with a body that is not JSON.",
                provider=self.policy.provider,
                status=response.status_code,
            ) from None

    def _log_retry(self, where: str, outcome: Answer, attempt: int, wait: float) -> None:
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
