"""runtime/rasa_patches.py: written for one Rasa version; each patch keeps Rasa's behaviour."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import pytest
import rasa
from jsonschema import ValidationError

from runtime import rasa_patches


@pytest.fixture(scope="module", autouse=True)
def patched():
    rasa_patches.apply()


def test_the_patches_are_for_the_installed_rasa():
    """Fails when Rasa is upgraded: read each patch against the new source first."""
    assert rasa.__version__ == rasa_patches.PATCHED_FOR


def test_another_rasa_version_is_refused(monkeypatch):
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(RuntimeError, match="written for Rasa 3.6.21, not 3.7.0"):
        rasa_patches.apply()


def test_applying_twice_patches_once():
    assert rasa_patches.apply() == rasa_patches.apply() == list(rasa_patches.PATCHES)


def remote_action() -> Any:
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    return RemoteAction("action_answer_topic", EndpointConfig("http://localhost:5055/webhook"))


@pytest.mark.parametrize(
    "response",
    [
        {"events": [{"event": "slot", "name": "programme", "value": "stp"}], "responses": [{"text": "hi"}]},
        {"events": [], "responses": []},
        {},
    ],
)
def test_valid_action_responses_pass(response: Dict[str, Any]):
    assert remote_action()._validate_action_result(response) is True


@pytest.mark.parametrize(
    "response",
    [
        {"events": [{"event": "no_such_event"}]},
        {"events": [{"event": "slot"}]},  # a slot event without its name
        {"responses": "not a list"},
        {"events": {"event": "slot"}},
    ],
)
def test_invalid_action_responses_raise_rasas_error(response: Dict[str, Any]):
    """The same error as Rasa's own check raises for the same response."""
    from jsonschema import validate
    from rasa.core.actions.action import RemoteAction

    with pytest.raises(ValidationError) as theirs:
        validate(response, RemoteAction.action_response_format_spec())
    with pytest.raises(ValidationError, match="Failed to validate Action server response") as ours:
        remote_action()._validate_action_result(response)
    assert ours.value.message.startswith(theirs.value.message)
    assert list(ours.value.path) == list(theirs.value.path)


def conversation(turns: int) -> Any:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    events = [SlotSet("programme", "stp")]
    for n in range(turns):
        events += [
            ActionExecuted("action_listen"),
            UserUttered(f"message {n}", {"name": "inform", "confidence": 1.0}),
            ActionExecuted("action_answer_topic"),
            BotUttered(f"answer {n}"),
        ]
    events.append(ActionExecuted("action_listen"))
    return DialogueStateTracker.from_events("someone", events, Domain.load("domain.yml").slots)


def test_recent_events_start_at_the_third_latest_message():
    tracker = conversation(turns=5)
    recent = rasa_patches.recent_events(tracker.events)
    assert [e.text for e in recent if e.type_name == "user"] == ["message 2", "message 3", "message 4"]
    assert recent[-1] is tracker.events[-1]
    short = conversation(turns=2)
    assert rasa_patches.recent_events(short.events) == list(short.events)  # fewer messages: all


def test_the_action_server_gets_the_tracker_state_with_the_latest_turns():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import EventVerbosity

    tracker = conversation(turns=6)
    call = remote_action()._action_call_format(tracker, Domain.load("domain.yml"))
    whole = tracker.current_state(EventVerbosity.ALL)
    assert call["next_action"] == "action_answer_topic"
    assert call["version"] == rasa.__version__
    assert set(call["tracker"]) == set(whole)
    for key in whole:
        if key != "events":
            assert call["tracker"][key] == whole[key], key
    # The same events as Rasa sends, from the third latest message on.
    first_kept = len(whole["events"]) - len(call["tracker"]["events"])
    assert call["tracker"]["events"] == whole["events"][first_kept:]
    assert [e["text"] for e in call["tracker"]["events"] if e["event"] == "user"] == [
        "message 3",
        "message 4",
        "message 5",
    ]
    # Slots set long before still reach the action server, with the tracker's state.
    assert call["tracker"]["slots"]["programme"] == "stp"
    assert "domain" in call


def test_tensorflow_loads_without_jax_in_the_patched_server():
    import subprocess
    import sys

    from tests.conftest import ROOT

    script = (
        "import sys\n"
        "from runtime import rasa_patches\n"
        "rasa_patches.apply()\n"
        "from tensorflow.lite.python import util\n"
        "assert util._xla_computation is None and sys.modules['jax'] is None\n"
        "import rasa.core.agent\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.stdout.strip().endswith("ok"), done.stderr[-2000:]


def test_past_states_are_rebuilt_when_the_tracker_changes_and_handed_out_as_copies():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load("domain.yml")
    tracker = conversation(turns=3)
    # What Rasa computes, with the patch out of the way.
    replay = DialogueStateTracker.from_events("someone", list(tracker.events), domain.slots)
    expected = domain.states_for_tracker_history(replay)

    first = tracker.past_states(domain)
    assert first == expected
    first[-1].clear()  # a policy changing what it was given...
    assert tracker.past_states(domain) == expected  # ...does not change the next answer
    assert tracker.past_states(domain, ignore_rule_only_turns=True, rule_only_data={}) == (
        domain.states_for_tracker_history(replay, ignore_rule_only_turns=True, rule_only_data={})
    )

    tracker.update(UserUttered("one more", {"name": "inform", "confidence": 1.0}))
    tracker.update(ActionExecuted("action_answer_topic"))
    replay = DialogueStateTracker.from_events("someone", list(tracker.events), domain.slots)
    assert tracker.past_states(domain) == domain.states_for_tracker_history(replay) != expected
    other = conversation(turns=1)
    assert other.past_states(domain) != tracker.past_states(domain)


@pytest.mark.skipif(
    not (Path(__file__).parents[1] / "models" / "careers.tar.gz").exists(), reason="needs the trained model"
)
def test_the_patches_change_no_reply(tmp_path):
    """Every message of the conversation scripts, as one conversation, with Rasa as it
    is (in a process of its own) and with the patches: the same replies."""
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT
    from tests.test_tracker_store import everything_people_type
    from tools.careers_team.converse import InProcessAssistant

    script = (
        "import json, sys\n"
        "from runtime import rasa_patches\n"
        "rasa_patches.apply = lambda: []  # Rasa as it is\n"
        "from tests.test_tracker_store import everything_people_type\n"
        "from tools.careers_team.converse import InProcessAssistant\n"
        "assistant = InProcessAssistant()\n"
        "replies = [assistant.send('someone', text) for text in everything_people_type()]\n"
        "json.dump(replies, open(sys.argv[1], 'w'))\n"
    )
    unpatched = tmp_path / "unpatched.json"
    python = [sys.executable, "-c", script, str(unpatched)]
    done = subprocess.run(python, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assistant = InProcessAssistant()
    patched = [assistant.send("someone", text) for text in everything_people_type()]
    assistant.close()
    assert rasa_patches.apply() == list(rasa_patches.PATCHES)
    assert json.loads(json.dumps(patched)) == json.loads(unpatched.read_text())
