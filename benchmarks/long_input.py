"""Benchmark: how message length affects reply time and the Rasa server's memory,
with our input guard (config.yml) and without it (the same pipeline, minus the
guard components). Starts real servers on free local ports.

Usage: python -m benchmarks.long_input [--sizes 100 1000 10000 100000] [--repeat 3]
Prints a table of median reply time and peak resident memory per size.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import yaml

from tests.harness.serverctl import RASA, ROOT, running_assistant

GUARDS = {"nlp.rasa_components.MessageGuard", "nlp.rasa_components.LongMessageFallback"}
CACHE = ROOT / "build" / "bench"


def unguarded_model() -> Path:
    """Train (once per config) the same pipeline without the guard components."""
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["pipeline"] = [c for c in config["pipeline"] if c["name"] not in GUARDS]
    text = yaml.safe_dump(config, sort_keys=False)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    model = CACHE / f"unguarded-{digest}.tar.gz"
    if not model.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        config_path = CACHE / f"config-unguarded-{digest}.yml"
        config_path.write_text(text)
        print(f"Training the unguarded comparison model ({config_path.name})...", flush=True)
        subprocess.run(
            [
                RASA,
                "train",
                "--config",
                str(config_path),
                "--out",
                str(CACHE),
                "--fixed-model-name",
                model.name[: -len(".tar.gz")],
                "--quiet",
            ],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return model


def measure(model: Path, sizes: List[int], repeat: int) -> Dict[int, Dict[str, float]]:
    results: Dict[int, Dict[str, float]] = {}
    with running_assistant(model, Path(tempfile.mkdtemp(prefix="bench-"))) as assistant:
        assistant.post({"sender": "warm-up", "message": "hello"})
        for size in sizes:
            message = ("clinical engineering " * (size // 21 + 1))[:size]
            times = []
            for attempt in range(repeat):
                started = time.perf_counter()
                status, _ = assistant.post({"sender": f"bench-{size}-{attempt}", "message": message})
                times.append(time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"HTTP {status} for a {size}-character message")
            results[size] = {
                "median_s": statistics.median(times),
                "peak_mb": assistant.rasa.memory_kb("VmHWM") / 1024,
                "resident_mb": assistant.rasa.memory_kb("VmRSS") / 1024,
            }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000, 100000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--model", default=str(ROOT / "models" / "careers.tar.gz"))
    args = parser.parse_args()

    runs = {"guarded (config.yml)": Path(args.model), "unguarded": unguarded_model()}
    table = {name: measure(model, args.sizes, args.repeat) for name, model in runs.items()}
    print(f"\nReply time (median of {args.repeat}) and Rasa's peak resident memory so far")
    print(f"{'characters':>10} | " + " | ".join(f"{name:^32}" for name in table))
    for size in args.sizes:
        cells = [
            f"{r[size]['median_s']:7.2f} s  peak {r[size]['peak_mb']:6.0f} MB"
            f"  now {r[size]['resident_mb']:5.0f}"
            for r in table.values()
        ]
        print(f"{size:>10} | " + " | ".join(cells))


if __name__ == "__main__":
    main()
