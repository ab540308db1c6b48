"""The class check page of the demo site (widget/demo/class-check.html) in headless
Chromium (Debian's), driven by Playwright as in tests/test_widget.py, against the demo
site started for real on a free port: an adviser uploads the class of 30, sees each
student's verdict and downloads the results. Screenshots of each test's end state go to
results/class-check/.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dialogue.class_check import FACT_COLUMNS, MAX_FILE_BYTES
from tests.conftest import checked_tab
from tests.harness.browser import AXE_JS
from tests.harness.serverctl import ROOT
from tests.test_class_check import CLASS, HEADER, expected, running_demo_site

SHOTS = ROOT / "results" / "class-check"
# The first check loads the chat's entity reader: a few seconds, more on a busy machine.
CHECK_TIMEOUT = 90_000
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with running_demo_site(tmp_path_factory.mktemp("class-check-page")) as running:
        yield running


@pytest.fixture
def page(browser, request):
    """A fresh browser tab that fails the test on any script error."""
    yield from checked_tab(
        browser,
        request.node.name,
        full_page=True,
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )


def open_page(page: Page, url: str) -> None:
    page.goto(url + "/class-check.html")
    # The columns come from the server, which defines them.
    expect(page.locator("#cc-columns dt")).to_have_count(1 + len(FACT_COLUMNS))  # and the student column


def upload(page: Page, name: str, content: bytes, mime: str = "text/csv") -> None:
    page.set_input_files("#cc-file", files=[{"name": name, "mimeType": mime, "buffer": content}])
    page.get_by_role("button", name="Check the class").click()


def row_of(page: Page, student: str):
    return page.locator("#cc-body tr").filter(has=page.locator("td", has_text=re.compile(f"^{student}$")))


def test_an_adviser_uploads_the_class_sees_30_verdicts_and_downloads_them(site, page):
    open_page(page, site.url)
    expect(page.get_by_text("Nothing is kept.")).to_be_visible()
    page.set_input_files("#cc-file", str(CLASS))
    page.get_by_role("button", name="Check the class").click()
    expect(page.locator("#cc-body tr")).to_have_count(30, timeout=CHECK_TIMEOUT)
    expect(page.locator("#cc-status")).to_have_text("Checked 30 students.")
    known = expected()
    for student in ("Amira Okafor", "Chloe Evans", "Ella Hughes", "Maya Singh", "Zara Wood", "Aaron Fox"):
        expect(row_of(page, student).locator(".verdict")).to_have_text(known[student]["verdict"])
    expect(row_of(page, "Maya Singh")).to_contain_text("could not read 'xyz' as a degree class")
    sources = row_of(page, "Amira Okafor").locator("a")
    expect(sources.first).to_have_attribute("href", re.compile(r"^https://"))
    expect(page.locator("#cc-summary")).to_contain_text("30 students: Eligible")

    download_link = page.get_by_role("link", name="Download the results as a CSV file")
    expect(download_link).to_have_attribute("href", re.compile(r"^blob:"))
    expect(download_link).to_have_attribute("download", "class-check-results.csv")
    with page.expect_download() as started:
        download_link.click()
    download = started.value
    assert download.suggested_filename == "class-check-results.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0][:4] == ["Line", "Student", "Programme", "Verdict"]
    assert {r[1]: r[3] for r in rows[1:]} == {name: row["verdict"] for name, row in known.items()}


def test_the_home_page_links_to_the_class_check(site, page):
    page.goto(site.url + "/index.html")
    page.get_by_role("link", name="check a whole class at once").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Class check for careers advisers")


def test_names_and_cells_are_shown_as_text_never_as_markup(site, page):
    open_page(page, site.url)
    hostile = '<img src=x onerror="window.hacked=1">'
    out = io.StringIO()
    csv.writer(out).writerows([HEADER.split(","), [hostile, "STP", "<b>2:1</b>", "physics", "no"]])
    content = out.getvalue().encode()
    upload(page, "hostile.csv", content)
    expect(page.locator("#cc-body tr")).to_have_count(1, timeout=CHECK_TIMEOUT)
    expect(page.locator("#cc-body td").nth(1)).to_have_text(hostile)
    assert page.locator("#cc-results img, #cc-results b").count() == 0
    assert page.evaluate("() => window.hacked") is None


def test_a_file_that_cannot_be_checked_shows_why_and_no_table(site, page):
    open_page(page, site.url)
    upload(page, "class.csv", CLASS.read_bytes())
    expect(page.locator("#cc-body tr")).to_have_count(30, timeout=CHECK_TIMEOUT)
    upload(page, "class.csv", b"student,degre class\nA,2:1\n")
    expect(page.get_by_role("alert")).to_contain_text(
        "Unknown column: 'degre class'. The columns are: student", timeout=CHECK_TIMEOUT
    )
    expect(page.locator("#cc-results")).to_be_hidden()
    upload(page, "big.csv", b"x" * (MAX_FILE_BYTES + 1))
    expect(page.get_by_role("alert")).to_contain_text("The file is too large")
    upload(page, "class.xlsx", b"PK\x03\x04 a workbook", mime="application/vnd.ms-excel")
    expect(page.get_by_role("alert")).to_contain_text("spreadsheet workbook", timeout=CHECK_TIMEOUT)
    expect(page.locator("#cc-results")).to_be_hidden()


def test_the_page_with_results_has_no_accessibility_violations(site, page):
    open_page(page, site.url)
    page.set_input_files("#cc-file", str(CLASS))
    page.get_by_role("button", name="Check the class").click()
    expect(page.locator("#cc-body tr")).to_have_count(30, timeout=CHECK_TIMEOUT)
    page.add_script_tag(content=AXE_JS.read_text())
    violations = page.evaluate(
        """async (tags) => {
             const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
             return result.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '));
           }""",
        AXE_TAGS,
    )
    assert violations == []
