"""The README and docs/ say what the repo holds: each count they quote is recomputed here
from the files it counts, found in the text by the phrase around it, so a changed count
fails until the text is changed too; every relative link points to a file (and a heading)
that exists; and the widget's greeting that asks people not to share who they are is the
one the embedding examples keep."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Set, Tuple

import pytest
import yaml

from tests.conftest import ROOT

DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
# Screenshots `make screenshot` draws, linked before they are first committed.
NOT_YET_DRAWN = {DOCS / "widget-desktop.png", DOCS / "widget-phone.png"}
WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
# A count as written: 1,625 or 141 or "seven".
COUNT = r"(\d[\d,]*|" + "|".join(WORDS) + r")"


def _prose(name: str) -> str:
    """The page's text with every run of whitespace made one space, so that a phrase
    broken across lines is still found."""
    return " ".join((ROOT / name).read_text(encoding="utf-8").split())


def _number(text: str) -> float:
    return float(WORDS.get(text.lower(), text.replace(",", "")))


# --- what the repo holds ------------------------------------------------------------


def _conversation_scripts() -> List:
    from tools.careers_team.conversation_scripts import load_scripts

    return load_scripts(sorted((ROOT / "tests" / "conversations").glob("*.yml")))


def _rules():
    from careers.rules_file import default_rules

    return default_rules()


def _not_covered() -> int:
    """Questions the sources do not answer, named in the rules file (not the general answer)."""
    from careers.rules_file import NOT_COVERED_GENERAL

    return len([name for name in _rules().not_covered if name != NOT_COVERED_GENERAL])


def _intents() -> int:
    return len(yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"])


def _training_examples() -> int:
    total = 0
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            if "intent" in item:
                total += sum(1 for line in item["examples"].splitlines() if line.strip().startswith("- "))
    return total


def _make_targets() -> int:
    """Targets `make help` lists: those the Makefile describes with `##`."""
    return len(re.findall(r"^[a-z-]+:.*## ", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M))


def _heldout_nlu() -> int:
    data = yaml.safe_load((ROOT / "tests" / "nlu_heldout.yml").read_text(encoding="utf-8"))
    return sum(
        sum(1 for line in item["examples"].splitlines() if line.strip().startswith("- "))
        for item in data["nlu"]
        if "intent" in item
    )


def _realistic(name: str, part: str) -> Callable[[], int]:
    def count() -> int:
        data = yaml.safe_load((ROOT / "tests" / name).read_text(encoding="utf-8"))
        return len(data[part])

    return count


def _open_world(name: str) -> Callable[[], int]:
    def count() -> int:
        from tools.evaluation.open_world import SETS, load_items

        return len(load_items(name, SETS[name]))

    return count


def _reading_fresh_sets() -> List[int]:
    """The number of messages in each fresh reading set."""
    return [
        len(yaml.safe_load(path.read_text(encoding="utf-8"))["messages"])
        for path in sorted((ROOT / "tests" / "reading").glob("fresh_*.yml"))
    ]


def _reading_table() -> int:
    data = yaml.safe_load((ROOT / "tests" / "reading" / "reading_table.yml").read_text(encoding="utf-8"))
    return len(data["messages"])


def _endpoints(key: str) -> Callable[[], int]:
    def value() -> int:
        return yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))["tracker_store"][key]

    return value


def _run_sh_default(variable: str) -> int:
    """A port `make run` uses unless told otherwise (tools/running/run.sh)."""
    text = (ROOT / "tools" / "running" / "run.sh").read_text(encoding="utf-8")
    found = re.search(rf"^{variable}=\$\{{{variable}:-(\d+)\}}", text, re.M)
    assert found, f"tools/running/run.sh sets no default for {variable}"
    return int(found.group(1))


def _retention_days() -> int:
    from channels.ownership import DEFAULT_RETENTION_DAYS

    in_endpoints = _endpoints("retention_days")()
    assert in_endpoints == DEFAULT_RETENTION_DAYS, "endpoints.yml and channels/ownership.py differ"
    return DEFAULT_RETENTION_DAYS


def _max_message() -> int:
    from nlp.message_limits import MAX_MESSAGE_CHARACTERS

    return MAX_MESSAGE_CHARACTERS


def _turns_at_once() -> int:
    from channels.conversations import TURNS_AT_ONCE

    return TURNS_AT_ONCE


def _log_backups() -> int:
    from tools.running.rotating_log import DEFAULT_BACKUPS

    return DEFAULT_BACKUPS


def _log_megabytes() -> int:
    from tools.running.rotating_log import DEFAULT_MAX_BYTES

    return DEFAULT_MAX_BYTES // (1024 * 1024)


def _verdicts() -> int:
    from careers.vocabulary import VERDICTS

    return len(VERDICTS)


def _nlu_target(name: str) -> Callable[[], float]:
    def value() -> float:
        from tools.evaluation.targets import NLU_TARGETS

        return NLU_TARGETS[name]

    return value


def _crossval_minimum() -> float:
    from tools.evaluation.targets import CROSSVAL_MIN_INTENT_ACCURACY

    return CROSSVAL_MIN_INTENT_ACCURACY


def _crossval_last() -> float:
    data = json.loads((DOCS / "nlu-crossval.json").read_text(encoding="utf-8"))
    return round(data["figures"]["intent Accuracy"]["mean"], 3)


def _compare(pipeline: str, measure: str, digits: int) -> Callable[[], float]:
    def value() -> float:
        data = json.loads((DOCS / "nlu-compare.json").read_text(encoding="utf-8"))
        return round(data["pipelines"][pipeline][measure], digits)

    return value


def _ours(measure: str, digits: int) -> Callable[[], float]:
    return _compare("ours (config.yml)", measure, digits)


def _benchmarks(pattern: str) -> Callable[[], float]:
    """A figure from the header of benchmarks/results.md, which `make bench` writes."""

    def value() -> float:
        found = re.search(pattern, (ROOT / "benchmarks" / "results.md").read_text(encoding="utf-8"))
        assert found, f"benchmarks/results.md has no {pattern!r}"
        return _number(found.group(1))

    return value


README, TEAM, DEV, OPS, SLACK = (
    "README.md",
    "docs/careers-team.md",
    "docs/developers.md",
    "docs/operators.md",
    "docs/slack.md",
)
PORTS = r"`RASA_PORT`, `ACTIONS_PORT`, `DEMO_PORT` \| `make run` \| "
LOGS = r"`LOG_BACKUPS`, `LOG_MAX_BYTES` \| `make run` \| "
TOOK = r"\| Took \| (\d+) min"

# (page, the phrase with the figure as its group, what the figure must be)
FIGURES: List[Tuple[str, str, Callable[[], float]]] = [
    # The conversation scripts, and what the rules file holds.
    (README, rf"the {COUNT} conversation scripts", lambda: len(_conversation_scripts())),
    (TEAM, rf"holds {COUNT} conversations in", lambda: len(_conversation_scripts())),
    (
        TEAM,
        rf"conversations in {COUNT} files",
        lambda: len(list((ROOT / "tests" / "conversations").glob("*.yml"))),
    ),
    (README, rf"Answers {COUNT} topics", lambda: len(_rules().topics)),
    (TEAM, rf"one of the {COUNT} topics under", lambda: len(_rules().topics)),
    (README, rf"{COUNT} questions on applying", lambda: len(_rules().applying)),
    (TEAM, rf"one of the {COUNT} entries under `applying:`", lambda: len(_rules().applying)),
    (README, rf"{COUNT} such questions are named", _not_covered),
    (TEAM, rf"one of the {COUNT} entries under `not_covered:`", _not_covered),
    (README, rf"the {COUNT} sources with their URLs", lambda: len(_rules().sources)),
    (TEAM, rf"each with its URL; there are {COUNT}\)", lambda: len(_rules().sources)),
    (TEAM, rf"readings of the sources \({COUNT}\)", lambda: len(_rules().readings)),
    (README, rf"ends with one of {COUNT} verdicts", _verdicts),
    (TEAM, rf"The {COUNT} verdicts", _verdicts),
    # Language understanding.
    (DEV, rf"declares {COUNT} intents", _intents),
    (DEV, rf"holds {COUNT} training examples", _training_examples),
    (
        DEV,
        rf"training examples in {COUNT} files",
        lambda: len(list((ROOT / "data" / "nlu").glob("*.yml"))),
    ),
    (DEV, rf"`tests/nlu_heldout.yml`: {COUNT} messages", _heldout_nlu),
    (DEV, rf"heldout_realistic.yml` \({COUNT} messages", _realistic("heldout_realistic.yml", "messages")),
    (
        DEV,
        rf"heldout_realistic.yml` \([\d,]+ messages, {COUNT} conversations",
        _realistic("heldout_realistic.yml", "conversations"),
    ),
    (DEV, rf"heldout_final.yml` \({COUNT} messages", _realistic("heldout_final.yml", "messages")),
    (
        DEV,
        rf"heldout_final.yml` \([\d,]+ messages, {COUNT} conversations",
        _realistic("heldout_final.yml", "conversations"),
    ),
    (DEV, rf"realistic_dev.yml` \({COUNT} messages", _realistic("realistic_dev.yml", "messages")),
    (
        DEV,
        rf"realistic_dev.yml` \([\d,]+ messages, {COUNT} conversations",
        _realistic("realistic_dev.yml", "conversations"),
    ),
    (DEV, rf"three rounds: {COUNT}, [\d,]+ and [\d,]+\)", _open_world("real")),
    (DEV, rf"three rounds: [\d,]+, {COUNT} and [\d,]+\)", _open_world("real2")),
    (DEV, rf"three rounds: [\d,]+, [\d,]+ and {COUNT}\)", _open_world("real3")),
    (DEV, rf"{COUNT} emergency phrasings", _open_world("emergencies")),
    (TEAM, rf"{COUNT} emergency phrasings must all get it", _open_world("emergencies")),
    (DEV, rf"{COUNT} near misses", _open_world("near_misses")),
    (DEV, rf"{COUNT} privacy questions", _open_world("privacy")),
    (DEV, rf"a development set of {COUNT}", _open_world("dev")),
    (DEV, rf"a table of {COUNT} and", _reading_table),
    (DEV, rf"and {COUNT} fresh sets of", lambda: len(_reading_fresh_sets())),
    (DEV, rf"fresh sets of {COUNT}", lambda: max(_reading_fresh_sets())),
    (DEV, rf"fresh sets of {COUNT}", lambda: min(_reading_fresh_sets())),
    (DEV, r"intent accuracy (0\.\d+), macro F1", _nlu_target("intent_accuracy")),
    (DEV, r"macro F1 (0\.\d+), entity F1", _nlu_target("intent_macro_f1")),
    (DEV, r"entity F1 (0\.\d+), out-of-scope recall", _nlu_target("entity_f1")),
    (DEV, r"entity F1 0\.\d+, out-of-scope recall (0\.\d+)", _nlu_target("out_of_scope_recall")),
    (DEV, r"fails below an intent accuracy of (0\.\d+)", _crossval_minimum),
    (DEV, r"fails below (0\.\d+)\.", _crossval_minimum),
    (DEV, r"2026-12-06\) gave intent accuracy (0\.\d+)", _crossval_last),
    (DEV, r"ours (0\.\d+) intent accuracy", _ours("intent_accuracy", 3)),
    (DEV, r"ours 0\.\d+ intent accuracy, entity F1 (0\.\d+)", _ours("entity_f1", 3)),
    (DEV, r"(\d+) s to train", _ours("train_seconds", 0)),
    (DEV, r"([\d.]+) ms median parse", _ours("median_parse_ms", 1)),
    # The benchmark's last run, as benchmarks/results.md records it.
    (DEV, rf"`make bench` on [0-9a-f]+ \([\d-]+ [\d:]+ UTC, .*?, {COUNT} minutes\)", _benchmarks(TOOK)),
    (DEV, rf"{COUNT} of [\d,]+ targets met", _benchmarks(r"Targets: (\d+) met")),
    (DEV, rf"[\d,]+ of {COUNT} targets met", _benchmarks(r"\(of (\d+)\)")),
    (DEV, r"3 runs \(the last took (\d+) min\)", _benchmarks(TOOK)),
    # The make targets, ports, settings and their defaults.
    (README, rf"lists all {COUNT} make targets", _make_targets),
    (README, r"localhost:(\d+)/> \| a demo careers site", lambda: _run_sh_default("DEMO_PORT")),
    (README, r"`localhost:(\d+)` \| Rasa", lambda: _run_sh_default("RASA_PORT")),
    (README, r"`localhost:(\d+)` \| the action server", lambda: _run_sh_default("ACTIONS_PORT")),
    (OPS, PORTS + r"(\d+),", lambda: _run_sh_default("RASA_PORT")),
    (
        OPS,
        PORTS + r"\d+, (\d+),",
        lambda: _run_sh_default("ACTIONS_PORT"),
    ),
    (
        OPS,
        PORTS + r"\d+, \d+, (\d+)",
        lambda: _run_sh_default("DEMO_PORT"),
    ),
    (README, r"deleted (\d+) days after their latest message", _retention_days),
    (OPS, r"deleted (\d+) days after their latest message", _retention_days),
    (OPS, r"token expires after (\d+) days", _retention_days),
    (OPS, r"cut to ([\d,]+) characters", _max_message),
    (DEV, r"cuts messages to ([\d,]+) characters", _max_message),
    (OPS, r"worked on at most (\d+) at a time", _turns_at_once),
    (SLACK, rf"Rasa works on at most {COUNT} Slack or Teams turns", _turns_at_once),
    (DEV, r"at most (\d+) of their turns are worked on", _turns_at_once),
    (OPS, r"at most (\d+) old files of \d+ MB", _log_backups),
    (OPS, r"old files of (\d+) MB", _log_megabytes),
    (OPS, LOGS + r"(\d+),", _log_backups),
    (OPS, LOGS + r"\d+, (\d+) MB", _log_megabytes),
    (OPS, r"last `cache_size` conversations \((\d+)\)", _endpoints("cache_size")),
    (OPS, r"latest `keep_turns` messages \((\d+)\)", _endpoints("keep_turns")),
]


def _label(figure: Tuple[str, str, Callable[[], float]]) -> str:
    page, phrase, _ = figure
    return f"{page}: {phrase[:50]}"


@pytest.mark.parametrize("figure", FIGURES, ids=[_label(f) for f in FIGURES])
def test_each_quoted_figure_is_what_the_repo_holds(figure):
    page, phrase, actual = figure
    found = re.findall(phrase, _prose(page))
    assert found, f"{page} no longer has the phrase {phrase!r}: say the figure again, or change this test"
    expected = actual()
    for text in found:
        assert _number(text) == expected, f"{page} says {text}, the repo holds {expected:g} ({phrase!r})"


def test_the_rasa_version_is_the_one_the_patches_are_for():
    from runtime.rasa_patches import PATCHED_FOR

    for page in ("README.md", "docs/operators.md", "docs/developers.md"):
        quoted = set(re.findall(r"Rasa (?:version )?(?:but )?(3\.\d+\.\d+)", _prose(page)))
        assert quoted == {PATCHED_FOR}, f"{page} names Rasa {sorted(quoted)}, the patches' is {PATCHED_FOR}"


def _limit_rows() -> Iterator[Tuple[List[str], List[str]]]:
    """(variables, defaults) of each row of the limits table in docs/operators.md."""
    text = (DOCS / "operators.md").read_text(encoding="utf-8")
    section = text[text.index("## Limits") :]
    section = section[: section.index("\n## ", 1)]
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            yield re.findall(r"`([A-Z_]+)`", cells[0]), [c.strip() for c in cells[1].split(",")]


def test_the_limits_table_gives_each_limit_its_default():
    from channels.limits import DEFAULTS
    from runtime.rasa_patches import DEFAULT_ACTION_TIMEOUT_SECONDS

    defaults: Dict[str, float] = {**DEFAULTS, "ACTION_TIMEOUT_SECONDS": DEFAULT_ACTION_TIMEOUT_SECONDS}
    seen: Set[str] = set()
    for variables, values in _limit_rows():
        assert len(variables) == len(values), f"docs/operators.md: {variables} against {values}"
        for variable, value in zip(variables, values, strict=True):
            assert variable in defaults, f"docs/operators.md names a limit {variable} that does not exist"
            assert _number(value) == defaults[variable], (
                f"docs/operators.md: {variable} is {defaults[variable]:g}"
            )
            seen.add(variable)
    assert seen == set(defaults), f"limits missing from docs/operators.md: {sorted(set(defaults) - seen)}"


def test_the_developers_benchmark_table_quotes_the_last_run():
    """Each figure of the table in docs/developers.md is in benchmarks/results.md, which
    `make bench` writes, and the commit and date are that run's."""
    bench = (ROOT / "benchmarks" / "results.md").read_text(encoding="utf-8")
    text = (DOCS / "developers.md").read_text(encoding="utf-8")
    table = text[text.index("| target (ratio to the `rasa init` bot") :]
    table = table[: table.index("\n\n")]
    figures = re.findall(r"\d[\d,]*(?:\.\d+)? ?(?:ms|s|MB|µs|/s|×)(?![a-z])", table)
    assert len(figures) > 20
    missing = [f for f in figures if f.replace(" ", "") not in bench.replace(" ", "")]
    assert missing == [], f"docs/developers.md quotes figures benchmarks/results.md does not have: {missing}"
    commit = re.search(r"\(([0-9a-f]{7,})[,)]", bench.split("| Ours |")[1])
    date = re.search(r"Written by `make bench` on ([\d-]+ [\d:]+) UTC", bench)
    assert commit and date, "benchmarks/results.md no longer says which commit and when"
    assert f"`make bench` on {commit.group(1)} ({date.group(1)} UTC" in _prose("docs/developers.md")


def test_the_readme_quotes_no_run():
    """Figures from a run (times, pass counts) belong in docs/developers.md with the
    command and commit that produced them, not in the five-minute page."""
    text = _prose("README.md")
    assert not re.findall(r"\b\d+(?:\.\d+)? ?(?:ms|minutes|min|seconds)\b", text)
    assert not re.findall(r"\b(?:passed|pass count)\b", text)


# --- the greeting ------------------------------------------------------------------


def _default_greeting() -> str:
    """DEFAULTS.openingMessage of widget/src/settings.js, its string pieces joined."""
    source = (ROOT / "widget" / "src" / "settings.js").read_text(encoding="utf-8")
    block = re.search(r"openingMessage:\s*((?:\"[^\"]*\"\s*\+?\s*)+),", source)
    assert block, "widget/src/settings.js has no default openingMessage"
    return "".join(re.findall(r"\"([^\"]*)\"", block.group(1)))


def _privacy_sentence() -> str:
    sentence = next((s for s in re.split(r"(?<=[.?!])\s+", _default_greeting()) if "name" in s), "")
    assert "contact details" in sentence, (
        "the widget's greeting no longer asks people not to share who they are"
    )
    return sentence


def test_the_readme_quotes_the_widgets_own_greeting():
    sentence = _privacy_sentence()
    for page in ("README.md", "docs/widget.md"):
        assert sentence in _prose(page), f"{page} does not quote the greeting's {sentence!r}"
    quoted = " ".join(_prose("docs/widget.md").replace("> ", "").split())
    assert " ".join(_default_greeting().split()) in quoted, "docs/widget.md does not quote the whole greeting"


def test_every_opening_message_in_an_example_keeps_the_privacy_request():
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for message in re.findall(r"(?:data-opening-message=|openingMessage:\s*)\"([^\"]*)\"", text):
            assert "name or contact details" in message, f"{page.relative_to(ROOT)}: {message!r}"


# --- links ---------------------------------------------------------------------------


def _without_code(text: str) -> str:
    """The page without its fenced code blocks and inline code, where nothing is a link."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def _links(page: Path) -> List[str]:
    text = _without_code(page.read_text(encoding="utf-8"))
    return re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r"<img [^>]*src=\"([^\"]+)\"", text)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    heading = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")


def _anchors(page: Path) -> Set[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    anchors: Set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", text, re.M):
        slug, number = _slug(heading), 1
        while slug in anchors:
            slug = f"{_slug(heading)}-{number}"
            number += 1
        anchors.add(slug)
    return anchors


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_points_to_a_file_and_heading_that_exist(page):
    broken = []
    for link in _links(page):
        if re.match(r"[a-z]+:", link):
            continue
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if target in NOT_YET_DRAWN:
            continue
        if not target.exists():
            broken.append(f"{link} (no such file)")
        elif anchor and target.suffix == ".md" and anchor not in _anchors(target):
            broken.append(f"{link} (no such heading)")
    assert broken == [], f"{page.relative_to(ROOT)}: {broken}"


def test_the_readme_is_a_five_minute_read():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) < 250, f"README.md has {len(lines)} lines: move the detail to a page in docs/"
