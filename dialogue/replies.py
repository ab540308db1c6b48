"""What to say for a question that names things: the applying answers and "my sources don't
cover ..." for each thing a message names, and what an answer leaves out of the question,
said first. Built from the domain's answers (careers.answers) and the open-world reading of
the question (dialogue.questions). Pure Python, no Rasa import.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from careers.answers import concept_reply, not_covered_answer, plain_words
from careers.rules_file import NOT_COVERED_GENERAL, EntryRules
from careers.vocabulary import APPLYING_PREFIX, NOT_COVERED_PREFIX
from dialogue.questions import concepts_asked, parts, unanswered


def partly_covered(
    rules: EntryRules, answer: str, values: Dict[str, str], question: str
) -> Optional[Dict[str, str]]:
    """`values` of `answer` (a topic, or `applying:<key>`) with what `question` asks that
    it does not speak to (dialogue.questions.unanswered) named first: "My sources may not
    answer all of that: they say nothing about "held". What they say on ..."; None when
    the answer speaks to all of it."""
    missing = unanswered(rules, answer, question)
    if not missing:
        return None
    if answer.startswith(APPLYING_PREFIX):
        title = rules.applying[answer[len(APPLYING_PREFIX) :]].title
    else:
        title = rules.topics[answer].title
    quoted = [f"\u201c{plain_words(word, 30)}\u201d" for word in missing[:MAX_MISSING_NAMED]]
    named = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    lead = rules.not_covered[NOT_COVERED_GENERAL].partly.replace("{missing}", named).replace("{title}", title)
    return {**values, "answer": lead + "\n\n" + values["answer"]}


# At most this many of a question's words are named as not covered.
MAX_MISSING_NAMED = 4

MAX_CONCEPT_REPLIES = 3


def concept_replies(rules: EntryRules, text: str) -> List[Tuple[str, Dict[str, str]]]:
    """For a question no topic answers: (the `last_answer` value, template values) for
    each thing it names (dialogue.questions.concepts_asked), the applying answer or "my
    sources don't cover ..."; the general "not covered" naming the question when it
    names nothing known. An applying answer that does not speak to every word of its
    question is said with those words named (partly_covered), after a general "not
    covered" entry with no template values of its own: said, inside the next reply."""
    general = NOT_COVERED_PREFIX + NOT_COVERED_GENERAL
    asked: Dict[str, str] = {}  # what is named -> the part of the message naming it
    for part in parts(text):
        named = concepts_asked(rules, part)
        # In one question, one answer from the applicant pages (the one named first, by
        # the longest words); every part the sources don't cover is said.
        answered = [n for n in named if n.startswith(APPLYING_PREFIX)][:1]
        for name in named:
            if name not in asked and (name in answered or not name.startswith(APPLYING_PREFIX)):
                asked[name] = part
    replies: List[Tuple[str, Dict[str, str]]] = []
    for name, part in list(asked.items())[:MAX_CONCEPT_REPLIES]:
        values = concept_reply(rules, name, text)
        # "Where and when will the interviews be held?": the selection stages, but not where.
        partly = partly_covered(rules, name, values, part) if name.startswith(APPLYING_PREFIX) else None
        if partly is not None:
            replies.append((general, {}))
            values = partly
        replies.append((name, values))
    if not asked:
        replies.append((general, not_covered_answer(rules, NOT_COVERED_GENERAL, text)))
    return replies
