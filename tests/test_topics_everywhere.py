"""One list of topics: the rules file's `topics:`, and every place that needs each one."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import yaml

from careers.rules_file import EntryRules
from tools.careers_team.topics import HELD_OUT, ROOT, STORIES, TOPIC_RULES, topic_rules_yaml, where_missing


def test_every_topic_is_in_every_place(rules: EntryRules):
    assert where_missing(rules) == []


def _copy_of_the_project(tmp_path: Path) -> Path:
    for name in ("domain.yml", "data", "tests/nlu_heldout.yml", str(STORIES), *map(str, HELD_OUT)):
        source, target = ROOT / name, tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy(source, target)
    return tmp_path


def test_a_topic_missing_from_a_place_is_named_with_the_place(rules: EntryRules, tmp_path: Path):
    root = _copy_of_the_project(tmp_path)
    domain = yaml.safe_load((root / "domain.yml").read_text())
    domain["intents"] = [i for i in domain["intents"] if i != "ask_skills"]
    (root / "domain.yml").write_text(yaml.safe_dump(domain))
    stories = yaml.safe_load((root / STORIES).read_text())
    stories["stories"] = [
        s
        for s in stories["stories"]
        if not any(step.get("intent") == "ask_leadership" for step in s["steps"])
    ]
    (root / STORIES).write_text(yaml.safe_dump(stories))
    assert where_missing(rules, root) == [
        "ask_skills: not an intent in domain.yml",
        f"ask_leadership: no story in {STORIES}",
    ]


def test_a_topic_added_to_the_rules_file_alone_is_missing_everywhere(rules: EntryRules, tmp_path: Path):
    root = _copy_of_the_project(tmp_path)
    topics = dict(rules.topics)
    topics["ask_pay"] = topics["ask_skills"]
    problems = where_missing(dataclasses.replace(rules, topics=topics), root)
    assert problems[0].startswith(f"{TOPIC_RULES} does not match the rules file's topics")
    assert [p for p in problems if p.startswith("ask_pay")] == [
        "ask_pay: not an intent in domain.yml",
        "ask_pay: 0 training examples in data/nlu/ (at least 10)",
        "ask_pay: no message in a held-out set "
        "(tests/nlu_heldout.yml, tests/heldout_realistic.yml, tests/heldout_final.yml)",
        f"ask_pay: no story in {STORIES}",
    ]


def test_an_intent_named_like_a_topic_needs_one_in_the_rules_file(rules: EntryRules, tmp_path: Path):
    root = _copy_of_the_project(tmp_path)
    domain = yaml.safe_load((root / "domain.yml").read_text())
    domain["intents"].append("ask_salary")
    (root / "domain.yml").write_text(yaml.safe_dump(domain))
    assert where_missing(rules, root) == [
        "ask_salary: an intent in domain.yml with no topic in the rules file"
    ]


def test_the_topic_rules_are_generated_for_every_topic_in_and_out_of_a_check(rules: EntryRules):
    generated = yaml.safe_load(topic_rules_yaml(rules.topics))
    plain, in_check = generated["rules"]
    assert [s["intent"] for s in plain["steps"][0]["or"]] == list(rules.topics)
    assert [s["intent"] for s in in_check["steps"][0]["or"]] == list(rules.topics)
    assert in_check["condition"] == [{"active_loop": "eligibility_form"}]
