"""Compare NLU pipelines on the same held-out messages in one run: ours
(config.yml), Rasa's default (what `rasa init` gives) and a TF-IDF + logistic
regression baseline. Reports accuracy, F1, training time and parse latency, and
writes docs/nlu-report.md.

Usage: python -m scripts.compare_nlu [--data tests/nlu_heldout.yml]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import time
from pathlib import Path
from typing import Dict, List

from scripts.evaluate_nlu import TARGETS, evaluate_model, load_examples, score
from scripts.serverctl import RASA, ROOT

OUT = ROOT / "build" / "compare"
RASA_PIPELINES = {
    "ours (config.yml)": ROOT / "config.yml",
    "Rasa default (rasa init)": ROOT / "benchmarks" / "rasa-default-config.yml",
}


def train_rasa(name: str, config: Path) -> tuple:
    OUT.mkdir(parents=True, exist_ok=True)
    model_name = "".join(c if c.isalnum() else "-" for c in name.split(" (")[0].lower())
    started = time.perf_counter()
    subprocess.run(
        [RASA, "train", "nlu", "--config", str(config), "--out", str(OUT),
         "--fixed-model-name", model_name, "--quiet"],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return OUT / f"{model_name}.tar.gz", time.perf_counter() - started


def tfidf_baseline(examples: List[dict]) -> Dict[str, object]:
    """Word and character TF-IDF with logistic regression; intents only, no entities."""
    from rasa.shared.nlu.training_data.loading import load_data
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    training = load_data(str(ROOT / "data" / "nlu")).intent_examples
    texts = [m.get("text") for m in training]
    labels = [m.get("intent") for m in training]
    model = make_pipeline(
        make_union(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        ),
        LogisticRegression(C=10, max_iter=3000),
    )
    started = time.perf_counter()
    model.fit(texts, labels)
    train_seconds = time.perf_counter() - started
    parses, latencies = [], []
    for example in examples:
        started = time.perf_counter()
        intent = model.predict([example["text"]])[0]
        latencies.append(time.perf_counter() - started)
        parses.append({"intent": {"name": intent}, "entities": []})
    result = score(examples, parses)
    result["median_parse_ms"] = statistics.median(latencies) * 1000
    result["train_seconds"] = train_seconds
    result["has_entities"] = False
    return result


def _table(rows: List[List[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def report(results: Dict[str, Dict[str, object]], data: str, count: int) -> str:
    ours = results["ours (config.yml)"]
    rows = [["pipeline", "intent accuracy", "intent macro F1", "entity F1",
             "out-of-scope recall", "training time", "median parse"]]
    for name, r in results.items():
        entity = f"{r['entity_f1']:.3f}" if r.get("has_entities", True) else "n/a"
        rows.append([name, f"{r['intent_accuracy']:.3f}", f"{r['intent_macro_f1']:.3f}", entity,
                     f"{r['out_of_scope_recall']:.3f}", f"{r['train_seconds']:.0f} s",
                     f"{r['median_parse_ms']:.1f} ms"])
    best = max(results, key=lambda n: results[n]["intent_macro_f1"])
    intent_rows = [["intent", "precision", "recall", "F1", "n"]] + [
        [n, f"{v['precision']:.2f}", f"{v['recall']:.2f}", f"{v['f1']:.2f}", str(v["support"])]
        for n, v in sorted(ours["intents"].items()) if v["support"]
    ]
    entity_rows = [["entity", "precision", "recall", "F1", "n"]] + [
        [n, f"{v['precision']:.2f}", f"{v['recall']:.2f}", f"{v['f1']:.2f}", str(v["support"])]
        for n, v in ours["entities"].items()
    ]
    confused = "\n".join(
        f"- {c['expected']} → {c['predicted']}: {c['count']}" for c in ours["confusions"]
    ) or "- none"
    targets = ", ".join(f"{k.replace('_', ' ')} ≥ {v}" for k, v in TARGETS.items())
    return f"""# NLU report

Written by `make nlu-report` (`scripts/compare_nlu.py`) on {dt.date.today()}: {count}
held-out messages from `{data}`, never used in training. Training time is the wall
time of `rasa train nlu` (including about 10 s of start-up) on this project's 2-core
machine; parse time is per message, in process. Shared machine: read ratios, not
exact times.

## Pipelines side by side

{_table(rows)}

Highest intent macro F1: **{best}**. Targets for ours (checked in CI by `make eval`):
{targets}. Out-of-scope recall counts a reply of the scope message (intent
`out_of_scope` or the low-confidence fallback) as a catch.

## Ours in detail

Per intent:

{_table(intent_rows)}

Per entity type (exact span and type):

{_table(entity_rows)}

Most confused intent pairs (expected → predicted):

{confused}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="tests/nlu_heldout.yml")
    parser.add_argument("--report", default=str(ROOT / "docs" / "nlu-report.md"))
    args = parser.parse_args()
    examples = load_examples(args.data)
    results: Dict[str, Dict[str, object]] = {}
    for name, config in RASA_PIPELINES.items():
        print(f"Training and evaluating: {name}", flush=True)
        model, seconds = train_rasa(name, config)
        results[name] = evaluate_model(str(model), examples)
        results[name]["train_seconds"] = seconds
    print("Training and evaluating: TF-IDF + logistic regression", flush=True)
    results["TF-IDF + logistic regression"] = tfidf_baseline(examples)
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(report(results, args.data, len(examples)))
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "nlu-compare.json").write_text(json.dumps(results, indent=2))
    for name, r in results.items():
        print(f"  {name:<30} accuracy {r['intent_accuracy']:.3f}  macro F1 "
              f"{r['intent_macro_f1']:.3f}  entity F1 {r['entity_f1']:.3f}  "
              f"train {r['train_seconds']:.0f} s  parse {r['median_parse_ms']:.1f} ms")
    print(f"Report written to {args.report}")


if __name__ == "__main__":
    main()
