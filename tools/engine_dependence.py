"""How much of this repository leans on Rasa, measured: `python -m tools.engine_dependence`.

Walks the repository's Python (not .venv, build, node_modules or hidden folders),
parses each file with `ast` and counts, per top-level folder, the files and non-blank
lines, the files that import `rasa` or `rasa_sdk` (anywhere in the file, also inside a
function) and the lines of the statements that use them. Then the YAML written in
Rasa's own formats (domain, training data, config, endpoints, credentials, story
tests), our own YAML formats beside it, and the widget's ties to Rasa's protocols.
Prints markdown tables; docs/engine.md quotes them.

    python -m tools.engine_dependence [--root PATH] [--files]
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

ENGINES = ("rasa", "rasa_sdk")
# Folders never walked: other people's code and what the build makes.
SKIPPED_FOLDERS = {"build", "node_modules", "__pycache__"}
TESTS = "tests"
ROOT_FILES = "(root)"
TOTALS = ("all but tests/", "all")
# What the widget says that only Rasa's socket.io and REST channels understand.
WIDGET_SOURCES = "widget/src"
WIDGET_MARKERS = ("user_uttered", "bot_uttered", "session_request", "/webhooks/rest/")
# One imported name: (module, name), the name None for `import module`.
Api = Tuple[str, Optional[str]]


@dataclass
class FileReport:
    """One Python file: its size and what it takes from Rasa and rasa-sdk."""

    path: str
    folder: str
    lines: int
    apis: Dict[str, Set[Api]] = field(default_factory=dict)
    lines_using: int = 0
    parsed: bool = True

    def imports(self, engine: str) -> bool:
        return bool(self.apis.get(engine))


@dataclass
class YamlReport:
    """One YAML file, with the kind of file it is (Rasa's format or ours)."""

    path: str
    kind: str
    lines: int
    rasa_format: bool


def non_blank(text: str) -> int:
    """Lines with something on them: the measure of size used throughout."""
    return sum(1 for line in text.splitlines() if line.strip())


def walked(root: Path, suffixes: Sequence[str]) -> Iterator[Path]:
    """The files under `root` with these suffixes, in a stable order, without going
    into skipped or hidden folders (.venv alone holds far more than the project)."""
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED_FOLDERS and not d.startswith("."))
        for name in sorted(files):
            if Path(name).suffix in suffixes:
                yield Path(folder) / name


def top_folder(root: Path, path: Path) -> str:
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 else ROOT_FILES


def _engine_of(module: str) -> Optional[str]:
    first = module.split(".")[0]
    return first if first in ENGINES else None


def engine_imports(tree: ast.AST) -> Dict[str, Set[Api]]:
    """Every name imported from rasa or rasa_sdk, by engine, wherever the import is."""
    found: Dict[str, Set[Api]] = defaultdict(set)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                engine = _engine_of(alias.name)
                if engine:
                    found[engine].add((alias.name, None))
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            engine = _engine_of(node.module)
            if engine:
                found[engine] |= {(node.module, alias.name) for alias in node.names}
    return dict(found)


def _is_engine_import(node: ast.AST) -> bool:
    if isinstance(node, ast.Import):
        return any(_engine_of(alias.name) for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return bool(node.module) and not node.level and _engine_of(node.module or "") is not None
    return False


def bound_names(tree: ast.AST) -> Set[str]:
    """The names an engine import binds in the file (`rasa` for `import rasa.core.run`)."""
    names: Set[str] = set()
    for node in ast.walk(tree):
        if not _is_engine_import(node):
            continue
        assert isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names:
            if isinstance(node, ast.Import):
                names.add(alias.asname or alias.name.split(".")[0])
            else:
                names.add(alias.asname or alias.name)
    return names


def _uses_engine(statement: ast.stmt, bound: Set[str]) -> bool:
    for node in ast.walk(statement):
        if _is_engine_import(node):
            return True
        if isinstance(node, ast.Name) and node.id in bound:
            return True
    return False


def lines_using_engine(tree: ast.Module, lines: List[str]) -> int:
    """Non-blank lines of the top-level statements (imports, classes, functions, ...)
    that import from an engine or name something imported from one: the code a move
    to another engine would have to rewrite, at the grain of whole definitions."""
    bound = bound_names(tree)
    total = 0
    for statement in tree.body:
        if not _uses_engine(statement, bound):
            continue
        decorators = getattr(statement, "decorator_list", [])
        first = min([statement.lineno, *(d.lineno for d in decorators)])
        last = statement.end_lineno or statement.lineno
        total += sum(1 for line in lines[first - 1 : last] if line.strip())
    return total


def python_report(root: Path, path: Path) -> FileReport:
    """What one file takes from the engines; a file Python cannot parse is counted
    by size and marked, not skipped, so the totals stay whole."""
    text = path.read_text(encoding="utf-8", errors="replace")
    report = FileReport(str(path.relative_to(root)), top_folder(root, path), non_blank(text))
    try:
        tree = ast.parse(text, filename=str(path))
    except (SyntaxError, ValueError):
        report.parsed = False
        return report
    report.apis = engine_imports(tree)
    report.lines_using = lines_using_engine(tree, text.splitlines())
    return report


_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:", re.MULTILINE)


def top_level_keys(text: str) -> Set[str]:
    """The keys at the top of a YAML mapping, read without loading the file (some of
    ours hold `${VARIABLES}` that are not YAML until the environment fills them)."""
    return set(_TOP_KEY.findall(text))


def yaml_kind(relative: Path, text: str) -> Tuple[str, bool]:
    """What a YAML file is, and whether it is written in one of Rasa's formats."""
    keys = top_level_keys(text)
    name, under = relative.name, relative.parts[0] if len(relative.parts) > 1 else ""
    if keys & {"apiVersion", "kind"}:  # Kubernetes manifests have `rules:` too
        return f"other YAML in {under or ROOT_FILES}/", False
    if name.startswith("domain") or ("version" in keys and keys & {"intents", "responses", "slots"}):
        return "domain", True
    if keys & {"pipeline", "policies"}:
        return "pipeline and policies (config.yml)", True
    if keys & {"action_endpoint", "tracker_store", "lock_store", "event_broker"}:
        return "endpoints", True
    if name.startswith("credentials"):
        return "channel credentials", True
    training = keys & {"nlu", "rules", "stories"}
    if training and ("version" in keys or under in ("data", TESTS)):
        if under == TESTS:
            return ("story tests", True) if training & {"rules", "stories"} else ("NLU test data", True)
        return {"nlu": "NLU training data", "rules": "rules", "stories": "stories"}[sorted(training)[0]], True
    if under == TESTS and relative.parts[1:2] == ("conversations",):
        return "conversation scripts (tests/conversations)", False
    return f"other YAML in {under or ROOT_FILES}/", False


def yaml_reports(root: Path) -> List[YamlReport]:
    reports = []
    for path in walked(root, (".yml", ".yaml")):
        relative = path.relative_to(root)
        text = path.read_text(encoding="utf-8", errors="replace")
        kind, rasa_format = yaml_kind(relative, text)
        reports.append(YamlReport(str(relative), kind, non_blank(text), rasa_format))
    return reports


@dataclass
class Measurement:
    """Everything the tables show, for one repository."""

    python: List[FileReport]
    yaml: List[YamlReport]
    widget_files: int = 0
    widget_lines: int = 0
    widget_protocol_files: List[str] = field(default_factory=list)


def widget_ties(root: Path, measurement: Measurement) -> None:
    """The widget's source and the files of it that speak Rasa's channel protocols."""
    folder = root / WIDGET_SOURCES
    if not folder.is_dir():
        return
    for path in walked(folder, (".js", ".mjs", ".ts")):
        text = path.read_text(encoding="utf-8", errors="replace")
        measurement.widget_files += 1
        measurement.widget_lines += non_blank(text)
        if any(marker in text for marker in WIDGET_MARKERS):
            measurement.widget_protocol_files.append(str(path.relative_to(root)))


def measure(root: Path) -> Measurement:
    """Measure the repository at `root`."""
    python = [python_report(root, path) for path in walked(root, (".py",))]
    measurement = Measurement(python, yaml_reports(root))
    widget_ties(root, measurement)
    return measurement


@dataclass
class FolderRow:
    """One row of the Python table: a folder, or a total."""

    name: str
    files: int = 0
    lines: int = 0
    rasa: int = 0
    rasa_sdk: int = 0
    neither: int = 0
    lines_in_importing_files: int = 0
    lines_using: int = 0

    def add(self, report: FileReport) -> None:
        importing = report.imports("rasa") or report.imports("rasa_sdk")
        self.files += 1
        self.lines += report.lines
        self.rasa += report.imports("rasa")
        self.rasa_sdk += report.imports("rasa_sdk")
        self.neither += not importing
        self.lines_in_importing_files += report.lines if importing else 0
        self.lines_using += report.lines_using


def folder_rows(reports: Iterable[FileReport]) -> List[FolderRow]:
    """A row per top-level folder, then totals without the tests and with them."""
    rows: Dict[str, FolderRow] = {}
    without_tests, everything = (FolderRow(name) for name in TOTALS)
    for report in reports:
        rows.setdefault(report.folder, FolderRow(report.folder)).add(report)
        everything.add(report)
        if report.folder != TESTS:
            without_tests.add(report)
    return [rows[name] for name in sorted(rows)] + [without_tests, everything]


def api_rows(reports: Iterable[FileReport]) -> List[Tuple[str, List[str], int, List[str]]]:
    """Per imported module: the names taken from it, how many files and which folders."""
    names: Dict[str, Set[str]] = defaultdict(set)
    files: Dict[str, Set[str]] = defaultdict(set)
    folders: Dict[str, Set[str]] = defaultdict(set)
    for report in reports:
        for apis in report.apis.values():
            for module, name in apis:
                names[module].add(name or "(the module)")
                files[module].add(report.path)
                folders[module].add(report.folder)
    return [(m, sorted(names[m]), len(files[m]), sorted(folders[m])) for m in sorted(names)]


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def python_table(measurement: Measurement) -> List[str]:
    header = (
        "folder",
        "files",
        "lines",
        "import rasa",
        "import rasa_sdk",
        "import neither",
        "lines in files importing either",
        "lines of statements using either",
    )
    rows = [
        (
            f"**{r.name}**" if r.name in TOTALS else f"`{r.name}`",
            r.files,
            r.lines,
            r.rasa,
            r.rasa_sdk,
            r.neither,
            r.lines_in_importing_files,
            r.lines_using,
        )
        for r in folder_rows(measurement.python)
    ]
    return _table(header, rows)


def api_table(measurement: Measurement) -> List[str]:
    rows = [
        (f"`{module}`", ", ".join(names), files, ", ".join(folders))
        for module, names, files, folders in api_rows(measurement.python)
    ]
    return _table(("module", "names imported", "files", "folders"), rows)


def yaml_table(reports: Iterable[YamlReport], rasa_format: bool) -> List[str]:
    by_kind: Dict[str, List[YamlReport]] = defaultdict(list)
    for report in reports:
        if report.rasa_format == rasa_format:
            by_kind[report.kind].append(report)
    rows: List[Tuple[str, int, int]] = [
        (kind, len(by_kind[kind]), sum(r.lines for r in by_kind[kind])) for kind in sorted(by_kind)
    ]
    rows.append(("**total**", sum(r[1] for r in rows), sum(r[2] for r in rows)))
    return _table(("kind", "files", "lines"), rows)


def file_section(measurement: Measurement) -> List[str]:
    """A row per file that imports either engine, tests left out (`--files`)."""
    rows = [
        (f"`{r.path}`", r.lines, ", ".join(e for e in ENGINES if r.imports(e)), r.lines_using)
        for r in measurement.python
        if r.folder != TESTS and (r.imports("rasa") or r.imports("rasa_sdk"))
    ]
    header = ("file", "lines", "imports", "lines of statements using it")
    return ["## Files outside tests/ that import rasa or rasa_sdk", "", *_table(header, rows), ""]


def unparsed(measurement: Measurement) -> List[str]:
    bad = [r.path for r in measurement.python if not r.parsed]
    return [f"Not parsed (counted by size only): {', '.join(bad)}", ""] if bad else []


def _git(root: Path, *arguments: str) -> Optional[str]:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *arguments], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def commit_of(root: Path) -> str:
    """The short commit the numbers were taken on, saying so when the working tree
    differs from it (the numbers are the working tree's)."""
    commit = (_git(root, "rev-parse", "--short", "HEAD") or "").strip()
    if not commit:
        return "none (not a git checkout)"
    changes = _git(root, "status", "--porcelain")
    return f"{commit} with uncommitted changes" if changes else commit


def render(measurement: Measurement, commit: str, by_file: bool = False) -> str:
    """The markdown report; with `by_file`, also a row per file that imports an engine."""
    widget = measurement.widget_protocol_files
    lines = [
        f"# Engine dependence, commit {commit} (`python -m tools.engine_dependence`)",
        "",
        "Lines are non-blank lines. 'Statements using either' are whole top-level statements",
        "(imports, classes, functions) that import from rasa or rasa_sdk or name what was imported.",
        "",
        "## Python, by top-level folder",
        "",
        *python_table(measurement),
        "",
        *unparsed(measurement),
        *(file_section(measurement) if by_file else []),
        "## What is imported from rasa and rasa_sdk, by module",
        "",
        *api_table(measurement),
        "",
        "## YAML in Rasa's formats",
        "",
        *yaml_table(measurement.yaml, rasa_format=True),
        "",
        "## YAML in our own formats (or no engine's)",
        "",
        *yaml_table(measurement.yaml, rasa_format=False),
        "",
        "## The widget",
        "",
        *_table(
            ("files", "lines", "files that speak Rasa's socket.io or REST channel"),
            [(measurement.widget_files, measurement.widget_lines, ", ".join(widget) or "none")],
        ),
    ]
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    default_root = Path(__file__).resolve().parents[1]
    parser.add_argument("--root", type=Path, default=default_root, help="the repository to measure")
    parser.add_argument("--files", action="store_true", help="also list each file importing an engine")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not root.is_dir():
        print(f"There is no folder at {root}: give --root the repository's folder.", file=sys.stderr)
        return 2
    print(render(measure(root), commit_of(root), by_file=args.files), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
