"""runtime/rasa_patches.py: written for one Rasa version; each patch keeps Rasa's behaviour."""

from __future__ import annotations

import functools
import json
import random
from typing import Any, Dict, Iterator, List, Tuple

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


@functools.lru_cache(maxsize=1)
def rasas_validator() -> Any:
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    return validators.validator_for(schema)(schema)


def rasas_own_check(response: Any) -> Any:
    """What Rasa's own check of an action server response gives: True, or the error
    (`jsonschema.validate` is this validator's best match, built for each call)."""
    from jsonschema import exceptions

    error = exceptions.best_match(rasas_validator().iter_errors(response))
    return True if error is None else (error.message, list(error.path))


def our_check(response: Any) -> Any:
    try:
        return remote_action()._validate_action_result(response)
    except ValidationError as error:
        suffix = error.message.index(". Failed to validate Action server response")
        return (error.message[:suffix], list(error.path))


def responses_to_check(count: int, seed: int) -> Any:
    """Action server responses, most of them wrong somewhere: every kind of event,
    with fields missing, of the wrong type or unknown, and lists that are not lists."""
    from rasa.shared.utils.schemas.events import EVENT_SCHEMA

    kinds = [kind["properties"]["event"]["const"] for kind in EVENT_SCHEMA["oneOf"]]
    oddities: List[Any] = [None, 1, 2.5, True, "text", [], {}, [1], {"name": 1}, "should_not_be_set"]
    fields = [
        "name",
        "value",
        "text",
        "timestamp",
        "metadata",
        "entities",
        "policy",
        "confidence",
        "parse_data",
        "input_channel",
        "message_id",
        "hide_rule_turn",
        "action_text",
        "event",
    ]
    shuffle = random.Random(seed)

    def event() -> Any:
        made: Dict[str, Any] = {"event": shuffle.choice(kinds + ["no_such_event", 3, None])}
        if made["event"] == "slot" or shuffle.random() < 0.3:
            made.update(name="programme", value="stp")
        if made["event"] == "user":
            made.update(
                text="hi",
                parse_data={
                    "intent": {"name": "greet", "confidence": 1.0},
                    "entities": [{"entity": "programme", "value": "stp"}],
                },
            )
        for _ in range(shuffle.choice([0, 0, 1, 2])):
            made[shuffle.choice(fields)] = shuffle.choice(oddities)
        if shuffle.random() < 0.1:
            made.pop("event")
        if shuffle.random() < 0.05:
            return shuffle.choice(oddities)
        return made

    for _ in range(count):
        response: Dict[str, Any] = {}
        if shuffle.random() < 0.9:
            response["events"] = [event() for _ in range(shuffle.randrange(4))]
        if shuffle.random() < 0.7:
            response["responses"] = [
                shuffle.choice([{"text": "hi"}, {"response": "utter_greet"}, "x", 1])
                for _ in range(shuffle.randrange(3))
            ]
        if shuffle.random() < 0.05:
            response["events"] = shuffle.choice(oddities)
        if shuffle.random() < 0.03:
            yield shuffle.choice(oddities)
        else:
            yield response


@pytest.mark.parametrize("seed", range(5))
def test_responses_are_judged_exactly_as_rasa_judges_them(seed: int):
    """Valid or not, and if not the same message about the same place, on 400
    responses of every shape, most of them wrong."""
    # Slots, forms stopped, follow-up actions and the like are checked without jsonschema.
    assert {"slot", "active_loop", "followup", "reset_slots", "bot"} <= rasa_patches.PLAINLY_CHECKED
    assert "user" not in rasa_patches.PLAINLY_CHECKED
    judged = [(rasas_own_check(r), our_check(r)) for r in responses_to_check(400, seed)]
    assert sum(1 for theirs, _ in judged if theirs is True) > 20  # some were valid
    for theirs, ours in judged:
        assert ours == theirs


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


def test_recent_events_start_at_the_message_before_the_latest():
    assert rasa_patches.ACTION_SERVER_TURNS == 2
    tracker = conversation(turns=5)
    recent = rasa_patches.recent_events(tracker.events)
    assert [e.text for e in recent if e.type_name == "user"] == ["message 3", "message 4"]
    assert recent[-1] is tracker.events[-1]
    short = conversation(turns=1)
    assert rasa_patches.recent_events(short.events) == list(short.events)  # fewer messages: all


@pytest.mark.parametrize("form", [False, True])
def test_the_action_server_gets_the_tracker_state_with_the_latest_turns(form: bool):
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet
    from rasa.shared.core.trackers import EventVerbosity

    tracker = conversation(turns=6)
    if form:  # a check under way, started by the latest message
        tracker.update(ActionExecuted("eligibility_form"))
        tracker.update(ActiveLoop("eligibility_form"))
        tracker.update(SlotSet("requested_slot", "degree_class"))
        assert tracker.active_loop.trigger_message["text"] == "message 5"
    call = remote_action()._action_call_format(tracker, Domain.load("domain.yml"))
    whole = tracker.current_state(EventVerbosity.ALL)
    assert bool(call["tracker"]["active_loop"]) == form
    assert call["next_action"] == "action_answer_topic"
    assert call["version"] == rasa.__version__
    assert set(call["tracker"]) == set(whole)
    for key in whole:
        if key != "events":
            assert call["tracker"][key] == whole[key], key
    # The same events as Rasa sends, from the message before the latest on.
    first_kept = len(whole["events"]) - len(call["tracker"]["events"])
    assert call["tracker"]["events"] == whole["events"][first_kept:]
    assert [e["text"] for e in call["tracker"]["events"] if e["event"] == "user"] == [
        "message 4",
        "message 5",
    ]
    # Slots set long before still reach the action server, with the tracker's state.
    assert call["tracker"]["slots"]["programme"] == "stp"
    assert "domain" in call


@pytest.mark.servers  # the server's start, in a process of its own (about 7 s)
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


@pytest.mark.model
def test_the_speed_patches_change_no_reply(tmp_path):
    """Every message of the conversation scripts, as two long conversations (one would
    cost Rasa as it is twice the time: its turns grow with the conversation), with Rasa
    as it is but for the safety patches (in a process of its own: they change replies
    on purpose) and with every patch: the same replies."""
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT
    from tests.test_tracker_store import everything_people_type
    from tools.careers_team.converse import InProcessAssistant

    script = (
        "import json, sys\n"
        "from runtime import rasa_patches\n"
        "safety_only = list(rasa_patches.SAFETY_PATCHES)\n"
        "apply = rasa_patches.apply\n"
        "rasa_patches.apply = lambda: apply(safety_only)  # Rasa as it is, but safe\n"
        "from tests.test_tracker_store import everything_people_type\n"
        "from tools.careers_team.converse import InProcessAssistant\n"
        "assistant = InProcessAssistant()\n"
        "typed = everything_people_type()\n"
        "replies = [assistant.send(f'someone-{2 * n // len(typed)}', t) for n, t in enumerate(typed)]\n"
        "json.dump(replies, open(sys.argv[1], 'w'))\n"
    )
    unpatched = tmp_path / "unpatched.json"
    python = [sys.executable, "-c", script, str(unpatched)]
    done = subprocess.run(python, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assistant = InProcessAssistant()
    typed = everything_people_type()
    patched = [assistant.send(f"someone-{2 * n // len(typed)}", text) for n, text in enumerate(typed)]
    assistant.close()
    assert rasa_patches.apply() == list(rasa_patches.PATCHES)
    assert json.loads(json.dumps(patched)) == json.loads(unpatched.read_text())


@pytest.fixture(scope="module")
def agent() -> Any:
    """The trained model with the patches, as the server loads it."""
    from tools.careers_team.converse import DEFAULT_MODEL, InProcessAssistant

    if not DEFAULT_MODEL.exists():
        pytest.skip("needs the trained model")
    assistant = InProcessAssistant()
    yield assistant
    assistant.close()


@pytest.mark.model
def test_the_graphs_give_what_dask_gives(agent):
    """Each message of the scripts through the NLU graph, and each conversation state
    through the policies' graph, run in order and by dask: the same outputs."""
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.exceptions import GraphRunError
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.constants import TEXT

    from tests.test_tracker_store import everything_people_type

    processor = agent.agent.processor
    runner, metadata = processor.graph_runner, processor.model_metadata
    by_dask = rasa_patches.RASAS_OWN["DaskGraphRunner.run"]
    for text in everything_people_type()[:60]:
        inputs = {"__message__": [UserMessage(text)]}
        ours = runner.run(inputs=dict(inputs), targets=[metadata.nlu_target])
        dasks = by_dask(runner, inputs=dict(inputs), targets=[metadata.nlu_target])
        assert ours.keys() == dasks.keys()
        assert [m.as_dict(only_output_properties=True) for m in ours[metadata.nlu_target]] == [
            m.as_dict(only_output_properties=True) for m in dasks[metadata.nlu_target]
        ]
        assert ours[metadata.nlu_target][0].get(TEXT) == text
    agent.send("graphs", "can I apply for the STP?")
    agent.send("graphs", "2:1")
    tracker = agent._loop.run_until_complete(agent.agent.tracker_store.retrieve("graphs"))
    events = list(tracker.events)
    for end in range(1, len(events) + 1):
        state = DialogueStateTracker.from_events("graphs", events[:end], processor.domain.slots)
        inputs = {"__tracker__": state}
        ours = runner.run(inputs=dict(inputs), targets=[metadata.core_target])
        dasks = by_dask(runner, inputs=dict(inputs), targets=[metadata.core_target])
        assert ours == dasks, end
    with pytest.raises(GraphRunError, match="clashes with a node name"):
        runner.run(inputs={"__message__": metadata.nlu_target}, targets=[metadata.nlu_target])


def rules_of_every_shape(lookup: Dict[str, Any]) -> Dict[str, Any]:
    """The learnt rules with their latest state changed in the ways a rule can
    differ: no previous action (a conversation's start), a previous action by text,
    no intent, an intent that must not be set, no user part."""
    import copy
    import json

    from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER

    changes = [
        lambda last: last.pop(PREVIOUS_ACTION, None),
        lambda last: last.update({PREVIOUS_ACTION: {"action_text": "hello"}}),
        lambda last: (last.get(USER) or {}).pop("intent", None),
        lambda last: last.setdefault(USER, {}).update(intent=SHOULD_NOT_BE_SET),
        lambda last: last.pop(USER, None),
    ]
    shapes = {}
    for number, key in enumerate(sorted(lookup)):
        rule = copy.deepcopy(json.loads(key))
        changes[number % len(changes)](rule[-1])
        shapes[json.dumps(rule)] = lookup[key]
    return shapes


@pytest.mark.model
def test_rules_are_found_as_rasa_finds_them(agent):
    """For every state a conversation of the scripts passed through, for every rule's
    own states and for conversations' first states, the rule policy finds the same
    rules with the index as without it, for the rules it learnt and for rules of
    every shape."""
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
    from rasa.shared.core.trackers import DialogueStateTracker

    from tests.test_tracker_store import everything_people_type

    processor = agent.agent.processor
    policy = next(
        node._component
        for node in processor.graph_runner._instantiated_nodes.values()
        if isinstance(node._component, RulePolicy)
    )
    rasas = rasa_patches.RASAS_OWN["RulePolicy._get_possible_keys"]
    for text in everything_people_type()[:80]:
        agent.send("rules", text)
    tracker = agent._loop.run_until_complete(agent.agent.tracker_store.retrieve("rules"))
    events = list(tracker.events)
    histories = [
        DialogueStateTracker.from_events("rules", events[:end], processor.domain.slots).past_states(
            processor.domain
        )
        for end in range(1, len(events) + 1, 3)
    ]
    lookups = [policy.lookup[RULES], policy.lookup[RULES_FOR_LOOP_UNHAPPY_PATH]]
    lookups += [rules_of_every_shape(lookup) for lookup in lookups]
    for lookup in lookups:
        histories += [policy._rule_key_to_state(key) for key in lookup]
    histories += [[{"user": {"intent": intent}}] for intent in ("greet", "inform", "check_eligibility")]
    found = 0
    for lookup in lookups:
        for states in histories + [[]]:
            ours = policy._get_possible_keys(lookup, states)
            assert ours == rasas(policy, lookup, states)
            found += bool(ours)
    assert found > len(histories)  # many histories match some rule


def random_event_makers() -> Tuple[List[Any], List[float]]:
    """Events of every kind the dialogue sees, with forms starting, running and
    stopping, restarts, rewinds, undos and new sessions, and how often each comes."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionExecutionRejected,
        ActionReverted,
        ActiveLoop,
        BotUttered,
        LoopInterrupted,
        Restarted,
        SessionStarted,
        SlotSet,
        UserUtteranceReverted,
        UserUttered,
    )

    makers = [
        lambda: ActionExecuted("action_listen"),
        lambda: UserUttered("hi", {"name": "greet", "confidence": 1.0}),
        lambda: ActionExecuted("eligibility_form"),
        lambda: ActionExecuted("other_form"),
        lambda: ActionExecuted("action_answer_topic"),
        lambda: ActiveLoop("eligibility_form"),
        lambda: ActiveLoop("other_form"),
        lambda: ActiveLoop(None),
        lambda: SlotSet("requested_slot", "degree_class"),
        lambda: BotUttered("hello"),
        lambda: LoopInterrupted(True),
        lambda: ActionExecutionRejected("eligibility_form"),
        lambda: ActionReverted(),
        lambda: UserUtteranceReverted(),
        lambda: Restarted(),
        lambda: SessionStarted(),
    ]
    weights = [8, 6, 6, 2, 4, 2, 1, 2, 3, 3, 1, 1, 1, 1, 0.5, 0.5]
    return makers, weights


def random_conversations(
    slots: Any, makers: List[Any], weights: List[float], count: int, length: int, share: float
) -> Iterator[Tuple[random.Random, Any]]:
    """`count` random conversations of `length` events from `makers`: the tracker after
    a `share` of its events, with the conversation's own random numbers."""
    from rasa.shared.core.trackers import DialogueStateTracker

    for seed in range(count):
        pick = random.Random(seed)
        tracker = DialogueStateTracker("random", slots)
        for _ in range(length):
            tracker.update(pick.choices(makers, weights)[0]())
            if pick.random() < share:
                yield pick, tracker


@pytest.mark.model
def test_applied_events_are_carried_on_exactly(agent):
    """Random conversations: after every event, the events carried on are the events
    Rasa rebuilds."""

    rebuild = rasa_patches.RASAS_OWN["DialogueStateTracker.applied_events"]
    makers, weights = random_event_makers()
    slots = agent.agent.processor.domain.slots
    carried_on = 0
    for _, tracker in random_conversations(slots, makers, weights, count=40, length=60, share=0.7):
        carried_on += "_careers_applied" in tracker.__dict__
        ours = tracker.applied_events()
        assert [id(e) for e in ours] == [id(e) for e in rebuild(tracker)]
        ours.clear()  # a caller changing the list it got...
        assert [id(e) for e in tracker.applied_events()] == [id(e) for e in rebuild(tracker)]
    assert carried_on > 1000  # most answers came from the kept result


@pytest.mark.model
def test_past_states_are_carried_on_exactly(agent):
    """Random conversations: after most events, the past states read each way the
    policies read them (with and without the rule-only turns, with the rule-only
    data of this model) are the states Rasa's own walk makes from the first event."""

    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.events import ActionExecuted, FollowupAction, UserUttered

    processor = agent.agent.processor
    domain = processor.domain
    policy = next(
        node._component
        for node in processor.graph_runner._instantiated_nodes.values()
        if isinstance(node._component, RulePolicy)
    )
    rule_only_data = policy._get_rule_only_data()
    assert rule_only_data.get("rule_only_loops")  # something to leave out
    readings = [
        {},
        {"ignore_rule_only_turns": True, "rule_only_data": rule_only_data},
        {"ignore_rule_only_turns": False, "rule_only_data": rule_only_data},
        {"omit_unset_slots": True},
    ]
    makers, weights = random_event_makers()
    # Actions the rule policy predicted (hidden from the memoization policy's states),
    # a follow-up action, a message with entities.
    makers += [
        lambda: ActionExecuted("action_answer_topic", hide_rule_turn=True),
        lambda: ActionExecuted("action_listen", hide_rule_turn=True),
        lambda: ActionExecuted("eligibility_form", hide_rule_turn=True),
        lambda: FollowupAction("action_answer_topic"),
        lambda: UserUttered(
            "I have a 2:1",
            {"name": "inform", "confidence": 1.0},
            [{"entity": "degree_class", "value": "2:1", "start": 9, "end": 12}],
        ),
    ]
    weights += [4, 4, 2, 1, 3]
    carried_on = 0
    for pick, tracker in random_conversations(domain.slots, makers, weights, count=30, length=50, share=0.6):
        for reading in pick.sample(readings, 2):
            carried_on += bool(tracker.__dict__.get("_careers_walks"))
            ours = tracker.past_states(domain, **reading)
            assert ours == domain.states_for_tracker_history(tracker, **reading), reading
            if ours:
                ours[-1].clear()  # a policy changing what it was given...
            assert tracker.past_states(domain, **reading) == domain.states_for_tracker_history(
                tracker, **reading
            )
    assert carried_on > 1000  # most answers came from a walk kept on the tracker


@pytest.mark.model
def test_trackers_are_copied_as_a_replay_copies_them(agent):
    """Random conversations: after most events, a copy of the tracker holds what a
    replay of its events holds, and what happens to the copy afterwards (a form
    rejected or interrupted, more events) leaves the original as it was."""

    from rasa.shared.core.events import (
        ActionExecutionRejected,
        ConversationPaused,
        ConversationResumed,
        FollowupAction,
        LoopInterrupted,
        SlotSet,
    )

    replayed = rasa_patches.RASAS_OWN["DialogueStateTracker.copy"]

    def held(tracker: Any) -> Any:
        return (
            [id(event) for event in tracker.events],
            {name: (slot.value, slot.has_been_set) for name, slot in tracker.slots.items()},
            tracker.is_paused(),
            tracker.followup_action,
            tracker.latest_action,
            tracker.latest_message,
            tracker.latest_bot_utterance,
            tracker.active_loop,
            tracker._max_event_history,
            tracker.is_rule_tracker,
        )

    makers, weights = random_event_makers()
    makers += [ConversationPaused, ConversationResumed, lambda: FollowupAction("action_answer_topic")]
    weights += [1, 1, 1]
    slots = agent.agent.processor.domain.slots
    forms_copied = 0
    for _, tracker in random_conversations(slots, makers, weights, count=30, length=50, share=0.6):
        before = held(tracker)
        twin = tracker.copy()
        assert held(twin) == held(replayed(tracker))
        forms_copied += twin.active_loop is not None
        for event in (ActionExecutionRejected("eligibility_form"), LoopInterrupted(True)):
            twin.update(event)
        twin.update(SlotSet("requested_slot", "degree_subject"))
        assert held(tracker) == before
    assert forms_copied > 100


def test_action_server_connections_are_kept_and_closed_with_the_server():
    """Several calls to the action server reuse one connection; stopping the server
    closes it; another event loop gets a session of its own."""
    import asyncio
    import types

    import rasa.core.run
    from aiohttp import web
    from rasa.utils.endpoints import EndpointConfig

    from tests.harness.serverctl import free_port

    async def scenario() -> Dict[str, Any]:
        peers: List[Any] = []
        bodies: List[Any] = []

        async def webhook(request: web.Request) -> web.Response:
            peers.append(request.transport.get_extra_info("peername"))
            bodies.append(json.loads(await request.text()))
            return web.json_response({"events": [], "responses": []})

        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"X-Test": "1"})
        call = {"next_action": "x", "text": "2:1 in Ingeniería / física", "confidence": 0.1 + 0.2, "n": 2**53}
        try:
            for _ in range(3):
                assert await endpoint.request(json=call) == {"events": [], "responses": []}
            async with endpoint.session() as session:
                assert session.headers["X-Test"] == "1"
            server = types.SimpleNamespace(ctx=types.SimpleNamespace())
            await rasa.core.run.close_resources(server, asyncio.get_running_loop())
            closed = session.closed
            await endpoint.request(json={"next_action": "x"})  # a new session after closing
            async with endpoint.session() as again:
                pass
            await rasa.core.run.close_resources(server, asyncio.get_running_loop())
        finally:
            await runner.cleanup()
        return {"peers": peers, "closed": closed, "again": again, "bodies": bodies, "call": call}

    first = asyncio.new_event_loop().run_until_complete(scenario())
    assert len(first["peers"]) == 4
    assert len(set(first["peers"][:3])) == 1  # one connection for the first three calls
    assert first["peers"][3] != first["peers"][0]
    assert first["closed"] and first["again"].closed
    assert first["bodies"][0] == first["call"]  # the JSON written reads back the same


@pytest.mark.model
def test_the_loaded_model_is_frozen_out_of_the_garbage_collectors_way():
    import asyncio
    import gc
    import types

    import rasa.core.run

    from tools.careers_team.converse import DEFAULT_MODEL

    if not DEFAULT_MODEL.exists():
        pytest.skip("needs the trained model")
    server = types.SimpleNamespace(ctx=types.SimpleNamespace())
    loop = asyncio.new_event_loop()
    gc.unfreeze()
    try:
        agent = loop.run_until_complete(
            rasa.core.run.load_agent_on_start(str(DEFAULT_MODEL), None, None, server, loop)
        )
        assert agent is server.ctx.agent and agent.is_ready()
        assert gc.get_freeze_count() > 100_000
    finally:
        gc.unfreeze()
        loop.close()


DEBUG_COPYING_MODULES = [
    "rasa.core.processor",
    "rasa.core.policies.memoization",
    "rasa.core.policies.rule_policy",
    "rasa.core.actions.forms",
]


@pytest.mark.parametrize("name", DEBUG_COPYING_MODULES)
def test_every_deep_copy_in_those_modules_is_an_argument_of_a_debug_line(name: str):
    """The patch is right only while each `copy.deepcopy(...)` there goes to
    `structlogger.debug(...)` and `copy` is used for nothing else."""
    import ast
    import importlib
    import inspect

    tree = ast.parse(inspect.getsource(importlib.import_module(name)))
    in_debug_lines = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "debug"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "structlogger"
        ):
            in_debug_lines |= {id(inner) for inner in ast.walk(node)}
    uses = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "copy"
    ]
    assert uses, f"{name} no longer uses copy: drop it from the patch"
    for use in uses:
        assert use.attr == "deepcopy" and id(use) in in_debug_lines, f"{name}:{use.lineno}"


def test_debug_lines_get_their_copies_only_while_debug_is_logged():
    import importlib
    import logging

    import structlog
    from rasa.utils.log_utils import configure_structlog

    value = {"events": [{"event": "slot", "value": ["a"]}]}
    before = structlog.get_config()
    try:
        configure_structlog(logging.INFO)
        for name in DEBUG_COPYING_MODULES:
            assert importlib.import_module(name).copy.deepcopy(value) is value
        configure_structlog(logging.DEBUG)
        for name in DEBUG_COPYING_MODULES:
            copied = importlib.import_module(name).copy.deepcopy(value)
            assert copied == value and copied is not value and copied["events"] is not value["events"]
    finally:
        structlog.configure(**before)


def test_the_empty_domain_is_recognised_as_rasa_recognises_it():
    from rasa.shared.core.domain import Domain

    rasas = rasa_patches.RASAS_OWN["Domain.is_empty"]
    for domain in (Domain.empty(), Domain.load("domain.yml"), Domain.from_dict({"intents": ["greet"]})):
        assert domain.is_empty() == rasas(domain)
    assert Domain.empty().is_empty() and not Domain.load("domain.yml").is_empty()


def test_a_slot_is_copied_as_copy_copies_it():
    import copy

    from rasa.shared.core.domain import Domain

    slots = Domain.load("domain.yml").slots
    for slot in slots:
        slot.value = {"degree_class": "upper_second"}
    for slot in slots:
        ours = copy.copy(slot)
        pythons = copy._reconstruct(slot, None, *slot.__reduce_ex__(4))  # the general road
        assert type(ours) is type(pythons) is type(slot) and ours is not slot
        assert ours.__dict__ == pythons.__dict__
        assert ours.value is slot.value  # shallow, as before


def test_events_are_resolved_by_name_as_rasa_resolves_them():
    from rasa.shared.core.events import Event, SlotSet
    from rasa.shared.utils.common import all_subclasses

    rasas = rasa_patches.RASAS_OWN["Event.resolve_by_type"]
    for cls in all_subclasses(Event):
        assert Event.resolve_by_type(cls.type_name) is rasas(cls.type_name)
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")


def test_the_action_endpoint_sends_the_token_from_the_environment(monkeypatch, tmp_path):
    from rasa.core.utils import AvailableEndpoints

    from runtime import ACTION_SERVER_TOKEN

    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "action_endpoint:\n  url: http://127.0.0.1:5055/webhook\n  headers:\n    X-Other: kept\n"
    )
    monkeypatch.delenv(ACTION_SERVER_TOKEN, raising=False)
    assert AvailableEndpoints.read_endpoints(str(endpoints)).action.headers == {"X-Other": "kept"}
    monkeypatch.setenv(ACTION_SERVER_TOKEN, "s3cret")
    action = AvailableEndpoints.read_endpoints(str(endpoints)).action
    assert action.headers == {"X-Other": "kept", "Authorization": "Bearer s3cret"}
    assert action.url == "http://127.0.0.1:5055/webhook"
    rasas = rasa_patches.RASAS_OWN["AvailableEndpoints.read_endpoints"]
    assert rasas(str(endpoints)).action.headers == {"X-Other": "kept"}  # Rasa alone sends none
    (tmp_path / "none.yml").write_text("tracker_store:\n  type: SQL\n")
    assert AvailableEndpoints.read_endpoints(str(tmp_path / "none.yml")).action is None


SANIC_ECHO = """
import asyncio, socket, sys
import websockets
from sanic import Sanic
from runtime import rasa_patches
rasa_patches.apply()
app = Sanic("websocket_probe")

@app.websocket("/echo")
async def echo(_request, ws):
    await ws.send("got " + await ws.recv())

async def talk():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/echo") as client:
            await client.send("hello")
            return await asyncio.wait_for(client.recv(), 10)
    finally:
        server.close()
        await server.wait_closed()

print("reply:", asyncio.run(talk()))
"""


@pytest.mark.servers  # a real sanic server on a socket
def test_a_sanic_websocket_reads_what_a_client_sends():
    """Sanic 21.12's WebSocket read passed a coroutine to asyncio.wait, which Python
    3.11 refuses: the server closed the socket at the first message it read (the
    widget got its greeting and never a reply). In a process of its own, as Sanic
    prepares its server code once per process."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run(
        [sys.executable, "-c", SANIC_ECHO], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert "reply: got hello" in done.stdout, done.stderr[-2000:]
