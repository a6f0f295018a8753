"""OAuth states an attacker could use: a forwarded link or callback URL, and the unauthenticated
install route filling the table."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import func, select

from core.clock import FrozenClock
from handlers.oauth import COOKIE
from services import connections as texts
from storage.models import OAuthState
from storage.states import SlackInstallStateStore, StateStore
from tests.conftest import install
from tests.services.test_connections import Browser, buttons, open_card


@pytest.fixture
async def bot(serve, hub_settings, storage, slack):
    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    return serve(hub_settings)


async def state_rows(storage, kind: str | None = None) -> int:
    query = select(func.count()).select_from(OAuthState)
    if kind:
        query = query.where(OAuthState.kind == kind)
    async with storage.db.session() as session:
        return await session.scalar(query)


# --- the browser binding ---------------------------------------------------------------------------
async def test_the_cookie_is_not_the_state(bot, slack, hubspot):
    browser = Browser(bot, hubspot)
    url = buttons(open_card(bot, slack))["connect_link:hubspot"]["url"]
    start = browser.start(url)
    state = parse_qs(urlparse(url).query)["state"][0]
    assert start.status_code == 302
    cookie = browser.client.cookies[COOKIE]
    assert cookie and cookie != state and len(cookie) >= 40


async def test_a_callback_url_in_another_browser_is_refused_even_with_the_state_as_cookie(
    bot, slack, hubspot, storage
):
    victim = Browser(bot, hubspot)
    url = buttons(open_card(bot, slack))["connect_link:hubspot"]["url"]
    start = victim.start(url)
    callback = victim.consent(start.headers["location"]).headers["location"]
    state = parse_qs(urlparse(callback).query)["state"][0]
    # the attacker holds the callback URL, so the state: the old cookie was exactly that
    with httpx.Client() as attacker:
        page = attacker.get(callback, cookies={COOKIE: state})
    assert page.status_code == 400 and texts.LINK_PROBLEMS["elsewhere"].title in page.text
    assert await storage.connections.get("T0001", "hubspot") is None
    # nothing was consumed: the person's own browser still finishes
    assert victim.client.get(callback).status_code == 200
    assert (await storage.connections.get("T0001", "hubspot")).status == "connected"


async def test_a_start_link_opened_in_a_second_browser_is_refused(bot, slack, hubspot, storage):
    url = buttons(open_card(bot, slack))["connect_link:hubspot"]["url"]
    first = Browser(bot, hubspot)
    assert first.start(url).status_code == 302
    assert first.start(url).status_code == 302  # the same browser may open it again
    second = Browser(bot, hubspot)
    page = second.start(url)
    assert page.status_code == 400 and texts.LINK_PROBLEMS["elsewhere"].title in page.text
    assert first.connect(url).status_code == 200
    assert (await storage.connections.get("T0001", "hubspot")).status == "connected"


# --- Slack install states ----------------------------------------------------------------------------
async def test_visiting_the_install_page_stores_nothing(serve, settings, storage):
    server = serve(settings)
    with httpx.Client(base_url=server.url) as client:
        for _ in range(200):
            assert client.get("/slack/install").status_code == 302
    assert await state_rows(storage) == 0


async def test_signed_install_states_are_single_use_and_expire(storage):
    clock = FrozenClock()
    states = StateStore(storage.db, storage.encryptor, clock)
    store = SlackInstallStateStore(states, "client-secret")
    state = await store.async_issue()
    assert await state_rows(storage) == 0
    assert await store.async_consume(state) is True
    assert await store.async_consume(state) is False  # used
    assert await state_rows(storage, SlackInstallStateStore.KIND) == 1

    issued, nonce, signature = (await store.async_issue()).split(".")
    for forged in (
        f"{int(issued) + 60}.{nonce}.{signature}",  # a later date, same signature
        f"{issued}.{nonce}x.{signature}",
        f"{issued}.{nonce}.{'0' * 64}",
        f"{issued}.{nonce}",
        "",
        "x" * 5000,
    ):
        assert await store.async_consume(forged) is False
    other_key = SlackInstallStateStore(states, "another-secret")
    assert await other_key.async_consume(await store.async_issue()) is False

    late = await store.async_issue()
    clock.advance(minutes=10)
    assert await store.async_consume(late) is False


async def test_used_install_states_are_purged_as_soon_as_they_expire(storage):
    clock = FrozenClock()
    states = StateStore(storage.db, storage.encryptor, clock)
    store = SlackInstallStateStore(states, "client-secret")
    assert await store.async_consume(await store.async_issue())
    connect = await states.issue("connect", ttl=timedelta(minutes=10))
    clock.advance(minutes=10, seconds=1)
    assert await states.purge_expired(prompt_kinds=(SlackInstallStateStore.KIND,)) == 1
    assert await state_rows(storage, SlackInstallStateStore.KIND) == 0
    assert await states.find(connect, "connect") is not None  # its "expired" page still works today


async def test_the_install_error_parameter_is_capped_and_escaped(serve, settings):
    server = serve(settings)
    page = httpx.get(f"{server.url}/slack/oauth_redirect", params={"error": "<b>" + "x" * 5000})
    assert page.status_code < 500
    assert "<b>" not in page.text and "x" * 100 not in page.text
