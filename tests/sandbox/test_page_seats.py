"""The idle-seats loop played on the sandbox page in headless Chromium, by typing, choosing and clicking
only: Ada asks Max about his idle HubSpot seat, Max clicks Release in his DM, Ada gives Quolum HubSpot's
write permission on the consent page, reclaims the seat in the confirm dialog, and the HubSpot stand-in
shows the seat unassigned once."""

from __future__ import annotations

from sandbox.workspace import MAX_HUBSPOT_ID, PORTAL_ID, SEAT_PRICE
from tests.sandbox.test_page import connect_hubspot, page_errors, say


async def choose(message, name: str) -> None:
    """Choose `name` in the message's people list (a multi-select), as a person does with the mouse."""
    chooser = message.locator("select[multiple]")
    labels = await chooser.locator("option").all_inner_texts()
    await chooser.select_option(label=[label for label in labels if label.startswith(name)])


async def test_ada_asks_max_releases_and_ada_reclaims_on_the_page(sandbox, chromium):
    from playwright.async_api import expect

    context = await chromium.new_context()
    page = await context.new_page()
    errors = page_errors(page)
    await page.goto(f"{sandbox.page_url}/?user=UADA00001")
    await connect_hubspot(context, page)
    sent = await say(page, "/quolum digest send #saas-usage", timeout=20_000)  # collects: idle seats known
    await expect(sent).to_contain_text("Posted the current digest to #saas-usage")
    await say(page, f"/quolum price hubspot {SEAT_PRICE} USD")

    seats = await say(page, "/quolum seats hubspot")
    await expect(seats).to_contain_text("@Max · Sales Hub Professional · never active")
    await choose(seats, "Max")
    await seats.get_by_role("button", name="Ask").click()
    await expect(page.locator(".message.ephemeral").last).to_contain_text("Asked 1: Max Lind")

    # Max reads his DM and releases the seat
    await page.select_option("#person", "UMAX00002")
    await page.click("nav a:has-text('Quolum (DM)')")
    ask = page.locator("#messages .message").last
    await expect(ask).to_contain_text("Do you still need your HubSpot seat?")
    await ask.get_by_role("button", name="Release").click()
    await expect(ask).to_contain_text("your HubSpot seat will be given back")
    await expect(ask.get_by_role("button")).to_have_count(0)

    # Ada: her summary says so; she gives Quolum the write permission, then reclaims
    await page.select_option("#person", "UADA00001")
    await page.click("nav a:has-text('Quolum (DM)')")
    await expect(page.locator("#messages")).to_contain_text("1 release")
    await page.click("nav a:has-text('# general')")
    await expect(page.locator(".message.ephemeral").first).to_be_visible()  # general drawn again
    seats = await say(page, "/quolum seats hubspot")
    await expect(seats).to_contain_text("released")
    await seats.get_by_role("button", name="Enable reclaiming").click()
    offer = page.locator(".message.ephemeral").last
    await expect(offer).to_contain_text("Give Quolum permission to reclaim HubSpot seats")
    async with context.expect_page() as popup:
        await offer.get_by_role("link").click()
    consent = await popup.value
    await expect(consent.locator("#required-scopes")).to_contain_text("settings.users.write")
    await consent.click("#approve")
    await expect(consent.locator("body")).to_contain_text("Connected to")
    await consent.close()

    seats = await say(page, "/quolum seats hubspot")
    await choose(seats, "Max")
    await seats.get_by_role("button", name="Reclaim…").click()
    modal = page.locator("#modal")
    await expect(modal).to_contain_text(f"Saves ${SEAT_PRICE * 12:,} a year.")
    await modal.get_by_role("button", name="Reclaim").click()
    await expect(modal).to_contain_text("Unassigned Max Lind's Sales Hub Professional seat in HubSpot.")
    await expect(modal.get_by_role("button", name="Undo Max Lind")).to_be_visible()

    writes = [w for w in sandbox.hubspot.seat_writes if str(w["user_id"]) == str(MAX_HUBSPOT_ID)]
    assert len(writes) == 1 and writes[0]["seats_after"] == []
    max_user = next(u for u in sandbox.hubspot.portals[PORTAL_ID].users if u.id == MAX_HUBSPOT_ID)
    assert max_user.seat_names == []
    assert errors == []
    await context.close()
