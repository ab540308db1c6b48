"""PostgreSQL and Redis servers of a test's own, on loopback, from Debian's packages
(tools/running/system-packages.sh scale installs them): each started in a folder of
the test's, on a free port, and stopped (its data deleted with the folder) when the
test is done. They share nothing with a PostgreSQL or Redis the machine runs."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List

from tests.harness.serverctl import Server, free_port

USER = "careers"
PASSWORD = "careers-scale-test"
DATABASE = "careers"


class NotInstalled(RuntimeError):
    """The Debian package is missing: `make test-scale` installs it."""


def _postgres_bin(program: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"))
    if not found:
        raise NotInstalled("PostgreSQL is not installed: run tools/running/system-packages.sh scale as root")
    return found[-1]


def _as_postgres(args: List[str]) -> List[str]:
    # PostgreSQL refuses to run as root; as root, run it as Debian's postgres user.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _wait_until(ready, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not start within {timeout:g} s")


@dataclass
class Postgres:
    host: str
    port: int
    database: str = DATABASE
    user: str = USER
    password: str = PASSWORD

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    def environment(self) -> Dict[str, str]:
        """The production profile's settings for this database."""
        return {
            "DB_HOST": self.host,
            "DB_PORT": str(self.port),
            "DB_NAME": self.database,
            "DB_USER": self.user,
            "DB_PASSWORD": self.password,
        }


@contextmanager
def private_postgres(folder: Path) -> Iterator[Postgres]:
    """A PostgreSQL server with a database and a password-protected role for the
    assistant, its log in `folder`; stopped, and its data deleted, afterwards."""
    # The data lives where Debian's postgres user can reach it (a test's own folder
    # is usually private to the user running the tests).
    home = Path(tempfile.mkdtemp(prefix="careers-postgres-"))
    home.chmod(0o755)
    data, sockets = home / "data", home / "sockets"
    for made in (data, sockets):
        made.mkdir()
        if os.geteuid() == 0:
            shutil.chown(made, "postgres", "postgres")
    password_file = home / "password"
    password_file.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(password_file, "postgres", "postgres")
    subprocess.run(
        _as_postgres(
            [
                _postgres_bin("initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                f"--pwfile={password_file}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = Server(
        "PostgreSQL",
        _as_postgres(
            [
                _postgres_bin("postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-k",
                str(sockets),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=200",
                "-c",
                "fsync=on",
            ]
        ),
        folder / "postgres.log",
    )
    database = Postgres("127.0.0.1", port)
    try:
        server.launch()
        psql = [_postgres_bin("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, "-d", "postgres"]
        env = {**os.environ, "PGPASSWORD": PASSWORD}

        def accepts() -> bool:
            return subprocess.run([*psql, "-c", "SELECT 1"], env=env, capture_output=True).returncode == 0

        _wait_until(accepts, "PostgreSQL")
        subprocess.run([*psql, "-c", f"CREATE DATABASE {DATABASE}"], env=env, check=True, capture_output=True)
        yield database
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


@dataclass
class Redis:
    host: str
    port: int
    password: str

    def environment(self) -> Dict[str, str]:
        return {"REDIS_HOST": self.host, "REDIS_PORT": str(self.port), "REDIS_PASSWORD": self.password}


@contextmanager
def private_redis(folder: Path, password: str = "careers-redis-test") -> Iterator[Redis]:
    """A Redis server on 127.0.0.1 (no persistence, a password); stopped afterwards."""
    program = shutil.which("redis-server")
    if not program:
        raise NotInstalled("Redis is not installed: run tools/running/system-packages.sh scale as root")
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    server = Server(
        "Redis",
        [
            program,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--requirepass",
            password,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        folder / "redis.log",
    )
    try:
        server.launch()
        import redis

        client = redis.Redis(host="127.0.0.1", port=port, password=password)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.exceptions.RedisError:
                return False

        _wait_until(answers, "Redis")
        yield Redis("127.0.0.1", port, password)
    finally:
        server.stop()
