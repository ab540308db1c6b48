"""Evaluate the whole assistant on realistic messages and short conversations.

    python -m tools.evaluation.evaluate_realistic --data tests/heldout_realistic.yml \
        [--data tests/realistic_dev.yml ...] [--json results/realistic.json ...] \
        [--model models/careers.tar.gz] [--check-targets] [--show N]

The set (format in tests/heldout_realistic.yml's header) holds single messages, each
with the intent it should be read as, and short conversations, each with the verdict
it should end in. Every message is sent, in a fresh conversation, through the trained
model and the real actions (in this process, as `make conversations` does), and the
script reports:

- intent accuracy: the NLU's intent is the expected one (`check_eligibility` and
  `inform` both start or feed the check, so either counts for the other);
- wrong topic: the assistant answered a topic (or "my sources don't cover that")
  other than the one asked about. A clarifying question, "I'm not sure" or the
  out-of-scope reply is not a wrong topic: it does not mislead. Follow-ups and
  "why?" sent without a conversation before them are not counted;
- recall of "not covered" (answered "my sources don't cover that") and of
  out-of-scope (the scope reply or a clarifying question);
- the verdict each conversation ends in.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from careers.rules_file import NOT_COVERED_GENERAL
from careers.vocabulary import (
    APPLYING_PREFIX,
    CHECK_INTENT,
    FORM,
    INFORM_INTENT,
    LAST_ANSWER_SLOT,
    NOT_COVERED_INTENT,
    NOT_COVERED_PREFIX,
    PROGRAMMES,
    VERDICT_ANSWER,
    VERDICTS,
)
from tools.evaluation.targets import REALISTIC_TARGETS as TARGETS

# Both start or feed the eligibility check.
CHECK_INTENTS = {CHECK_INTENT, INFORM_INTENT}
NOT_COVERED = NOT_COVERED_INTENT
# Sent on their own, with no answer before them, these have nothing to refer to:
# whatever topic the assistant picks is a guess, not a wrong answer.
CONTEXT_INTENTS = {"follow_up", "ask_why"}


class SetError(ValueError):
    """The test set is malformed."""


def load_set(path: Path, intents: List[str]) -> Tuple[List[dict], List[dict]]:
    """The messages and conversations of a set, checked against the domain's intents."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    messages, conversations = data.get("messages") or [], data.get("conversations") or []
    problems = []
    for i, item in enumerate(messages):
        if not isinstance(item, dict) or not str(item.get("text", "")).strip():
            problems.append(f"message {i + 1}: no text")
        elif item.get("expect") not in intents:
            problems.append(f"message {i + 1}: unknown intent {item.get('expect')!r}")
    for i, item in enumerate(conversations):
        expect = (item or {}).get("expect") or {}
        if not item.get("turns") or not all(isinstance(t, str) for t in item["turns"]):
            problems.append(f"conversation {i + 1}: 'turns' must be a list of messages")
        if expect.get("verdict") not in VERDICTS or expect.get("programme") not in PROGRAMMES:
            problems.append(f"conversation {i + 1}: 'expect' needs a programme and a verdict")
    if problems:
        raise SetError(f"{path}: " + "; ".join(problems))
    return messages, conversations


def _turn_events(events: List[dict]) -> List[dict]:
    """The events after the latest user message."""
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "user":
            return events[index + 1 :]
    return events


def outcome(events: List[dict]) -> Tuple[Optional[str], str]:
    """(the NLU intent, what the assistant did) for the latest turn of a conversation.

    What it did: a topic intent it answered, `ask_not_covered`, `check` (a check started
    or continued, or a verdict), `out_of_scope`, `unsure` (a clarifying question or
    "not understood"), or `other` (chit-chat replies)."""
    users = [e for e in events if e.get("event") == "user"]
    intent = ((users[-1].get("parse_data") or {}).get("intent") or {}).get("name") if users else None
    turn = _turn_events(events)
    said = [
        str(e["value"])
        for e in turn
        if e.get("event") == "slot" and e.get("name") == LAST_ANSWER_SLOT and e.get("value")
    ]
    # "My sources may not answer all of that ..." before an answer: the answer is what it did.
    general = NOT_COVERED_PREFIX + NOT_COVERED_GENERAL
    said = [value for value in said if value != general] or said
    if said:
        value = said[0]
        if value == VERDICT_ANSWER:
            return intent, "check"
        # An answer from the National School's applicant pages (`applying` in the
        # rules file) is what these sets call "not covered": not on the careers page.
        covered_elsewhere = value.startswith((NOT_COVERED_PREFIX, APPLYING_PREFIX))
        return intent, NOT_COVERED if covered_elsewhere else value
    for event in turn:
        if event.get("event") == "active_loop" and event.get("name") == FORM:
            return intent, "check"
        if event.get("event") == "action" and event.get("name") == FORM:
            return intent, "check"
    utters = [(e.get("metadata") or {}).get("utter_action") for e in turn if e.get("event") == "bot"]
    if "utter_out_of_scope" in utters:
        return intent, "out_of_scope"
    if {"utter_clarify", "utter_not_understood", "utter_follow_up_unclear"} & set(utters):
        return intent, "unsure"
    return intent, "other"


def run_messages(assistant: Any, messages: List[dict], topics: set) -> Dict[str, Any]:
    results = []
    for item in messages:
        sender = f"eval-{uuid.uuid4().hex}"
        assistant.send(sender, item["text"])
        intent, did = outcome(assistant.events(sender))
        results.append({**item, "intent": intent, "did": did})
    return score_messages(results, topics)


def score_messages(results: List[dict], topics: set) -> Dict[str, Any]:
    """The figures for a list of {expect, intent, did} results."""
    answers = topics | {NOT_COVERED}

    def right_intent(r: dict) -> bool:
        return r["intent"] == r["expect"] or {r["intent"], r["expect"]} <= CHECK_INTENTS

    def wrong_topic(r: dict) -> bool:
        if r["did"] not in answers or r["expect"] in CONTEXT_INTENTS:
            return False
        return r["did"] != r["expect"]

    covered = [r for r in results if r["expect"] == NOT_COVERED]
    scope = [r for r in results if r["expect"] == "out_of_scope"]
    confusions = Counter((r["expect"], r["intent"]) for r in results if not right_intent(r))
    return {
        "messages": len(results),
        "intent_accuracy": _ratio(sum(map(right_intent, results)), len(results)),
        "wrong_topic_rate": _ratio(sum(map(wrong_topic, results)), len(results)),
        "not_covered_recall": _ratio(sum(r["did"] == NOT_COVERED for r in covered), len(covered)),
        "out_of_scope_recall": _ratio(sum(r["did"] in ("out_of_scope", "unsure") for r in scope), len(scope)),
        "unsure_rate": _ratio(sum(r["did"] == "unsure" for r in results), len(results)),
        "confusions": [
            {"expected": e, "predicted": p, "count": n} for (e, p), n in confusions.most_common(12)
        ],
        "wrong_topics": [
            {"text": r["text"], "expected": r["expect"], "answered": r["did"]}
            for r in results
            if wrong_topic(r)
        ],
        "wrong_intents": [
            {"text": r["text"], "expected": r["expect"], "intent": r["intent"], "did": r["did"]}
            for r in results
            if not right_intent(r)
        ],
    }


def run_conversations(assistant: Any, conversations: List[dict]) -> Dict[str, Any]:
    results = []
    for item in conversations:
        sender = f"eval-{uuid.uuid4().hex}"
        verdict = None
        transcript = []
        for turn in item["turns"]:
            replies = assistant.send(sender, turn)
            transcript.append({"user": turn, "bot": [r.get("text") for r in replies if r.get("text")]})
            for reply in replies:
                assessment = (reply.get("custom") or {}).get("assessment")
                if assessment:
                    verdict = {"programme": assessment["programme"], "verdict": assessment["verdict"]}
        expected = {"programme": item["expect"]["programme"], "verdict": item["expect"]["verdict"]}
        results.append(
            {
                "name": item.get("name", ""),
                "expected": expected,
                "got": verdict,
                "ok": verdict == expected,
                "transcript": transcript,
            }
        )
    return {
        "conversations": len(results),
        "verdict_accuracy": _ratio(sum(r["ok"] for r in results), len(results)),
        "wrong_verdicts": [r for r in results if not r["ok"]],
    }


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 1.0


def below_target(result: Dict[str, Any]) -> List[str]:
    failures = []
    for name, (target, kind) in TARGETS.items():
        value = result.get(name)
        if value is None:
            continue
        if (kind == "min" and value < target) or (kind == "max" and value > target):
            failures.append(f"{name} {value:.3f} ({'<' if kind == 'min' else '>'} {target:.2f})")
    return failures


def evaluate_sets(model: Path, sets: List[Path]) -> List[Dict[str, Any]]:
    """Each set's figures, from one load of the model."""
    from tools.careers_team.converse import InProcessAssistant

    domain = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text())
    intents = list(domain["intents"])
    topics = {i for i in intents if i.startswith("ask_") and i not in ("ask_why", NOT_COVERED)}
    loaded = [load_set(data, intents) for data in sets]  # a malformed set fails before the load
    assistant = InProcessAssistant(model)
    results = []
    try:
        for messages, conversations in loaded:
            result = run_messages(assistant, messages, topics)
            result.update(run_conversations(assistant, conversations))
            results.append(result)
    finally:
        assistant.close()
    return results


def print_summary(result: Dict[str, Any], data: Path, show: int) -> None:
    print(
        f"Realistic evaluation on {data}: {result['messages']} messages, "
        f"{result['conversations']} conversations"
    )
    for name, (target, kind) in TARGETS.items():
        value = result[name]
        ok = value >= target if kind == "min" else value <= target
        print(
            f"  {name:<22} {value:.3f}  (target {'>=' if kind == 'min' else '<='} {target:.2f}: "
            f"{'ok' if ok else 'MISSED'})"
        )
    print(f"  {'unsure_rate':<22} {result['unsure_rate']:.3f}  (clarifying question or not understood)")
    if show:
        print("  most confused intents (expected -> predicted):")
        for c in result["confusions"][:show]:
            print(f"    {c['expected']} -> {c['predicted']}: {c['count']}")
        print("  wrong topics:")
        for w in result["wrong_topics"][:show]:
            print(f"    [{w['expected']} -> {w['answered']}] {w['text']}")
        print("  wrong verdicts:")
        for w in result["wrong_verdicts"][:show]:
            print(f"    {w['name']}: expected {w['expected']}, got {w['got']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/careers.tar.gz"))
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        help="a set to evaluate (repeat for several; default the held-out set)",
    )
    parser.add_argument(
        "--json", type=Path, action="append", help="write each set's figures here (one per --data, in order)"
    )
    parser.add_argument("--check-targets", action="store_true", help="exit 1 below a target")
    parser.add_argument("--show", type=int, default=0, help="list up to N failures of each kind")
    args = parser.parse_args()
    sets = args.data or [Path("tests/heldout_realistic.yml")]
    outputs = args.json or []
    from runtime.quiet import no_library_warnings

    failures = []
    with no_library_warnings():
        results = evaluate_sets(args.model, sets)
    for index, (data, result) in enumerate(zip(sets, results, strict=True)):
        print_summary(result, data, args.show)
        result["data"] = str(data)
        if index < len(outputs):
            outputs[index].parent.mkdir(parents=True, exist_ok=True)
            outputs[index].write_text(json.dumps(result, indent=2))
        failures += [f"{data}: {f}" for f in below_target(result)]
    if args.check_targets and failures:
        print("Realistic-set figures below target: " + "; ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
