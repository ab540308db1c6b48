"""Takes docs/widget.png: the demo careers site with the chat widget open in the
middle of an eligibility check, in Debian's headless Chromium against the real
servers (started on free ports, stopped afterwards). `make screenshot` runs it.

    python -m tools.running.widget_screenshot docs/widget.png
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tools.running.browser import launch_chromium, running_widget_site
from tools.running.serverctl import ROOT

MODEL = ROOT / "models" / "careers.tar.gz"
TIMEOUT = 30_000


def main(out: Path) -> None:
    with (
        tempfile.TemporaryDirectory() as workdir,
        running_widget_site(MODEL, Path(workdir)) as site,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1100, "height": 820})
        page.goto(site.url)
        page.get_by_role("button", name="Ask about careers").click()
        replies = page.locator(".cc-replies")
        replies.get_by_role("button", name="Check my eligibility").click()
        replies.get_by_role("button", name="STP (graduate)").click(timeout=TIMEOUT)
        replies.get_by_role("button", name="2:2", exact=True).click(timeout=TIMEOUT)
        replies.get_by_role("button", name="MSc or MA").click(timeout=TIMEOUT)
        expect(page.locator(".cc-msg--bot").last).to_contain_text(
            "What subject is your higher degree in?", timeout=TIMEOUT
        )
        box = page.get_by_label("Your message to the careers assistant")
        box.fill("medical physics")
        box.press("Enter")
        expect(page.locator(".cc-card")).to_be_visible(timeout=TIMEOUT)
        expect(page.locator(".cc-typing")).to_be_hidden(timeout=TIMEOUT)
        page.locator(".cc-log").evaluate("log => { log.scrollTop = log.scrollHeight; }")
        page.mouse.move(10, 10)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out))
        browser.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/widget.png"))
