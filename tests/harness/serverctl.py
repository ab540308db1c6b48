"""Start and stop the assistant's servers as child processes (tests and benchmarks)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import yaml

from channels.ownership import CONVERSATION_SECRET, REST_API_TOKEN
from runtime import ACTION_SERVER_TOKEN

ROOT = Path(__file__).resolve().parents[2]
RASA = str(Path(sys.executable).with_name("rasa"))
# Rasa's command line with the project's patches (runtime/rasa_patches.py) applied.
RASA_PATCHED = [sys.executable, "-m", "runtime"]
# The action server as `make run` starts it (runtime/action_server.py), in its own
# env (`make install` builds it: Python 3.13, the newest rasa-sdk).
ACTIONS_PYTHON = ROOT / ".venv-actions" / "bin" / "python"
ACTION_SERVER = [str(ACTIONS_PYTHON), "-m", "runtime.action_server"]
# The same server on rasa-sdk 3.6 in Rasa's env: the contract test's reference.
REFERENCE_ACTION_SERVER = [sys.executable, "-m", "runtime.action_server"]
START_TIMEOUT = 240


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process started in its own process group, with its log in a file."""

    # How stop() asks it to stop: each signal in turn, waiting so many seconds after
    # each, and SIGKILL if it is still running after the last.
    stop_steps: Tuple[Tuple[int, float], ...] = ((signal.SIGTERM, 30),)

    def __init__(
        self,
        name: str,
        args: List[str],
        log: Path,
        env: Optional[Dict[str, str]] = None,
        cwd: Optional[Path] = None,
    ) -> None:
        self.name, self.args, self.log = name, args, log
        self.extra_env = dict(env or {})
        self.cwd = cwd or ROOT
        self.process: Optional[subprocess.Popen] = None

    def launch(self) -> "Server":
        """Starts the process, without waiting for it to be ready."""
        env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT), **self.extra_env}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.args,
                cwd=self.cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def start(self, ready_url: str) -> "Server":
        """Starts the process and waits until `ready_url` answers."""
        return self.launch().wait_until_ready(ready_url)

    def wait_until_ready(self, ready_url: str) -> "Server":
        assert self.process is not None, f"{self.name} has not been started"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(ready_url, timeout=2)
                return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not start in {START_TIMEOUT}s")

    def memory_kb(self, field: str) -> int:
        """VmRSS (resident now) or VmHWM (peak resident) of the server process."""
        assert self.process is not None, f"{self.name} has not been started"
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(row for row in status.splitlines() if row.startswith(field + ":"))
        return int(line.split()[1])

    def kill(self) -> None:
        """Kills the server at once (SIGKILL), as a crash or a lost machine would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """Asks the server to stop (`stop_steps`), and kills it if it will not."""
        if not self.process:
            return
        for stop_signal, seconds in self.stop_steps:
            if self.process.poll() is not None:
                return
            os.killpg(self.process.pid, stop_signal)
            try:
                self.process.wait(timeout=seconds)
                return
            except subprocess.TimeoutExpired:
                pass
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def post(
    url: str,
    body: Any,
    raw: Optional[bytes] = None,
    token: Optional[str] = None,
    path: str = "/webhooks/rest/webhook",
    method: str = "POST",
    headers: Optional[Dict[str, str]] = None,
) -> Tuple[int, Any]:
    """A request to Rasa's REST channel, as a trusted server: with the REST token
    (`token`, or REST_API_TOKEN from the environment; "" for none). Returns the
    status and the JSON reply (an error's body as text if not JSON)."""
    data = raw if raw is not None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    token = os.environ.get(REST_API_TOKEN, "") if token is None else token
    if token:
        sent["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url + path, data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, text


def action_server(port: int, workdir: Path, token: str, command: Sequence[str] = ACTION_SERVER) -> Server:
    """The action server as `make run` starts it (or `command`), asking for `token`."""
    if command == ACTION_SERVER and not ACTIONS_PYTHON.exists():
        raise RuntimeError(f"no action server env at {ACTIONS_PYTHON.parent.parent}: run `make install`")
    return Server(
        "action server",
        [*command, "--actions", "actions", "--port", str(port)],
        workdir / "actions.log",
        env={ACTION_SERVER_TOKEN: token, "ACTIONS_HOST": "127.0.0.1"},
    )


def rasa_command(model: Path, port: int, *more: str) -> List[str]:
    """`python -m runtime run` with the model and the project's credentials on
    127.0.0.1:`port`; `more` adds arguments (an endpoints file, CORS origins)."""
    return [
        *RASA_PATCHED,
        "run",
        "--model",
        str(model),
        "--interface",
        "127.0.0.1",
        "--port",
        str(port),
        "--credentials",
        "credentials.yml",
        *more,
    ]


@dataclass
class Assistant:
    url: str
    rasa: Server
    actions: Server
    actions_url: str = ""  # the action server's base URL
    rest_token: str = ""  # the server-to-server REST token of this run

    def post(self, body: Any, raw: Optional[bytes] = None) -> Tuple[int, Any]:
        """A message to the REST channel as a trusted server (ids under `rest:`)."""
        return post(self.url, body, raw, token=self.rest_token)


@contextmanager
def running_assistant(
    model: Path,
    workdir: Path,
    allowed_origins: Sequence[str] = (),
    env: Optional[Dict[str, str]] = None,
    action_port: Optional[int] = None,
    actions_via: Optional[str] = None,
    action_token: Optional[str] = None,
) -> Iterator[Assistant]:
    """The action server and Rasa (REST and socket.io channels, SQLite store in `workdir`)
    on free ports of 127.0.0.1, as `make run` starts them: the action server asks for
    a token of this run's own (or `action_token`), and Rasa has its own conversation
    secret and REST token. Pages on `allowed_origins` may use it from a browser (CORS).
    `env` adds settings for Rasa (limits, timeouts). The action server listens on
    `action_port` if given, and Rasa calls `actions_via` (a recording proxy in front
    of it, for the contract test) instead of it if given."""
    action_port, rasa_port = action_port or free_port(), free_port()
    # The project's endpoints.yml, as `make run` uses it, with this action server
    # and a database of the work folder's own.
    settings = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    settings["action_endpoint"]["url"] = actions_via or f"http://127.0.0.1:{action_port}/webhook"
    settings["tracker_store"]["db"] = str(workdir / "conversations.db")
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(yaml.safe_dump(settings, sort_keys=False))
    token = {ACTION_SERVER_TOKEN: action_token or secrets.token_hex(16)}
    # The REST token is this process's (make exports one), or a new one it then
    # holds, so that the tools' REST clients here (post, the load generator) send it.
    rest_token = os.environ.get(REST_API_TOKEN) or secrets.token_hex(32)
    os.environ[REST_API_TOKEN] = rest_token
    secrets_of_rasa = {CONVERSATION_SECRET: secrets.token_hex(32), REST_API_TOKEN: rest_token}
    actions = action_server(action_port, workdir, token[ACTION_SERVER_TOKEN])
    cors = ["--cors", *allowed_origins] if allowed_origins else []
    rasa = Server(
        "Rasa",
        rasa_command(model, rasa_port, "--endpoints", str(endpoints), *cors),
        workdir / "rasa.log",
        env={**token, **secrets_of_rasa, "ALLOWED_ORIGINS": ",".join(allowed_origins), **(env or {})},
    )
    url = f"http://localhost:{rasa_port}"
    actions.start(f"http://127.0.0.1:{action_port}/health")
    try:
        rasa.start(url + "/")
        yield Assistant(
            url, rasa, actions, f"http://127.0.0.1:{action_port}", secrets_of_rasa[REST_API_TOKEN]
        )
    finally:
        rasa.stop()
        actions.stop()


@dataclass
class Cluster:
    urls: List[str]  # each Rasa server's base URL
    rasas: List[Server]
    actions: Server
    rest_token: str


@contextmanager
def running_cluster(
    model: Path,
    workdir: Path,
    stores: Dict[str, str],
    workers: Sequence[int] = (1, 1),
    env: Optional[Dict[str, str]] = None,
) -> Iterator[Cluster]:
    """One action server and a Rasa server per entry of `workers` (each with that
    many Sanic workers), all in the production profile (ASSISTANT_PROFILE=production:
    deploy/endpoints.production.yml) on the PostgreSQL and Redis that `stores` names
    (DB_* and REDIS_* settings), sharing their secrets, as several machines behind a
    load balancer would. Everything on free ports of 127.0.0.1; stopped afterwards."""
    action_port = free_port()
    shared = {
        ACTION_SERVER_TOKEN: secrets.token_hex(16),
        CONVERSATION_SECRET: secrets.token_hex(32),
        REST_API_TOKEN: os.environ.get(REST_API_TOKEN) or secrets.token_hex(32),
    }
    os.environ[REST_API_TOKEN] = shared[REST_API_TOKEN]
    actions = action_server(action_port, workdir, shared[ACTION_SERVER_TOKEN])
    profile = {
        "ASSISTANT_PROFILE": "production",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
        **stores,
        **shared,
    }
    ports = [free_port() for _ in workers]
    rasas = [
        Server(
            f"Rasa {number}",
            rasa_command(model, port),
            workdir / f"rasa-{number}.log",
            env={**profile, "SANIC_WORKERS": str(count), **(env or {})},
        )
        for number, (port, count) in enumerate(zip(ports, workers, strict=True), 1)
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        actions.start(f"http://127.0.0.1:{action_port}/health")
        for rasa in rasas:
            rasa.launch()  # loading models side by side
        for rasa, url in zip(rasas, urls, strict=True):
            rasa.wait_until_ready(url + "/")
        yield Cluster(urls, rasas, actions, shared[REST_API_TOKEN])
    finally:
        for rasa in rasas:
            rasa.stop()
        actions.stop()
