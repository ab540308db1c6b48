"""Serves the demo careers site (widget/demo/) and the built widget
(widget/dist/careers-chat.js, at /careers-chat.js) over HTTP, for `make run` and the
browser tests. Standard library only.

    python -m tools.running.demo_site --port 8080 --rasa-url http://localhost:5005

The demo pages name the assistant as http://localhost:5005; `--rasa-url` points
them at another address (the tests start Rasa on a free port).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "widget" / "demo"
WIDGET = ROOT / "widget" / "dist" / "careers-chat.js"
DEFAULT_RASA_URL = "http://localhost:5005"


class DemoHandler(http.server.SimpleHTTPRequestHandler):
    rasa_url = DEFAULT_RASA_URL

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path == "/careers-chat.js":
            return self._send(WIDGET, "text/javascript; charset=utf-8")
        if path == "/" or path.endswith(".html"):
            page = DEMO / ("index.html" if path == "/" else path.lstrip("/"))
            if page.resolve().parent == DEMO.resolve() and page.is_file():
                html = page.read_text(encoding="utf-8").replace(DEFAULT_RASA_URL, self.rasa_url)
                return self._send_bytes(html.encode("utf-8"), "text/html; charset=utf-8")
        return super().do_GET()

    def _send(self, path: Path, content_type: str) -> None:
        if not path.is_file():
            self.send_error(404, f"{path.name} is not built: run `make widget`")
            return
        self._send_bytes(path.read_bytes(), content_type)

    def _send_bytes(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write("%s - %s\n" % (self.address_string(), format % args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--rasa-url", default=DEFAULT_RASA_URL)
    args = parser.parse_args()
    handler = functools.partial(DemoHandler, directory=str(DEMO))
    DemoHandler.rasa_url = args.rasa_url.rstrip("/")
    server = http.server.ThreadingHTTPServer((args.host, args.port), handler)
    print(
        f"Demo careers site on http://localhost:{args.port}/ (assistant: {DemoHandler.rasa_url})", flush=True
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
