"""The open-world decisions (dialogue/questions.py), without Rasa: is a message about our
field, what exactly does it ask, do the sources answer that, and which replies need
explicit words. The trained pipeline's side is in test_nlp.py and the evaluation in
tools/evaluation/open_world.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from careers.answers import plain_words, topic_for_follow_up
from careers.rules_file import default_rules
from careers.vocabulary import APPLYING_PREFIX, NOT_COVERED_PREFIX
from dialogue.questions import (
    Decision,
    about_the_assistants_life,
    concepts_asked,
    decide,
    foreign_words,
    has_cue,
    in_field,
    topic_asked,
    unanswered,
)
from dialogue.replies import concept_replies
from nlp.deletion_requests import asks_about_privacy, asks_to_delete
from nlp.emergencies import danger

RULES = default_rules()


def ranking(*names: str) -> list:
    """A classifier's ranking: the first name most likely."""
    confidences = [0.6, 0.2, 0.1, 0.05, 0.05]
    return [{"name": n, "confidence": c} for n, c in zip(names, confidences[: len(names)], strict=True)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("How many specialisms can I apply for?", ["applying:number_of_specialisms"]),
        ("Can I apply to the STP again after being unsuccessful?", ["applying:reapplying"]),
        ("when do applications open?", ["applying:application_dates"]),
        ("How do I get feedback after my interview feedback?", ["not_covered:interview_feedback"]),
        ("what happens at the interview", ["applying:selection"]),
        ("What IELTS score do I need?", ["not_covered:english_language"]),
        ("what's the pay like, and is there an age limit?", ["not_covered:pay", "not_covered:age"]),
        ("difference between clinical engineering and medical physics", ["not_covered:comparisons"]),
        ("Do I need a 2:1 for the STP?", []),
    ],
)
def test_what_a_question_names_the_longest_match_first(text, expected):
    assert concepts_asked(RULES, text) == expected


@pytest.mark.parametrize(
    "text, field",
    [
        ("what GCSEs do I need", True),
        ("is the STP hard to get on", True),
        ("how do I become a clinical engineer", True),
        ("find my wallet", False),
        ("update my status on instagram", False),
        ("what's the weather in Leeds", False),
    ],
)
def test_in_field(text, field):
    assert in_field(text, RULES) is field


@pytest.mark.parametrize(
    "text, guess, expected",
    [
        # The emergency reply and deletion are never the classifier's to give.
        ("find my wallet", "medical_emergency", "out_of_scope"),
        ("review my resume for spelling errors", "medical_emergency", "out_of_scope"),
        ("update my status on instagram", "request_deletion", "out_of_scope"),
        # Clearing, stopping and checking need their words.
        ("could i cancel my reservations", "stop", "out_of_scope"),
        ("cancel the check please", "stop", None),
        ("put annie's baby shower in my calendar", "start_again", "out_of_scope"),
        ("let's start over", "start_again", None),
        ("am i eligible for a new credit card", "check_eligibility", "out_of_scope"),
        ("am I eligible for the STP?", "check_eligibility", None),
        # A topic only when the message asks what it answers.
        ("find some curtains that look good", "ask_skills", "out_of_scope"),
        ("what skills do clinical engineers need", "ask_skills", "ask_skills"),
        ("Is the training programme right for me?", "ask_physical_requirements", "ask_not_covered"),
        (
            "If I have previously applied to the STP can I apply again?",
            "ask_predicted_results",
            "ask_not_covered",
        ),
        # Small talk only with its words.
        ("i want an uber", "greet", "out_of_scope"),
        ("hello there", "greet", None),
        ("yes", "affirm", None),
        # Out of scope, but about our field: "not covered", naming it.
        ("How do I get interview feedback?", "out_of_scope", "ask_not_covered"),
        ("What's next after GCSE?", "out_of_scope", "ask_not_covered"),
        ("what's the capital of peru", "out_of_scope", "out_of_scope"),
        # A button is never second-guessed.
        ("/ask_skills", "ask_skills", None),
    ],
)
def test_decide(text, guess, expected):
    decision = decide(RULES, text, ranking(guess, "ask_entry_routes", "out_of_scope"))
    assert isinstance(decision, Decision)
    assert decision.intent == expected, decision.reason


def test_facts_about_the_person_keep_the_check_without_its_words():
    entities = [{"entity": "degree_class", "value": "upper_second"}]
    assert decide(RULES, "2:1 in physics", ranking("check_eligibility"), entities).intent is None
    misread = [{"entity": "qualification", "value": "msc"}]
    text = "add up my reward points for master card"
    assert decide(RULES, text, ranking("check_eligibility"), misread).intent in (
        "out_of_scope",
        "nlu_fallback",
    )
    assert decide(RULES, "physics", ranking("inform"), [{"entity": "subject"}]).intent is None


def test_a_lower_ranked_topic_that_is_asked_about_is_taken():
    text = "Do I need research experience?"
    decision = decide(RULES, text, ranking("ask_skills", "ask_research_experience"))
    assert decision.intent == "ask_research_experience"


def test_every_topic_declares_what_it_answers_and_is_reached_by_its_title():
    for intent, topic in RULES.topics.items():
        assert topic.asked_by, intent
    assert topic_asked(RULES, "ask_skills", "what skills do I need")
    assert not topic_asked(RULES, "ask_skills", "find some curtains that look good")


def test_every_applying_answer_cites_a_reviewed_page_of_the_national_school():
    assert RULES.applying
    for key, answer in RULES.applying.items():
        assert answer.keywords and answer.sources, key
        for source in answer.sources:
            if source.key.startswith("nshcs_") and source.key not in ("nshcs_entry", "nshcs_entry_faq"):
                assert source.last_reviewed is not None and source.page_date, (key, source.key)
                assert source.url.startswith("https://nshcs.hee.nhs.uk/"), source.url


def test_concept_replies_answer_each_thing_named_or_name_the_question():
    replies = concept_replies(RULES, "When do applications open, and what's the pay?")
    assert [name for name, _ in replies] == [
        APPLYING_PREFIX + "application_dates",
        NOT_COVERED_PREFIX + "pay",
    ]
    assert "January" in replies[0][1]["answer"] and "nshcs.hee.nhs.uk" in replies[0][1]["sources"]
    (name, values), *_ = concept_replies(RULES, "Is there a dress code?")
    assert name == NOT_COVERED_PREFIX + "general"
    assert '("Is there a dress code")' in values["answer"]


def test_the_question_said_back_has_no_markup():
    said = plain_words("<!here> *bold* [link](x) `code` what is route 2?")
    assert not set(said) & set("<>*[]`")
    assert len(plain_words("word " * 100)) <= 93


@pytest.mark.parametrize(
    "text, privacy",
    [
        ("who can see this chat?", True),
        ("how long do you keep my messages", True),
        ("is my information stored anywhere?", True),
        ("are you recording this", True),
        ("how do I record my work experience", False),
        ("can I see the person specification", False),
        ("how do you keep track of applications", False),
        ("what data science degrees count", False),
    ],
)
def test_privacy_questions(text, privacy):
    assert asks_about_privacy(text) is privacy


def test_forget_what_i_told_you_asks_to_delete():
    assert asks_to_delete("can you forget what I told you")
    assert asks_to_delete("forget my name and email please")
    assert not asks_about_privacy("can you forget what I told you")


def test_the_other_route_is_read_against_the_last_answer():
    assert topic_for_follow_up(RULES, {}, "ask_stp_requirements", [], "and what about the other route?") == (
        "ask_ptp_requirements"
    )
    assert topic_for_follow_up(RULES, {}, "ask_ptp_programme", [], "ok what about the other one then") == (
        "ask_stp_programme"
    )


def test_cues():
    assert has_cue("stop", "stop the check")
    assert not has_cue("greet", "i want an uber")


def _rows(name: str) -> list:
    path = Path(__file__).parent / "open_world" / name
    return [
        line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line and line[0] != "#"
    ]


def test_every_real_emergency_phrasing_is_an_emergency():
    rows = _rows("emergencies.tsv")
    assert len(rows) >= 40 and {"suicide_indirect", "self_harm", "someone_else"} <= {r[1] for r in rows}
    assert [text for text, _ in rows if not danger(text)] == []


def test_no_near_miss_or_privacy_question_is_an_emergency():
    said = [text for text, _ in _rows("near_misses.tsv") + _rows("privacy.tsv") if danger(text)]
    assert said == []


@pytest.mark.parametrize(
    "text",
    [
        "how can i go about jump starting my car",
        "my daughter loves taking things apart",
        "is there any point applying with a 2:2",
        "my dad had a stroke last year",
        "I nearly had a heart attack when I saw the date",
    ],
)
def test_words_that_only_look_like_an_emergency(text):
    assert danger(text) == ""


def test_what_a_question_names_comes_before_a_check_or_a_follow_up():
    assert decide(RULES, "Can I apply for two specialisms?", ranking("check_eligibility")).intent == (
        "ask_not_covered"
    )
    assert decide(RULES, "what about reapplying?", ranking("follow_up")).intent == "ask_not_covered"
    assert decide(RULES, "what about the PTP?", ranking("follow_up")).intent is None


def test_several_questions_in_one_message_are_kept_apart():
    from dialogue.questions import other_questions, other_topic, parts

    text = "What A-levels do I need and when do applications open?"
    assert parts(text) == ["What A-levels do I need", "when do applications open"]
    assert other_questions(RULES, text, "ask_a_levels") == ["applying:application_dates"]
    assert other_questions(RULES, "What A-levels do I need?", "ask_a_levels") == []
    asked = "When do applications open, and what A-levels do I need?"
    assert other_topic(RULES, asked, ranking("ask_not_covered", "ask_a_levels"), []) == "ask_a_levels"
    assert other_topic(RULES, "When do applications open?", ranking("ask_a_levels"), []) is None


def test_a_follow_up_for_someone_else_gets_the_same_answer():
    assert topic_for_follow_up(RULES, {}, "ask_skills", [], "and for my son?") == "ask_skills"
    assert topic_for_follow_up(RULES, {}, None, [], "and for my son?") is None


def test_every_phrase_the_pipeline_caught_before_is_still_an_emergency():
    said = ["I took too many of my mum's pills and feel weird", "he's not breathing", "I've got chest pains"]
    assert all(danger(text) for text in said)


@pytest.mark.parametrize(
    "text", ["I want to stop", "can we stop", "stop please", "let's quit", "stop the check"]
)
def test_stopping_in_so_many_words(text):
    assert decide(RULES, text, ranking("stop")).intent is None


def test_answers_citing_the_same_pages_are_shown_as_one():
    from careers.answers import merged_by_sources

    shown = merged_by_sources(
        [{"answer": "A", "sources": "x"}, {"answer": "B", "sources": "y"}, {"answer": "C", "sources": "x"}]
    )
    assert shown == [{"answer": "A\n\nC", "sources": "x"}, {"answer": "B", "sources": "y"}]


# --- Does the answer cover what was asked? (unanswered) -----------------------------


@pytest.mark.parametrize(
    "answer, text, missing",
    [
        ("applying:selection", "Where and when will the interviews be held?", ["held"]),
        ("ask_stp_programme", "How long is the STP?", []),
        # Who asks, greetings and the field's own words ask nothing of their own.
        ("ask_stp_programme", "Hi, my daughter is in Year 10. What is the STP?", []),
        # Only the parts that ask: the context before the question is not what is asked.
        (
            "ask_work_experience",
            "I volunteer at a hospital radio station. What work experience helps?",
            [],
        ),
        # A subject or qualification someone names is a fact, not the question.
        ("ask_a_levels", "do i need a science a level or can i just do maths", []),
        (
            "ask_training_registration",
            "Will an accredited MSc make me exempt from part of the training?",
            ["exempt"],
        ),
        ("not_covered", "anything at all", []),
        # Places and institutions named inside a sentence are who or where, not what is asked.
        ("ask_relevant_subjects", "2:1 in Biochemistry (Dundee) - is biochem relevant for the STP?", []),
        ("ask_work_experience", "What experience is a HSST trainee expected to have?", ["hsst"]),
        # A form's "none" answers a label; it asks nothing.
        ("ask_integrated_masters", "Qualifications: MEng (II.2). Postgrad: none. STP?", []),
    ],
)
def test_what_an_answer_leaves_unanswered(answer, text, missing):
    assert unanswered(RULES, answer, text) == missing


@pytest.mark.parametrize(
    "text, field",
    [
        # Words the field shares with other errands count when the rest is ours...
        ("Is it worth applying if I've just graduated from university?", True),
        ("How do I apply?", True),
        ("Do I need Equivalence?", True),
        # ... and not when more of the message is foreign to it, or it is another errand.
        ("look up how to apply cream to smooth itchiness", False),
        ("i need to get a new credit card application", False),
        ("can i apply here for a new card", False),
        ("how much is my salary", False),
        ("what do i need for a plug in wales", False),
        # A strong word of the field decides it, whatever else is there.
        ("can I get a student loan for the PTP?", True),
    ],
)
def test_in_field_with_the_rules_file(text, field):
    assert in_field(text, RULES) is field


def test_foreign_words_are_those_the_rules_file_has_no_word_for():
    assert foreign_words(RULES, "look up how to apply cream to smooth itchiness") == [
        "cream",
        "smooth",
        "itchiness",
    ]
    assert foreign_words(RULES, "What A-levels do I need for the PTP?") == []


@pytest.mark.parametrize(
    "intent, text, cue",
    [
        ("start_again", "start over", True),
        ("start_again", "reset", True),
        ("start_again", "reset to factory settings", False),
        ("start_again", "start over using factory setting", False),
        ("help", "what questions can you answer", True),
    ],
)
def test_replies_that_act_need_their_own_words_and_not_anothers(intent, text, cue):
    assert has_cue(intent, text) is cue


@pytest.mark.parametrize(
    "text, life",
    [
        ("why didnt you become a doctor", True),
        ("how long have you been interested in engineering", True),
        ("what qualities do you have?", True),
        # "you" for anyone: the field's question
        ("what qualities do you have to succeed in clinical engineering?", False),
        ("do you need a degree?", False),
    ],
)
def test_questions_about_a_persons_own_life(text, life):
    assert about_the_assistants_life(text) is life


def test_a_check_is_not_started_by_where_a_degree_is_from_alone():
    entities = [{"entity": "origin", "value": "overseas"}]
    decision = decide(
        RULES, "how would i apply for an american express", ranking("check_eligibility"), entities
    )
    assert decision.intent == "out_of_scope"


@pytest.mark.parametrize(
    "text, deletes",
    [
        ("forget what i told you", True),
        ("forget what i told you to do", False),
    ],
)
def test_forgetting_an_instruction_is_not_deleting_the_chat(text, deletes):
    assert asks_to_delete(text) is deletes


@pytest.mark.parametrize(
    "text, privacy",
    [
        ("do you use cookies?", True),
        ("does this site store cookies", True),
        ("how long do i put sugar cookies in for", False),
        ("i need a reminder to order cookies", False),
        ("can you share my location with roger", False),
        ("who do you share my data with?", True),
    ],
)
def test_privacy_questions_and_errands_that_share_their_words(text, privacy):
    assert asks_about_privacy(text) is privacy


@pytest.mark.parametrize(
    "text, kind",
    [
        ("i accidentally caught my card on fire", ""),
        ("my kitchen is on fire", "burns"),
        ("my phone caught fire and the room is full of smoke", "burns"),
    ],
)
def test_fire_is_an_emergency_when_someone_may_be_in_it(text, kind):
    assert danger(text) == kind
