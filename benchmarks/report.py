"""The benchmark's results: the machine it ran on, the figures of several runs
combined, and the Markdown report (benchmarks/results.md) made from them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from benchmarks.profile import table as profile_table
from benchmarks.shapes import OUR_SHAPES
from benchmarks.stats import median, ratio
from benchmarks.targets import OURS, TARGETS, number

Figures = Dict[str, Any]

# Figures that are counts of things that went wrong: added up over the runs, not a median.
COUNTED = ("errors", "empty")


def _first(path: Path, prefix: str) -> Optional[str]:
    """What follows `prefix` on the first line of the file that starts with it."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    return next((line[len(prefix) :].strip() for line in lines if line.startswith(prefix)), None)


def machine(proc: Path = Path("/proc")) -> Dict[str, Any]:
    """Cores, memory and CPU model of this machine (Linux)."""
    cpu = _first(proc / "cpuinfo", "model name")
    memory = _first(proc / "meminfo", "MemTotal:")
    memory_kb = int(memory.split()[0]) if memory else 0
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024**2, 1),
        "cpu": cpu.lstrip(": ") if cpu else "unknown",
    }


def combine(runs: Sequence[Figures]) -> Figures:
    """One figure per key over several runs: the median (per turn for lists of turns),
    or the total for counts of errors; failures are listed with their run."""
    combined: Figures = {}
    for key in dict.fromkeys(key for run in runs for key in run):
        values = [run[key] for run in runs if run.get(key) is not None]
        if key == "failures":
            combined[key] = [
                f"run {i + 1}, {step}: {why}" for i, run in enumerate(runs) for step, why in run[key].items()
            ]
        elif key.endswith(COUNTED):
            combined[key] = sum(values)
        elif key.endswith("error_kinds"):
            combined[key] = sorted({kind for value in values for kind in value})
        elif values and isinstance(values[0], list):
            combined[key] = [median(turn) for turn in zip(*values, strict=True)]
        else:
            combined[key] = median(values)
    return combined


def ratios(ours: Figures, reference: Figures) -> Dict[str, Optional[float]]:
    """ours / reference for every number both have."""
    return {
        key: ratio(value, reference.get(key))
        for key, value in ours.items()
        if isinstance(value, (int, float)) and isinstance(reference.get(key), (int, float))
    }


# (figure, label, unit): the rows of the figures table; {shape} and {level} are filled
# in for each shape and level (_filled), {turns}, {requests} and counts from the run.
ROWS: List[Tuple[str, str, str]] = [
    ("cold_start_s", "Cold start: launch to first reply", "s"),
    ("train_scratch_s", "Training from scratch (empty cache)", "s"),
    ("train_nochange_s", "Retraining, nothing changed", "s"),
    ("parse_p50_ms", "NLU parse p50 ({parse_count} held-out messages)", "ms"),
    ("parse_p95_ms", "NLU parse p95", "ms"),
]
SHAPE_ROWS: List[Tuple[str, str, str]] = [
    ("{shape}_reply_p50_ms", "{shape}: reply p50 ({turns} turns)", "ms"),
    ("{shape}_reply_p95_ms", "{shape}: reply p95", "ms"),
    ("{shape}_first_ms", "{shape}: median of the first turns", "ms"),
    ("{shape}_last_ms", "{shape}: median of the last turns", "ms"),
    ("{shape}_growth", "{shape}: growth, last turns / first turns", "×"),
    ("{shape}_errors", "{shape}: errors", "n"),
]
LEVEL_ROWS: List[Tuple[str, str, str]] = [
    ("c{level}_throughput", "{level} at once: replies per second", "/s"),
    ("c{level}_p50_ms", "{level} at once: p50", "ms"),
    ("c{level}_p95_ms", "{level} at once: p95", "ms"),
    ("c{level}_errors", "{level} at once: errors (of {requests} requests)", "n"),
]
CHANNEL_ROWS: List[Tuple[str, str, str]] = [
    ("rest{level}_p50_ms", "{level} at once, REST: reply p50", "ms"),
    ("socket{level}_p50_ms", "{level} at once, socket.io: reply p50", "ms"),
    ("socket{level}_over_rest", "{level} at once: socket.io p50 / REST p50", "×"),
    ("socket{level}_errors", "{level} at once, socket.io: errors (of {requests} messages)", "n"),
    ("slack{level}_ack_p50_ms", "{level} at once, Slack: acknowledged p50", "ms"),
    ("slack{level}_ack_p95_ms", "{level} at once, Slack: acknowledged p95", "ms"),
    ("slack{level}_ack_errors", "{level} at once, Slack: errors (of {requests} events)", "n"),
    ("teams{level}_ack_p50_ms", "{level} at once, Teams: acknowledged p50", "ms"),
    ("teams{level}_ack_p95_ms", "{level} at once, Teams: acknowledged p95", "ms"),
    ("teams{level}_ack_errors", "{level} at once, Teams: errors (of {requests} activities)", "n"),
]
END_ROWS: List[Tuple[str, str, str]] = [
    ("rasa_peak_mb", "Peak memory: Rasa server (VmHWM)", "MB"),
    ("actions_peak_mb", "Peak memory: action server (VmHWM)", "MB"),
    ("engine_us", "Rule engine: time per verdict ({engine_profiles} profiles)", "µs"),
]


def shown(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "n":
        return f"{value:.0f}"
    if unit == "×":
        return f"{value:.2f}×"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit == "/s":
        return f"{value:.1f}/s"
    return f"{number(value)} {unit}"


def _filled(rows: List[Tuple[str, str, str]], name: str, key: str, label: str) -> List[Tuple[str, str, str]]:
    """`rows` with `{name}` filled in: by `key` in the figure, by `label` in the label."""
    return [
        (figure.format(**{name: key}), text.replace("{" + name + "}", label), unit)
        for figure, text, unit in rows
    ]


def _rows(results: Mapping[str, Any]) -> List[Tuple[str, str, str]]:
    settings = results["settings"]
    rows = list(ROWS)
    for shape in OUR_SHAPES:
        rows += _filled(SHAPE_ROWS, "shape", shape.key, shape.title.capitalize())
    for level in settings["levels"]:
        rows += _filled(LEVEL_ROWS, "level", str(level), str(level))
    for level in settings.get("channel_levels", []):
        rows += _filled(CHANNEL_ROWS, "level", str(level), str(level))
    return rows + END_ROWS


def _label(label: str, figure: str, results: Mapping[str, Any]) -> str:
    ours, reference = results["median"]["ours"], results["median"]["reference"]

    def count(key: str) -> str:
        value = ours.get(key) or reference.get(key)
        return "?" if value is None else f"{value:.0f}"

    requests_key = figure.replace("_errors", "_requests")
    return label.format(
        parse_count=count("parse_count"),
        turns=count(figure.split("_", 1)[0] + "_turns"),
        engine_profiles=count("engine_profiles"),
        requests=count(requests_key),
    )


def _targets_table(results: Mapping[str, Any]) -> List[str]:
    ours, reference = results["median"]["ours"], results["median"]["reference"]
    units = {row[0]: row[2] for row in _rows(results)}
    lines = ["| Target | Ours | Reference | Held to the target | Result |", "|---|---:|---:|---:|---|"]
    for target, outcome in zip(TARGETS, results["targets"], strict=True):
        unit = units.get(target.figure, "")
        compared = (
            "—"
            if outcome["value"] is None
            else (shown(outcome["value"], "×") if target.scope != OURS else shown(outcome["value"], unit))
        )
        mark = {True: "✅ ", False: "❌ ", None: ""}[outcome["met"]]
        lines.append(
            f"| {target.says} | {shown(ours.get(target.figure), unit)} | "
            f"{shown(reference.get(target.figure), unit)} | {compared} | {mark}{outcome['says']} |"
        )
    return lines


def _figures_table(results: Mapping[str, Any]) -> List[str]:
    ours, reference = results["median"]["ours"], results["median"]["reference"]
    lines = ["| Measure | Ours | Reference | Ours / reference |", "|---|---:|---:|---:|"]
    for figure, label, unit in _rows(results):
        if ours.get(figure) is None and reference.get(figure) is None:
            continue
        # A ratio of growths or of error counts would say nothing.
        compared = results["ratios"].get(figure) if unit not in ("×", "n") else None
        lines.append(
            f"| {_label(label, figure, results)} | {shown(ours.get(figure), unit)} | "
            f"{shown(reference.get(figure), unit)} | {shown(compared, '×')} |"
        )
    return lines


def render(results: Mapping[str, Any]) -> str:
    """The Markdown report of a benchmark's results (as `python -m benchmarks` saves them)."""
    host, settings = results["machine"], results["settings"]
    met = [t["met"] for t in results["targets"]]
    bots = results["bots"]
    lines = [
        "# Benchmarks: our assistant beside the bot `rasa init` makes",
        "",
        f"Written by `{results['command']}` on {results['date']}; rerun it rather than editing this file. "
        "Raw figures, run by run: the `.json` file beside this one.",
        "",
    ]
    if settings.get("smoke"):
        lines += [
            "**Smoke run**: one run with tiny counts, to check the benchmark works; not figures to quote."
            + ("" if settings.get("training", True) else " Training is left to `make bench`."),
            "",
        ]
    lines += [
        f"**Targets: {met.count(True)} met, {met.count(False)} missed"
        + (f", {met.count(None)} not measured" if None in met else "")
        + f"** (of {len(met)}).",
        "",
        "## Machine and run",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {host['cpu']}, {host['cores']} cores |",
        f"| Memory | {host['memory_gb']} GB |",
        f"| Rasa | {results['rasa_version']} (both bots) |",
        f"| Date | {results['date']} |",
        f"| Runs | {results['runs']}: each figure is the median of the runs (error counts are totals); "
        f"the bots took turns to go first ({'; '.join(', '.join(order) for order in results['order'])}) |",
        f"| Took | {results['duration_s'] / 60:.0f} min |",
        f"| Ours | {bots['ours']['model']} ({results.get('commit', 'unknown commit')}) |",
        f"| Reference | {bots['reference']['model']} |",
        "",
        "## Targets",
        "",
        "Ratios are ours / the reference's, measured in the same run.",
        "",
        *_targets_table(results),
        "",
        "## Figures",
        "",
        *_figures_table(results),
        "",
        "## How each figure is measured",
        "",
        "- **Cold start**: from launching the servers (ours: the action server, then Rasa once it answers, "
        "as `make run` starts them; the reference: Rasa alone; both models already trained) until a "
        'POSTed "hello" gets a 200 with a non-empty reply.',
        "- **Training**: `rasa train` with an empty cache (`RASA_CACHE_DIRECTORY`) and output folder, "
        "then the same command again with nothing changed (Rasa restores every component from its cache).",
        "- **NLU parse**: `Agent.parse_message` in a process of its own, after "
        f"{settings['parse_warm_up']} warm-up calls, on the held-out messages of `tests/nlu_heldout.yml`.",
        "- **Shapes of conversation** (one person, over REST, after one warm-up conversation): "
        + "; ".join(f"{shape.title}" for shape in OUR_SHAPES)
        + ". Each long shape is one conversation going round its messages for 200 turns or more (turn k "
        "and turn k + n send the same message); the short one is 70 conversations of 3 turns, one after "
        "another. Growth is the median reply of the last turns over that of the first, each at least 20 "
        "replies of whole rounds (for the short shape: of the last and first conversations). The reference "
        "cannot run a check: each long shape of ours is set beside its own conversation gone round for as "
        "many turns, and the short one beside its first three messages as conversations of their own.",
        f"- **At once**: {', '.join(str(n) for n in settings['levels'])} conversations at the same time, "
        "each sending the mixed shape's messages (ours; the reference its own conversation), each its next "
        "message when the previous reply arrives; replies per second over the wall time (errors not "
        "counted), p50 and p95 of the answered requests; every non-200, timeout, connection error or "
        "exception is an error.",
        f"- **Our channels** (ours only), with {' and '.join(map(str, settings.get('channel_levels', [])))} "
        "at once, each sending the mixed shape's messages (one conversation: five times, REST and the widget "
        "in turn): REST, then the widget's path, socket.io over a "
        "WebSocket as a browser's client uses it (`benchmarks/widget_client.py`: from a message sent "
        "to the turn's last message received); then Slack events and Teams activities through their "
        "stand-ins (`benchmarks/platforms.py`: the time to the webhook's answer, each person sending "
        "the next message once the turn's replies are posted). The per-address limits are raised for the "
        "benchmark, which sends everything from one address.",
        "- **Peak memory**: VmHWM of each server process after all of the above.",
        f"- **Rule engine** (ours only): `careers.engine.assess` on every profile of the table in "
        f"`tests/test_engine.py`, {settings['engine_passes']} passes; the median pass per verdict.",
        "",
        "The conversations:",
        "",
        *[f"- ours, {shape.title}: {' / '.join(shape.messages)}" for shape in OUR_SHAPES],
        f"- reference: {' / '.join(bots['reference']['conversation'])}",
        "",
    ]
    failures = [
        f"- {bot}: {why}"
        for bot in ("ours", "reference")
        for why in results["median"][bot].get("failures", [])
    ]
    kinds = [
        f"- {bot}, {level} at once: {', '.join(results['median'][bot].get(f'c{level}_error_kinds') or [])}"
        for bot in ("ours", "reference")
        for level in settings["levels"]
        if results["median"][bot].get(f"c{level}_error_kinds")
    ]
    if failures or kinds:
        lines += ["## What went wrong", "", *failures, *kinds, ""]
    sampled = results.get("profile")
    if sampled:
        lines += [
            "## Where our server's time goes",
            "",
            f"py-spy sampled our Rasa server for {sampled['seconds']} s while {sampled['level']} "
            f"conversations ran at once ({sampled['samples']} samples; `python -m benchmarks.profile` "
            "reruns it). Each sample counts once, in the first stage found from the sampled function "
            "outwards; the second table counts a function with everything it calls.",
            "",
            *profile_table(sampled),
            "",
        ]
    return "\n".join(lines)
