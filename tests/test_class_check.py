"""The class check for careers advisers (dialogue/class_check.py): a class of 30 with
their known verdicts, the files it refuses and why, the command
(tools/careers_team/check_class.py, `make check-class`) and the demo site's endpoint
(POST /class-check), started for real, which keeps nothing of what it is sent."""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from careers.vocabulary import (
    ASKABLE_FACTS,
    ELIGIBLE,
    NOT_ELIGIBLE,
    POSSIBLY_ELIGIBLE,
    PROFILE_FACTS,
    PTP,
    STP,
    VERDICT_LABELS,
)
from dialogue.class_check import (
    COLUMNS_IN_WORDS,
    KNOWN_COLUMNS,
    MAX_CELL_CHARACTERS,
    MAX_FILE_BYTES,
    MAX_STUDENTS,
    NOT_DECIDED_LABEL,
    RESULT_COLUMNS,
    ClassCheckError,
    check_class,
    decode_file,
    read_class,
    results_csv,
    verdict_counts,
)
from tests.conftest import ROOT
from tests.harness.serverctl import Server, free_port
from tools.careers_team import check_class as command

CLASS = ROOT / "tests" / "class_check" / "class-of-30.csv"
EXPECTED = ROOT / "tests" / "class_check" / "class-of-30.expected.csv"
TEMPLATE = ROOT / "tools" / "careers_team" / "class-check-template.csv"
HEADER = ",".join(KNOWN_COLUMNS[:1] + ASKABLE_FACTS)


def expected() -> Dict[str, Dict[str, str]]:
    with EXPECTED.open(encoding="utf-8", newline="") as file:
        return {row["student"]: row for row in csv.DictReader(file)}


@pytest.fixture(scope="module")
def class_results(rules, entities_of):
    return check_class(rules, CLASS.read_bytes(), entities_of)


# --- the class of 30 ------------------------------------------------------------------


def test_the_class_of_30_gets_its_known_verdicts(class_results):
    known = expected()
    assert len(class_results) == 30 == len(known)
    wrong = []
    for result in class_results:
        want = known[result.student.name]
        notes = "\n".join(result.notes)
        if result.verdict_label != want["verdict"]:
            wrong.append(f"{result.student.name}: {result.verdict_label!r}, expected {want['verdict']!r}")
        if want["cells_not_read"] and want["cells_not_read"] not in notes:
            wrong.append(f"{result.student.name}: notes {notes!r} lack {want['cells_not_read']!r}")
        if not want["cells_not_read"] and notes:
            wrong.append(f"{result.student.name}: unexpected notes {notes!r}")
    assert wrong == []


def test_the_class_covers_both_programmes_and_every_verdict(class_results):
    seen = {(r.assessment.programme, r.assessment.verdict) for r in class_results}
    for programme in (STP, PTP):
        for verdict in (ELIGIBLE, POSSIBLY_ELIGIBLE, NOT_ELIGIBLE, None):
            assert (programme, verdict) in seen, (programme, verdict)
    counts = verdict_counts(class_results)
    assert list(counts) == [*VERDICT_LABELS.values(), NOT_DECIDED_LABEL]
    assert sum(counts.values()) == 30


def test_each_decided_verdict_has_reasons_next_steps_a_decider_and_sources(class_results):
    for result in class_results:
        row = result.as_row()
        if result.assessment.verdict is None:
            assert row["verdict"].startswith(NOT_DECIDED_LABEL + ": needs ")
            assert row["next_steps"].startswith("Find out ") and not row["sources"]
            continue
        assert row["verdict"] == VERDICT_LABELS[result.assessment.verdict]
        assert row["reasons"] and row["next_steps"] and row["check_with"]
        assert all(url.startswith("https://") for url in row["sources"].split("\n"))


def test_an_unreadable_cell_is_never_guessed_and_never_makes_not_eligible(rules, entities_of):
    text = HEADER + "\nA,STP,2:2,history,yes,,,,\nB,PTP,,,,,yes,lots,yes\nC,STP,banana,,,,,,\n"
    for result in check_class(rules, text, entities_of):
        assert result.assessment.verdict is None, result.student.name
        assert any(note.startswith("could not read '") for note in result.notes)
        assert "banana" not in str(result.profile.values()) and "higher_degree" not in result.profile


def test_facts_in_progress_or_predicted_are_read_from_peoples_words(class_results):
    profile = {r.student.name: r.profile for r in class_results}
    assert profile["Chloe Evans"]["higher_degree_status"] == "in_progress"
    assert profile["Chloe Evans"]["higher_degree_ends"] == "2027"
    assert profile["Dev Patel"]["degree_status"] == "predicted"
    assert profile["Daisy King"]["a_level_status"] == "in_progress"
    assert profile["Jamal Mensah"]["degree_overseas"] is True
    assert profile["Tom Baker"]["degree_subject"] == "biomedical engineering"  # "biomedcal engneering"


@pytest.mark.parametrize(
    "student", ["Chloe Evans", "Jamal Mensah", "Hamza Ali", "Tom Baker", "Daisy King", "Zara Wood"]
)
def test_a_row_is_read_as_the_chat_reads_the_same_answers(assistant, class_results, student):
    """The chat, through the trained model and the real actions, is asked for an
    eligibility check and given the row's cell as the answer to each question it asks:
    it ends with the verdict the class check gave, holding each fact as the class check
    read it (the class check reads every cell; the chat asks only for what it needs)."""
    result = next(r for r in class_results if r.student.name == student)
    sender = f"test-class-check-{student.replace(' ', '-').lower()}-{time.monotonic_ns()}"
    replies = assistant.send(sender, "check my eligibility")
    for _ in range(len(ASKABLE_FACTS) + 1):
        slot = _requested_slot(assistant.events(sender))
        if slot is None:
            break
        assert result.student.cells.get(slot), f"the chat asked for {slot}, which the row leaves empty"
        replies = assistant.send(sender, result.student.cells[slot])
    verdicts = [r["custom"]["assessment"]["verdict"] for r in replies if "custom" in r]
    assert verdicts == [result.assessment.verdict]
    held = _profile(assistant.events(sender))
    assert held and held == {fact: result.profile.get(fact) for fact in held}


def _requested_slot(events: List[Dict[str, Any]]) -> Optional[str]:
    slots = [e for e in events if e.get("event") == "slot" and e.get("name") == "requested_slot"]
    return slots[-1]["value"] if slots else None


def _profile(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    facts: Dict[str, Any] = {}
    for event in events:
        if event.get("event") == "slot" and event.get("name") in PROFILE_FACTS:
            facts[event["name"]] = event["value"]
    return {k: v for k, v in facts.items() if v is not None}


# --- files it refuses, and how it reads the rest ---------------------------------------


@pytest.mark.parametrize(
    "data, says",
    [
        (b"", "The file is empty"),
        (b"   \r\n\r\n", "The file is empty"),
        (b"\xef\xbb\xbf", "The file is empty"),
        (b",,,\n,,\n", "The file is empty"),
        (HEADER.encode() + b"\n", "no students"),
        (b"PK\x03\x04\x14\x00\x06\x00rest of a workbook", "spreadsheet workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 an old .xls", "spreadsheet workbook"),
        (b"%PDF-1.7 a report", "not a CSV file"),
        (b"\x00\x01\x02binary", "not a CSV file"),
        (b"\x81\x8d\x8f\x90\x9d not text in any encoding", "not a CSV file"),
        (b"Dear colleague - please find the class attached\n", "does not look like a CSV file"),
        (b"x" * (MAX_FILE_BYTES + 1), f"up to {MAX_FILE_BYTES // 1024} KB"),
    ],
)
def test_a_file_that_cannot_be_checked_is_refused_with_a_reason(data, says):
    with pytest.raises(ClassCheckError) as refused:
        read_class(decode_file(data))
    assert says in str(refused.value)


def test_unknown_columns_are_named_with_the_known_ones():
    with pytest.raises(ClassCheckError) as refused:
        read_class("student,programme,degre class,A-level grades\nA,STP,2:1,AAB\n")
    message = str(refused.value)
    assert "Unknown columns: 'degre class', 'A-level grades'" in message
    assert "The columns are: " + COLUMNS_IN_WORDS + "." in message
    assert COLUMNS_IN_WORDS.startswith("student (optional, or name or reference), programme, degree_class,")


def test_a_first_line_of_data_rather_than_column_names_is_pointed_out():
    with pytest.raises(ClassCheckError) as refused:
        read_class("Amira Okafor,STP,2:1,physics\n")
    assert "Is the first line the column names?" in str(refused.value)


def test_a_column_named_twice_is_refused():
    with pytest.raises(ClassCheckError, match="degree_class appears more than once"):
        read_class("student,degree_class,Degree class\nA,2:1,2:2\n")
    with pytest.raises(ClassCheckError, match="The columns student and name both name the student"):
        read_class("student,name,programme\nA,B,STP\n")


def test_a_column_with_no_name_is_left_out_and_its_cells_noted():
    first, second = read_class("student,programme,,\nA,STP,,\nB,PTP,x,\n")
    assert first.cells == {"programme": "STP"} and first.notes == ()
    assert second.notes == ("a cell under a column with no name was not read",)


def test_more_students_than_the_limit_are_refused_and_the_limit_itself_is_not():
    line = "\nX,STP,2:1,physics,no,,,,"
    assert len(read_class(HEADER + line * MAX_STUDENTS)) == MAX_STUDENTS
    with pytest.raises(ClassCheckError, match=f"{MAX_STUDENTS + 1} students; .* up to {MAX_STUDENTS}"):
        read_class(HEADER + line * (MAX_STUDENTS + 1))


def test_headings_in_other_spellings_semicolons_and_a_byte_order_mark_are_read():
    text = "\ufeffName;Programme;Degree Class;degree-subject\nAmira;STP;2:1;physics\n"
    (student,) = read_class(text)
    assert student.name == "Amira"
    assert student.cells == {"programme": "STP", "degree_class": "2:1", "degree_subject": "physics"}


def test_excel_on_windows_csv_is_read():
    (student,) = read_class(decode_file("student,programme\nZoë Brontë,STP\n".encode("cp1252")))
    assert student.name == "Zoë Brontë"


def test_lines_are_numbered_as_in_the_file_and_blank_lines_skipped():
    text = HEADER + '\n\nA,STP,"2:1\nfrom Leeds",physics,no\n\nB,PTP\n'
    students = read_class(text)
    assert [(s.line, s.name) for s in students] == [(3, "A"), (6, "B")]
    assert students[0].cells["degree_class"] == "2:1 from Leeds"  # a line break is a space


def test_extra_cells_and_long_cells_are_noted_not_read(rules, entities_of):
    long_cell = "physics " * (MAX_CELL_CHARACTERS // 8 + 1)
    text = f"student,programme,degree_subject\nA,STP,{long_cell},2:1,extra\n"
    (result,) = check_class(rules, text, entities_of)
    notes = "\n".join(result.notes)
    assert "this line has 5 cells but there are 3 columns" in notes
    assert f"too long to read as a degree subject (over {MAX_CELL_CHARACTERS} characters)" in notes
    assert "degree_subject" not in result.profile


def test_control_characters_in_a_cell_do_not_reach_the_output(rules, entities_of):
    (result,) = check_class(rules, "student,programme\n\x1b[31mRed\x07\u202eder,STP\n", entities_of)
    assert result.student.name == "[31mRed der"


def test_the_results_csv_has_a_row_per_student_and_no_formula_runs(rules, entities_of, class_results):
    rows = list(csv.reader(io.StringIO(results_csv(class_results))))
    assert rows[0] == [heading for _, heading in RESULT_COLUMNS]
    assert [r[1] for r in rows[1:]] == list(expected())
    hostile = check_class(
        rules, 'student,programme\n"=HYPERLINK(""http://x"")",STP\n@SUM(A1),PTP\n', entities_of
    )
    names = [r[1] for r in csv.reader(io.StringIO(results_csv(hostile)))][1:]
    assert names == ['\'=HYPERLINK("http://x")', "'@SUM(A1)"]


def test_the_template_has_every_column_and_its_examples_get_verdicts(rules, entities_of):
    lines = TEMPLATE.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(KNOWN_COLUMNS[:1] + ASKABLE_FACTS)
    results = check_class(rules, TEMPLATE.read_bytes(), entities_of)
    assert (
        len(results) == 3 and all(r.assessment.verdict for r in results) and not any(r.notes for r in results)
    )


# --- the command ------------------------------------------------------------------------


def run_command(capsys, entities_of, *argv: str) -> Tuple[int, str, str]:
    status = command.main(list(argv), entities_of=entities_of)
    out, err = capsys.readouterr()
    return status, out, err


def test_the_command_prints_the_table_and_each_student(capsys, entities_of, tmp_path):
    out_file = tmp_path / "results.csv"
    status, out, err = run_command(capsys, entities_of, str(CLASS), "--out", str(out_file))
    assert status == 0 and err == ""
    assert "30 students" in out
    for name, row in expected().items():
        table_line = next(line for line in out.splitlines() if f"  {name}  " in line)
        assert table_line.rstrip().endswith(row["verdict"]), table_line
    labels = [row["verdict"].split(":")[0] for row in expected().values()]
    counts = [*VERDICT_LABELS.values(), NOT_DECIDED_LABEL]
    assert "  ".join(f"{label}: {labels.count(label)}" for label in counts) in out
    assert "Check with: the National School of Healthcare Science" in out
    written = out_file.read_text(encoding="utf-8-sig")
    assert len(list(csv.reader(io.StringIO(written)))) == 31
    assert f"Results written to {out_file}" in out


@pytest.mark.parametrize(
    "content, says",
    [
        (b"", "The file is empty"),
        (b"PK\x03\x04workbook", "not a CSV file"),
        (b"student,degre class\nA,2:1\n", "Unknown column: 'degre class'. The columns are: student"),
        ((HEADER + "\nX,STP" * (MAX_STUDENTS + 1)).encode(), f"{MAX_STUDENTS + 1} students"),
    ],
)
def test_the_command_says_plainly_what_is_wrong_with_a_file(capsys, entities_of, tmp_path, content, says):
    path = tmp_path / "students.csv"
    path.write_bytes(content)
    status, out, err = run_command(capsys, entities_of, str(path))
    assert status == 2 and out == ""
    assert err.startswith(f"{path}: ") and says in err


def test_the_command_without_a_file_or_with_a_missing_one_says_what_to_give(capsys, entities_of, tmp_path):
    status, _, err = run_command(capsys, entities_of)
    assert status == 2 and "make check-class FILE=students.csv" in err and "degree_class" in err
    status, _, err = run_command(capsys, entities_of, str(tmp_path / "nowhere.csv"))
    assert status == 2 and "There is no file" in err
    status, _, err = run_command(capsys, entities_of, str(tmp_path))
    assert status == 2 and "is a folder" in err


def test_the_chat_entity_reader_finds_what_the_chat_finds(entities_of):
    reader = command.chat_entity_reader()
    for text in ("predicted 2:1 from Lagos", "doing an MSc, finishing 2027", "biomedcal engneering"):
        assert reader(text) == entities_of(text), text


def test_make_check_class_runs_the_command_with_file_and_out():
    shown = subprocess.run(
        ["make", "--no-print-directory", "-n", "check-class", "FILE=my class.csv", "OUT=out.csv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert shown[-1].split() == [
        ".venv/bin/python",
        "-m",
        "tools.careers_team.check_class",
        '"my',
        'class.csv"',
        "--out",
        '"out.csv"',
    ]


# --- the demo site's endpoint, started for real ----------------------------------------------


@dataclass
class DemoSite:
    url: str
    port: int
    server: Server
    log: Path
    folders: Tuple[Path, ...]  # the server's own temporary folder and home
    started: float


@contextmanager
def running_demo_site(workdir: Path) -> Iterator[DemoSite]:
    """The demo site as `make run` starts it, on a free port, with a temporary folder and
    a home of its own (so that anything it wrote there would be found)."""
    port = free_port()
    folders = (workdir / "tmp", workdir / "home")
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    log = workdir / "demo.log"
    server = Server(
        "demo site",
        [sys.executable, "-m", "tools.running.demo_site", "--port", str(port)],
        log,
        env={"TMPDIR": str(folders[0]), "HOME": str(folders[1])},
    )
    started = time.time()
    server.start(f"http://127.0.0.1:{port}/class-check")
    try:
        yield DemoSite(f"http://127.0.0.1:{port}", port, server, log, folders, started)
    finally:
        server.stop()


def request(
    site: DemoSite,
    path: str,
    body: Optional[bytes] = None,
    content_type: str = "text/csv",
    accept: str = "application/json",
) -> Tuple[int, Dict[str, str], bytes]:
    headers = {"Accept": accept}
    if body is not None:
        headers["Content-Type"] = content_type
    sent = urllib.request.Request(site.url + path, data=body, headers=headers)
    try:
        with urllib.request.urlopen(sent, timeout=120) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def multipart(name: str, filename: str, content: bytes) -> Tuple[bytes, str]:
    boundary = "----class-check-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with running_demo_site(tmp_path_factory.mktemp("class-check-site")) as running:
        yield running


@pytest.mark.servers
def test_the_endpoint_says_which_columns_it_reads_and_serves_the_template(site):
    status, _, body = request(site, "/class-check")
    info = json.loads(body)
    assert status == 200
    assert [c["name"] for c in info["columns"]] == list(ASKABLE_FACTS)
    assert info["max_students"] == MAX_STUDENTS and info["max_bytes"] == MAX_FILE_BYTES
    status, headers, body = request(site, "/class-check-template.csv")
    assert status == 200 and body == TEMPLATE.read_bytes() and "attachment" in headers["Content-Disposition"]


@pytest.mark.servers
def test_the_endpoint_checks_the_class_sent_as_csv_or_as_a_form_upload(site):
    known = expected()
    sent_csv = request(site, "/class-check", CLASS.read_bytes())
    sent_form = request(site, "/class-check", *multipart("file", "class.csv", CLASS.read_bytes()))
    for status, headers, body in (sent_csv, sent_form):
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert headers["Cache-Control"] == "no-store"
        answer = json.loads(body)
        assert answer["students"] == 30 and len(answer["rows"]) == 30
        assert {r["student"]: r["verdict"] for r in answer["rows"]} == {
            n: r["verdict"] for n, r in known.items()
        }
        assert answer["csv"].startswith("Line,Student,Programme,Verdict")


@pytest.mark.servers
def test_the_endpoint_answers_a_plain_form_post_with_the_csv_to_download(site):
    status, headers, body = request(
        site, "/class-check", *multipart("file", "c.csv", CLASS.read_bytes()), accept="*/*"
    )
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert 'filename="class-check-results.csv"' in headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 31 and rows[1][1] == "Amira Okafor"


@pytest.mark.servers
@pytest.mark.parametrize(
    "body, content_type, status, says",
    [
        (b"", "text/csv", 400, "no file"),
        (b"student,degre class\nA,2:1\n", "text/csv", 400, "Unknown column: 'degre class'"),
        (b"PK\x03\x04workbook", "text/csv", 400, "spreadsheet workbook"),
        (HEADER.encode(), "text/csv", 400, "no students"),
        ((HEADER + "\nX,STP" * (MAX_STUDENTS + 1)).encode(), "text/csv", 400, f"up to {MAX_STUDENTS}"),
        (b"x" * (MAX_FILE_BYTES + 64 * 1024), "text/csv", 413, "too large"),
        (b'{"students": []}', "application/json", 415, "CSV file"),
        (
            multipart("other", "c.csv", b"student\nA\n")[0],
            multipart("", "", b"")[1],
            400,
            "Choose the class's CSV",
        ),
    ],
)
def test_the_endpoint_refuses_what_it_cannot_check_with_a_clear_4xx(site, body, content_type, status, says):
    got, headers, answer = request(site, "/class-check", body, content_type)
    assert got == status
    assert says in json.loads(answer)["error"]
    got, headers, answer = request(site, "/class-check", body, content_type, accept="text/plain")
    assert got == status and headers["Content-Type"].startswith("text/plain") and says in answer.decode()


@pytest.mark.servers
def test_the_endpoint_asks_for_the_length_and_has_nothing_else_to_post_to(site):
    connection = http.client.HTTPConnection("127.0.0.1", site.port, timeout=30)
    connection.putrequest("POST", "/class-check")
    connection.putheader("Accept", "application/json")
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 411 and "Content-Length" in json.loads(response.read())["error"]
    connection.close()
    assert request(site, "/index.html", b"student\n")[0] == 404


@pytest.mark.servers
def test_the_endpoint_keeps_nothing_it_was_sent(site):
    """After the class has been checked (by the tests above and once more here), no
    student's name is in the server's log or in any file the server could have written:
    its temporary folder, its home, or the repository's files changed since it started."""
    assert request(site, "/class-check", CLASS.read_bytes())[0] == 200
    names = [name.encode() for name in expected()]
    assert len(names) == 30
    log = site.log.read_bytes()
    assert b"POST /class-check" in log
    assert not [n for n in names if n in log], "a student's name is in the server's log"
    written = [p for folder in site.folders for p in _files_in(folder)]
    written += [p for p in _files_in(ROOT) if p.stat().st_mtime >= site.started]
    found = [str(p) for p in written if any(n in _read(p) for n in names)]
    assert found == [], f"the upload reached {found}"


_NOT_SCANNED = {".git", ".venv", "node_modules"}


def _files_in(folder: Path) -> List[Path]:
    found = []
    for top, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in _NOT_SCANNED]
        found += [Path(top) / f for f in files]
    return [p for p in found if p.is_file()]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes() if path.stat().st_size < 50_000_000 else b""
    except OSError:
        return b""
