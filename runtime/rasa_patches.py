"""The changes this project makes to Rasa's own behaviour, in one place.

Each patch fixes a cost measured in `make bench` (docs/benchmarks.md) and keeps
what Rasa does: only how fast it does it changes. They are written for one Rasa
version; `apply()` refuses any other, so an upgrade has to look at each patch again
(tests/test_rasa_patches.py fails too).

Applied explicitly at start-up by the launcher, `python -m runtime run ...`
(tools/running/run.sh and the test servers use it); `rasa run` alone runs
without them, correctly but more slowly.
"""

from __future__ import annotations

import sys
import weakref
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Reversible, Text

import rasa

if TYPE_CHECKING:
    from rasa.shared.core.domain import Domain, State
    from rasa.shared.core.events import Event

PATCHED_FOR = "3.6.21"
_applied: List[str] = []


def _validate_action_response_once_built() -> None:
    """Rasa checks every action server response against a JSON schema with
    `jsonschema.validate`, which first checks the schema itself against the
    meta-schema and builds a new validator: on every call. Under load that was
    three quarters of the Rasa server's time. Build the validator once; the
    response is checked exactly as before and the same error is raised."""
    from jsonschema import ValidationError, exceptions, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        error = exceptions.best_match(validator.iter_errors(result))
        if error is None:
            return True
        assert isinstance(error, ValidationError)
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = _validate_action_result


# How many of the person's latest messages the action server sees the events of.
# The actions look back to the message before the latest at most (actions/actions.py:
# pending_feedback_topic, previous_user_intent); slots, the latest message and the
# active loop come with the tracker's state whatever this says.
ACTION_SERVER_TURNS = 3


def recent_events(events: Reversible[Event], turns: int = ACTION_SERVER_TURNS) -> List[Event]:
    """The events from the `turns`-th latest user message on (all of them if fewer)."""
    from rasa.shared.core.events import UserUttered

    kept: List[Event] = []
    seen = 0
    for event in reversed(events):
        kept.append(event)
        if isinstance(event, UserUttered):
            seen += 1
            if seen == turns:
                break
    kept.reverse()
    return kept


def _send_recent_events_to_the_action_server() -> None:
    """Rasa sends the action server the whole conversation on every call (several
    per message), serialised to JSON and parsed there: a cost that grows with every
    turn, and the largest part of a long conversation's reply time. Send the
    tracker's state as before, with the events of the latest `ACTION_SERVER_TURNS`
    messages of the person only."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

    def _action_call_format(
        self: RemoteAction, tracker: DialogueStateTracker, domain: Domain
    ) -> Dict[Text, Any]:
        state = tracker.current_state(EventVerbosity.NONE)
        state["events"] = [event.as_dict() for event in recent_events(tracker.events)]
        result = {
            "next_action": self._name,
            "sender_id": tracker.sender_id,
            "tracker": state,
            "version": rasa.__version__,
        }
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(
            self.name()
        ):
            result["domain"] = domain.as_dict()
        return result

    RemoteAction._action_call_format = _action_call_format


def _leave_out_jax() -> None:
    """TensorFlow (which Rasa imports whatever the pipeline) imports JAX if it is
    installed, for TensorFlow Lite to convert JAX models, and goes on without it if
    it is not (tensorflow/lite/python/util.py). Rasa never converts JAX models, and
    JAX is 64 MB of the server's memory. Must run before TensorFlow is imported;
    does nothing if JAX is already loaded."""
    sys.modules.setdefault("jax", None)  # type: ignore[arg-type]


def _past_states_once_per_prediction() -> None:
    """To predict one action the rule policy reads the tracker's past states twice
    (with and without the message text), and Rasa rebuilds them each time by
    replaying the tracker from its first event. Keep the latest result, for the
    same tracker with the same events, domain and arguments, and hand out copies
    (a policy may change the last state's user part)."""
    from rasa.shared.core.trackers import DialogueStateTracker

    rebuild = DialogueStateTracker.past_states
    latest: Dict[str, Any] = {}

    def past_states(
        self: DialogueStateTracker,
        domain: Domain,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: Optional[Dict[Text, Any]] = None,
    ) -> List[State]:
        events = self.events
        key = (omit_unset_slots, ignore_rule_only_turns)
        same = (
            latest.get("tracker") is not None
            and latest["tracker"]() is self
            and latest["domain"] is domain
            and latest["rule_only_data"] is rule_only_data
            and latest["key"] == key
            and latest["length"] == len(events)
            and (latest["last"] is (events[-1] if events else None))
        )
        if not same:
            states = rebuild(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
            latest.update(
                tracker=weakref.ref(self),
                domain=domain,
                rule_only_data=rule_only_data,
                key=key,
                length=len(events),
                last=events[-1] if events else None,
                states=states,
            )
        return [{part: dict(sub) for part, sub in state.items()} for state in latest["states"]]

    DialogueStateTracker.past_states = past_states


PATCHES: Dict[str, Callable[[], None]] = {
    "leave out JAX": _leave_out_jax,
    "validate action responses with one validator": _validate_action_response_once_built,
    "send the action server the latest turns' events": _send_recent_events_to_the_action_server,
    "past states once per prediction": _past_states_once_per_prediction,
}


def apply() -> List[str]:
    """Apply every patch once; returns their names. Raises on another Rasa version."""
    if rasa.__version__ != PATCHED_FOR:
        raise RuntimeError(
            f"runtime/rasa_patches.py was written for Rasa {PATCHED_FOR}, not {rasa.__version__}: "
            "check each patch against the new version's source, then update PATCHED_FOR."
        )
    for name, patch in PATCHES.items():
        if name not in _applied:
            patch()
            _applied.append(name)
    return list(_applied)
