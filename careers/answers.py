"""Turn the rules file and the engine's assessments into the values the
domain's response templates show. Pure Python, no Rasa import."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from careers.engine import Assessment
from careers.rules_file import NOT_COVERED_GENERAL, EntryRules, Source
from careers.vocabulary import (
    A_LEVEL_ALTERNATIVE,
    A_LEVEL_ALTERNATIVES,
    A_LEVEL_COUNT,
    A_LEVEL_GRADES,
    A_LEVEL_STATUS,
    A_LEVEL_SUBJECTS,
    ABANDONED,
    APPLYING_PREFIX,
    ASSESSMENT_SLOT,
    CHECK_INTENT,
    CHECK_TOPIC,
    DEGREE_CLASS,
    DEGREE_OVERSEAS,
    DEGREE_STATUS,
    DEGREE_SUBJECT,
    DEGREE_TYPE,
    EQUIVALENT,
    FIRST,
    GCSE_ALTERNATIVE,
    GCSE_GRADES,
    GCSE_STATUS,
    HIGHER_DEGREE,
    HIGHER_DEGREE_ENDS,
    HIGHER_DEGREE_STATUS,
    HIGHER_DEGREE_SUBJECT,
    IN_PROGRESS,
    LOWER_SECOND,
    MEDICAL,
    MET,
    NO,
    NON_HONOURS,
    NONE_HELD,
    NOT_COVERED_PREFIX,
    NOT_HIGHER_DEGREE,
    NOT_MET,
    PLANNED,
    PREDICTED,
    PROGRAMME,
    PTP,
    SCIENCE_A_LEVEL,
    STP,
    THIRD,
    UNDERGRADUATE_HONOURS,
    UNSURE,
    UPPER_SECOND,
    VERDICT_LABELS,
    VERDICT_MARKS,
    VERDICT_TONES,
    YES,
)


def bullet_list(lines: Iterable[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def source_list(sources: Iterable[Source]) -> str:
    unique = list(dict.fromkeys(s.url for s in sources))
    return "\n".join(unique)


def topic_answer(rules: EntryRules, intent: str) -> Optional[Dict[str, str]]:
    """Template values for a topic's answer, or None if the topic is unknown."""
    topic = rules.topics.get(intent)
    if topic is None:
        return None
    return {"answer": topic.text, "sources": source_list(topic.sources)}


# "you" after these words is the object of a sentence ("the school will tell you"):
# "them"; anywhere else it is the subject ("you have a 2:1"): "they", whose verb takes
# the same form.
_OBJECT_BEFORE = (
    r"(?:tell|tells|help|helps|give|gives|ask|asks|let|lets|send|sends|show|shows|offer|offers|for|to|with)"
)
_SPOKEN_OF = (
    (re.compile(r"\byourself\b", re.I), "themselves"),
    (re.compile(r"\byours\b", re.I), "theirs"),
    (re.compile(r"\byour\b", re.I), "their"),
    (re.compile(rf"\b({_OBJECT_BEFORE}) you\b", re.I), r"\1 them"),
    (re.compile(r"\byou(?=['’](?:re|ve|ll|d)\b)", re.I), "they"),
    (re.compile(r"\byou\b", re.I), "they"),
)


def spoken_of_them(text: str) -> str:
    """A reason or next step written to the person ("You have a 2:1 ..., your degree")
    as said of someone they ask for ("They have a 2:1 ..., their degree")."""
    for pattern, word in _SPOKEN_OF:
        text = pattern.sub(functools.partial(_in_case_of, word=word), text)
    return text


def _in_case_of(match: "re.Match[str]", word: str) -> str:
    """`word` for what `match` found: its groups filled in, capitalised as it was."""
    said = match.expand(word)
    return said[0].upper() + said[1:] if match.group(0)[0].isupper() else said


def about_someone_else(assessment: Assessment) -> Assessment:
    """The assessment with its reasons and next steps said of "them", for a check a
    parent, teacher or adviser runs for someone else."""
    findings = tuple(dataclasses.replace(f, text=spoken_of_them(f.text)) for f in assessment.findings)
    steps = tuple(spoken_of_them(step) for step in assessment.next_steps)
    return dataclasses.replace(assessment, findings=findings, next_steps=steps)


def verdict_values(
    rules: EntryRules, assessment: Assessment, profile: Optional[Mapping[str, Any]] = None
) -> Dict[str, str]:
    """Template values for a verdict message: what was understood (so a misreading can be
    spotted and corrected), the programme, why, next steps, links."""
    programme = assessment.programme or ""
    name, programme_source = rules.programmes[programme]
    links: List[Source] = [f.source for f in assessment.findings]
    for finding in assessment.findings:
        links.extend(rules.rules[finding.rule_id].links)
    links.append(rules.next_steps[programme][assessment.verdict or ""][1])
    links.append(programme_source)
    return {
        "understood": describe_facts(rules, profile or {}) or "only the programme",
        "programme_name": name,
        "decider": rules.deciders[programme][0],
        "reasons": bullet_list(assessment.reasons),
        "next_steps": bullet_list(assessment.next_steps),
        "sources": source_list(links),
    }


def assessment_payload(
    rules: EntryRules, assessment: Assessment, profile: Optional[Mapping[str, Any]] = None
) -> Dict[str, object]:
    """The `custom` payload a website or test reads: verdict, reasons, sources, what was
    understood, and how to show the verdict and programme, so no channel needs to spell
    their names."""
    payload = assessment.as_payload()
    values = verdict_values(rules, assessment, profile)
    payload["sources"] = values["sources"].split("\n")
    payload["understood"] = values["understood"]
    if assessment.verdict is not None:
        payload["verdict_label"] = VERDICT_LABELS[assessment.verdict]
        payload["verdict_mark"] = VERDICT_MARKS[assessment.verdict]
        payload["verdict_tone"] = VERDICT_TONES[assessment.verdict]
    if assessment.programme is not None and assessment.programme in rules.programmes:
        payload["programme_name"] = rules.programmes[assessment.programme][0]
    return {ASSESSMENT_SLOT: payload}


# Below this confidence the classifier's guesses are not worth offering.
CLARIFY_MIN_CONFIDENCE = 0.08


def clarifying_buttons(
    rules: EntryRules, ranking: Iterable[Mapping[str, Any]], domain: Mapping[str, Any]
) -> List[Dict[str, str]]:
    """Buttons for the two likeliest topics and 'something else', or [] if no guess."""
    titles = {intent: topic.title for intent, topic in rules.topics.items()}
    for button in domain.get("responses", {}).get("utter_help", [{}])[0].get("buttons", []):
        if button["payload"] == f"/{CHECK_INTENT}":
            titles[CHECK_INTENT] = button["title"]
    likely = [
        r["name"]
        for r in ranking
        if r.get("name") in titles and r.get("confidence", 0) >= CLARIFY_MIN_CONFIDENCE
    ][:2]
    if len(likely) < 2:
        return []
    buttons = [{"title": titles[name], "payload": f"/{name}"} for name in likely]
    buttons.append({"title": "Something else", "payload": "/help"})
    return buttons


# A follow-up names one thing; this is the topic that answers it.
_FOLLOW_UP_TOPICS = {
    (PROGRAMME, PTP): "ask_ptp_requirements",
    (PROGRAMME, STP): "ask_stp_requirements",
    (DEGREE_CLASS, LOWER_SECOND): "ask_higher_degree_route",
    (DEGREE_CLASS, THIRD): "ask_stp_requirements",
    (DEGREE_CLASS, FIRST): "ask_stp_requirements",
    (DEGREE_CLASS, UPPER_SECOND): "ask_stp_requirements",
}
_GROUP_TOPICS = {
    HIGHER_DEGREE: "ask_higher_degree_definition",
    NOT_HIGHER_DEGREE: "ask_higher_degree_definition",
    MEDICAL: "ask_medical_degree",
    NON_HONOURS: "ask_non_honours_degrees",
    UNDERGRADUATE_HONOURS: "ask_stp_requirements",
    A_LEVEL_ALTERNATIVE: "ask_a_level_alternatives",
    GCSE_ALTERNATIVE: "ask_ptp_requirements",
}


# A topic the classifier ranks this high under a follow-up is the one named
# ("and what about leadership?" ranks ask_leadership 0.06); generic follow-ups
# ("what about that?") rank every topic at 0.02 or less.
FOLLOW_UP_TOPIC_MIN_CONFIDENCE = 0.05


# "The other route" after an answer about one programme: the same answer for the other.
_OTHER_ROUTE = re.compile(r"\bother\W+(?:one|route|programme|program|way|option|path|pathway)s?\b", re.I)
# "and for my son?", "what about for her?": the same question, for someone else.
_SOMEONE_ELSE = re.compile(
    r"\bfor\W+(?:(?:my|her|his|their|our)\W+(?:son|daughter|child|kid|student|pupil|partner|friend|nephew|niece"
    r"|grandson|granddaughter|brother|sister)s?|him|her|them)\b",
    re.I,
)
_COUNTERPARTS = {
    "ask_stp_requirements": "ask_ptp_requirements",
    "ask_ptp_requirements": "ask_stp_requirements",
    "ask_stp_programme": "ask_ptp_programme",
    "ask_ptp_programme": "ask_stp_programme",
    "ask_a_levels": "ask_stp_requirements",
    "ask_a_level_alternatives": "ask_stp_requirements",
    "ask_higher_degree_route": "ask_ptp_requirements",
    "ask_integrated_masters": "ask_ptp_requirements",
    "ask_non_honours_degrees": "ask_ptp_requirements",
    "ask_predicted_results": "ask_ptp_requirements",
}


def topic_for_follow_up(
    rules: EntryRules,
    facts: Mapping[str, Any],
    last_topic: Optional[str],
    ranking: Iterable[Mapping[str, Any]] = (),
    text: str = "",
) -> Optional[str]:
    """The topic a follow-up like 'what about the PTP?' asks about: the other
    programme's answer for "the other route", else from the fact it names, else from a
    topic it names, else (for a fact with no topic of its own, such as a number of
    A-levels) the last topic again. None when it names nothing known."""
    if _OTHER_ROUTE.search(text or "") and not facts.get(PROGRAMME):
        other = _COUNTERPARTS.get(last_topic or "")
        if other in rules.topics:
            return other
    if _SOMEONE_ELSE.search(text or "") and not facts and last_topic in rules.topics:
        return last_topic  # "and for my son?": the same answer holds for anyone
    if facts.get(HIGHER_DEGREE):
        return _GROUP_TOPICS.get(rules.qualification_group(facts[HIGHER_DEGREE]) or "")
    if facts.get(DEGREE_SUBJECT) == "medicine":
        return "ask_medical_degree"
    for qualification in [facts.get(DEGREE_TYPE)] + list(facts.get(A_LEVEL_ALTERNATIVES) or []):
        topic = _GROUP_TOPICS.get(rules.qualification_group(qualification or "") or "")
        if topic:
            return topic
    for key in (PROGRAMME, DEGREE_CLASS):
        if key in facts:
            return _FOLLOW_UP_TOPICS.get((key, facts[key]))
    for ranked in ranking:
        if ranked.get("name") in rules.topics and (
            ranked.get("confidence", 0) >= FOLLOW_UP_TOPIC_MIN_CONFIDENCE
        ):
            return str(ranked["name"])
    return last_topic if facts and last_topic in rules.topics else None


# Feedback is asked once per topic; a finished eligibility check counts as one topic.
# A thumbs up or down is the `helpful` value of the feedback buttons' payloads.
HELPFUL, NOT_HELPFUL = "yes", "no"
HELPFUL_VALUES = {HELPFUL: True, NOT_HELPFUL: False}


def feedback_buttons(topic: str) -> List[Dict[str, str]]:
    """Thumbs up and down; each payload names the topic it is about. (Rasa reads a
    payload only from the buttons of its latest turn: runtime/rasa_patches.py.)"""

    def payload(helpful: str) -> str:
        entities = {"helpful": helpful, "feedback_topic": topic}
        return "/feedback" + json.dumps(entities, separators=(",", ":"))

    return [
        {"title": "\N{THUMBS UP SIGN} Yes", "payload": payload(HELPFUL)},
        {"title": "\N{THUMBS DOWN SIGN} No", "payload": payload(NOT_HELPFUL)},
    ]


def is_feedback_topic(rules: EntryRules, topic: Any) -> bool:
    return (
        topic == CHECK_TOPIC
        or topic in rules.topics
        or (
            isinstance(topic, str)
            and topic.startswith(NOT_COVERED_PREFIX)
            and topic[len(NOT_COVERED_PREFIX) :] in rules.not_covered
        )
        or (
            isinstance(topic, str)
            and topic.startswith(APPLYING_PREFIX)
            and topic[len(APPLYING_PREFIX) :] in rules.applying
        )
    )


def topic_title(rules: EntryRules, topic: str) -> str:
    """A topic's title for people (reports), or the key itself if unknown."""
    if topic == CHECK_TOPIC:
        return "Eligibility check"
    known = rules.topics.get(topic)
    if known:
        return known.title
    if topic.startswith(NOT_COVERED_PREFIX) and topic[len(NOT_COVERED_PREFIX) :] in rules.not_covered:
        return "Not covered: " + rules.not_covered[topic[len(NOT_COVERED_PREFIX) :]].title
    if topic.startswith(APPLYING_PREFIX) and topic[len(APPLYING_PREFIX) :] in rules.applying:
        return "Applying: " + rules.applying[topic[len(APPLYING_PREFIX) :]].title
    return topic


def feedback_sources(rules: EntryRules, topic: str, programme: Optional[str] = None) -> str:
    """Where to read more after an answer did not help."""
    if topic in rules.topics:
        return source_list(rules.topics[topic].sources)
    if topic.startswith(NOT_COVERED_PREFIX) and topic[len(NOT_COVERED_PREFIX) :] in rules.not_covered:
        return source_list(rules.not_covered[topic[len(NOT_COVERED_PREFIX) :]].read)
    if topic.startswith(APPLYING_PREFIX) and topic[len(APPLYING_PREFIX) :] in rules.applying:
        return source_list(rules.applying[topic[len(APPLYING_PREFIX) :]].sources)
    programmes = (
        [programme] if programme is not None and programme in rules.programmes else list(rules.programmes)
    )
    return source_list(rules.programmes[p][1] for p in programmes)


# How A-levels, or what is taken in their place, are said when not yet held.
_SCHOOL_TIMING = {IN_PROGRESS: ", still being taken", PLANNED: ", planned"}


def describe_facts(rules: EntryRules, facts: Mapping[str, Any]) -> str:
    """What the assistant understood from a message, in a few words ("a 2:2 in physics;
    no higher degree"). Subjects it does not know are not repeated back."""
    parts: List[str] = []

    def subject(name: Any) -> Optional[str]:
        return str(name) if rules.is_known_subject(name) else None

    degree_class = facts.get(DEGREE_CLASS)
    degree_type = facts.get(DEGREE_TYPE)
    if degree_class == NONE_HELD:
        parts.append("no degree")
    elif degree_class or degree_type or facts.get(DEGREE_SUBJECT):
        if degree_class:
            words = rules.class_label(degree_class)
        elif degree_type and rules.qualification_group(degree_type) in (NON_HONOURS, MEDICAL):
            words = rules.qualification_label(degree_type)
        else:
            words = "a degree"
        if subject(facts.get(DEGREE_SUBJECT)) and degree_type != "medical_degree":
            words += f" in {facts[DEGREE_SUBJECT]}"
        status = facts.get(DEGREE_STATUS)
        if status == PREDICTED:
            words += " (predicted)"
        elif status == IN_PROGRESS:
            words += " (still studying)"
        parts.append(words)
    if facts.get(DEGREE_OVERSEAS) is True:
        parts.append("a degree from outside the UK")
    higher = facts.get(HIGHER_DEGREE)
    if higher == NONE_HELD:
        parts.append("no higher degree")
    elif higher and rules.qualification_group(higher):
        words = rules.qualification_label(higher)
        if subject(facts.get(HIGHER_DEGREE_SUBJECT)):
            words += f" in {facts[HIGHER_DEGREE_SUBJECT]}"
        words += {
            IN_PROGRESS: ", still to be awarded",
            PLANNED: ", planned",
            ABANDONED: ", not finished",
        }.get(str(facts.get(HIGHER_DEGREE_STATUS)), "")
        if facts.get(HIGHER_DEGREE_STATUS) == IN_PROGRESS and facts.get(HIGHER_DEGREE_ENDS):
            words += f" (ending {facts[HIGHER_DEGREE_ENDS]})"
        parts.append(words)
    elif subject(facts.get(HIGHER_DEGREE_SUBJECT)):
        parts.append(f"a higher degree in {facts[HIGHER_DEGREE_SUBJECT]}")
    gcses = {
        MET: "a good range of GCSEs at A to C",
        NOT_MET: "no good range of GCSEs at A to C",
        UNSURE: "not sure your GCSEs are a good range at A to C",
        EQUIVALENT: "qualifications in place of GCSEs",
    }.get(str(facts.get(GCSE_GRADES)))
    gcse_timing = {PREDICTED: "predicted", IN_PROGRESS: "still being taken", PLANNED: "still to take"}.get(
        str(facts.get(GCSE_STATUS))
    )
    if gcses and gcse_timing:
        parts.append(f"GCSEs {gcse_timing} ({gcses.replace(' of GCSEs', '')})")
    elif gcse_timing:
        parts.append(f"GCSEs {gcse_timing}")
    elif gcses:
        parts.append(gcses)
    count = facts.get(A_LEVEL_COUNT)
    subjects = [s for s in facts.get(A_LEVEL_SUBJECTS) or [] if subject(s)]
    a_level_words = ""
    if count is not None:
        a_level_words = {0: "no A-levels", 1: "one A-level"}.get(count, f"{_number(count)} A-levels")
        if subjects and count:
            a_level_words += " (" + ", ".join(subjects) + ")"
    elif subjects:
        a_level_words = "A-levels in " + ", ".join(subjects)
    grades = str(facts.get(A_LEVEL_GRADES) or "")
    if grades and re.fullmatch(r"(A\*|[A-E])+", grades):
        a_level_words = (a_level_words or "A-levels") + f" at {grades}"
    if a_level_words and count != 0:
        a_level_words += _SCHOOL_TIMING.get(str(facts.get(A_LEVEL_STATUS)), "")
    if a_level_words:
        parts.append(a_level_words)
    # With no A-levels of their own, the status is the alternative's ("doing a BTEC").
    alternative_timing = _SCHOOL_TIMING.get(str(facts.get(A_LEVEL_STATUS)), "") if not count else ""
    for alternative in facts.get(A_LEVEL_ALTERNATIVES) or []:
        if rules.qualification_group(alternative):
            parts.append(rules.qualification_label(alternative) + alternative_timing)
    science = {
        YES: "a science A-level",
        NO: "no science A-level",
        UNSURE: "not sure an A-level counts as a science",
    }.get(str(facts.get(SCIENCE_A_LEVEL)))
    if science and not subjects:
        parts.append(science)
    if not parts and facts.get(PROGRAMME) in rules.programmes:
        parts.append(f"the {facts[PROGRAMME]}")
    return "; ".join(parts)


def _number(count: int) -> str:
    words = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
    return words.get(count, str(count))


def not_covered_topic(rules: EntryRules, text: str) -> str:
    """The key of the not-covered topic a question is about, by its keywords; the
    general one when none match."""

    value = " " + re.sub(r"[^\w'+ -]", " ", (text or "").lower()) + " "
    best, hits = NOT_COVERED_GENERAL, 0
    for key, topic in rules.not_covered.items():
        found = sum(1 for pattern in _keyword_patterns(topic.keywords) if pattern.search(value))
        if found > hits:
            best, hits = key, found
    return best


@lru_cache(maxsize=64)
def _keyword_patterns(keywords: Tuple[str, ...]) -> Tuple["re.Pattern[str]", ...]:
    """One compiled pattern per keyword, compiled once (re's own cache is too small to
    keep every keyword of the rules file between messages)."""
    return tuple(re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])") for word in keywords)


def not_covered_answer(rules: EntryRules, key: str, question: str = "") -> Dict[str, str]:
    """Template values for a "my sources don't cover that" answer; the general one names
    the question as asked."""
    topic = rules.not_covered[key]
    return {
        "answer": topic.text.replace("{question}", plain_words(question)),
        "sources": source_list(topic.read),
    }


# Characters that could become markup on a channel (Slack's <!here>, *bold*, links).
_MARKUP_CHARACTERS = re.compile(r"[<>*_~`|\\@#\[\]{}]")


def plain_words(text: str, limit: int = 90) -> str:
    """A person's words, safe to say back: markup characters removed, cut at a word."""
    words = " ".join(_MARKUP_CHARACTERS.sub(" ", text or "").split()).rstrip("?!. ")
    if len(words) <= limit:
        return words
    return words[:limit].rsplit(" ", 1)[0] + "..."


def concept_reply(rules: EntryRules, name: str, text: str) -> Dict[str, str]:
    """Template values for one thing named: `applying:<key>` or `not_covered:<key>`."""
    if name.startswith(APPLYING_PREFIX):
        answer = rules.applying[name[len(APPLYING_PREFIX) :]]
        return {"answer": answer.text, "sources": source_list(answer.sources)}
    return not_covered_answer(rules, name[len(NOT_COVERED_PREFIX) :], text)


def merged_by_sources(values: List[Dict[str, str]]) -> List[Dict[str, str]]:
    """Answers to show, with those citing the same pages as one answer ahead of them
    joined into it, so that one reply never lists the same pages twice."""
    merged: List[Dict[str, str]] = []
    for value in values:
        same = next((m for m in merged if m.get("sources") == value.get("sources")), None)
        if same is not None:
            same["answer"] = same["answer"] + "\n\n" + value["answer"]
        else:
            merged.append(dict(value))
    return merged
