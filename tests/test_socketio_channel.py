"""The socket.io channel's own parts, without a server: the allowed-origins setting
and the shape of the messages it emits (and the REST channel's, a verdict's card
beside its assessment). The channel under a real server, and a
browser on an allowed and a refused origin, are in test_widget.py."""

from __future__ import annotations

from typing import Any, List, Tuple

import pytest

from channels.card import verdict_card
from channels.conversations import OneMessageCollector
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
    card = verdict_card({"verdict": "eligible"})
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
        ("bot_uttered", {"custom": {"assessment": {"verdict": "eligible"}, "card": card}}, "s1"),
    ]


ASSESSMENT = {
    "verdict": "not_eligible",
    "verdict_label": "Not eligible",
    "verdict_mark": "✗",
    "programme_name": "Scientist Training Programme (STP)",
    "reasons": ["You have a third."],
    "sources": ["https://nshcs.hee.nhs.uk/programmes/stp/"],
    "rules": ["stp_degree"],
}
VERDICT_TEXT = "From what you've told me, you don't meet them.\n\nWhy:\n- You have a third."


async def test_a_verdict_is_one_message_with_its_card_beside_the_assessment():
    """The widget draws the card the server built (channels/card.py); the assessment
    stays for other tools, the text as the fallback."""
    server = FakeServer()
    message = {"text": VERDICT_TEXT + "\n", "custom": {"assessment": ASSESSMENT}}
    await WidgetOutput(server, "bot_uttered").send_response("s1", dict(message))
    [(event, sent, room)] = server.emitted
    assert (event, room) == ("bot_uttered", "s1")
    assert sent == {
        "text": VERDICT_TEXT,
        "custom": {"assessment": ASSESSMENT, "card": verdict_card(ASSESSMENT, VERDICT_TEXT)},
    }
    assert sent["custom"]["card"]["summary"] == ["From what you've told me, you don't meet them."]
    assert message["custom"] == {"assessment": ASSESSMENT}  # what Rasa keeps is unchanged

    # The REST channel's replies likewise.
    collector = OneMessageCollector()
    await collector.send_response("s1", dict(message))
    [reply] = collector.messages
    assert reply["text"] == VERDICT_TEXT
    assert reply["custom"] == sent["custom"]
    # A payload that is no verdict goes as it came.
    await collector.send_response("s1", {"custom": {"conversation_deleted": True}})
    assert collector.messages[-1]["custom"] == {"conversation_deleted": True}
