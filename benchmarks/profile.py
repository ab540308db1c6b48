"""Where the Rasa server's time goes under load: py-spy samples the running server
while conversations run at once, and each sample is put in one stage of a message
(the first stage found walking from the sampled function out to the request).

    python -m benchmarks.profile [--level 32] [--seconds 20] [--bot ours|reference]

Prints a table; `make bench` runs it on our bot after the runs and adds the table to
benchmarks/results.md. Needs py-spy (requirements.txt) and permission to trace the
server (root, or ptrace allowed).
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from benchmarks import load
from benchmarks.bots import Bot

# (stage, what a frame's "function (file)" contains), checked from the sampled
# function outwards: a sample belongs to the first stage one of its frames names.
STAGES: Tuple[Tuple[str, str], ...] = (
    ("tracker store (load, save)", "tracker_store.py"),
    ("action server calls (JSON, HTTP, checks)", "_execute_custom_action (rasa/core/actions/action.py"),
    ("action server calls (JSON, HTTP, checks)", "request (rasa/utils/endpoints.py"),
    ("NLU (parse the message)", "_parse_message_with_graph (rasa/core/processor.py"),
    ("policies (predict the next action)", "_predict_next_with_tracker (rasa/core/processor.py"),
    ("forms and Rasa's own actions", "rasa/core/actions/"),
    ("rest of handling a message", "handle_message (rasa/core/processor.py"),
    ("HTTP server and event loop", ""),
)


def stage_of(frames: Sequence[str]) -> str:
    """The stage of one sample, its frames listed from the outermost to the sampled one."""
    for frame in reversed(frames):
        for stage, marker in STAGES:
            if marker and marker in frame:
                return stage
    return STAGES[-1][0]


def summarise(raw: str) -> Dict[str, Any]:
    """py-spy's raw output (a stack per line, frames joined by ';', then the count)
    as the share of samples in each stage and the busiest functions of ours and Rasa's."""
    stages: Dict[str, int] = collections.Counter()
    functions: Dict[str, int] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        samples = int(count)
        total += samples
        stages[stage_of(frames)] += samples
        for frame in set(frames):
            if _short(frame).split(" (")[-1].startswith(OURS_AND_RASAS):
                functions[_short(frame)] += samples
    # Below the request handler: not the frames every sample passes through.
    busiest = [(name, n) for name, n in _ordered(functions) if n < 0.9 * total][:15]
    return {
        "samples": total,
        "stages": [(name, samples / total) for name, samples in _ordered(stages)] if total else [],
        "functions": [(name, samples / total) for name, samples in busiest] if total else [],
    }


def _ordered(counts: Dict[str, int]) -> List[Tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: -item[1])


# Where the functions worth listing live (py-spy names files by their import path).
OURS_AND_RASAS = ("rasa/", "runtime/", "nlp/", "actions/", "careers/", "channels/")


def _short(frame: str) -> str:
    """'f (rasa/core/processor.py:123)' -> 'f (rasa/core/processor.py)'."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rstrip(')').rsplit(':', 1)[0]})"


def profile(bot: Bot, workdir: Path, level: int = 32, seconds: int = 20) -> Dict[str, Any]:
    """Starts the bot, warms it up, and samples its Rasa server for `seconds` while
    `level` conversations at a time run against it."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    raw = workdir / "profile.txt"
    with bot.serve(workdir) as running:
        load.first_reply(running.url)
        load.warm_up(running.url, bot.load_conversation)
        assert running.rasa.process is not None
        sampler = subprocess.Popen(
            [py_spy, "record", "--format", "raw", "--rate", "100", "--duration", str(seconds)]
            + ["--pid", str(running.rasa.process.pid), "--output", str(raw)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        done = threading.Event()

        def keep_busy() -> None:
            while not done.is_set():
                load.load(running.url, bot.load_conversation, level)

        busy = threading.Thread(target=keep_busy, daemon=True)
        busy.start()
        _, errors = sampler.communicate(timeout=seconds + 120)
        done.set()
        busy.join(timeout=300)
    if sampler.returncode or not raw.exists():
        raise RuntimeError(f"py-spy failed: {errors.decode(errors='replace')[-500:]}")
    summary = summarise(raw.read_text())
    summary.update({"level": level, "seconds": seconds, "bot": bot.key})
    return summary


def table(summary: Dict[str, Any]) -> List[str]:
    lines = ["| stage | share of the server's time |", "|---|---:|"]
    lines += [f"| {name} | {share:.0%} |" for name, share in summary["stages"]]
    lines += ["", "| function (with what it calls) | share |", "|---|---:|"]
    lines += [f"| `{name}` | {share:.0%} |" for name, share in summary["functions"]]
    return lines


def main() -> None:
    from benchmarks.bots import OUR_MODEL, our_bot, snapshot, the_reference_bot
    from benchmarks.reference_bot import build_reference

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--level", type=int, default=32, help="conversations at once")
    parser.add_argument("--seconds", type=int, default=20, help="how long to sample")
    parser.add_argument("--bot", choices=["ours", "reference"], default="ours")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.bot == "ours":
            bot = our_bot(snapshot(OUR_MODEL, Path(folder)))
        else:
            bot = the_reference_bot(build_reference(say=print))
        summary = profile(bot, Path(folder), args.level, args.seconds)
    print(f"{summary['samples']} samples of the {bot.title} at {args.level} conversations at once:")
    print("\n".join(table(summary)))


if __name__ == "__main__":
    main()
