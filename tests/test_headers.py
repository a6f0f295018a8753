"""Every route, and every kind of answer (pages, redirects, Slack's JSON, refusals, 404s), carries the
security headers; HSTS and Secure cookies when the public URL is https."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from bot.web import create_app
from bot.web_security import STYLE_HASH
from messages.pages import render
from sandbox import slack_requests as sr
from tests.conftest import install

EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def requests_for_every_route(app, state: str) -> list[tuple[str, str, dict]]:
    """(method, path, httpx kwargs): each route the app has, plus refusals and unknown paths."""
    out = []
    for route in app.routes:
        for method in sorted(route.methods - {"HEAD"}):
            path = route.path.replace("{provider}", "hubspot")
            if path == "/slack/events":
                body = sr.command("help")
                out.append((method, path, {"content": body, "headers": sr.signed_headers(body)}))
                out.append((method, path, {"content": body}))  # unsigned: 401
            elif path.endswith("/start"):
                out.append((method, path, {"params": {"state": state}}))  # 302 and a cookie
                out.append((method, path, {}))  # a page saying the link is not valid
            elif path.endswith("/callback"):
                out.append((method, path, {"params": {"state": "x", "code": "y"}}))
            else:
                out.append((method, path, {}))
    assert {p for _, p, _ in out} >= {"/slack/events", "/slack/install", "/slack/oauth_redirect", "/healthz"}
    return out + [
        ("GET", "/nowhere", {}),
        ("GET", "/slack/events", {}),  # 405
        ("GET", "/oauth/salesforce/start", {}),
        ("POST", "/slack/events", {"content": b"x" * (2 << 20)}),  # 413
        ("GET", "/slack/oauth_redirect", {"params": {"error": "access_denied"}}),
    ]


def assert_headers(response: httpx.Response, *, https: bool) -> None:
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (where, name, response.headers.get(name))
    csp = response.headers.get("content-security-policy", "")
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, where
    assert "http" not in csp.replace("https", "").lower() and "*" not in csp, where  # no external source
    assert ("strict-transport-security" in response.headers) is https, where
    for cookie in response.headers.get_list("set-cookie"):
        assert "httponly" in cookie.lower(), (where, cookie)
        if https:
            assert "secure" in cookie.lower(), (where, cookie)


async def connect_state(storage) -> str:
    return await storage.states.issue(
        "connect", ttl=timedelta(minutes=10), team_id="T0001", user_id="U0001", provider="hubspot"
    )


async def test_every_route_of_the_running_server(serve, hub_settings, storage, slack):
    await install(storage, slack)
    server = serve(hub_settings)
    state = await connect_state(storage)
    statuses = set()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for method, path, kwargs in requests_for_every_route(server.app, state):
            response = client.request(method, path, **kwargs)
            statuses.add(response.status_code)
            assert_headers(response, https=False)
    assert {200, 302, 400, 401, 404, 405, 413} <= statuses


async def test_https_adds_hsts_and_secure_cookies(hub_settings, storage, slack):
    await install(storage, slack)
    app = create_app(hub_settings.with_overrides(public_url="https://quolum.example.com"))
    state = await connect_state(storage)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://quolum.example.com") as client:
        cookies = 0
        for method, path, kwargs in requests_for_every_route(app, state):
            if path == "/slack/events" and kwargs.get("headers"):
                continue  # Bolt would answer through the stand-in: covered by the test above
            response = await client.request(method, path, **kwargs)
            cookies += len(response.headers.get_list("set-cookie"))
            assert_headers(response, https=True)
        assert cookies >= 2  # the Connect cookie and Bolt's install cookie were both checked
    await app.state.services.storage.db.dispose()


def test_the_pages_inline_style_is_the_one_the_csp_allows():
    import base64
    import hashlib
    import re

    style = re.search(r"<style>(.*?)</style>", render("t", "m"), re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert STYLE_HASH == f"sha256-{digest}"


@pytest.mark.parametrize("path", ["/healthz", "/oauth/hubspot/callback"])
async def test_headers_the_app_set_itself_are_not_doubled(serve, settings, path):
    server = serve(settings)
    response = httpx.get(f"{server.url}{path}")
    assert len(response.headers.get_list("cache-control")) == 1
    assert len(response.headers.get_list("referrer-policy")) == 1
