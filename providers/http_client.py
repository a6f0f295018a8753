"""The shared `httpx.AsyncClient` for provider calls: httpx's API over aiohttp, no cookie jar.

httpx-aiohttp runs httpx over aiohttp's connection pool and C-accelerated parser (httpcore cost 0.6
to 1.2 ms of CPU per request here: its pool checks every pooled connection with system calls on each
request). Two changes on top, both measured with `benchmarks/http_stack.py` (figures in
benchmarks/README.md):

* **No cookies kept.** One client serves every workspace's connections, so a cookie one portal's
  answer sets must not ride along on another portal's requests (the provider APIs are token-based
  and need none). httpx has no switch for it (encode/httpx#2992, where its author agrees a shared
  client should not persist cookies); a `Cookies` whose `extract_cookies` does nothing also saves
  the urllib and email objects httpx builds to read `Set-Cookie` on every answer. aiohttp's session
  keeps cookies of its own: it gets aiohttp's `DummyCookieJar`. Cookies a caller passes explicitly
  are still sent.
* **Bodies read whole, in aiohttp.** httpx-aiohttp streams each body through httpx in 16 KB chunks,
  four async generators deep; a 73 KB search page took five trips. `client.request()` reads the
  whole body anyway, so the transport reads it in one `await` and hands httpx one chunk; timeouts,
  errors (mapped to httpx's) and connection release are aiohttp's and httpx-aiohttp's as before.
  Nothing here streams a provider's answer (`client.stream()` would now buffer it).
"""

from __future__ import annotations

import functools
from typing import Any

import httpx
from aiohttp import BasicAuth, ClientSession, ClientTimeout, DummyCookieJar, TCPConnector
from httpx_aiohttp import AiohttpTransport, HttpxAiohttpClient
from httpx_aiohttp.transport import map_aiohttp_exceptions


class _KeptNowhere(httpx.Cookies):
    """A cookie jar that never takes in what an answer sets (it still holds what a caller gives)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


@functools.lru_cache(maxsize=64)
def _timeout(connect: float | None, read: float | None, pool: float | None) -> ClientTimeout:
    """httpx's timeouts as aiohttp's (as httpx-aiohttp maps them), one object per distinct triple."""
    return ClientTimeout(sock_connect=connect, sock_read=read, connect=pool)


class WholeBodyTransport(AiohttpTransport):
    """httpx-aiohttp's transport, reading each answer's body in one go (module docstring).

    Written here because httpx-aiohttp has no option for it: `handle_async_request` is its 0.2
    method with the response read in aiohttp, and `get_client` its session with aiohttp's
    `DummyCookieJar`; the rest (options, exception mapping, closing) is inherited.
    """

    def get_client(self) -> ClientSession:
        """httpx-aiohttp's session, without aiohttp's own cookie jar (it would keep cookies too)."""
        if self.client is not None:
            return super().get_client()
        limit = {"limit": self.limits.max_connections} if self.limits.max_connections is not None else {}
        connector = TCPConnector(
            keepalive_timeout=self.limits.keepalive_expiry, ssl=self.ssl_context, **limit
        )
        return ClientSession(connector=connector, cookie_jar=DummyCookieJar())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.client, ClientSession):
            self.client = self.get_client()
        timeout = request.extensions.get("timeout", {})
        with map_aiohttp_exceptions():
            try:
                data: Any = request.content or None
            except httpx.RequestNotRead:  # a streamed request body: aiohttp sends it chunked
                data = request.stream
                request.headers.pop("transfer-encoding", None)
            proxy = self.proxy
            async with self.client.request(
                method=request.method,
                url=str(request.url),
                headers=request.headers.multi_items(),
                data=data,
                allow_redirects=False,
                auto_decompress=False,  # httpx decodes, as it would over its own transport
                compress=False,
                timeout=_timeout(timeout.get("connect"), timeout.get("read"), timeout.get("pool")),
                server_hostname=request.extensions.get("sni_hostname"),
                proxy=str(proxy.url) if proxy else None,
                proxy_auth=BasicAuth(*proxy.auth) if proxy and proxy.auth else None,
                proxy_headers=proxy.headers if proxy else None,
            ) as answer:
                body = await answer.read()
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if answer.reason:
            extensions["reason_phrase"] = answer.reason.encode()
        return httpx.Response(
            status_code=answer.status,
            headers=answer.raw_headers,
            stream=httpx.ByteStream(body),
            request=request,
            extensions=extensions,
        )


class ProviderClient(HttpxAiohttpClient):
    """`httpx.AsyncClient` over `WholeBodyTransport`, keeping no cookies from answers."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cookies = _KeptNowhere(self._cookies)  # httpx.BaseClient.__init__ sets it directly

    @property
    def cookies(self) -> httpx.Cookies:
        return self._cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._cookies = _KeptNowhere(cookies)

    def _init_transport(self, transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any):
        return transport if transport is not None else WholeBodyTransport(**_transport_options(kwargs))

    def _init_proxy_transport(self, proxy: httpx.Proxy, **kwargs: Any):
        return WholeBodyTransport(proxy=proxy, **_transport_options(kwargs))


def _transport_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """What httpx passes to a transport factory that `AiohttpTransport` takes (as HttpxAiohttpClient)."""
    names = ("verify", "cert", "trust_env", "http1", "http2", "limits")
    return {name: kwargs[name] for name in names if name in kwargs}


def provider_client(**kwargs: Any) -> httpx.AsyncClient:
    """The shared client for provider calls (module docstring). Proxies from the environment still
    apply. `kwargs` go to `httpx.AsyncClient`."""
    options: dict[str, Any] = {"timeout": httpx.Timeout(20.0, connect=5.0), "follow_redirects": False}
    return ProviderClient(**(options | kwargs))
