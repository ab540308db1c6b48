"""Run `rasa test nlu --cross-validation` with the folds fixed, so that the figure CI
checks is the same on every run.

Rasa shuffles the training data into folds with numpy's global random state and no
seed; this seeds it first and then hands over to Rasa's own command line.

Usage: python -m tools.evaluation.crossval [SEED] -- <arguments for `rasa test nlu`>
"""

from __future__ import annotations

import random
import sys

import numpy


def main(argv: list) -> None:
    seed = int(argv[0]) if argv and argv[0] != "--" else 0
    rest = argv[argv.index("--") + 1 :] if "--" in argv else argv[1:]
    numpy.random.seed(seed)
    random.seed(seed)
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", "test", "nlu", "--cross-validation", *rest]
    rasa_main()


if __name__ == "__main__":
    main(sys.argv[1:])
