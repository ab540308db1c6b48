"""The socket.io channel's own parts, without a server: the allowed-origins setting
and the shape of the messages it emits. The channel under a real server, and a
browser on an allowed and a refused origin, are in test_widget.py."""

from __future__ import annotations

from typing import Any, List, Tuple

import pytest

from channels.socketio_channel import WidgetOutput, allowed_origins


@pytest.mark.parametrize(
    "value, expected",
    [
        ("http://localhost:8080", ["http://localhost:8080"]),
        ("https://a.example, https://b.example/", ["https://a.example", "https://b.example"]),
        ("https://a.example https://b.example", ["https://a.example", "https://b.example"]),
        (" , ", ["http://localhost:8080"]),
        ("https://a.example,*", "*"),
    ],
)
def test_allowed_origins_setting(value, expected):
    assert allowed_origins(value) == expected


def test_allowed_origins_default_and_environment(monkeypatch):
    monkeypatch.delenv("ALLOWED_ORIGINS", raising=False)
    assert allowed_origins() == ["http://localhost:8080"]
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://careers.example.nhs.uk")
    assert allowed_origins() == ["https://careers.example.nhs.uk"]


class FakeServer:
    def __init__(self) -> None:
        self.emitted: List[Tuple[str, Any, str]] = []

    async def emit(self, event: str, data: Any = None, room: str = "", **_: Any) -> None:
        self.emitted.append((event, data, room))


async def test_messages_are_sent_whole_with_buttons_and_custom_payloads():
    server = FakeServer()
    output = WidgetOutput(server, "bot_uttered")
    await output.send_response("s1", {"text": "Why:\n- one\n\nSources:\n- https://x.example"})
    await output.send_response(
        "s1", {"text": "Pick one", "buttons": [{"title": "Yes", "payload": "/affirm"}]}
    )
    await output.send_response("s1", {"custom": {"assessment": {"verdict": "eligible"}}})
    assert server.emitted == [
        ("bot_uttered", {"text": "Why:\n- one\n\nSources:\n- https://x.example"}, "s1"),
        (
            "bot_uttered",
            {
                "text": "Pick one",
                "quick_replies": [{"content_type": "text", "title": "Yes", "payload": "/affirm"}],
            },
            "s1",
        ),
        ("bot_uttered", {"custom": {"assessment": {"verdict": "eligible"}}}, "s1"),
    ]
