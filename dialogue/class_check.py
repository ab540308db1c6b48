"""The class check for careers advisers: a CSV of students in, each one's verdict out.

One row per student: who it is (optional) and the facts of the eligibility check, one
column per fact, named as the check's slots are (`careers.vocabulary.ASKABLE_FACTS`).
Each cell is read as the answer to the check's question for its column, by the same
readers the chat uses (`dialogue.turns.take_turn`, with the entities the chat's entity
extractor finds: the caller passes that reader in). A cell that cannot be read is
reported, never guessed, and leaves its fact missing; a student with facts missing gets
"not decided yet", naming them, never "not eligible". Then the same engine and rules
file as the chat give the verdict, its reasons, what to check next and with whom, and
the sources.

Pure Python, no Rasa import. Nothing is written anywhere: the caller gets the results.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from careers.answers import describe_facts, not_covered_topic, verdict_values
from careers.engine import Assessment, assess, join_words
from careers.rules_file import NOT_COVERED_GENERAL, EntryRules
from careers.vocabulary import (
    A_LEVEL_COUNT,
    ASKABLE_FACTS,
    DEGREE_CLASS,
    DEGREE_SUBJECT,
    GCSE_GRADES,
    HIGHER_DEGREE,
    HIGHER_DEGREE_SUBJECT,
    INFORM_INTENT,
    NOT_UNDERSTOOD,
    PROGRAMME,
    PROGRAMMES,
    SCIENCE_A_LEVEL,
    VERDICT_LABELS,
    VERDICT_TONES,
)
from dialogue.denials import _UNSURE
from dialogue.turns import Turn, take_turn

# What finds the entities in a piece of text, as the chat's NLU pipeline does.
EntityReader = Callable[[str], Sequence[Mapping[str, Any]]]


@dataclass(frozen=True)
class Column:
    """A fact column of the class's CSV: its name (the check's slot), how a cell that
    cannot be read is described, how the fact is named when missing, and an example."""

    name: str
    read_as: str
    needed: str
    example: str


# The columns of facts, in the order the check asks for them (cells are read in this order).
FACT_COLUMNS: Tuple[Column, ...] = (
    Column(
        PROGRAMME, "a programme (STP or PTP)", "the programme", "STP, PTP, scientist training, practitioner"
    ),
    Column(
        DEGREE_CLASS,
        "a degree class",
        "the degree class",
        "2:1, upper second, first class, predicted 2:2, none",
    ),
    Column(
        DEGREE_SUBJECT, "a degree subject", "the degree subject", "Mechanical Engineering, physics, history"
    ),
    Column(
        HIGHER_DEGREE,
        "a higher degree (or none)",
        "whether there is a higher degree",
        "no, MSc, PhD, PGDip, doing an MSc, finishing 2027",
    ),
    Column(
        HIGHER_DEGREE_SUBJECT, "a higher degree's subject", "the higher degree's subject", "medical physics"
    ),
    Column(GCSE_GRADES, "GCSE grades", "the GCSE grades", "yes, no, not sure, all 6s, mostly Bs"),
    Column(
        A_LEVEL_COUNT,
        "a number of A-levels",
        "the number of A-levels",
        "3, none, AAB predicted, a BTEC instead",
    ),
    Column(
        SCIENCE_A_LEVEL,
        "an answer about a science A-level",
        "whether an A-level is a science",
        "yes, no, not sure, physics",
    ),
)
assert tuple(c.name for c in FACT_COLUMNS) == ASKABLE_FACTS, "one column per fact the check asks for"
COLUMNS_BY_NAME: Dict[str, Column] = {c.name: c for c in FACT_COLUMNS}
# Who a row is about: optional, under any one of these names.
STUDENT_COLUMNS: Tuple[str, ...] = ("student", "name", "reference")
KNOWN_COLUMNS: Tuple[str, ...] = STUDENT_COLUMNS + ASKABLE_FACTS
# The columns as messages name them.
COLUMNS_IN_WORDS = f"{STUDENT_COLUMNS[0]} (optional, or {' or '.join(STUDENT_COLUMNS[1:])}), " + ", ".join(
    ASKABLE_FACTS
)

# Limits: a class or a year group at a time, and cells the length of an answer.
MAX_STUDENTS = 500
MAX_FILE_BYTES = 256 * 1024
MAX_CELL_CHARACTERS = 300
# How a cell is quoted back in a note.
QUOTED_CHARACTERS = 60

# The verdict of a student with facts still missing.
NOT_DECIDED_LABEL = "Not decided yet"
NOT_DECIDED_TONE = "missing"

# The columns of the results, in order: key and heading.
RESULT_COLUMNS: Tuple[Tuple[str, str], ...] = (
    ("line", "Line"),
    ("student", "Student"),
    ("programme", "Programme"),
    ("verdict", "Verdict"),
    ("notes", "Notes on the cells"),
    ("understood", "Understood"),
    ("reasons", "Reasons"),
    ("next_steps", "What to check next"),
    ("check_with", "Check with"),
    ("sources", "Sources"),
)


class ClassCheckError(ValueError):
    """The file as a whole cannot be checked; the message says why and what to do."""


@dataclass(frozen=True)
class Student:
    """One row of the class: where it is in the file, who it is, and its cells by column."""

    line: int
    name: str
    cells: Mapping[str, str]
    notes: Tuple[str, ...] = ()


@dataclass(frozen=True)
class StudentResult:
    """What the check says of one student."""

    student: Student
    assessment: Assessment
    profile: Mapping[str, Any]
    notes: Tuple[str, ...]
    understood: str
    decider: str = ""
    sources: Tuple[str, ...] = ()
    # Each source's title, in the same order, for a page to show instead of the address.
    source_titles: Tuple[str, ...] = ()
    # While there is no verdict: the facts it needs, in words ("the degree class").
    needs: Tuple[str, ...] = ()

    @property
    def verdict_label(self) -> str:
        """The plain label, or "Not decided yet: needs ..." naming what is missing."""
        if self.assessment.verdict is not None:
            return VERDICT_LABELS[self.assessment.verdict]
        return f"{NOT_DECIDED_LABEL}: needs {join_words(self.needs)}"

    @property
    def tone(self) -> str:
        """How a page colours the verdict ("good", "caution", "bad", or "missing")."""
        verdict = self.assessment.verdict
        return VERDICT_TONES[verdict] if verdict is not None else NOT_DECIDED_TONE

    @property
    def next_steps(self) -> List[str]:
        """The engine's next steps; with no verdict yet, finding out what it needs."""
        if self.assessment.verdict is not None:
            return list(self.assessment.next_steps)
        return [f"Find out {join_words(self.needs)}, then check again."]

    def as_row(self) -> Dict[str, str]:
        """The result as text, keyed like RESULT_COLUMNS; lists one item a line."""
        return {
            "line": str(self.student.line),
            "student": self.student.name,
            "programme": str(self.assessment.programme or ""),
            "verdict": self.verdict_label,
            "notes": "\n".join(self.notes),
            "understood": self.understood,
            "reasons": "\n".join(self.assessment.reasons),
            "next_steps": "\n".join(self.next_steps),
            "check_with": self.decider,
            "sources": "\n".join(self.sources),
        }


def decode_file(data: bytes) -> str:
    """The text of an uploaded file, or a ClassCheckError saying why it is not a CSV."""
    if len(data) > MAX_FILE_BYTES:
        raise ClassCheckError(
            f"The file is {len(data) // 1024:,} KB; the class check reads files of up to "
            f"{MAX_FILE_BYTES // 1024} KB. Split it into smaller files."
        )
    if not data.strip():
        raise ClassCheckError(_EMPTY)
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise ClassCheckError(
            "This looks like a spreadsheet workbook (.xlsx or .xls), not a CSV file. "
            "In your spreadsheet, choose Save As or Download, then CSV, and check that file."
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")  # Excel's "Unicode text"
        except UnicodeDecodeError:
            raise ClassCheckError(_NOT_TEXT) from None
    if b"\x00" in data or data.startswith(b"%PDF"):
        raise ClassCheckError(_NOT_TEXT)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")  # what Excel on Windows saves as "CSV"
    except UnicodeDecodeError:
        raise ClassCheckError(_NOT_TEXT) from None


_EMPTY = (
    "The file is empty. Start from the template: a first line naming the columns "
    "(student, programme, degree_class, ...), then one line per student."
)
_NOT_TEXT = (
    "This is not a CSV file (it is not text). Save the class from your spreadsheet as CSV and try again."
)


def read_class(text: str) -> List[Student]:
    """The students of a CSV text: a header naming known columns, then one row each.
    Blank rows are skipped. Raises ClassCheckError for a file that cannot be checked."""
    body = text.lstrip("\ufeff")
    if not body.strip():
        raise ClassCheckError(_EMPTY)
    first = next(line for line in body.splitlines() if line.strip())
    delimiter = max(",;\t", key=first.count)  # commas, or what some spreadsheets use instead
    reader = csv.reader(io.StringIO(body), delimiter=delimiter)
    rows: List[Tuple[int, List[str]]] = []
    ended = 0  # the line the previous row ended on: a quoted cell may hold line breaks
    try:
        for row in reader:
            rows.append((ended + 1, row))
            ended = reader.line_num
    except csv.Error as error:
        raise ClassCheckError(f"This is not a CSV file that can be read ({error}).") from None
    rows = [(number, row) for number, row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise ClassCheckError(_EMPTY)
    header = rows[0][1]
    columns = _header_columns(header, single=first.count(delimiter) == 0)
    students = rows[1:]
    if not students:
        raise ClassCheckError("The file has its column names but no students: add one line per student.")
    if len(students) > MAX_STUDENTS:
        raise ClassCheckError(
            f"The file has {len(students):,} students; the class check takes up to {MAX_STUDENTS} "
            "at a time. Split it into smaller files."
        )
    return [_student(number, row, columns) for number, row in students]


def _column_name(heading: str) -> str:
    """A heading as a column name: "Degree class" and "degree-class" are degree_class."""
    return re.sub(r"[\s\-]+", "_", heading.strip().lower())


def _header_columns(header: List[str], single: bool) -> List[str]:
    """The known column names of the header, or a ClassCheckError naming what is wrong."""
    names = [_column_name(heading) for heading in header]
    known = COLUMNS_IN_WORDS
    # (A column with no name is left out: spreadsheets often save an empty one at the end.)
    unknown = [
        heading.strip()
        for heading, name in zip(header, names, strict=True)
        if name and name not in KNOWN_COLUMNS
    ]
    if single and unknown:
        raise ClassCheckError(
            "This does not look like a CSV file: its first line should name the columns, "
            f"separated by commas. The columns are: {known}."
        )
    if unknown:
        shown = ", ".join(f"'{_quoted(h)}'" for h in unknown)
        raise ClassCheckError(
            f"Unknown column{'s' if len(unknown) > 1 else ''}: {shown}. The columns are: {known}. "
            "Is the first line the column names?"
        )
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        raise ClassCheckError(f"The column {', '.join(repeated)} appears more than once: keep one.")
    students = [n for n in names if n in STUDENT_COLUMNS]
    if len(students) > 1:
        raise ClassCheckError(f"The columns {' and '.join(students)} both name the student: keep one.")
    return names


def _student(line: int, row: List[str], columns: List[str]) -> Student:
    """One row as a Student, with a note when it has more cells than there are columns."""
    # A row shorter than the header has its last cells blank.
    pairs = list(zip(columns, row, strict=False))
    cells = {column: _clean(value) for column, value in pairs if column}
    name = next((cells.pop(column) for column in STUDENT_COLUMNS if column in cells), "")
    notes = []
    if any(value.strip() for column, value in pairs if not column):
        notes.append("a cell under a column with no name was not read")
    extra = [value for value in row[len(columns) :] if value.strip()]
    if extra:
        notes.append(
            f"this line has {len(row)} cells but there are {len(columns)} columns: "
            "the extra cells were not read"
        )
    return Student(line=line, name=name, cells=cells, notes=tuple(notes))


def _clean(value: str) -> str:
    """A cell with control characters, line breaks and direction marks made spaces (they
    could change what a terminal or a page shows), trimmed."""
    return re.sub(r"\s+", " ", _CONTROL.sub(" ", value)).strip()


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def _quoted(text: str) -> str:
    return text if len(text) <= QUOTED_CHARACTERS else text[: QUOTED_CHARACTERS - 1].rstrip() + "…"


def _cell_note(column: Column, cell: str, rules: EntryRules) -> Optional[str]:
    """Why a cell is not read before reading it: too long, or a route the sources do not cover."""
    if len(cell) > MAX_CELL_CHARACTERS:
        too_long = f"over {MAX_CELL_CHARACTERS} characters"
        return f"'{_quoted(cell)}' is too long to read as {column.read_as} ({too_long})"
    if column.name == PROGRAMME and not any(p in cell.upper() for p in PROGRAMMES):
        topic = not_covered_topic(rules, cell)
        if topic != NOT_COVERED_GENERAL:
            # "degree apprenticeship": not a programme the rules cover, whatever words it shares.
            return f"could not read '{_quoted(cell)}' as {column.read_as}: {rules.not_covered[topic].text}"
    return None


def _unreadable_note(column: Column, cell: str) -> str:
    if _UNSURE.search(cell):
        return f"'{_quoted(cell)}': {column.needed} is not known yet"
    return f"could not read '{_quoted(cell)}' as {column.read_as}"


def read_student(
    rules: EntryRules, student: Student, entities_of: EntityReader
) -> Tuple[Dict[str, Any], List[str]]:
    """The profile a student's cells give, read as a chat reads each answer to the
    check's question for that column, in the order it asks; and the notes on cells not read."""
    profile: Dict[str, Any] = {}
    notes = list(student.notes)
    not_read = set()
    for column in FACT_COLUMNS:
        cell = student.cells.get(column.name, "")
        if not cell:
            continue
        note = _cell_note(column, cell, rules)
        if note:
            notes.append(note)
            not_read.add(column.name)
            continue
        turn = Turn(
            text=cell,
            entities=tuple(entities_of(cell)),
            intent=INFORM_INTENT,
            asked=column.name,
            facts=dict(profile),
            in_check=True,
        )
        result = take_turn(rules, turn)
        if result.unreadable:
            notes.append(_unreadable_note(column, cell))
            not_read.add(column.name)
            continue
        for fact, value in result.changes.items():
            if value is None or value == NOT_UNDERSTOOD:
                profile.pop(fact, None)
            else:
                profile[fact] = value
    if PROGRAMME in not_read:
        # A programme given but not read is not replaced by the one the other answers
        # point to: that would be a guess at what the adviser wrote.
        profile.pop(PROGRAMME, None)
    elif not student.cells.get(PROGRAMME) and profile.get(PROGRAMME) in PROGRAMMES:
        notes.append(f"no programme given: checked for the {profile[PROGRAMME]}, from the other answers")
    return profile, notes


def check_student(rules: EntryRules, student: Student, entities_of: EntityReader) -> StudentResult:
    """One student's verdict, from the same engine and rules as the chat."""
    profile, notes = read_student(rules, student, entities_of)
    assessment = assess(rules, profile)
    understood = describe_facts(rules, profile)
    if assessment.verdict is None:
        needed = [COLUMNS_BY_NAME[fact].needed for fact in assessment.missing if fact in COLUMNS_BY_NAME]
        return StudentResult(student, assessment, profile, tuple(notes), understood, needs=tuple(needed))
    values = verdict_values(rules, assessment, profile)
    sources = tuple(values["sources"].split("\n"))
    titles = {source.url: source.title for source in rules.sources.values()}
    return StudentResult(
        student,
        assessment,
        profile,
        tuple(notes),
        understood,
        decider=values["decider"],
        sources=sources,
        source_titles=tuple(titles.get(url, url) for url in sources),
    )


def check_class(rules: EntryRules, data: Union[bytes, str], entities_of: EntityReader) -> List[StudentResult]:
    """Every student of a CSV file (its bytes or text), checked. Raises ClassCheckError
    for a file that cannot be checked (not CSV, empty, unknown columns, too many students)."""
    text = decode_file(data if isinstance(data, bytes) else data.encode("utf-8", "replace"))
    return [check_student(rules, student, entities_of) for student in read_class(text)]


def verdict_counts(results: Sequence[StudentResult]) -> Dict[str, int]:
    """How many students have each verdict, most favourable first, then those not decided."""
    counts = {label: 0 for label in VERDICT_LABELS.values()}
    counts[NOT_DECIDED_LABEL] = 0
    for result in results:
        verdict = result.assessment.verdict
        counts[VERDICT_LABELS[verdict] if verdict is not None else NOT_DECIDED_LABEL] += 1
    return counts


# A spreadsheet takes a cell that starts with one of these for a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(text: str) -> str:
    """A cell a spreadsheet shows as text: a leading ' keeps "=..." from being run."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def results_csv(results: Sequence[StudentResult]) -> str:
    """The results as CSV text, with the headings of RESULT_COLUMNS."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([heading for _, heading in RESULT_COLUMNS])
    for result in results:
        row = result.as_row()
        writer.writerow([_safe_cell(row[key]) for key, _ in RESULT_COLUMNS])
    return out.getvalue()
