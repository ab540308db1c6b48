"""The contract between Rasa 3.6.21 and the action server on its own stack.

The action server runs in an environment of its own (.venv-actions: Python 3.13, the
newest rasa-sdk), apart from Rasa's (Python 3.11, where Rasa holds rasa-sdk at 3.6.2). The
real Rasa server calls it through a tee: each call also goes to the same server on
rasa-sdk 3.6.2 (the reference, in Rasa's env), and the two answers must be the same,
status and body, event for event. The conversation scripts chosen below reach every
action the server has (a new action fails the test until a script reaches it); the
calls Rasa never makes (bad bodies, unknown actions, a failing action, no token) are
sent straight to the tee afterwards.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from tests.harness.serverctl import (
    ACTIONS_PYTHON,
    REFERENCE_ACTION_SERVER,
    ROOT,
    action_server,
    free_port,
    running_assistant,
)
from tools.careers_team.conversation_scripts import load_scripts
from tools.careers_team.converse import run_conversation
from tools.careers_team.rest_client import RestAssistant

pytestmark = pytest.mark.servers

MODEL = ROOT / "models" / "careers.tar.gz"
# Every conversation script: the check to each verdict and its explanation,
# corrections, starting again, topic answers, questions our sources do not cover,
# someone else's check, feedback, deletion and the fallback (about 15 s).
SCRIPTS = ROOT / "tests" / "conversations"
# Headers the tee passes on to both servers.
PASSED_ON = ("Authorization", "Content-Type", "Content-Encoding")


@dataclass
class Call:
    path: str
    action: Optional[str]
    reference: Tuple[int, Any]
    current: Tuple[int, Any]


@dataclass
class Tee:
    """A proxy that sends each request to both action servers and answers with the
    current one's answer, keeping both."""

    reference: str
    current: str
    calls: List[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def forward(self, base: str, method: str, path: str, body: Optional[bytes], headers: Dict[str, str]):
        request = urllib.request.Request(base + path, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def handle(
        self, method: str, path: str, body: Optional[bytes], headers: Dict[str, str]
    ) -> Tuple[int, bytes]:
        answers = [self.forward(base, method, path, body, headers) for base in (self.reference, self.current)]
        try:
            action = json.loads(body or b"null").get("next_action")
        except (ValueError, AttributeError, UnicodeDecodeError):
            action = None
        with self.lock:
            self.calls.append(Call(path, action, *[(status, parsed(raw)) for status, raw in answers]))
        return answers[1]

    def differences(self) -> List[str]:
        return [
            f"{call.path} {call.action}: reference {call.reference} != current {call.current}"
            for call in self.calls
            if call.reference != call.current
        ]


def parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return raw.decode(errors="replace")


@pytest.fixture(scope="module")
def tee_in_front(tmp_path_factory) -> Iterator[Tuple[Tee, Any, str]]:
    """The tee, the assistant calling it, and the action servers' Authorization header."""
    if not MODEL.exists():
        pytest.skip("needs the trained model (make train)")
    assert ACTIONS_PYTHON.exists(), "no .venv-actions: run `make install`"
    workdir = Path(tmp_path_factory.mktemp("contract"))
    reference_dir = workdir / "reference"
    reference_dir.mkdir()
    token = secrets.token_hex(16)
    current_port, reference_port = free_port(), free_port()
    reference = action_server(reference_port, reference_dir, token, REFERENCE_ACTION_SERVER)
    reference.start(f"http://127.0.0.1:{reference_port}/health")
    tee = Tee(f"http://127.0.0.1:{reference_port}", f"http://127.0.0.1:{current_port}")

    class Handler(BaseHTTPRequestHandler):
        def answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {name: self.headers[name] for name in PASSED_ON if self.headers.get(name)}
            status, raw = tee.handle(method, self.path, body, headers)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            self.answer("POST")

        def do_GET(self) -> None:
            self.answer("GET")

        def log_message(self, *args: Any) -> None:
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    via = f"http://127.0.0.1:{proxy.server_address[1]}"
    try:
        with running_assistant(
            MODEL, workdir, action_port=current_port, actions_via=via + "/webhook", action_token=token
        ) as assistant:
            yield tee, assistant, f"Bearer {token}"
    finally:
        proxy.shutdown()
        reference.stop()


def test_the_current_stack_is_the_one_under_test(tee_in_front):
    """The servers really are the two stacks: rasa-sdk 3.21 on Python 3.13 against
    rasa-sdk 3.6 on Python 3.11 (their logs say which)."""
    _, assistant, _ = tee_in_front
    log = assistant.actions.log.read_text()
    assert "rasa-sdk 3.21." in log, log[-2000:]


def test_rasa_gets_the_same_events_from_both_stacks_through_every_action(tee_in_front):
    tee, assistant, authorization = tee_in_front
    rest = RestAssistant(assistant.url, token=assistant.rest_token)
    conversations = load_scripts([SCRIPTS])
    results = [run_conversation(rest, conversation) for conversation in conversations]
    assert not tee.differences(), "\n".join(tee.differences()[:5])[:4000]
    failed = [result.failure() for result in results if not result.passed]
    assert not failed, "\n".join(failed)[:3000]

    status, listed = tee.forward(tee.current, "GET", "/actions", None, {"Authorization": authorization})
    actions = {item["name"] for item in json.loads(listed)}
    reached = {call.action for call in tee.calls}
    assert status == 200 and actions, listed
    assert not actions - reached, f"no conversation script reaches {sorted(actions - reached)}"
    assert len(tee.calls) > 500, len(tee.calls)


def test_refusals_and_failures_are_the_same_on_both_stacks(tee_in_front):
    """What Rasa never sends, or sends when something is wrong: each answered alike."""
    tee, _, authorization = tee_in_front
    json_with_token = {"Content-Type": "application/json", "Authorization": authorization}
    tracker = {"sender_id": "test-contract", "slots": {}, "events": [], "latest_message": {}}
    bad_calls = [
        ("GET", "/actions", None, json_with_token),
        ("GET", "/health", None, {}),
        ("POST", "/webhook", b"{}", {"Content-Type": "application/json"}),  # no token
        ("POST", "/webhook", b'{"next_action": "action_expl', json_with_token),  # not JSON
        ("POST", "/webhook", b"[1, 2]", json_with_token),  # not an action call
        ("POST", "/webhook", json.dumps({"next_action": "no_such_action"}).encode(), json_with_token),
        # A failing action: a tracker without its events makes the action raise.
        ("POST", "/webhook", json.dumps({"next_action": "action_explain"}).encode(), json_with_token),
        ("POST", "/webhook", zlib.compress(b"{}"), {**json_with_token, "Content-Encoding": "deflate"}),
        ("POST", "/webhook", b"x" * 1_100_000, json_with_token),  # over the size limit
        # Rasa 3.6 sends the domain only to the actions that need it: none here.
        ("POST", "/webhook", call_body("action_explain", tracker), json_with_token),
        ("POST", "/webhook", call_body("action_acknowledge", tracker), json_with_token),
    ]
    before = len(tee.calls)
    answers = [tee.handle(*call) for call in bad_calls]
    statuses = [status for status, _ in answers]
    assert statuses == [200, 200, 401, 400, 400, 404, 500, 415, 413, 200, 200], statuses
    assert not tee.differences(), "\n".join(tee.differences())[:4000]
    assert len(tee.calls) == before + len(bad_calls)


def call_body(action: str, tracker: Dict[str, Any]) -> bytes:
    return json.dumps(
        {"next_action": action, "sender_id": "test-contract", "tracker": tracker, "version": "3.6.21"}
    ).encode()


def test_the_action_server_env_holds_only_the_domain_the_dialogue_layer_and_the_actions():
    """In .venv-actions, the server loads the actions and imports nothing of the
    project but careers/, dialogue/, actions/ and its own module; Rasa is not there."""
    import subprocess

    script = (
        "import importlib.util, json, sys\n"
        "from runtime.action_server import create_app\n"
        "create_app('actions', 'a-token')\n"
        "files = {n: getattr(m, '__file__', None) or '' for n, m in list(sys.modules.items())}\n"
        "ours = sorted(n for n, f in files.items()\n"
        "              if f.startswith(sys.argv[1]) and not f.startswith(sys.argv[1] + '.venv'))\n"
        "print(json.dumps({'ours': ours, 'rasa': importlib.util.find_spec('rasa') is not None,\n"
        "                  'python': list(sys.version_info[:2])}))\n"
    )
    done = subprocess.run(
        [str(ACTIONS_PYTHON), "-c", script, str(ROOT) + "/"],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.splitlines()[-1])
    packages = {name.split(".")[0] for name in found["ours"]}
    assert packages == {"actions", "careers", "dialogue", "runtime"}, found["ours"]
    runtime = {name for name in found["ours"] if name.startswith("runtime")}
    assert runtime == {"runtime", "runtime.action_server"}
    assert not found["rasa"] and found["python"] >= [3, 12]
