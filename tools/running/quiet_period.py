"""One turn's replies on a platform that gives no sign of when a turn is over
(Slack, Teams: the request is answered at once and the replies posted afterwards):
the posts that came after the first `before`, once at least one has come and then
none for `quiet` seconds. Used by the stand-ins' tests and the conversation scripts."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List

Posts = List[Dict[str, Any]]


def replies_after(posted: Callable[[], Posts], before: int, quiet: float, timeout: float = 60) -> Posts:
    """`posted()` returns every post so far, oldest first. TimeoutError if no reply
    comes, or the replies do not stop, within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    seen, last_change = len(posted()), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = len(posted())
        if now != seen:
            seen, last_change = now, time.monotonic()
        elif seen > before and time.monotonic() - last_change >= quiet:
            return posted()[before:]
    raise TimeoutError(f"no whole turn of replies within {timeout:g} s")
