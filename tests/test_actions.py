"""The Rasa actions, with rasa-sdk's Tracker and CollectingDispatcher."""

from __future__ import annotations

import collections
import re

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import (
    MAX_UNREADABLE,
    ActionAcknowledge,
    ActionAnswerNotCovered,
    ActionAnswerTopic,
    ActionCheckFacts,
    ActionExplain,
    ActionExtractProfile,
    ActionFallback,
    ActionFollowUp,
    ActionGiveVerdict,
    ActionOutOfScope,
    ActionRecordFeedback,
    ActionStartAgain,
    ValidateEligibilityForm,
)
from careers.vocabulary import (
    ASKABLE_FACTS,
    CHECK_ABOUT_SLOT,
    FORM,
    NOT_UNDERSTOOD,
    ONESELF,
    PROFILE_FACTS,
    SOMEONE_ELSE,
    UNREADABLE_SLOT,
)
from tests.conftest import ROOT, make_tracker


def _slots(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_extract_profile_reads_a_multi_fact_message(dispatcher, domain):
    text = "I have a 2:2 in history and an MSc in medical physics, can I apply for the STP?"
    entities = [
        {"entity": "degree_class", "value": "lower_second", "start": 9, "end": 12},
        {"entity": "subject", "value": "history", "start": 16, "end": 23},
        {"entity": "qualification", "value": "msc", "start": 31, "end": 34},
        {"entity": "subject", "value": "medical physics", "start": 38, "end": 53},
        {"entity": "programme", "value": "STP", "start": 75, "end": 78},
    ]
    tracker = make_tracker(text, "check_eligibility", entities)
    events = await ActionExtractProfile().run(dispatcher, tracker, domain)
    assert _slots(events) == {
        "programme": "STP",
        "degree_class": "lower_second",
        "degree_subject": "history",
        "higher_degree": "msc",
        "higher_degree_subject": "medical physics",
    }


async def test_the_programme_follows_from_the_facts_given(dispatcher, domain):
    text = "I'm in year 13 doing physics and maths A levels, could I become a clinical engineer?"
    entities = [
        {"entity": "subject", "value": "physics", "start": 24, "end": 31},
        {"entity": "subject", "value": "mathematics", "start": 36, "end": 40},
        {"entity": "qualification", "value": "a_level", "start": 41, "end": 49},
    ]
    slots = _slots(
        await ActionExtractProfile().run(
            dispatcher, make_tracker(text, "check_eligibility", entities), domain
        )
    )
    assert slots["programme"] == "PTP"
    assert slots["a_level_subjects"] == ["physics", "mathematics"]
    assert slots["science_a_level"] == "yes"

    tracker = make_tracker(
        "I have a 2:1", "inform", [{"entity": "degree_class", "value": "upper_second", "start": 9, "end": 12}]
    )
    assert _slots(await ActionExtractProfile().run(dispatcher, tracker, domain))["programme"] == "STP"


async def test_extract_profile_ignores_questions_about_the_rules(dispatcher, domain):
    tracker = make_tracker(
        "does a PGDip count?",
        "ask_higher_degree_definition",
        [{"entity": "qualification", "value": "pgdip", "start": 7, "end": 12}],
    )
    assert await ActionExtractProfile().run(dispatcher, tracker, domain) == []


async def test_a_yes_answers_the_question_asked(dispatcher, domain):
    tracker = make_tracker(
        "yep", "affirm", slots={"requested_slot": "gcse_grades"}, active_loop="eligibility_form"
    )
    events = await ActionExtractProfile().run(dispatcher, tracker, domain)
    assert _slots(events) == {"gcse_grades": "met"}


async def test_an_unreadable_answer_is_marked_for_validation(dispatcher, domain):
    tracker = make_tracker(
        "purple", "inform", slots={"requested_slot": "degree_class"}, active_loop="eligibility_form"
    )
    events = await ActionExtractProfile().run(dispatcher, tracker, domain)
    assert _slots(events) == {"degree_class": NOT_UNDERSTOOD}


async def test_a_new_check_after_a_verdict_starts_afresh(dispatcher, domain):
    tracker = make_tracker(
        "check my eligibility",
        "check_eligibility",
        slots={"degree_class": "first", "assessment": {"verdict": "eligible"}},
    )
    slots = _slots(await ActionExtractProfile().run(dispatcher, tracker, domain))
    assert slots["degree_class"] is None and slots["assessment"] is None


async def test_an_empty_message_is_not_an_answer(dispatcher, domain):
    tracker = make_tracker(
        "  ", "nlu_fallback", slots={"requested_slot": "degree_subject"}, active_loop="eligibility_form"
    )
    assert await ActionExtractProfile().run(dispatcher, tracker, domain) == []


async def test_a_cut_message_states_no_facts(dispatcher, domain):
    tracker = make_tracker("2:1 " * 500, "nlu_fallback", truncated=True)
    assert await ActionExtractProfile().run(dispatcher, tracker, domain) == []


async def test_form_asks_only_for_missing_facts(dispatcher, domain):
    tracker = make_tracker(
        "2:2",
        "inform",
        slots={"programme": "STP", "degree_class": "lower_second"},
        active_loop="eligibility_form",
    )
    form = ValidateEligibilityForm()
    required = await form.required_slots([], dispatcher, tracker, domain)
    assert required == ["higher_degree"]


async def test_form_rejects_an_unreadable_answer_with_a_message(dispatcher, domain):
    form = ValidateEligibilityForm()
    result = form.validate_degree_class(NOT_UNDERSTOOD, dispatcher, make_tracker(), domain)
    assert result == {"degree_class": None}
    assert dispatcher.messages[0]["response"] == "utter_hint_degree_class"


async def test_form_accepts_a_valid_answer_quietly(dispatcher, domain):
    form = ValidateEligibilityForm()
    assert form.validate_higher_degree("mres", dispatcher, make_tracker(), domain) == {
        "higher_degree": "mres"
    }
    assert form.validate_higher_degree("bachelors", dispatcher, make_tracker(), domain) == {
        "higher_degree": None
    }
    assert len(dispatcher.messages) == 1


async def test_form_run_sets_the_next_question(dispatcher, domain):
    tracker = make_tracker("STP", "inform", slots={"programme": "STP"}, active_loop="eligibility_form")
    tracker.events = [
        {"event": "user", "text": "STP"},
        {"event": "slot", "name": "programme", "value": "STP"},
    ]
    events = await ValidateEligibilityForm().run(dispatcher, tracker, domain)
    assert SlotSet("requested_slot", "degree_class") in events


async def test_verdict_carries_text_and_payload(dispatcher, domain):
    tracker = make_tracker(
        slots={
            "programme": "STP",
            "degree_class": "lower_second",
            "degree_subject": "physics",
            "higher_degree": "pgcert",
        }
    )
    events = await ActionGiveVerdict().run(dispatcher, tracker, domain)
    message = dispatcher.messages[0]
    assert message["response"] == "utter_verdict_not_eligible"
    assessment = message["custom"]["assessment"]
    assert assessment["programme"] == "STP" and assessment["verdict"] == "not_eligible"
    assert any("certificates" in r for r in assessment["reasons"])
    assert all(s.startswith("http") for s in assessment["sources"])
    assert "MSc" in message["next_steps"]
    assert _slots(events)["assessment"] == assessment


async def test_topic_answer_comes_from_the_rules_file(dispatcher, domain, rules):
    tracker = make_tracker("which degrees are relevant?", "ask_relevant_subjects")
    await ActionAnswerTopic().run(dispatcher, tracker, domain)
    message = dispatcher.messages[0]
    assert message["response"] == "utter_topic_answer"
    assert message["answer"] == rules.topics["ask_relevant_subjects"].text
    assert "healthcareers.nhs.uk" in message["sources"]


async def test_fallback_explains_a_message_that_was_too_long(dispatcher, domain):
    tracker = make_tracker(
        "x" * 2000, "nlu_fallback", truncated=True, original_length=100000, characters_read=2000
    )
    await ActionFallback().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_too_long"
    assert dispatcher.messages[0]["length"] == "100,000"


async def test_fallback_for_an_empty_message(dispatcher, domain):
    await ActionFallback().run(dispatcher, make_tracker("   ", "nlu_fallback"), domain)
    assert dispatcher.messages[0]["response"] == "utter_empty_message"


async def test_fallback_otherwise_offers_the_topics(dispatcher, domain):
    await ActionFallback().run(dispatcher, make_tracker("zzz", "nlu_fallback"), domain)
    assert dispatcher.messages[0]["response"] == "utter_not_understood"


async def test_every_response_the_actions_use_has_its_placeholders_filled(dispatcher, domain):
    import string

    tracker = make_tracker(
        slots={"programme": "PTP", "gcse_grades": "met", "a_level_count": 3, "science_a_level": "yes"}
    )
    await ActionGiveVerdict().run(dispatcher, tracker, domain)
    await ActionAnswerTopic().run(dispatcher, make_tracker("skills?", "ask_skills"), domain)
    await ActionFallback().run(
        dispatcher,
        make_tracker("x", "nlu_fallback", truncated=True, original_length=5000, characters_read=2000),
        domain,
    )
    for message in dispatcher.messages:
        template = domain["responses"][message["response"]][0]["text"]
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
        assert fields <= set(message), (message["response"], fields - set(message))


async def test_why_after_a_verdict_repeats_the_deciding_rules(dispatcher, domain):
    assessment = {"reasons": ["A PGCert does not count."], "sources": ["https://example.org/x"]}
    tracker = make_tracker("why?", "ask_why", slots={"last_answer": "verdict", "assessment": assessment})
    await ActionExplain().run(dispatcher, tracker, domain)
    message = dispatcher.messages[0]
    assert message["response"] == "utter_explain_verdict"
    assert "PGCert" in message["reasons"] and "https://example.org/x" in message["sources"]


@pytest.mark.parametrize("in_check", [True, False])
async def test_why_after_the_facts_changed_does_not_explain_the_old_verdict(dispatcher, domain, in_check):
    """A first in mechanical engineering -> eligible; "what if it was a 2:2?"; "why?":
    the first-class reasons no longer hold, so they are not given."""
    facts = {"programme": "STP", "degree_class": "first", "degree_subject": "mechanical engineering"}
    verdict = ActionGiveVerdict()
    await verdict.run(dispatcher, make_tracker(slots=facts), domain)
    assessment = dispatcher.messages[0]["custom"]["assessment"]
    dispatcher.messages.clear()
    changed = {**facts, "degree_class": "lower_second", "last_answer": "verdict", "assessment": assessment}
    tracker = make_tracker("why?", "ask_why", slots=changed, active_loop=FORM if in_check else None)
    await ActionExplain().run(dispatcher, tracker, domain)
    message = dispatcher.messages[0]
    assert message["response"] == ("utter_explain_recheck" if in_check else "utter_explain_changed")
    assert "a first in mechanical engineering" in message["before"]
    assert "2:2" in message["now"] and "first" not in message["now"]
    # Unchanged facts: the verdict's own reasons, as before.
    dispatcher.messages.clear()
    same = {**facts, "last_answer": "verdict", "assessment": assessment}
    await ActionExplain().run(dispatcher, make_tracker("why?", "ask_why", slots=same), domain)
    assert dispatcher.messages[0]["response"] == "utter_explain_verdict"
    assert "first" in dispatcher.messages[0]["reasons"]


async def test_a_verdict_for_someone_else_gives_their_reasons_and_next_steps(dispatcher, domain):
    facts = {"programme": "PTP", "gcse_grades": "met", "a_level_count": 3, "science_a_level": "yes"}
    await ActionGiveVerdict().run(
        dispatcher, make_tracker(slots={**facts, CHECK_ABOUT_SLOT: SOMEONE_ELSE}), domain
    )
    verdict = dispatcher.messages[0]
    assessment = verdict["custom"]["assessment"]
    said = (
        " ".join(assessment["reasons"] + assessment["next_steps"])
        + verdict["reasons"]
        + verdict["next_steps"]
    )
    assert "They have a good range of GCSEs" in said and "their A-levels" in said
    assert not re.search(r"\b(you|your)\b", said, re.I), said


@pytest.mark.parametrize(
    "before, text, after",
    [
        (None, "my son is in year 12, could he do the PTP?", SOMEONE_ELSE),
        (None, "I have a 2:1 in physics", None),  # "you" is the default: nothing recorded
        (SOMEONE_ELSE, "she has a 2:1 in physics", None),  # already so
        (SOMEONE_ELSE, "actually it's for me now, I have a first", ONESELF),
        (SOMEONE_ELSE, "yes", None),
    ],
)
async def test_whom_the_check_is_about_is_recorded_when_it_changes(dispatcher, domain, before, text, after):
    tracker = make_tracker(text, "inform", slots={CHECK_ABOUT_SLOT: before})
    slots = _slots(await ActionExtractProfile().run(dispatcher, tracker, domain))
    assert slots.get(CHECK_ABOUT_SLOT) == after


async def test_why_after_a_topic_names_its_sources(dispatcher, domain):
    tracker = make_tracker("why?", "ask_why", slots={"last_answer": "ask_medical_degree"})
    await ActionExplain().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_explain_topic"
    assert "National School of Healthcare Science" in dispatcher.messages[0]["sources"]


async def test_why_with_nothing_to_explain(dispatcher, domain):
    await ActionExplain().run(dispatcher, make_tracker("why?", "ask_why"), domain)
    assert dispatcher.messages[0]["response"] == "utter_explain_nothing"


async def test_what_about_the_ptp_after_an_stp_answer(dispatcher, domain, rules):
    text = "what about the PTP?"
    tracker = make_tracker(
        text,
        "follow_up",
        [{"entity": "programme", "value": "PTP", "start": 15, "end": 18}],
        slots={"last_answer": "ask_stp_requirements"},
    )
    events = await ActionFollowUp().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["answer"] == rules.topics["ask_ptp_requirements"].text
    assert _slots(events)["last_answer"] == "ask_ptp_requirements"


async def test_does_that_apply_to_a_subject(dispatcher, domain):
    text = "does that apply to engineering too?"
    tracker = make_tracker(
        text,
        "follow_up",
        [{"entity": "subject", "value": "engineering", "start": 19, "end": 30}],
        slots={"last_answer": "ask_relevant_subjects"},
    )
    await ActionFollowUp().run(dispatcher, tracker, domain)
    assert "Engineering is among the degrees most commonly accepted" in dispatcher.messages[0]["answer"]


async def test_a_follow_up_after_a_verdict_checks_again(dispatcher, domain):
    tracker = make_tracker(
        "and if I had a 2:1?",
        "follow_up",
        slots={"last_answer": "verdict", "assessment": {"verdict": "eligible"}},
    )
    events = await ActionFollowUp().run(dispatcher, tracker, domain)
    assert events == [{"event": "followup", "timestamp": None, "name": "eligibility_form"}]


async def test_a_follow_up_after_a_verdict_updates_the_profile(dispatcher, domain):
    tracker = make_tracker(
        "and if I had a 2:1?",
        "follow_up",
        [{"entity": "degree_class", "value": "upper_second", "start": 14, "end": 17}],
        slots={"last_answer": "verdict", "assessment": {"verdict": "eligible"}, "programme": "STP"},
    )
    assert _slots(await ActionExtractProfile().run(dispatcher, tracker, domain)) == {
        "degree_class": "upper_second"
    }


async def test_low_confidence_asks_which_of_two_topics(dispatcher, domain):
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "ask_skills", "confidence": 0.41},
        {"name": "ask_leadership", "confidence": 0.33},
        {"name": "greet", "confidence": 0.1},
    ]
    tracker = make_tracker("what abilities matter", "nlu_fallback", intent_ranking=ranking)
    await ActionFallback().run(dispatcher, tracker, domain)
    message = dispatcher.messages[0]
    assert message["response"] == "utter_clarify"
    assert [b["payload"] for b in message["buttons"]] == ["/ask_skills", "/ask_leadership", "/help"]


async def test_a_second_unclear_message_gets_the_scope_message(dispatcher, domain):
    ranking = [{"name": "ask_skills", "confidence": 0.41}, {"name": "ask_leadership", "confidence": 0.33}]
    tracker = make_tracker("hmm", "nlu_fallback", intent_ranking=ranking)
    tracker.events = [
        {"event": "user", "parse_data": {"intent": {"name": "nlu_fallback"}}},
        {"event": "action", "name": "action_fallback"},
        {"event": "user", "parse_data": {"intent": {"name": "nlu_fallback"}}},
    ]
    await ActionFallback().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_not_understood"


async def test_a_bare_answer_counts_whatever_topic_it_sounds_like(dispatcher, domain):
    tracker = make_tracker(
        "clinical engineering",
        "ask_entry_routes",
        [{"entity": "subject", "value": "clinical engineering", "start": 0, "end": 20}],
        slots={"requested_slot": "higher_degree_subject"},
        active_loop="eligibility_form",
    )
    events = await ActionExtractProfile().run(dispatcher, tracker, domain)
    assert _slots(events) == {"higher_degree_subject": "clinical engineering"}


async def test_a_question_mentioning_a_fact_is_not_an_answer(dispatcher, domain):
    tracker = make_tracker(
        "does a PGDip count as a higher degree?",
        "ask_higher_degree_definition",
        [{"entity": "qualification", "value": "pgdip", "start": 7, "end": 12}],
        slots={"requested_slot": "higher_degree"},
        active_loop="eligibility_form",
    )
    assert await ActionExtractProfile().run(dispatcher, tracker, domain) == []


# Feedback: "did that help?" after answers, once per topic, never mid-check.


def _feedback_entities(topic, helpful):
    return [{"entity": "feedback_topic", "value": topic}, {"entity": "helpful", "value": helpful}]


async def test_a_topic_answer_asks_whether_it_helped(dispatcher, domain):
    events = await ActionAnswerTopic().run(dispatcher, make_tracker("skills?", "ask_skills"), domain)
    question = dispatcher.messages[1]
    assert question["response"] == "utter_ask_feedback"
    assert [b["title"] for b in question["buttons"]] == ["\N{THUMBS UP SIGN} Yes", "\N{THUMBS DOWN SIGN} No"]
    assert question["buttons"][1]["payload"] == '/feedback{"helpful":"no","feedback_topic":"ask_skills"}'
    assert _slots(events) == {"last_answer": "ask_skills", "feedback_asked": ["ask_skills"]}


async def test_feedback_is_asked_once_per_topic(dispatcher, domain):
    tracker = make_tracker("skills?", "ask_skills", slots={"feedback_asked": ["ask_skills"]})
    events = await ActionAnswerTopic().run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_topic_answer"]
    assert "feedback_asked" not in _slots(events)
    other = make_tracker("values?", "ask_nhs_values", slots={"feedback_asked": ["ask_skills"]})
    events = await ActionAnswerTopic().run(dispatcher, other, domain)
    assert _slots(events)["feedback_asked"] == ["ask_skills", "ask_nhs_values"]


async def test_feedback_is_never_asked_in_the_middle_of_a_check(dispatcher, domain):
    tracker = make_tracker("skills?", "ask_skills", active_loop="eligibility_form")
    events = await ActionAnswerTopic().run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_topic_answer"]
    assert set(_slots(events)) == {"last_answer"}


async def test_a_verdict_asks_whether_it_helped_once(dispatcher, domain):
    profile = {"programme": "PTP", "gcse_grades": "met", "a_level_count": 3, "science_a_level": "yes"}
    events = await ActionGiveVerdict().run(dispatcher, make_tracker(slots=profile), domain)
    assert dispatcher.messages[-1]["response"] == "utter_ask_feedback"
    assert _slots(events)["feedback_asked"] == ["eligibility_check"]
    again = CollectingDispatcher()
    tracker = make_tracker(slots={**profile, "feedback_asked": ["eligibility_check"]})
    await ActionGiveVerdict().run(again, tracker, domain)
    assert [m["response"] for m in again.messages] == ["utter_verdict_eligible"]


@pytest.mark.parametrize(
    "helpful, response, stored",
    [
        ("yes", "utter_feedback_positive", True),
        ("no", "utter_feedback_negative", False),
    ],
)
async def test_a_thumb_is_stored_with_the_conversation(dispatcher, domain, helpful, response, stored):
    tracker = make_tracker("/feedback", "feedback", _feedback_entities("ask_skills", helpful))
    events = await ActionRecordFeedback().run(dispatcher, tracker, domain)
    assert _slots(events) == {"feedback": {"topic": "ask_skills", "helpful": stored}}
    assert dispatcher.messages[0]["response"] == response


async def test_a_thumbs_down_points_to_the_source(dispatcher, domain, rules):
    tracker = make_tracker("/feedback", "feedback", _feedback_entities("ask_nhs_values", "no"))
    await ActionRecordFeedback().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["sources"].split("\n") == [
        s.url for s in rules.topics["ask_nhs_values"].sources
    ]


@pytest.mark.parametrize(
    "topic, helpful",
    [
        ("ask_salary", "yes"),
        ("ask_skills", "maybe"),
        (None, "yes"),
        ("ask_skills", None),
        ("<script>", "no"),
    ],
)
async def test_feedback_that_makes_no_sense_is_not_stored(dispatcher, domain, topic, helpful):
    entities = [e for e in _feedback_entities(topic, helpful) if e["value"] is not None]
    events = await ActionRecordFeedback().run(
        dispatcher, make_tracker("/feedback", "feedback", entities), domain
    )
    assert "feedback" not in _slots(events)
    assert dispatcher.messages[0]["response"] == "utter_feedback_not_recorded"


def _conversation(tracker, *said):
    """`tracker` whose events are `said`: ("user", text) or ("bot", response name)."""
    tracker.events = [
        {"event": "user", "text": what}
        if who == "user"
        else {"event": "bot", "text": "", "metadata": {"utter_action": what}}
        for who, what in said
    ]
    return tracker


@pytest.mark.parametrize(
    "text, intent, helpful",
    [
        ("yes", "affirm", True),
        ("yeah it did", "affirm", True),
        ("no", "deny", False),
        ("not really", "deny", False),
    ],
)
async def test_a_typed_yes_or_no_answers_a_pending_question(dispatcher, domain, text, intent, helpful):
    tracker = _conversation(
        make_tracker(text, intent, slots={"last_answer": "ask_skills"}),
        ("user", "skills?"),
        ("bot", "utter_topic_answer"),
        ("bot", "utter_ask_feedback"),
        ("user", text),
    )
    events = await ActionAcknowledge().run(dispatcher, tracker, domain)
    assert _slots(events)["feedback"] == {"topic": "ask_skills", "helpful": helpful}


async def test_a_guess_of_yes_without_the_word_is_not_feedback(dispatcher, domain):
    tracker = _conversation(
        make_tracker("asdf ghjk", "affirm", slots={"last_answer": "ask_skills"}),
        ("user", "skills?"),
        ("bot", "utter_topic_answer"),
        ("bot", "utter_ask_feedback"),
        ("user", "asdf ghjk"),
    )
    events = await ActionAcknowledge().run(dispatcher, tracker, domain)
    assert "feedback" not in _slots(events)
    assert dispatcher.messages[0]["response"] in ("utter_clarify", "utter_not_understood")


async def test_a_typed_yes_after_a_verdict_is_feedback_on_the_check(dispatcher, domain):
    tracker = _conversation(
        make_tracker("yes", "affirm", slots={"last_answer": "verdict"}),
        ("bot", "utter_verdict_eligible"),
        ("bot", "utter_ask_feedback"),
        ("user", "yes"),
    )
    events = await ActionAcknowledge().run(dispatcher, tracker, domain)
    assert _slots(events)["feedback"] == {"topic": "eligibility_check", "helpful": True}


@pytest.mark.parametrize("intent, response", [("affirm", "utter_help"), ("deny", "utter_ok")])
async def test_a_yes_or_no_with_nothing_pending_is_acknowledged(dispatcher, domain, intent, response):
    events = await ActionAcknowledge().run(dispatcher, make_tracker("yes", intent), domain)
    assert events == [] and dispatcher.messages[0]["response"] == response


async def test_moving_on_forgets_the_pending_question(dispatcher, domain):
    tracker = _conversation(
        make_tracker("yes", "affirm", slots={"last_answer": "ask_skills"}),
        ("bot", "utter_ask_feedback"),
        ("user", "what skills do I need?"),
        ("bot", "utter_topic_answer"),
        ("user", "yes"),
    )
    events = await ActionAcknowledge().run(dispatcher, tracker, domain)
    assert events == [] and dispatcher.messages[0]["response"] == "utter_help"


def _after_user(tracker, *events):
    tracker.events = [{"event": "user", "text": tracker.latest_message["text"]}, *events]
    return tracker


async def test_facts_outside_a_check_start_one(dispatcher, domain):
    tracker = _after_user(
        make_tracker("I have a 2:1", "inform"),
        {"event": "slot", "name": "degree_class", "value": "upper_second"},
    )
    events = await ActionCheckFacts().run(dispatcher, tracker, domain)
    assert events == [{"event": "followup", "timestamp": None, "name": "eligibility_form"}]
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "slot_events",
    [
        [],
        [{"event": "slot", "name": "feedback_asked", "value": ["ask_skills"]}],
        [{"event": "slot", "name": "degree_class", "value": NOT_UNDERSTOOD}],
    ],
)
async def test_a_stray_word_that_sounds_like_an_answer_is_not_understood(dispatcher, domain, slot_events):
    tracker = _after_user(make_tracker("zzkq", "inform"), *slot_events)
    assert await ActionCheckFacts().run(dispatcher, tracker, domain) == []
    assert dispatcher.messages[0]["response"] == "utter_not_understood"


async def test_a_follow_up_naming_a_topic_answers_that_topic(dispatcher, domain, rules):
    ranking = [{"name": "follow_up", "confidence": 0.93}, {"name": "ask_leadership", "confidence": 0.06}]
    tracker = make_tracker(
        "and what about leadership?", "follow_up", slots={"last_answer": "ask_skills"}, intent_ranking=ranking
    )
    events = await ActionFollowUp().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["answer"] == rules.topics["ask_leadership"].text
    assert _slots(events)["last_answer"] == "ask_leadership"


async def test_a_follow_up_naming_nothing_known_asks_for_more(dispatcher, domain):
    ranking = [
        {"name": "follow_up", "confidence": 0.98},
        {"name": "help", "confidence": 0.01},
        {"name": "ask_leadership", "confidence": 0.01},
    ]
    tracker = make_tracker(
        "what about if he did a foundation degree?",
        "follow_up",
        slots={"last_answer": "ask_stp_programme"},
        intent_ranking=ranking,
    )
    events = await ActionFollowUp().run(dispatcher, tracker, domain)
    assert events == [] and dispatcher.messages[0]["response"] == "utter_follow_up_unclear"


async def test_a_follow_up_with_a_fact_of_no_topic_answers_the_last_topic_again(dispatcher, domain, rules):
    tracker = make_tracker(
        "what if I had three A-levels?",
        "follow_up",
        [
            {"entity": "count", "value": "3", "start": 14, "end": 19},
            {"entity": "qualification", "value": "a_level", "start": 20, "end": 28},
        ],
        slots={"last_answer": "ask_ptp_requirements"},
    )
    await ActionFollowUp().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["answer"] == rules.topics["ask_ptp_requirements"].text


# Issue 10: answers in a check, a way out, questions not covered, starting again.


def _in_check(text, intent, asked, slots=None, events=None, **extras):
    tracker = make_tracker(
        text,
        intent,
        slots={"requested_slot": asked, **(slots or {})},
        active_loop="eligibility_form",
        **extras,
    )
    tracker.events = [{"event": "user", "text": text}] + list(events or [])
    return tracker


async def test_the_form_says_what_it_understood_before_the_next_question(dispatcher, domain):
    tracker = _in_check(
        "a 2:2 in physics",
        "inform",
        "degree_class",
        slots={"programme": "STP"},
        events=[
            {"event": "slot", "name": "degree_class", "value": "lower_second"},
            {"event": "slot", "name": "degree_subject", "value": "physics"},
        ],
    )
    tracker.slots.update({"degree_class": "lower_second", "degree_subject": "physics"})
    events = await ValidateEligibilityForm().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_understood"
    assert dispatcher.messages[0]["facts"] == "a 2:2 in physics"
    assert SlotSet("requested_slot", "higher_degree") in events


async def test_two_unreadable_answers_in_a_row_end_the_questions(dispatcher, domain):
    marked = [{"event": "slot", "name": "degree_class", "value": NOT_UNDERSTOOD}]
    first = _in_check("purple", "inform", "degree_class", slots={"programme": "STP"}, events=marked)
    events = await ValidateEligibilityForm().run(dispatcher, first, domain)
    assert SlotSet(UNREADABLE_SLOT, 1) in events
    assert SlotSet("requested_slot", "degree_class") in events
    assert dispatcher.messages[-1]["response"] == "utter_hint_degree_class"

    second = _in_check(
        "banana",
        "inform",
        "degree_class",
        slots={"programme": "STP", UNREADABLE_SLOT: MAX_UNREADABLE - 1},
        events=marked,
    )
    dispatcher = CollectingDispatcher()
    events = await ValidateEligibilityForm().run(dispatcher, second, domain)
    assert SlotSet(UNREADABLE_SLOT, MAX_UNREADABLE) in events
    assert SlotSet("requested_slot", None) in events
    assert dispatcher.messages == [], "no second hint: the way out comes instead"


async def test_after_the_questions_end_the_verdict_action_offers_a_way_out(dispatcher, domain):
    tracker = make_tracker("banana", "inform", slots={"programme": "STP", UNREADABLE_SLOT: 2})
    events = await ActionGiveVerdict().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_check_way_out"
    assert SlotSet(UNREADABLE_SLOT, 0) in events


async def test_a_statement_that_sounds_like_a_topic_answers_the_check(dispatcher, domain):
    text = "I'm doing an Access to HE diploma in science, not A-levels"
    entities = [
        {"entity": "qualification", "value": "access_to_he", "start": 13, "end": 24},
        {"entity": "qualification", "value": "a_level", "start": 51, "end": 58},
    ]
    tracker = _in_check(
        text,
        "ask_a_level_alternatives",
        "a_level_count",
        slots={"programme": "PTP", "gcse_grades": "met"},
        entities=entities,
    )
    slots = _slots(await ActionExtractProfile().run(dispatcher, tracker, domain))
    assert slots["a_level_alternatives"] == ["access_to_he"] and slots["a_level_count"] == 0
    # The topic action then stays quiet and lets the form go on.
    tracker.events += [{"event": "slot", "name": k, "value": v} for k, v in slots.items()]
    topic = await ActionAnswerTopic().run(dispatcher, tracker, domain)
    assert all(m.get("response") != "utter_topic_answer" for m in dispatcher.messages)
    assert not any(e.get("name") == "last_answer" for e in topic)


async def test_a_question_in_a_check_is_still_answered(dispatcher, domain, rules):
    tracker = _in_check(
        "can I use a BTEC instead?", "ask_a_level_alternatives", "a_level_count", slots={"programme": "PTP"}
    )
    await ActionAnswerTopic().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["answer"] == rules.topics["ask_a_level_alternatives"].text


async def test_a_word_that_sounded_off_topic_in_a_check_gets_the_hint(dispatcher, domain):
    tracker = _in_check(
        "banana",
        "out_of_scope",
        "degree_class",
        slots={"programme": "STP"},
        events=[{"event": "slot", "name": "degree_class", "value": NOT_UNDERSTOOD}],
    )
    events = await ActionOutOfScope().run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_hint_degree_class"]
    assert SlotSet("degree_class", None) in events and SlotSet(UNREADABLE_SLOT, 1) in events


async def test_out_of_scope_outside_a_check(dispatcher, domain):
    await ActionOutOfScope().run(dispatcher, make_tracker("weather?", "out_of_scope"), domain)
    assert dispatcher.messages[0]["response"] == "utter_out_of_scope"


@pytest.mark.parametrize(
    "text, key, says",
    [
        ("How much do clinical engineers earn?", "pay", "salaried"),
        ("Is there an age limit?", "age", "age"),
        ("Can I apply from abroad?", "overseas", "visas"),
        ("What level of English do I need?", "english_language", "English"),
    ],
)
async def test_a_question_not_covered_says_so_and_points_to_a_page(
    dispatcher, domain, rules, text, key, says
):
    events = await ActionAnswerNotCovered().run(dispatcher, make_tracker(text, "ask_not_covered"), domain)
    message = dispatcher.messages[0]
    assert message["answer"] == rules.not_covered[key].text and says in message["answer"]
    assert message["sources"].split("\n") == [s.url for s in rules.not_covered[key].read]
    assert SlotSet("last_answer", f"not_covered:{key}") in events
    assert dispatcher.messages[1]["response"] == "utter_ask_feedback"


async def test_a_question_nothing_covers_is_named_in_the_reply(dispatcher, domain, rules):
    text = "What's the dress code? <!here>"
    events = await ActionAnswerNotCovered().run(dispatcher, make_tracker(text, "ask_not_covered"), domain)
    answer = dispatcher.messages[0]["answer"]
    assert answer.startswith("My sources don't answer that question (\"What's the dress code")
    assert "<" not in answer and "{question}" not in answer
    assert SlotSet("last_answer", "not_covered:general") in events


@pytest.mark.parametrize(
    "text, key, says",
    [
        ("Can I apply again if I was unsuccessful last year?", "reapplying", "apply for the NHS Scientist"),
        ("How many specialisms can I apply for?", "number_of_specialisms", "only one specialism"),
        ("Would the NHS sponsor my visa?", "visa_sponsorship", "no longer arranges visa sponsorship"),
    ],
)
async def test_a_question_the_national_school_answers_gets_its_answer_and_page(
    dispatcher, domain, rules, text, key, says
):
    events = await ActionAnswerNotCovered().run(dispatcher, make_tracker(text, "ask_not_covered"), domain)
    message = dispatcher.messages[0]
    assert message["answer"] == rules.applying[key].text and says in " ".join(message["answer"].split())
    assert message["sources"].split("\n") == [s.url for s in rules.applying[key].sources]
    assert SlotSet("last_answer", f"applying:{key}") in events


async def test_start_again_forgets_every_fact(dispatcher, domain):
    tracker = make_tracker(
        "start again", "start_again", slots={"degree_class": "first", "assessment": {"verdict": "eligible"}}
    )
    events = await ActionStartAgain().run(dispatcher, tracker, domain)
    cleared = _slots(events)
    assert all(cleared[slot] is None for slot in PROFILE_FACTS)
    assert cleared["assessment"] is None
    assert dispatcher.messages[0]["response"] == "utter_started_again"


async def test_the_fallback_never_lets_another_guess_follow(dispatcher, domain):
    events = await ActionFallback().run(dispatcher, make_tracker("qwzx", "nlu_fallback"), domain)
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "action_listen"}
    in_check = _in_check("am I eligible?", "check_eligibility", "degree_class")
    events = await ActionFallback().run(CollectingDispatcher(), in_check, domain)
    assert events == [{"event": "followup", "timestamp": None, "name": "eligibility_form"}]


async def test_a_correction_after_a_verdict_replaces_the_fact(dispatcher, domain):
    text = "actually I'll leave with a PGDip instead of the MSc"
    entities = [
        {"entity": "qualification", "value": "pgdip", "start": 27, "end": 32},
        {"entity": "qualification", "value": "msc", "start": 48, "end": 51},
    ]
    tracker = make_tracker(
        text,
        "inform",
        entities,
        slots={
            "programme": "STP",
            "degree_class": "lower_second",
            "higher_degree": "msc",
            "higher_degree_subject": "biomedical engineering",
            "higher_degree_status": "in_progress",
            "assessment": {"verdict": "possibly_eligible"},
            "last_answer": "verdict",
        },
    )
    slots = _slots(await ActionExtractProfile().run(dispatcher, tracker, domain))
    assert slots["higher_degree"] == "pgdip" and slots["higher_degree_status"] is None


def test_the_form_lists_every_fact_of_the_profile_in_the_engines_order(domain):
    """One vocabulary: the domain's form slots are the engine's facts, asked ones first."""
    assert domain["forms"]["eligibility_form"]["required_slots"] == list(PROFILE_FACTS)
    for slot in PROFILE_FACTS:
        assert domain["slots"][slot]["mappings"] == [{"type": "custom", "action": "action_extract_profile"}]


def test_every_fact_is_in_every_place_the_check_needs_it(domain):
    """A fact added to the vocabulary and missing elsewhere fails here, naming the place
    (docs/developers.md, "Adding a fact to the eligibility check", lists them in order)."""
    missing = []
    for fact in PROFILE_FACTS:
        if fact not in domain["slots"]:
            missing.append(f"{fact}: no slot in domain.yml")
        if fact not in domain["forms"][FORM]["required_slots"]:
            missing.append(f"{fact}: not in the form's required_slots in domain.yml")
    for fact in ASKABLE_FACTS:
        for response in (f"utter_ask_{FORM}_{fact}", f"utter_hint_{fact}"):
            if response not in domain["responses"]:
                missing.append(f"{fact}: no response {response} in domain.yml")
        if not callable(getattr(ValidateEligibilityForm, f"validate_{fact}", None)):
            missing.append(f"{fact}: no validate_{fact} in actions/actions.py")
    for slot in domain["slots"]:
        mappings = domain["slots"][slot].get("mappings") or []
        extracted = any(m.get("action") == "action_extract_profile" for m in mappings)
        # Whom the check is about is read from messages too, but is no fact of a profile.
        if extracted and slot not in PROFILE_FACTS and slot != CHECK_ABOUT_SLOT:
            missing.append(f"{slot}: a slot filled from messages but not a fact in careers/vocabulary.py")
    assert missing == []


def actions_sent_the_domain() -> set:
    """The actions domain.yml marks `send_domain: true`."""
    import yaml

    return {
        name
        for entry in yaml.safe_load((ROOT / "domain.yml").read_text())["actions"]
        if isinstance(entry, dict)
        for name, settings in entry.items()
        if (settings or {}).get("send_domain")
    }


@pytest.mark.skipif(
    not (ROOT / "models" / "careers.tar.gz").exists(), reason="needs the trained model (make train)"
)
def test_an_action_not_sent_the_domain_answers_as_it_would_with_it(monkeypatch):
    """Rasa sends the domain only to the actions marked `send_domain` in domain.yml
    (endpoints.yml: enable_selective_domain). Every call the conversation scripts
    make, run again without the domain: an action that is not marked gives the same
    answer, so none needs the domain it is not sent."""
    import asyncio
    import copy
    import json

    from rasa_sdk.executor import ActionExecutor

    from runtime.action_server import executor_for
    from tests.test_tracker_store import everything_people_type
    from tools.careers_team.converse import InProcessAssistant

    marked = actions_sent_the_domain()
    assert "validate_eligibility_form" in marked
    calls = []
    run = ActionExecutor.run

    async def recorded(self, call):
        calls.append(copy.deepcopy(call))
        return await run(self, call)

    monkeypatch.setattr(ActionExecutor, "run", recorded)
    assistant = InProcessAssistant()
    assistant.agent.processor.action_endpoint.kwargs["enable_selective_domain"] = False  # all get it
    for text in everything_people_type():
        assistant.send("domain", text)
    assistant.close()
    monkeypatch.setattr(ActionExecutor, "run", run)
    executor = executor_for("actions")
    checked: collections.Counter[str] = collections.Counter()
    loop = asyncio.new_event_loop()
    for call in calls:
        assert call.get("domain"), "every call was recorded with the domain"
        if call["next_action"] in marked:
            continue
        with_it = loop.run_until_complete(executor.run(copy.deepcopy(call)))
        without = loop.run_until_complete(executor.run({**copy.deepcopy(call), "domain": {}}))
        assert json.dumps(without, sort_keys=True) == json.dumps(with_it, sort_keys=True), call["next_action"]
        checked[call["next_action"]] += 1
    loop.close()
    assert checked["action_extract_profile"] > 150 and len(checked) >= 8


def test_the_actions_that_read_the_domain_are_the_ones_sent_it():
    """An action whose code uses its `domain` argument (to pass it on, to read it)
    must be marked `send_domain` in domain.yml, or Rasa sends it an empty one; and an
    action that never uses it should not be sent 15 kB for nothing."""
    import ast

    tree = ast.parse((ROOT / "actions" / "actions.py").read_text())
    readers, names = set(), set()
    for cls in (node for node in tree.body if isinstance(node, ast.ClassDef)):
        methods = [node for node in cls.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
        name = next(
            node.value.value
            for method in methods
            if method.name == "name"
            for node in ast.walk(method)
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant)
        )
        names.add(name)
        uses = (
            node
            for method in methods
            for statement in method.body
            for node in ast.walk(statement)
            if isinstance(node, ast.Name) and node.id == "domain" and isinstance(node.ctx, ast.Load)
        )
        if any(uses):
            readers.add(name)
    marked = actions_sent_the_domain()
    assert len(names) >= 13 and readers
    assert readers == marked


async def test_out_of_scope_straight_after_an_answer_answers_what_it_names(dispatcher, domain, rules):
    text = "what IELTS score would I need then?"
    tracker = make_tracker(text, "out_of_scope", slots={"last_answer": "applying:visa_sponsorship"})
    events = await ActionOutOfScope().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["answer"] == rules.not_covered["english_language"].text
    assert SlotSet("last_answer", "not_covered:english_language") in events
    dispatcher.messages.clear()
    await ActionOutOfScope().run(dispatcher, make_tracker(text, "out_of_scope"), domain)
    assert dispatcher.messages[0]["response"] == "utter_out_of_scope"


async def test_a_follow_up_after_not_covered_says_the_same_again(dispatcher, domain, rules):
    tracker = make_tracker(
        "what about if I'm from Ireland", "follow_up", slots={"last_answer": "not_covered:overseas"}
    )
    events = await ActionFollowUp().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["answer"] == rules.not_covered["overseas"].text
    assert SlotSet("last_answer", "not_covered:overseas") in events


async def test_an_answer_that_misses_part_of_the_question_says_which_part(dispatcher, domain, rules):
    text = "Where and when will the interviews be held?"
    events = await ActionAnswerNotCovered().run(dispatcher, make_tracker(text, "not_covered"), domain)
    said = [e["value"] for e in events if e.get("name") == "last_answer"]
    assert said == ["not_covered:general", "applying:selection"]
    answer = dispatcher.messages[0]["answer"]
    assert answer.startswith(
        "My sources may not answer all of that: they say nothing about \u201cheld\u201d."
    )
    assert rules.applying["selection"].text in answer
    assert [m["response"] for m in dispatcher.messages].count("utter_topic_answer") == 1


async def test_a_topic_answer_names_what_it_does_not_cover_and_only_that(dispatcher, domain, rules):
    exempt = "Will an accredited MSc make me exempt from the STP's master's component?"
    events = await ActionAnswerTopic().run(dispatcher, make_tracker(exempt, "ask_stp_programme"), domain)
    said = [e["value"] for e in events if e.get("name") == "last_answer"]
    assert said == ["not_covered:general", "ask_stp_programme"]
    assert "\u201cexempt\u201d or \u201ccomponent\u201d" in dispatcher.messages[0]["answer"]
    dispatcher.messages.clear()
    plain = "My daughter is in Year 10. How long is the STP?"
    events = await ActionAnswerTopic().run(dispatcher, make_tracker(plain, "ask_stp_programme"), domain)
    assert [e["value"] for e in events if e.get("name") == "last_answer"] == ["ask_stp_programme"]
    assert dispatcher.messages[0]["answer"] == rules.topics["ask_stp_programme"].text
