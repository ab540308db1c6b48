"""Draw the open-world outside sets from CLINC150 (issue 25).

    python -m tools.evaluation.outside_sample path/to/data_full.json [--out DIR]

CLINC150 (Larson et al., 2019; github.com/clinc/oos-eval, CC BY 3.0) holds requests
people made of general assistants: 150 intents (banking, travel, cooking, ...) and
requests none of them covers. None is about getting into clinical engineering, so every
one should be declined and none should act. This project keeps no copy in git (data
from public repositories lives in the steering repository's `shared/`, which is not
kept between machines): fetch the repository, then run this to write

- `outside_requests.tsv`: 1,200 requests from the test and out-of-scope test splits,
  drawn with seed 2026 (evidence: not to be tuned on);
- `outside_dev.tsv`: 300 more from the same splits, disjoint, seed 7 (may be tuned on);
- `outside_val.tsv`: every request of the validation splits (val + oos_val), which the
  two above never draw from (may be tuned on: a larger development set);

each line "request<TAB>CLINC150 intent", with a header naming the source and licence,
and a `SHA256SUMS` of both, so that a run can say which copy it measured. The draw
depends only on the file and the seeds, so anyone with the same file gets the same sets.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from tools.evaluation.open_world import DATASETS

OUTSIDE = ("outside_requests.tsv", 1200, 2026)
OUTSIDE_DEV = ("outside_dev.tsv", 300, 7)
VALIDATION = "outside_val.tsv"
HEADER = (
    "# {count} requests from CLINC150 (github.com/clinc/oos-eval, data/data_full.json, splits "
    "{how}.\n# Licence: CC BY 3.0, Larson et al. 2019, 'An Evaluation "
    "Dataset for Intent Classification and Out-of-Scope Prediction'. Drawn by "
    "tools/evaluation/outside_sample.py.\n"
)


def pool(data: dict, splits: Sequence[str] = ("test", "oos_test")) -> List[Tuple[str, str]]:
    """The requests of `splits`, without repeats, in the file's order."""
    seen, requests = set(), []
    for text, intent in [row for split in splits for row in data[split]]:
        text = " ".join(str(text).split())
        if text and text not in seen:
            seen.add(text)
            requests.append((text, str(intent)))
    return requests


def draw(requests: Sequence[Tuple[str, str]]) -> List[Tuple[str, List[Tuple[str, str]], str]]:
    """The two sets, each (file name, requests, how they were drawn): the outside set
    first, then the development set from what is left."""
    chosen = random.Random(OUTSIDE[2]).sample(list(requests), OUTSIDE[1])
    taken = set(chosen)
    rest = [r for r in requests if r not in taken]
    dev = random.Random(OUTSIDE_DEV[2]).sample(rest, OUTSIDE_DEV[1])
    drawn = "test + oos_test), seed {}"
    return [
        (OUTSIDE[0], chosen, drawn.format(OUTSIDE[2])),
        (OUTSIDE_DEV[0], dev, drawn.format(OUTSIDE_DEV[2])),
    ]


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_full", type=Path, help="CLINC150's data/data_full.json")
    parser.add_argument("--out", type=Path, default=DATASETS / "clinc150_oos_eval")
    args = parser.parse_args(argv)
    data = json.loads(args.data_full.read_text(encoding="utf-8"))
    args.out.mkdir(parents=True, exist_ok=True)
    sums = []
    drawn = draw(pool(data))
    drawn.append((VALIDATION, pool(data, ("val", "oos_val")), "val + oos_val), all of them"))
    for name, rows, how in drawn:
        body = HEADER.format(count=len(rows), how=how) + "".join(f"{t}\t{i}\n" for t, i in rows)
        (args.out / name).write_text(body, encoding="utf-8")
        sums.append(f"{hashlib.sha256(body.encode('utf-8')).hexdigest()}  {name}\n")
        print(f"{args.out / name}: {len(rows)} requests")
    (args.out / "SHA256SUMS").write_text("".join(sums), encoding="utf-8")


if __name__ == "__main__":
    main()
