"""channels/conversations.py's AfterAnswer: the turns Slack and Teams run after
acknowledging an event."""

from __future__ import annotations


async def test_turns_run_after_answering_at_most_a_few_at_once_in_order():
    """Slack and Teams turns run after the event is acknowledged: at most TURNS_AT_ONCE
    at a time, started in the order they came, each finished, none lost."""
    import asyncio

    from channels.conversations import TURNS_AT_ONCE, AfterAnswer

    assert 1 < TURNS_AT_ONCE <= 8
    after = AfterAnswer(at_once=3)
    running, most, started = 0, 0, []

    async def turn(n: int) -> None:
        nonlocal running, most
        started.append(n)
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1

    for n in range(10):
        after.start(turn(n))
    await after.finished(timeout=5)
    assert started == list(range(10))
    assert most == 3
    assert running == 0
