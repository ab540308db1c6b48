"""channels/limits.py: messages cut before they are stored, and rate limits."""

from __future__ import annotations

import yaml

from channels import limits
from nlp.message_limits import CUT_FROM_CHARACTERS, MAX_MESSAGE_CHARACTERS
from tests.harness.serverctl import ROOT


def test_a_long_message_is_cut_and_marked():
    text, marks = limits.bounded_message("a" * 100_000)
    assert len(text) == MAX_MESSAGE_CHARACTERS
    assert marks == {CUT_FROM_CHARACTERS: 100_000}
    assert limits.bounded_message("what skills?") == ("what skills?", None)
    exactly = "b" * MAX_MESSAGE_CHARACTERS
    assert limits.bounded_message(exactly) == (exactly, None)


def test_control_characters_go_and_line_breaks_stay():
    text, _ = limits.bounded_message("a\x00b\x1bc\u202ed\ufeffe\nf\tg")
    assert text == "abcde\nf\tg"


def test_a_lone_surrogate_becomes_storable_text():
    text, _ = limits.bounded_message("grade \ud800 4")
    text.encode("utf-8")  # does not raise
    assert text.startswith("grade ") and text.endswith(" 4")


def test_the_nlu_guard_reads_as_much_as_the_channels_keep():
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    guard = next(c for c in config["pipeline"] if c["name"].endswith("MessageGuard"))
    assert guard["max_characters"] == MAX_MESSAGE_CHARACTERS


def test_a_message_cut_by_the_channel_is_marked_truncated_by_the_guard():
    from rasa.shared.nlu.training_data.message import Message

    from nlp.rasa_components import ORIGINAL_LENGTH, TRUNCATED, MessageGuard

    guard = MessageGuard({"max_characters": MAX_MESSAGE_CHARACTERS})
    text, marks = limits.bounded_message("physics " * 10_000)
    message = Message({"text": text, "metadata": marks})
    guard.process([message])
    assert message.get(TRUNCATED) is True and message.get(ORIGINAL_LENGTH) == 80_000
    plain = Message({"text": "what skills do I need?", "metadata": None})
    guard.process([plain])
    assert not plain.get(TRUNCATED)
    # A client cannot claim a message was cut that was not.
    claimed = Message({"text": "hi", "metadata": {CUT_FROM_CHARACTERS: 1}})
    guard.process([claimed])
    assert not claimed.get(TRUNCATED)


def test_a_bucket_allows_a_burst_then_the_rate():
    limiter = limits.RateLimiter(per_minute=60, burst=3)
    assert [limiter.allow("a", now=0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b", now=0.0), "another key has its own bucket"
    assert not limiter.allow("a", now=0.5)
    assert limiter.allow("a", now=1.1), "one a second comes back"
    assert limiter.allow("a", now=100.0) and limiter.allow("a", now=100.0) and limiter.allow("a", now=100.0)
    assert not limiter.allow("a", now=100.0), "never more than the burst"


def test_the_buckets_kept_are_bounded(monkeypatch):
    monkeypatch.setattr(limits, "MAX_TRACKED", 10)
    limiter = limits.RateLimiter(per_minute=1, burst=1)
    for n in range(100):
        limiter.allow(f"client-{n}", now=0.0)
    assert len(limiter._buckets) == 10


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("MESSAGES_PER_MINUTE", "120")
    monkeypatch.setenv("SOCKETS_PER_CLIENT", "not a number")
    monkeypatch.setenv("MESSAGE_BURST", "-5")
    assert limits.setting("MESSAGES_PER_MINUTE") == 120
    assert limits.setting("SOCKETS_PER_CLIENT") == limits.DEFAULTS["SOCKETS_PER_CLIENT"]
    assert limits.setting("MESSAGE_BURST") == limits.DEFAULTS["MESSAGE_BURST"]


def test_the_client_address_trusts_only_the_configured_proxies(monkeypatch):
    plain = limits.Limits()
    assert plain.client_address("10.0.0.1", "1.2.3.4") == "10.0.0.1", "X-Forwarded-For not trusted by default"
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "1")
    behind_one = limits.Limits()
    assert behind_one.client_address("10.0.0.1", "6.6.6.6, 1.2.3.4") == "1.2.3.4", "the hop our proxy added"
    assert behind_one.client_address("10.0.0.1", None) == "10.0.0.1"
    assert behind_one.client_address(None, None) == "unknown"
