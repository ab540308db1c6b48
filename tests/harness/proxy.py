"""The reverse proxy (deploy/proxy/nginx.conf) in front of test servers: Debian's
nginx, unprivileged, on a free port of 127.0.0.1, with the production file's lines
for ports and paths rewritten for a folder of its own (tools/running/system-packages.sh
installs nginx for `make test` and `make test-scale`).

    with running_proxy(["127.0.0.1:5005"], workdir) as proxy:
        urllib.request.urlopen(proxy.url + "/careers-chat.js")

Everything else in the file is used as written, so the tests check the configuration
that ships. As root, nginx runs as www-data, as it would in a container.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Sequence

from tests.harness.serverctl import ROOT, Server, free_port

CONFIG = ROOT / "deploy" / "proxy" / "nginx.conf"
WIDGET_DIR = ROOT / "widget" / "dist"
# The unprivileged user nginx runs as when the tests run as root (Debian's).
RUN_AS = "www-data"
# The production file's upstream line, which names Rasa's compose service.
UPSTREAM_LINE = "        server rasa:5005 max_fails=1 fail_timeout=5s;\n"


class NotInstalled(RuntimeError):
    """Debian's nginx is missing: tools/running/system-packages.sh installs it."""


def nginx_program() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        raise NotInstalled("nginx is not installed: as root, run tools/running/system-packages.sh test")
    return found


def render(upstreams: Sequence[str], port: int, folder: Path, widget_dir: Path = WIDGET_DIR) -> str:
    """deploy/proxy/nginx.conf for a test: listening on 127.0.0.1:`port`, in front of
    `upstreams` ("host:port" each), its pid, logs and temporary files in `folder`.
    Each line it rewrites must be in the file exactly once, so a change there that
    the tests would silently miss fails here instead."""
    if not upstreams:
        raise ValueError("the proxy needs at least one upstream server")
    servers = "".join(UPSTREAM_LINE.replace("rasa:5005", address) for address in upstreams)
    changes: Dict[str, str] = {
        "pid /tmp/careers-proxy.pid;": f"pid {folder / 'nginx.pid'};",
        "access_log /dev/stdout careers;": f"access_log {folder / 'access.log'} careers;",
        "listen 8080 default_server;": f"listen 127.0.0.1:{port} default_server;",
        "root /usr/share/careers-proxy/widget;": f"root {widget_dir};",
        UPSTREAM_LINE: servers,
    }
    for kind in ("body", "upstream", "fastcgi", "uwsgi", "scgi"):
        changes[f"/tmp/careers-proxy-{kind};"] = f"{folder / ('temp-' + kind)};"
    text = CONFIG.read_text(encoding="utf-8")
    for old, new in changes.items():
        count = text.count(old)
        if count != 1:
            raise ValueError(f"{CONFIG.name}: expected {old.strip()!r} once, found it {count} times")
        text = text.replace(old, new)
    return text


@dataclass
class Proxy:
    url: str  # http://127.0.0.1:<port>
    port: int
    folder: Path  # its configuration, pid, logs and temporary files
    server: Server

    @property
    def access_log(self) -> Path:
        return self.folder / "access.log"

    def access_lines(self) -> List[str]:
        """The access log's lines so far (method, path, status, upstream; no addresses)."""
        return self.access_log.read_text(errors="replace").splitlines() if self.access_log.exists() else []


def _unprivileged(args: List[str]) -> List[str]:
    # As root, nginx would run its workers as "nobody" and need root's files; run
    # it as Debian's www-data instead, as a container runs it as a user of its own.
    return ["runuser", "-u", RUN_AS, "--", *args] if os.geteuid() == 0 else args


def _own_folder() -> Path:
    """A folder the proxy's user may write (a test's own folder is usually private)."""
    folder = Path(tempfile.mkdtemp(prefix="careers-proxy-"))
    if os.geteuid() == 0:
        shutil.chown(folder, RUN_AS, RUN_AS)
    return folder


@contextmanager
def running_proxy(upstreams: Sequence[str], workdir: Path, name: str = "proxy") -> Iterator[Proxy]:
    """nginx with deploy/proxy/nginx.conf in front of `upstreams`, until the block
    ends; then stopped (gracefully: requests under way finish), its logs copied to
    `workdir`/`name`-error.log and `name`-access.log."""
    program = nginx_program()
    folder = _own_folder()
    port = free_port()
    config = folder / "nginx.conf"
    config.write_text(render(upstreams, port, folder), encoding="utf-8")
    checked = subprocess.run(_unprivileged([program, "-t", "-q", "-c", str(config)]), capture_output=True)
    if checked.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"nginx refuses {CONFIG}: {checked.stderr.decode(errors='replace')}")
    log = workdir / f"{name}-error.log"
    server = _GracefulServer("nginx", _unprivileged([program, "-c", str(config)]), log)
    url = f"http://127.0.0.1:{port}"
    try:
        server.start(url + "/healthz")
        yield Proxy(url, port, folder, server)
    finally:
        server.stop()
        if (folder / "access.log").exists():
            shutil.copyfile(folder / "access.log", workdir / f"{name}-access.log")
        shutil.rmtree(folder, ignore_errors=True)


class _GracefulServer(Server):
    """nginx stops gracefully on SIGQUIT (SIGTERM drops the connections under way)."""

    stop_steps = ((signal.SIGQUIT, 15), *Server.stop_steps)
