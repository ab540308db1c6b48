"""One turn's replies on a platform that gives no sign of when a turn is over
(Slack, Teams: the request is answered at once and the replies posted afterwards):
the posts that came after the first `before`, once at least one has come and then
none for `quiet` seconds. Used by the stand-ins' tests, the conversation scripts and
the benchmark."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any, Callable, Dict, List, Optional

Posts = List[Dict[str, Any]]
POLL_S = 0.05


def replies_after(
    posted: Callable[[], Posts],
    before: int,
    quiet: float,
    timeout: float = 60,
    changed: Optional[threading.Condition] = None,
) -> Posts:
    """`posted()` returns every post so far, oldest first. TimeoutError if no reply
    comes, or the replies do not stop, within `timeout` seconds. With `changed`, a
    condition the poster notifies after each post (the stand-ins' own), it waits to be
    woken instead of looking every POLL_S: dozens of threads looking would take the
    CPU the server needs (the benchmark)."""
    deadline = time.monotonic() + timeout
    # Held while counting, released while waiting, so no post is missed in between.
    with changed if changed is not None else contextlib.nullcontext():
        seen, last_change = len(posted()), time.monotonic()
        while time.monotonic() < deadline:
            if changed is None:
                time.sleep(POLL_S)
            elif seen > before:
                changed.wait(max(quiet - (time.monotonic() - last_change), 0.01))
            else:
                changed.wait(max(deadline - time.monotonic(), 0.01))
            now = len(posted())
            if now != seen:
                seen, last_change = now, time.monotonic()
            elif seen > before and time.monotonic() - last_change >= quiet:
                return posted()[before:]
    raise TimeoutError(f"no whole turn of replies within {timeout:g} s")
