"""Counting what happened in the conversations, from their stored events.

Test traffic (conversations a test, a benchmark or a script made: see
channels.ownership.is_test_traffic) is left out unless asked for, and always counted.
Everything shown to the careers team is in plain words: topics and intents by their
titles (`plain_name`), the check's questions as the assistant asks them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Pattern, Tuple

import yaml

from careers.answers import topic_title
from careers.rules_file import NOT_COVERED_GENERAL, EntryRules
from careers.vocabulary import (
    ASKABLE_FACTS,
    ASSESSMENT_SLOT,
    FACT_TITLES,
    FALLBACK_INTENT,
    FEEDBACK_SLOT,
    FORM,
    INTENT_TITLES,
    LAST_ANSWER_SLOT,
    NOT_COVERED_PREFIX,
    REQUESTED_SLOT,
    VERDICTS,
)
from channels.ownership import REST_API, SLACK, TEAMS, WEB, is_test_traffic

DOMAIN = Path(__file__).resolve().parents[3] / "domain.yml"

# Where conversations came from: their ids' namespace (channels/ownership.py), in
# the order the report lists them. Ids of no channel (stored before ids were
# namespaced, or by `rasa shell`) count as "other".
CHANNELS = {WEB: "Web widget", SLACK: "Slack", TEAMS: "Microsoft Teams", REST_API: "REST (other servers)"}
OTHER_CHANNEL = "Other"

# Replies that tell the person their message was not understood.
NOT_UNDERSTOOD_REPLIES = {"utter_not_understood", "utter_clarify"}

# A check that stopped before the assistant asked anything (all facts given, then none read).
BEFORE_THE_FIRST_QUESTION = "Before the first question"


def channel_of(sender_id: str) -> str:
    return CHANNELS.get(sender_id.split(":", 1)[0], OTHER_CHANNEL) if ":" in sender_id else OTHER_CHANNEL


def plain_name(rules: EntryRules, name: str) -> str:
    """What people call an intent or an answer topic: its title in the rules file or in
    the vocabulary's INTENT_TITLES; failing both (an intent of an older model), its name
    in words. Never the internal name itself."""
    if not name:
        return "none"
    title = topic_title(rules, name)
    if title != name:
        return title
    if name in INTENT_TITLES:
        return INTENT_TITLES[name]
    words = name.rsplit(":", 1)[-1]
    words = words[len("ask_") :] if words.startswith("ask_") else words
    return words.replace("_", " ").strip().capitalize() or "none"


def normalised(text: str) -> str:
    """A message as counted: the same words in any case and spacing, with or without a
    closing question mark or full stop, count as one."""
    return " ".join(text.casefold().split()).rstrip("?.! ")[:300]


def check_questions(domain: Path = DOMAIN) -> Dict[str, str]:
    """Each question of the check as the assistant asks it (the first sentence of the
    form's `utter_ask_` response in domain.yml, the wording's one home), by its fact."""
    try:
        responses = (yaml.safe_load(domain.read_text(encoding="utf-8")) or {}).get("responses") or {}
    except (OSError, yaml.YAMLError):
        return {}  # the report still names each question by its title
    questions = {}
    for fact in ASKABLE_FACTS:
        variants = [v for v in responses.get(f"utter_ask_{FORM}_{fact}") or [] if isinstance(v, dict)]
        # The plain variant, to the person themselves (others have a `condition`).
        plain = [v for v in variants if not v.get("condition")] or variants or [{}]
        text = " ".join(str(plain[0].get("text") or "").split())
        if text:
            questions[fact] = text.split("?", 1)[0] + "?" if "?" in text else text
    return questions


@dataclass
class Unanswered:
    text: str
    count: int
    best_guess: str  # the likeliest intent's plain name
    confidence: float


@dataclass
class StoppedCheck:
    """Unfinished checks that were waiting on the same question."""

    title: str  # the fact asked for, in words ("Degree class")
    question: str  # the question as the assistant asks it ("" if not known)
    count: int


@dataclass
class Uncovered:
    """A question answered "my sources don't cover ...", and how often it was asked."""

    text: str  # as first asked
    count: int
    # What the answers named as not covered, where they named it: a not-covered
    # topic's title ("Pay"), or the words a partial answer quoted ("“exempt”").
    not_covered: List[str] = field(default_factory=list)


@dataclass
class Summary:
    since: dt.date
    until: dt.date
    conversations: int = 0
    # Conversations per channel, in CHANNELS' order; channels with none left out.
    channels: List[Tuple[str, int]] = field(default_factory=list)
    # Conversations of test traffic: left out of every figure, or counted in them.
    test_conversations: int = 0
    test_traffic_included: bool = False
    sessions: int = 0
    messages: int = 0
    button_clicks: int = 0
    messages_per_day: Dict[dt.date, int] = field(default_factory=dict)
    topics: List[Tuple[str, int]] = field(default_factory=list)
    checks_started: int = 0
    checks_completed: int = 0
    verdicts: Dict[Tuple[str, str], int] = field(default_factory=dict)
    stopped_checks: List[StoppedCheck] = field(default_factory=list)
    unanswered: List[Unanswered] = field(default_factory=list)
    uncovered: List[Uncovered] = field(default_factory=list)
    uncovered_total: int = 0  # different questions, before the list was cut to --top
    feedback: List[Tuple[str, int, int]] = field(default_factory=list)  # topic, up, down

    @property
    def checks_stopped(self) -> int:
        return sum(s.count for s in self.stopped_checks)


def _intent(event: Dict[str, Any]) -> Tuple[str, float]:
    intent = (event.get("parse_data") or {}).get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def _best_guess(event: Dict[str, Any]) -> Tuple[str, float]:
    for ranked in (event.get("parse_data") or {}).get("intent_ranking") or []:
        if ranked.get("name") != FALLBACK_INTENT:
            return str(ranked.get("name")), float(ranked.get("confidence") or 0.0)
    return "", 0.0


def _question_title(fact: str) -> str:
    if not fact:
        return BEFORE_THE_FIRST_QUESTION
    return FACT_TITLES.get(fact) or fact.replace("_", " ").capitalize()


class _Checks:
    """Eligibility checks: started, completed, and the question each unfinished one
    was waiting on.

    A check starts when the form starts in a conversation with no unfinished check,
    and a verdict completes it. Leaving the form without a verdict ("stop", the way out
    after answers it could not read, a new session) does not end the check: if the form
    starts again in that conversation, the person came back to it. A check with no
    verdict by the conversation's last event (in the period read) stopped at the last
    question it asked (`requested_slot`)."""

    def __init__(self) -> None:
        self.started = 0
        self.completed = 0
        self.verdicts: Counter = Counter()
        self.active: Dict[str, bool] = defaultdict(bool)  # the form is running
        self.waiting_on: Dict[str, str] = {}  # unfinished check: sender -> fact asked last

    def loop(self, sender: str, name: Any) -> None:
        if name == FORM and sender not in self.waiting_on:
            self.started += 1
            self.waiting_on[sender] = ""
        self.active[sender] = name == FORM

    def asked(self, sender: str, fact: Any) -> None:
        if fact and sender in self.waiting_on:
            self.waiting_on[sender] = str(fact)

    def verdict(self, sender: str, assessment: Dict[str, Any]) -> None:
        self.completed += 1
        self.verdicts[(str(assessment.get("programme")), str(assessment["verdict"]))] += 1
        self.waiting_on.pop(sender, None)

    def stopped(self, questions: Mapping[str, str]) -> List[StoppedCheck]:
        counts = Counter(self.waiting_on.values())
        order = {fact: n for n, fact in enumerate(ASKABLE_FACTS)}
        return [
            StoppedCheck(_question_title(fact), questions.get(fact, ""), n)
            for fact, n in sorted(
                counts.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)), kv[0])
            )
        ]


def _partly_pattern(rules: EntryRules) -> Optional[Pattern[str]]:
    """The opening of an answer that does not speak to every word of the question, as
    the rules file words it, catching the words it names."""
    general = rules.not_covered.get(NOT_COVERED_GENERAL)
    template = general.partly if general else ""
    if "{missing}" not in template:
        return None
    before, after = template.split("{missing}", 1)

    def literal(piece: str) -> str:
        return ".*?".join(re.escape(part) for part in piece.split("{title}"))

    return re.compile(literal(before) + "(?P<missing>.+?)" + literal(after), re.S)


class _NotCovered:
    """The people's questions the assistant answered with "my sources don't cover ...":
    a message counts once however many of its parts were not covered, with what the
    answers named (a not-covered topic's title, or the words a partial answer quoted)."""

    def __init__(self, rules: EntryRules) -> None:
        self.rules = rules
        self.partly = _partly_pattern(rules)
        self.latest: Dict[str, Optional[str]] = {}  # sender -> latest typed message
        self.counted: Dict[str, str] = {}  # sender -> its latest message's key, once counted
        self.said: Dict[str, List[str]] = defaultdict(list)  # replies since then
        self.questions: Dict[str, Uncovered] = {}

    def message(self, sender: str, text: Optional[str]) -> None:
        """A message from the person: typed text, or None for a button click."""
        self.latest[sender] = text
        self.counted.pop(sender, None)
        self.said.pop(sender, None)

    def reply(self, sender: str, text: str) -> None:
        self.said[sender].append(text)

    def answered(self, sender: str, value: str) -> None:
        """`last_answer` set: a not-covered answer counts the question it answered."""
        text = self.latest.get(sender)
        if not value.startswith(NOT_COVERED_PREFIX) or not text:
            return
        key = normalised(text)
        entry = self.questions.setdefault(key, Uncovered(" ".join(text.split())[:300], 0))
        if self.counted.get(sender) != key:
            entry.count += 1
            self.counted[sender] = key
        for part in self._named(sender, value[len(NOT_COVERED_PREFIX) :]):
            if part not in entry.not_covered:
                entry.not_covered.append(part)

    def _named(self, sender: str, topic: str) -> List[str]:
        if topic != NOT_COVERED_GENERAL and topic in self.rules.not_covered:
            return [self.rules.not_covered[topic].title]
        if self.partly is None:
            return []
        found = (self.partly.search(said) for said in self.said.get(sender, []))
        return [m.group("missing").strip() for m in found if m]

    def most_asked(self) -> List[Uncovered]:
        return sorted(self.questions.values(), key=lambda q: -q.count)  # stable: first asked first


class _Tally:
    """The counts, as the events go by in time order."""

    def __init__(self, rules: EntryRules, low_confidence: float, include_test_traffic: bool) -> None:
        self.rules = rules
        self.low_confidence = low_confidence
        self.include_test_traffic = include_test_traffic
        self.senders: set = set()
        self.test_senders: set = set()
        self.sessions = self.messages = self.button_clicks = 0
        self.per_day: Counter = Counter()
        self.topics: Counter = Counter()
        self.unanswered: Dict[str, List[Any]] = {}
        self.feedback: Dict[Tuple[str, str], bool] = {}
        self.checks = _Checks()
        self.not_covered = _NotCovered(rules)
        # Each sender's latest typed message, until the assistant replies to it: if the
        # reply says it did not understand, the message counts as unanswered too.
        self.waiting: Dict[str, Optional[List[Any]]] = {}

    def add(self, event: Dict[str, Any]) -> None:
        sender, kind = event["sender_id"], event.get("event")
        if is_test_traffic(sender):
            if kind == "user":
                self.test_senders.add(sender)
            if not self.include_test_traffic:
                return
        if kind == "user":
            self._message(sender, event)
        elif kind == "bot":
            self._reply(sender, event)
        elif kind == "action" and event.get("name") == "action_session_start":
            self.sessions += 1
            self.checks.active[sender] = False  # a new session starts with no form running
        elif kind == "active_loop":
            self.checks.loop(sender, event.get("name"))
        elif kind == "slot":
            self._slot(sender, event.get("name"), event.get("value"))

    def _count_unanswered(self, key: str, entry: List[Any]) -> None:
        self.unanswered.setdefault(key, [*entry[:1], 0, *entry[2:]])[1] += 1

    def _message(self, sender: str, event: Dict[str, Any]) -> None:
        text = str(event.get("text") or "")
        self.senders.add(sender)
        self.messages += 1
        self.per_day[dt.datetime.fromtimestamp(event.get("timestamp") or 0, dt.timezone.utc).date()] += 1
        typed = not text.startswith("/") and bool(text.strip())
        self.not_covered.message(sender, text if typed else None)
        if text.startswith("/"):
            self.button_clicks += 1
        if not typed:
            return  # a click, or an empty message: not a question
        intent, confidence = _intent(event)
        # In a check, the form reads short answers ("not sure") whatever the intent
        # scores, so only messages that fell back count there.
        unsure = confidence < self.low_confidence and not self.checks.active[sender]
        guess, guess_confidence = _best_guess(event) if intent == FALLBACK_INTENT else (intent, confidence)
        key = normalised(text)
        entry = [text[:300], 0, plain_name(self.rules, guess), guess_confidence]
        if intent == FALLBACK_INTENT or unsure:
            self._count_unanswered(key, entry)
            self.waiting[sender] = None
        else:
            self.waiting[sender] = [key, entry]

    def _reply(self, sender: str, event: Dict[str, Any]) -> None:
        self.not_covered.reply(sender, str(event.get("text") or ""))
        pending = self.waiting.get(sender)
        if pending and (event.get("metadata") or {}).get("utter_action") in NOT_UNDERSTOOD_REPLIES:
            self._count_unanswered(*pending)
            self.waiting[sender] = None

    def _slot(self, sender: str, name: Any, value: Any) -> None:
        if name == LAST_ANSWER_SLOT and isinstance(value, str):
            if value in self.rules.topics or value.startswith(NOT_COVERED_PREFIX):
                self.topics[value] += 1
            self.not_covered.answered(sender, value)
        elif name == REQUESTED_SLOT:
            self.checks.asked(sender, value)
        elif name == ASSESSMENT_SLOT and isinstance(value, dict) and value.get("verdict"):
            self.checks.verdict(sender, value)
        elif name == FEEDBACK_SLOT and isinstance(value, dict):
            self.feedback[(sender, str(value.get("topic")))] = bool(value.get("helpful"))

    def summary(self, since: dt.date, until: dt.date, top: int, questions: Mapping[str, str]) -> Summary:
        rules = self.rules
        summary = Summary(
            since,
            until,
            conversations=len(self.senders),
            test_conversations=len(self.test_senders),
            test_traffic_included=self.include_test_traffic,
            sessions=self.sessions,
            messages=self.messages,
            button_clicks=self.button_clicks,
            checks_started=self.checks.started,
            checks_completed=self.checks.completed,
        )
        per_channel = Counter(channel_of(sender) for sender in self.senders)
        order = [*CHANNELS.values(), OTHER_CHANNEL]
        summary.channels = [(name, per_channel[name]) for name in order if per_channel[name]]
        days = [since + dt.timedelta(days=i) for i in range((until - since).days + 1)]
        summary.messages_per_day = {day: self.per_day[day] for day in days}
        summary.topics = [(plain_name(rules, t), n) for t, n in self.topics.most_common(top)]
        summary.verdicts = dict(
            sorted(
                self.checks.verdicts.items(),
                key=lambda kv: (kv[0][0], VERDICTS.index(kv[0][1]) if kv[0][1] in VERDICTS else 9),
            )
        )
        summary.stopped_checks = self.checks.stopped(questions)
        summary.unanswered = sorted(
            (Unanswered(*entry) for entry in self.unanswered.values()),
            key=lambda u: (-u.count, u.confidence),
        )[: top * 2]
        uncovered = self.not_covered.most_asked()
        summary.uncovered, summary.uncovered_total = uncovered[: top * 2], len(uncovered)
        votes: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
        for (_, topic), helpful in self.feedback.items():
            votes[topic][0 if helpful else 1] += 1
        summary.feedback = sorted(
            ((plain_name(rules, t), up, down) for t, (up, down) in votes.items()),
            key=lambda row: (-row[2], row[1], row[0]),
        )
        return summary


def summarise(
    events: Iterable[Dict[str, Any]],
    rules: EntryRules,
    since: dt.date,
    until: dt.date,
    low_confidence: float = 0.5,
    top: int = 10,
    include_test_traffic: bool = False,
    questions: Optional[Mapping[str, str]] = None,
) -> Summary:
    """Counts what happened in the conversations, from their stored events (oldest
    first); test traffic only counted as such unless `include_test_traffic`.
    `questions`: the check's questions by fact (default: from domain.yml)."""
    tally = _Tally(rules, low_confidence, include_test_traffic)
    for event in events:
        tally.add(event)
    return tally.summary(since, until, top, check_questions() if questions is None else questions)
