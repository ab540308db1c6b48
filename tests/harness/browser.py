"""The chat widget in a real browser: the assistant, the demo careers site and
Debian's headless Chromium driven by Playwright, for the browser tests and
`make screenshot`. Chromium comes from `apt-get install chromium`; Playwright's own
browser download is never used."""

from __future__ import annotations

import os
import shutil
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from tests.harness.serverctl import ROOT, Assistant, Server, free_port, running_assistant

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Headless, and nothing that reaches out to the internet.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDGET_JS = ROOT / "widget" / "dist" / "careers-chat.js"
AXE_JS = ROOT / "widget" / "node_modules" / "axe-core" / "axe.min.js"


def chromium_path() -> str:
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not found:
        raise RuntimeError("Chromium is not installed: `apt-get install -y chromium` (as root).")
    return found


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


@dataclass
class WidgetSite:
    assistant: Assistant
    demo: Server
    url: str  # the demo site, e.g. http://localhost:PORT/ (an allowed origin)
    other_url: str  # the same site as http://127.0.0.1:PORT/: an origin not allowed


@contextmanager
def running_widget_site(model: Path, workdir: Path) -> Iterator[WidgetSite]:
    """The assistant and the demo site on free ports; only the demo site's
    http://localhost origin may use the assistant."""
    if not WIDGET_JS.exists():
        raise RuntimeError(f"{WIDGET_JS.relative_to(ROOT)} is not built: run `make widget`")
    port = free_port()
    origin = f"http://localhost:{port}"
    with running_assistant(model, workdir, allowed_origins=[origin]) as assistant:
        demo = Server(
            "demo site",
            [
                sys.executable,
                "-m",
                "tools.running.demo_site",
                "--port",
                str(port),
                "--rasa-url",
                assistant.url,
            ],
            workdir / "demo.log",
        )
        demo.start(f"http://127.0.0.1:{port}/careers-chat.js")
        try:
            yield WidgetSite(assistant, demo, origin + "/", f"http://127.0.0.1:{port}/")
        finally:
            demo.stop()
