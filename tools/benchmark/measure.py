"""The measurements, one bot at a time: training, NLU parsing, a cold start, one
person's long conversation, conversations at once, memory; and the rule engine.

Each function returns a flat dict of figures (seconds, milliseconds, MB, µs as the
key says); a step that fails leaves its figures out and says why under "failures".
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from tools.benchmark import load
from tools.benchmark.bots import Bot
from tools.benchmark.stats import median, percentile, ratio
from tools.running.serverctl import RASA, ROOT

# The held-out NLU messages (`make eval` scores the NLU on them; none is in data/).
HELD_OUT = ROOT / "tests" / "nlu_heldout.yml"
TRAIN_TIMEOUT_S = 1800

Figures = Dict[str, Any]


@dataclass(frozen=True)
class Settings:
    runs: int = 3
    conversations: int = 3  # one-user conversations per run, one after another
    turns: int = 40  # each goes round the bot's 10-message conversation
    levels: Tuple[int, ...] = (8, 32, 128)  # conversations at once
    parse_limit: Optional[int] = None  # held-out messages to parse (None: all)
    parse_warm_up: int = 5
    engine_passes: int = 200  # over all the engine table's profiles
    profile_level: int = 32  # conversations at once while py-spy samples our server
    profile_seconds: int = 20
    # `rasa train` from scratch and again unchanged, for both bots: minutes of each
    # run, so the smoke run (part of `make test`) leaves it to `make bench`.
    training: bool = True
    smoke: bool = False


SMOKE = Settings(
    runs=1,
    conversations=1,
    turns=20,
    levels=(2, 4),
    parse_limit=20,
    parse_warm_up=2,
    engine_passes=5,
    profile_level=4,
    profile_seconds=3,
    training=False,
    smoke=True,
)


def _env(**extra: str) -> Dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT), **extra}


def _timed_run(args: List[str], cwd: Path, log: Path, env: Dict[str, str]) -> float:
    with open(log, "ab") as output:
        started = time.perf_counter()
        done = subprocess.run(
            args, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, timeout=TRAIN_TIMEOUT_S
        )
        seconds = time.perf_counter() - started
    if done.returncode:
        tail = log.read_text(errors="replace")[-1500:]
        raise RuntimeError(f"{' '.join(args[:2])} exited with {done.returncode}: ...{tail}")
    return seconds


def training(bot: Bot, folder: Path) -> Figures:
    """`rasa train` with an empty cache and output folder, then again with the same
    ones and nothing changed."""
    cache, out = folder / f"{bot.key}-train-cache", folder / f"{bot.key}-train-out"
    for empty in (cache, out):
        shutil.rmtree(empty, ignore_errors=True)
        empty.mkdir(parents=True)
    args = [RASA, "train", *bot.train_args, "--out", str(out)]
    env = _env(RASA_CACHE_DIRECTORY=str(cache))
    log = folder / f"{bot.key}-train.log"
    try:
        scratch = _timed_run(args, bot.project, log, env)
        again = _timed_run(args, bot.project, log, env)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    return {"train_scratch_s": scratch, "train_nochange_s": again}


def parsing(bot: Bot, folder: Path, settings: Settings) -> Figures:
    """NLU alone, in a process of its own: p50 and p95 over the held-out messages."""
    result = folder / f"{bot.key}-parse.json"
    args = [sys.executable, "-m", "tools.benchmark.parse_worker", str(bot.model), str(HELD_OUT), str(result)]
    args += ["--warm-up", str(settings.parse_warm_up)]
    if settings.parse_limit:
        args += ["--limit", str(settings.parse_limit)]
    _timed_run(args, bot.project, folder / f"{bot.key}-parse.log", _env())
    ms = [s * 1000 for s in json.loads(result.read_text())["seconds"]]
    return {"parse_count": len(ms), "parse_p50_ms": percentile(ms, 50), "parse_p95_ms": percentile(ms, 95)}


def turn_figures(conversations: Sequence[Sequence[load.Exchange]], cycle: int) -> Figures:
    """One person's conversations: p50/p95/p99 over every reply, the median reply per
    turn, and how replies late in the conversation compare with early ones."""
    answered = [e.seconds * 1000 for c in conversations for e in c if not e.error]
    turns = max((len(c) for c in conversations), default=0)
    per_turn = [
        median(c[k].seconds * 1000 for c in conversations if k < len(c) and not c[k].error)
        for k in range(turns)
    ]

    def replies(first: int, last: int) -> Optional[float]:
        return median(e.seconds * 1000 for c in conversations for e in c[first:last] if not e.error)

    first_cycle, last_cycle = replies(0, cycle), replies(max(turns - cycle, 0), turns)
    first, last = (per_turn[0], per_turn[-1]) if per_turn else (None, None)
    return {
        "reply_count": len(answered),
        "reply_p50_ms": percentile(answered, 50),
        "reply_p95_ms": percentile(answered, 95),
        "reply_p99_ms": percentile(answered, 99),
        "one_user_errors": sum(1 for c in conversations for e in c if e.error),
        "turns": turns,
        "turn_first_ms": first,
        "turn_last_ms": last,
        "first_cycle_ms": first_cycle,
        "last_cycle_ms": last_cycle,
        "growth_last_over_first": ratio(last, first),
        "growth_last_cycle_over_first": ratio(last_cycle, first_cycle),
        "per_turn_ms": per_turn,
    }


def serving(bot: Bot, folder: Path, settings: Settings, say: Callable[[str], None]) -> Figures:
    """Start the bot (models already trained) and time it to its first reply, then
    one person's conversations, conversations at once and the servers' peak memory."""
    workdir = folder / f"{bot.key}-servers"
    workdir.mkdir(exist_ok=True)
    figures: Figures = {}
    started = time.perf_counter()
    with bot.serve(workdir) as running:
        load.first_reply(running.url)
        figures["cold_start_s"] = time.perf_counter() - started
        say(f"    started in {figures['cold_start_s']:.1f} s; warm-up conversation")
        load.warm_up(running.url, bot.conversation)
        say(f"    one user: {settings.conversations} × {settings.turns} turns")
        chats = load.one_user(running.url, bot.conversation, settings.turns, settings.conversations)
        figures.update(turn_figures(chats, len(bot.conversation)))
        for level in settings.levels:
            result = load.load(running.url, bot.conversation, level)
            shown = result.figures()
            say(
                f"    {level} at once: {shown['throughput']:.1f} replies/s, "
                f"p95 {shown['p95_ms'] or 0:.0f} ms, {shown['errors']} errors"
            )
            figures.update({f"c{level}_{key}": value for key, value in shown.items()})
        figures["rasa_peak_mb"] = running.rasa.memory_kb("VmHWM") / 1024
        if running.actions is not None:
            figures["actions_peak_mb"] = running.actions.memory_kb("VmHWM") / 1024
    return figures


def engine_speed(passes: int) -> Figures:
    """Microseconds per verdict of `careers.engine.assess`, over every profile of the
    engine's table (tests/test_engine.py), `passes` times: the median pass."""
    from careers.engine import assess
    from careers.rules_file import default_rules

    # The table is the engine's specification; imported by name so that the
    # type checker does not take the tests in with the tools.
    table = importlib.import_module("tests.test_engine").VERDICTS
    profiles = [row[1] for row in table]
    rules = default_rules()
    for profile in profiles:
        assess(rules, profile)
    per_verdict = []
    for _ in range(passes):
        started = time.perf_counter()
        for profile in profiles:
            assess(rules, profile)
        per_verdict.append((time.perf_counter() - started) / len(profiles))
    return {"engine_us": (median(per_verdict) or 0) * 1e6, "engine_profiles": len(profiles)}


def one_run(bot: Bot, folder: Path, settings: Settings, say: Callable[[str], None]) -> Figures:
    """Every measurement of one bot, once; a failed step is noted and the rest go on."""
    figures: Figures = {"failures": {}}
    steps: List[Tuple[str, Callable[[], Figures]]] = []
    if settings.training:
        steps.append(("training", lambda: training(bot, folder)))
    steps.append(("parsing", lambda: parsing(bot, folder, settings)))
    steps.append(("serving", lambda: serving(bot, folder, settings, say)))
    if bot.key == "ours":
        steps.append(("rule engine", lambda: engine_speed(settings.engine_passes)))
    for name, step in steps:
        say(f"  {bot.key}: {name}")
        started = time.perf_counter()
        try:
            figures.update(step())
        except Exception as error:  # noted in the report; the other steps still run
            figures["failures"][name] = f"{type(error).__name__}: {error}"
            say(f"  {bot.key}: {name} FAILED: {error}")
        say(f"  {bot.key}: {name} took {time.perf_counter() - started:.0f} s")
    return figures
