"""The class check: every student of a CSV file checked at once, for careers advisers.

    python -m tools.careers_team.check_class students.csv [--out results.csv]
    make check-class FILE=students.csv [OUT=results.csv]

The CSV has one line per student: an optional student column (student, name or
reference) and the facts, one column each (`dialogue.class_check.FACT_COLUMNS`; the
template is tools/careers_team/class-check-template.csv). Each cell is read as the chat
reads an answer, with the chat's own entity extractor (`chat_entity_reader`), and checked
by the same engine and rules file. Prints a table of verdicts, then each student's
reasons, what to check next and with whom, and the sources; `--out` also writes them
as CSV. Exit status 0 when the file was checked, 2 when it could not be (the message
says why).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from careers.rules_file import EntryRules, default_rules
from dialogue.class_check import (
    COLUMNS_IN_WORDS,
    MAX_FILE_BYTES,
    ClassCheckError,
    EntityReader,
    StudentResult,
    check_class,
    results_csv,
    verdict_counts,
)

ROOT = Path(__file__).resolve().parents[2]
# The chat's spaCy pipeline (`make spacy`), whose entity ruler the NLU pipeline runs.
SPACY_PIPELINE = ROOT / "build" / "spacy-en-careers"
TEMPLATE = Path(__file__).with_name("class-check-template.csv")
WIDEST = 100


def chat_entity_reader(pipeline: Path = SPACY_PIPELINE) -> EntityReader:
    """The entities the chat's NLU pipeline finds in a text: the same spaCy pipeline and
    the same extractor (nlp.rasa_components.CareersEntityExtractor), so that a cell is
    read as the chat reads a message. Loading takes a few seconds, so it is done once."""
    if not (pipeline / "meta.json").exists():
        raise ClassCheckError(f"The spaCy pipeline {pipeline} is not built: run `make spacy`.")
    from runtime.quiet import no_library_warnings

    with no_library_warnings():
        import spacy
        from rasa.nlu.utils.spacy_utils import SpacyModel
        from rasa.shared.nlu.training_data.message import Message

        from nlp.rasa_components import CareersEntityExtractor

        model = SpacyModel(model=spacy.load(pipeline), model_name=str(pipeline))
    extractor = CareersEntityExtractor({"dimensions": None})

    def entities_of(text: str) -> List[Dict[str, Any]]:
        message = Message({"text": text})
        extractor.process([message], model)
        return list(message.get("entities") or [])

    return entities_of


def read_file(path: Path) -> bytes:
    """The file's bytes, or a ClassCheckError saying plainly why it cannot be read."""
    if not path.exists():
        raise ClassCheckError(
            f"There is no file {path}. Give the class's CSV file: make check-class FILE=students.csv"
        )
    if path.is_dir():
        raise ClassCheckError(
            f"{path} is a folder. Give the class's CSV file: make check-class FILE=students.csv"
        )
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ClassCheckError(
            f"{path} is {path.stat().st_size // 1024:,} KB; the class check reads files of up to "
            f"{MAX_FILE_BYTES // 1024} KB. Split it into smaller files."
        )
    try:
        return path.read_bytes()
    except OSError as error:
        raise ClassCheckError(f"{path} cannot be read: {error.strerror}.") from None


def _wrapped(text: str, indent: str, width: int) -> List[str]:
    """Text wrapped to the width; a web address is never broken (it must stay clickable)."""
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_long_words=False,
        break_on_hyphens=False,
    ) or [indent]


def table(results: Sequence[StudentResult]) -> List[str]:
    """The verdicts, a line per student, with the counts of each verdict below."""
    rows = [result.as_row() for result in results]
    name_width = min(max([len("Student")] + [len(r["student"]) for r in rows]), 30)
    lines = [f"{'Line':>4}  {'Student':<{name_width}}  {'Programme':<9}  Verdict"]
    for row in rows:
        name = row["student"] if len(row["student"]) <= name_width else row["student"][: name_width - 1] + "…"
        lines.append(f"{row['line']:>4}  {name:<{name_width}}  {row['programme']:<9}  {row['verdict']}")
    counts = verdict_counts(results)
    lines += ["", "  ".join(f"{label}: {count}" for label, count in counts.items())]
    return lines


def details(result: StudentResult, width: int) -> List[str]:
    """One student's result in full: what was read, why, what next, with whom, sources."""
    row = result.as_row()
    who = row["student"] or "(no name)"
    heading = f"Line {row['line']}: {who}" + (f" ({row['programme']})" if row["programme"] else "")
    lines = [heading, f"  Verdict: {row['verdict']}"]
    sections: Mapping[str, str] = {
        "Understood": row["understood"],
        "Notes on the cells": row["notes"],
        "Reasons": row["reasons"],
        "What to check next": row["next_steps"],
        "Check with": row["check_with"],
        "Sources": row["sources"],
    }
    for title, text in sections.items():
        items = [item for item in text.split("\n") if item]
        if len(items) == 1 and title in ("Understood", "Check with"):
            lines += _wrapped(f"{title}: {items[0]}", "  ", width)
        elif items:
            lines.append(f"  {title}:")
            for item in items:
                lines += _wrapped(f"- {item}", "    ", width)
    return lines


def report(results: Sequence[StudentResult], source: str, rules: EntryRules, width: int) -> str:
    """The whole terminal report: a heading, the table of verdicts, then each student."""
    count = len(results)
    lines = [
        f"Class check of {source}: {count} student{'s' if count != 1 else ''} "
        f"(entry rules last reviewed {rules.last_reviewed.day} {rules.last_reviewed:%B %Y})",
        "",
        *table(results),
        "",
    ]
    for result in results:
        lines += details(result, width) + [""]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None, entities_of: Optional[EntityReader] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", type=Path, help="the class's CSV file")
    parser.add_argument("--out", type=Path, help="also write the results to this CSV file")
    args = parser.parse_args(argv)
    if args.file is None:
        print(
            "Give the class's CSV file: make check-class FILE=students.csv (add OUT=results.csv to save "
            f"the results). Start from {TEMPLATE.relative_to(ROOT)}; "
            f"the columns are: {COLUMNS_IN_WORDS}.",
            file=sys.stderr,
        )
        return 2
    rules = default_rules()
    try:
        data = read_file(args.file)
        results = check_class(rules, data, entities_of or chat_entity_reader())
    except ClassCheckError as error:
        print(f"{args.file}: {error}", file=sys.stderr)
        return 2
    width = min(shutil.get_terminal_size((WIDEST, 24)).columns, WIDEST)
    print(report(results, str(args.file), rules, width))
    if args.out:
        try:
            # With a byte order mark, so that Excel opens it as UTF-8.
            args.out.write_text(results_csv(results), encoding="utf-8-sig", newline="")
        except OSError as error:
            print(f"Could not write {args.out}: {error.strerror}.", file=sys.stderr)
            return 2
        print(f"Results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
