"""`make rules-check`: a stale review date and missing source URLs are reported."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from careers.rules_file import DEFAULT_PATH
from tools.careers_team.rules_check import check, main

# As written in the rules file's last_reviewed.
REVIEWED_TEXT = re.search(r"^last_reviewed: (\S+)", DEFAULT_PATH.read_text(), re.M).group(1)
REVIEWED = dt.date.fromisoformat(REVIEWED_TEXT)


def _copy(tmp_path, *edits):
    text = DEFAULT_PATH.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "entry_rules.yml"
    path.write_text(text)
    return path


def _line_of(path, fragment):
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if fragment in line)


def test_the_real_rules_file_is_clean_when_reviewed_recently():
    reviewed = re.search(r"^last_reviewed: (\S+)", DEFAULT_PATH.read_text(), re.M).group(1)
    assert check(DEFAULT_PATH, dt.date.fromisoformat(reviewed) + dt.timedelta(days=30)) == []


@pytest.mark.parametrize("days, stale", [(365, False), (366, True), (1000, True)])
def test_a_review_more_than_a_year_old_is_flagged(tmp_path, days, stale):
    path = _copy(tmp_path)
    findings = check(path, REVIEWED + dt.timedelta(days=days))
    assert bool(findings) == stale
    if stale:
        assert findings[0].line == _line_of(path, "last_reviewed:")
        assert f"{days} days ago" in findings[0].message


def test_a_source_without_a_url_is_listed_with_every_rule_citing_it(tmp_path):
    path = _copy(
        tmp_path,
        (
            "    url: https://nshcs.hee.nhs.uk/programmes/stp/applicants/faqs-for-applicants-to-the-"
            "scientist-training-programme/entry-requirements-faqs/\n",
            "",
        ),
    )
    messages = [f.message for f in check(path, REVIEWED)]
    assert "source 'nshcs_entry_faq' has no valid URL" in messages
    for rule in ("stp_animal_plant_science", "stp_medical_degree", "stp_predicted_result"):
        assert f"rule '{rule}' cites 'nshcs_entry_faq', which has no URL" in messages
    assert "topic 'ask_medical_degree' cites 'nshcs_entry_faq', which has no URL" in messages
    assert "next step 'STP/not_eligible' cites 'nshcs_entry_faq', which has no URL" in messages


def test_rules_without_a_source_are_listed_all_at_once(tmp_path):
    path = _copy(
        tmp_path,
        (
            "  stp_degree_class:\n    programme: STP\n    source: healthcareers_entry\n",
            "  stp_degree_class:\n    programme: STP\n",
        ),
        (
            "  ptp_a_levels:\n    programme: PTP\n    source: healthcareers_entry\n",
            "  ptp_a_levels:\n    programme: PTP\n    source: health_careers\n",
        ),
    )
    findings = check(path, REVIEWED)
    assert [f.message for f in findings] == [
        "rule 'stp_degree_class' names no source ('source:' is missing)",
        "rule 'ptp_a_levels' cites 'health_careers', which is not under 'sources'",
    ]
    assert findings[0].line == _line_of(path, "  stp_degree_class:")


def test_the_command_exits_1_and_names_file_and_line(tmp_path, capsys):
    path = _copy(tmp_path, (f"last_reviewed: {REVIEWED_TEXT}", "last_reviewed: 2024-01-31"))
    assert main([str(path)], today=REVIEWED) == 1
    out = capsys.readouterr().out
    assert f"{path}:{_line_of(path, 'last_reviewed:')}: the rules were last reviewed on 2024-01-31" in out
    assert main([str(DEFAULT_PATH)], today=REVIEWED) == 0


def test_the_review_date_and_the_next_one_due_are_printed(tmp_path, capsys):
    reviewed = dt.date.fromisoformat(REVIEWED_TEXT)
    assert main([str(DEFAULT_PATH)], today=reviewed + dt.timedelta(days=65)) == 0
    due = reviewed + dt.timedelta(days=365)
    assert (
        f"Last reviewed on {REVIEWED_TEXT}; next review due by {due} (in 300 days)."
        in capsys.readouterr().out
    )
    path = _copy(tmp_path, (f"last_reviewed: {REVIEWED_TEXT}", "last_reviewed: 2024-01-31"))
    assert main([str(path)], today=dt.date(2025, 2, 10)) == 1
    assert "next review due by 2025-01-30 (11 days ago)." in capsys.readouterr().out


def test_a_file_the_loader_would_refuse_is_reported(tmp_path):
    path = _copy(tmp_path, ("    minimum_count: 2\n", "    minimum_count: two\n"))
    findings = check(path, REVIEWED)
    assert len(findings) == 1 and "would not load it" in findings[0].message


def test_the_projects_own_readings_are_listed_for_review(capsys):
    assert main([str(DEFAULT_PATH)], today=REVIEWED) == 0
    out = capsys.readouterr().out
    assert "The project's own readings of the sources" in out
    assert "grade_4_is_c" in out and "counts as a C" in out
    assert "relied on by: rule 'ptp_gcses'" in out


def test_a_national_school_page_needs_its_dates_and_a_recent_check(tmp_path):
    path = _copy(
        tmp_path,
        ('    page_date: "2019-06-19"\n    last_reviewed: 2026-12-06\n', ""),
    )
    messages = [f.message for f in check(path, REVIEWED)]
    assert "source 'nshcs_reapplying' has no 'last_reviewed' date (an applying answer cites it)" in messages
    assert any("'nshcs_reapplying' has no 'page_date'" in m for m in messages)
    later = check(DEFAULT_PATH, dt.date(2026, 12, 6) + dt.timedelta(days=400))
    assert any("source 'nshcs_sjt' was last checked on 2026-12-06" in f.message for f in later)
