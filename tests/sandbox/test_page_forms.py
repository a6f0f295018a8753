"""Every provider that joins the sandbox by discovery (sandbox/standins/sandboxed.py) is connected on the
sandbox page as a person would: the card's Connect opens its form, the values the page lists beside the
channels (made in the provider's stand-in) are pasted in, Connect; the modal then says connected and
never shows the secret again, and the digest preview has the provider's part with the seed's seats."""

from __future__ import annotations

import pytest

from handlers.credentials import CONNECTED_TITLE, TITLE, connect_action, title_of
from providers.registry import INSTALLED
from sandbox.standins.sandboxed import discover
from sandbox.workspace import TEAM_ID
from tests.sandbox.test_page import page_errors, say

KEYS = [s.key for s in discover()]


def test_the_sandbox_plays_the_newer_providers():
    assert {"github", "google", "zoom"} <= set(KEYS)


@pytest.mark.parametrize("key", KEYS)
async def test_a_person_connects_it_by_pasting_what_the_page_lists(sandbox, chromium, key):
    from playwright.async_api import expect

    spec, entry = INSTALLED[key], sandbox.sandboxed[key]
    context = await chromium.new_context()
    page = await context.new_page()
    errors = page_errors(page)
    await page.goto(f"{sandbox.page_url}/?user=UADA00001")
    card = await say(page, "/quolum connect")
    await card.locator(f"button[data-action-id='{connect_action(spec)}']").click()
    modal = page.locator("#modal")
    await expect(modal.locator(".view-title")).to_have_text(title_of(TITLE, spec.display_name))
    secret = sandbox.slack.workspaces[TEAM_ID].bot_token if spec.form.secret.workspace_token else ""
    for field in spec.form.fields:
        if field.workspace_token:  # the bot fills it: nothing to paste, no input for it
            assert await modal.get_by_label(field.label, exact=True).count() == 0
            continue
        value = await page.get_by_label(entry.labels[field.name], exact=True).input_value()
        await modal.get_by_label(field.label, exact=True).fill(value)
        secret = value if field.secret else secret
    await modal.get_by_role("button", name="Connect", exact=True).click()
    await expect(modal.locator(".view-title")).to_have_text(title_of(CONNECTED_TITLE, spec.display_name))
    assert secret and secret not in await modal.inner_text()
    await modal.locator("button.close").click()
    if spec.grant is not None:  # its grant link on the card, approved on the stand-in's consent page
        card = await say(page, "/quolum connect")
        link = card.locator(f"a[href*='/oauth/{key}/start']").first
        assert sandbox.follow_grant_link(await link.get_attribute("href")).status_code == 200

    preview = await say(page, "/quolum digest preview", timeout=20_000)
    seeded = entry.paid_seats(sandbox.standins[key], sandbox.clock())
    await expect(preview).to_contain_text(f"{spec.display_name} · ")
    await expect(preview).to_contain_text(f"of {seeded} paid seats idle")
    assert errors == []
    await context.close()
