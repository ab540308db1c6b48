"""Run `rasa test nlu --cross-validation` with the folds fixed, so that the figure CI
checks is the same on every run.

Rasa shuffles the training data into folds with numpy's global random state and no
seed; this seeds it first and then hands over to Rasa's own command line.

It cross-validates the classifier and the cues around it, without the components named
by `--without` (the Makefile leaves out `OpenWorld`): those decide from words the training
data was not written to contain, and are measured on whole replies by `make eval`
(docs/open-world.md says why this floor stays a guard on the classifier alone).

Usage: python -m tools.evaluation.crossval [SEED] [--without COMPONENT ...] -- <arguments for `rasa test nlu`>
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy
import yaml


def config_without(config: str, left_out: list) -> str:
    """A copy of the config file without the pipeline components named in `left_out`."""
    data = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
    data["pipeline"] = [c for c in data["pipeline"] if c.get("name") not in left_out]
    copy = Path("results") / "crossval-config.yml"
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(copy)


def main(argv: list) -> None:
    before = argv[: argv.index("--")] if "--" in argv else argv[:1]
    seed = int(before[0]) if before and before[0].isdigit() else 0
    left_out = [before[i + 1] for i, word in enumerate(before[:-1]) if word == "--without"]
    rest = argv[argv.index("--") + 1 :] if "--" in argv else argv[1:]
    if left_out and "--config" in rest:
        where = rest.index("--config") + 1
        rest = [*rest[:where], config_without(rest[where], left_out), *rest[where + 1 :]]
    numpy.random.seed(seed)
    random.seed(seed)
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", "test", "nlu", "--cross-validation", *rest]
    rasa_main()


if __name__ == "__main__":
    main(sys.argv[1:])
