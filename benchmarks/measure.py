"""The measurements, one bot at a time: training, NLU parsing, a cold start, each
shape of conversation (benchmarks/shapes.py), conversations at once, our
channels (the widget's socket.io, Slack and Teams), memory; and the rule engine.

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

from benchmarks import load, widget_client
from benchmarks import platforms as platforms_bench
from benchmarks.bots import OURS, Bot, Running
from benchmarks.shapes import Shape, shape_figures
from benchmarks.stats import median, percentile, ratio
from tests.harness.serverctl import RASA, ROOT

# The held-out NLU messages (`make eval` scores the NLU on them; none is in data/).
HELD_OUT = ROOT / "tests" / "nlu_heldout.yml"
TRAIN_TIMEOUT_S = 1800

Figures = Dict[str, Any]


@dataclass(frozen=True)
class Settings:
    runs: int = 3
    long_rounds: Optional[int] = None  # rounds of each long shape (None: its own, 200 turns and more)
    short_conversations: Optional[int] = None  # of the short shape (None: its own, 70)
    levels: Tuple[int, ...] = (8, 32, 128)  # conversations at once, over REST
    channel_levels: Tuple[int, ...] = (1, 32)  # widgets, Slack and Teams people at once
    parse_limit: Optional[int] = None  # held-out messages to parse (None: all)
    # NLU parsing of the reference too: the smoke run checks the parsing code once, on
    # ours, and saves loading the reference's model a second time (40 s).
    parse_reference: bool = True
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
    long_rounds=2,
    short_conversations=4,
    levels=(2, 4),
    channel_levels=(1, 2),
    parse_limit=20,
    parse_reference=False,
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
    args = [sys.executable, "-m", "benchmarks.parse_worker", str(bot.model), str(HELD_OUT), str(result)]
    args += ["--warm-up", str(settings.parse_warm_up)]
    if settings.parse_limit:
        args += ["--limit", str(settings.parse_limit)]
    _timed_run(args, bot.project, folder / f"{bot.key}-parse.log", _env())
    ms = [s * 1000 for s in json.loads(result.read_text())["seconds"]]
    return {"parse_count": len(ms), "parse_p50_ms": percentile(ms, 50), "parse_p95_ms": percentile(ms, 95)}


def run_shape(url: str, shape: Shape, settings: Settings) -> List[load.Exchange]:
    """One shape, as one person talks: its replies in the order they were sent."""
    if shape.separate:
        count = settings.short_conversations or shape.rounds
        chats = load.one_user(url, shape.messages, len(shape.messages), count)
    else:
        rounds = settings.long_rounds or shape.rounds
        chats = load.one_user(url, shape.messages, shape.turns(rounds), 1)
    return [exchange for chat in chats for exchange in chat]


def shapes(bot: Bot, url: str, settings: Settings, say: Callable[[str], None]) -> Figures:
    """Every shape of the bot's, each shape run once and its figures kept under the
    key of each of ours it stands beside."""
    figures: Figures = {}
    done: Dict[Shape, Figures] = {}
    for key, shape in bot.shapes.items():
        if shape not in done:
            found = done[shape] = shape_figures(run_shape(url, shape, settings), len(shape.messages))
            say(
                f"    {shape.title}: {found['turns']} turns, "
                f"p50 {found['reply_p50_ms'] or 0:.1f} ms, growth {found['growth'] or 0:.2f}x"
            )
        figures.update({f"{key}_{name}": value for name, value in done[shape].items()})
    return figures


# Rounds of the mixed shape each for REST and the widget, in turn, with one conversation.
CHANNEL_REPEATS = 5


def pooled(results: Sequence[load.LoadResult]) -> load.LoadResult:
    """Several load results as one: every exchange, over their wall times added up."""
    return load.LoadResult(
        results[0].conversations,
        sum(r.wall_s for r in results),
        [exchange for r in results for exchange in r.exchanges],
    )


def channels(
    running: Running, messages: Sequence[str], settings: Settings, say: Callable[[str], None]
) -> Figures:
    """Our channels beside REST: the widget's socket.io, and how quickly Slack and
    Teams events are acknowledged, with 1 and with 32 people at once."""
    platforms = getattr(running, "platforms", None)
    figures: Figures = {}
    turns = widget_client.turns_of(running.url, messages)
    for level in settings.channel_levels:
        # Taking turns, REST then the widget, several times over for one conversation
        # (a few dozen replies), so that the machine's ups and downs fall on both alike.
        rests, widgets = [], []
        for _ in range(CHANNEL_REPEATS if level == 1 else 1):
            rests.append(load.load(running.url, messages, level))
            widgets.append(widget_client.widgets(running.url, turns, level))
        rest, widget = pooled(rests).figures(), pooled(widgets).figures()
        figures.update({f"rest{level}_{k}": v for k, v in rest.items()})
        figures.update({f"socket{level}_{k}": v for k, v in widget.items()})
        figures[f"socket{level}_over_rest"] = ratio(widget["p50_ms"], rest["p50_ms"])
        say(
            f"    {level} at once: REST p50 {rest['p50_ms'] or 0:.0f} ms, "
            f"socket.io {widget['p50_ms'] or 0:.0f} ms"
        )
        if platforms is None:
            continue
        for platform in ("slack", "teams"):
            acks = platforms_bench.acknowledgements(
                running.url, platforms, platform, messages, level
            ).figures()
            figures.update({f"{platform}{level}_ack_{k}": v for k, v in acks.items()})
            say(
                f"    {level} on {platform}: acknowledged p95 {acks['p95_ms'] or 0:.0f} ms, "
                f"{acks['errors']} errors"
            )
    return figures


def serving(bot: Bot, folder: Path, settings: Settings, say: Callable[[str], None]) -> Figures:
    """Start the bot (models already trained) and time it to its first reply, then
    each shape of conversation, conversations at once, our channels, and the servers'
    peak memory."""
    workdir = folder / f"{bot.key}-servers"
    workdir.mkdir(exist_ok=True)
    figures: Figures = {}
    started = time.perf_counter()
    with bot.serve(workdir) as running:
        load.first_reply(running.url)
        figures["cold_start_s"] = time.perf_counter() - started
        say(f"    started in {figures['cold_start_s']:.1f} s; warm-up conversation")
        load.warm_up(running.url, bot.load_conversation)
        figures.update(shapes(bot, running.url, settings, say))
        for level in settings.levels:
            result = load.load(running.url, bot.load_conversation, level)
            shown = result.figures()
            say(
                f"    {level} at once: {shown['throughput']:.1f} replies/s, "
                f"p95 {shown['p95_ms'] or 0:.0f} ms, {shown['errors']} errors"
            )
            figures.update({f"c{level}_{key}": value for key, value in shown.items()})
        if bot.key == OURS:
            figures.update(channels(running, bot.load_conversation, settings, say))
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
    if bot.key == OURS or settings.parse_reference:
        steps.append(("parsing", lambda: parsing(bot, folder, settings)))
    steps.append(("serving", lambda: serving(bot, folder, settings, say)))
    if bot.key == OURS:
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
