"""Shared fixtures: the real rules file, and rasa-sdk trackers for action tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.rules_file import EntryRules, default_rules

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def rules() -> EntryRules:
    return default_rules()


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text())


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    text: str = "",
    intent: Optional[str] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    active_loop: Optional[str] = None,
    **parse_extras: Any,
) -> Tracker:
    """A tracker whose latest message is `text`, parsed as `intent` with `entities`."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": entities or [],
        **parse_extras,
    }
    return Tracker(
        sender_id="test-user",
        slots=dict(slots or {}),
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


@pytest.fixture
def tracker_for():
    return make_tracker
