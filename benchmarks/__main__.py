"""Benchmark our assistant beside the bot `rasa init` makes, with the same Rasa, on
this machine, in the same run: cold start, training, NLU parsing, reply times for one
person and for many at once, memory, and our rule engine. Writes a Markdown report
with each figure beside its target, and the raw figures as JSON beside it.

    python -m benchmarks [--runs 3] [--out benchmarks/results.md]
    python -m benchmarks --smoke --out build/bench/smoke.md   # one tiny run

Our model is models/careers.tar.gz (`make train`); the reference bot is built once
into build/bench/reference-<Rasa version>/. Takes about half an hour with 3 runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List

from benchmarks import reference_bot
from benchmarks.bots import OUR_MODEL, OURS, REFERENCE, Bot, our_bot, snapshot, the_reference_bot
from benchmarks.measure import SMOKE, Settings, one_run
from benchmarks.profile import profile
from benchmarks.report import combine, machine, ratios, render
from benchmarks.targets import evaluate
from tests.harness.serverctl import ROOT

MODEL = OUR_MODEL
WAIT_FOR_MODEL_S = 600


def say(text: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {text}", flush=True)


def our_model(model: Path, folder: Path) -> Path:
    """A copy of our trained model; waits (up to 10 minutes) while it is missing,
    as it is while `make train` retrains it."""
    deadline = time.monotonic() + WAIT_FOR_MODEL_S
    while True:
        try:
            return snapshot(model, folder)
        except FileNotFoundError:
            if time.monotonic() > deadline:
                raise SystemExit(f"no trained model at {model}: run `make train`") from None
            say(f"waiting for {model} (being trained?)")
            time.sleep(60)


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown commit"
    return head + (
        ", with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    )


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def benchmark(settings: Settings, model: Path, folder: Path, command: str) -> Dict[str, Any]:
    started = time.perf_counter()
    reference = the_reference_bot(reference_bot.build_reference(say=say))
    ours = our_bot(our_model(model, folder))
    per_run: Dict[str, List[Dict[str, Any]]] = {OURS: [], REFERENCE: []}
    orders = []
    for run in range(settings.runs):
        order: List[Bot] = [ours, reference] if run % 2 == 0 else [reference, ours]
        orders.append([bot.key for bot in order])
        for bot in order:
            say(f"run {run + 1} of {settings.runs}: {bot.title}")
            run_folder = folder / f"run{run + 1}"
            run_folder.mkdir(exist_ok=True)
            per_run[bot.key].append(one_run(bot, run_folder, settings, say))
    median = {key: combine(runs) for key, runs in per_run.items()}
    say(f"where our server's time goes: py-spy for {settings.profile_seconds} s")
    profiled = None
    try:
        profile_folder = folder / "profile"
        profile_folder.mkdir()
        profiled = profile(ours, profile_folder, settings.profile_level, settings.profile_seconds)
    except Exception as error:  # the report says so; the figures still stand
        say(f"  profile FAILED: {error}")
        median[OURS].setdefault("failures", []).append(f"profile: {type(error).__name__}: {error}")
    return {
        "command": command,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "rasa_version": reference_bot.rasa_version(),
        "commit": commit(),
        "runs": settings.runs,
        "settings": dataclasses.asdict(settings),
        "order": orders,
        "bots": {
            bot.key: {
                "title": bot.title,
                "model": _shown(model if bot is ours else bot.model),
                "conversation": bot.conversation,
                "shapes": {
                    key: {"title": shape.title, "messages": list(shape.messages)}
                    for key, shape in bot.shapes.items()
                },
                "load_conversation": bot.load_conversation,
            }
            for bot in (ours, reference)
        },
        "per_run": per_run,
        "median": median,
        "ratios": ratios(median[OURS], median[REFERENCE]),
        "targets": evaluate(median[OURS], median[REFERENCE]),
        "profile": profiled,
        "duration_s": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, help="runs of every measurement (default 3; 1 with --smoke)")
    parser.add_argument("--smoke", action="store_true", help="one run with tiny counts, to check it works")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results.md", help="the Markdown report"
    )
    parser.add_argument("--model", type=Path, default=MODEL, help="our trained model")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (server and training logs)")
    args = parser.parse_args()
    settings = SMOKE if args.smoke else Settings()
    if args.runs:
        settings = dataclasses.replace(settings, runs=args.runs)

    reference_bot.CACHE.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="run-", dir=reference_bot.CACHE))
    command = "python -m benchmarks " + " ".join(sys.argv[1:]) if sys.argv[1:] else "make bench"
    try:
        results = benchmark(settings, args.model.resolve(), folder, command.strip())
    finally:
        if args.keep:
            say(f"logs kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(results))
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    say(f"wrote {args.out} and {args.out.with_suffix('.json').name} in {results['duration_s'] / 60:.1f} min")
    for target in results["targets"]:
        say(f"  {target['target']}: {target['says']}")


if __name__ == "__main__":
    main()
