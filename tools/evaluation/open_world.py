"""Judge the whole reply, not the intent: the open-world sets (issue 25).

    python -m tools.evaluation.open_world [--model models/careers.tar.gz] \
        [--set real|outside|emergencies|near_misses|privacy ...] [--json results/open-world.json] \
        [--check-targets] [--show N]

Each message is sent, in a new conversation, through the trained model and the real
actions (in this process), and what the assistant did in that turn is read from the
stored events: the answer it gave (`last_answer`), the responses it uttered, the
check it started. Every reply falls in one kind:

- `right_answer`: an answer from a fact that answers what was asked (the set names
  the acceptable facts, or the concept asked, which a fact declares in `answers:`);
- `honest_pointer`: "my sources don't cover ..." where the sources do not answer it
  (with, beside it, what they do say: the issue asks for both);
- `decline`: "I can only help with getting into clinical engineering", for a message
  outside the field;
- `check`: the eligibility check started or gave a verdict, for an eligibility question;
- `missed_answer`: "not covered" although a fact answers it;
- `wrong_topic`: an answer (or a named "not covered") about something not asked;
- `not_understood`: a clarifying question, "not sure what you mean" or the help list;
- `acted`: the emergency reply, clearing, deletion, stopping or a check, unasked for;
- `small_talk`: for an outside request that is small talk with the assistant itself
  (CLINC150's "goodbye", "are you a bot?": SMALL_TALK_LABELS), a reply in kind that does
  nothing else; as right as declining;
- `other`: anything else.

The sets live in tests/open_world/ (README there: where each came from, and which may
be tuned on). The real questions are judged by their labels; the outside requests
must be declined (or, harmlessly, not understood) and must never act; the emergencies
must all get the emergency reply, and the near misses and privacy questions never.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

import yaml

from careers.vocabulary import APPLYING_PREFIX, FORM, LAST_ANSWER_SLOT, NOT_COVERED_PREFIX, VERDICT_ANSWER

ROOT = Path(__file__).resolve().parents[2]
SETS_DIR = ROOT / "tests" / "open_world"
# The outside requests are drawn from a public data set (CLINC150, CC BY 3.0) that this
# project may use but does not keep in git: tests/open_world/README.md says where it is.
DATASETS = Path(os.environ.get("OPEN_WORLD_DATASETS", ROOT.parent / "shared" / "datasets"))
SETS = {
    "real": SETS_DIR / "real_questions.yml",
    "real2": SETS_DIR / "real_questions_round2.yml",
    "real3": SETS_DIR / "real_questions_round3.yml",
    "dev": SETS_DIR / "dev_questions.yml",
    "outside": DATASETS / "clinc150_oos_eval" / "outside_requests.tsv",
    "outside_dev": DATASETS / "clinc150_oos_eval" / "outside_dev.tsv",
    "outside_val": DATASETS / "clinc150_oos_eval" / "outside_val.tsv",
    "emergencies": SETS_DIR / "emergencies.tsv",
    "near_misses": SETS_DIR / "near_misses.tsv",
    "privacy": SETS_DIR / "privacy.tsv",
}
EXPECTATIONS = ("answer", "pointer", "decline", "check", "emergency", "not_emergency", "privacy")
SUCCESS = ("right_answer", "honest_pointer", "decline", "check")
ACTS = ("emergency", "cleared", "deleted", "delete_asked", "stopped", "check_started")

# Responses and what they are, by the name of the response.
_UTTERED = {
    "utter_emergency": "emergency",
    "utter_started_again": "cleared",
    "utter_started_again_check": "cleared",
    "utter_conversation_deleted": "deleted",
    "utter_confirm_deletion": "delete_asked",
    "utter_check_stopped": "stopped",
    "utter_out_of_scope": "decline",
    "utter_clarify": "unsure",
    "utter_not_understood": "unsure",
    "utter_follow_up_unclear": "unsure",
    "utter_help": "unsure",
    "utter_explain_nothing": "unsure",
    "utter_privacy": "privacy",
}
# CLINC150's intents that are small talk with the assistant itself ("goodbye", "are you a
# bot?"): a reply in kind that does nothing else is as right as declining.
SMALL_TALK_LABELS = frozenset(
    {
        "greeting",
        "goodbye",
        "thank_you",
        "are_you_a_bot",
        "what_can_i_ask_you",
        "what_is_your_name",
        "who_made_you",
        "how_old_are_you",
        "where_are_you_from",
        "who_do_you_work_for",
        "what_are_your_hobbies",
        "do_you_have_pets",
        "yes",
        "no",
        "maybe",
        "cancel",
    }
)


class SetError(ValueError):
    """A set file is malformed."""


def load_items(name: str, path: Path) -> List[Dict[str, Any]]:
    """The messages of a set, each with its expectation."""
    if path.suffix == ".yml":
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        items = list(data.get("questions") or [])
        problems = [
            f"item {i + 1}: {item.get('expect')!r}"
            for i, item in enumerate(items)
            if not (str(item.get("text", "")).strip() or item.get("turns"))
            or item.get("expect") not in EXPECTATIONS
        ]
        for item in items:
            if item.get("turns"):
                item["text"] = " || ".join(str(t) for t in item["turns"])
        if problems:
            raise SetError(f"{path}: bad items: " + "; ".join(problems[:5]))
        return items
    expect = {
        "outside": "decline",
        "outside_dev": "decline",
        "outside_val": "decline",
        "emergencies": "emergency",
        "near_misses": "not_emergency",
        "privacy": "privacy",
    }[name]
    items = []
    with path.open(encoding="utf-8") as lines:
        rows = csv.reader(
            (line for line in lines if line.strip() and not line.startswith("#")),
            delimiter="\t",
            quoting=csv.QUOTE_NONE,
        )
        for row in rows:
            items.append({"text": row[0], "label": row[1] if len(row) > 1 else "", "expect": expect})
    return items


def _turn(events: Sequence[Mapping[str, Any]]) -> List[Mapping[str, Any]]:
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "user":
            return list(events[index + 1 :])
    return list(events)


def reply_kinds(events: Sequence[Mapping[str, Any]]) -> List[str]:
    """What the assistant did in the latest turn, in order: `answer:<fact>`,
    `pointer:<what>`, `verdict:<verdict>`, `check_started`, and the kinds of _UTTERED;
    `other` when none of these."""
    kinds: List[str] = []
    for event in _turn(events):
        kind = event.get("event")
        if kind == "slot" and event.get("name") == LAST_ANSWER_SLOT and event.get("value"):
            value = str(event["value"])
            if value == VERDICT_ANSWER:
                kinds.append("verdict")
            elif value.startswith(NOT_COVERED_PREFIX):
                kinds.append("pointer:" + value[len(NOT_COVERED_PREFIX) :])
            else:
                kinds.append("answer:" + value)
        elif kind == "active_loop" and event.get("name") == FORM:
            kinds.append("check_started")
        elif kind == "bot":
            uttered = _UTTERED.get((event.get("metadata") or {}).get("utter_action") or "")
            if uttered:
                kinds.append(uttered)
    return list(dict.fromkeys(kinds)) or ["other"]


def judge(item: Mapping[str, Any], kinds: Iterable[str], declared: Mapping[str, Set[str]]) -> str:
    """The kind of reply this was, for what the item expected (module docstring)."""
    kinds = list(kinds)
    answers = [k.split(":", 1)[1] for k in kinds if k.startswith("answer:")]
    pointers = [k.split(":", 1)[1] for k in kinds if k.startswith("pointer:")]
    checked = "check_started" in kinds or "verdict" in kinds
    expect = item["expect"]
    if expect == "emergency":
        return "right_answer" if "emergency" in kinds else "missed_emergency"
    acts = [k for k in kinds if k in ACTS and k != "check_started"]
    if expect == "privacy":
        if "privacy" in kinds or "delete_asked" in kinds or "deleted" in kinds:
            return "right_answer"
        if "emergency" in kinds or "cleared" in kinds:
            return "acted"
        return "not_understood" if "unsure" in kinds else "wrong_topic"
    if acts or (checked and expect != "check"):
        return "acted"
    if expect == "check":
        if checked:
            return "check"
        if answers:
            return "wrong_topic"
        return "honest_pointer" if pointers else _plain(kinds)
    concept = item.get("concept")
    facts = set(item.get("facts") or [])

    def fits(fact: str) -> bool:
        return fact in facts or bool(concept and concept in declared.get(fact, set()))

    if pointers and expect == "pointer":
        # Says which part is not covered; what the sources do say beside it is allowed.
        named = [p for p in pointers if p != "general"]
        known = set(declared.get("__not_covered__", set()))
        if named and concept in known and concept not in named and not any(map(fits, answers)):
            return "wrong_topic"
        return "honest_pointer" if not answers or not all(map(fits, answers)) else "right_answer"
    if answers:
        return "right_answer" if all(map(fits, answers)) else "wrong_topic"
    if pointers:
        if expect in ("decline", "not_emergency"):
            return "wrong_topic"
        if expect == "answer":
            return "missed_answer"
        named = [p for p in pointers if p != "general"]
        known = set(declared.get("__not_covered__", set()))
        if named and concept in known and concept not in named:
            return "wrong_topic"
        return "honest_pointer"
    if expect in ("decline", "not_emergency") and "decline" in kinds:
        return "decline"
    if expect == "decline" and kinds == ["other"] and item.get("label") in SMALL_TALK_LABELS:
        return "small_talk"
    return _plain(kinds)


def _plain(kinds: List[str]) -> str:
    if "decline" in kinds:
        return "declined_in_field"
    if "unsure" in kinds:
        return "not_understood"
    return "other"


def declared_coverage() -> Dict[str, Set[str]]:
    """fact -> the concepts it declares it answers (`answers:` in the rules file), and
    under `__not_covered__` the keys of the not-covered topics."""
    from careers.rules_file import load_rules

    rules = load_rules(ROOT / "careers" / "entry_rules.yml")
    declared = {key: set(topic.answers) for key, topic in rules.topics.items()}
    for key, answer in rules.applying.items():
        declared[APPLYING_PREFIX + key] = {key, *answer.answers}
    declared["__not_covered__"] = set(rules.not_covered)
    return declared


def score(name: str, results: List[Dict[str, Any]]) -> Dict[str, Any]:
    counts = Counter(r["judged"] for r in results)
    total = len(results)
    summary: Dict[str, Any] = {"set": name, "messages": total, "kinds": dict(counts.most_common())}
    if name in ("real", "real2", "real3", "dev"):
        summary["right_or_honest"] = _ratio(sum(counts[k] for k in SUCCESS), total)
        summary["wrong_topic"] = counts["wrong_topic"]
        summary["by_expectation"] = {
            expect: dict(Counter(r["judged"] for r in results if r["expect"] == expect))
            for expect in sorted({r["expect"] for r in results})
        }
    elif name in ("outside", "outside_dev", "outside_val"):
        wrong = total - counts["decline"] - counts["not_understood"] - counts["small_talk"]
        summary["wrong_rate"] = _ratio(wrong, total)
        summary["acted"] = counts["acted"]
    elif name == "near_misses":
        summary["acted"] = counts["acted"]
        summary["emergency"] = sum("emergency" in r["kinds"] for r in results)
    else:
        summary["right_rate"] = _ratio(counts["right_answer"], total)
    return summary


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 4) if denominator else 1.0


# The targets of issue 25: (figure, target, "min" or "max"). --check-targets fails below
# those in GATED; the real-question sets are reported against the target but do not
# fail CI, because it is not met yet (docs/open-world.md): gating them would keep every
# other change from landing, and they are evidence once, not a set to tune until it passes.
TARGETS: Dict[str, Tuple[str, float, str]] = {
    "real": ("right_or_honest", 0.90, "min"),
    "real2": ("right_or_honest", 0.90, "min"),
    "real3": ("right_or_honest", 0.90, "min"),
    "dev": ("right_or_honest", 0.85, "min"),
    "outside": ("wrong_rate", 0.02, "max"),
    "outside_dev": ("wrong_rate", 0.02, "max"),
    "outside_val": ("wrong_rate", 0.02, "max"),
    "emergencies": ("right_rate", 1.0, "min"),
    "near_misses": ("emergency", 0, "max"),
    "privacy": ("right_rate", 0.90, "min"),
}
GATED = {"dev", "outside", "outside_dev", "outside_val", "emergencies", "near_misses", "privacy"}
ZERO = {
    "real": "wrong_topic",
    "real2": "wrong_topic",
    "real3": "wrong_topic",
    "outside": "acted",
    "outside_dev": "acted",
    "outside_val": "acted",
    "near_misses": "acted",
}


def below_target(summary: Mapping[str, Any]) -> List[str]:
    name = summary["set"]
    failures = []
    key, target, kind = TARGETS[name]
    value = summary[key]
    if (kind == "min" and value < target) or (kind == "max" and value > target):
        failures.append(f"{name}: {key} {value} ({'<' if kind == 'min' else '>'} {target})")
    zero = ZERO.get(name)
    if zero and summary.get(zero):
        failures.append(f"{name}: {zero} {summary[zero]} (must be 0)")
    return failures


def run(model: Path, names: List[str]) -> Tuple[List[Dict[str, Any]], Dict[str, List[Dict[str, Any]]]]:
    from tools.careers_team.converse import InProcessAssistant

    loaded = {name: load_items(name, SETS[name]) for name in names}
    declared = declared_coverage()
    assistant = InProcessAssistant(model)
    summaries, details = [], {}
    try:
        for name, items in loaded.items():
            results = []
            for item in items:
                sender = f"open-world-{uuid.uuid4().hex}"
                for turn in item.get("turns", [])[:-1]:  # a conversation: judged on its last turn
                    assistant.send(sender, str(turn))
                replies = assistant.send(sender, str((item.get("turns") or [item["text"]])[-1]))
                kinds = reply_kinds(assistant.events(sender))
                results.append(
                    {
                        **item,
                        "kinds": kinds,
                        "judged": judge(item, kinds, declared),
                        "reply": " | ".join(str(r.get("text", ""))[:160] for r in replies if r.get("text")),
                    }
                )
            summaries.append(score(name, results))
            details[name] = results
    finally:
        assistant.close()
    return summaries, details


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "careers.tar.gz")
    parser.add_argument("--set", dest="sets", action="append", choices=sorted(SETS))
    parser.add_argument("--json", type=Path, help="write the figures and every judged reply here")
    parser.add_argument("--check-targets", action="store_true", help="exit 1 below a target")
    parser.add_argument("--show", type=int, default=0, help="list up to N failures per set")
    args = parser.parse_args(argv)
    names = args.sets or [n for n in SETS if SETS[n].exists()]
    for name in sorted(set(SETS) - set(names)):
        if not args.sets:
            print(f"Open world, {name}: not evaluated, {SETS[name]} is not here (tests/open_world/README.md)")
    from runtime.quiet import no_library_warnings

    with no_library_warnings():
        summaries, details = run(args.model, names)
    failures: List[str] = []
    for summary in summaries:
        name = summary["set"]
        key, target, kind = TARGETS[name]
        print(
            f"Open world, {name} ({SETS[name].name}): {summary['messages']} messages; "
            f"{key} {summary[key]} (target {'>=' if kind == 'min' else '<='} {target})"
        )
        print("  " + ", ".join(f"{k} {v}" for k, v in summary["kinds"].items()))
        missed = below_target(summary)
        if missed and name not in GATED:
            print(f"  issue target not met (reported, not a CI gate): {'; '.join(missed)}")
        elif missed:
            failures += missed
        if args.show:
            bad = [r for r in details[name] if r["judged"] not in SUCCESS or r["expect"] == "emergency"]
            bad = [r for r in bad if r["judged"] not in ("decline", "right_answer")]
            for r in bad[: args.show]:
                print(f"    [{r['expect']}->{r['judged']} {','.join(r['kinds'])}] {r['text'][:110]}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"summaries": summaries, "details": details}, indent=1))
    if args.check_targets and failures:
        print("Open-world figures below target: " + "; ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
