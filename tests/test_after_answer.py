"""channels/conversations.py's AfterAnswer.turn: the turns Slack and Teams run after
acknowledging an event. Rasa's work is stood in for by coroutines that send replies
through the output they are given, as Rasa's processor does; the platform by an
output whose posting can be held up."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional, Text, Tuple

import pytest
from rasa.core.channels.channel import OutputChannel

from channels.conversations import TURNS_AT_ONCE, AfterAnswer, KeptReplies


class Platform(OutputChannel):
    """Where replies end up; posting waits for `open` when it is given."""

    def __init__(self, posted: List[Tuple[Text, Text]], open: Optional[asyncio.Event] = None) -> None:
        self.posted, self.open = posted, open

    @classmethod
    def name(cls) -> Text:
        return "platform"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        if self.open is not None:
            await self.open.wait()
        self.posted.append((recipient_id, message["text"]))


def work(conversation: Text, texts: List[Text], pause: float = 0.0) -> Any:
    async def run(output: OutputChannel) -> None:
        for text in texts:
            await output.send_text_message(conversation, text)
            await asyncio.sleep(pause)

    return run


async def test_at_most_a_few_turns_are_worked_on_at_once_and_none_is_lost():
    assert 1 < TURNS_AT_ONCE <= 8
    after = AfterAnswer(at_once=3)
    working, most, posted = 0, 0, []

    def counted(n: int) -> Any:
        async def run(output: OutputChannel) -> None:
            nonlocal working, most
            working += 1
            most = max(most, working)
            await asyncio.sleep(0.01)
            await output.send_text_message(f"c{n}", f"reply {n}")
            working -= 1

        return run

    for n in range(10):
        after.start(after.turn(f"c{n}", Platform(posted), counted(n)))
    await after.finished(timeout=5)
    assert most == 3 and working == 0
    assert sorted(posted) == sorted((f"c{n}", f"reply {n}") for n in range(10))
    assert after._conversations == {}  # nothing kept for conversations that are over


async def test_replies_are_posted_after_the_work_in_order():
    posted: List[Tuple[Text, Text]] = []
    seen_during_work: List[int] = []

    async def run(output: OutputChannel) -> None:
        assert isinstance(output, KeptReplies) and output.name() == "platform"
        for text in ("one", "two", "three"):
            await output.send_text_message("c", text)
            seen_during_work.append(len(posted))

    await AfterAnswer().turn("c", Platform(posted), run)
    assert seen_during_work == [0, 0, 0]
    assert posted == [("c", "one"), ("c", "two"), ("c", "three")]


async def test_one_conversations_turns_are_worked_on_and_answered_in_the_order_they_came():
    # The first turn's work is slow and its replies slow to post; the second, sent
    # straight after, waits for both, even with places free for other conversations.
    after = AfterAnswer(at_once=4)
    posted: List[Tuple[Text, Text]] = []
    slow = asyncio.Event()
    after.start(after.turn("c", Platform(posted, slow), work("c", ["first a", "first b"], pause=0.02)))
    after.start(after.turn("c", Platform(posted), work("c", ["second"])))
    after.start(after.turn("other", Platform(posted), work("other", ["elsewhere"])))
    await asyncio.sleep(0.1)
    assert posted == [("other", "elsewhere")]  # the other conversation did not wait
    slow.set()
    await after.finished(timeout=5)
    assert [text for who, text in posted if who == "c"] == ["first a", "first b", "second"]


async def test_a_turn_waiting_on_the_platform_holds_no_place():
    # One place: a turn whose replies cannot be posted yet does not stop the next
    # conversation's work.
    after = AfterAnswer(at_once=1)
    posted: List[Tuple[Text, Text]] = []
    platform_down = asyncio.Event()
    after.start(after.turn("a", Platform(posted, platform_down), work("a", ["to a"])))
    after.start(after.turn("b", Platform(posted), work("b", ["to b"])))
    await asyncio.sleep(0.05)
    assert posted == [("b", "to b")]
    platform_down.set()
    await after.finished(timeout=5)
    assert posted == [("b", "to b"), ("a", "to a")]


async def test_replies_kept_before_the_work_failed_are_still_posted():
    posted: List[Tuple[Text, Text]] = []

    async def run(output: OutputChannel) -> None:
        await output.send_text_message("c", "sent before the failure")
        raise RuntimeError("the turn failed")

    after = AfterAnswer()
    with pytest.raises(RuntimeError):
        await after.turn("c", Platform(posted), run)
    assert posted == [("c", "sent before the failure")]
    assert after._conversations == {}
