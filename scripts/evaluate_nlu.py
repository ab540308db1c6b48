"""Evaluate the trained NLU on held-out messages: intent accuracy, macro F1 and
entity precision/recall/F1 (exact span and type), plus the worst intents.

Usage: python scripts/evaluate_nlu.py --model models/careers.tar.gz \
           --data tests/nlu_heldout.yml [--json results/nlu.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

from rasa.core.agent import Agent
from rasa.utils.log_utils import configure_structlog
from rasa.shared.nlu.training_data.loading import load_data


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def score(examples: List[dict], predictions: List[dict]) -> Dict[str, object]:
    """Intent and entity figures for parallel lists of gold examples and parses."""
    correct = 0
    per_intent: Dict[str, Counter] = {}
    confusions: Counter = Counter()
    ent_tp: Counter = Counter()
    ent_fp: Counter = Counter()
    ent_fn: Counter = Counter()
    for gold, pred in zip(examples, predictions):
        expected = gold["intent"]
        got = (pred.get("intent") or {}).get("name")
        for name in (expected, got):
            per_intent.setdefault(name, Counter())
        if got == expected:
            correct += 1
            per_intent[expected]["tp"] += 1
        else:
            per_intent[expected]["fn"] += 1
            per_intent[got]["fp"] += 1
            confusions[(expected, got)] += 1
        gold_spans = {(e["start"], e["end"], e["entity"]) for e in gold["entities"]}
        pred_spans = {(e["start"], e["end"], e["entity"]) for e in pred.get("entities", [])}
        for span in gold_spans & pred_spans:
            ent_tp[span[2]] += 1
        for span in pred_spans - gold_spans:
            ent_fp[span[2]] += 1
        for span in gold_spans - pred_spans:
            ent_fn[span[2]] += 1

    intents = {}
    for name, c in per_intent.items():
        if name is None:
            continue
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        intents[name] = {"precision": p, "recall": r, "f1": _f1(p, r), "support": c["tp"] + c["fn"]}
    supported = [v["f1"] for v in intents.values() if v["support"]]
    entities = {}
    for name in sorted(set(ent_tp) | set(ent_fp) | set(ent_fn)):
        tp, fp, fn = ent_tp[name], ent_fp[name], ent_fn[name]
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        entities[name] = {"precision": p, "recall": r, "f1": _f1(p, r), "support": tp + fn}
    tp, fp, fn = sum(ent_tp.values()), sum(ent_fp.values()), sum(ent_fn.values())
    ent_p = tp / (tp + fp) if tp + fp else 0.0
    ent_r = tp / (tp + fn) if tp + fn else 0.0
    return {
        "examples": len(examples),
        "intent_accuracy": correct / len(examples) if examples else 0.0,
        "intent_macro_f1": statistics.mean(supported) if supported else 0.0,
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
    configure_structlog(logging.WARNING)
    agent = Agent.load(model)
    parses, latencies = [], []
    for text in texts:
        started = time.perf_counter()
        parses.append(await agent.parse_message(text))
        latencies.append(time.perf_counter() - started)
    return parses, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/careers.tar.gz")
    parser.add_argument("--data", default="tests/nlu_heldout.yml")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()

    data = load_data(args.data)
    examples = [
        {
            "text": m.get("text"),
            "intent": m.get("intent"),
            "entities": m.get("entities") or [],
        }
        for m in data.intent_examples
    ]
    parses, latencies = asyncio.run(parse_all(args.model, [e["text"] for e in examples]))
    result = score(examples, parses)
    result["median_parse_ms"] = statistics.median(latencies) * 1000

    print(f"NLU evaluation on {args.data}: {result['examples']} held-out messages")
    print(f"  intent accuracy   {result['intent_accuracy']:.3f}")
    print(f"  intent macro F1   {result['intent_macro_f1']:.3f}")
    print(
        f"  entity F1         {result['entity_f1']:.3f} "
        f"(precision {result['entity_precision']:.3f}, recall {result['entity_recall']:.3f})"
    )
    print(f"  median parse time {result['median_parse_ms']:.1f} ms")
    print("  per entity type:")
    for name, v in result["entities"].items():
        print(f"    {name:<15} P {v['precision']:.2f}  R {v['recall']:.2f}  F1 {v['f1']:.2f}  n={v['support']}")
    print("  weakest intents (F1):")
    worst = sorted(result["intents"].items(), key=lambda kv: kv[1]["f1"])[:6]
    for name, v in worst:
        print(f"    {name:<30} P {v['precision']:.2f}  R {v['recall']:.2f}  F1 {v['f1']:.2f}")
    print("  most confused (expected -> predicted):")
    for c in result["confusions"][:6]:
        print(f"    {c['expected']} -> {c['predicted']}: {c['count']}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
