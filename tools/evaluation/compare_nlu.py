"""Compare NLU pipelines on the same held-out messages in one run: ours
(config.yml), Rasa's default (what `rasa init` gives) and a TF-IDF + logistic
regression baseline. Reports accuracy, F1, training time and parse latency, and
writes docs/nlu-compare.json and docs/nlu-report.md.

Usage: python -m tools.evaluation.compare_nlu [--data tests/nlu_heldout.yml]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, List

from tests.harness.serverctl import RASA, ROOT
from tools.evaluation.evaluate_nlu import evaluate_model, load_examples, score
from tools.evaluation.nlu_report import COMPARISON, REPORT, write_report

OUT = ROOT / "build" / "compare"
RASA_PIPELINES = {
    "ours (config.yml)": ROOT / "config.yml",
    "spaCy + DIET (previous config)": ROOT / "tools" / "evaluation" / "nlu_configs" / "diet-spacy-config.yml",
    "Rasa default (rasa init)": ROOT / "tools" / "evaluation" / "nlu_configs" / "rasa-default-config.yml",
}


def train_rasa(name: str, config: Path) -> tuple:
    OUT.mkdir(parents=True, exist_ok=True)
    model_name = "".join(c if c.isalnum() else "-" for c in name.split(" (")[0].lower())
    # A cache of its own, so that no pipeline reuses components trained before.
    env = {**os.environ, "RASA_CACHE_DIRECTORY": tempfile.mkdtemp(prefix="rasa-cache-")}
    started = time.perf_counter()
    subprocess.run(
        [
            RASA,
            "train",
            "nlu",
            "--config",
            str(config),
            "--out",
            str(OUT),
            "--fixed-model-name",
            model_name,
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="tests/nlu_heldout.yml")
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
    summary_keys = (
        "intent_accuracy",
        "intent_macro_f1",
        "entity_f1",
        "out_of_scope_recall",
        "train_seconds",
        "median_parse_ms",
        "has_entities",
    )
    COMPARISON.parent.mkdir(parents=True, exist_ok=True)
    COMPARISON.write_text(
        json.dumps(
            {
                "date": str(dt.date.today()),
                "examples": len(examples),
                "pipelines": {name: {k: r[k] for k in summary_keys if k in r} for name, r in results.items()},
            },
            indent=2,
        )
    )
    write_report(results["ours (config.yml)"], args.data)
    for name, r in results.items():
        print(
            f"  {name:<30} accuracy {r['intent_accuracy']:.3f}  macro F1 "
            f"{r['intent_macro_f1']:.3f}  entity F1 {r['entity_f1']:.3f}  "
            f"train {r['train_seconds']:.0f} s  parse {r['median_parse_ms']:.1f} ms"
        )
    print(f"Comparison written to {COMPARISON}; report to {REPORT}")


if __name__ == "__main__":
    main()
