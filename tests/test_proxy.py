"""The reverse proxy (deploy/proxy/nginx.conf, Debian's nginx) in front of the real
servers, as every deployment profile runs it: Sanic 21.12 never sees a request the
proxy has not checked.

Over HTTP through the proxy: the widget's bundle; a REST turn and a socket.io turn
(long-polling, then the WebSocket upgrade); Rasa's other paths answer 404; wrong
methods 405; bodies over the channels' limit 413 and request floods 429, both
before Rasa; slashes merged; ambiguous and oversized requests 400; underscored and
hop-by-hop headers never passed on; no version in any header. The header checks put
a recorder in Rasa's place, which keeps each request exactly as the proxy sent it.

Marked `servers` (it starts Rasa, about 25 s in all): `make test` runs it, `make unit`
does not. Debian's nginx comes from tools/running/system-packages.sh.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
import websockets

from tests.harness.proxy import CONFIG, Proxy, running_proxy
from tests.harness.serverctl import ROOT, Assistant, free_port, running_assistant

MODEL = ROOT / "models" / "careers.tar.gz"
WIDGET = ROOT / "widget" / "dist" / "careers-chat.js"
ORIGIN = "http://localhost:8080"
MIB = 1024 * 1024
PROXY_NOT_FOUND = {"error": "Not found."}
PROXY_TOO_MANY = "Too many requests from this address"
# Platforms not set up here: their webhooks answer 503 from Rasa, whatever this shell has.
RASA_SETTINGS = {
    "TRUSTED_PROXY_HOPS": "1",
    "SLACK_BOT_TOKEN": "",
    "SLACK_SIGNING_SECRET": "",
    "TEAMS_APP_ID": "",
    "TEAMS_APP_PASSWORD": "",
}

pytestmark = pytest.mark.servers

Answer = Tuple[int, Dict[str, str], bytes]


@dataclass
class Front:
    """The proxy and, behind it, the real servers."""

    proxy: Proxy
    assistant: Assistant

    @property
    def rasa_port(self) -> int:
        return int(self.assistant.url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def front(tmp_path_factory) -> Iterator[Front]:
    assert MODEL.exists(), "no trained model: run `make train` (make test does it)"
    assert WIDGET.exists(), "the widget is not built: run `make widget` (make test does it)"
    folder = tmp_path_factory.mktemp("proxy")
    with running_assistant(MODEL, folder, allowed_origins=[ORIGIN], env=RASA_SETTINGS) as assistant:
        port = assistant.url.rsplit(":", 1)[1]
        with running_proxy([f"127.0.0.1:{port}"], folder) as proxy:
            yield Front(proxy, assistant)


@dataclass
class Recorder:
    """Stands where Rasa would, and keeps each request it gets: method, path,
    headers (in the order and case sent) and body."""

    requests: List[Tuple[str, str, List[Tuple[str, str]], bytes]] = field(default_factory=list)
    port: int = 0


@contextmanager
def recording_upstream() -> Iterator[Recorder]:
    recorder = Recorder()

    class Record(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            recorder.requests.append((self.command, self.path, list(self.headers.items()), body))
            reply = b'{"recorded": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.send_header("Server", "Sanic/21.12.2")
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_POST = do_DELETE = do_OPTIONS = handle_any

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Record)
    recorder.port = server.server_port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Iterator[Tuple[Proxy, Recorder]]:
    """The proxy in front of the recorder."""
    with recording_upstream() as recorder:
        folder = tmp_path_factory.mktemp("proxy-recorded")
        with running_proxy([f"127.0.0.1:{recorder.port}"], folder, name="recorded") as proxy:
            yield proxy, recorder


def call(
    port: int,
    method: str,
    path: str,
    body: Optional[bytes] = None,
    headers: Optional[Dict[str, str]] = None,
    client: Optional[str] = None,
    connection: Optional[http.client.HTTPConnection] = None,
) -> Answer:
    """One request to 127.0.0.1:`port`, as the visitor `client` (the address a load
    balancer in front would put in X-Forwarded-For; each test has its own, so each
    has its own allowance). Returns the status, the headers and the body."""
    sent = dict(headers or {})
    if client:
        sent["X-Forwarded-For"] = client
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        if own:
            connection.close()


def raw(port: int, request: bytes) -> bytes:
    """The status line nginx answers a request written byte for byte."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while b"\r\n" not in answer:
            piece = connection.recv(4096)
            if not piece:
                break
            answer += piece
    return answer.split(b"\r\n", 1)[0]


def as_json(body: bytes) -> Any:
    return json.loads(body.decode())


def rest_token(front: Front, client: str) -> str:
    status, _, body = call(front.proxy.port, "POST", "/webhooks/rest/conversations", b"", client=client)
    assert status == 201, body
    return as_json(body)["token"]


def say(front: Front, path: str, token: str, message: str, client: str) -> Answer:
    body = json.dumps({"sender": token, "message": message}).encode()
    return call(front.proxy.port, "POST", path, body, {"Content-Type": "application/json"}, client=client)


def texts(body: bytes) -> str:
    return "\n".join(reply.get("text", "") for reply in as_json(body))


# --- what the public gets ----------------------------------------------------------


def test_the_widget_bundle_is_served_by_the_proxy_as_javascript(front):
    status, headers, body = call(front.proxy.port, "GET", "/careers-chat.js", client="203.0.113.1")
    assert status == 200
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-cache"
    assert body == WIDGET.read_bytes()
    assert call(front.proxy.port, "HEAD", "/careers-chat.js", client="203.0.113.1")[0] == 200
    # Not from Rasa: nothing there serves it.
    assert call(front.rasa_port, "GET", "/careers-chat.js")[0] == 404


def test_a_rest_turn_through_the_proxy(front):
    client = "203.0.113.2"
    # A page elsewhere asks first (CORS preflight): Rasa's answer comes through.
    status, headers, _ = call(
        front.proxy.port,
        "OPTIONS",
        "/webhooks/rest/webhook",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        client=client,
    )
    assert status in (200, 204) and headers.get("Access-Control-Allow-Origin") == ORIGIN
    token = rest_token(front, client)
    status, _, body = say(front, "/webhooks/rest/webhook", token, "What skills do I need?", client)
    assert status == 200 and "attention to detail" in texts(body)


def test_a_socketio_handshake_by_polling_then_the_websocket_upgrade_and_a_turn(front):
    client = "203.0.113.3"
    port = front.proxy.port
    origin = {"Origin": ORIGIN}
    status, _, body = call(port, "GET", "/socket.io/?EIO=4&transport=polling", headers=origin, client=client)
    assert status == 200 and body.startswith(b"0"), body
    sid = as_json(body[1:])["sid"]
    polling = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    plain = {**origin, "Content-Type": "text/plain;charset=UTF-8"}
    assert call(port, "POST", polling, b"40", plain, client=client)[2].lower() == b"ok"
    status, _, body = call(port, "GET", polling, headers=origin, client=client)
    assert status == 200 and body.startswith(b"40"), body

    async def upgrade_and_chat() -> str:
        url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket&sid={sid}"
        async with websockets.connect(
            url, origin=ORIGIN, extra_headers={"X-Forwarded-For": client}, open_timeout=10, ping_interval=None
        ) as socket_:
            await socket_.send("2probe")
            assert await asyncio.wait_for(socket_.recv(), 10) == "3probe"
            await socket_.send("5")
            await socket_.send('42["session_request",{}]')
            (token,) = await _event(socket_, "session_confirm")
            turn = {"message": "What skills do I need?", "session_id": token}
            await socket_.send("42" + json.dumps(["user_uttered", turn]))
            said = []
            while not any("attention to detail" in text for text in said):
                (reply,) = await _event(socket_, "bot_uttered")
                said.append(reply.get("text", ""))
            return "\n".join(said)

    assert "attention to detail" in asyncio.run(upgrade_and_chat())


async def _event(socket_: Any, name: str) -> List[Any]:
    """The arguments of the next socket.io event `name`, answering pings meanwhile."""
    while True:
        packet = await asyncio.wait_for(socket_.recv(), 30)
        if packet == "2":
            await socket_.send("3")
        elif packet.startswith("42"):
            event, *arguments = json.loads(packet[2:])
            if event == name:
                return arguments


def test_the_platforms_webhooks_reach_rasa(front):
    for platform in ("slack", "teams"):
        status, _, body = call(
            front.proxy.port,
            "POST",
            f"/webhooks/{platform}/webhook",
            b"{}",
            {"Content-Type": "application/json"},
            client="203.0.113.4",
        )
        # Rasa's own answer for a platform not set up, not the proxy's.
        assert status == 503, body
        assert "not available" not in as_json(body)["error"]


def test_rasas_other_paths_are_not_found_at_the_proxy(front):
    client = "203.0.113.5"
    # These answer at Rasa itself ...
    for path in ("/webhooks/rest/", "/webhooks/socketio/", "/webhooks/slack/", "/webhooks/teams/"):
        assert call(front.rasa_port, "GET", path)[0] == 200, path
    # ... and nothing but the public routes answers through the proxy.
    for path in (
        "/webhooks/rest/",
        "/webhooks/socketio/",
        "/webhooks/slack/",
        "/webhooks/teams/",
        "/version",
        "/status",
        "/model",
        "/model/parse",
        "/conversations/x/tracker",
        "/socket.io",
        "/webhooks/rest/webhook/../../version",
        "/%76ersion",
        "/careers-chat.js.map",
        "/.env",
    ):
        for method in ("GET", "POST"):
            status, headers, body = call(front.proxy.port, method, path, b"{}", client=client)
            assert (status, as_json(body)) == (404, PROXY_NOT_FOUND), (method, path, status, body)
            assert headers["Content-Type"] == "application/json"


def test_the_root_answers_the_widgets_check_without_naming_rasa(front):
    """The widget asks GET / before falling back to REST: the proxy answers it with
    the REST channel's health, not Rasa's greeting, which names its version."""
    assert b"Rasa" in call(front.rasa_port, "GET", "/")[2]
    status, headers, body = call(front.proxy.port, "GET", "/", client="203.0.113.6")
    assert status == 200 and as_json(body) == {"status": "ok"}
    assert b"Rasa" not in body and b"3.6" not in body
    assert call(front.proxy.port, "POST", "/", b"{}", client="203.0.113.6")[0] == 405


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/webhooks/rest/webhook"),
        ("PUT", "/webhooks/rest/webhook"),
        ("DELETE", "/webhooks/rest/webhook"),
        ("GET", "/webhooks/rest/conversations"),
        ("POST", "/webhooks/rest/conversation"),
        ("GET", "/webhooks/slack/webhook"),
        ("OPTIONS", "/webhooks/teams/webhook"),
        ("DELETE", "/socket.io/?EIO=4&transport=polling"),
        ("POST", "/careers-chat.js"),
        ("TRACE", "/"),
        ("PATCH", "/webhooks/rest/webhook"),
    ],
)
def test_a_method_a_route_does_not_take_gets_405(front, method, path):
    status, _, body = call(front.proxy.port, method, path, b"{}", client="203.0.113.7")
    assert status == 405 and "error" in as_json(body), (status, body)


def test_a_made_up_method_gets_405(front):
    status_line = raw(front.proxy.port, b"BREW / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status_line == b"HTTP/1.1 405 Not Allowed"


def test_slashes_are_merged_before_the_request_reaches_rasa(front):
    client = "203.0.113.8"
    token = rest_token(front, client)
    status, _, body = say(front, "//webhooks//rest/webhook", token, "What skills do I need?", client)
    assert status == 200 and "attention to detail" in texts(body)


# --- what never reaches Rasa ----------------------------------------------------------


def test_a_body_over_the_channels_limit_gets_413_from_the_proxy(front):
    client = "203.0.113.9"
    port = front.proxy.port
    json_type = {"Content-Type": "application/json"}
    status, _, body = call(port, "POST", "/webhooks/rest/webhook", b"x" * (MIB + 1), json_type, client)
    assert (status, as_json(body)) == (413, {"error": "The request is too large."})
    # Refused on its declared length, before any of it is sent.
    head = b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n"
    assert (
        raw(port, head + b"Content-Type: application/json\r\n\r\n")
        == b"HTTP/1.1 413 Request Entity Too Large"
    )
    polling = "/socket.io/?EIO=4&transport=polling&sid=x"
    assert call(port, "POST", polling, b"4" * (MIB + 1), {"Origin": ORIGIN}, client)[0] == 413
    # Nothing goes with a request for a new conversation.
    assert call(port, "POST", "/webhooks/rest/conversations", b"x" * 2048, json_type, client)[0] == 413
    # The channels' own limit, not a tighter one: just under 1 MiB reaches Rasa, which
    # cuts the message and answers.
    token = rest_token(front, client)
    padding = MIB - 1000
    status, _, body = say(front, "/webhooks/rest/webhook", token, "a" * padding, client)
    assert status == 200, body


def test_a_burst_of_requests_from_one_address_gets_429_and_others_are_served(front):
    port = front.proxy.port
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.monotonic()
    try:
        answers = [call(port, "GET", "/", client="203.0.113.10", connection=connection) for _ in range(80)]
    finally:
        connection.close()
    seconds = time.monotonic() - started
    served = [status for status, _, _ in answers if status == 200]
    refused = [body for status, _, body in answers if status == 429]
    # One request and a burst of 40 at once, then 10 a second.
    assert len(served) + len(refused) == 80, [status for status, _, _ in answers]
    assert 41 <= len(served) <= 42 + 10 * seconds, (len(served), seconds)
    assert PROXY_TOO_MANY in as_json(refused[0])["error"]
    assert call(port, "GET", "/", client="203.0.113.11")[0] == 200, "another visitor is served"


def test_new_conversations_beyond_the_channels_allowance_are_refused_by_the_proxy(front):
    """20 at once, as the channels allow (NEW_CONVERSATION_BURST); the 21st gets the
    proxy's 429, so Rasa never sees the flood."""
    answers = [
        call(front.proxy.port, "POST", "/webhooks/rest/conversations", b"", client="203.0.113.12")
        for _ in range(21)
    ]
    assert [status for status, _, _ in answers[:20]] == [201] * 20
    status, _, body = answers[20]
    assert status == 429 and PROXY_TOO_MANY in as_json(body)["error"], body


def test_content_length_with_transfer_encoding_is_refused_with_400(recorded):
    proxy, recorder = recorded
    before = len(recorder.requests)
    request = (
        b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n"
    )
    assert raw(proxy.port, request) == b"HTTP/1.1 400 Bad Request"
    assert len(recorder.requests) == before, "the ambiguous request was passed on"


@pytest.mark.parametrize(
    "request_bytes, status_line",
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", b"HTTP/1.1 400 Bad Request"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"HTTP/1.1 414 Request-URI Too Large"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", b"HTTP/1.1 400 Bad Request"),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"HTTP/1.1 400 Bad Request",
        ),
        (
            b"POST /webhooks/rest/webhook HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request",
        ),
        (
            b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            b"HTTP/1.1 501 Not Implemented",
        ),
    ],
    ids=[
        "header-over-8k",
        "uri-over-8k",
        "space-in-a-header-name",
        "two-lengths",
        "chunked-http-1.0",
        "gzip",
    ],
)
def test_oversized_and_malformed_requests_are_refused_unsent(recorded, request_bytes, status_line):
    proxy, recorder = recorded
    before = len(recorder.requests)
    assert raw(proxy.port, request_bytes) == status_line
    assert len(recorder.requests) == before


def test_rasa_gets_a_plain_request_without_the_clients_forwarding_or_hop_by_hop_headers(recorded):
    proxy, recorder = recorded
    status, _, _ = call(
        proxy.port,
        "POST",
        "//webhooks//rest/./webhook?x=1",
        b'{"sender": "s", "message": "hi"}',
        {
            "Content-Type": "application/json",
            "Sender_Id": "someone-else",
            "X_Forwarded_For": "6.6.6.6",
            "Keep-Alive": "timeout=600",
            "TE": "trailers",
            "Proxy-Connection": "keep-alive",
            "Proxy-Authorization": "Basic eDp5",
            "Forwarded": "for=6.6.6.6",
            "X-Real-IP": "6.6.6.6",
            "X-Forwarded-Host": "evil.example",
            "Upgrade": "websocket",
        },
        client="6.6.6.6, 203.0.113.13, 10.1.2.3",  # made up, the visitor, an inner proxy
    )
    assert status == 200
    method, path, headers, body = recorder.requests[-1]
    names = {name.lower(): value for name, value in headers}
    assert (method, path) == ("POST", "/webhooks/rest/webhook?x=1")
    assert body == b'{"sender": "s", "message": "hi"}'
    assert names["x-forwarded-for"] == "203.0.113.13", "only the visitor's address"
    assert names["x-forwarded-proto"] == "http"
    assert names["content-length"] == str(len(body))
    for dropped in (
        "sender_id",
        "x_forwarded_for",
        "keep-alive",
        "te",
        "proxy-connection",
        "proxy-authorization",
        "forwarded",
        "x-real-ip",
        "x-forwarded-host",
        "upgrade",
        "connection",
        "transfer-encoding",
    ):
        assert dropped not in names, f"{dropped} was passed on: {headers}"


def test_a_chunked_body_reaches_rasa_whole_with_its_length(recorded):
    proxy, recorder = recorded
    request = (
        b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n{"a":\r\n2\r\n1}\r\n0\r\n\r\n'
    )
    assert raw(proxy.port, request) == b"HTTP/1.1 200 OK"
    _, _, headers, body = recorder.requests[-1]
    names = {name.lower(): value for name, value in headers}
    assert body == b'{"a":1}' and names["content-length"] == "7" and "transfer-encoding" not in names


def test_no_header_names_a_version(front, recorded):
    """nginx says only "nginx"; Sanic's and the recorder's Server headers stay behind."""
    recorder_proxy, _ = recorded
    answers = [
        call(front.proxy.port, "GET", "/", client="203.0.113.14"),
        call(front.proxy.port, "GET", "/version", client="203.0.113.14"),
        call(front.proxy.port, "GET", "/careers-chat.js", client="203.0.113.14"),
        call(recorder_proxy.port, "POST", "/webhooks/rest/webhook", b"{}", client="203.0.113.14"),
    ]
    for status, headers, body in answers:
        assert headers["Server"] == "nginx", headers
        for name, value in headers.items():
            assert not any(word in value for word in ("Sanic", "Rasa", "nginx/", "1.22")), (name, value)
        if status != 200:
            assert b"nginx" not in body


def test_rasa_down_gets_a_plain_503_and_the_proxy_its_own_health(tmp_path):
    with running_proxy([f"127.0.0.1:{free_port()}"], tmp_path, name="no-rasa") as proxy:
        status, _, body = call(proxy.port, "POST", "/webhooks/rest/webhook", b"{}", client="203.0.113.15")
        assert status == 503 and "not available" in as_json(body)["error"]
        assert call(proxy.port, "GET", "/healthz")[:3:2] == (200, b"ok\n")


def test_the_lines_the_tests_rewrite_are_the_only_differences_from_the_shipped_file(tmp_path):
    """What the tests run is deploy/proxy/nginx.conf but for ports and paths."""
    from tests.harness.proxy import render

    shipped = CONFIG.read_text().splitlines()
    rendered = render(["127.0.0.1:1"], 1, tmp_path).splitlines()
    changed = [line for line in shipped if line not in rendered]
    assert len(changed) == 10, changed
    assert all(
        any(
            part in line
            for part in ("/tmp/", "/dev/stdout", "listen 8080", "server rasa:5005", "/usr/share/")
        )
        for line in changed
    ), changed
