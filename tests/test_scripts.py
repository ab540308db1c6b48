"""The evaluation scripts' arithmetic and parsing."""

from __future__ import annotations

import pytest

from tools.evaluation.crossval_summary import summarise
from tools.evaluation.evaluate_nlu import below_target, score


def _example(intent, entities=()):
    return {
        "intent": intent,
        "entities": [dict(zip(("start", "end", "entity"), e, strict=True)) for e in entities],
    }


def _parse(intent, entities=()):
    return {
        "intent": {"name": intent},
        "entities": [dict(zip(("start", "end", "entity"), e, strict=True)) for e in entities],
    }


def test_score_counts_intents_entities_and_out_of_scope():
    gold = [
        _example("greet"),
        _example("inform", [(0, 3, "degree_class")]),
        _example("out_of_scope"),
        _example("out_of_scope"),
    ]
    pred = [
        _parse("greet"),
        _parse("inform", [(0, 3, "degree_class"), (5, 9, "subject")]),
        _parse("nlu_fallback"),
        _parse("greet"),
    ]
    result = score(gold, pred)
    assert result["intent_accuracy"] == pytest.approx(0.5)
    assert result["out_of_scope_recall"] == pytest.approx(0.5)  # the fallback counts
    assert result["entity_precision"] == pytest.approx(0.5)
    assert result["entity_recall"] == pytest.approx(1.0)
    assert result["confusions"][0]["expected"] == "out_of_scope"


def test_targets_flag_each_figure_below():
    result = {
        "intent_accuracy": 0.97,
        "intent_macro_f1": 0.90,
        "entity_f1": 0.96,
        "out_of_scope_recall": 0.95,
    }
    assert below_target(result) == ["intent_macro_f1 0.900 < 0.93"]


def test_crossval_log_is_summarised():
    log = """INFO rasa.nlu.test - Intent evaluation results
INFO rasa.nlu.test - test Accuracy: 0.951 (0.012)
INFO rasa.nlu.test - test F1-score: 0.948 (0.010)
INFO rasa.nlu.test - Entity evaluation results
INFO rasa.nlu.test - Entity extractor: CareersEntityExtractor
INFO rasa.nlu.test - test F1-score: 0.930 (0.020)"""
    summary = summarise(log, 3)
    assert summary["folds"] == 3
    figures = summary["figures"]
    assert figures["intent Accuracy"] == {"mean": 0.951, "std": 0.012}
    # The rule-based extractor is not trained: its figures on the training data are left out.
    assert not any(name.startswith("entity") for name in figures)


def test_crossval_fails_below_its_target(tmp_path, monkeypatch, capsys):
    from tools.evaluation import crossval_summary

    log = tmp_path / "crossval.log"
    log.write_text(
        "INFO rasa.nlu.test - Intent evaluation results\nINFO rasa.nlu.test - test Accuracy: 0.880 (0.012)\n"
    )
    out = tmp_path / "summary.json"
    monkeypatch.setattr("sys.argv", ["x", str(log), str(out), "3", "--min-intent-accuracy", "0.90"])
    with pytest.raises(SystemExit) as stop:
        crossval_summary.main()
    assert "0.88 is below 0.90" in str(stop.value)
    monkeypatch.setattr("sys.argv", ["x", str(log), str(out), "3", "--min-intent-accuracy", "0.85"])
    crossval_summary.main()
    assert "target 0.85: ok" in capsys.readouterr().out
