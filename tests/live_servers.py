"""The real servers for the careers team's tools' tests (the scripts runner, the
terminal chat), as `make run` starts them, taking this checkout's own REST token:
the one the tools find by themselves when REST_API_TOKEN is unset."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

from channels.ownership import REST_API_TOKEN
from tests.harness.serverctl import ROOT, Assistant, running_assistant
from tools.careers_team.rest_client import rest_token

MODEL = ROOT / "models" / "careers.tar.gz"


@contextmanager
def servers_with_checkout_token(workdir: Path) -> Iterator[Assistant]:
    """running_assistant() with this checkout's REST token; the environment's
    REST_API_TOKEN is put back as it was afterwards."""
    assert MODEL.exists(), "no trained model: run `make train` (make test does it)"
    token, _ = rest_token({})
    assert token, "this checkout's REST token could not be read (tools/running/secret.sh)"
    saved = os.environ.get(REST_API_TOKEN)
    os.environ[REST_API_TOKEN] = token  # running_assistant gives Rasa the environment's
    try:
        with running_assistant(MODEL, workdir) as running:
            yield running
    finally:
        if saved is None:
            os.environ.pop(REST_API_TOKEN, None)
        else:
            os.environ[REST_API_TOKEN] = saved


def without_rest_token() -> dict:
    """This process's environment without REST_API_TOKEN, for a tool run as a command."""
    return {**{k: v for k, v in os.environ.items() if k != REST_API_TOKEN}, "PYTHONPATH": str(ROOT)}


@contextmanager
def answering(status: int, body: bytes) -> Iterator[Tuple[str, List[Optional[str]]]]:
    """A stand-in for an assistant that answers every POST with `status` and the JSON
    `body`: its URL, and the Authorization header of each POST it got."""
    posts: List[Optional[str]] = []

    class Answer(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            posts.append(self.headers.get("Authorization"))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", posts
    finally:
        server.shutdown()
        server.server_close()
