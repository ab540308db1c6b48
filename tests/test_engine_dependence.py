"""tools/engine_dependence.py: the counts docs/engine.md quotes, on a tiny tree whose
answers are known, and the rule it measures on the real one (the domain and the
dialogue layer import neither rasa nor rasa_sdk)."""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import pytest

from tests.conftest import ROOT
from tools.engine_dependence import (
    FolderRow,
    Measurement,
    api_rows,
    folder_rows,
    main,
    measure,
    render,
)

TINY_TREE: Dict[str, str] = {
    # Imports and a class that uses them: 3 lines of statements using Rasa; the
    # function that does not is not counted.
    "app/a.py": (
        "from rasa.core.channels.channel import InputChannel, UserMessage\n"
        "\n"
        "class Channel(InputChannel):\n"
        "    pass\n"
        "\n"
        "def plain():\n"
        "    return 1\n"
    ),
    "app/b.py": "import rasa_sdk.events as ev\nfrom rasa_sdk import Action\n",
    # An import inside a function counts, and the whole function with it.
    "app/c.py": "def late():\n    import rasa.core.run\n\n    return rasa.core.run\n",
    "lib/d.py": "import os\n\n\nx = os.sep\n",
    "broken.py": "def (:\n",
    # Never walked: other people's code and build output.
    ".venv/lib/e.py": "import rasa\n",
    "build/f.py": "import rasa\n",
    "widget/node_modules/g.py": "import rasa\n",
    # YAML: Rasa's formats, ours, and a Kubernetes role whose `rules:` is not Rasa's.
    "domain.yml": 'version: "3.1"\nintents:\n  - greet\n',
    "data/nlu/greet.yml": 'version: "3.1"\nnlu:\n  - intent: greet\n    examples: |\n      - hi\n',
    "tests/test_stories.yml": 'version: "3.1"\nstories:\n  - story: hi\n',
    "tests/conversations/hello.yml": "conversations:\n  - name: hello\n",
    "endpoints.yml": "action_endpoint:\n  url: x\n",
    "deploy/role.yml": "apiVersion: v1\nkind: Role\nrules: []\n",
    "tests/fixtures/role.yml": "apiVersion: v1\nkind: Role\nrules: []\n",
    "widget/src/connection.js": 'socket.emit("user_uttered", {});\n\n',
    "widget/src/colour.js": "export const red = 1;\n",
}


@pytest.fixture
def tiny(tmp_path: Path) -> Measurement:
    for name, text in TINY_TREE.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return measure(tmp_path)


def _rows(measurement: Measurement) -> Dict[str, FolderRow]:
    return {row.name: row for row in folder_rows(measurement.python)}


def test_files_lines_and_imports_are_counted_per_folder(tiny: Measurement):
    rows = _rows(tiny)
    assert set(rows) == {"(root)", "app", "lib", "all but tests/", "all"}
    app = rows["app"]
    assert (app.files, app.lines, app.rasa, app.rasa_sdk, app.neither) == (3, 10, 2, 1, 0)
    assert app.lines_in_importing_files == 10
    assert app.lines_using == 3 + 2 + 3
    lib = rows["lib"]
    assert (lib.files, lib.lines, lib.rasa, lib.rasa_sdk, lib.neither, lib.lines_using) == (1, 2, 0, 0, 1, 0)
    assert [r.path for r in tiny.python if not r.parsed] == ["broken.py"]
    assert rows["all"].files == 5  # nothing from .venv, build or node_modules


def test_the_names_taken_from_each_module_are_listed(tiny: Measurement):
    listed = {module: (names, files) for module, names, files, _ in api_rows(tiny.python)}
    assert listed == {
        "rasa.core.channels.channel": (["InputChannel", "UserMessage"], 1),
        "rasa.core.run": (["(the module)"], 1),
        "rasa_sdk": (["Action"], 1),
        "rasa_sdk.events": (["(the module)"], 1),
    }


def test_yaml_in_rasas_formats_is_told_from_ours(tiny: Measurement):
    kinds = {report.path: (report.kind, report.rasa_format) for report in tiny.yaml}
    assert kinds == {
        "domain.yml": ("domain", True),
        "data/nlu/greet.yml": ("NLU training data", True),
        "tests/test_stories.yml": ("story tests", True),
        "endpoints.yml": ("endpoints", True),
        "tests/conversations/hello.yml": ("conversation scripts (tests/conversations)", False),
        "deploy/role.yml": ("other YAML in deploy/", False),
        "tests/fixtures/role.yml": ("other YAML in tests/", False),
    }
    assert sum(r.lines for r in tiny.yaml if r.rasa_format) == 3 + 5 + 3 + 2


def test_the_widget_files_that_speak_rasas_protocol_are_named(tiny: Measurement):
    assert (tiny.widget_files, tiny.widget_lines) == (2, 2)
    assert tiny.widget_protocol_files == ["widget/src/connection.js"]


def test_the_report_is_markdown_tables_with_the_commit(tiny: Measurement):
    text = render(tiny, "abc1234", by_file=True)
    assert text.startswith("# Engine dependence, commit abc1234")
    assert "| `app` | 3 | 10 | 2 | 1 | 0 | 10 | 8 |" in text
    assert "| `app/a.py` | 5 | rasa | 3 |" in text
    assert "Not parsed (counted by size only): broken.py" in text


def test_a_missing_folder_gets_a_plain_message(tmp_path: Path, capsys: pytest.CaptureFixture):
    assert main(["--root", str(tmp_path / "nowhere")]) == 2
    assert "There is no folder at" in capsys.readouterr().err


def test_the_domain_and_the_dialogue_layer_import_neither_engine():
    """The architectural rule (layers only look down), as the measurement sees it."""
    rows = _rows(measure(ROOT))
    for folder in ("careers", "dialogue"):
        row = rows[folder]
        assert row.files > 0, folder
        assert (row.rasa, row.rasa_sdk, row.lines_using) == (0, 0, 0), folder
