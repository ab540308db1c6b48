"""Slack and Teams, timed where they are strict: how long the assistant takes to
acknowledge an event (Slack resends an event not answered within three seconds, the
Bot Connector gives up after fifteen). Many people talk at once, each through the
platform's stand-in (tests/harness/slack_standin.py, bot_framework_standin.py):
each sends a message, notes how long the webhook took to answer, waits for the
turn's replies to be posted back, and sends the next."""

from __future__ import annotations

import secrets
import threading
import time
from contextlib import ExitStack
from typing import Any, Callable, Dict, List, Sequence, Tuple

from benchmarks import load
from tests.harness.bot_framework_standin import BotFrameworkStandIn
from tests.harness.quiet_period import replies_after
from tests.harness.slack_standin import SlackStandIn

# After a turn's last reply is posted, this long without another: the turn is over.
QUIET_S = 0.2
SLACK_BOT_TOKEN = "xoxb-bench-" + secrets.token_hex(8)
SLACK_SECRET = secrets.token_hex(16)


class Platforms:
    """The two stand-ins, started, and the settings Rasa needs to talk to them."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self.slack = self._stack.enter_context(SlackStandIn(SLACK_BOT_TOKEN))
        self.microsoft = self._stack.enter_context(BotFrameworkStandIn())

    def env(self) -> Dict[str, str]:
        return {
            "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SLACK_SECRET,
            "SLACK_API_URL": self.slack.api_url,
            **self.microsoft.env(),
        }

    def close(self) -> None:
        self._stack.close()


def _person(
    messages: Sequence[str],
    send: Callable[[str], int],
    posts: Callable[[], List[Dict[str, Any]]],
    changed: threading.Condition,
    ok: Sequence[int] = (200,),
) -> List[load.Exchange]:
    """One person: each message sent (`send` returns the webhook's status), timed to
    its acknowledgement, then the turn's replies waited for (`posts` lists them; the
    stand-in notifies `changed` on each)."""
    done = []
    for text in messages:
        before = len(posts())
        started = time.perf_counter()
        status = send(text)
        acknowledged = time.perf_counter() - started
        if status not in ok:
            done.append(load.Exchange(acknowledged, f"HTTP {status}"))
            continue
        try:
            replies_after(posts, before, QUIET_S, changed=changed)
            done.append(load.Exchange(acknowledged))
        except TimeoutError:
            done.append(load.Exchange(acknowledged, "no reply"))
    return done


def _slack_person(url: str, slack: SlackStandIn, n: str, messages: Sequence[str]) -> List[load.Exchange]:
    channel, user = f"D{n}", f"U{n}"

    def send(text: str) -> int:
        return slack.send(url, slack.message_event(text, user=user, channel=channel), SLACK_SECRET)[0]

    return _person(messages, send, lambda: slack.posts(channel), slack._changed)


def _teams_person(
    url: str, microsoft: BotFrameworkStandIn, n: str, messages: Sequence[str]
) -> List[load.Exchange]:
    conversation, user = f"a:bench-{n}", f"29:bench-{n}"
    webhook = url.rstrip("/") + "/webhooks/teams/webhook"
    # The Bot Connector signs a token once and sends it until it expires (an hour):
    # signing one is the platform's work, not the time it waits for an answer.
    token = microsoft.mint()

    def send(text: str) -> int:
        return microsoft.deliver(
            webhook, microsoft.activity(text, conversation_id=conversation, user_id=user), token
        )[0]

    posts = lambda: microsoft.posted(conversation)  # noqa: E731
    return _person(messages, send, posts, microsoft._changed, ok=(200, 201, 202))


def acknowledgements(
    url: str, platforms: Platforms, platform: str, messages: Sequence[str], people: int
) -> load.LoadResult:
    """`people` at once on `platform` ("slack" or "teams"), each sending `messages` in
    turn: the time each event took to be acknowledged (an event whose replies never
    came counts as an error)."""
    batch = secrets.token_hex(4).upper()  # new people each time

    def person(n: int) -> List[load.Exchange]:
        who = f"{batch}{n:04d}"
        if platform == "slack":
            return _slack_person(url, platforms.slack, who, messages)
        return _teams_person(url, platforms.microsoft, who, messages)

    results: Dict[int, List[load.Exchange]] = {}
    failures: List[Tuple[int, Any]] = []

    def run(n: int) -> None:
        try:
            results[n] = person(n)
        except Exception as error:  # counted, not raised: the others go on
            failures.append((n, error))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(people)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    exchanges = [e for n in sorted(results) for e in results[n]]
    exchanges += [load.Exchange(0.0, f"exception: {type(error).__name__}: {error}") for _, error in failures]
    return load.LoadResult(people, time.perf_counter() - started, exchanges)
