"""A person's view: headless Chromium from the Connect link through HubSpot's consent page to our page."""

from __future__ import annotations

import pytest

from tests.services.test_connections import buttons, open_card


@pytest.fixture
async def bot(serve, hub_settings, storage, slack):
    from tests.conftest import install

    await install(storage, slack)
    slack.add_user("U0001", is_admin=True)
    return serve(hub_settings)


async def test_connect_in_a_real_browser(chromium, bot, slack, hubspot, storage, tmp_path):
    url = buttons(open_card(bot, slack))["connect_link:hubspot"]["url"]
    page = await chromium.new_page()
    await page.goto(url)
    assert page.url.startswith(f"{hubspot.url}/oauth/authorize")  # sent on to HubSpot's consent page
    assert "settings.users.read" in await page.content()
    await page.click("#approve")
    await page.wait_for_url(f"{bot.url}/oauth/hubspot/callback**")
    await page.screenshot(path=str(tmp_path / "connected.png"))
    assert await page.inner_text("h1") == "HubSpot is connected"
    assert await page.inner_text("main p") == "Connected to portal101.example.com. You can close this tab."
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.locator("main[role=main]").count() == 1
    assert (await storage.connections.get("T0001", "hubspot")).status == "connected"

    # the same link again, after it was used: a friendly page, not HubSpot
    await page.goto(url)
    assert page.url.startswith(bot.url)
    assert await page.inner_text("h1") == "This link was already used"


async def test_cancel_on_the_consent_page(chromium, bot, slack, storage):
    url = buttons(open_card(bot, slack))["connect_link:hubspot"]["url"]
    page = await chromium.new_page()
    await page.goto(url)
    await page.click("#deny")
    await page.wait_for_url(f"{bot.url}/oauth/hubspot/callback**")
    assert await page.inner_text("h1") == "Nothing was connected"
    assert await storage.connections.get("T0001", "hubspot") is None
