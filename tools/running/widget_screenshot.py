"""Takes the widget's screenshots in docs/: the demo careers site with the chat open
after an eligibility check, as a person sees it on a laptop (1280x800,
docs/widget-desktop.png) and on a phone (375x667, docs/widget-phone.png). Debian's
headless Chromium against the real servers (started on free ports, stopped
afterwards). `make screenshot` runs it; rerun it whenever the widget changes.

    python -m tools.running.widget_screenshot docs
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Dict, Tuple

from playwright.sync_api import Browser, expect, sync_playwright

from tests.harness.browser import launch_chromium, running_widget_site
from tests.harness.serverctl import ROOT

MODEL = ROOT / "models" / "careers.tar.gz"
TIMEOUT = 30_000
# File name -> (width, height, whether a phone).
SIZES: Dict[str, Tuple[int, int, bool]] = {
    "widget-desktop.png": (1280, 800, False),
    "widget-phone.png": (375, 667, True),
}


def take(browser: Browser, url: str, out: Path, width: int, height: int, phone: bool) -> None:
    """One screenshot: an STP check by buttons, ending with the verdict card in view
    (the widget shows a reply from its start)."""
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone)
    page = context.new_page()
    try:
        page.goto(url)
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
        expect(page.locator(".cc-card .cc-verdict")).to_be_in_viewport(timeout=TIMEOUT)
        expect(page.locator(".cc-typing")).to_be_hidden(timeout=TIMEOUT)
        page.mouse.move(10, 10)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out))
    finally:
        context.close()
    print(f"wrote {out} ({width}x{height})")


def main(folder: Path) -> None:
    with (
        tempfile.TemporaryDirectory() as workdir,
        running_widget_site(MODEL, Path(workdir)) as site,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        try:
            for name, (width, height, phone) in SIZES.items():
                take(browser, site.url, folder / name, width, height, phone)
        finally:
            browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
