"""Rasa custom actions: thin adapters between Rasa and the dialogue layer.

The knowledge is in `careers/entry_rules.yml`, the logic in `careers/engine.py`, the
reading of messages and what a turn changes in `dialogue/` (`take_turn`), the wording in
`domain.yml`; the actions turn their results into Rasa events. The rules file is loaded
when this module is imported, so a malformed file stops the action server at
start-up with the file and line.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from careers.answers import (
    HELPFUL,
    HELPFUL_VALUES,
    NOT_HELPFUL,
    about_someone_else,
    assessment_payload,
    bullet_list,
    clarifying_buttons,
    concept_reply,
    describe_facts,
    feedback_buttons,
    feedback_sources,
    is_feedback_topic,
    merged_by_sources,
    source_list,
    topic_answer,
    topic_for_follow_up,
    verdict_values,
)
from careers.engine import (
    assess,
    gcse_status,
    missing_facts,
    subject_relevance,
)
from careers.rules_file import NOT_COVERED_GENERAL, default_rules
from careers.vocabulary import (
    A_LEVEL_COUNT,
    AFFIRM_INTENT,
    APPLYING_PREFIX,
    ASSESSMENT_SLOT,
    CHECK_ABOUT_SLOT,
    CHECK_INTENT,
    CHECK_TOPIC,
    DEGREE_CLASS,
    DEGREE_SUBJECT,
    FALLBACK_INTENT,
    FEEDBACK_ASKED_SLOT,
    FEEDBACK_SLOT,
    FORM,
    GCSE_GRADES,
    HIGHER_DEGREE,
    HIGHER_DEGREE_SUBJECT,
    LAST_ANSWER_SLOT,
    NONE_HELD,
    NOT_COVERED_PREFIX,
    NOT_HIGHER_DEGREE,
    NOT_UNDERSTOOD,
    PROFILE_FACTS,
    PROGRAMME,
    REQUESTED_SLOT,
    SCIENCE_A_LEVEL,
    SOMEONE_ELSE,
    UNREADABLE_SLOT,
    VERDICT_ANSWER,
    YES_NO_UNSURE,
)
from dialogue.denials import says_no, says_yes
from dialogue.facts import facts_from_message
from dialogue.history import (
    fact_set_since_latest_message,
    previous_user_intent,
    said_before_latest,
    slots_set_since_latest_message,
)
from dialogue.questions import about_another_career, concepts_asked, other_questions, other_topic
from dialogue.replies import MAX_CONCEPT_REPLIES, concept_replies, partly_covered
from dialogue.turns import Turn, is_question, take_turn

RULES = default_rules()

# How many answers in a row the check could not read; at this many it offers a way out.
MAX_UNREADABLE = 2
ACTION_LISTEN = "action_listen"
# The response that asks "Did that answer help?".
ASK_FEEDBACK = "utter_ask_feedback"


def profile_from_tracker(tracker: Tracker) -> Dict[str, Any]:
    """The facts gathered so far, as the engine expects them."""
    profile = {}
    for slot in PROFILE_FACTS:
        value = tracker.get_slot(slot)
        if value is not None and value != NOT_UNDERSTOOD:
            profile[slot] = value
    return profile


def fact_asked(tracker: Tracker) -> Optional[str]:
    """The fact the check is waiting for an answer to (`asked` in dialogue/), which Rasa's
    form keeps in its `requested_slot`."""
    return tracker.get_slot(REQUESTED_SLOT)


def stop_asking() -> EventType:
    """Clears the fact the check is waiting for, so that the form asks nothing more."""
    return SlotSet(REQUESTED_SLOT, None)


def latest_intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def after_verdict(tracker: Tracker) -> bool:
    """True when the assistant's last answer was an eligibility verdict."""
    return tracker.get_slot(LAST_ANSWER_SLOT) == VERDICT_ANSWER and bool(tracker.get_slot(ASSESSMENT_SLOT))


def offer_feedback(dispatcher: CollectingDispatcher, tracker: Tracker, topic: str) -> List[EventType]:
    """Asks whether an answer helped: once per topic, and never in the middle of a check."""
    asked = list(tracker.get_slot(FEEDBACK_ASKED_SLOT) or [])
    if tracker.active_loop_name == FORM or topic in asked:
        return []
    dispatcher.utter_message(response=ASK_FEEDBACK, buttons=feedback_buttons(topic))
    return [SlotSet(FEEDBACK_ASKED_SLOT, asked + [topic])]


def pending_feedback_topic(tracker: Tracker) -> Optional[str]:
    """The topic of "Did that answer help?" when it was the assistant's last message
    before the latest one from the person; a reply to anything later is not feedback."""
    if said_before_latest(tracker.events) != ASK_FEEDBACK:
        return None
    # The question follows the answer it asks about, which set `last_answer`.
    last = tracker.get_slot(LAST_ANSWER_SLOT)
    return CHECK_TOPIC if last == VERDICT_ANSWER else last


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
        programme = (tracker.get_slot(ASSESSMENT_SLOT) or {}).get(PROGRAMME)
        dispatcher.utter_message(
            response="utter_feedback_negative",
            sources=feedback_sources(RULES, topic, programme),
        )
    return [SlotSet(FEEDBACK_SLOT, {"topic": topic, "helpful": HELPFUL_VALUES[helpful]})]


class ActionExtractProfile(Action):
    """Fills the profile slots from every message that states facts, replacing the
    facts it corrects (and those they make stale)."""

    def name(self) -> Text:
        return "action_extract_profile"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        message = tracker.latest_message
        if message.get("truncated"):
            return []
        in_check = tracker.active_loop_name == FORM
        turn = Turn(
            text=message.get("text") or "",
            entities=tuple(message.get("entities") or []),
            intent=latest_intent(tracker),
            asked=fact_asked(tracker) if in_check else None,
            facts=profile_from_tracker(tracker),
            in_check=in_check,
            after_verdict=after_verdict(tracker),
            had_verdict=bool(tracker.get_slot(ASSESSMENT_SLOT)),
        )
        result = take_turn(RULES, turn)
        events: List[EventType] = [SlotSet(slot, value) for slot, value in result.changes.items()]
        if result.start_afresh:
            events.append(SlotSet(ASSESSMENT_SLOT, None))
        # Only a change is recorded: "you" is the default, so speaking of oneself
        # matters only after speaking of someone else.
        about_someone_else = tracker.get_slot(CHECK_ABOUT_SLOT) == SOMEONE_ELSE
        if result.about is not None and (result.about == SOMEONE_ELSE) != about_someone_else:
            events.append(SlotSet(CHECK_ABOUT_SLOT, result.about))
        return events


class ValidateEligibilityForm(FormValidationAction):
    """Asks only for what the engine still needs, checks each answer, says what it
    understood, and offers a way out after answers it cannot read."""

    def name(self) -> Text:
        return "validate_eligibility_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        # Read before validation runs: rasa-sdk adds its own slot events to the tracker.
        candidates = tracker.slots_to_validate()
        asked = fact_asked(tracker)
        count = int(tracker.get_slot(UNREADABLE_SLOT) or 0)
        events = await super().run(dispatcher, tracker, domain)
        rejected = {e["name"] for e in events if e.get("event") == "slot" and e.get("value") is None}
        if asked and candidates.get(asked) == NOT_UNDERSTOOD:
            if count + 1 >= MAX_UNREADABLE:
                # Stop asking: the form ends and the verdict action offers a way out.
                events = [e for e in events if e.get("name") != REQUESTED_SLOT]
                events.append(stop_asking())
            return events + [SlotSet(UNREADABLE_SLOT, count + 1)]
        understood = {
            name: value
            for name, value in candidates.items()
            if name in PROFILE_FACTS and value not in (None, NOT_UNDERSTOOD) and name not in rejected
        }
        if not (tracker.latest_message.get("text") or "").startswith("/"):  # typed, not a button
            say_what_was_understood(dispatcher, tracker, understood)
        return events + ([SlotSet(UNREADABLE_SLOT, 0)] if count and understood else [])

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        if int(tracker.get_slot(UNREADABLE_SLOT) or 0) >= MAX_UNREADABLE:
            return []  # the form ends; the verdict action offers a way out
        return missing_facts(RULES, profile_from_tracker(tracker))

    def _checked(
        self,
        slot: str,
        ok: bool,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
    ) -> Dict[Text, Any]:
        if ok:
            return {slot: value}
        if value is None:
            return {slot: None}  # not answered (already handled), nothing to say
        if int(tracker.get_slot(UNREADABLE_SLOT) or 0) + 1 < MAX_UNREADABLE:
            dispatcher.utter_message(response=f"utter_hint_{slot}")
        return {slot: None}

    def validate_programme(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return self._checked(PROGRAMME, value in RULES.programmes, value, dispatcher, tracker)

    def validate_degree_class(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        known = {class_id for class_id, _ in RULES.degree_classes}
        return self._checked(DEGREE_CLASS, value in known, value, dispatcher, tracker)

    def validate_degree_subject(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return self._checked(DEGREE_SUBJECT, _is_subject(value), value, dispatcher, tracker)

    def validate_higher_degree(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        group = RULES.qualification_group(str(value))
        ok = value == NONE_HELD or group in (HIGHER_DEGREE, NOT_HIGHER_DEGREE)
        return self._checked(HIGHER_DEGREE, ok, value, dispatcher, tracker)

    def validate_higher_degree_subject(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return self._checked(HIGHER_DEGREE_SUBJECT, _is_subject(value), value, dispatcher, tracker)

    def validate_gcse_grades(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        ok = value != NOT_UNDERSTOOD and gcse_status(RULES, value) is not None
        return self._checked(GCSE_GRADES, ok, value, dispatcher, tracker)

    def validate_a_level_count(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        ok = isinstance(value, int) and 0 <= value <= 20
        return self._checked(A_LEVEL_COUNT, ok, value, dispatcher, tracker)

    def validate_science_a_level(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        ok = value in YES_NO_UNSURE
        return self._checked(SCIENCE_A_LEVEL, ok, value, dispatcher, tracker)


def _is_subject(value: Any) -> bool:
    return isinstance(value, str) and value != NOT_UNDERSTOOD and 0 < len(value) <= 60


class ActionGiveVerdict(Action):
    """Runs when the check has what it needs: the verdict, why, and what next. When
    it stopped because answers could not be read, it offers a way out instead."""

    def name(self) -> Text:
        return "action_give_verdict"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        profile = profile_from_tracker(tracker)
        assessment = assess(RULES, profile)
        if tracker.get_slot(CHECK_ABOUT_SLOT) == SOMEONE_ELSE:
            assessment = about_someone_else(assessment)
        if assessment.verdict is None:
            stuck = int(tracker.get_slot(UNREADABLE_SLOT) or 0) >= MAX_UNREADABLE
            dispatcher.utter_message(response="utter_check_way_out" if stuck else "utter_check_stopped")
            return [SlotSet(UNREADABLE_SLOT, 0), stop_asking()]
        payload = assessment_payload(RULES, assessment, profile)
        dispatcher.utter_message(
            response=f"utter_verdict_{assessment.verdict}",
            json_message=payload,
            **verdict_values(RULES, assessment, profile),
        )
        return [
            SlotSet(ASSESSMENT_SLOT, payload[ASSESSMENT_SLOT]),
            SlotSet(LAST_ANSWER_SLOT, VERDICT_ANSWER),
            SlotSet(UNREADABLE_SLOT, 0),
        ] + offer_feedback(dispatcher, tracker, CHECK_TOPIC)


class ActionAnswerNotCovered(Action):
    """A question in the field that no topic answers: the National School's answer for
    what it names, or "my sources don't cover ..." naming it, and where to read."""

    def name(self) -> Text:
        return "action_answer_not_covered"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if answered_check_question(tracker):
            return respond_to_answer(dispatcher, tracker)
        if corrects_the_verdict(tracker):
            return [FollowupAction(FORM)]
        return answer_what_is_named(dispatcher, tracker)


def answer_what_is_named(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """The applying answers and "my sources don't cover ..." for what the latest message
    names (dialogue.replies.concept_replies), and a topic asked in another part of it."""
    text = tracker.latest_message.get("text") or ""
    replies = concept_replies(RULES, text)
    # A topic asked in another part of the message ("..., and what A-levels do I need?").
    ranking = tracker.latest_message.get("intent_ranking") or []
    also = other_topic(RULES, text, ranking, [])
    if also and replies[0][0] == NOT_COVERED_PREFIX + NOT_COVERED_GENERAL:
        replies = []
    if also:
        replies.append((also, topic_answer(RULES, also) or {}))
    for values in merged_by_sources([values for _, values in replies if values]):
        dispatcher.utter_message(response="utter_topic_answer", **values)
    # One `last_answer` per answer given, in order: the latest is what "why?" explains.
    topic = replies[-1][0]
    said = [SlotSet(LAST_ANSWER_SLOT, name) for name, _ in replies]
    return said + offer_feedback(dispatcher, tracker, topic)


class ActionOutOfScope(Action):
    """Something other than getting into clinical engineering; in a check, a short
    statement that only sounded off-topic ("banana") is an answer the form handles."""

    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if answered_check_question(tracker):
            return respond_to_answer(dispatcher, tracker)
        if corrects_the_verdict(tracker):
            return [FollowupAction(FORM)]
        text = tracker.latest_message.get("text") or ""
        if (
            tracker.get_slot(LAST_ANSWER_SLOT)
            and concepts_asked(RULES, text)
            and not about_another_career(text)
        ):
            # "what IELTS score would I need then?" straight after an answer: our field.
            return answer_what_is_named(dispatcher, tracker)
        dispatcher.utter_message(response="utter_out_of_scope")
        return []


class ActionStartAgain(Action):
    """'Start again': forgets the facts of the check and the last verdict."""

    def name(self) -> Text:
        return "action_start_again"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        in_check = tracker.active_loop_name == FORM
        dispatcher.utter_message(response="utter_started_again_check" if in_check else "utter_started_again")
        cleared = [SlotSet(slot, None) for slot in PROFILE_FACTS]
        return cleared + [
            SlotSet(ASSESSMENT_SLOT, None),
            SlotSet(LAST_ANSWER_SLOT, None),
            stop_asking(),
            SlotSet(UNREADABLE_SLOT, 0),
        ]


class ActionAnswerTopic(Action):
    """Answers a general question from the topics in the rules file."""

    def name(self) -> Text:
        return "action_answer_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        intent = latest_intent(tracker) or ""
        if answered_check_question(tracker):
            return respond_to_answer(dispatcher, tracker)
        if corrects_the_verdict(tracker):
            return [FollowupAction(FORM)]
        values = topic_answer(RULES, intent)
        if values is None:
            dispatcher.utter_message(response="utter_help")
            return []
        text = tracker.latest_message.get("text") or ""
        said = [SlotSet(LAST_ANSWER_SLOT, intent)]
        # What the question asks that this answer does not speak to is named first
        # ("Will an accredited MSc exempt me from the STP's MSc?": nothing on "exempt").
        partly = partly_covered(RULES, intent, values, text)
        if partly is not None:
            values = partly
            said.insert(0, SlotSet(LAST_ANSWER_SLOT, NOT_COVERED_PREFIX + NOT_COVERED_GENERAL))
        answers = [values]
        # Another question in the same message ("... and when do applications open?").
        for name in other_questions(RULES, text, intent)[:MAX_CONCEPT_REPLIES]:
            answers.append(concept_reply(RULES, name, text))
            said.append(SlotSet(LAST_ANSWER_SLOT, name))
        for shown in merged_by_sources(answers):
            dispatcher.utter_message(response="utter_topic_answer", **shown)
        return said + offer_feedback(dispatcher, tracker, said[-1]["value"])


def reply_not_understood(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> None:
    """Offers the two likeliest topics once; if still unclear, says what is on offer."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    buttons = clarifying_buttons(RULES, ranking, domain)
    if buttons and previous_user_intent(tracker.events) != FALLBACK_INTENT:
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
    else:
        dispatcher.utter_message(response="utter_not_understood")


def corrects_the_verdict(tracker: Tracker) -> bool:
    """Outside a check, a statement that gave facts starts one, or after a verdict
    checks again ("actually I'll leave with a PGDip", "I forgot, I'm also taking
    human biology", "I'm in my final year, predicted a 2:1"), whatever topic it
    sounded like."""
    text = tracker.latest_message.get("text") or ""
    # A programme named alone ("the STP application is a pain") starts nothing.
    return (
        tracker.active_loop_name != FORM
        and not is_question(text)
        and facts_in_latest_message(tracker, besides=(PROGRAMME,))
    )


def answered_check_question(tracker: Tracker) -> bool:
    """In a check, a statement taken as an answer (facts, or an answer that could not
    be read) answers the check, whatever topic it sounded like; the form says what it
    understood, or that it could not read it, and asks on."""
    text = tracker.latest_message.get("text") or ""
    if tracker.active_loop_name != FORM or is_question(text):
        return False
    return fact_set_since_latest_message(tracker.events, PROFILE_FACTS)


def respond_to_answer(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """For a statement in a check that another action was chosen for ("banana", "I'm
    doing an Access diploma, not A-levels"): what the form's validation would have
    said, since the form does not validate a message once another action has run."""
    asked = fact_asked(tracker)
    count = int(tracker.get_slot(UNREADABLE_SLOT) or 0)
    said = slots_set_since_latest_message(tracker.events)
    if asked and said.get(asked) == NOT_UNDERSTOOD:
        if count + 1 < MAX_UNREADABLE:
            dispatcher.utter_message(response=f"utter_hint_{asked}")
        return [SlotSet(asked, None), SlotSet(UNREADABLE_SLOT, count + 1)]
    understood = {k: v for k, v in said.items() if k in PROFILE_FACTS and v not in (None, NOT_UNDERSTOOD)}
    say_what_was_understood(dispatcher, tracker, understood)
    return [SlotSet(UNREADABLE_SLOT, 0)] if count else []


def say_what_was_understood(
    dispatcher: CollectingDispatcher, tracker: Tracker, understood: Dict[str, Any]
) -> None:
    """ "Got it: ..." for the facts just read, while the check still has questions to ask
    (a verdict says it all itself)."""
    if understood and missing_facts(RULES, profile_from_tracker(tracker)):
        summary = describe_facts(RULES, understood)
        if summary:
            dispatcher.utter_message(response="utter_understood", facts=summary)


def facts_in_latest_message(tracker: Tracker, besides: tuple = ()) -> bool:
    """True when the latest message added a fact to the profile (other than `besides`)."""
    return fact_set_since_latest_message(tracker.events, PROFILE_FACTS, besides, unset=(None, NOT_UNDERSTOOD))


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
        elif tracker.active_loop_name == FORM and latest_intent(tracker) == CHECK_INTENT:
            return [FollowupAction(FORM)]  # "am I eligible?" in a check: ask on
        elif answered_check_question(tracker):
            return respond_to_answer(dispatcher, tracker) + [FollowupAction(FORM)]
        elif (
            tracker.active_loop_name != FORM
            and facts_in_latest_message(tracker)
            and not is_question(message.get("text") or "")
        ):
            return [FollowupAction(FORM)]  # facts it could read, in words it could not
        else:
            reply_not_understood(dispatcher, tracker, domain)
        # Never followed by another guess: back to the check, or wait for the person.
        return [FollowupAction(FORM if tracker.active_loop_name == FORM else ACTION_LISTEN)]


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


def changed_since_verdict(tracker: Tracker, assessment: Any) -> Optional[str]:
    """What the check now holds, when it differs from what the last verdict was
    given on (a correction or "what if" since); None when the verdict still stands."""
    if not isinstance(assessment, dict) or not isinstance(assessment.get("understood"), str):
        return None
    now = describe_facts(RULES, profile_from_tracker(tracker)) or "only the programme"
    return None if now == assessment["understood"] else now


class ActionExplain(Action):
    """'Why?': the rules behind the last verdict, or the sources of the last answer."""

    def name(self) -> Text:
        return "action_explain"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        last = tracker.get_slot(LAST_ANSWER_SLOT)
        assessment = tracker.get_slot(ASSESSMENT_SLOT)
        changed = changed_since_verdict(tracker, assessment) if last == VERDICT_ANSWER else None
        if changed is not None:
            # "What if it was a 2:2?", then "why?": the old verdict's reasons would
            # explain facts that no longer hold.
            in_check = tracker.active_loop_name == FORM
            dispatcher.utter_message(
                response="utter_explain_recheck" if in_check else "utter_explain_changed",
                before=str(assessment.get("understood") or "what you told me before"),
                now=changed,
            )
        elif last == VERDICT_ANSWER and assessment:
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
        elif isinstance(last, str) and last.startswith(NOT_COVERED_PREFIX):
            pages = RULES.not_covered[last[len(NOT_COVERED_PREFIX) :]].read
            dispatcher.utter_message(
                response="utter_explain_not_covered",
                sources="\n".join(f"{s.title}: {s.url}" for s in pages),
            )
        elif isinstance(last, str) and last[len(APPLYING_PREFIX) :] in RULES.applying:
            pages = RULES.applying[last[len(APPLYING_PREFIX) :]].sources
            dispatcher.utter_message(
                response="utter_explain_topic",
                sources="\n".join(f"{s.title}: {s.url}" for s in pages),
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
        if answered_check_question(tracker):
            return respond_to_answer(dispatcher, tracker)
        # "does that include engineering?": a subject named alone is a degree's.
        facts = facts_from_message(
            RULES,
            tracker.latest_message.get("text") or "",
            tracker.latest_message.get("entities") or [],
            asked=DEGREE_SUBJECT,
        )
        subject = facts.get(DEGREE_SUBJECT)
        if subject and set(facts) <= {DEGREE_SUBJECT, PROGRAMME}:
            finding = subject_relevance(RULES, subject)
            dispatcher.utter_message(
                response="utter_topic_answer",
                answer=finding.text,
                sources=source_list([finding.source]),
            )
            topic = "ask_relevant_subjects"
            return [SlotSet(LAST_ANSWER_SLOT, topic)] + offer_feedback(dispatcher, tracker, topic)
        intent = topic_for_follow_up(
            RULES,
            facts,
            tracker.get_slot(LAST_ANSWER_SLOT),
            tracker.latest_message.get("intent_ranking") or [],
            tracker.latest_message.get("text") or "",
        )
        values = topic_answer(RULES, intent or "")
        last = str(tracker.get_slot(LAST_ANSWER_SLOT) or "")
        if (
            intent is None
            and last.startswith((NOT_COVERED_PREFIX, APPLYING_PREFIX))
            and is_feedback_topic(RULES, last)
        ):
            # "what about if I'm from Ireland?" after "my sources don't cover visas...": the same holds.
            text = tracker.latest_message.get("text") or ""
            dispatcher.utter_message(response="utter_topic_answer", **concept_reply(RULES, last, text))
            return [SlotSet(LAST_ANSWER_SLOT, last)]
        if intent is None or values is None:
            dispatcher.utter_message(response="utter_follow_up_unclear")
            return []
        dispatcher.utter_message(response="utter_topic_answer", **values)
        return [SlotSet(LAST_ANSWER_SLOT, intent)] + offer_feedback(dispatcher, tracker, intent)


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
        text = tracker.latest_message.get("text") or ""
        if corrects_the_verdict(tracker):
            return [FollowupAction(FORM)]  # "no - I forgot, I'm also taking biology"
        pending = pending_feedback_topic(tracker)
        # Only a yes or no in words counts as feedback: not a guess at "asdf".
        said = HELPFUL if says_yes(text) else NOT_HELPFUL if says_no(text) else None
        if pending and said:
            return record_feedback(dispatcher, tracker, pending, said)
        if pending or not said:
            reply_not_understood(dispatcher, tracker, domain)
            return []
        dispatcher.utter_message(response="utter_help" if intent == AFFIRM_INTENT else "utter_ok")
        return []
