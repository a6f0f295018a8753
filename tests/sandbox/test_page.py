"""The sandbox Slack page: played in headless Chromium by typing and clicking only."""

from __future__ import annotations

import re

import pytest

from sandbox.environment import SandboxEnv
from sandbox.page import start_page
from sandbox.workspace import SENDGRID_SCOPES


@pytest.fixture
def sandbox():
    with SandboxEnv() as env:
        page_server = start_page(env)
        env.page_url = page_server.url
        yield env
        page_server.stop()


async def test_a_person_connects_hubspot_and_sendgrid_by_typing_and_clicking(sandbox, chromium):
    from playwright.async_api import expect

    context = await chromium.new_context()
    page = await context.new_page()
    await page.goto(f"{sandbox.page_url}/?user=UADA00001")
    await page.fill("#box", "/quolum connect")
    await page.press("#box", "Enter")
    card = page.locator(".message.ephemeral").last
    await expect(card).to_contain_text("Not connected")
    await expect(card.locator("h3")).to_have_text("Connections")

    async with context.expect_page() as popup:  # a link button opens its page in a new tab
        await card.get_by_role("link", name="Connect").click()
    consent = await popup.value
    await expect(consent.locator("body")).to_contain_text("acme.hubspot.example")
    await consent.click("#approve")
    await expect(consent.locator("body")).to_contain_text("Connected to acme.hubspot.example")
    await consent.close()

    # the card was updated in place: same message, now Reconnect
    await expect(card).to_contain_text("Connected to acme.hubspot.example (portal 4242) by @Ada")
    await expect(card.get_by_role("link", name="Reconnect")).to_be_visible()
    await expect(card.get_by_role("button", name="Disconnect")).to_be_visible()

    await page.click("nav a:has-text('Quolum (DM)')")
    await expect(page.locator("#messages")).to_contain_text("HubSpot is connected to acme.hubspot.example")

    # SendGrid: the card's Connect button opens the modal; the key is typed, the region picked, submitted
    await page.click("nav a:has-text('# general')")
    key = sandbox.sendgrid.add_key("acme", SENDGRID_SCOPES)  # the person created it in SendGrid
    await page.locator(".message.ephemeral").last.get_by_role("button", name="Connect", exact=True).click()
    modal = page.locator("#modal")
    await expect(modal.locator(".view-title")).to_have_text("Connect SendGrid")
    await modal.locator("input[placeholder^='SG.']").fill("not a key")
    await modal.get_by_label(re.compile("Global")).check()
    await modal.get_by_role("button", name="Connect", exact=True).click()
    await expect(modal.locator(".error")).to_be_visible()  # answered in the field, the modal stays
    await modal.locator("input[placeholder^='SG.']").fill(key)
    await modal.get_by_role("button", name="Connect", exact=True).click()
    await expect(modal.locator(".view-title")).to_have_text("SendGrid connected")
    await expect(modal).not_to_contain_text(key)
    await modal.locator("button.close").click()
    await expect(page.locator("#modal-bg")).to_be_hidden()

    await page.click("nav a:has-text('Home')")
    home = page.locator("#home")
    await expect(home).to_contain_text("Connected to acme.hubspot.example")
    await expect(home).to_contain_text("No open invitations.")
    assert await home.get_by_role("button", name="Reconnect").count() == 1  # SendGrid's; HubSpot's is a link
    await context.close()


async def test_a_member_is_told_what_to_type(sandbox, chromium):
    from playwright.async_api import expect

    page = await chromium.new_page()
    await page.goto(f"{sandbox.page_url}/?user=UMAX00002")
    await page.fill("#box", "hello")
    await page.press("#box", "Enter")
    await expect(page.locator("#notice")).to_contain_text("/quolum help")
    await page.fill("#box", "/quolum connect")
    await page.press("#box", "Enter")
    card = page.locator(".message.ephemeral").last
    await expect(card).to_contain_text("Only Slack admins and Quolum admins can connect accounts")
    assert await card.locator("[data-action-id]").count() == 0
