"""Turn the rules file and the engine's assessments into the values the
domain's response templates show. Pure Python, no Rasa import."""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Mapping, Optional

from actions.engine import Assessment
from actions.rules_file import EntryRules, Source


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


def verdict_values(rules: EntryRules, assessment: Assessment) -> Dict[str, str]:
    """Template values for a verdict message: the programme, why, next steps, links."""
    programme = assessment.programme or ""
    name, programme_source = rules.programmes[programme]
    links: List[Source] = [f.source for f in assessment.findings]
    for finding in assessment.findings:
        links.extend(rules.rules[finding.rule_id].links)
    links.append(rules.next_steps[programme][assessment.verdict or ""][1])
    links.append(programme_source)
    return {
        "programme_name": name,
        "reasons": bullet_list(assessment.reasons),
        "next_steps": bullet_list(assessment.next_steps),
        "sources": source_list(links),
    }


def assessment_payload(rules: EntryRules, assessment: Assessment) -> Dict[str, object]:
    """The `custom` payload a website or test reads: verdict, reasons, sources."""
    payload = assessment.as_payload()
    payload["sources"] = verdict_values(rules, assessment)["sources"].split("\n")
    return {"assessment": payload}


# Below this confidence the classifier's guesses are not worth offering.
CLARIFY_MIN_CONFIDENCE = 0.08
CHECK_INTENT = "check_eligibility"


def clarifying_buttons(
    rules: EntryRules, ranking: Iterable[Mapping[str, Any]], domain: Mapping[str, Any]
) -> List[Dict[str, str]]:
    """Buttons for the two likeliest topics and 'something else', or [] if no guess."""
    titles = {intent: topic.title for intent, topic in rules.topics.items()}
    for button in domain.get("responses", {}).get("utter_help", [{}])[0].get("buttons", []):
        if button["payload"] == f"/{CHECK_INTENT}":
            titles[CHECK_INTENT] = button["title"]
    likely = [
        r["name"] for r in ranking
        if r.get("name") in titles and r.get("confidence", 0) >= CLARIFY_MIN_CONFIDENCE
    ][:2]
    if len(likely) < 2:
        return []
    buttons = [{"title": titles[name], "payload": f"/{name}"} for name in likely]
    buttons.append({"title": "Something else", "payload": "/help"})
    return buttons


# A follow-up names one thing; this is the topic that answers it.
_FOLLOW_UP_TOPICS = {
    ("programme", "PTP"): "ask_ptp_requirements",
    ("programme", "STP"): "ask_stp_requirements",
    ("degree_class", "lower_second"): "ask_higher_degree_route",
    ("degree_class", "third"): "ask_stp_requirements",
    ("degree_class", "first"): "ask_stp_requirements",
    ("degree_class", "upper_second"): "ask_stp_requirements",
}
_GROUP_TOPICS = {
    "higher_degree": "ask_higher_degree_definition",
    "not_higher_degree": "ask_higher_degree_definition",
    "medical": "ask_medical_degree",
}


# A topic the classifier ranks this high under a follow-up is the one named
# ("and what about leadership?" ranks ask_leadership 0.06); generic follow-ups
# ("what about that?") rank every topic at 0.02 or less.
FOLLOW_UP_TOPIC_MIN_CONFIDENCE = 0.05


def topic_for_follow_up(
    rules: EntryRules,
    facts: Mapping[str, Any],
    last_topic: Optional[str],
    ranking: Iterable[Mapping[str, Any]] = (),
) -> Optional[str]:
    """The topic a follow-up like 'what about the PTP?' asks about: from the fact it
    names, else from a topic it names, else (for a fact with no topic of its own, such
    as a number of A-levels) the last topic again. None when it names nothing known."""
    if facts.get("higher_degree"):
        return _GROUP_TOPICS.get(rules.qualification_group(facts["higher_degree"]) or "")
    if facts.get("degree_subject") == "medicine":
        return "ask_medical_degree"
    for key in ("programme", "degree_class"):
        if key in facts:
            return _FOLLOW_UP_TOPICS.get((key, facts[key]))
    for ranked in ranking:
        if ranked.get("name") in rules.topics and (
            ranked.get("confidence", 0) >= FOLLOW_UP_TOPIC_MIN_CONFIDENCE
        ):
            return str(ranked["name"])
    return last_topic if facts and last_topic in rules.topics else None


# Feedback is asked once per topic; a finished eligibility check counts as one topic.
CHECK_TOPIC = "eligibility_check"
HELPFUL_VALUES = {"yes": True, "no": False}


def feedback_buttons(topic: str) -> List[Dict[str, str]]:
    """Thumbs up and down; each payload names the topic, so a late click still counts."""

    def payload(helpful: str) -> str:
        entities = {"helpful": helpful, "feedback_topic": topic}
        return "/feedback" + json.dumps(entities, separators=(",", ":"))

    return [
        {"title": "\N{THUMBS UP SIGN} Yes", "payload": payload("yes")},
        {"title": "\N{THUMBS DOWN SIGN} No", "payload": payload("no")},
    ]


def is_feedback_topic(rules: EntryRules, topic: Any) -> bool:
    return topic == CHECK_TOPIC or topic in rules.topics


def topic_title(rules: EntryRules, topic: str) -> str:
    """A topic's title for people (reports), or the key itself if unknown."""
    if topic == CHECK_TOPIC:
        return "Eligibility check"
    known = rules.topics.get(topic)
    return known.title if known else topic


def feedback_sources(rules: EntryRules, topic: str, programme: Optional[str] = None) -> str:
    """Where to read more after an answer did not help."""
    if topic in rules.topics:
        return source_list(rules.topics[topic].sources)
    programmes = [programme] if programme in rules.programmes else list(rules.programmes)
    return source_list(rules.programmes[p][1] for p in programmes)
