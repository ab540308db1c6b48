"""Summarise `rasa test nlu --cross-validation` output (its log) into JSON for the
NLU report: mean and standard deviation over the test folds.

Usage: python -m scripts.crossval_summary results/crossval.log docs/nlu-crossval.json FOLDS
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

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
        if match and (section == "intent" or extractor):
            name = f"intent {match.group(1)}" if section == "intent" else (
                f"entity {match.group(1)} ({extractor})")
            figures[name] = {"mean": float(match.group(2)), "std": float(match.group(3))}
    return {"date": str(dt.date.today()), "folds": folds, "figures": figures}


def main() -> None:
    log_path, out_path, folds = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    summary = summarise(log_path.read_text(), folds)
    if not summary["figures"]:
        sys.exit(f"no cross-validation figures found in {log_path}")
    out_path.write_text(json.dumps(summary, indent=2))
    for name, v in summary["figures"].items():
        print(f"  {name:<45} {v['mean']:.3f} ({v['std']:.3f})")


if __name__ == "__main__":
    main()
