"""The names the whole project shares, each defined here once.

Programmes, verdicts, the outcomes of a rule, degree classes, qualification groups,
subject categories, the facts of a profile (which are also the slots of the eligibility
check) and the values they take, and the names of the conversation's other slots, its
form and the intents with a special role.
Everything else imports these instead of spelling them out: the rules file loader
checks the rules file against them, the actions use them, the NLU components and the
careers team's tools read them, and a test checks `domain.yml` declares them.

Pure Python, no Rasa import.
"""

from __future__ import annotations

from typing import Dict, FrozenSet, Tuple

# The two entry routes.
STP = "STP"
PTP = "PTP"
PROGRAMMES: Tuple[str, ...] = (STP, PTP)

# Verdicts of the eligibility check, most favourable first.
ELIGIBLE = "eligible"
POSSIBLY_ELIGIBLE = "possibly_eligible"
NOT_ELIGIBLE = "not_eligible"
VERDICTS: Tuple[str, ...] = (ELIGIBLE, POSSIBLY_ELIGIBLE, NOT_ELIGIBLE)
# How a verdict is shown: a label and a mark, sent with it so no channel spells them.
VERDICT_LABELS: Dict[str, str] = {
    ELIGIBLE: "Eligible",
    POSSIBLY_ELIGIBLE: "Possibly eligible",
    NOT_ELIGIBLE: "Not eligible",
}
VERDICT_MARKS: Dict[str, str] = {ELIGIBLE: "✓", POSSIBLY_ELIGIBLE: "?", NOT_ELIGIBLE: "✗"}
# The tone a channel colours it in: the widget styles "good", "caution" and "bad".
VERDICT_TONES: Dict[str, str] = {ELIGIBLE: "good", POSSIBLY_ELIGIBLE: "caution", NOT_ELIGIBLE: "bad"}

# A rule's outcome for a profile (`careers.engine.Finding.outcome`), each also the key of
# its text in the rules file. A rule can word cases of one apart: its texts
# "not_met_class" and "not_met_subject" are NOT_MET, "unclear_planned" is UNCLEAR.
MET = "met"
NOT_MET = "not_met"
UNCLEAR = "unclear"
# A text key for what the sources leave to others (its finding is UNCLEAR); the same word
# as the subject category NOT_DECIDED_SUBJECT.
UNDECIDED = "not_decided"
NOTE = "note"  # said beside the verdict, deciding nothing

# The value of a qualification fact when the person has none: the DEGREE_CLASS of no
# degree, the HIGHER_DEGREE of no higher degree. (No A-levels is an A_LEVEL_COUNT of 0.)
NONE_HELD = "none"

# Degree classes, best first, then NONE_HELD: no degree.
FIRST = "first"
UPPER_SECOND = "upper_second"
LOWER_SECOND = "lower_second"
THIRD = "third"
DEGREE_CLASS_IDS: Tuple[str, ...] = (FIRST, UPPER_SECOND, LOWER_SECOND, THIRD, NONE_HELD)

# Groups of qualifications in the rules file.
UNDERGRADUATE_HONOURS = "undergraduate_honours"
NON_HONOURS = "non_honours"
# Both a fact of the profile and the group of qualifications that answer it.
HIGHER_DEGREE = "higher_degree"
NOT_HIGHER_DEGREE = "not_higher_degree"
MEDICAL = "medical"
SCHOOL = "school"
GCSE_ALTERNATIVE = "gcse_alternative"
A_LEVEL_ALTERNATIVE = "a_level_alternative"
QUALIFICATION_GROUPS: Tuple[str, ...] = (
    UNDERGRADUATE_HONOURS,
    NON_HONOURS,
    HIGHER_DEGREE,
    NOT_HIGHER_DEGREE,
    MEDICAL,
    SCHOOL,
    GCSE_ALTERNATIVE,
    A_LEVEL_ALTERNATIVE,
)

# How relevant a subject is to clinical engineering, most relevant first.
COMMONLY_ACCEPTED = "commonly_accepted"
OTHER_SCIENCES = "other_sciences"
NOT_DECIDED_SUBJECT = "not_decided"
OUTSIDE_SCIENCE = "outside_science"
ANIMAL_PLANT_SCIENCE = "animal_plant_science"
MEDICAL_SUBJECT = "medical"  # the same word as the qualification group MEDICAL
SUBJECT_CATEGORIES: Tuple[str, ...] = (
    COMMONLY_ACCEPTED,
    OTHER_SCIENCES,
    NOT_DECIDED_SUBJECT,
    OUTSIDE_SCIENCE,
    ANIMAL_PLANT_SCIENCE,
    MEDICAL_SUBJECT,
)
# The category of a subject the rules file does not list (it has no section of its own).
UNKNOWN_SUBJECT = "unknown"

# The kinds of entity the NLU pipeline finds (nlp/patterns and the rules file's subjects).
ENTITY_LABELS: Tuple[str, ...] = (
    "programme",
    "degree_class",
    "qualification",
    "subject",
    "grade",
    "count",
    "origin",
    "stage",
)

# What the rules file's texts may fill in, as {name}; the engine gives a value for each.
PLACEHOLDERS: FrozenSet[str] = frozenset(
    {
        "degree_class",
        "subject",
        "subject_title",
        "higher_degree",
        "higher_degree_title",
        "higher_degree_short",
        "higher_degree_subject",
        "qualification_title",
        "a_level_count",
        "a_level_subjects",
        "alternatives",
        "higher_degree_ends",
    }
)

# The facts of a person's profile. Each is a slot of the same name.
PROGRAMME = "programme"
DEGREE_CLASS = "degree_class"
DEGREE_SUBJECT = "degree_subject"
HIGHER_DEGREE_SUBJECT = "higher_degree_subject"
GCSE_GRADES = "gcse_grades"
A_LEVEL_COUNT = "a_level_count"
SCIENCE_A_LEVEL = "science_a_level"
DEGREE_TYPE = "degree_type"
DEGREE_OVERSEAS = "degree_overseas"
A_LEVEL_SUBJECTS = "a_level_subjects"
A_LEVEL_ALTERNATIVES = "a_level_alternatives"
A_LEVEL_GRADES = "a_level_grades"
# Where a qualification stands (issue 26). A fact with no status is held. "Denied" has no
# status of its own: it is NONE_HELD (no degree, no higher degree) or no A-levels (0).
HELD = "held"
PREDICTED = "predicted"  # still being studied, with a forecast result
IN_PROGRESS = "in_progress"  # being studied, no result forecast
PLANNED = "planned"  # intended, not started
ABANDONED = "abandoned"  # started, not finished
STATUSES: Tuple[str, ...] = (HELD, PREDICTED, IN_PROGRESS, PLANNED, ABANDONED)
# The status of each kind of qualification, and when a higher degree ends ("December 2026").
DEGREE_STATUS = "degree_status"
HIGHER_DEGREE_STATUS = "higher_degree_status"
HIGHER_DEGREE_ENDS = "higher_degree_ends"
A_LEVEL_STATUS = "a_level_status"
GCSE_STATUS = "gcse_status"
# The kinds of qualification a status belongs to (the rules file's `statuses:` section),
# HIGHER_DEGREE among them, and the fact that holds each one's status.
DEGREE = "degree"
A_LEVELS = "a_levels"
GCSES = "gcses"
STATUS_FACTS: Dict[str, str] = {
    DEGREE: DEGREE_STATUS,
    HIGHER_DEGREE: HIGHER_DEGREE_STATUS,
    A_LEVELS: A_LEVEL_STATUS,
    GCSES: GCSE_STATUS,
}
# Facts the check may ask for, in the order they are best asked.
ASKABLE_FACTS: Tuple[str, ...] = (
    PROGRAMME,
    DEGREE_CLASS,
    DEGREE_SUBJECT,
    HIGHER_DEGREE,
    HIGHER_DEGREE_SUBJECT,
    GCSE_GRADES,
    A_LEVEL_COUNT,
    SCIENCE_A_LEVEL,
)
# Facts read from messages but never asked for.
VOLUNTEERED_FACTS: Tuple[str, ...] = (
    DEGREE_TYPE,
    DEGREE_OVERSEAS,
    DEGREE_STATUS,
    HIGHER_DEGREE_STATUS,
    HIGHER_DEGREE_ENDS,
    A_LEVEL_STATUS,
    A_LEVEL_SUBJECTS,
    A_LEVEL_GRADES,
    A_LEVEL_ALTERNATIVES,
    GCSE_STATUS,
)
PROFILE_FACTS: Tuple[str, ...] = ASKABLE_FACTS + VOLUNTEERED_FACTS
# Answers to "do you have a science A-level?".
YES, NO, UNSURE = "yes", "no", "unsure"
YES_NO_UNSURE: Tuple[str, ...] = (YES, NO, UNSURE)
# Answers to "a good range of GCSEs at A-C?", besides a lowest grade: MET or NOT_MET (the
# rule's outcome, as the person says it), UNSURE, or EQUIVALENT (other qualifications in
# their place, for the universities to compare).
EQUIVALENT = "equivalent"
# A fact's value when the answer to its question could not be read.
NOT_UNDERSTOOD = "__not_understood__"

# The eligibility check (a Rasa form) and the conversation's other slots.
FORM = "eligibility_form"
# Rasa's slot for the fact the check is waiting for an answer to, which our code calls
# `asked` (dialogue.turns.Turn.asked; actions.actions.fact_asked reads it).
REQUESTED_SLOT = "requested_slot"
ASSESSMENT_SLOT = "assessment"
LAST_ANSWER_SLOT = "last_answer"
UNREADABLE_SLOT = "unreadable_answers"
FEEDBACK_ASKED_SLOT = "feedback_asked"
# Whom the check is about: the person chatting, or someone they ask for ("my son ...
# he's in year 12"); the questions and verdicts speak of "you" or "they" by it.
CHECK_ABOUT_SLOT = "check_about"
ONESELF = "oneself"
SOMEONE_ELSE = "someone_else"
FEEDBACK_SLOT = "feedback"
CONVERSATION_SLOTS: Tuple[str, ...] = (
    ASSESSMENT_SLOT,
    LAST_ANSWER_SLOT,
    UNREADABLE_SLOT,
    FEEDBACK_ASKED_SLOT,
    FEEDBACK_SLOT,
    CHECK_ABOUT_SLOT,
)
# The value of `last_answer` after a verdict (otherwise a topic, see below).
VERDICT_ANSWER = "verdict"
# The topic name of the check itself, in feedback and the report.
CHECK_TOPIC = "eligibility_check"
# `last_answer` after "my sources don't cover that" about a topic of `not_covered:`.
NOT_COVERED_PREFIX = "not_covered:"
# `last_answer` after an answer of the rules file's `applying` section.
APPLYING_PREFIX = "applying:"
# Set by the pipeline for a question about what the assistant keeps (nlp/deletion_requests.py).
PRIVACY_INTENT = "privacy_question"

# Intents with a role of their own (the answer topics are in the rules file).
CHECK_INTENT = "check_eligibility"
INFORM_INTENT = "inform"
NOT_COVERED_INTENT = "ask_not_covered"
OUT_OF_SCOPE_INTENT = "out_of_scope"
FALLBACK_INTENT = "nlu_fallback"
FOLLOW_UP_INTENT = "follow_up"
WHY_INTENT = "ask_why"
AFFIRM_INTENT = "affirm"
DENY_INTENT = "deny"
START_AGAIN_INTENT = "start_again"
SPECIAL_INTENTS: Tuple[str, ...] = (
    CHECK_INTENT,
    INFORM_INTENT,
    NOT_COVERED_INTENT,
    OUT_OF_SCOPE_INTENT,
    FOLLOW_UP_INTENT,
    WHY_INTENT,
    AFFIRM_INTENT,
    DENY_INTENT,
    START_AGAIN_INTENT,
)

# Plain names for people (the careers team's report): the check's questions by the fact
# each asks for, and the intents that are not answer topics (a topic's title is in the
# rules file, careers.answers.topic_title). A test checks every intent has one or the other.
FACT_TITLES: Dict[str, str] = {
    PROGRAMME: "Programme",
    DEGREE_CLASS: "Degree class",
    DEGREE_SUBJECT: "Degree subject",
    HIGHER_DEGREE: "Higher degree",
    HIGHER_DEGREE_SUBJECT: "Higher degree subject",
    GCSE_GRADES: "GCSE grades",
    A_LEVEL_COUNT: "Number of A-levels",
    SCIENCE_A_LEVEL: "Science A-level",
}
INTENT_TITLES: Dict[str, str] = {
    "greet": "Greeting",
    "goodbye": "Goodbye",
    "thank": "Thanks",
    "bot_challenge": "Asking if it is a bot",
    "help": "Asking for help",
    AFFIRM_INTENT: "Yes",
    DENY_INTENT: "No",
    "stop": "Stopping the check",
    START_AGAIN_INTENT: "Starting again",
    INFORM_INTENT: "Giving facts for the check",
    CHECK_INTENT: "Eligibility check",
    "medical_emergency": "Medical emergency",
    OUT_OF_SCOPE_INTENT: "Off-topic",
    NOT_COVERED_INTENT: "Something the sources don't cover",
    WHY_INTENT: "Asking why",
    FOLLOW_UP_INTENT: "Follow-up question",
    FALLBACK_INTENT: "Not understood",
    "feedback": "Feedback on an answer",
    "delete_conversation": "Deleting the conversation",
    "request_deletion": "Asking to delete their data",
    "keep_conversation": "Keeping the conversation",
    PRIVACY_INTENT: "What the assistant keeps",
}
