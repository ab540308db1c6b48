"""The changes this project makes to Rasa's own behaviour, in one place.

Two kinds. SPEED_PATCHES each fix a cost measured in `make bench`
(benchmarks/results.md) and keep what Rasa does: only how fast it does it changes.
SAFETY_PATCHES change what it does, on purpose (docs/security.md): the action
server's token, typed text never read as an intent, "delete my conversation", and
an apology when the action server fails. They are written for one Rasa version;
`apply()` refuses any other, so an upgrade has to look at each patch again
(tests/test_rasa_patches.py fails too).

Applied explicitly at start-up by the launcher, `python -m runtime run ...`
(tools/running/run.sh and the test servers use it). Do not serve the assistant
with plain `rasa run`: it would be slower, and without the safety patches.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import sys
import types
from functools import partial
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Optional,
    Reversible,
    Set,
    Text,
    Tuple,
)

import rasa

from dialogue.history import TURNS_NEEDED
from runtime.deletion import conversations_deleted_on_request

if TYPE_CHECKING:
    from rasa.shared.core.domain import Domain, State
    from rasa.shared.core.events import Event

PATCHED_FOR = "3.6.21"
_applied: List[str] = []
# What each patch replaced, by "Owner.name": Rasa's own code, for the tests that
# hold each patch to it.
RASAS_OWN: Dict[str, Any] = {}
logger = logging.getLogger(__name__)


def _replace(owner: Any, name: str, new: Any) -> Any:
    """Puts `new` in place of `owner.name`; returns (and keeps) what was there, or
    None if nothing was."""
    key = f"{getattr(owner, '__name__', owner)}.{name}"
    original = RASAS_OWN.setdefault(key, getattr(owner, name, None))
    setattr(owner, name, new)
    return original


# The kinds of event in action server responses checked without jsonschema (below).
PLAINLY_CHECKED: Set[Text] = set()


def _validate_action_responses_by_event_type() -> None:
    """Rasa checks every action server response against a JSON schema with
    `jsonschema.validate`, which first checks the schema itself against the
    meta-schema and builds a new validator on every call; and the schema tries each
    event against all 23 kinds of event (`oneOf`). Under load that was three
    quarters of the Rasa server's time.

    An event can only match the kind its `event` field names (every kind fixes that
    field with `const`), so a response is valid exactly when each event is valid
    against the schema of its own kind and the responses list is valid: checked
    here with validators built once. Anything that fails that check goes through
    the whole schema, which raises the same error as Rasa's own check."""
    from jsonschema import ValidationError, exceptions, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    whole = validator_class(schema)
    event_schema = schema["properties"]["events"]["items"]
    common = {key: value for key, value in event_schema.items() if key != "oneOf"}
    by_kind = {
        kind["properties"]["event"]["const"]: validator_class({**common, "allOf": [kind]})
        for kind in event_schema["oneOf"]
    }
    responses = validator_class(schema["properties"]["responses"])
    # Most events the actions return (slots set, a form stopped, a follow-up action)
    # are of kinds whose schema asks only for the common fields, or for a slot's name
    # and value: checked here directly, as plain Python types (the JSON parser makes
    # no others), in a twentieth of the validator's time. Only if the schemas are
    # still the ones these checks were written from.
    plain_common = common == {
        "type": "object",
        "properties": {
            "event": {"type": "string"},
            "timestamp": {"type": ["number", "null"]},
            "metadata": {"type": ["object", "null"]},
        },
        "required": ["event"],
    }
    plain_kinds = {
        kind["properties"]["event"]["const"]
        for kind in event_schema["oneOf"]
        if plain_common and kind == {"properties": {"event": kind["properties"]["event"]}}
    }
    slot_schema = {
        "properties": {"event": {"const": "slot"}, "name": {"type": "string"}, "value": {}},
        "required": ["name", "value"],
    }
    plain_slots = plain_common and slot_schema in event_schema["oneOf"]
    plain_responses = schema["properties"]["responses"] == {"type": "array", "items": {"type": "object"}}
    PLAINLY_CHECKED.clear()
    PLAINLY_CHECKED.update(plain_kinds | ({"slot"} if plain_slots else set()))

    def number_or_null(value: Any) -> bool:
        return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))

    def plain_event_valid(event: Dict[Text, Any], name: Text) -> bool:
        if "timestamp" in event and not number_or_null(event["timestamp"]):
            return False
        if "metadata" in event and not (event["metadata"] is None or isinstance(event["metadata"], dict)):
            return False
        if name in plain_kinds:
            return True
        return "name" in event and "value" in event and isinstance(event["name"], str)

    def plainly_valid(result: Any) -> bool:
        if not isinstance(result, dict):
            return False
        events = result.get("events", [])
        if not isinstance(events, list):
            return False
        for event in events:
            name = event.get("event") if isinstance(event, dict) else None
            if isinstance(name, str) and (name in plain_kinds or (name == "slot" and plain_slots)):
                if not plain_event_valid(event, name):
                    return False
                continue
            kind = by_kind.get(name) if isinstance(name, str) else None
            if kind is None or not kind.is_valid(event):
                return False
        if "responses" not in result:
            return True
        if plain_responses:
            listed = result["responses"]
            return isinstance(listed, list) and all(isinstance(item, dict) for item in listed)
        return responses.is_valid(result["responses"])

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        if plainly_valid(result):
            return True
        error = exceptions.best_match(whole.iter_errors(result))
        if error is None:
            return True
        assert isinstance(error, ValidationError)
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    _replace(RemoteAction, "_validate_action_result", _validate_action_result)


def _run_graphs_in_order() -> None:
    """Rasa runs its model graphs (the NLU pipeline, the policies) with dask, once
    for each message and again for each action it predicts: dask orders the graph,
    schedules it and copies its inputs every time, about a millisecond a message
    here. Run the same nodes, with the same inputs, in an order worked out once per
    set of targets. A node still gets its parents' outputs as (name, output) pairs,
    a missing input is still passed as its name, and a RuntimeError still becomes
    Rasa's GraphRunError."""
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.engine.runner.dask import logger as runner_logger

    Step = Tuple[Text, Callable[..., Tuple[Text, Any]], Tuple[Text, ...]]

    def steps_for(runner: DaskGraphRunner, targets: Tuple[Text, ...]) -> List[Step]:
        plans: Dict[Tuple[Text, ...], List[Step]] = runner.__dict__.setdefault("_careers_plans", {})
        if targets not in plans:
            schema = runner._graph_schema.minimal_graph_schema(list(targets))
            ordered: List[Text] = []
            visiting: Set[Text] = set()

            def visit(name: Text) -> None:
                if name in ordered or name not in schema.nodes:
                    return  # done, or an input given to `run`
                if name in visiting:
                    raise GraphRunError(f"The graph has a cycle through '{name}'.")
                visiting.add(name)
                for parent in schema.nodes[name].needs.values():
                    visit(parent)
                visiting.discard(name)
                ordered.append(name)

            for target in targets:
                visit(target)
            plans[targets] = [
                (name, runner._instantiated_nodes[name], tuple(schema.nodes[name].needs.values()))
                for name in ordered
            ]
        return plans[targets]

    def run(
        self: DaskGraphRunner,
        inputs: Optional[Dict[Text, Any]] = None,
        targets: Optional[List[Text]] = None,
    ) -> Dict[Text, Any]:
        wanted = tuple(targets if targets else self._graph_schema.target_names)
        steps = steps_for(self, wanted)
        outputs: Dict[Text, Any] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and any(value == step[0] for step in steps):
                raise GraphRunError(
                    f"Input value '{value}' clashes with a node name. Make sure that none of "
                    "the input names passed to the `run` method are the same as node names "
                    "in the graph schema."
                )
            outputs[name] = (name, value)
        if runner_logger.isEnabledFor(logging.DEBUG):
            runner_logger.debug(f"Running graph with inputs: {inputs}, targets: {targets}.")
        try:
            for name, node, parents in steps:
                outputs[name] = node(*[outputs.get(parent, parent) for parent in parents])
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
        return dict(outputs[target] for target in wanted)

    _replace(DaskGraphRunner, "run", run)


def _keep_action_server_connections_open() -> None:
    """Rasa opens a new HTTP session, and so a new connection (a name lookup in a
    thread, a TCP handshake), for every call to the action server: several per
    message. Keep one session per endpoint and event loop, made as Rasa makes it
    (the endpoint's headers, authentication and timeout), so that calls reuse open
    connections. An idle connection is dropped after `IDLE_CONNECTION_S`, before
    the action server (Sanic: 5 s) would close it under a request. A closed session
    or another loop gets a new one; they are closed when the server stops."""
    import asyncio

    import aiohttp
    import rasa.core.run
    import ujson
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
    from rasa.utils.endpoints import EndpointConfig

    open_sessions: Dict[Tuple[int, int], aiohttp.ClientSession] = {}

    class _Borrowed:
        """`async with` a kept session: leaves it open afterwards."""

        def __init__(self, session: aiohttp.ClientSession) -> None:
            self.session = session

        async def __aenter__(self) -> aiohttp.ClientSession:
            return self.session

        async def __aexit__(self, *_: Any) -> None:
            return None

    def kept_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
        # ujson (which Rasa and Sanic use already) writes the request's JSON in a
        # third of the time of the standard library, and it reads back the same.
        auth = None
        if endpoint.basic_auth:
            auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
        return aiohttp.ClientSession(
            headers=endpoint.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=IDLE_CONNECTION_S),
            json_serialize=ujson.dumps,
        )

    def session(self: EndpointConfig) -> Any:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not in a coroutine: a session of its own, as before
            return new_session(self)
        key = (id(self), id(loop))
        kept = open_sessions.get(key)
        if kept is None or kept.closed:
            kept = open_sessions[key] = kept_session(self)
        return _Borrowed(kept)

    async def close_resources_and_sessions(app: Any, loop: Any) -> None:
        await close_resources(app, loop)
        for key, kept in list(open_sessions.items()):
            if key[1] == id(loop):
                await kept.close()
                del open_sessions[key]

    new_session = _replace(EndpointConfig, "session", session)
    close_resources = _replace(rasa.core.run, "close_resources", close_resources_and_sessions)


# Seconds an unused connection to the action server stays open (see above).
IDLE_CONNECTION_S = 2.0


# How many of the person's latest messages the action server sees the events of: what
# the dialogue layer's history needs (dialogue/history.py, where the contract is written
# and tested); rasa-sdk's form validation needs the latest only. Slots, the latest
# message and the active loop come with the tracker's state whatever this says.
ACTION_SERVER_TURNS = TURNS_NEEDED


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


def state_for_the_action_server(tracker: Any) -> Dict[Text, Any]:
    """What `tracker.current_state(EventVerbosity.NONE)` gives, with the events of the
    latest ACTION_SERVER_TURNS messages, and the active form as it is rather than a
    deep copy (`dataclasses.asdict`, 5% of the server's time under load: the form
    holds the whole parse of the message that started it). The state is turned into
    JSON straight away, so nothing here changes it."""
    from rasa.shared.core.constants import ACTIVE_LOOP, FOLLOWUP_ACTION

    loop = tracker.active_loop
    return {
        "sender_id": tracker.sender_id,
        "slots": tracker.current_slot_values(),
        "latest_message": tracker._latest_message_data(),
        "latest_event_time": tracker.events[-1].timestamp if tracker.events else None,
        FOLLOWUP_ACTION: tracker.followup_action,
        "paused": tracker.is_paused(),
        "events": [event.as_dict() for event in recent_events(tracker.events)],
        "latest_input_channel": tracker.get_latest_input_channel(),
        ACTIVE_LOOP: {f.name: getattr(loop, f.name) for f in dataclasses.fields(loop)} if loop else {},
        "latest_action": tracker.latest_action,
        "latest_action_name": tracker.latest_action_name,
    }


def _send_recent_events_to_the_action_server() -> None:
    """Rasa sends the action server the whole conversation on every call (several
    per message), serialised to JSON and parsed there: a cost that grows with every
    turn, and the largest part of a long conversation's reply time. Send the
    tracker's state as before, with the events of the latest `ACTION_SERVER_TURNS`
    messages of the person only."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import DialogueStateTracker

    def _action_call_format(
        self: RemoteAction, tracker: DialogueStateTracker, domain: Domain
    ) -> Dict[Text, Any]:
        state = state_for_the_action_server(tracker)
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

    _replace(RemoteAction, "_action_call_format", _action_call_format)


def _leave_out_jax() -> None:
    """TensorFlow (which Rasa imports whatever the pipeline) imports JAX if it is
    installed, for TensorFlow Lite to convert JAX models, and goes on without it if
    it is not (tensorflow/lite/python/util.py). Rasa never converts JAX models, and
    JAX is 64 MB of the server's memory. Must run before TensorFlow is imported;
    does nothing if JAX is already loaded."""
    sys.modules.setdefault("jax", None)  # type: ignore[arg-type]


def _past_states_carried_on() -> None:
    """To predict each action, the memoization and rule policies read the tracker's
    past states three times, in two ways (with and without the turns only rules
    have), and Rasa builds them each time by replaying the tracker from its first
    event (Domain.states_for_tracker_history): a walk through the tracker's applied
    events that notes the state before each action, and at the end. Keep that walk,
    for each way of reading the tracker, where it stopped (on the tracker), and go
    on from there when the tracker has grown: the states before the actions already
    walked through cannot change while the events before them stay applied. If they
    do not (a rewind, a restart, a form's happy path undone), walk from the start, as
    Rasa does. Copies are handed out (a policy may change the last state's user part).
    tests/test_rasa_patches.py compares every answer with Rasa's on random
    conversations."""
    from rasa.shared.core.constants import PREVIOUS_ACTION
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    class Walk:
        """Rasa's walk for one way of reading a tracker, stopped after `walked` of
        its applied events (the last of them `last`)."""

        def __init__(
            self,
            tracker: DialogueStateTracker,
            domain: Domain,
            omit_unset_slots: bool,
            ignore_rule_only_turns: bool,
            rule_only_data: Optional[Dict[Text, Any]],
        ) -> None:
            self.domain, self.omit, self.ignore = domain, omit_unset_slots, ignore_rule_only_turns
            self.rule_only_data = copy.deepcopy(rule_only_data)
            self.replayed = tracker.init_copy()
            self.walked, self.last = 0, None
            self.states: List[State] = []  # before each action walked through
            self.last_ml_action: Optional[Dict[Text, Any]] = None
            self.hidden = False

        def reads_as(self, domain: Domain, omit: bool, ignore: bool, data: Optional[Dict[Text, Any]]) -> bool:
            same_way = (self.omit, self.ignore) == (omit, ignore)
            return self.domain is domain and same_way and self.rule_only_data == data

        def goes_on_to(self, applied: List[Event]) -> bool:
            return self.walked <= len(applied) and (self.walked == 0 or applied[self.walked - 1] is self.last)

        def step(self, hide: bool, states: List[State], last_ml: Any, hidden: bool) -> Tuple[Any, bool]:
            """One state, before an action (or at the end), as Rasa's walk makes it."""
            now = self.replayed
            if self.ignore:
                if not hidden:
                    last_ml = self.domain._get_prev_action_sub_state(now)
                if not now.followup_action and now.latest_action_name != now.active_loop_name:
                    hidden = hide
                if hidden:
                    return last_ml, hidden
            state = self.domain.get_active_state(now, omit_unset_slots=self.omit)
            if self.ignore:
                self.domain._remove_rule_only_features(state, self.rule_only_data)
                if states:
                    self.domain._substitute_rule_only_user_input(state, states[-1])
                if last_ml:
                    state[PREVIOUS_ACTION] = last_ml
            states.append(self.domain._clean_state(state))
            return last_ml, hidden

        def states_for(self, applied: List[Event]) -> List[State]:
            for position in range(self.walked, len(applied)):
                event = applied[position]
                if isinstance(event, ActionExecuted):
                    self.last_ml_action, self.hidden = self.step(
                        event.hide_rule_turn, self.states, self.last_ml_action, self.hidden
                    )
                self.replayed.update(event)
            if len(applied) > self.walked:
                self.walked, self.last = len(applied), applied[-1]
            states = list(self.states)
            self.step(False, states, self.last_ml_action, self.hidden)  # the state now
            return states

    def past_states(
        self: DialogueStateTracker,
        domain: Domain,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: Optional[Dict[Text, Any]] = None,
    ) -> List[State]:
        applied = self.applied_events()
        walks: List[Walk] = self.__dict__.setdefault("_careers_walks", [])
        reading = (domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        walk = next((w for w in walks if w.reads_as(*reading)), None)
        if walk is None or not walk.goes_on_to(applied):
            if walk is not None:
                walks.remove(walk)
            walk = Walk(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
            walks.append(walk)
        states = walk.states_for(applied)
        return [{part: dict(sub) for part, sub in state.items()} for state in states]

    _replace(DialogueStateTracker, "past_states", past_states)


def _rules_looked_up_by_latest_state() -> None:
    """To find the rules that apply, the rule policy tests every rule it learnt (about
    230 here) against the conversation's latest state, then the survivors against the
    state before, and so on, for each action it predicts. A rule whose latest state
    names a previous action, or an intent, applies only when the conversation's
    latest state has that name, or that intent. So index the rules once by the two
    names their latest state requires (or "any"), and test only those whose names
    the conversation's latest state has: the same tests, on a few of the rules."""
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER
    from rasa.shared.nlu.constants import ACTION_NAME, INTENT

    ANY = None
    Names = Tuple[Optional[Text], Optional[Text]]

    def required(state: Dict[Text, Any], part: Text, name: Text) -> Optional[Text]:
        value = (state.get(part) or {}).get(name)
        return value if isinstance(value, str) and value and value != SHOULD_NOT_BE_SET else ANY

    def names_in(state: Dict[Text, Any]) -> Names:
        return required(state, PREVIOUS_ACTION, ACTION_NAME), required(state, USER, INTENT)

    def names_required_by(rule: List[State]) -> Names:
        # Rasa compares a state that has no previous action (a conversation's start)
        # with nothing else: such a rule requires no names.
        return names_in(rule[-1]) if rule and rule[-1].get(PREVIOUS_ACTION) else (ANY, ANY)

    def index(policy: RulePolicy, lookup: Dict[Text, Any]) -> Dict[Names, Set[Text]]:
        indexes: Dict[int, Any] = policy.__dict__.setdefault("_careers_rule_index", {})
        kept = indexes.get(id(lookup))
        if kept is None or kept[0] is not lookup or kept[1] != len(lookup):
            by_names: Dict[Names, Set[Text]] = {}
            for key in lookup:
                rule = policy._rule_key_to_state(key)
                by_names.setdefault(names_required_by(rule), set()).add(key)
            kept = indexes[id(lookup)] = (lookup, len(lookup), by_names)
        return kept[2]

    def _get_possible_keys(self: RulePolicy, lookup: Dict[Text, Text], states: List[State]) -> Set[Text]:
        if not states:
            return set(lookup.keys())
        by_names = index(self, lookup)
        action, intent = names_in(states[-1])
        possible: Set[Text] = set()
        for names in {(action, intent), (action, ANY), (ANY, intent), (ANY, ANY)}:
            possible |= by_names.get(names, set())
        for turn, state in enumerate(reversed(states)):
            possible = {key for key in possible if self._is_rule_applicable(key, turn, state)}
        return possible

    _replace(RulePolicy, "_get_possible_keys", _get_possible_keys)


def _applied_events_carried_on() -> None:
    """A tracker's applied events (its events less those undone by a restart, a
    rewind or a form's happy path) are rebuilt from its first event every time the
    policies or a form ask, several times per action. Keep the latest result on the
    tracker and, when events have only been added since and name no new form,
    carry it on over the new events alone, exactly as the whole rebuild would;
    anything else is rebuilt as Rasa does."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        ActiveLoop,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    rebuild = DialogueStateTracker.applied_events

    def loop_names(events: Iterable[Event]) -> Set[Text]:
        return {event.name for event in events if isinstance(event, ActiveLoop) and event.name}

    def carry_on(
        tracker: DialogueStateTracker, applied: List[Event], new: Iterable[Event], loops: Set[Text]
    ) -> None:
        """Rasa's rebuild (DialogueStateTracker.applied_events) from `applied` on."""
        for event in new:
            if isinstance(event, (Restarted, SessionStarted)):
                applied.clear()
            elif isinstance(event, ActionReverted):
                tracker._undo_till_previous(ActionExecuted, applied)
            elif isinstance(event, UserUtteranceReverted):
                tracker._undo_till_previous(UserUttered, applied)
                tracker._undo_till_previous(ActionExecuted, applied)
            elif (
                isinstance(event, ActionExecuted)
                and event.action_name in loops
                and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
            ):
                tracker._undo_till_previous_loop_execution(event.action_name, applied)
            else:
                applied.append(event)

    def applied_events(self: DialogueStateTracker) -> List[Event]:
        events = self.events
        count = len(events)
        kept = self.__dict__.get("_careers_applied")
        if kept is not None and count >= kept[0] > 0 and events[kept[0] - 1] is kept[1]:
            done, last, loops, applied = kept
            new = [events[i] for i in range(done, count)]
            if loop_names(new) <= loops:
                applied = list(applied)
                carry_on(self, applied, new, loops)
                self.__dict__["_careers_applied"] = (count, events[-1], loops, applied)
                return list(applied)
        applied = rebuild(self)
        if count:
            self.__dict__["_careers_applied"] = (count, events[-1], loop_names(events), list(applied))
        return applied

    _replace(DialogueStateTracker, "applied_events", applied_events)


def _freeze_the_loaded_model() -> None:
    """Python's garbage collector now and then walks every object the server holds:
    with TensorFlow, spaCy and the model loaded, 490,000, which took 190 ms in the
    middle of a reply. Once the model is loaded, collect once and move
    what is left out of the collector's way (`gc.freeze`); what each message makes
    is collected as before."""
    import gc

    import rasa.core.run

    async def load_agent_then_freeze(*args: Any, **kwargs: Any) -> Any:
        agent = await load_agent_on_start(*args, **kwargs)
        gc.collect()
        gc.freeze()
        return agent

    load_agent_on_start = _replace(rasa.core.run, "load_agent_on_start", load_agent_then_freeze)


def _no_copies_for_debug_lines_nobody_logs() -> None:
    """Rasa's message handling, policies and forms pass deep copies of events, states
    and slots to `structlogger.debug(...)`, and Python makes the copies before
    structlog looks at the level: a fifth of a millisecond a message, for lines that
    are dropped at INFO. In those four modules (where every `copy.deepcopy` is such
    an argument) the copy is made only while structlog logs at DEBUG."""
    import copy

    import rasa.core.actions.forms
    import rasa.core.policies.memoization
    import rasa.core.policies.rule_policy
    import rasa.core.processor
    import structlog
    from structlog._native import _nop

    def debug_is_logged() -> bool:
        return getattr(structlog.get_config()["wrapper_class"], "debug", None) is not _nop

    def deepcopy(value: Any, memo: Optional[Dict[int, Any]] = None) -> Any:
        return copy.deepcopy(value, memo) if debug_is_logged() else value

    copy_for_debug_lines = types.SimpleNamespace(deepcopy=deepcopy)
    for module in (
        rasa.core.processor,
        rasa.core.policies.memoization,
        rasa.core.policies.rule_policy,
        rasa.core.actions.forms,
    ):
        _replace(module, "copy", copy_for_debug_lines)


def _an_empty_domain_built_once() -> None:
    """On every message Rasa checks the parsed message against the domain, after
    asking whether the domain is empty, which it answers by building an empty domain
    to compare with. Build that one once."""
    from rasa.shared.core.domain import Domain

    empty: List[Dict[Text, Any]] = []

    def is_empty(self: Domain) -> bool:
        if not empty:
            empty.append(Domain.empty().as_dict())
        return self.as_dict() == empty[0]

    _replace(Domain, "is_empty", is_empty)


def _slots_copied_directly() -> None:
    """Each new tracker copies every slot of the domain with `copy.copy`, which takes
    the general road (`__reduce_ex__`) for each; Rasa makes several trackers per
    message. A slot is a plain object: the same copy, made directly."""
    from rasa.shared.core.slots import Slot

    def __copy__(self: Slot) -> Slot:
        twin: Slot = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        return twin

    _replace(Slot, "__copy__", __copy__)


def _trackers_copied_without_replaying() -> None:
    """Rasa runs each action on a copy of the tracker (so that a rejected action's
    events can be dropped), and a copy is made by replaying every event into a new
    tracker: 5% of the server's time under load. Events change a tracker only by
    setting its slots, its latest message, action and bot utterance, its follow-up
    action, pause and active form (and the form's flags, in place), so the copy is
    made from those: the same events (the same objects, as a replay shares them),
    each slot as it is, and a copy of the active form. tests/test_rasa_patches.py
    compares the copies with replays on random conversations."""
    from rasa.shared.core.trackers import DialogueStateTracker

    def copy_of(self: DialogueStateTracker) -> DialogueStateTracker:
        twin = self.init_copy()
        twin.events.extend(self.events)
        for name, slot in self.slots.items():
            twin.slots[name] = copy.copy(slot)
        twin._paused = self._paused
        twin.followup_action = self.followup_action
        twin.latest_action = self.latest_action
        twin.latest_message = self.latest_message
        twin.latest_bot_utterance = self.latest_bot_utterance
        twin.active_loop = copy.copy(self.active_loop)
        return twin

    _replace(DialogueStateTracker, "copy", copy_of)


def _event_types_looked_up_by_name() -> None:
    """Every event the action server returns is turned back into an object by
    finding its class among all of Event's subclasses, walked afresh each time.
    Keep the classes by name; a name not kept yet is looked up as Rasa does (so a
    class defined later is found, and unknown names fail the same way)."""
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    by_name: Dict[Text, Any] = {}

    def resolve_by_type(type_name: Text, default: Optional[Any] = None) -> Optional[Any]:
        found = by_name.get(type_name)
        if found is None:
            for cls in rasa.shared.utils.common.all_subclasses(Event):
                by_name.setdefault(cls.type_name, cls)
            found = by_name.get(type_name)
        return found if found is not None else rasas(type_name, default)

    rasas = _replace(Event, "resolve_by_type", staticmethod(resolve_by_type))  # the function


def _action_server_token_from_the_environment() -> None:
    """The action server answers only requests that carry its token. Rasa reads the
    action endpoint from endpoints.yml; when ACTION_SERVER_TOKEN is set, the endpoint
    also sends `Authorization: Bearer <token>` (kept out of endpoints.yml, so that
    the file holds no secret and the tools that read it need none)."""
    from rasa.core.utils import AvailableEndpoints

    from runtime import ACTION_SERVER_TOKEN

    def read_endpoints(cls: Any, endpoint_file: Text) -> Any:
        endpoints = rasas.__func__(cls, endpoint_file)
        token = os.environ.get(ACTION_SERVER_TOKEN)
        if token and endpoints.action is not None:
            endpoints.action.headers = {**endpoints.action.headers, "Authorization": f"Bearer {token}"}
        return endpoints

    rasas = _replace(AvailableEndpoints, "read_endpoints", classmethod(read_endpoints))  # bound


# The patches above change how fast Rasa works, not what it does (SPEED_PATCHES,
# except the action server's token). Those below change what it does, for safety
# and privacy (SAFETY_PATCHES; docs/security.md).


def _only_offered_buttons_parsed_as_intents() -> None:
    """Rasa reads a message written `/intent{"slot": "value"}` as that intent with
    those entities, whoever typed it: anyone could set a fact (`/inform{...}`) or
    restart a check (`/restart`) by typing. Here a message in that form is read so
    only if it is the payload of a button the assistant offered in its latest turn
    (or, before it has said anything, of its greeting, which the widget shows
    itself). Anything else in that form is a message the assistant did not
    understand: the fallback intent, no entities."""
    from rasa.core.processor import MessageProcessor
    from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME, INTENT_MESSAGE_PREFIX

    from runtime import GREETING_RESPONSE

    async def parse_message(
        self: MessageProcessor,
        message: Any,
        tracker: Any = None,
        only_output_properties: bool = True,
    ) -> Dict[Text, Any]:
        text = (message.text or "").strip()
        if text.startswith(INTENT_MESSAGE_PREFIX):
            events = tracker.events if tracker is not None else []
            greeting = self.domain.responses.get(GREETING_RESPONSE, []) if self.domain else []
            if text not in offered_payloads(events, greeting):
                intent = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0}
                return {"text": message.text, "intent": intent, "intent_ranking": [intent], "entities": []}
        return await rasas(self, message, tracker, only_output_properties)

    rasas = _replace(MessageProcessor, "parse_message", parse_message)


def offered_payloads(events: Reversible[Event], greeting: List[Dict[Text, Any]]) -> Set[Text]:
    """The button payloads of the bot's messages since the person's latest message;
    at the start of a conversation, also those of the greeting's variations."""
    from rasa.shared.core.events import BotUttered, UserUttered

    def payloads(buttons: Any) -> Set[Text]:
        if not isinstance(buttons, list):
            return set()
        return {
            b["payload"].strip() for b in buttons if isinstance(b, dict) and isinstance(b.get("payload"), str)
        }

    offered: Set[Text] = set()
    for event in reversed(events):
        if isinstance(event, UserUttered):
            return offered
        if isinstance(event, BotUttered):
            offered |= payloads((event.data or {}).get("buttons"))
    for variation in greeting:
        offered |= payloads(variation.get("buttons"))
    return offered


class ActionServerUnavailable(BaseException):
    """The action server did not answer in time, or answered with an error.

    A BaseException, so that it passes the `except Exception` of Rasa's processor
    and form action (which would drop the action's events and carry on predicting,
    calling the broken server again, up to ten times) and ends the turn."""


def _apology_when_the_action_server_fails() -> None:
    """With the action server down, slow or failing, Rasa waited up to 300 s per
    call, logged the whole failure and answered nothing. Here a call that takes
    longer than ACTION_TIMEOUT_SECONDS (environment; default 10), cannot connect, or
    gets a server error ends the turn: the person gets the response
    runtime.UNAVAILABLE_RESPONSE (sorry, try again shortly) and the turn is not
    saved, so the conversation is as it was before the message, and the same
    message works once the action server is back. A form's refusal of an answer
    (HTTP 400, ActionExecutionRejection) is not a failure and goes on as before."""
    import asyncio

    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.trackers import DialogueStateTracker

    from runtime import UNAVAILABLE_RESPONSE

    async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> Any:
        try:
            return await asyncio.wait_for(
                rasas_run(self, output_channel, nlg, tracker, domain), action_timeout()
            )
        except ActionExecutionRejection:
            raise
        except asyncio.TimeoutError:
            logger.error(f"The action server did not answer {self.name()} in {action_timeout():g} s.")
            raise ActionServerUnavailable(self.name()) from None
        except Exception as error:
            cause = error.__cause__ or error
            logger.error(f"The action server failed to run {self.name()}: {type(cause).__name__}.")
            raise ActionServerUnavailable(self.name()) from None

    async def handle_message(self: MessageProcessor, message: Any) -> Any:
        try:
            return await rasas_handle(self, message)
        except ActionServerUnavailable:
            empty = DialogueStateTracker.from_events(message.sender_id, [])
            apology = await self.nlg.generate(UNAVAILABLE_RESPONSE, empty, message.output_channel.name())
            if apology:
                await message.output_channel.send_response(message.sender_id, apology)
            forget = getattr(getattr(self.tracker_store, "_tracker_store", None), "forget", None)
            if callable(forget):  # the cached store: read the conversation afresh
                forget(message.sender_id)
            if isinstance(message.output_channel, CollectingOutputChannel):
                return message.output_channel.messages
            return None

    rasas_run = _replace(RemoteAction, "run", run)
    rasas_handle = _replace(MessageProcessor, "handle_message", handle_message)


def _sanic_websockets_wait_on_tasks() -> None:
    """Sanic 21.12, the version Rasa 3.6 pins, waits for a WebSocket's next message
    with `asyncio.wait((future, coroutine))`. Python 3.11 refuses a coroutine there
    (TypeError), so on 3.11 every WebSocket (socket.io's, so the widget's) failed at
    the first message the server read from it. Sanic's WebSocket module is given an
    `asyncio` whose `wait` first makes a task of each coroutine, as Python 3.10's
    own `wait` did; everything else is asyncio's. The same on 3.10, less a warning."""
    import asyncio

    from sanic.server.websockets import impl

    async def wait(aws: Iterable[Any], **kwargs: Any) -> Any:
        return await asyncio.wait({asyncio.ensure_future(a) for a in aws}, **kwargs)

    tasks_only = types.ModuleType("asyncio", "asyncio, with a wait() that accepts coroutines")
    tasks_only.__dict__.update({k: v for k, v in vars(asyncio).items() if not k.startswith("__")}, wait=wait)
    _replace(impl, "asyncio", tasks_only)


DEFAULT_ACTION_TIMEOUT_SECONDS = 10.0


def action_timeout() -> float:
    try:
        value = float(os.environ.get("ACTION_TIMEOUT_SECONDS", ""))
    except ValueError:
        return DEFAULT_ACTION_TIMEOUT_SECONDS
    return value if value > 0 else DEFAULT_ACTION_TIMEOUT_SECONDS


# These change how fast Rasa works, not what it does.
SPEED_PATCHES: Dict[str, Callable[[], None]] = {
    "leave out JAX": _leave_out_jax,
    "validate action responses by event type": _validate_action_responses_by_event_type,
    "run model graphs in order, without dask": _run_graphs_in_order,
    "keep action server connections open": _keep_action_server_connections_open,
    "send the action server the latest turns' events": _send_recent_events_to_the_action_server,
    "past states carried on": _past_states_carried_on,
    "rules looked up by their latest state": _rules_looked_up_by_latest_state,
    "applied events carried on": _applied_events_carried_on,
    "freeze the loaded model out of the garbage collector's way": _freeze_the_loaded_model,
    "no copies for debug lines nobody logs": _no_copies_for_debug_lines_nobody_logs,
    "an empty domain built once": _an_empty_domain_built_once,
    "slots copied directly": _slots_copied_directly,
    "trackers copied without replaying": _trackers_copied_without_replaying,
    "event types looked up by name": _event_types_looked_up_by_name,
}
# These change what Rasa does, on purpose (issue 13; docs/security.md).
SAFETY_PATCHES: Dict[str, Callable[[], None]] = {
    "the action server's token from the environment": _action_server_token_from_the_environment,
    "only offered buttons parsed as intents": _only_offered_buttons_parsed_as_intents,
    "conversations deleted on request": partial(conversations_deleted_on_request, _replace),
    "an apology when the action server fails": _apology_when_the_action_server_fails,
}
# These let Rasa's pinned libraries run on a newer Python than Rasa 3.6 declares.
PLATFORM_PATCHES: Dict[str, Callable[[], None]] = {
    "sanic's websockets wait on tasks (Python 3.11)": _sanic_websockets_wait_on_tasks,
}
PATCHES: Dict[str, Callable[[], None]] = {**SPEED_PATCHES, **SAFETY_PATCHES, **PLATFORM_PATCHES}


def apply(names: Optional[Iterable[str]] = None) -> List[str]:
    """Apply every patch (or those `names`) once; returns the names of those applied
    so far. Raises on another Rasa version."""
    if rasa.__version__ != PATCHED_FOR:
        raise RuntimeError(
            f"runtime/rasa_patches.py was written for Rasa {PATCHED_FOR}, not {rasa.__version__}: "
            "check each patch against the new version's source, then update PATCHED_FOR."
        )
    wanted = set(PATCHES if names is None else names)
    for name, patch in PATCHES.items():
        if name in wanted and name not in _applied:
            patch()
            _applied.append(name)
    return list(_applied)
