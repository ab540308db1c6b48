"""Counting what happened in the conversations, from their stored events."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

from careers.answers import topic_title
from careers.rules_file import EntryRules
from careers.vocabulary import (
    ASSESSMENT_SLOT,
    FALLBACK_INTENT,
    FORM,
    LAST_ANSWER_SLOT,
    NOT_COVERED_PREFIX,
    VERDICTS,
)
from channels.ownership import REST_API, SLACK, TEAMS, WEB

# Where conversations came from: their ids' namespace (channels/ownership.py), in
# the order the report lists them. Ids of no channel (stored before ids were
# namespaced, or by `rasa shell`) count as "other".
CHANNELS = {WEB: "Web widget", SLACK: "Slack", TEAMS: "Microsoft Teams", REST_API: "REST (other servers)"}
OTHER_CHANNEL = "Other"


def channel_of(sender_id: str) -> str:
    return CHANNELS.get(sender_id.split(":", 1)[0], OTHER_CHANNEL) if ":" in sender_id else OTHER_CHANNEL


# Replies that tell the person their message was not understood.
NOT_UNDERSTOOD_REPLIES = {"utter_not_understood", "utter_clarify"}


@dataclass
class Unanswered:
    text: str
    count: int
    best_guess: str
    confidence: float


@dataclass
class Summary:
    since: dt.date
    until: dt.date
    conversations: int = 0
    # Conversations per channel, in CHANNELS' order; channels with none left out.
    channels: List[Tuple[str, int]] = field(default_factory=list)
    sessions: int = 0
    messages: int = 0
    button_clicks: int = 0
    messages_per_day: Dict[dt.date, int] = field(default_factory=dict)
    topics: List[Tuple[str, int]] = field(default_factory=list)
    checks_started: int = 0
    checks_completed: int = 0
    verdicts: Dict[Tuple[str, str], int] = field(default_factory=dict)
    unanswered: List[Unanswered] = field(default_factory=list)
    feedback: List[Tuple[str, int, int]] = field(default_factory=list)  # topic, up, down


def _intent(event: Dict[str, Any]) -> Tuple[str, float]:
    intent = (event.get("parse_data") or {}).get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def _best_guess(event: Dict[str, Any]) -> Tuple[str, float]:
    for ranked in (event.get("parse_data") or {}).get("intent_ranking") or []:
        if ranked.get("name") != FALLBACK_INTENT:
            return str(ranked.get("name")), float(ranked.get("confidence") or 0.0)
    return "", 0.0


def summarise(
    events: Iterable[Dict[str, Any]],
    rules: EntryRules,
    since: dt.date,
    until: dt.date,
    low_confidence: float = 0.5,
    top: int = 10,
) -> Summary:
    """Counts what happened in the conversations, from their stored events."""
    summary = Summary(since, until)
    senders = set()
    per_day: Counter = Counter()
    topics: Counter = Counter()
    verdicts: Counter = Counter()
    unanswered: Dict[str, List[Any]] = {}
    in_check: Dict[str, bool] = defaultdict(bool)
    feedback: Dict[Tuple[str, str], bool] = {}
    # Each sender's latest typed message, until the assistant replies to it: if the
    # reply says it did not understand, the message counts as unanswered too.
    waiting: Dict[str, Optional[List[Any]]] = {}

    def count_unanswered(key: str, entry: List[Any]) -> None:
        unanswered.setdefault(key, [*entry[:1], 0, *entry[2:]])[1] += 1

    for event in events:
        sender, kind = event["sender_id"], event.get("event")
        if kind == "user":
            text = str(event.get("text") or "")
            senders.add(sender)
            summary.messages += 1
            per_day[dt.datetime.fromtimestamp(event.get("timestamp") or 0, dt.timezone.utc).date()] += 1
            if text.startswith("/"):
                summary.button_clicks += 1
                continue
            if not text.strip():
                continue  # an empty message is not a question
            intent, confidence = _intent(event)
            # In a check, the form reads short answers ("not sure") whatever the intent
            # scores, so only messages that fell back count there.
            unsure = confidence < low_confidence and not in_check[sender]
            key = " ".join(text.casefold().split())[:300]
            guess, guess_confidence = (
                _best_guess(event) if intent == FALLBACK_INTENT else (intent, confidence)
            )
            entry = [text[:300], 0, guess, guess_confidence]
            if intent == FALLBACK_INTENT or unsure:
                count_unanswered(key, entry)
                waiting[sender] = None
            else:
                waiting[sender] = [key, entry]
        elif kind == "bot" and (pending := waiting.get(sender)):
            if (event.get("metadata") or {}).get("utter_action") in NOT_UNDERSTOOD_REPLIES:
                count_unanswered(*pending)
                waiting[sender] = None
        elif kind == "action" and event.get("name") == "action_session_start":
            summary.sessions += 1
        elif kind == "active_loop":
            starting = event.get("name") == FORM
            if starting and not in_check[sender]:
                summary.checks_started += 1
            in_check[sender] = starting
        elif kind == "slot":
            name, value = event.get("name"), event.get("value")
            if name == LAST_ANSWER_SLOT and (
                value in rules.topics or str(value).startswith(NOT_COVERED_PREFIX)
            ):
                topics[value] += 1
            elif name == ASSESSMENT_SLOT and isinstance(value, dict) and value.get("verdict"):
                summary.checks_completed += 1
                verdicts[(str(value.get("programme")), str(value["verdict"]))] += 1
            elif name == "feedback" and isinstance(value, dict):
                feedback[(sender, str(value.get("topic")))] = bool(value.get("helpful"))
    summary.conversations = len(senders)
    per_channel = Counter(channel_of(sender) for sender in senders)
    order = [*CHANNELS.values(), OTHER_CHANNEL]
    summary.channels = [(name, per_channel[name]) for name in order if per_channel[name]]
    days = (until - since).days + 1
    summary.messages_per_day = {
        since + dt.timedelta(days=i): per_day[since + dt.timedelta(days=i)] for i in range(days)
    }
    summary.topics = [(topic_title(rules, t), n) for t, n in topics.most_common(top)]
    summary.verdicts = dict(
        sorted(
            verdicts.items(),
            key=lambda kv: (kv[0][0], VERDICTS.index(kv[0][1]) if kv[0][1] in VERDICTS else 9),
        )
    )
    summary.unanswered = sorted(
        (Unanswered(*entry) for entry in unanswered.values()),
        key=lambda u: (-u.count, u.confidence),
    )[: top * 2]
    votes: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    for (_, topic), helpful in feedback.items():
        votes[topic][0 if helpful else 1] += 1
    summary.feedback = sorted(
        ((topic_title(rules, t), up, down) for t, (up, down) in votes.items()),
        key=lambda row: (-row[2], row[1], row[0]),
    )
    return summary
