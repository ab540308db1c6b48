"""channels/seen.py: which Slack and Teams events were taken already. Redis itself
is tested with several servers in tests/test_scale.py (make test-scale)."""

from __future__ import annotations

import redis

from channels.seen import RecentIds, RedisSeen, seen_store


def test_without_redis_each_server_remembers_in_its_own_memory(monkeypatch):
    monkeypatch.delenv("REDIS_HOST", raising=False)
    assert isinstance(seen_store("slack"), RecentIds)


def test_with_redis_named_the_store_is_shared(monkeypatch):
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_PORT", "6390")
    store = seen_store("teams")
    assert isinstance(store, RedisSeen) and store.prefix == "careers:seen:teams:"


class Unreachable:
    """A Redis client whose server is down."""

    def set(self, *args, **kwargs):
        raise redis.ConnectionError("connection refused")


def test_when_redis_fails_the_servers_memory_decides_and_messages_are_still_taken(caplog):
    store = RedisSeen(Unreachable(), "slack")
    assert store.first_time("event:Ev1") is True
    assert store.first_time("event:Ev1") is False
    assert "Redis failed (ConnectionError)" in caplog.text
    assert "Ev1" not in caplog.text
