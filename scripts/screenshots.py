"""Regenerate the README's screenshots from the sandbox Slack page with headless Chromium.

    .venv/bin/python scripts/screenshots.py          # writes docs/*.png

Starts a fresh sandbox (stand-ins and the real server on 127.0.0.1), plays the story on the page by
typing and clicking, and photographs the Connections card, the SendGrid modal, App Home and the digest
posted in #saas-usage. Needs
Debian's chromium (/usr/bin/chromium) and the playwright package (never `playwright install`).
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from sandbox.environment import SandboxEnv
from sandbox.page import CHROMIUM_ARGS, start_page

DOCS = Path(__file__).resolve().parents[1] / "docs"


def main() -> int:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        print("screenshots: needs Debian's chromium package (apt-get install chromium)", file=sys.stderr)
        return 2
    DOCS.mkdir(exist_ok=True)
    with SandboxEnv() as env, sync_playwright() as p:
        server = start_page(env)
        try:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1100, "height": 720}, device_scale_factor=1)
            page = context.new_page()
            page.goto(f"{server.url}/?user=UADA00001")
            page.fill("#box", "/quolum connect")
            page.press("#box", "Enter")
            card = page.locator(".message.ephemeral").last
            expect(card).to_contain_text("Not connected")
            with context.expect_page() as popup:
                card.get_by_role("link", name="Connect").click()
            consent = popup.value
            consent.click("#approve")
            expect(consent.locator("body")).to_contain_text("Connected to")
            consent.close()
            expect(card).to_contain_text("Connected to acme.hubspot.example")

            card.get_by_role("button", name="Connect", exact=True).click()
            modal = page.locator("#modal")
            expect(modal.locator(".view-title")).to_have_text("Connect SendGrid")
            modal.get_by_label(re.compile("Global")).check()
            modal.screenshot(path=str(DOCS / "sendgrid-modal.png"))  # before a key is pasted
            modal.locator("input[placeholder^='SG.']").fill(page.locator("#sendgrid-key").input_value())
            modal.get_by_role("button", name="Connect").click()
            expect(modal.locator(".view-title")).to_have_text("SendGrid connected")
            modal.locator("button.close").click()
            expect(page.locator("#modal-bg")).to_be_hidden()
            page.fill("#box", "/quolum status")
            page.press("#box", "Enter")
            status = page.locator(".message.ephemeral").last
            expect(status).to_contain_text("acme_")
            status.screenshot(path=str(DOCS / "card.png"))

            page.fill("#box", "/quolum digest subscribe #saas-usage")
            page.press("#box", "Enter")
            expect(page.locator(".message.ephemeral").last).to_contain_text("will get the usage digest")
            page.fill("#box", "/quolum digest send #saas-usage")
            page.press("#box", "Enter")
            expect(page.locator(".message.ephemeral").last).to_contain_text("Posted the current digest")

            page.click("nav a:has-text('Home')")
            expect(page.locator("#home")).to_contain_text("#saas-usage · weekly · next")
            page.locator("#home").screenshot(path=str(DOCS / "app-home.png"))

            page.click("nav a:has-text('# saas-usage')")
            digest = page.locator("#messages .message").last
            expect(digest).to_contain_text("Paid seats")
            digest.screenshot(path=str(DOCS / "digest.png"))
            browser.close()
        finally:
            server.stop()
    for name in ("card.png", "sendgrid-modal.png", "app-home.png", "digest.png"):
        print(f"wrote docs/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
