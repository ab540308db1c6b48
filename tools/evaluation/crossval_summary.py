"""Summarise `rasa test nlu --cross-validation` output (its log) into JSON for the
NLU report: mean and standard deviation over the test folds.

Usage: python -m tools.evaluation.crossval_summary results/crossval.log docs/nlu-crossval.json FOLDS
           [--min-intent-accuracy X]

Only the intent figures are kept. The entity extractor is rule-based and not
trained, and most training messages are not annotated with entities, so its
figures here would measure the annotations, not the extractor; the held-out
entity F1 (`make eval`) is the measure of it.

With --min-intent-accuracy it exits 1 when the mean intent accuracy over the folds
is below it (by default the target in `tools/evaluation/targets.py`), so CI fails on a
regression.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from pathlib import Path

from tools.evaluation.targets import CROSSVAL_MIN_INTENT_ACCURACY

_FIGURE = re.compile(r"\btest ([\w-]+): ([\d.]+) \(([\d.]+)\)")


def summarise(log: str, folds: int) -> dict:
    figures, section, extractor = {}, "intent", None
    for line in log.splitlines():
        if "Intent evaluation results" in line:
            section, extractor = "intent", None
        elif "Entity evaluation results" in line:
            section = "entity"
        elif "Entity extractor:" in line:
            extractor = line.split("Entity extractor:")[1].strip()
        match = _FIGURE.search(line)
        if match and section == "intent":
            name = (
                f"intent {match.group(1)}"
                if section == "intent"
                else (f"entity {match.group(1)} ({extractor})")
            )
            figures[name] = {"mean": float(match.group(2)), "std": float(match.group(3))}
    return {"date": str(dt.date.today()), "folds": folds, "figures": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("folds", type=int)
    parser.add_argument(
        "--min-intent-accuracy",
        type=float,
        default=CROSSVAL_MIN_INTENT_ACCURACY,
        help="exit 1 below this (default: tools/evaluation/targets.py)",
    )
    args = parser.parse_args()
    summary = summarise(args.log.read_text(), args.folds)
    if not summary["figures"]:
        sys.exit(f"no cross-validation figures found in {args.log}")
    args.out.write_text(json.dumps(summary, indent=2))
    for name, v in summary["figures"].items():
        print(f"  {name:<45} {v['mean']:.3f} ({v['std']:.3f})")
    accuracy = summary["figures"].get("intent Accuracy", {}).get("mean")
    if args.min_intent_accuracy is not None:
        if accuracy is None or accuracy < args.min_intent_accuracy:
            sys.exit(f"cross-validation intent accuracy {accuracy} is below {args.min_intent_accuracy:.2f}")
        print(f"  intent accuracy {accuracy:.3f} (target {args.min_intent_accuracy:.2f}: ok)")


if __name__ == "__main__":
    main()
