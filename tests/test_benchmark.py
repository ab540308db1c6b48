"""`make bench`: the benchmark's arithmetic, its targets and its report from fixed
figures; and, with the servers, a smoke run end to end (tiny counts, one run).

No timings are asserted: the figures depend on the machine."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmarks.load import Exchange, LoadResult
from benchmarks.report import combine, machine, ratios, render
from benchmarks.shapes import shape_figures
from benchmarks.stats import median, percentile, ratio
from benchmarks.targets import AT_LEAST, AT_MOST, OURS, RATIO, TARGETS, Target, evaluate, verdict
from tests.harness.serverctl import ROOT


def test_percentiles_interpolate_between_ranks():
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 3.0
    assert percentile(values, 100) == 5.0
    assert percentile(values, 95) == pytest.approx(4.8)
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_medians_and_ratios_leave_out_what_was_not_measured():
    assert median([3.0, None, 1.0, 2.0]) == 2.0
    assert median([None]) is None
    assert ratio(1.0, 4.0) == 0.25
    assert ratio(1.0, 0) is None
    assert ratio(None, 2.0) is None


def test_a_target_is_met_or_missed_by_how_much():
    at_most = Target("x", RATIO, 0.25, AT_MOST, "x at most 0.25×")
    assert verdict(at_most, 0.2)["met"] is True
    missed = verdict(at_most, 0.5)
    assert missed["met"] is False and "100% over" in missed["says"]
    at_least = Target("y", RATIO, 3.0, AT_LEAST, "y at least 3×")
    assert verdict(at_least, 3.0)["met"] is True
    assert "50% under" in verdict(at_least, 1.5)["says"]
    no_errors = Target("c32_errors", OURS, 0, AT_MOST, "no errors", unit=" errors")
    assert verdict(no_errors, 0) == {"met": True, "value": 0, "says": "met (no errors)"}
    assert verdict(no_errors, 4)["says"] == "missed: 4 errors"
    assert verdict(at_most, None) == {"met": None, "value": None, "says": "not measured"}


OURS_FIGURES = {
    "cold_start_s": 10.0,
    "train_scratch_s": 50.0,
    "train_nochange_s": 12.0,
    "parse_count": 320,
    "parse_p50_ms": 2.0,
    "parse_p95_ms": 4.0,
    **{
        f"{shape}_{name}": value
        for shape in ("completed", "interrupted", "corrections", "short")
        for name, value in {
            "turns": 200,
            "reply_p50_ms": 20.0,
            "reply_p95_ms": 40.0,
            "first_ms": 20.0,
            "last_ms": 22.0,
            "growth": 1.1,
            "errors": 0,
        }.items()
    },
    "interrupted_growth": 1.5,
    "c8_throughput": 50.0,
    "c8_p50_ms": 100.0,
    "c8_p95_ms": 300.0,
    "c8_errors": 0,
    "c8_requests": 80,
    "c32_throughput": 60.0,
    "c32_p50_ms": 400.0,
    "c32_p95_ms": 900.0,
    "c32_errors": 2,
    "c32_requests": 320,
    "c32_error_kinds": ["HTTP 500"],
    "rest1_p50_ms": 20.0,
    "socket1_p50_ms": 22.0,
    "socket1_over_rest": 1.1,
    "rest32_p50_ms": 400.0,
    "socket32_p50_ms": 600.0,
    "socket32_over_rest": 1.5,
    "slack32_ack_p95_ms": 80.0,
    "slack32_ack_errors": 0,
    "slack32_ack_requests": 224,
    "teams32_ack_p95_ms": 120.0,
    "rasa_peak_mb": 500.0,
    "actions_peak_mb": 120.0,
    "engine_us": 80.0,
    "engine_profiles": 70,
    "failures": [],
}
REFERENCE_FIGURES = {
    **{
        key: value
        for key, value in OURS_FIGURES.items()
        if not key.startswith(("engine", "actions", "rest", "socket", "slack", "teams"))
    },
    "cold_start_s": 25.0,
    "completed_reply_p50_ms": 30.0,
    "short_reply_p50_ms": 100.0,
    "c32_throughput": 30.0,
    "c32_errors": 0,
    "c32_error_kinds": [],
    "rasa_peak_mb": 1000.0,
}


def test_targets_compare_ours_with_the_reference_or_alone():
    outcomes = {o["figure"]: o for o in evaluate(OURS_FIGURES, REFERENCE_FIGURES)}
    assert len(outcomes) == len(TARGETS)
    assert outcomes["completed_reply_p50_ms"]["value"] == pytest.approx(20 / 30)
    assert outcomes["completed_reply_p50_ms"]["met"] is False
    assert outcomes["short_reply_p50_ms"]["met"] is True  # 0.2×
    assert outcomes["cold_start_s"]["met"] is True  # 0.4×
    assert outcomes["c32_throughput"]["met"] is False  # 2×, not 4×
    assert outcomes["c32_errors"]["met"] is False
    assert outcomes["rasa_peak_mb"]["met"] is True  # 0.5×
    assert outcomes["engine_us"]["met"] is True
    assert outcomes["completed_growth"]["met"] is True  # 1.1×
    assert outcomes["interrupted_growth"]["met"] is False  # 1.5×, not 1.2×
    assert outcomes["socket1_over_rest"]["met"] is True
    assert outcomes["socket32_over_rest"]["met"] is False
    assert outcomes["slack32_ack_p95_ms"]["met"] is True
    assert outcomes["teams32_ack_p95_ms"]["met"] is False
    # Every shape is held to both targets.
    for shape in ("completed", "interrupted", "corrections", "short"):
        assert {f"{shape}_reply_p50_ms", f"{shape}_growth"} <= set(outcomes)


def test_runs_combine_into_medians_with_errors_added_up():
    runs = [
        {"reply_p50_ms": 10.0, "c8_errors": 1, "per_turn_ms": [1.0, 5.0], "failures": {}},
        {"reply_p50_ms": 30.0, "c8_errors": 0, "per_turn_ms": [3.0, 1.0], "failures": {"parsing": "boom"}},
        {"reply_p50_ms": 20.0, "c8_errors": 2, "per_turn_ms": [2.0, 3.0], "failures": {}},
    ]
    combined = combine(runs)
    assert combined["reply_p50_ms"] == 20.0
    assert combined["c8_errors"] == 3
    assert combined["per_turn_ms"] == [2.0, 3.0]
    assert combined["failures"] == ["run 2, parsing: boom"]
    assert ratios({"a": 1.0, "b": "x"}, {"a": 4.0, "b": "y"}) == {"a": 0.25}


def test_shape_figures_compare_the_last_turns_with_the_first():
    # 210 turns of a 7-message round: 10 ms, then 30 ms from turn 105 on. The windows are
    # whole rounds of at least 20 replies: 21 turns each.
    exchanges = [Exchange(0.010 if turn < 105 else 0.030) for turn in range(210)]
    exchanges[3] = Exchange(9.0, "timeout")
    figures = shape_figures(exchanges, round_length=7)
    assert figures["turns"] == 210 and figures["errors"] == 1
    assert figures["first_ms"] == pytest.approx(10)
    assert figures["last_ms"] == pytest.approx(30)
    assert figures["growth"] == pytest.approx(3)
    # A timeout is an error, not a slow reply.
    assert figures["reply_p95_ms"] == pytest.approx(30)


def test_each_of_our_shapes_stands_beside_a_shape_of_the_reference():
    from benchmarks.bots import our_bot
    from benchmarks.shapes import OUR_SHAPES, TURNS, reference_shapes

    reference = reference_shapes(["hello", "I am sad", "yes", "bye"])
    assert set(reference) == {shape.key for shape in OUR_SHAPES}
    for shape in OUR_SHAPES:
        assert reference[shape.key].separate == shape.separate
        if not shape.separate:
            assert (
                shape.turns(shape.rounds) >= TURNS
                and reference[shape.key].turns(reference[shape.key].rounds) >= TURNS
            )
    ours = our_bot(ROOT / "models" / "careers.tar.gz")
    assert "can I apply for the STP with a 2:2?" in ours.load_conversation  # the mixed shape


def test_load_figures_count_every_error_and_not_as_replies():
    result = LoadResult(
        conversations=2,
        wall_s=2.0,
        exchanges=[Exchange(0.1), Exchange(0.3), Exchange(5.0, "timeout"), Exchange(0.2, "HTTP 500")],
    )
    figures = result.figures()
    assert figures["errors"] == 2 and figures["requests"] == 4
    assert figures["throughput"] == 1.0  # two replies in two seconds
    assert figures["p50_ms"] == pytest.approx(200)
    assert figures["error_kinds"] == ["HTTP 500", "timeout"]


def test_the_machine_is_read_from_proc(tmp_path):
    (tmp_path / "cpuinfo").write_text("processor\t: 0\nmodel name\t: Test CPU 3000\n")
    (tmp_path / "meminfo").write_text("MemTotal:       16777216 kB\nMemFree: 1 kB\n")
    found = machine(tmp_path)
    assert found["cpu"] == "Test CPU 3000" and found["memory_gb"] == 16.0


def sample_results(smoke: bool = False) -> dict:
    return {
        "command": "make bench",
        "date": "2026-01-01 12:00 UTC",
        "machine": {"cores": 2, "memory_gb": 23.5, "cpu": "Test CPU"},
        "rasa_version": "3.6.21",
        "commit": "abc1234",
        "runs": 3,
        "settings": {
            "runs": 3,
            "long_rounds": None,
            "short_conversations": None,
            "levels": [8, 32],
            "channel_levels": [1, 32],
            "parse_limit": None,
            "parse_warm_up": 5,
            "engine_passes": 200,
            "training": not smoke,
            "smoke": smoke,
        },
        "order": [["ours", "reference"], ["reference", "ours"], ["ours", "reference"]],
        "bots": {
            "ours": {"title": "ours", "model": "models/careers.tar.gz", "conversation": ["hi", "bye"]},
            "reference": {"title": "reference", "model": "build/bench/ref.tar.gz", "conversation": ["hello"]},
        },
        "median": {"ours": OURS_FIGURES, "reference": REFERENCE_FIGURES},
        "ratios": ratios(OURS_FIGURES, REFERENCE_FIGURES),
        "targets": evaluate(OURS_FIGURES, REFERENCE_FIGURES),
        "duration_s": 1800.0,
    }


def test_the_report_puts_both_bots_side_by_side_with_the_targets():
    text = render(sample_results())
    assert "Test CPU, 2 cores" in text and "23.5 GB" in text and "3.6.21" in text
    assert "| Runs | 3:" in text and "2026-01-01 12:00 UTC" in text
    assert "| Cold start: launch to first reply | 10.0 s | 25.0 s | 0.40× |" in text
    assert "| A check completed: reply p50 (200 turns) | 20.0 ms | 30.0 ms | 0.67× |" in text
    assert (
        "| A check begun and interrupted by questions: growth, last turns / first turns | 1.50× | 1.50× | — |"
        in text
    )
    assert "| 32 at once: socket.io p50 / REST p50 | 1.50× | — | — |" in text
    assert "| 32 at once, Slack: errors (of 224 events) | 0 | — | — |" in text
    assert "| 32 at once: errors (of 320 requests) | 2 | 0 | — |" in text
    assert "| Rule engine: time per verdict (70 profiles) | 80.0 µs | — | — |" in text
    assert "✅ met (0.40× ≤ 0.50×)" in text
    assert "❌ missed: 0.67×, 167% over 0.25×" in text
    assert "ours, 32 at once: HTTP 500" in text
    assert "Smoke run" not in text
    smoke = render(sample_results(smoke=True))
    assert "Smoke run" in smoke and "Training is left to `make bench`" in smoke


@pytest.mark.servers
def test_the_smoke_benchmark_runs_end_to_end(tmp_path):
    assert (ROOT / "models" / "careers.tar.gz").exists(), "no trained model: run `make train`"
    out = tmp_path / "smoke.md"
    subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--out", str(out)],
        cwd=ROOT,
        check=True,
        timeout=3600,
    )
    text = out.read_text()
    assert "| Measure | Ours | Reference | Ours / reference |" in text
    results = json.loads(out.with_suffix(".json").read_text())
    # The smoke run parses the held-out messages with ours only (the same code).
    assert results["median"]["ours"].get("parse_p50_ms") is not None
    for bot in ("ours", "reference"):
        figures = results["median"][bot]
        for key in ("cold_start_s", "c4_throughput", "rasa_peak_mb"):
            assert figures.get(key) is not None, f"{bot}: no {key} ({figures.get('failures')})"
        for shape in ("completed", "interrupted", "corrections", "short"):
            assert figures.get(f"{shape}_reply_p50_ms") is not None, (
                f"{bot}: no {shape} ({figures.get('failures')})"
            )
    ours = results["median"]["ours"]
    assert ours["engine_us"] is not None
    for key in ("socket1_p50_ms", "socket2_p50_ms", "slack2_ack_p95_ms", "teams2_ack_p95_ms"):
        assert ours.get(key) is not None, f"no {key} ({ours.get('failures')})"
    assert ours["socket2_errors"] == ours["slack2_ack_errors"] == ours["teams2_ack_errors"] == 0
    assert results["runs"] == 1 and results["settings"]["smoke"]
    # The smoke run leaves training (minutes per bot) to `make bench`.
    assert "train_scratch_s" not in results["median"]["ours"]
    # py-spy sampled our server, and the report says where its time went.
    assert results["profile"]["samples"] > 0, results["median"]["ours"].get("failures")
    assert "## Where our server's time goes" in text


def test_each_profile_sample_counts_in_the_stage_nearest_the_sampled_function():
    from benchmarks.profile import STAGES, stage_of, summarise

    handle = "handle_message (rasa/core/processor.py:10)"
    save = "save (runtime/tracker_store.py:5)"
    nlu = "_parse_message_with_graph (rasa/core/processor.py:20)"
    assert stage_of([handle, save]) == "tracker store (load, save)"
    assert stage_of([handle, nlu]) == "NLU (parse the message)"
    assert stage_of(["serve (sanic/app.py:1)"]) == STAGES[-1][0]
    raw = f"{handle};{save} 3\n{handle};{nlu} 1\nnot a sample line\n"
    summary = summarise(raw)
    assert summary["samples"] == 4
    assert summary["stages"] == [("tracker store (load, save)", 0.75), ("NLU (parse the message)", 0.25)]
    # The handler every sample passes through is not listed; what it calls is.
    assert summary["functions"] == [
        ("save (runtime/tracker_store.py)", 0.75),
        ("_parse_message_with_graph (rasa/core/processor.py)", 0.25),
    ]


def test_load_results_pool_into_one():
    from benchmarks.measure import pooled

    first = LoadResult(1, 1.0, [Exchange(0.1), Exchange(0.2)])
    second = LoadResult(1, 3.0, [Exchange(0.3), Exchange(0.4, "timeout")])
    figures = pooled([first, second]).figures()
    assert figures["requests"] == 4 and figures["errors"] == 1
    assert figures["throughput"] == 0.75  # three replies in four seconds
    assert figures["p50_ms"] == pytest.approx(200)
