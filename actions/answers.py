"""Turn the rules file and the engine's assessments into the values the
domain's response templates show. Pure Python, no Rasa import."""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional

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
