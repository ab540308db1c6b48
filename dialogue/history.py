"""What the actions read from the conversation's recent events, and how far back that is.

The contract with the launcher: Rasa's server sends the action server the tracker's state
(slots, the latest message, the active loop) and, to keep every call's cost flat, only the
events of the person's latest `TURNS_NEEDED` messages (runtime/rasa_patches.py sends that
many). Every function here looks back no further than that: to the latest message of the
person (what was set since), and to the message before it (its intent; what the
assistant said just before the latest one). `tests/test_dialogue.py` checks each gives the
same answer on those events as on the whole conversation.

Events are the dicts Rasa and rasa-sdk use (`{"event": "user", ...}`); pure Python, no
Rasa import.
"""

from __future__ import annotations

from typing import Any, Collection, Dict, Iterable, List, Mapping, Optional, Sequence

# The person's latest messages whose events the actions need: the latest, and the one
# before it (for `previous_user_intent` and `said_before_latest`).
TURNS_NEEDED = 2

Event = Mapping[str, Any]


def since_latest_message(events: Sequence[Event]) -> List[Event]:
    """The events after the person's latest message, in order."""
    after: List[Event] = []
    for event in reversed(events):
        if event.get("event") == "user":
            break
        after.append(event)
    after.reverse()
    return after


def slots_set_since_latest_message(events: Sequence[Event]) -> Dict[str, Any]:
    """Each slot set since the person's latest message, with the value it was set to last."""
    said: Dict[str, Any] = {}
    for event in since_latest_message(events):
        if event.get("event") == "slot":
            said[str(event.get("name"))] = event.get("value")
    return said


def fact_set_since_latest_message(
    events: Sequence[Event],
    facts: Collection[str],
    besides: Iterable[str] = (),
    unset: Collection[Any] = (None,),
) -> bool:
    """True when one of `facts` (other than `besides`) was set, to a value not in `unset`,
    since the person's latest message."""
    skip = set(besides)
    return any(
        event.get("event") == "slot"
        and event.get("name") in facts
        and event.get("name") not in skip
        and event.get("value") not in unset
        for event in since_latest_message(events)
    )


def previous_user_intent(events: Sequence[Event]) -> Optional[str]:
    """The intent of the person's message before the latest one."""
    seen = 0
    for event in reversed(events):
        if event.get("event") == "user":
            seen += 1
            if seen == 2:
                return ((event.get("parse_data") or {}).get("intent") or {}).get("name")
    return None


def said_before_latest(events: Sequence[Event]) -> Optional[str]:
    """The response the assistant's last message before the person's latest one came from
    (its `utter_action`), or None when that message had none or there was none."""
    latest_seen = False
    for event in reversed(events):
        if event.get("event") == "user":
            if latest_seen:
                return None
            latest_seen = True
        elif event.get("event") == "bot" and latest_seen:
            return (event.get("metadata") or {}).get("utter_action")
    return None
