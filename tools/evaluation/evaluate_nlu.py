"""Evaluate the trained NLU on held-out messages.

Prints intent accuracy, macro F1, out-of-scope recall, entity precision/recall/F1
(exact span and type) per entity type, per-intent precision and recall, and the
most confused intent pairs. With --check-targets it exits 1 when a figure is below
its target, so CI fails on a regression.

Usage: python tools/evaluation/evaluate_nlu.py --model models/careers.tar.gz \
           --data tests/nlu_heldout.yml [--json results/nlu.json] [--check-targets]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from careers.vocabulary import FALLBACK_INTENT, OUT_OF_SCOPE_INTENT
from tools.evaluation.nlu_report import write_report
from tools.evaluation.targets import NLU_TARGETS as TARGETS

# Both intents lead to the message that says what the assistant can help with.
SCOPE_INTENTS = {OUT_OF_SCOPE_INTENT, FALLBACK_INTENT}
# The entity kinds the held-out messages are annotated with. The extractor also finds
# where a degree is from (`origin`) and where someone is in life (`stage`); the sets
# were written before those existed, so they are not scored.
SCORED_ENTITIES = {"programme", "degree_class", "qualification", "subject", "grade", "count"}


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def load_examples(path: str) -> List[dict]:
    """Held-out messages with their expected intent and entities."""
    from rasa.shared.nlu.training_data.loading import load_data

    return [
        {"text": m.get("text"), "intent": m.get("intent"), "entities": m.get("entities") or []}
        for m in load_data(path).intent_examples
    ]


def score(examples: List[dict], predictions: List[dict]) -> Dict[str, Any]:
    """Intent and entity figures for parallel lists of gold examples and parses."""
    correct = 0
    # Keyed by intent name; a parse with no intent counts under None.
    per_intent: Dict[Optional[str], Counter] = {}
    confusions: Counter = Counter()
    ent: Dict[str, Counter] = {"tp": Counter(), "fp": Counter(), "fn": Counter()}
    oos_total = oos_caught = 0
    for gold, pred in zip(examples, predictions, strict=True):
        expected = gold["intent"]
        got = (pred.get("intent") or {}).get("name")
        per_intent.setdefault(expected, Counter())
        per_intent.setdefault(got, Counter())
        if expected == OUT_OF_SCOPE_INTENT:
            oos_total += 1
            oos_caught += got in SCOPE_INTENTS
        if got == expected:
            correct += 1
            per_intent[expected]["tp"] += 1
        else:
            per_intent[expected]["fn"] += 1
            per_intent[got]["fp"] += 1
            confusions[(expected, got)] += 1
        gold_spans = {(e["start"], e["end"], e["entity"]) for e in gold["entities"]}
        pred_spans = {
            (e["start"], e["end"], e["entity"])
            for e in pred.get("entities", [])
            if e["entity"] in SCORED_ENTITIES
        }
        for span in gold_spans & pred_spans:
            ent["tp"][span[2]] += 1
        for span in pred_spans - gold_spans:
            ent["fp"][span[2]] += 1
        for span in gold_spans - pred_spans:
            ent["fn"][span[2]] += 1

    intents = {}
    for name, c in per_intent.items():
        if name is None:
            continue
        p = _ratio(c["tp"], c["tp"] + c["fp"])
        r = _ratio(c["tp"], c["tp"] + c["fn"])
        intents[name] = {"precision": p, "recall": r, "f1": _f1(p, r), "support": c["tp"] + c["fn"]}
    supported = [v["f1"] for v in intents.values() if v["support"]]
    entities = {}
    for name in sorted(set(ent["tp"]) | set(ent["fp"]) | set(ent["fn"])):
        tp, fp, fn = ent["tp"][name], ent["fp"][name], ent["fn"][name]
        p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        entities[name] = {"precision": p, "recall": r, "f1": _f1(p, r), "support": tp + fn}
    tp, fp, fn = (sum(ent[k].values()) for k in ("tp", "fp", "fn"))
    ent_p, ent_r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {
        "examples": len(examples),
        "intent_accuracy": _ratio(correct, len(examples)),
        "intent_macro_f1": statistics.mean(supported) if supported else 0.0,
        "out_of_scope_recall": _ratio(oos_caught, oos_total),
        "entity_precision": ent_p,
        "entity_recall": ent_r,
        "entity_f1": _f1(ent_p, ent_r),
        "intents": intents,
        "entities": entities,
        "confusions": [
            {"expected": e, "predicted": g, "count": n} for (e, g), n in confusions.most_common(10)
        ],
    }


async def parse_all(model: str, texts: List[str]) -> Tuple[List[dict], List[float]]:
    """Parse every text with a trained Rasa model; also return each parse's seconds."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    agent = Agent.load(model)
    parses, latencies = [], []
    for text in texts:
        started = time.perf_counter()
        parses.append(await agent.parse_message(text))
        latencies.append(time.perf_counter() - started)
    return parses, latencies


def evaluate_model(model: str, examples: List[dict]) -> Dict[str, Any]:
    parses, latencies = asyncio.run(parse_all(model, [e["text"] for e in examples]))
    result = score(examples, parses)
    result["median_parse_ms"] = statistics.median(latencies) * 1000
    return result


def below_target(result: Dict[str, Any]) -> List[str]:
    return [
        f"{name} {result[name]:.3f} < {target:.2f}"
        for name, target in TARGETS.items()
        if result[name] < target
    ]


def print_summary(result: Dict[str, Any], data: str) -> None:
    print(f"NLU evaluation on {data}: {result['examples']} held-out messages")
    for name, target in TARGETS.items():
        mark = "ok" if result[name] >= target else "BELOW TARGET"
        print(f"  {name:<22} {result[name]:.3f}  (target {target:.2f}: {mark})")
    print(f"  entity precision {result['entity_precision']:.3f}, recall {result['entity_recall']:.3f}")
    print(f"  median parse time      {result['median_parse_ms']:.1f} ms")
    print("  per entity type:")
    for name, v in result["entities"].items():
        print(
            f"    {name:<15} P {v['precision']:.2f}  R {v['recall']:.2f}  F1 {v['f1']:.2f}  n={v['support']}"
        )
    print("  per intent (precision, recall):")
    for name, v in sorted(result["intents"].items()):
        print(f"    {name:<30} P {v['precision']:.2f}  R {v['recall']:.2f}  n={v['support']}")
    print("  most confused (expected -> predicted):")
    for c in result["confusions"][:8]:
        print(f"    {c['expected']} -> {c['predicted']}: {c['count']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/careers.tar.gz")
    parser.add_argument("--data", default="tests/nlu_heldout.yml")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--report", help="write the markdown report here (docs/nlu-report.md)")
    parser.add_argument(
        "--check-targets", action="store_true", help="exit 1 if any figure is below its target"
    )
    args = parser.parse_args()

    result = evaluate_model(args.model, load_examples(args.data))
    print_summary(result, args.data)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2))
    if args.report:
        write_report(result, args.data, Path(args.report))
    failures = below_target(result)
    if args.check_targets and failures:
        print("NLU figures below target: " + "; ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
