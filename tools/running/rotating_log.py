"""`python -m tools.running.rotating_log FILE`: writes what comes in on standard input
to FILE, and when FILE would pass --max-bytes, renames it FILE.1 (FILE.1 to FILE.2,
and so on, keeping --backups of them) and starts a new FILE. So a server's output
takes at most (backups + 1) x max-bytes of disk, whatever it logs.

`make run` (tools/running/run.sh) sends each server's output through it:
LOG_MAX_BYTES (default 10 MB) and LOG_BACKUPS (default 5) set the sizes. It ends
when its input does, that is, when the server stops.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import BinaryIO, Optional, Sequence

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_BACKUPS = 5
MAX_LINE_BYTES = 64 * 1024


class RotatingFile:
    """An append-only file that rotates by size; a line is never split across two."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        self.path, self.max_bytes, self.backups = path, max(1, max_bytes), max(0, backups)
        self.file: BinaryIO = open(path, "ab")  # noqa: SIM115 (kept open until close())
        self.size = self.file.tell()

    def write(self, line: bytes) -> None:
        if self.size and self.size + len(line) > self.max_bytes:
            self.rotate()
        self.file.write(line)
        self.file.flush()  # a person tailing the log sees each line as it comes
        self.size += len(line)

    def rotate(self) -> None:
        self.file.close()
        if self.backups:
            for number in range(self.backups - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{number}")
                if older.exists():
                    os.replace(older, self.path.with_name(f"{self.path.name}.{number + 1}"))
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self.file = open(self.path, "wb")  # noqa: SIM115 (as above); with no backups, afresh
        self.size = 0

    def close(self) -> None:
        self.file.close()


def _setting(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, ""))
    except ValueError:
        return default


def main(argv: Optional[Sequence[str]] = None, source: Optional[BinaryIO] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.running.rotating_log", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--max-bytes", type=int, default=_setting("LOG_MAX_BYTES", DEFAULT_MAX_BYTES))
    parser.add_argument("--backups", type=int, default=_setting("LOG_BACKUPS", DEFAULT_BACKUPS))
    args = parser.parse_args(argv)
    # Ctrl-C reaches the whole process group: this carries on until the server has
    # written its last lines and closed its output.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stream = source if source is not None else sys.stdin.buffer
    log = RotatingFile(args.file, args.max_bytes, args.backups)
    try:
        # At most 64 kB at a time: a line without an end does not fill the memory.
        for line in iter(lambda: stream.readline(MAX_LINE_BYTES), b""):
            log.write(line)
    finally:
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
