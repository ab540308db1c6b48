"""runtime/action_server.py, the real server over HTTP: it answers only callers with its
token, refuses compressed and oversized bodies, sends no CORS headers and listens on
127.0.0.1 only; and Rasa, started as `make run` starts it, reaches it with the token."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import pytest

from runtime import ACTION_SERVER_TOKEN
from tests.harness.serverctl import ACTION_SERVER, Server, free_port

pytestmark = pytest.mark.servers

TOKEN = "a-token-for-these-tests"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    running = Server(
        "action server",
        [*ACTION_SERVER, "--actions", "actions", "--port", str(port)],
        Path(tmp_path_factory.mktemp("actions")) / "actions.log",
        env={ACTION_SERVER_TOKEN: TOKEN, "ACTIONS_HOST": ""},
    )
    running.start(f"http://127.0.0.1:{port}/health")
    yield running, f"http://127.0.0.1:{port}"
    running.stop()


def call(
    url: str, body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None, method: str = "POST"
) -> Tuple[int, Dict[str, str], Any]:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, dict(error.headers), json.loads(text or b"null")
        except ValueError:
            return error.code, dict(error.headers), text.decode(errors="replace")


def action_call(name: str = "action_explain") -> bytes:
    tracker = {
        "sender_id": "someone",
        "slots": {},
        "latest_message": {"text": "why?", "intent": {"name": "ask_why"}, "entities": []},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }
    return json.dumps(
        {"next_action": name, "sender_id": "someone", "tracker": tracker, "version": "3.6.21"}
    ).encode()


JSON = {"Content-Type": "application/json"}
WITH_TOKEN = {**JSON, "Authorization": f"Bearer {TOKEN}"}


def test_only_a_caller_with_the_token_runs_actions(server):
    _, url = server
    assert call(url + "/health", method="GET")[0] == 200  # open, for load balancers
    for headers in (JSON, {**JSON, "Authorization": "Bearer wrong"}, {**JSON, "Authorization": TOKEN}):
        status, _, body = call(url + "/webhook", action_call(), headers)
        assert status == 401 and "only the Rasa server" in body["error"], headers
        assert call(url + "/actions", headers=headers, method="GET")[0] == 401
    status, _, body = call(url + "/webhook", action_call(), WITH_TOKEN)
    assert status == 200 and body["responses"][0]["response"] == "utter_explain_nothing"
    status, _, actions = call(url + "/actions", headers=WITH_TOKEN, method="GET")
    assert status == 200 and {"name": "action_extract_profile"} in actions


def test_a_compressed_body_is_refused_unread_and_the_server_goes_on(server):
    """A deflate bomb (100 MB of zeros in 100 kB) that rasa-sdk's own server would
    inflate in full: refused with 415, and the server's memory does not grow."""
    running, url = server
    before = running.memory_kb("VmHWM")
    bomb = zlib.compress(b"0" * 100_000_000, 9)
    for encoding in ("deflate", "gzip", "br"):
        status, _, body = call(url + "/webhook", bomb, {**WITH_TOKEN, "Content-Encoding": encoding})
        assert status == 415 and "uncompressed" in body["error"]
    assert running.memory_kb("VmHWM") < before + 20_000
    assert call(url + "/webhook", action_call(), WITH_TOKEN)[0] == 200


def test_bad_bodies_get_a_4xx_that_echoes_nothing(server):
    _, url = server
    huge = json.dumps({"next_action": "action_explain", "padding": "x" * 2_000_000}).encode()
    assert call(url + "/webhook", huge, WITH_TOKEN)[0] == 413
    status, _, body = call(url + "/webhook", b'{"next_action": "action_expl', WITH_TOKEN)
    assert status == 400 and "action_expl" not in json.dumps(body)
    status, _, body = call(
        url + "/webhook", json.dumps({"next_action": "no_such_action"}).encode(), WITH_TOKEN
    )
    assert status == 404
    assert call(url + "/webhook", action_call(), WITH_TOKEN)[0] == 200


def test_no_web_page_may_call_it(server):
    _, url = server
    _, headers, _ = call(
        url + "/webhook", action_call(), {**WITH_TOKEN, "Origin": "https://elsewhere.example"}
    )
    assert not {h.lower() for h in headers} & {
        "access-control-allow-origin",
        "access-control-allow-credentials",
    }


def listening_addresses(port: int) -> set:
    """The local addresses of the sockets listening on `port` (IPv4 and IPv6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_it_listens_on_this_machine_only(server):
    running, url = server
    port = int(url.rsplit(":", 1)[1])
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, and nothing else
