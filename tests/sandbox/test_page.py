"""The sandbox Slack page: played in headless Chromium by typing and clicking only."""

from __future__ import annotations

import asyncio
import itertools
import re
from zoneinfo import ZoneInfo

import pytest

from sandbox.render_terminal import date_text
from sandbox.workspace import PEOPLE, PORTAL_DOMAIN, PORTAL_ID, SAAS_USAGE, TEAM_ID
from services.credential_connect import KEY_REJECTED

SENDGRID_CONNECT = "button[data-action-id='connect_modal:sendgrid']"  # its card holds other Connect buttons


async def test_a_person_connects_hubspot_and_sendgrid_by_typing_and_clicking(sandbox, chromium):
    from playwright.async_api import expect

    context = await chromium.new_context()
    page = await context.new_page()
    errors = page_errors(page)
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
    # the keys the page shows beside the channels, as if the person had made them in SendGrid
    key = await page.get_by_label("SendGrid restricted key").input_value()
    wrong = await page.get_by_label("A deleted SendGrid key").input_value()
    assert key.startswith("SG.") and wrong.startswith("SG.") and key != wrong
    await page.locator(".message.ephemeral").last.locator(SENDGRID_CONNECT).click()
    modal = page.locator("#modal")
    await expect(modal.locator(".view-title")).to_have_text("Connect SendGrid")
    await modal.locator("input[placeholder^='SG.']").fill("not a key")
    await modal.get_by_label(re.compile("Global")).check()
    await modal.get_by_role("button", name="Connect", exact=True).click()
    await expect(modal.locator(".error")).to_be_visible()  # answered in the field, the modal stays
    await modal.locator("input[placeholder^='SG.']").fill(wrong)
    await modal.get_by_role("button", name="Connect", exact=True).click()
    await expect(modal.locator(".error")).to_have_text(KEY_REJECTED.format(provider="SendGrid"))
    await expect(modal.locator(".view-title")).to_have_text("Connect SendGrid")
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
    assert errors == []
    await context.close()


def page_errors(page) -> list[str]:
    """The page's script errors and console errors (a failed request included), as they happen."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    return errors


async def test_a_member_is_told_what_to_type(sandbox, chromium):
    from playwright.async_api import expect

    page = await chromium.new_page()
    await page.goto(f"{sandbox.page_url}/?user=UMAX00002")
    await page.fill("#box", "hello")
    await page.press("#box", "Enter")
    await expect(page.locator("#notice")).to_contain_text("/quolum help")
    await expect(page.locator("#notice code").first).to_have_text("/quolum help")  # drawn as code
    assert "`" not in await page.locator("#notice").inner_text()
    await page.fill("#box", "/quolum connect")
    await page.press("#box", "Enter")
    card = page.locator(".message.ephemeral").last
    await expect(card).to_contain_text("Only Slack admins and Quolum admins can connect accounts")
    assert await card.locator("[data-action-id]").count() == 0


async def say(page, text: str, timeout: float = 5_000):
    """Type `text` in the message box and send it; the reply only this person sees. `timeout` (ms): a
    digest collects live, and on a loaded machine the stand-in's 429s add whole seconds of waiting."""
    from playwright.async_api import expect

    replies = page.locator(".message.ephemeral")
    before = await replies.count()
    await page.fill("#box", text)
    await page.press("#box", "Enter")
    await expect(replies).to_have_count(before + 1, timeout=timeout)
    return replies.last


async def connect_hubspot(context, page):
    from playwright.async_api import expect

    card = await say(page, "/quolum connect")
    async with context.expect_page() as popup:
        await card.get_by_role("link", name="Connect").click()
    consent = await popup.value
    await expect(consent.locator("body")).to_contain_text(PORTAL_DOMAIN)
    await consent.click("#approve")
    await expect(consent.locator("body")).to_contain_text(f"Connected to {PORTAL_DOMAIN}")
    await consent.close()
    await expect(card.get_by_role("link", name="Reconnect")).to_be_visible()


def seed_truth(env) -> tuple[dict, object]:
    """What the digest must say, computed from the seeded portal (not from the bot): the figures of the
    period the digest covers (the one that ended last on #saas-usage's schedule, in the portal's zone)."""
    from core.periods import Period
    from services.digest_schedule import latest_period
    from services.digests import schedule_of
    from tests.providers.test_hubspot_usage import expected_hubspot

    async def subscriptions(services):
        return await services.storage.digests.for_team(TEAM_ID)

    [sub] = [s for s in env.on_server(subscriptions) if s.channel_id == SAAS_USAGE]
    portal = env.hubspot.portals[PORTAL_ID]
    period = Period(*latest_period(schedule_of(sub), env.clock()), portal.time_zone)
    return expected_hubspot(portal, period), period


async def test_a_person_subscribes_a_channel_sends_the_digest_and_reads_the_seeds_figures(sandbox, chromium):
    from playwright.async_api import expect

    context = await chromium.new_context()
    page = await context.new_page()
    await page.goto(f"{sandbox.page_url}/?user=UADA00001")
    await connect_hubspot(context, page)

    subscribed = await say(page, "/quolum digest subscribe #saas-usage")
    await expect(subscribed).to_contain_text("#saas-usage will get the usage digest every Monday at 09:00")
    sent = await say(page, "/quolum digest send #saas-usage", timeout=20_000)
    await expect(sent).to_contain_text("Posted the current digest to #saas-usage")

    await page.click("nav a:has-text('# saas-usage')")
    await expect(page.locator("#title")).to_have_text("# saas-usage")
    digests = page.locator("#messages .message")
    await expect(digests).to_have_count(1)
    digest = digests.first
    await expect(digest).to_contain_text("Paid seats")
    truth, period = await asyncio.to_thread(seed_truth, sandbox)
    seats = truth["seats"]
    paid, active = seats["paid_seats"], seats["active_paid_users"]
    assert paid > 0, "the seeded portal must have paid seats for the digest to show"

    fields = dict(f.split("\n", 1) for f in await digest.locator(".field").all_inner_texts())
    assert fields["Paid seats"] == str(paid)
    assert fields["Active paid users"] == f"{active} ({active / paid * 100:.1f}%)"  # the utilisation
    text = await digest.inner_text()
    assert f"{period.start} – {period.end} ({period.timezone})" in text
    idle = [s for s in seats["inactive_paid_users"]]
    assert len(idle) == paid - active
    if idle:
        assert f"{len(idle)} of {paid} paid seats idle" in text
        berlin = ZoneInfo("Europe/Berlin")  # Ada's zone in the Slack stand-in: the page draws dates in it
        today = sandbox.clock().astimezone(berlin).date()
        members = {p.email: f"@{p.name}" for p in PEOPLE}  # a seat held by a Slack member names them
        for seat in idle[:5]:  # the first five are named, the rest counted
            who = members.get(seat["email"], seat["email"])
            if seat["last_active"]:
                day = date_text(int(seat["last_active"].timestamp()), "{date_short_pretty}", berlin, today)
                assert f"{who} — last active {day}" in text
            else:
                assert f"{who} — never signed in" in text
        for seat in idle[5:]:
            assert seat["email"] not in text
        assert (f"…and {len(idle) - 5} more" in text) == (len(idle) > 5)
    else:
        assert f"Every paid seat was used ({paid} of {paid})" in text and "Idle paid seats" not in text

    # App Home follows: the subscription and where the digest went
    await page.click("nav a:has-text('Home')")
    home = page.locator("#home")
    await expect(home).to_contain_text("#saas-usage · weekly · next")
    await expect(home).to_contain_text("Posted in #saas-usage")  # the digest sent on demand is the last one
    await expect(home).not_to_contain_text("No digest has been sent yet")
    await expect(home).not_to_contain_text("UTC")  # dates drawn in Ada's zone, not their UTC fallback
    await context.close()


# What the help's usage lines stand for when typed: a person fills them in like this.
PLACEHOLDERS = {
    "@someone": "@dana",
    "#channel": "#saas-usage",
    "<provider>": "hubspot",
    "<amount>": "50",
    "<currency>": "EUR",
}


def typed_forms(usage: str) -> list[str]:
    """The commands a help usage line stands for: its name alone (`/quolum digest`), without its optional
    parts and with them, each alternative (`a|b`) once, placeholders filled in."""
    bare = usage
    while re.search(r"\[[^\[\]]*\]", bare):
        bare = re.sub(r"\[[^\[\]]*\]", "", bare)
    full = usage.replace("[", "").replace("]", "")
    forms: list[str] = [usage.split()[0]]
    for form in (bare, full):
        words = [[PLACEHOLDERS.get(a, a) for a in w.split("|")] for w in form.split()]
        for alternatives in itertools.product(*words):
            forms.append(" ".join(alternatives))
    return list(dict.fromkeys(forms))


def test_typed_forms_cover_a_usage_lines_choices():
    assert typed_forms("alerts [#channel|off]") == ["alerts", "alerts #saas-usage", "alerts off"]
    assert typed_forms("price [<provider> <amount> [<currency>]]") == ["price", "price hubspot 50 EUR"]
    assert typed_forms("disconnect hubspot|sendgrid") == [
        "disconnect",
        "disconnect hubspot",
        "disconnect sendgrid",
    ]
    assert typed_forms("digest subscribe|list")[:2] == ["digest", "digest subscribe"]


async def reply_to(page, text: str):
    """Type `text` and wait for what Slack shows: a new reply only this person sees, or a modal (closed
    again); returns the reply's text (or the modal's)."""
    from playwright.async_api import expect

    replies = page.locator(".message.ephemeral")
    before = await replies.count()
    await page.fill("#box", text)
    await page.press("#box", "Enter")
    modal = page.locator("#modal-bg.open")
    await expect(replies.nth(before).or_(modal)).to_be_visible()
    if await modal.count():
        shown = await page.locator("#modal").inner_text()
        await page.locator("#modal button.close").click()
        await expect(page.locator("#modal-bg")).to_be_hidden()
        return shown
    return await replies.nth(before).inner_text()


@pytest.mark.parametrize("user", ["UADA00001", "UMAX00002"], ids=["admin", "member"])
async def test_every_command_in_help_gets_a_reply_on_the_page(sandbox, chromium, user):
    page = await chromium.new_page()
    errors = page_errors(page)
    await page.goto(f"{sandbox.page_url}/?user={user}")
    help_text = await reply_to(page, "/quolum help")
    usages = re.findall(r"/quolum ([^\n—]+?) —", help_text)
    assert len(usages) >= 9 and "help" in usages, help_text
    typed = [form for usage in usages for form in typed_forms(usage.strip())]
    for expected in (
        "price hubspot 50",
        "admins list",
        "digest send",
        "digest unsubscribe",
        "digest list",
        "digest",
    ):
        assert any(t.startswith(expected) for t in typed), expected
    for text in typed:
        shown = await reply_to(page, f"/quolum {text}")
        assert shown.strip(), text
        assert await page.locator("#notice").inner_text() == "", (
            text,
            await page.locator("#notice").inner_text(),
        )
        assert "not one the sandbox page sends" not in shown
    assert errors == []


async def test_the_page_reflows_in_a_phone_sized_window(sandbox, chromium):
    from playwright.async_api import expect

    context = await chromium.new_context(viewport={"width": 420, "height": 800})
    page = await context.new_page()
    errors = page_errors(page)
    await page.goto(f"{sandbox.page_url}/?user=UADA00001")
    await reply_to(page, "/quolum connect")
    await reply_to(page, "/quolum help")
    nav, title = await page.locator("nav").bounding_box(), await page.locator("#title").bounding_box()
    assert nav["width"] == 420 and nav["y"] + nav["height"] <= title["y"]  # the sidebar is a bar on top
    overflow = "e => e.scrollWidth - e.clientWidth"
    assert await page.locator("#messages").evaluate(overflow) == 0  # nothing wider than the window
    assert await page.evaluate("document.documentElement.scrollWidth") == 420
    for card in await page.locator(".message").all():
        box = await card.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 420
    await page.locator(".message.ephemeral").first.locator(SENDGRID_CONNECT).click()
    modal = page.locator("#modal")
    await expect(modal.locator(".view-title")).to_have_text("Connect SendGrid")
    box = await modal.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 420
    assert errors == []
    await context.close()
