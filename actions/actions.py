"""Rasa custom actions: thin adapters between the conversation and the engine.

The knowledge is in `entry_rules.yml`, the logic in `engine.py`, the reading of
messages in `language.py`, the wording in `domain.yml`. The rules file is loaded
when this module is imported, so a malformed file stops the action server at
start-up with the file and line.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answers import (
    CHECK_TOPIC,
    HELPFUL_VALUES,
    assessment_payload,
    bullet_list,
    clarifying_buttons,
    feedback_buttons,
    feedback_sources,
    is_feedback_topic,
    source_list,
    topic_answer,
    topic_for_follow_up,
    verdict_values,
)
from actions.engine import (
    ASKABLE_FACTS,
    assess,
    gcse_grade_meets,
    missing_facts,
    science_a_level_status,
    subject_relevance,
)
from actions.language import answer_for_requested_slot, facts_from_message
from actions.rules_file import default_rules

RULES = default_rules()

FORM = "eligibility_form"
PROFILE_SLOTS = ASKABLE_FACTS + (
    "degree_predicted",
    "higher_degree_in_progress",
    "a_level_subjects",
)
# A reply to a question that could not be understood; validation asks again.
NOT_UNDERSTOOD = "__not_understood__"
# Intents whose messages state facts about the person (not questions about rules).
FACT_INTENTS = {"inform", "check_eligibility", "affirm", "deny", "nlu_fallback"}
# Intents that can answer the question the check just asked.
ANSWER_INTENTS = {"inform", "affirm", "deny", "nlu_fallback"}
# The value of the `last_answer` slot after a verdict (otherwise a topic intent).
VERDICT = "verdict"
# The response that asks "Did that answer help?".
ASK_FEEDBACK = "utter_ask_feedback"


def profile_from_tracker(tracker: Tracker) -> Dict[str, Any]:
    """The facts gathered so far, as the engine expects them."""
    profile = {}
    for slot in PROFILE_SLOTS:
        value = tracker.get_slot(slot)
        if value is not None and value != NOT_UNDERSTOOD:
            profile[slot] = value
    return profile


def programme_implied_by(facts: Dict[str, Any]) -> Optional[str]:
    """A degree points to the graduate STP; school qualifications alone to the PTP."""
    if facts.keys() & {"degree_class", "degree_subject", "higher_degree"}:
        return "STP"
    if facts.keys() & {"gcse_grades", "a_level_count", "a_level_subjects"}:
        return "PTP"
    return None


def latest_intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def mostly_entities(text: str, entities: List[Dict[str, Any]]) -> bool:
    """True when the recognised entities make up most of a short message."""
    letters = sum(c.isalnum() for c in text)
    covered = sum(
        sum(c.isalnum() for c in text[e["start"] : e["end"]])
        for e in entities
        if e.get("start") is not None
    )
    return letters > 0 and covered / letters >= 0.6


def after_verdict(tracker: Tracker) -> bool:
    """True when the assistant's last answer was an eligibility verdict."""
    return tracker.get_slot("last_answer") == VERDICT and bool(tracker.get_slot("assessment"))


def offer_feedback(
    dispatcher: CollectingDispatcher, tracker: Tracker, topic: str
) -> List[EventType]:
    """Asks whether an answer helped: once per topic, and never in the middle of a check."""
    asked = list(tracker.get_slot("feedback_asked") or [])
    if tracker.active_loop_name == FORM or topic in asked:
        return []
    dispatcher.utter_message(response=ASK_FEEDBACK, buttons=feedback_buttons(topic))
    return [SlotSet("feedback_asked", asked + [topic])]


def pending_feedback_topic(tracker: Tracker) -> Optional[str]:
    """The topic of "Did that answer help?" when it was the assistant's last message
    before the latest one from the person; a reply to anything later is not feedback."""
    latest_user_seen = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if latest_user_seen:
                return None
            latest_user_seen = True
        elif event.get("event") == "bot" and latest_user_seen:
            if (event.get("metadata") or {}).get("utter_action") != ASK_FEEDBACK:
                return None
            # The question follows the answer it asks about, which set `last_answer`.
            last = tracker.get_slot("last_answer")
            return CHECK_TOPIC if last == VERDICT else last
    return None


def record_feedback(
    dispatcher: CollectingDispatcher, tracker: Tracker, topic: Any, helpful: Any
) -> List[EventType]:
    """Keeps a thumbs up or down with the conversation, and answers it."""
    if not is_feedback_topic(RULES, topic) or helpful not in HELPFUL_VALUES:
        dispatcher.utter_message(response="utter_feedback_not_recorded")
        return []
    if HELPFUL_VALUES[helpful]:
        dispatcher.utter_message(response="utter_feedback_positive")
    else:
        programme = (tracker.get_slot("assessment") or {}).get("programme")
        dispatcher.utter_message(
            response="utter_feedback_negative",
            sources=feedback_sources(RULES, topic, programme),
        )
    return [SlotSet("feedback", {"topic": topic, "helpful": HELPFUL_VALUES[helpful]})]


def previous_user_intent(tracker: Tracker) -> Optional[str]:
    """The intent of the user message before the latest one."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) < 2:
        return None
    return ((users[-2].get("parse_data") or {}).get("intent") or {}).get("name")


class ActionExtractProfile(Action):
    """Fills the profile slots from every message that states facts."""

    def name(self) -> Text:
        return "action_extract_profile"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        message = tracker.latest_message
        intent = latest_intent(tracker)
        text = message.get("text") or ""
        in_check = tracker.active_loop_name == FORM
        requested = tracker.get_slot("requested_slot") if in_check else None
        entities = message.get("entities") or []
        if message.get("truncated") or not text.strip():
            return []
        facts = facts_from_message(RULES, text, entities, requested, tracker.get_slot("programme"))
        # A follow-up changes a fact of a check, but not of a general answer.
        states_facts = intent in FACT_INTENTS or (
            intent == "follow_up" and (in_check or after_verdict(tracker))
        )
        if not states_facts:
            # A bare answer ("clinical engineering") still answers the question asked,
            # whatever topic it sounds like.
            if requested in facts and mostly_entities(text, entities):
                facts = {requested: facts[requested]}
            else:
                return []
        if not tracker.get_slot("programme") and "programme" not in facts:
            programme = programme_implied_by(facts)
            if programme:
                facts["programme"] = programme
        events: List[EventType] = []
        if (
            intent == "check_eligibility"
            and not in_check
            and tracker.get_slot("assessment")
            and set(facts) <= {"programme"}
        ):
            # A new check after a verdict, with no new facts: start afresh.
            events += [SlotSet(slot, None) for slot in PROFILE_SLOTS]
            events.append(SlotSet("assessment", None))
        if requested and requested not in facts and intent in ANSWER_INTENTS:
            value = answer_for_requested_slot(RULES, requested, text, intent)
            facts[requested] = NOT_UNDERSTOOD if value is None else value
        if facts.get("a_level_subjects") and "science_a_level" not in facts:
            status = science_a_level_status(RULES, facts)
            if status:
                facts["science_a_level"] = status
        return events + [SlotSet(slot, value) for slot, value in facts.items()]


def _is_subject(value: Any) -> bool:
    return isinstance(value, str) and value != NOT_UNDERSTOOD and 0 < len(value) <= 60


class ValidateEligibilityForm(FormValidationAction):
    """Asks only for what the engine still needs, and checks each answer."""

    def name(self) -> Text:
        return "validate_eligibility_form"

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        return missing_facts(RULES, profile_from_tracker(tracker))

    def _checked(
        self, slot: str, ok: bool, value: Any, dispatcher: CollectingDispatcher
    ) -> Dict[Text, Any]:
        if ok:
            return {slot: value}
        dispatcher.utter_message(response="utter_answer_not_understood")
        return {slot: None}

    def validate_programme(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._checked("programme", value in ("STP", "PTP"), value, dispatcher)

    def validate_degree_class(self, value: Any, dispatcher, tracker, domain):
        known = {class_id for class_id, _ in RULES.degree_classes}
        return self._checked("degree_class", value in known, value, dispatcher)

    def validate_degree_subject(self, value: Any, dispatcher, tracker, domain):
        return self._checked("degree_subject", _is_subject(value), value, dispatcher)

    def validate_higher_degree(self, value: Any, dispatcher, tracker, domain):
        group = RULES.qualification_group(str(value))
        ok = value == "none" or group in ("higher_degree", "not_higher_degree")
        return self._checked("higher_degree", ok, value, dispatcher)

    def validate_higher_degree_subject(self, value: Any, dispatcher, tracker, domain):
        return self._checked("higher_degree_subject", _is_subject(value), value, dispatcher)

    def validate_gcse_grades(self, value: Any, dispatcher, tracker, domain):
        ok = value != NOT_UNDERSTOOD and gcse_grade_meets(RULES, value) is not None
        return self._checked("gcse_grades", ok, value, dispatcher)

    def validate_a_level_count(self, value: Any, dispatcher, tracker, domain):
        ok = isinstance(value, int) and 0 <= value <= 20
        return self._checked("a_level_count", ok, value, dispatcher)

    def validate_science_a_level(self, value: Any, dispatcher, tracker, domain):
        ok = value in ("yes", "no", "unsure")
        return self._checked("science_a_level", ok, value, dispatcher)


class ActionGiveVerdict(Action):
    """Runs when the check has what it needs: the verdict, why, and what next."""

    def name(self) -> Text:
        return "action_give_verdict"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        assessment = assess(RULES, profile_from_tracker(tracker))
        if assessment.verdict is None:
            # Only reachable if the check was ended early; say what is missing.
            dispatcher.utter_message(response="utter_check_stopped")
            return []
        payload = assessment_payload(RULES, assessment)
        dispatcher.utter_message(
            response=f"utter_verdict_{assessment.verdict}",
            json_message=payload,
            **verdict_values(RULES, assessment),
        )
        return [
            SlotSet("assessment", payload["assessment"]),
            SlotSet("last_answer", VERDICT),
        ] + offer_feedback(dispatcher, tracker, CHECK_TOPIC)


class ActionAnswerTopic(Action):
    """Answers a general question from the topics in the rules file."""

    def name(self) -> Text:
        return "action_answer_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        intent = latest_intent(tracker) or ""
        values = topic_answer(RULES, intent)
        if values is None:
            dispatcher.utter_message(response="utter_help")
            return []
        dispatcher.utter_message(response="utter_topic_answer", **values)
        return [SlotSet("last_answer", intent)] + offer_feedback(dispatcher, tracker, intent)


def reply_not_understood(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> None:
    """Offers the two likeliest topics once; if still unclear, says what is on offer."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    buttons = clarifying_buttons(RULES, ranking, domain)
    if buttons and previous_user_intent(tracker) != "nlu_fallback":
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
    else:
        dispatcher.utter_message(response="utter_not_understood")


def facts_in_latest_message(tracker: Tracker) -> bool:
    """True when the latest message added a fact to the profile."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") in PROFILE_SLOTS:
            if event.get("value") not in (None, NOT_UNDERSTOOD):
                return True
    return False


class ActionFallback(Action):
    """Messages the assistant cannot read: too long, empty, or not understood."""

    def name(self) -> Text:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        message = tracker.latest_message
        if message.get("truncated"):
            dispatcher.utter_message(
                response="utter_too_long",
                length=f"{message.get('original_length', 0):,}",
                limit=f"{message.get('characters_read', 0):,}",
            )
        elif not (message.get("text") or "").strip():
            dispatcher.utter_message(response="utter_empty_message")
        else:
            reply_not_understood(dispatcher, tracker, domain)
        return []


class ActionCheckFacts(Action):
    """Facts given outside a check ("I have a 2:1 in physics") start one; a message
    that only sounded like an answer ("lol", a stray word) is not understood."""

    def name(self) -> Text:
        return "action_check_facts"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if facts_in_latest_message(tracker):
            return [FollowupAction(FORM)]
        reply_not_understood(dispatcher, tracker, domain)
        return []


class ActionExplain(Action):
    """'Why?': the rules behind the last verdict, or the sources of the last answer."""

    def name(self) -> Text:
        return "action_explain"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        last = tracker.get_slot("last_answer")
        assessment = tracker.get_slot("assessment")
        if last == VERDICT and assessment:
            dispatcher.utter_message(
                response="utter_explain_verdict",
                reasons=bullet_list(assessment["reasons"]),
                sources="\n".join(assessment["sources"]),
            )
        elif last in RULES.topics:
            topic = RULES.topics[last]
            dispatcher.utter_message(
                response="utter_explain_topic",
                sources="\n".join(f"{s.title}: {s.url}" for s in topic.sources),
            )
        else:
            dispatcher.utter_message(response="utter_explain_nothing")
        return []


class ActionFollowUp(Action):
    """'What about the PTP?', 'and with a 2:2?': the last answer, with one thing changed."""

    def name(self) -> Text:
        return "action_follow_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if after_verdict(tracker):
            # The changed fact is already in the profile: check again.
            return [FollowupAction(FORM)]
        facts = facts_from_message(
            RULES,
            tracker.latest_message.get("text") or "",
            tracker.latest_message.get("entities") or [],
        )
        subject = facts.get("degree_subject")
        if subject and set(facts) <= {"degree_subject", "programme"}:
            finding = subject_relevance(RULES, subject)
            dispatcher.utter_message(
                response="utter_topic_answer",
                answer=finding.text,
                sources=source_list([finding.source]),
            )
            topic = "ask_relevant_subjects"
            return [SlotSet("last_answer", topic)] + offer_feedback(dispatcher, tracker, topic)
        intent = topic_for_follow_up(
            RULES, facts, tracker.get_slot("last_answer"),
            tracker.latest_message.get("intent_ranking") or [],
        )
        values = topic_answer(RULES, intent or "")
        if values is None:
            dispatcher.utter_message(response="utter_follow_up_unclear")
            return []
        dispatcher.utter_message(response="utter_topic_answer", **values)
        return [SlotSet("last_answer", intent)] + offer_feedback(dispatcher, tracker, intent)


class ActionRecordFeedback(Action):
    """A click on the thumbs up or down under an answer."""

    def name(self) -> Text:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        topic = next(tracker.get_latest_entity_values("feedback_topic"), None)
        helpful = next(tracker.get_latest_entity_values("helpful"), None)
        return record_feedback(dispatcher, tracker, topic, helpful)


class ActionAcknowledge(Action):
    """A yes or no outside a check: feedback if "did that help?" was just asked."""

    def name(self) -> Text:
        return "action_acknowledge"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        intent = latest_intent(tracker)
        pending = pending_feedback_topic(tracker)
        if pending:
            return record_feedback(dispatcher, tracker, pending, "yes" if intent == "affirm" else "no")
        dispatcher.utter_message(response="utter_help" if intent == "affirm" else "utter_ok")
        return []
