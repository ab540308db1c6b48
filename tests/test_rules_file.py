"""The rules file: the real one loads; a broken one fails with file, line and problem."""

from __future__ import annotations

import datetime as dt

import pytest

from careers.rules_file import DEFAULT_PATH, RulesFileError, load_rules


def test_the_rules_file_loads_with_sources_for_everything(rules):
    assert isinstance(rules.last_reviewed, dt.date)
    assert all(rule.source.url.startswith("http") for rule in rules.rules.values())
    assert all(topic.sources for topic in rules.topics.values())
    assert rules.class_at_least("first", "upper_second")
    assert not rules.class_at_least("third", "lower_second")


def test_every_source_url_comes_from_the_shared_sources(rules):
    sources_dir = DEFAULT_PATH.resolve().parents[2] / "shared" / "sources"
    if not sources_dir.is_dir():
        pytest.skip("shared/sources is not beside this checkout")
    text = "".join(p.read_text() for p in sources_dir.glob("*.md"))
    for source in rules.sources.values():
        if source.last_reviewed is not None:
            # A National School page added for issue 25: named with its date and review.
            assert source.url.startswith("https://nshcs.hee.nhs.uk/") and source.page_date, source.key
            continue
        # The careers page cites some pages over http://; the rules link them securely.
        address = source.url.removeprefix("https://")
        assert f"https://{address}" in text or f"http://{address}" in text, (
            f"{source.key}: {source.url} is not in shared/sources"
        )


def test_every_link_the_assistant_gives_is_https(rules):
    """A person is never sent to a page over plain http (three of the careers page's
    own links were http://)."""
    insecure = [s.key for s in rules.sources.values() if not s.url.startswith("https://")]
    assert not insecure


def test_every_topic_intent_has_an_answer(rules, domain):
    asked = {i for i in domain["intents"] if i.startswith("ask_")} - {"ask_why", "ask_not_covered"}
    assert asked == set(rules.topics)


def test_every_decisive_outcome_rests_on_a_quoted_sentence(rules):
    for rule in rules.rules.values():
        for outcome in rule.decisive:
            assert rule.quotes.get(outcome), f"{rule.id}: '{outcome}' is decisive with no quote"


def test_every_reading_is_used_and_every_not_covered_topic_has_a_page(rules):
    assert all(rules.reading_uses[key] for key in rules.readings)
    assert "general" in rules.not_covered
    for topic in rules.not_covered.values():
        assert topic.read and topic.text.startswith("My sources")


def _broken(tmp_path, old: str, new: str):
    text = DEFAULT_PATH.read_text().replace(old, new, 1)
    assert text != DEFAULT_PATH.read_text(), f"{old!r} not found in the rules file"
    path = tmp_path / "entry_rules.yml"
    path.write_text(text)
    return path


def _line_of(path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


@pytest.mark.parametrize(
    "old, new, needle, problem",
    [
        (
            "  stp_medical_degree:\n    programme: STP\n    source: nshcs_entry_faq\n",
            "  stp_medical_degree:\n    programme: STP\n    source: nshcs_nowhere\n",
            "nshcs_nowhere",
            "unknown source",
        ),
        ("minimum_class: lower_second", "minimum_class: lower_secnd", "lower_secnd", "unknown degree class"),
        (
            '    partly: "My sources may not answer all of that',
            '    partial: "My sources may not answer all of that',
            'title: "Something my sources don\'t cover"',
            "missing 'partly'",
        ),
        ("minimum_count: 2", "minimum_count: two", "minimum_count: two", "whole number"),
        ('you have {degree_class}."', 'you have {degre_class}."', "{degre_class}", "unknown placeholder"),
        ("\nlast_reviewed: 20", "\nlast_reviewed: last year\n# 20", "last_reviewed", "YYYY-MM-DD"),
        (
            '    decisive: [not_met]\n    not_met: "The STP is a graduate',
            '    decisive: [not_met, unclear]\n    not_met: "The STP is a graduate',
            "[not_met, unclear]",
            "has no outcome 'unclear'",
        ),
        (
            "    decisive: [met, not_met]\n    minimum_count: 2",
            "    decisive: [met, not_met, unclear]\n    minimum_count: 2",
            "[met, not_met, unclear]",
            "has no outcome 'unclear'",
        ),
        (
            "    reading: [honours_assumed, integrated_masters_names]",
            "    reading: [honours_assumed, integrated_master_names]",
            "integrated_master_names",
            "unknown reading",
        ),
        ("names: [zoology,", "names: [physics, zoology,", "physics, zoology", "in both"),
        ('    met: "You have a good range', '    mett: "You have a good range', "mett:", "unknown field"),
    ],
)
def test_a_malformed_file_names_the_file_line_and_problem(tmp_path, old, new, needle, problem):
    path = _broken(tmp_path, old, new)
    with pytest.raises(RulesFileError) as error:
        load_rules(path)
    message = str(error.value)
    assert message.startswith(f"{path}:{_line_of(path, needle)}:"), message
    assert problem in message


def test_a_missing_rule_is_reported(tmp_path):
    path = _broken(tmp_path, "  stp_medical_degree:", "  stp_medical_degree_renamed:")
    with pytest.raises(RulesFileError, match="missing rule 'stp_medical_degree'"):
        load_rules(path)


def test_invalid_yaml_is_reported_with_the_file(tmp_path):
    path = tmp_path / "entry_rules.yml"
    path.write_text("rules: [unclosed\n")
    with pytest.raises(RulesFileError, match=str(path)):
        load_rules(path)


def test_a_decisive_outcome_needs_its_source_sentence(tmp_path):
    text = DEFAULT_PATH.read_text()
    start = text.index("  stp_animal_plant_science:")
    quote_line = text.index("    quote:", start)
    end = text.index("\n", quote_line) + 1
    path = tmp_path / "entry_rules.yml"
    path.write_text(text[:quote_line] + text[end:])
    with pytest.raises(RulesFileError, match="needs the source sentence it rests on"):
        load_rules(path)


def test_an_open_outcome_cannot_be_decisive(tmp_path):
    path = _broken(
        tmp_path,
        "    decisive: [met, not_met]\n    reading: good_range",
        "    decisive: [met, not_met, unclear]\n    reading: good_range",
    )
    with pytest.raises(RulesFileError, match="leaves the case open"):
        load_rules(path)


@pytest.mark.parametrize(
    "subject, category",
    [
        ("medical device engineering", "commonly_accepted"),  # a branch of engineering
        ("Rehabilitation  Engineering", "commonly_accepted"),
        ("ultrasound physics", "commonly_accepted"),  # a branch of physics
        ("genetic engineering", "unknown"),  # biology, whatever its name says
        ("social engineering", "unknown"),
        ("biomechanics", "unknown"),
        ("history", "outside_science"),
    ],
)
def test_branches_of_engineering_and_physics_count_as_them(subject, category):
    assert load_rules().subject_category(subject) == category
